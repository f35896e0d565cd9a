"""Is a solution admissible? If not, why, in plain words computed from the solution.

An inadmissible or non-converged solution is a finding to explain, never a basis for findings:
estimate() withholds the bootstrap, indices and priorities of such a solution. The causes are
named once each, most basic first (a negative variance explains the standardized value beyond 1
that it produces, so that value is not reported again), each with what researchers usually do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .ml import Fit
from .model import Model

SAME = 0.95   # latent correlation or R² at which two constructs are empirically the same


def admissibility(model: Model, fit: Fit, table: pd.DataFrame) -> list[str]:
    """Plain-language reasons why a solution must not be reported as it is (empty if fine)."""
    return [f["text"] for f in diagnose(model, fit, table) if f["inadmissible"]]


def cautions(model: Model, fit: Fit, table: pd.DataFrame) -> list[str]:
    """Cautions about an admissible solution (constructs nearly the same)."""
    return [f["text"] for f in diagnose(model, fit, table) if not f["inadmissible"]]


def _f(kind: str, text: str, inadmissible: bool = True) -> dict:
    return {"kind": kind, "text": text, "inadmissible": inadmissible}


def diagnose(model: Model, fit: Fit, table: pd.DataFrame) -> list[dict]:
    """Findings {kind, text, inadmissible} about a fitted solution, each cause once."""
    out = []
    if not fit.converged:
        out.append(_f("not_converged",
            f"Not converged: the fit stopped after {fit.iterations} iterations with largest gradient "
            f"{fit.grad_norm:.2g}, so this is not a maximum of the likelihood. Check that every factor has a "
            "marker or fixed variance and that variables are on similar scales, or simplify the model."))
    latent = set(model.latent)
    var = table[(table["op"] == "~~") & (table["lhs"] == table["rhs"])]
    negative = var[var["est"] < 0]
    endogenous = set(table.loc[table["op"] == "~", "lhs"])
    explained = set()     # standardized values beyond 1 that a negative variance already explains
    negative_latent = set(negative["lhs"]) & (latent | endogenous)
    for r in negative.itertuples():
        if r.lhs in latent or r.lhs in endogenous:
            what = (f"Negative disturbance variance of {r.lhs} ({r.est:.3g}): its predictors explain more "
                    f"than all of it (R² = {1 - r.std_all:.2f} > 1).")
            explained |= set(table.index[(table["op"] == "~") & (table["lhs"] == r.lhs)])
        else:
            what = (f"Negative residual variance of indicator {r.lhs} ({r.est:.3g}), a Heywood case: its "
                    "standardized loading exceeds 1.")
            explained |= set(table.index[(table["op"] == "=~") & (table["rhs"] == r.lhs)])
        out.append(_f("negative_variance", what + " Usually too few respondents, an item nearly identical to "
                      "its factor, or two constructs that are one; inspect that variable, drop or merge it, "
                      "or respecify the model."))
    big = table[table["op"].isin(["=~", "~", "~~"]) & (table["std_all"].abs() > 1 + 1e-9)
                & (table["lhs"] != table["rhs"])]
    same = _same_constructs(model, fit, table)
    # a negative disturbance variance makes the constructs' correlations exceed 1: said once, above
    same = [f for f in same if not (f["kind"] == "latent_not_pd" and negative_latent & set(f["constructs"]))]
    if any(f["kind"] == "latent_not_pd" for f in same):   # it lists the correlations beyond 1
        explained |= set(big.index[big["lhs"].isin(latent) & big["rhs"].isin(latent) & (big["op"] == "~~")])
    for idx, r in big.iterrows():
        if idx in explained:
            continue
        if r["op"] == "=~":
            text = (f"Standardized loading of {r['rhs']} on {r['lhs']} is {r['std_all']:.3f}, beyond 1: check "
                    "that item (near-duplicate of another item, or the factor's only strong indicator).")
        elif r["op"] == "~":   # possible in a proper solution (suppression), but a sign of collinearity
            out.append(_f("std_beyond_one",
                f"Standardized path {r['rhs']} → {r['lhs']} is {r['std_all']:.3f}, beyond 1: the predictors of "
                f"{r['lhs']} overlap so much that their paths offset each other (collinearity). Check their HTMT "
                "and VIF; merge the overlapping predictors or drop one path.", inadmissible=False))
            continue
        else:
            text = (f"Correlation of {r['lhs']} and {r['rhs']} is {r['std_all']:.3f}, beyond ±1: they are not "
                    "distinct; check their HTMT, and merge them or revise their items.")
        out.append(_f("std_beyond_one", text))
    out += [{k: v for k, v in f.items() if k != "constructs"} for f in same]
    T = model.matrices(fit.x)[3]
    if np.linalg.eigvalsh(T).min() < -1e-8 and not (np.diag(T) < 0).any():
        out.append(_f("residuals_not_pd",
            "The residual covariance matrix of the indicators is not positive definite: some residual "
            "correlations are implausible. Review the residual covariances in the model."))
    if np.all(np.isfinite(fit.information)):
        ev = np.linalg.eigvalsh(fit.information)
        if ev.min() <= 1e-10 * max(ev.max(), 1e-300):
            out.append(_f("not_identified",
                "The information matrix is singular: the model is not identified with these data (empirical "
                "under-identification), so some estimates and standard errors are arbitrary. Typical causes: "
                "a factor with two indicators and no correlation with others, or a path that duplicates "
                "another; fix a parameter or simplify."))
    return out


def _same_constructs(model: Model, fit: Fit, table: pd.DataFrame) -> list[dict]:
    """Constructs that are empirically one: latent correlations >= .95, R² >= .95, and the smallest
    eigenvalue of the latent correlation matrix with the constructs on its eigenvector."""
    lat = [model.inner.index(v) for v in model.latent]
    if len(lat) < 2:
        return []
    parts = model.implied(fit.x)[1]
    M, P = parts["M"][np.ix_(lat, lat)], parts["P"]
    names = [model.inner[i] for i in lat]
    d = np.diag(M)
    if (d <= 0).any():
        return []        # a negative latent variance was already reported
    R = M / np.sqrt(np.outer(d, d))
    ev, vec = np.linalg.eigh(R)
    out = []
    not_pd = ev[0] < -1e-8
    pairs = [(names[a], names[b], R[a, b]) for a in range(len(names)) for b in range(a)
             if abs(R[a, b]) >= SAME]
    if not_pd:
        on = [names[k] for k in np.argsort(-np.abs(vec[:, 0])) if abs(vec[k, 0]) >= 0.3]
        beyond = [f"{a} and {b} correlate {r:.3f}" for a, b, r in pairs if abs(r) > 1 + 1e-9]
        out.append({**_f("latent_not_pd",
            (f"{'; '.join(beyond)}, beyond ±1: t" if beyond else "T") +
            f"he constructs' correlation matrix is not positive definite (smallest eigenvalue {ev[0]:.3f}, "
            f"carried by {', '.join(on)}): these constructs are empirically one. Merge them or revise their items; "
            "check their HTMT."), "constructs": on})
        pairs = [(a, b, r) for a, b, r in pairs if abs(r) <= 1 + 1e-9]
    shown = [f"{a} and {b} (r = {r:.3f})" for a, b, r in pairs]
    if shown:
        out.append(_f("same_constructs",
            f"Constructs nearly the same: model-implied correlation ≥ {SAME:.2f} between {'; '.join(shown)}. "
            "They are not distinct in these data: check their HTMT, merge them, or drop one.",
            inadmissible=not_pd) | {"constructs": []})
    endo = [i for i in lat if model.inner[i] in set(table.loc[table["op"] == "~", "lhs"])]
    high = []
    for i in endo:
        k = lat.index(i)
        r2 = 1 - P[i, i] / M[k, k]
        if SAME <= r2 <= 1:
            high.append(f"{model.inner[i]} (R² = {r2:.3f})")
    if high:
        out.append(_f("r2_near_one",
            f"Explained almost entirely by its predictors: {', '.join(high)}. The construct is not distinct "
            "from what predicts it; merge it with its main predictor or drop a path.", inadmissible=not_pd)
            | {"constructs": []})
    return out
