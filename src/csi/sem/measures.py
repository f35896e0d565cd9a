"""lavaan's fit measures: chi-square, CFI, TLI, RMSEA and its CI, SRMR, GFI, loglik, AIC, BIC;
under FIML (fiml_measures) against the EM-estimated saturated model; and the scaled and robust
versions of chi-square, CFI, TLI and RMSEA (robust_measures)."""

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
        "loglik": float(logl), "unrestricted_loglik": float(logl + chisq / 2), "n": int(n),
        "baseline_chisq": float(chisq_b), "baseline_df": int(df_b),
    }


def fiml_measures(model: Model, F, fit: Fit, n: int) -> dict:
    """lavaan's fit measures under missing = "ml" (F: the fiml.FIML that was fitted). The saturated
    model is the EM estimate (mu1, S1); SRMR compares with it, means included; GFI (weighted by the
    expected information at the model) with available-case means and pairwise covariances; the
    baseline has free means and variances (each from the rows observing the variable)."""
    p = model.p
    pats, (mu1, S1) = F.pats, F.h1
    mu, sigma, _ = F.moments(fit.x)
    npar = len(fit.x)
    pstar = p * (p + 1) // 2
    df, df_b = pstar + p - npar, pstar - p
    logl, logl1 = pats.loglik(mu, sigma), pats.loglik(mu1, S1)
    chisq = 2 * (logl1 - logl)
    mu_b, var_b = pats.available()
    chisq_b = 2 * (logl1 - pats.loglik(mu_b, np.diag(var_b)))
    lo, hi = _rmsea_ci(chisq, df, n)
    sd = np.sqrt(np.diag(S1))
    resid = np.concatenate([((S1 - sigma) / np.outer(sd, sd))[np.tril_indices(p)], (mu1 - mu) / sd])
    r, c = np.tril_indices(p)
    m0, S0 = pats.pairwise()     # lavaan's GFI compares with these, not with the EM moments
    obs, est = np.concatenate([m0, S0[r, c]]), np.concatenate([mu, sigma[r, c]])
    W = pats.information(mu, sigma, observed=False)
    gfi = 1.0 - (obs - est) @ W @ (obs - est) / (obs @ W @ obs)
    return {
        "npar": npar, "chisq": float(chisq), "df": int(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan"),
        "cfi": _cfi(chisq, df, chisq_b, df_b), "tli": _tli(chisq, df, chisq_b, df_b),
        "rmsea": _rmsea(chisq, df, n), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "srmr": float(np.sqrt(np.mean(resid ** 2))), "gfi": float(gfi),
        "aic": float(-2 * logl + 2 * npar), "bic": float(-2 * logl + npar * np.log(n)),
        "loglik": float(logl), "unrestricted_loglik": float(logl1), "n": int(n),
        "baseline_chisq": float(chisq_b), "baseline_df": int(df_b),
    }


ROBUST_KEYS = ("chisq_scaled", "chisq_scaling_factor", "pvalue_scaled", "cfi_scaled", "tli_scaled",
               "rmsea_scaled", "cfi_robust", "tli_robust", "rmsea_robust")


def robust_measures(m: dict, c, c_b, fiml=None) -> dict:
    """lavaan's scaled measures (chi-squares divided by their scaling factors c, c_b) and robust
    CFI/TLI/RMSEA (Brosseau-Liard & Savalei; with FIML lavaan's FIML-corrected statistics):
    None where lavaan has none (no scaling: plain ML)."""
    out = dict.fromkeys(ROBUST_KEYS)
    chisq, df, chisq_b, df_b, n = m["chisq"], m["df"], m["baseline_chisq"], m["baseline_df"], m["n"]
    if c is not None:          # a saturated model (df 0) keeps its chi-square, as in lavaan
        cs, cs_b = (chisq / c if df > 0 else chisq), chisq_b / c_b
        out.update(chisq_scaled=cs, chisq_scaling_factor=c,
                   pvalue_scaled=float(stats.chi2.sf(cs, df)) if df > 0 else float("nan"),
                   cfi_scaled=_cfi(cs, df, cs_b, df_b), tli_scaled=_tli(cs, df, cs_b, df_b),
                   rmsea_scaled=_rmsea(chisq, c * df, n))
    if fiml is not None:       # (XX3, df, c3) of the model and the baseline
        (x3, df3, c3), (x3_b, _, c3_b) = fiml["model"], fiml["baseline"]
        out.update(cfi_robust=_cfi(x3, df, x3_b, df_b, c3, c3_b), tli_robust=_tli(x3, df, x3_b, df_b, c3, c3_b),
                   rmsea_robust=_rmsea(x3, df3, n, c3))
    elif c is not None:
        out.update(cfi_robust=_cfi(chisq, df, chisq_b, df_b, c, c_b), tli_robust=_tli(chisq, df, chisq_b, df_b, c, c_b),
                   rmsea_robust=_rmsea(chisq, df, n, c))
    return out


def _corrected(df, c, c_b) -> bool:
    """lavaan's condition for the robust (c-corrected) forms of CFI and TLI."""
    return df > 0 and c != 1 and c_b != 1


def _cfi(x2, df, x2_b, df_b, c=1.0, c_b=1.0) -> float:
    if np.isnan([x2, df, x2_b, df_b, c, c_b]).any():
        return float("nan")
    if not _corrected(df, c, c_b):
        c = c_b = 1.0
    t1 = max(x2 - c * df, 0.0)
    t2 = max(x2 - c * df, x2_b - c_b * df_b, 0.0)
    return 1.0 if abs(t1) < 1.5e-8 and abs(t2) < 1.5e-8 else float(1 - t1 / t2)


def _tli(x2, df, x2_b, df_b, c=1.0, c_b=1.0) -> float:
    if np.isnan([x2, df, x2_b, df_b, c, c_b]).any():
        return float("nan")
    if not _corrected(df, c, c_b):
        c = c_b = 1.0
    t1, t2 = (x2 - c * df) * df_b, (x2_b - c_b * df_b) * df
    return float(1 - t1 / t2) if df > 0 and abs(t2) > 0 else 1.0


def _rmsea(x2, df, n, c=1.0) -> float:
    if np.isnan([x2, df]).any():
        return float("nan")
    if df <= 0:
        return 0.0
    return float("nan") if np.isnan(c) else float(np.sqrt(max(x2 / (n * df) - c / n, 0.0)))


def _rmsea_ci(chisq, df, n, level=0.90):
    """RMSEA confidence interval from the non-central chi-square (as lavaan)."""
    if df <= 0:
        return 0.0, 0.0   # as lavaan: a saturated model has no RMSEA interval
    if not np.isfinite(chisq):
        return float("nan"), float("nan")     # no statistic (e.g. a singular weight matrix): no interval
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

