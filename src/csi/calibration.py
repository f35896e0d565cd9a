"""Published figures against the reproduction: each figure of the study a district reproduces
(the `targets:` and `channels:` of its simulation spec, each with its `source`: a quote from the
paper, or "assumed" for an input the paper does not publish) beside the rate the pipeline
estimates from the data, with its Wilson 95% CI, and whether the CI holds the figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["item", "group", "published", "assumed", "source", "estimate", "ci_lower", "ci_upper", "n", "inside"]


def _wilson(k, n):
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(k, n, method="wilson") if n else (np.nan, np.nan)


def table(spec: dict, tables: Path) -> pd.DataFrame:
    """calibration.csv from the spec and the district's describe tables (top_box.csv,
    distribution.csv, options.csv)."""
    tables = Path(tables)
    top = pd.read_csv(tables / "top_box.csv").set_index("item")
    dist = pd.read_csv(tables / "distribution.csv")
    opts = pd.read_csv(tables / "options.csv").set_index("option")
    rows = []

    def add(item, group, value, source, est, lo, hi, n):
        assumed = str(source).lower().startswith("assumed")
        rows.append({"item": item, "group": group, "published": value, "assumed": assumed, "source": source,
                     "estimate": est, "ci_lower": lo, "ci_upper": hi, "n": n,
                     "inside": bool(lo <= value <= hi) if pd.notna(lo) else None})

    for item, t in spec.get("targets", {}).items():
        src = t.get("source", "")
        if item not in top.index:
            continue
        r = top.loc[item]
        if "by_type" in t:
            for g, v in t["by_type"].items():
                add(item, g, v, src, r[f"rate_{g}"], r[f"ci_lower_{g}"], r[f"ci_upper_{g}"], r[f"n_{g}"])
        if "overall" in t:
            add(item, "all", t["overall"], src, r["rate"], r["ci_lower"], r["ci_upper"], r["n"])
        for code, v in t.get("categories", {}).items():
            d = dist[(dist["item"] == item)]
            n = int(d["n"].sum())
            k = int(d.loc[d["code"] == int(code), "n"].sum())
            lo, hi = _wilson(k, n)
            add(item, f"category {code}", v, src, k / n if n else np.nan, lo, hi, n)
    for option, t in spec.get("channels", {}).items():
        if option not in opts.index:
            continue
        r = opts.loc[option]
        for g, v in t.items():
            if g != "source":
                add(option, g, v, t.get("source", ""), r[f"rate_{g}"], r[f"ci_lower_{g}"], r[f"ci_upper_{g}"],
                    r[f"n_{g}"])
    return pd.DataFrame(rows, columns=COLUMNS)
