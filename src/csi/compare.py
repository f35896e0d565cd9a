"""Comparing districts: CSI league table, indicators against a criterion, invariance.

Latent means and CSI indices are compared across districts only where scalar invariance holds
across them (equal loadings and intercepts); otherwise the table says why they are not
comparable. Top-box rates of single indicators are observed shares and compare directly.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import invariance, psychometrics


def pooled(districts: dict[str, Path]) -> pd.DataFrame:
    frames = [pd.read_parquet(Path(folder) / "data/clean.parquet").assign(district=name)
              for name, folder in districts.items()]
    return pd.concat(frames, ignore_index=True)


def comparability(inv: pd.DataFrame) -> tuple[bool, str]:
    t = inv.set_index("model")
    scalar, metric = t.loc["scalar", "verdict"], t.loc["metric", "verdict"]
    if "does NOT hold" not in metric and "does NOT hold" not in scalar:
        return True, "scalar invariance holds across districts: indices and latent means are comparable"
    if "does NOT hold" in metric:
        return False, ("NOT comparable: loadings differ between districts (metric invariance fails), "
                       "so the constructs are not measured the same way")
    return False, ("NOT comparable: item intercepts differ between districts (scalar invariance fails), "
                   "so differences in indices mix service quality with differences in how items are "
                   "answered; compare single indicators instead")


def league(districts: dict[str, Path], names: dict[str, str], comparable: bool, note: str) -> pd.DataFrame:
    rows = []
    for d, folder in districts.items():
        idx = pd.read_csv(Path(folder) / "model/index.csv")
        for r in idx.itertuples():
            rows.append({"district": d, "name": names.get(d, d), "construct": r.construct, "index": r.index,
                         "ci_lower": r.ci_lower, "ci_upper": r.ci_upper})
    t = pd.DataFrame(rows)
    # a district whose model is not admissible has no index (withheld) and no rank
    t["rank"] = t.groupby("construct")["index"].rank(ascending=False, method="min").astype("Int64")
    t["comparable"] = comparable
    t["note"] = note
    return t.sort_values(["construct", "rank"], kind="stable").reset_index(drop=True)


def criterion(districts: dict[str, Path], names: dict[str, str], level: float,
              drivers: set[str]) -> pd.DataFrame:
    """Top-box share of every service indicator (items of the driver constructs) per district
    against the criterion (e.g. 90%)."""
    rows = []
    for d, folder in districts.items():
        top = pd.read_csv(Path(folder) / "tables/top_box.csv")
        for r in top[top["construct"].isin(drivers)].itertuples():
            status = ("meets" if r.ci_lower >= level else "below" if r.ci_upper < level else
                      "meets (CI includes the criterion)" if r.rate >= level else
                      "below (CI includes the criterion)")
            rows.append({"district": d, "name": names.get(d, d), "item": r.item, "construct": r.construct,
                         "label_en": r.label_en, "n": r.n, "rate": r.rate, "ci_lower": r.ci_lower,
                         "ci_upper": r.ci_upper, "criterion": level, "meets": bool(r.rate >= level),
                         "status": status})
    return pd.DataFrame(rows)


def run(model_text: str, districts: dict[str, Path], names: dict[str, str], level: float,
        drivers: set[str]):
    data = pooled(districts)
    cfa = psychometrics.measurement_model(model_text)
    inv = invariance.invariance(cfa, data, "district")
    ok, note = comparability(inv)
    return league(districts, names, ok, note), criterion(districts, names, level, drivers), inv


def summary(crit: pd.DataFrame) -> pd.DataFrame:
    """Per district: service indicators meeting the criterion, and those below it."""
    out = []
    for d, ind in crit.groupby("district", sort=False):
        out.append({"district": d, "name": ind["name"].iloc[0], "indicators": len(ind),
                    "meeting": int(ind["meets"].sum()), "share_meeting": float(ind["meets"].mean()),
                    "below": ", ".join(ind.loc[~ind["meets"], "item"])})
    return pd.DataFrame(out)
