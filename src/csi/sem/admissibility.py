"""Is a solution admissible? Plain-language reasons when it must not be reported as it is."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ml import Fit
from .model import Model


def admissibility(model: Model, fit: Fit, table: pd.DataFrame) -> list[str]:
    """Plain-language reasons why a solution must not be reported as it is (empty if fine)."""
    out = []
    if not fit.converged:
        out.append(
            f"Not converged: the fit stopped after {fit.iterations} iterations with largest "
            f"gradient {fit.grad_norm:.2g}, so this is not a maximum of the likelihood. Check that "
            "every factor has a marker or fixed variance, that variables are on similar scales, "
            "or simplify the model.")
    var = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"])]
    for r in var[var["est"] < 0].itertuples():
        out.append(
            f"Negative variance (Heywood case) for {r.lhs}: {r.est:.3g}. Usually a too-small "
            "sample, an indicator nearly identical to its factor, or a misspecified factor; "
            "inspect that indicator (outliers, near-duplicate items), drop or merge it, or "
            "respecify the model. Do not interpret this solution.")
    big = table[table["op"].isin(["=~", "~", "~~"]) & (table["std_all"].abs() > 1 + 1e-9)]
    for r in big.itertuples():
        if r.op == "~~" and r.lhs == r.rhs:
            continue
        out.append(
            f"Standardized estimate beyond ±1 for {r.lhs} {r.op} {r.rhs}: {r.std_all:.3f}. A "
            "standardized loading or correlation cannot exceed 1; this signals a Heywood case or "
            "two constructs that are not distinct. Check discriminant validity (HTMT) and the items.")
    M = model.implied(fit.x)[1]["M"]
    lat = [model.inner.index(v) for v in model.latent]
    if lat and np.linalg.eigvalsh(M[np.ix_(lat, lat)]).min() < -1e-8:
        out.append(
            "The latent covariance matrix is not positive definite: some constructs correlate "
            "at ±1 or beyond. They are empirically the same construct; consider merging them or "
            "revising their items.")
    T = model.matrices(fit.x)[3]
    if np.linalg.eigvalsh(T).min() < -1e-8 and not (np.diag(T) < 0).any():
        out.append(
            "The residual covariance matrix of the indicators is not positive definite: some "
            "residual correlations are implausible. Review the residual covariances in the model.")
    if np.all(np.isfinite(fit.information)):
        ev = np.linalg.eigvalsh(fit.information)
        if ev.min() <= 1e-10 * max(ev.max(), 1e-300):
            out.append(
                "The information matrix is singular: the model is not identified with these data "
                "(empirical under-identification), so some estimates and standard errors are "
                "arbitrary. Typical causes: a factor with two indicators and no correlation with "
                "others, or a path that duplicates another; fix a parameter or simplify.")
    return out


# --- top level --------------------------------------------------------------------------------

