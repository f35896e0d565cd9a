"""CSI indices (0-100) and the importance-performance map.

Index of construct c (as the ACSI: Fornell et al. 1996) is its estimated latent score rescaled
to 0-100 by the lowest and highest possible answers:

    I_c = 100 * sum_i w_i (xbar_i - min_i) / (max_i - min_i),   w_i = b_i r_i / sum_j b_j r_j

xbar_i is the item mean (of the complete rows; with FIML the estimated intercept, the model-
implied mean from every answer given), b_i the construct's factor-score (regression) weights on
its own indicators, from the fitted model (Sigma^-1 Lambda M, the CB-SEM counterpart of PLS outer weights), and r_i the item
ranges from the codebook. With all items at their minimum I = 0, at their maximum I = 100.

From an ordinal (WLSMV) solution the index stays on the observed item scale: xbar_i are the
means of the answers given (the thresholds are saturated, so the model reproduces them), b_i are
the factor-score weights of the latent responses y* (Sigma* the model's y* correlation matrix),
and the loading in a_c below is the observed-scale loading lambda_i sum_m (v_m+1 - v_m) phi(tau_m):
the change of the item's expected answer per unit of the latent variable, averaged over the
respondents (v the answer values, tau the thresholds; for ML the item's own loading).

IPMA (Ringle & Sarstedt 2016): the drivers are the codebook's `kind: driver` constructs with a
path to the target (direct or mediated, e.g. image -> expectations -> quality -> satisfaction);
performance = driver index; importance = unstandardized total effect of the driver on the target
in index units, T(X -> SAT) * a_SAT / a_X, where a_c = 100 sum b_i lambda_i / sum b_i r_i is the
change of I_c per unit of the latent variable. The potential gain of a driver (its importance
times its distance to 100) is capped at the target's own distance to 100: an index cannot pass it.

Rank uncertainty: in each bootstrap draw the drivers are ranked by their capped potential gain, as
the point estimate is; `priority_ranks` gives each driver's share of draws at each priority, and
ipma.csv its share at its own priority (p_rank) and at priority 1 (p_first). Draws that did not
converge or are inadmissible (NaN: sem.estimate computes nothing from an improper refit, whose
weights can put an index outside 0-100) are left out and counted. Drivers tied in a draw (equal potentials, e.g. two that
could each lift the target to 100) share the ranks they span equally; p_tied is the share of draws
with such a tie. `index_draws` writes the index draws that the district comparison ranks.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import sem
from .codebook import Codebook
from .psychometrics import indicators


@dataclass
class Spec:
    constructs: list[str]
    items: dict[str, list[int]]        # construct -> positions in model.observed
    lo: np.ndarray                     # per observed variable: scale minimum
    rng: np.ndarray                    # per observed variable: scale range
    drivers: list[str]
    target: str


def spec(model: sem.Model, description: str, cb: Codebook, target: str | None) -> Spec:
    items = {c: [model.observed.index(i) for i in its] for c, its in indicators(description).items()}
    if target is None:
        from .errors import CSIError

        outcomes = [c for c in items if cb.constructs.get(c, {}).get("kind") == "outcome"]
        raise CSIError("say which construct is the satisfaction target of the indices and the IPMA",
                       hint=f"give --target (config: `satisfaction:`), e.g. one of the outcomes: {', '.join(outcomes)}.")
    if target not in items:
        from .errors import CSIError

        raise CSIError(f"satisfaction construct {target!r} is not a factor of the model "
                       f"(factors: {', '.join(items)})", hint="set `satisfaction:` in config/config.yaml "
                       "(or --target) to the model's satisfaction factor.")
    lo = np.array([cb.scale_of(v).min if v in cb.by_code and cb.by_code[v].scale else np.nan
                   for v in model.observed], float)
    hi = np.array([cb.scale_of(v).max if v in cb.by_code and cb.by_code[v].scale else np.nan
                   for v in model.observed], float)
    paths = model.templates[0] != 0
    r, c, _ = model._flat[0]
    paths[r, c] = True
    t = model.inner.index(target)
    reach = [v for v in items if v != target and sem.reachable(paths, model.inner.index(v), t)]
    kinds = {k: v.get("kind") for k, v in cb.constructs.items()}
    if any(kinds.get(v) == "driver" for v in items):
        drivers = [v for v in reach if kinds.get(v) == "driver"]      # the codebook says which
    else:
        drivers = [v for v in reach if not paths[model.inner.index(v)].any()]   # exogenous ones
    return Spec(list(items), items, lo, hi - lo, drivers, target)


def item_means(model: sem.Model, x: np.ndarray, X: np.ndarray) -> np.ndarray:
    """The item means an index is computed from. With FIML, x carries the p item intercepts after
    the model's parameters: with latent means 0 they are the model-implied item means, estimated
    from every answer given (under MAR). Otherwise the means of the complete rows X."""
    q = len(model.start)
    return np.asarray(x[q:q + model.p], float) if len(x) > q else np.nanmean(np.asarray(X, float), axis=0)


def ordinal_scale(X: np.ndarray) -> np.ndarray:
    """Per item (column of X, blanks NaN): d E[answer] / d mu* = sum_m (v_m+1 - v_m) phi(tau_m),
    the expected change of the answer per unit shift of its latent response y* (var 1), from the
    sample thresholds tau (the answered cells) and the answer values v."""
    from scipy import stats

    out = []
    for col in np.asarray(X, float).T:
        col = col[~np.isnan(col)]
        v, counts = np.unique(col, return_counts=True)
        tau = stats.norm.ppf(np.cumsum(counts)[:-1] / len(col))
        out.append(float(np.sum(np.diff(v) * stats.norm.pdf(tau))))
    return np.array(out)


def values(model: sem.Model, x: np.ndarray, means: np.ndarray, s: Spec, scale: np.ndarray | None = None) -> np.ndarray:
    """[index per construct..., importance per driver...] for parameters x and item means; scale:
    per observed variable the factor from its loading to the observed scale (ordinal_scale for a
    WLSMV solution; None: 1, the loadings are on the item scale)."""
    x = x[:len(model.start)]
    B, L, P, T = model.matrices(x)
    sigma, parts = model.implied(x)
    M = parts["M"]
    # factor-score regression weights: rows of M Lambda' Sigma^-1 (Lambda here maps to observed)
    W = M @ L.T @ np.linalg.inv(sigma)
    out, slope = [], {}
    for c in s.constructs:
        j, idx = model.inner.index(c), s.items[c]
        b = W[j, idx]
        denom = (b * s.rng[idx]).sum()
        out.append(100 * (b * (means[idx] - s.lo[idx])).sum() / denom)
        lam = L[idx, j] if scale is None else L[idx, j] * scale[idx]
        slope[c] = 100 * (b * lam).sum() / denom
    total = np.linalg.inv(np.eye(model.m) - B) - np.eye(model.m)
    t = model.inner.index(s.target)
    for d in s.drivers:
        out.append(total[t, model.inner.index(d)] * slope[s.target] / slope[d])
    return np.array(out)


def weights(model: sem.Model, x: np.ndarray, s: Spec) -> pd.DataFrame:
    x = x[:len(model.start)]
    L = model.matrices(x)[1]
    sigma, parts = model.implied(x)
    W = parts["M"] @ L.T @ np.linalg.inv(sigma)
    rows = []
    for c in s.constructs:
        j, idx = model.inner.index(c), s.items[c]
        b = W[j, idx]
        w = b * s.rng[idx] / (b * s.rng[idx]).sum()
        for k, i in enumerate(idx):
            rows.append({"construct": c, "item": model.observed[i], "score_weight": b[k], "weight": w[k],
                         "scale_min": s.lo[i], "scale_max": s.lo[i] + s.rng[i]})
    return pd.DataFrame(rows)


def tables(result: sem.Result, s: Spec, X: np.ndarray, draws: np.ndarray | None):
    """index.csv and ipma.csv frames (bootstrap percentile CIs when draws are given). ipma.csv's
    p_rank, p_first and p_tied: the driver's share of draws at its own priority, at priority 1,
    and tied with another driver (see priority_ranks); NaN without draws."""
    scale = ordinal_scale(X) if getattr(result, "ordinal", None) is not None else None
    est = values(result.model, result.fit.x, item_means(result.model, result.fit.x, X), s, scale)
    k = len(s.constructs)
    lo = hi = np.full(len(est), np.nan)
    if draws is not None and (~np.isnan(draws).any(axis=1)).sum() >= 2:   # else no CI (too few draws)
        ok = ~np.isnan(draws).any(axis=1)
        lo, hi = np.quantile(draws[ok], [0.025, 0.975], axis=0)
    idx = pd.DataFrame({"construct": s.constructs, "index": est[:k], "ci_lower": lo[:k], "ci_upper": hi[:k]})
    imp = pd.DataFrame({"driver": s.drivers, "importance": est[k:], "importance_ci_lower": lo[k:],
                        "importance_ci_upper": hi[k:]})
    perf = idx.set_index("construct")
    imp["performance"] = [perf.loc[d, "index"] for d in s.drivers]
    imp["performance_ci_lower"] = [perf.loc[d, "ci_lower"] for d in s.drivers]
    imp["performance_ci_upper"] = [perf.loc[d, "ci_upper"] for d in s.drivers]
    imp["potential"], imp["potential_capped"] = potential(
        imp["importance"].to_numpy(), imp["performance"].to_numpy(), float(perf.loc[s.target, "index"]))
    imp = imp.sort_values("potential", ascending=False, kind="stable").reset_index(drop=True)
    imp.insert(0, "priority", range(1, len(imp) + 1))
    n = len(s.drivers)
    p, tied = np.full((n, n), np.nan), np.full(n, np.nan)      # NaN without draws
    if draws is not None and n:
        p, tied, _, _ = rank_probabilities(draw_potentials(draws, s))
    at = [s.drivers.index(d) for d in imp["driver"]]
    imp["p_rank"] = [p[i, r - 1] for i, r in zip(at, imp["priority"])]
    imp["p_first"] = [p[i, 0] for i in at]
    imp["p_tied"] = [tied[i] for i in at]
    return idx, imp


def potential(importance, performance, target_index):
    """Gain in the target index if a driver's index reached 100 (other drivers unchanged),
    importance x (100 - performance), at most what the target index can still gain (100 - its
    index). Arrays broadcast. Returns (potential, capped)."""
    gain = np.asarray(importance, float) * (100 - np.asarray(performance, float))
    room = 100 - np.asarray(target_index, float)
    return np.minimum(gain, room), gain > room


def draw_potentials(draws: np.ndarray, s: Spec) -> np.ndarray:
    """(B, drivers) capped potential of each driver (s.drivers order) in each draw; draws are rows
    of values(). A draw with any NaN (a refit that did not converge) is all NaN, as in the CIs."""
    v, k = np.atleast_2d(np.asarray(draws, float)), len(s.constructs)
    if v.shape[1] != k + len(s.drivers):
        raise ValueError(f"draws have {v.shape[1]} columns, values() gives {k + len(s.drivers)}")
    perf = v[:, [s.constructs.index(d) for d in s.drivers]]
    out = potential(v[:, k:], perf, v[:, [s.constructs.index(s.target)]])[0]
    out[np.isnan(v).any(axis=1)] = np.nan
    return out


def rank_probabilities(values: np.ndarray):
    """Share of draws (rows) in which each column holds each rank, the largest value ranked 1.

    Rows with a NaN are left out. Columns with equal values in a draw share the ranks they span
    equally (two tied for 1st: each is 1st in half of that draw and 2nd in the other half), so a
    column's shares, and a rank's shares, sum to 1. Returns (p, tied, used, left_out): p[i, r-1]
    the share of column i at rank r, tied[i] the share of draws in which column i equals another.
    """
    v = np.asarray(values, float)
    ok = ~np.isnan(v).any(axis=1)
    v, n = v[ok], v.shape[1]
    if not len(v):
        return np.full((n, n), np.nan), np.full(n, np.nan), 0, int((~ok).sum())
    above = (v[:, None, :] > v[:, :, None]).sum(axis=2)     # [b, i]: columns larger than i
    equal = (v[:, None, :] == v[:, :, None]).sum(axis=2)    # [b, i]: columns equal to i, itself included
    r = np.arange(1, n + 1)
    spans = (above[..., None] < r) & (r <= (above + equal)[..., None])      # [b, i, rank]
    p = (spans / equal[..., None]).mean(axis=0)
    return p, (equal > 1).mean(axis=0), len(v), int((~ok).sum())


RANK_COLUMNS = ["driver", "rank", "probability", "p_tied", "draws", "left_out"]


def priority_ranks(s: Spec, draws: np.ndarray | None) -> pd.DataFrame:
    """priority_ranks.csv: each driver's share of bootstrap draws at each priority (1 = largest
    capped potential), ranks 1..drivers for every driver in s.drivers order. draws: the used draws,
    left_out: draws left out (NaN). Empty without draws (no bootstrap, stopped early, withheld)."""
    if draws is None or not len(draws) or not s.drivers:
        return pd.DataFrame(columns=RANK_COLUMNS)
    p, tied, used, left = rank_probabilities(draw_potentials(draws, s))
    n = len(s.drivers)
    return pd.DataFrame({"driver": np.repeat(s.drivers, n), "rank": np.tile(np.arange(1, n + 1), n),
                         "probability": p.ravel(), "p_tied": np.repeat(tied, n), "draws": used, "left_out": left})


def statistic(s: Spec):
    """The bootstrap's `extra` statistic: values() of a draw (estimate() passes ordinal=True for a
    WLSMV fit, whose loadings are put on the item scale with the draw's thresholds)."""
    def extra(model, x, X, ordinal: bool = False):
        return values(model, x, item_means(model, x, X), s, ordinal_scale(X) if ordinal else None)
    return extra


def index_draws(s: Spec, draws: np.ndarray | None) -> pd.DataFrame:
    """index_draws.csv: one row per bootstrap draw (`draw` = its number b, as in bootstrap.py),
    one column per construct index; empty cells where the refit did not converge. No rows without
    draws. The draws come from the bootstrap's seed (and stream), so the same seed gives the same file."""
    if draws is None:
        return pd.DataFrame(columns=["draw", *s.constructs])
    v = np.asarray(draws, float)
    return pd.concat([pd.DataFrame({"draw": np.arange(len(v))}),
                      pd.DataFrame(v[:, :len(s.constructs)], columns=s.constructs)], axis=1)


def draw_tables(s: Spec, draws: np.ndarray | None) -> dict:
    """The files `csi fit` writes from the bootstrap draws (result.extra_draws; None: none)."""
    return {"index_draws.csv": index_draws(s, draws), "priority_ranks.csv": priority_ranks(s, draws)}


def withheld(s: Spec):
    """index.csv, ipma.csv, index_weights.csv and priorities.csv of a solution that is not admissible:
    the constructs and drivers, no numbers (nothing is computed from an improper solution)."""
    nan = np.nan
    idx = pd.DataFrame({"construct": s.constructs, "index": nan, "ci_lower": nan, "ci_upper": nan})
    ipma = pd.DataFrame({"priority": pd.array([pd.NA] * len(s.drivers), dtype="Int64"), "driver": s.drivers,
                         **{c: nan for c in ("importance", "importance_ci_lower", "importance_ci_upper",
                                            "performance", "performance_ci_lower", "performance_ci_upper")},
                         "potential": nan,
                         "potential_capped": pd.array([pd.NA] * len(s.drivers), dtype="boolean"),
                         "p_rank": nan, "p_first": nan, "p_tied": nan})
    weights_ = pd.DataFrame(columns=["construct", "item", "score_weight", "weight", "scale_min", "scale_max"])
    prio = pd.DataFrame(columns=["priority", "driver", "item", "label_en", "label_zh", "weight", "top_box_rate",
                                 "item_index"])
    return idx, ipma, weights_, prio


def priorities(ipma: pd.DataFrame, weights_: pd.DataFrame, X: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """The indicators behind each driver, weakest first: what to improve within a priority."""
    rows = []
    for r in ipma.itertuples():
        w = weights_[weights_["construct"] == r.driver]
        for item in w.itertuples():
            x = X[item.item].dropna()       # the answers given
            scale = cb.scale_of(item.item)
            rows.append({"priority": r.priority, "driver": r.driver, "item": item.item,
                         "label_en": cb.label(item.item, "en"), "label_zh": cb.label(item.item, "zh"),
                         "weight": item.weight, "top_box_rate": float(x.isin(scale.top_box).mean()),
                         "item_index": 100 * (x.mean() - item.scale_min) / (item.scale_max - item.scale_min)})
    out = pd.DataFrame(rows)
    return out.sort_values(["priority", "item_index"], kind="stable").reset_index(drop=True)


# --- wording: rank uncertainty as the report states it -----------------------------------------

def share_text(p: float) -> str:
    """A share of draws as a percentage: '73%'; '<1%' and '>99%' near the ends, so that '0%' and
    '100%' mean exactly none and all of the draws."""
    if p > 0.995 and p < 1:
        return ">99%"
    if p < 0.005 and p > 0:
        return "<1%"
    return f"{100 * p:.0f}%"


def ordinal(n: int, language: str = "en") -> str:
    """1st, 2nd, 3rd, 4th, 11th, 21st...; Chinese 第 1."""
    n = int(n)
    if language == "zh":
        return f"第 {n}"
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rank_phrase(rank, p_rank, p_first, p_tied=0.0, kind: str = "rank", language: str = "en") -> str | None:
    """'ranked 2nd in 61% of draws (1st in 30%)' (kind 'rank') or 'priority 2 in 61% of draws
    (priority 1 in 30%)' (kind 'priority'); the share at rank 1 is added when the rank is not 1
    and some draws put it first, and the share of draws with a tie when there is one. None when
    there is no share to state (no bootstrap draws, or a withheld rank)."""
    if pd.isna(rank) or pd.isna(p_rank):
        return None
    rank, zh = int(rank), language == "zh"
    if kind == "priority":
        head = (f"在 {share_text(p_rank)} 的自助抽样中为第 {rank} 优先" if zh
                else f"priority {rank} in {share_text(p_rank)} of draws")
        first = (f"{share_text(p_first)} 为第 1 优先" if zh else f"priority 1 in {share_text(p_first)}")
    else:
        head = (f"在 {share_text(p_rank)} 的自助抽样中排名{ordinal(rank, language)}" if zh
                else f"ranked {ordinal(rank)} in {share_text(p_rank)} of draws")
        first = (f"{share_text(p_first)} 排名第 1" if zh else f"1st in {share_text(p_first)}")
    notes = [first] if rank != 1 and not pd.isna(p_first) and p_first > 0 else []
    if not pd.isna(p_tied) and p_tied > 0:
        notes.append(f"{share_text(p_tied)} 并列" if zh else f"tied in {share_text(p_tied)}")
    if not notes:
        return head
    return head + ("（" + "；".join(notes) + "）" if zh else " (" + "; ".join(notes) + ")")


def priority_phrase(row, language: str = "en") -> str | None:
    """Phrase for one ipma.csv row (priority, p_rank, p_first, p_tied): 'priority 1 in 73% of draws'.
    None without bootstrap draws."""
    return rank_phrase(row["priority"], row["p_rank"], row["p_first"], row.get("p_tied", 0.0),
                       "priority", language)


def priority_phrases(ipma: pd.DataFrame, language: str = "en") -> pd.Series:
    """priority_phrase of every ipma.csv row, indexed by driver."""
    return pd.Series([priority_phrase(r, language) for _, r in ipma.iterrows()], index=ipma["driver"].to_numpy(),
                     dtype=object)


def draws_note(draws: int, left_out: int = 0, language: str = "en") -> str:
    """The sentence under a table of shares: how many draws they are of, how many were left out,
    and how ties count."""
    if language == "zh":
        out = f"比例基于 {draws} 次自助抽样"
        if left_out:
            out += f"（另有 {left_out} 次因重新估计未收敛或解不可接受而剔除）"
        return out + "；数值相等时并列者平分所占名次。"
    out = f"Shares of {draws} bootstrap draws"
    if left_out:
        out += f" ({left_out} more left out: a refit did not converge or was not admissible)"
    return out + "; tied values share the ranks they span equally."
