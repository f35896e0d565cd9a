"""lavaan's ML fit measures: chi-square, CFI, TLI, RMSEA and its CI, SRMR, GFI, loglik, AIC, BIC."""

from __future__ import annotations

import numpy as np
from scipy import optimize, stats

from .ml import Fit
from .model import Model


def fit_measures(model: Model, fit: Fit, S: np.ndarray, n: int) -> dict:
    """lavaan's ML fit measures (likelihood = "normal": S and chi-square use N)."""
    p = model.p
    sigma = model.implied(fit.x)[0]
    npar = len(fit.x)
    k = len(model.exo_obs)                 # fixed.x: the covariates' moments are not modelled
    df = p * (p + 1) // 2 - npar - k * (k + 1) // 2
    chisq = n * fit.fmin
    # baseline: independent outcomes, covariates keep their observed covariance
    base = np.diag(np.diag(S))
    if k:
        base[np.ix_(model.exo_obs, model.exo_obs)] = S[np.ix_(model.exo_obs, model.exo_obs)]
    chisq_b = n * (np.linalg.slogdet(base)[1] - np.linalg.slogdet(S)[1])
    df_b = p * (p + 1) // 2 - (p - k) - k * (k + 1) // 2
    d, d_b = max(chisq - df, 0.0), max(chisq_b - df_b, 0.0)
    cfi = 1.0 - d / max(d, d_b) if max(d, d_b) > 0 else 1.0
    tli = ((chisq_b / df_b) - (chisq / df)) / ((chisq_b / df_b) - 1.0) if df > 0 else 1.0
    rmsea = np.sqrt(max(chisq / df - 1.0, 0.0) / n) if df > 0 else 0.0
    lo, hi = _rmsea_ci(chisq, df, n)
    sd = np.sqrt(np.diag(S))
    resid = (S - sigma) / np.outer(sd, sd)
    srmr = float(np.sqrt(np.mean(resid[np.tril_indices(p)] ** 2)))
    V = np.linalg.inv(sigma)
    VS = V @ S
    VE = V @ (S - sigma)
    S0 = S.copy()                          # as lavaan: the covariates' own moments do not count
    S0[np.ix_(model.exo_obs, model.exo_obs)] = 0.0
    VS0 = V @ S0
    gfi = 1.0 - np.trace(VE @ VE) / np.trace(VS0 @ VS0)
    logl = -0.5 * n * (p * np.log(2 * np.pi) + np.linalg.slogdet(sigma)[1] + np.trace(VS))
    if k:  # likelihood conditional on the covariates, as lavaan reports it with fixed.x
        Sxx = S[np.ix_(model.exo_obs, model.exo_obs)]
        logl -= -0.5 * n * (k * np.log(2 * np.pi) + np.linalg.slogdet(Sxx)[1] + k)
    return {
        "npar": npar, "chisq": float(chisq), "df": int(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan"),
        "cfi": float(cfi), "tli": float(tli), "rmsea": float(rmsea),
        "rmsea_ci_lower": lo, "rmsea_ci_upper": hi, "srmr": srmr, "gfi": float(gfi),
        "aic": float(-2 * logl + 2 * npar), "bic": float(-2 * logl + npar * np.log(n)),
        "loglik": float(logl), "n": int(n),
        "baseline_chisq": float(chisq_b), "baseline_df": int(df_b),
    }


def _rmsea_ci(chisq, df, n, level=0.90):
    """RMSEA confidence interval from the non-central chi-square (as lavaan)."""
    if df <= 0:
        return 0.0, 0.0   # as lavaan: a saturated model has no RMSEA interval
    a = (1 - level) / 2

    def ncp_for(prob):
        f = lambda lam: stats.ncx2.cdf(chisq, df, lam) - prob if lam > 0 else stats.chi2.cdf(chisq, df) - prob
        if f(0.0) < 0:          # even a central chi-square is too far: bound at 0
            return 0.0
        hi = max(chisq, 1.0)
        while f(hi) > 0:
            hi *= 2
        return optimize.brentq(f, 0.0, hi, xtol=1e-10)

    lam_lo, lam_hi = ncp_for(1 - a), ncp_for(a)
    return float(np.sqrt(lam_lo / (n * df))), float(np.sqrt(lam_hi / (n * df)))


# --- admissibility ----------------------------------------------------------------------------

