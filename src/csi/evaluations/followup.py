"""Follow-up of bad ratings (回访 / 整改) by hall: share resolved within the deadline, time to resolution.

A bad rating is due when it was resolved or its deadline has passed by the last time the export
knows (the latest rating or resolution); the within-deadline share is over due bad ratings (Wilson
95% CI). Time to resolution is counted in whole hours from the rating (median, 90th percentile).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import proportion_confint


def _quantile(hours: pd.Series, n: pd.Series, q: float) -> float:
    """q-quantile of whole hours with counts (the lowest hour whose cumulative share reaches q)."""
    if n.sum() == 0:
        return np.nan
    order = np.argsort(hours.to_numpy(), kind="stable")
    h, c = hours.to_numpy()[order], np.cumsum(n.to_numpy()[order])
    return float(h[np.searchsorted(c, q * c[-1])])


def by_hall(f: pd.DataFrame, as_of, min_n: int) -> pd.DataFrame:
    as_of = pd.Timestamp(as_of).normalize()
    f = f.copy()
    f["due"] = f["resolved"].astype(bool) | (pd.to_datetime(f["open_deadline"]) < as_of)
    rows = []
    for hall, g in [("(all)", f)] + list(f.groupby("hall", sort=True)):
        bad = int(g["n"].sum())
        due = int(g.loc[g["due"], "n"].sum())
        in_time = int(g.loc[g["due"] & g["in_time"].astype(bool), "n"].sum())
        res = g[g["resolved"].astype(bool)]
        resolved = int(res["n"].sum())
        rec = {"hall": hall, "bad_ratings": bad, "resolved": resolved, "open": bad - resolved, "due": due,
               "within_deadline": in_time, "share_within_deadline": in_time / due if due else np.nan,
               "ci_lower": np.nan, "ci_upper": np.nan,
               "median_hours": _quantile(res["hours"], res["n"], 0.5),
               "p90_hours": _quantile(res["hours"], res["n"], 0.9),
               "overdue_open": int(g.loc[g["due"] & ~g["resolved"].astype(bool), "n"].sum()),
               "suppressed": due < min_n}
        if due:
            rec["ci_lower"], rec["ci_upper"] = proportion_confint(in_time, due, method="wilson")
        if rec["suppressed"]:
            for k in ("share_within_deadline", "ci_lower", "ci_upper", "median_hours", "p90_hours"):
                rec[k] = np.nan
        rows.append(rec)
    return pd.DataFrame(rows)

