"""Cleaning rules and the exclusion flow (every raw row is kept or excluded for one reason).

Rules run in a fixed order; a row excluded by an earlier rule is not tested by later ones, so
raw rows = kept + sum of exclusions by reason, which `clean` asserts.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .codebook import Codebook

STEPS = ("duplicate", "speeder", "straight_liner", "attention_check", "item_missing")
INTERNAL = ["same_person_as", "attention_passed"]


@dataclass
class Cleaned:
    data: pd.DataFrame
    exclusions: pd.DataFrame
    flow: dict


def _duplicate(d: pd.DataFrame, cb: Codebook, cfg: dict):
    hit = d["same_person_as"].notna()
    return hit, "repeat of raw row " + d["same_person_as"].astype("string")


def _details(hit: pd.Series, values: pd.Series, fmt) -> pd.Series:
    """fmt(value) for the rows hit, "" for the others (formatted only where needed)."""
    out = pd.Series("", index=hit.index, dtype=object)
    out[hit] = values[hit].map(fmt)
    return out


def _speeder(d, cb, cfg):
    limit = cfg["min_duration_seconds"]
    hit = (d["duration_s"] < limit).fillna(False) if "duration_s" in d else pd.Series(False, index=d.index)
    return hit, _details(hit, d.get("duration_s", pd.Series(np.nan, index=d.index)),
                         lambda v: f"answered in {v:g} s (< {limit} s)")


def raw_positions(d: pd.DataFrame, cb: Codebook, codes: list[str]) -> pd.DataFrame:
    """Item answers as the respondent clicked them (reverse coding undone)."""
    out = d[codes].copy()
    for c in codes:
        if cb.by_code[c].reverse:
            out[c] = cb.scale_of(c).reverse(out[c])
    return out


def _straight_liner(d, cb, cfg):
    rule = cfg["straightlining"]
    hit = pd.Series(False, index=d.index)
    detail = pd.Series("", index=d.index)
    batteries = sorted({c.battery for c in cb.items if c.battery})
    for b in batteries:
        codes = [c.code for c in cb.items if c.battery == b]
        reversed_ = [c for c in codes if cb.by_code[c].reverse]
        if rule["require_reversed"] and not reversed_:
            continue
        pos = raw_positions(d, cb, codes)
        answered = pos.notna().sum(axis=1)
        same = pos.min(axis=1) == pos.max(axis=1)      # one distinct answer (NaN == NaN is False)
        flag = same & (answered >= rule["min_items"])
        if rule["require_reversed"]:
            flag &= pos[reversed_].notna().any(axis=1)
        detail[flag & ~hit] = (f"same answer on all answered items of grid '{b}' "
                               f"(incl. reverse-worded)" if rule["require_reversed"] else
                               f"same answer on all answered items of grid '{b}'")
        hit |= flag
    return hit, detail


def _attention(d, cb, cfg):
    if "attention_passed" not in d:
        return pd.Series(False, index=d.index), ""
    q = cb.role("attention_check")[0]
    return ~d["attention_passed"].astype(bool), f"did not choose {q.correct!r} when told to (or skipped it)"


def _item_missing(d, cb, cfg):
    limit = cfg["max_item_missing"]
    share = d[cb.item_codes].isna().mean(axis=1)
    hit = share > limit
    return hit, _details(hit, share, lambda v: f"{v:.0%} of items unanswered (> {limit:.0%})")


RULES = {"duplicate": _duplicate, "speeder": _speeder, "straight_liner": _straight_liner,
         "attention_check": _attention, "item_missing": _item_missing}


def not_applicable(step: str, d: pd.DataFrame, cb: Codebook, cfg: dict) -> str | None:
    """Why a step cannot apply to this questionnaire (None if it applies)."""
    if step == "speeder" and "duration_s" not in d and not cb.role("duration"):
        return "the export has no answering-time column"
    if step == "attention_check" and not cb.role("attention_check"):
        return "the questionnaire has no attention-check question"
    if step == "straight_liner":
        rule = cfg["straightlining"]
        grids = {}
        for c in cb.items:
            if c.battery:
                grids.setdefault(c.battery, []).append(c)
        usable = [g for g in grids.values() if len(g) >= rule["min_items"]
                  and (not rule["require_reversed"] or any(c.reverse for c in g))]
        if not usable:
            need = " with a reverse-worded item" if rule["require_reversed"] else ""
            return (f"no grid (codebook `battery:`) of at least {rule['min_items']} items{need}, so identical "
                    "answers cannot be told from genuine ones")
    return None


def clean(coded: pd.DataFrame, cb: Codebook, cfg: dict) -> Cleaned:
    remaining = coded
    excluded = []
    steps = []
    for step in STEPS:
        why = not_applicable(step, remaining, cb, cfg)
        if why:
            steps.append({"step": step, "excluded": 0, "remaining": len(remaining), "applied": False,
                          "why_not": why})
            continue
        hit, detail = RULES[step](remaining, cb, cfg)
        hit = hit.astype(bool)
        if isinstance(detail, str):
            detail = pd.Series(detail, index=remaining.index)
        gone = remaining[hit]
        excluded.append(pd.DataFrame({"raw_row": gone["raw_row"], "respondent": gone["respondent"],
                                      "reason": step, "detail": detail[hit].astype(str)}))
        remaining = remaining[~hit]
        steps.append({"step": step, "excluded": int(hit.sum()), "remaining": len(remaining), "applied": True})
    exclusions = pd.concat(excluded, ignore_index=True).sort_values("raw_row", kind="stable") if excluded else \
        pd.DataFrame(columns=["raw_row", "respondent", "reason", "detail"])
    n_raw, n_kept = len(coded), len(remaining)
    if n_raw != n_kept + sum(s["excluded"] for s in steps):  # pragma: no cover - an invariant
        raise AssertionError(f"row accounting failed: {n_raw} raw != {n_kept} kept + exclusions")
    flow = {"raw_rows": n_raw, "steps": steps, "kept": n_kept,
            "rules": {"min_duration_seconds": cfg["min_duration_seconds"],
                      "straightlining": cfg["straightlining"],
                      "max_item_missing": cfg["max_item_missing"],
                      "order": list(STEPS)}}
    data = remaining.drop(columns=[c for c in INTERNAL if c in remaining]).reset_index(drop=True)
    return Cleaned(data=data, exclusions=exclusions.reset_index(drop=True), flow=flow)
