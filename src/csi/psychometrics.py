"""Reliability and validity of the measurement model, checked against semTools 0.5.

All model-based figures come from the measurement model: a CFA of the `=~` lines of the CSI
model with every construct correlated (fitted by csi.sem).

- Cronbach's alpha from the item covariance matrix (listwise complete cases).
- omega = composite reliability (Fornell & Larcker 1981; Raykov):
  (sum lambda)^2 psi / ((sum lambda)^2 psi + sum theta + 2 sum theta_ij), as semTools' omega.
- AVE (Fornell & Larcker 1981): sum lambda^2 psi / sum (lambda^2 psi + theta), as semTools' avevar.
- HTMT (Henseler, Ringle & Sarstedt 2015): mean heterotrait correlation over the geometric mean
  of the mean monotrait correlations, absolute item correlations, as semTools' htmt(htmt2 =
  FALSE); HTMT2 (Roemer, Schuberth & Henseler 2021) takes geometric instead of arithmetic means,
  as semTools' default.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from . import sem

HTMT_STRICT, HTMT_LIBERAL = 0.85, 0.90


def measurement_model(description: str) -> str:
    """The CFA of a model: its `=~` lines (constructs correlate freely), with the `~~` lines among
    their indicators and factors (e.g. a single-item factor's residual variance fixed at 0)."""
    text, _ = sem.strip_model(description)
    lines = [l for l in text.splitlines() if "=~" in l.split("#")[0]]
    names = set()
    for l in lines:
        lhs, rhs = l.split("#")[0].split("=~")
        names |= {lhs.strip()} | {t.strip().split("*")[-1].strip() for t in rhs.split("+") if t.strip()}
    for l in text.splitlines():
        body = l.split("#")[0]
        if "~~" in body:
            lhs, rhs = body.split("~~")
            terms = {lhs.strip()} | {t.strip().split("*")[-1].strip() for t in rhs.split("+") if t.strip()}
            if terms <= names:
                lines.append(l)
    return "\n".join(lines)


def indicators(description: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in measurement_model(description).splitlines():
        if "=~" not in line.split("#")[0]:
            continue
        lhs, rhs = line.split("#")[0].split("=~")
        out.setdefault(lhs.strip(), []).extend(
            t.strip().split("*")[-1].strip() for t in rhs.split("+") if t.strip())
    return out


def drivers(description: str, cb=None) -> list[str]:
    """The CSI drivers: the codebook's `kind: driver` constructs that are factors of the model;
    without a codebook, the exogenous latent predictors of the structural part."""
    latent = list(indicators(description))
    if cb is not None:
        return [c for c in latent if cb.constructs.get(c, {}).get("kind") == "driver"]
    text, _ = sem.strip_model(description)
    lhs, rhs = set(), set()
    for line in text.splitlines():
        body = line.split("#")[0]
        if "~" in body and "=~" not in body and "~~" not in body:
            left, right = body.split("~", 1)
            lhs.add(left.strip())
            rhs |= {t.strip().split("*")[-1].strip() for t in right.split("+")}
    return [c for c in latent if c in rhs and c not in lhs]


def cronbach_alpha(X: np.ndarray) -> float:
    S = np.cov(X, rowvar=False)
    k = S.shape[0]
    return float(k / (k - 1) * (1 - np.trace(S) / S.sum()))


def reliability(cfa: sem.Result, data: pd.DataFrame, description: str) -> pd.DataFrame:
    """alpha, omega (CR) and AVE per construct, with the usual cutoffs (.70, .70, .50).

    With ordered items (a WLSMV CFA) omega is Green & Yang's (2009) reliability of the sum of the
    items on their answer scale and AVE the mean explained share of the latent responses' variance
    (semTools' compRelSEM and AVE); alpha stays the alpha of the answers.
    omega and AVE come from the CFA: from an inadmissible CFA they are withheld (NaN), since they
    could be impossible (AVE > 1). A single-item construct has no alpha, omega or AVE (its
    reliability is what the model assumes, e.g. 1 with the residual variance fixed at 0, and
    semTools omits it): its `*_ok` flags are None."""
    model, x = cfa.model, cfa.fit.x
    B, L, P, T = model.matrices(x)
    items = indicators(description)
    X = sem.complete_cases(data, model.observed)
    ordinal = getattr(cfa, "ordinal", None)
    rows = []
    for construct, its in items.items():
        j = model.inner.index(construct)
        idx = [model.observed.index(i) for i in its]
        lam, psi = L[idx, j], P[j, j]
        theta = T[np.ix_(idx, idx)]
        if ordinal is not None:       # semTools' compRelSEM (ord.scale) and AVE for ordered items
            omega = omega_ordinal(np.outer(lam, lam) * psi, ordinal.sample.R[np.ix_(idx, idx)],
                                  [ordinal.sample.th[i] for i in idx])
            ave = (lam ** 2 * psi).sum() / np.trace(ordinal.sample.R[np.ix_(idx, idx)])
        else:
            true = lam.sum() ** 2 * psi
            omega = true / (true + theta.sum())            # theta.sum() = diagonal + 2 x off-diagonal
            ave = (lam ** 2 * psi).sum() / ((lam ** 2 * psi).sum() + np.trace(theta))
        alpha = cronbach_alpha(X[its].to_numpy(float)) if len(its) > 1 else np.nan
        single = len(its) == 1
        if not cfa.measures["admissible"] or single:   # as semTools: none for a single item
            omega = ave = np.nan
        rows.append({"construct": construct, "items": len(its), "alpha": alpha, "omega": omega,
                     "ave": ave, "sqrt_ave": np.sqrt(ave) if ave >= 0 else np.nan,
                     "alpha_ok": None if single else bool(alpha >= 0.70),
                     "omega_ok": None if single or np.isnan(omega) else bool(omega >= 0.70),
                     "ave_ok": None if single or np.isnan(ave) else bool(ave >= 0.50)})
    return pd.DataFrame(rows)


def omega_ordinal(true: np.ndarray, total: np.ndarray, thresholds: list) -> float:
    """Green & Yang's (2009) omega of the sum of ordered items (semTools' compRelSEM with
    ord.scale = TRUE, obs.var = TRUE): the share of the sum score's variance due to the common
    factor, from the thresholds t, the common part of the latent-response correlations (true:
    Lambda Phi Lambda') and their total (total: the polychoric matrix):
    sum_jj' sum_cc' [Phi2(t_jc, t_j'c'; r_jj') - Phi(t_jc) Phi(t_j'c')] with r from true over the
    same with r from total."""
    from .sem.ordinal import bvn_cdf

    from scipy.special import ndtr

    num = den = 0.0
    k = len(thresholds)
    for a in range(k):
        for b in range(k):
            ta, tb = np.asarray(thresholds[a], float), np.asarray(thresholds[b], float)
            A, B = np.meshgrid(ta, tb, indexing="ij")
            base = ndtr(ta).sum() * ndtr(tb).sum()
            num += bvn_cdf(A, B, true[a, b]).sum() - base
            den += bvn_cdf(A, B, min(total[a, b], 1.0)).sum() - base
    return float(num / den)


def latent_correlations(cfa: sem.Result) -> pd.DataFrame:
    model = cfa.model
    M = model.implied(cfa.fit.x)[1]["M"]
    lat = [model.inner.index(v) for v in model.latent]
    Ml = M[np.ix_(lat, lat)]
    sd = np.sqrt(np.diag(Ml))
    return pd.DataFrame(Ml / np.outer(sd, sd), index=model.latent, columns=model.latent)


def fornell_larcker(cfa: sem.Result, rel: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """sqrt(AVE) on the diagonal, latent correlations below; discriminant validity holds for a
    construct when its sqrt(AVE) exceeds its correlations with every other construct."""
    r = latent_correlations(cfa).loc[order, order]
    table = r.copy()
    sq = rel.set_index("construct")["sqrt_ave"]
    for c in order:
        table.loc[c, c] = sq[c]
    table["fl_ok"] = [None if np.isnan(sq[c]) else bool(sq[c] > r.loc[c].drop(c).abs().max()) for c in order]
    return table


def htmt(data: pd.DataFrame, description: str, geometric: bool = False) -> pd.DataFrame:
    """HTMT matrix (geometric=True: HTMT2)."""
    from scipy.stats import gmean

    mean = gmean if geometric else np.mean
    items = indicators(description)
    cols = [i for its in items.values() for i in its]
    R = sem.complete_cases(data, cols).corr().abs()
    names = list(items)
    out = pd.DataFrame(np.eye(len(names)), index=names, columns=names)

    def mono(c):
        its = items[c]
        sub = R.loc[its, its].to_numpy()
        return mean(sub[np.triu_indices(len(its), 1)]) if len(its) > 1 else np.nan

    m = {c: mono(c) for c in names}
    for c in names:
        if np.isnan(m[c]):        # a single-item construct: not estimable, as semTools says (NA)
            out.loc[c, c] = np.nan
    for a in range(len(names)):
        for b in range(a):
            hetero = mean(R.loc[items[names[a]], items[names[b]]].to_numpy().ravel())
            out.iloc[a, b] = out.iloc[b, a] = hetero / np.sqrt(m[names[a]] * m[names[b]])
    return out


def htmt_verdicts(h: pd.DataFrame, h2: pd.DataFrame | None = None) -> pd.DataFrame:
    rows = []
    names = list(h.index)
    for a in range(len(names)):
        for b in range(a):
            v = h.iloc[a, b]
            verdict = ("not estimable (a single-item construct)" if np.isnan(v) else
                       "distinct" if v < HTMT_STRICT else
                       "distinct only by the liberal .90 cutoff" if v < HTMT_LIBERAL else
                       "NOT distinct (HTMT >= .90)")
            rows.append({"construct_a": names[b], "construct_b": names[a], "htmt": v,
                         "htmt2": np.nan if h2 is None else h2.iloc[a, b],
                         "below_085": None if np.isnan(v) else bool(v < HTMT_STRICT),
                         "below_090": None if np.isnan(v) else bool(v < HTMT_LIBERAL),
                         "verdict": verdict})
    return pd.DataFrame(rows)


def vif(cfa: sem.Result, data: pd.DataFrame, description: str, drivers: list[str]) -> pd.DataFrame:
    """Collinearity among the drivers: from the latent correlations (diagonal of R^-1) and, as in
    PLS practice, from construct mean scores (statsmodels)."""
    from statsmodels.stats.outliers_influence import variance_inflation_factor

    r = latent_correlations(cfa).loc[drivers, drivers].to_numpy()
    latent = np.diag(np.linalg.inv(r))
    items = indicators(description)
    scores = pd.DataFrame({d: data[items[d]].mean(axis=1, skipna=False) for d in drivers}).dropna()
    Z = np.column_stack([np.ones(len(scores)), scores.to_numpy()])
    composite = [variance_inflation_factor(Z, k + 1) for k in range(len(drivers))]
    return pd.DataFrame({"construct": drivers, "vif_latent": latent, "vif_composite": composite,
                         "below_3": [bool(v < 3) for v in latent]})
