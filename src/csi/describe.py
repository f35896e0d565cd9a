"""Descriptive tables: the seed paper's satisfaction rates with CIs, item statistics, profile."""

from __future__ import annotations

import numpy as np
import pandas as pd
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint, test_proportions_2indep

from .codebook import Codebook



def groups(cb: Codebook) -> tuple[str | None, list[str]]:
    """The respondent-type column and its groups (in codebook order), or (None, [])."""
    cols = cb.role("respondent_type")
    if not cols:
        return None, []
    return cols[0].code, list(dict.fromkeys(cols[0].value_labels.values()))


def wilson(k, n, alpha=0.05):
    if n == 0:
        return np.nan, np.nan
    lo, hi = proportion_confint(k, n, alpha=alpha, method="wilson")
    return float(lo), float(hi)


def _rate(x: pd.Series, top) -> tuple[int, int, float, float, float]:
    x = x.dropna()
    n, k = len(x), int(x.isin(top).sum())
    lo, hi = wilson(k, n)
    return n, k, (k / n if n else np.nan), lo, hi


def difference(k1: int, n1: int, k2: int, n2: int) -> dict:
    """Two groups' top-box rates: their difference (k1/n1 - k2/n2) with Newcombe's hybrid score
    95% CI, and a two-sided test of no difference: the score test, or Fisher's exact test when
    an expected cell count of the 2 x 2 table is below 5 (the score test's p is unreliable there)."""
    from scipy import stats

    out = {"diff": k1 / n1 - k2 / n2 if n1 and n2 else np.nan, "diff_ci_lower": np.nan, "diff_ci_upper": np.nan,
           "test": None, "p_value": np.nan}
    if not (min(n1, n2) > 0 and 0 < k1 + k2 < n1 + n2):
        return out
    lo, hi = confint_proportions_2indep(k1, n1, k2, n2, method="newcomb", compare="diff")
    table = np.array([[k1, n1 - k1], [k2, n2 - k2]])
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    if expected.min() < 5:
        test, p = "exact", float(stats.fisher_exact(table).pvalue)
    else:
        test, p = "score", float(test_proportions_2indep(k1, n1, k2, n2, method="score").pvalue)
    out.update(diff_ci_lower=float(lo), diff_ci_upper=float(hi), test=test, p_value=p)
    return out


def top_box(data: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Share in the top box (satisfied / aware / yes) per item: overall and by respondent type,
    Wilson 95% CIs, and (two types) their difference with its CI and test (see difference), and
    the p-value Holm-adjusted over the items tested (p_holm)."""
    group, levels = groups(cb)
    rows = []
    for col in cb.items:
        scale = cb.scales[col.scale]
        rec = {"item": col.code, "construct": col.construct, "label_en": col.label["en"],
               "label_zh": col.label["zh"], "top_box": "+".join(map(str, scale.top_box))}
        n, k, p, lo, hi = _rate(data[col.code], scale.top_box)
        rec.update(n=n, rate=p, ci_lower=lo, ci_upper=hi)
        counts = {}
        for g in levels:
            n_g, k_g, p_g, lo_g, hi_g = _rate(data.loc[data[group] == g, col.code], scale.top_box)
            rec.update({f"n_{g}": n_g, f"rate_{g}": p_g, f"ci_lower_{g}": lo_g, f"ci_upper_{g}": hi_g})
            counts[g] = (k_g, n_g)
        if len(levels) == 2:
            (k1, n1), (k2, n2) = counts[levels[0]], counts[levels[1]]
            rec.update(difference(k1, n1, k2, n2))
        rows.append(rec)
    out = pd.DataFrame(rows)
    if len(levels) == 2:
        from statsmodels.stats.multitest import multipletests

        tested = out["p_value"].notna()
        out["p_holm"] = np.nan
        if tested.any():
            out.loc[tested, "p_holm"] = multipletests(out.loc[tested, "p_value"], method="holm")[1]
    return out


def distribution(data: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Share of each answer category per item (for diverging stacked bars)."""
    rows = []
    for col in cb.items:
        scale = cb.scales[col.scale]
        x = data[col.code].dropna()
        for code in range(scale.min, scale.max + 1):
            rows.append({"item": col.code, "construct": col.construct, "scale": scale.name, "code": code,
                         "label_en": scale.labels_en.get(code, str(code)),
                         "label_zh": scale.label_of(code, "zh"),
                         "n": int((x == code).sum()), "share": float((x == code).mean()) if len(x) else np.nan,
                         "scale_min": scale.min, "scale_max": scale.max})
    return pd.DataFrame(rows)


def options(data: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Shares of multi-select options (channels used, information channels, ...) with CIs."""
    group, levels = groups(cb)
    rows = []
    for col in cb.columns:
        if not col.question:
            continue
        rec = {"question": col.question, "option": col.code, "role": col.role,
               "label_en": col.label["en"], "label_zh": col.label["zh"]}
        for g, d in [("all", data)] + [(g, data[data[group] == g]) for g in levels]:
            n, k, p, lo, hi = _rate(d[col.code].astype("float"), [1])
            suffix = "" if g == "all" else f"_{g}"
            rec.update({f"n{suffix}": n, f"rate{suffix}": p, f"ci_lower{suffix}": lo, f"ci_upper{suffix}": hi})
        rows.append(rec)
    columns = ["question", "option", "role", "label_en", "label_zh"] + [
        f"{k}{sfx}" for sfx in [""] + [f"_{g}" for g in levels] for k in ("n", "rate", "ci_lower", "ci_upper")]
    return pd.DataFrame(rows, columns=columns)


def item_stats(data: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Mean, SD, skewness, excess kurtosis and % missing per item (satisfaction items are skewed)."""
    rows = []
    for col in cb.items:
        x = data[col.code]
        rows.append({"item": col.code, "construct": col.construct, "label_en": col.label["en"],
                     "n": int(x.notna().sum()), "mean": x.mean(), "sd": x.std(), "skew": x.skew(),
                     "kurtosis": x.kurt(), "missing_pct": 100 * x.isna().mean(),
                     "scale_min": cb.scales[col.scale].min, "scale_max": cb.scales[col.scale].max})
    return pd.DataFrame(rows)


def profile(data: pd.DataFrame, cb: Codebook) -> pd.DataFrame:
    """Sample composition: respondent type and demographics (counts and shares)."""
    rows = []
    for col in cb.role("respondent_type", "demographic"):
        x = data[col.code]
        for value in list(dict.fromkeys(col.value_labels.values())) + [None]:
            n = int(x.isna().sum()) if value is None else int((x == value).sum())
            if value is None and n == 0:
                continue
            label = {v: k for k, v in col.value_labels.items()}.get(value, "(missing)")
            rows.append({"variable": col.code, "variable_en": col.label["en"], "value": value or "missing",
                         "label_zh": label, "n": n, "share": n / len(x) if len(x) else np.nan})
    # no respondent type or demographics in the questionnaire: an empty table with its columns
    return pd.DataFrame(rows, columns=["variable", "variable_en", "value", "label_zh", "n", "share"])
