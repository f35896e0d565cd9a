"""Satisfaction rates standardized to a common respondent mix (direct standardization).

Districts whose visitors differ in mix (e.g. more insured units' staff, who rate higher, than
individuals) differ in raw rates for that reason alone. The directly standardized rate of district
d is what its rate would be with the standard mix w: sum_g w_g p_dg, where p_dg is the share
satisfied among d's respondents of type g (Fleiss, Levin & Paik, 2003, ch. 19). The standard mix is
the comparison's pooled mix unless the config gives one. The 95% CI is the normal approximation
with variance sum_g w_g^2 p~(1 - p~) / (n_dg + 4), p~ = (x + 2) / (n + 4) the Agresti-Coull share,
so that a stratum with every respondent satisfied still contributes its uncertainty.

A district with no respondent of a type in the standard mix has no standardized rate (NaN): its
rate for that type is unknown.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

MIX_COLUMNS = ["district", "name", "group", "n", "share", "standard_share"]
RATE_COLUMNS = ["district", "name", "item", "construct", "label_en", "n", "rate", "ci_lower", "ci_upper",
                "rate_std", "ci_lower_std", "ci_upper_std"]


def _levels(top: pd.DataFrame) -> list[str]:
    return [c[len("rate_"):] for c in top.columns if c.startswith("rate_")]


def mix(districts: dict[str, Path], names: dict[str, str], column: str, standard: dict | None = None) -> pd.DataFrame:
    """mix.csv: respondents of each type (the codebook's respondent-type `column`, as counted in each
    district's tables/profile.csv), their share, and the standard mix (pooled over the districts
    unless `standard` gives one, e.g. {unit: 0.7, individual: 0.3})."""
    rows = []
    for d, folder in districts.items():
        prof = pd.read_csv(Path(folder) / "tables/profile.csv")
        prof = prof[prof["variable"] == column]
        total = prof["n"].sum()
        rows += [{"district": d, "name": names.get(d, d), "group": str(g), "n": int(n),
                  "share": n / total if total else np.nan} for g, n in zip(prof["value"], prof["n"])]
    out = pd.DataFrame(rows, columns=MIX_COLUMNS[:-1])
    if out.empty:
        return pd.DataFrame(columns=MIX_COLUMNS)
    if standard:
        known = set(out["group"])
        if set(map(str, standard)) != known or not sum(standard.values()) > 0:
            from .errors import CSIError
            raise CSIError(f"the standard mix names {', '.join(map(str, standard))}; the districts' respondent "
                           f"types are {', '.join(sorted(known))}",
                           hint="give a share for every respondent type (config `comparison: mix:`), e.g. "
                                + ", ".join(f"{g}: 0.5" for g in sorted(known)) + ".")
        total = sum(float(v) for v in standard.values())
        weights = {str(g): float(v) / total for g, v in standard.items()}
    else:
        pooled = out.groupby("group", sort=False)["n"].sum()
        weights = (pooled / pooled.sum()).to_dict()
    out["standard_share"] = out["group"].map(weights).fillna(0.0)
    return out


def rates(districts: dict[str, Path], names: dict[str, str], mix_: pd.DataFrame, items: set[str] | None = None,
          z: float = 1.959963984540054) -> pd.DataFrame:
    """standardized.csv: per district and indicator the raw top-box rate (Wilson CI, as top_box.csv)
    beside the rate at the standard mix with its CI. `items`: the constructs whose items to keep."""
    weights = mix_.drop_duplicates("group").set_index("group")["standard_share"]
    rows = []
    for d, folder in districts.items():
        top = pd.read_csv(Path(folder) / "tables/top_box.csv")
        if items is not None:
            top = top[top["construct"].isin(items)]
        levels = [g for g in _levels(top) if g in weights.index]
        for _, r in top.iterrows():
            est = var = 0.0
            for g in weights.index:
                w = float(weights[g])
                if w == 0:
                    continue
                n = r.get(f"n_{g}", np.nan) if g in levels else np.nan
                p = r.get(f"rate_{g}", np.nan) if g in levels else np.nan
                if not (n > 0) or pd.isna(p):
                    est = var = np.nan
                    break
                pt = (p * n + 2) / (n + 4)
                est += w * p
                var += w * w * pt * (1 - pt) / (n + 4)
            half = z * np.sqrt(var)
            rows.append({"district": d, "name": names.get(d, d), "item": r["item"], "construct": r["construct"],
                         "label_en": r["label_en"], "n": r["n"], "rate": r["rate"], "ci_lower": r["ci_lower"],
                         "ci_upper": r["ci_upper"], "rate_std": est,
                         "ci_lower_std": max(0.0, est - half) if np.isfinite(est) else np.nan,
                         "ci_upper_std": min(1.0, est + half) if np.isfinite(est) else np.nan})
    return pd.DataFrame(rows, columns=RATE_COLUMNS)
