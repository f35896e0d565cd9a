"""The stream beside the survey of the same district: each survey indicator named in the evaluation
codebook's `survey:` list set beside the good-rating rate of a subset of the stream (all ratings,
those given on site, those given online), with the difference and its Newcombe 95% CI.

The two measure different things (a rating right after one transaction; a questionnaire about the
agency) in different periods; the table says which, so that a reader does not take a gap for an error.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from .codebook import StreamCodebook

SUBSETS = {"all": "all ratings", "on_site": "ratings given on site", "online": "ratings given online"}


def subset_counts(counts: pd.DataFrame, cb: StreamCodebook) -> dict[str, tuple[int, int]]:
    ch = counts[counts["set"] == "channel"].groupby("channel")[["n", "good"]].sum()
    col = cb.role("channel")
    out = {"all": (int(ch["good"].sum()), int(ch["n"].sum()))}
    for name in ("on_site", "online"):
        values = set(getattr(col, name)) if col else set()
        part = ch[ch.index.isin(values)]
        out[name] = (int(part["good"].sum()), int(part["n"].sum()))
    return out


def compare(counts: pd.DataFrame, top_box: pd.DataFrame | None, cb: StreamCodebook, period: str,
            survey_period: str = "") -> pd.DataFrame:
    cols = ["item", "label_en", "label_zh", "survey_top_box", "survey_n", "survey_rate", "survey_ci_lower",
            "survey_ci_upper", "survey_period", "stream", "stream_n", "stream_rate", "stream_ci_lower",
            "stream_ci_upper", "stream_period", "diff", "diff_ci_lower", "diff_ci_upper"]
    if top_box is None or not cb.survey:
        return pd.DataFrame(columns=cols)
    sub = subset_counts(counts, cb)
    tb = top_box.set_index("item")
    rows = []
    for m in cb.survey:
        if m["item"] not in tb.index:
            continue
        s = tb.loc[m["item"]]
        k, n = sub[m["stream"]]
        ks = int(round(s["rate"] * s["n"]))
        rec = {"item": m["item"], "label_en": s.get("label_en", ""), "label_zh": s.get("label_zh", ""),
               "survey_top_box": s.get("top_box", ""), "survey_n": int(s["n"]), "survey_rate": s["rate"],
               "survey_ci_lower": s["ci_lower"], "survey_ci_upper": s["ci_upper"], "survey_period": survey_period,
               "stream": SUBSETS[m["stream"]], "stream_n": n, "stream_rate": k / n if n else np.nan,
               "stream_period": period}
        rec["stream_ci_lower"], rec["stream_ci_upper"] = proportion_confint(k, n, method="wilson") if n else (np.nan, np.nan)
        if n and s["n"]:
            rec["diff"] = rec["stream_rate"] - s["rate"]
            rec["diff_ci_lower"], rec["diff_ci_upper"] = confint_proportions_2indep(k, n, ks, int(s["n"]),
                                                                                    method="newcomb")
        rows.append(rec)
    return pd.DataFrame(rows, columns=cols)
