"""The estimator and missing-data method for the data at hand, with the reason the report states.

`auto` (the pipeline's default) decides from the data:
- estimator: WLSMV when every model variable is an ordered item (the codebook's scales of at most
  7 categories; binary ones included): ML on category codes attenuates loadings, misranks the
  drivers and rejects correct models, where WLSMV (polychoric correlations) does not. A model
  mixing ordered and continuous variables (not supported with WLSMV here) and one of continuous
  variables get MLR when Mardia's test rejects multivariate normality of the model variables
  (skewness or kurtosis, 5%; Mardia's test rejects multivariate normality of the model variables
  semTools' mardiaSkew / mardiaKurtosis on the complete rows), where normal-theory SEs are too
  small and the ML chi-square rejects correct models; else ML.
- missing: with WLSMV pairwise when some respondents skipped model items (each correlation from
  every respondent who answered both items; lavaan's choice for WLSMV), else listwise. With ML/MLR
  FIML when some respondents skipped model items (their other answers are used; valid
  when skipping depends on what was observed, MAR), unless the model has exogenous observed
  covariates (not supported with FIML: listwise); else listwise (nothing is missing).
A method named in the configuration is used as given, and the reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .sample import complete_cases

ALPHA = 0.05


def mardia(X: np.ndarray, chunk: int = 20_000) -> dict:
    """Mardia's multivariate skewness b1d (chi-square test) and kurtosis b2d (z test), as semTools'
    mardiaSkew / mardiaKurtosis: centred data, inverse of the n - 1 covariance. With whitened rows
    y_i, b1d = sum_ij (y_i'y_j)^3 / n^2 = sum_abc T_abc^2 / n^2 (T: the third-moment sums), so no
    n x n matrix is formed."""
    X = np.asarray(X, float)
    n, d = X.shape
    C = X - X.mean(axis=0)
    Y = np.linalg.solve(np.linalg.cholesky(np.cov(X, rowvar=False)), C.T).T
    T = np.zeros((d * d, d))
    for i in range(0, n, chunk):
        y = Y[i:i + chunk]
        T += (y[:, :, None] * y[:, None, :]).reshape(len(y), d * d).T @ y
    b1d = float((T ** 2).sum() / n ** 2)
    b2d = float(((Y ** 2).sum(axis=1) ** 2).sum() / n)
    df = d * (d + 1) * (d + 2) / 6
    chi = n * b1d / 6
    z = (b2d - d * (d + 2)) / np.sqrt(8 * d * (d + 2) / n)
    return {"n": n, "b1d": b1d, "skew_chi": chi, "skew_df": df, "skew_p": float(stats.chi2.sf(chi, df)),
            "b2d": b2d, "kurtosis_z": float(z), "kurtosis_p": float(2 * stats.norm.sf(abs(z)))}


@dataclass
class Choice:
    estimator: str
    missing: str
    reasons: dict = field(default_factory=dict)     # {"estimator": text, "missing": text}
    mardia: dict | None = None
    rules: dict = field(default_factory=dict)       # {"estimator": rule, "missing": rule[, "mixed"]} (see choose)
    incomplete: int = 0                             # respondents with a skipped model item

    def record(self) -> dict:
        """fit.json's `choice`: the reasons (text), the rules that applied and their numbers."""
        return {**self.reasons, "estimator_rule": self.rules["estimator"], "missing_rule": self.rules["missing"],
                "incomplete": self.incomplete, "mardia": self.mardia,
                **({"ordered_mixed": True} if self.rules.get("mixed") else {})}


def p_text(p: float) -> str:
    """A p-value as reports write it."""
    return "p < .001" if p < 0.001 else f"p = {p:.3f}"


def _scales_text(data, ordered) -> str:
    """'5-point and 3-point scales and a yes/no item' from the answers given."""
    counts = sorted({int(pd.to_numeric(data[v], errors="coerce").nunique()) for v in ordered}, reverse=True)
    words = [f"{k}-point" for k in counts if k > 2]
    text = " and ".join(words) + (" scales" if words else "")
    binary = sum(int(pd.to_numeric(data[v], errors="coerce").nunique()) == 2 for v in ordered)
    if binary:
        text += (" and " if words else "") + ("a two-category (yes/no) item" if binary == 1
                                              else f"{binary} two-category (yes/no) items")
    return text


def choose(data: pd.DataFrame, observed: list[str], estimator: str = "auto", missing: str = "auto",
           exogenous: list[str] = (), ordered: list[str] | None = None) -> Choice:
    """Resolve `auto` for the model variables `observed` of `data` (see the module's text); ordered:
    the model variables the codebook makes ordered items. Rules: estimator "ordinal" |
    "nonnormal" | "normal" | "few_rows" | "given"; missing "complete" | "skipped" | "exogenous" |
    "mlm" | "pairwise" | "given"."""
    X = complete_cases(data, observed)
    reasons, rules, m = {}, {}, None
    est = str(estimator).upper()
    ordered = [v for v in observed if v in set(ordered or ())]
    mixed = ""
    if est == "AUTO" and ordered and len(ordered) == len(observed) and not exogenous:
        est, rules["estimator"] = "WLSMV", "ordinal"
        reasons["estimator"] = (
            f"WLSMV (DWLS on polychoric correlations, robust standard errors, scaled-shifted chi-square): "
            f"all {len(observed)} model variables are ordered categories ({_scales_text(data, ordered)}), "
            "for which ML on the category codes understates the loadings, can misrank the drivers and rejects "
            "correct models too often")
    elif est == "AUTO" and ordered:
        mixed = (" The model mixes ordered items with continuous variables" if len(ordered) < len(observed)
                 else " The model has exogenous observed covariates") + \
            ", which WLSMV does not support here, so the items are analysed as continuous."
    if est == "AUTO":
        if len(X) > len(observed) + 1:
            m = mardia(X.to_numpy(float))
        if m is not None and min(m["skew_p"], m["kurtosis_p"]) < ALPHA:
            est, rules["estimator"] = "MLR", "nonnormal"
            reasons["estimator"] = (
                f"MLR (robust standard errors, Yuan-Bentler scaled chi-square): the model variables are not "
                f"multivariate normal (Mardia's skewness {p_text(m['skew_p'])}, kurtosis z = {m['kurtosis_z']:.1f}, "
                f"{p_text(m['kurtosis_p'])}), so normal-theory standard errors are too small and the ML chi-square "
                "rejects correct models too often")
        elif m is not None:
            est, rules["estimator"] = "ML", "normal"
            reasons["estimator"] = (f"ML: Mardia's tests do not reject multivariate normality (skewness "
                                    f"{p_text(m['skew_p'])}, kurtosis {p_text(m['kurtosis_p'])})")
        else:
            est, rules["estimator"] = "MLR", "few_rows"
            reasons["estimator"] = "MLR: too few complete rows to test normality; robust inference is the safe side"
        if mixed:
            rules["mixed"] = True
            reasons["estimator"] += "." + mixed
    elif "estimator" not in rules:
        rules["estimator"] = "given"
        reasons["estimator"] = f"{est}: chosen in the configuration or on the command line"
    auto_missing = str(missing).lower() == "auto"
    mis = "listwise" if auto_missing and est == "MLM" else str(missing).lower()
    used = data[observed].apply(pd.to_numeric, errors="coerce")
    used = used[used.notna().any(axis=1)]
    incomplete = int(used.isna().any(axis=1).sum())
    share = incomplete / max(len(used), 1)
    if est == "WLSMV" and auto_missing:
        mis, rules["missing"] = ("pairwise", "pairwise") if incomplete else ("listwise", "complete")
        reasons["missing"] = (
            f"pairwise: {incomplete} respondents ({100 * share:.1f}%) skipped one or more model items; each "
            "threshold uses everyone who answered its item and each polychoric correlation everyone who answered "
            "both items (lavaan's pairwise deletion for WLSMV; it assumes skipping is unrelated to the answers, "
            "MCAR)" if incomplete else "none needed: every respondent answered every model item")
    elif est == "MLM" and auto_missing:
        rules["missing"] = "mlm"
        reasons["missing"] = "listwise deletion: MLM needs complete data" + (
            f" ({incomplete} respondents, {100 * share:.1f}%, have a skipped model item)" if incomplete else "")
    elif mis == "auto":
        if not incomplete:
            mis, rules["missing"] = "listwise", "complete"
            reasons["missing"] = "none needed: every respondent answered every model item"
        elif exogenous:
            mis, rules["missing"] = "listwise", "exogenous"
            reasons["missing"] = (f"listwise deletion: {incomplete} respondents ({100 * share:.1f}%) skipped model "
                                  f"items, but FIML is not supported with exogenous observed covariates "
                                  f"({', '.join(exogenous)})")
        else:
            mis, rules["missing"] = "fiml", "skipped"
            reasons["missing"] = (f"FIML: {incomplete} respondents ({100 * share:.1f}%) skipped one or more model "
                                  "items; FIML uses every answer they gave (valid when skipping depends on observed "
                                  "answers, MAR), where listwise deletion would drop them")
    else:
        mis, rules["missing"] = {"ml": "fiml"}.get(mis, mis), "given"
        reasons["missing"] = f"{mis}: chosen in the configuration or on the command line" + (
            f" ({incomplete} respondents, {100 * share:.1f}%, have a skipped model item)" if incomplete else "")
    return Choice(est, mis, reasons, m, rules, incomplete)
