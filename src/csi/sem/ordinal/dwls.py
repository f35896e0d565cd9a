"""The model in the delta parameterization, DWLS estimation, and lavaan's WLSMV standard errors,
test statistics and fit measures."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from ...errors import CSIError
from ..measures import _cfi, _rmsea, _tli
from ..ml import Fit
from .sample import OrdinalSample, _pairs, ordinal_sample

# --- the model in the delta parameterization --------------------------------------------------------

class DeltaModel:
    """A Model (model.py) whose ordered items have unit-variance y*: the residual variances of the
    ordered items (Theta, or Psi of an ordered item's inner variable) are not parameters but
    1 - diag(Sigma) computed with them at zero (lavaan's setResidualElements.LISREL)."""

    def __init__(self, model):
        self.model = model
        obs, inner = model.observed, model.inner
        resid = {}                        # free index -> (matrix, position)
        self.fixed_resid = []             # residual variances the model fixes: refused below
        for pi, locs in enumerate(model.locations):
            for k, i, j, _ in locs:
                if i == j and (k == 3 or (k == 2 and inner[i] in obs)):
                    if len(locs) > 1:
                        raise CSIError("an equality constraint on a residual variance is not supported with "
                                       "ordered items (delta parameterization: they are not parameters)")
                    resid[pi] = (k, i, obs.index(inner[i]) if k == 2 else i)
        self.resid = sorted(resid)
        self.resid_pos = [resid[pi] for pi in self.resid]
        self.keep = [pi for pi in range(len(model.start)) if pi not in resid]
        self.q = len(self.keep)
        self.rows, self.cols = _pairs(model.p)

    def full(self, x, derivative: bool = True):
        """The Model's parameter vector with lavaan's residual variances; also d r / d x (None
        without `derivative`)."""
        m = self.model
        xf = np.zeros(len(m.start))
        xf[self.keep] = x
        sigma0, parts0 = m.implied(xf)          # residual elements at zero
        D0 = m.dsigma(xf.copy(), parts0)[self.keep] if derivative else None   # (q, p, p), at zero too
        diag = np.array([sigma0[o, o] for _, _, o in self.resid_pos])
        xf[self.resid] = 1.0 - diag
        if not derivative:
            return xf, None
        dr = -np.array([D0[:, o, o] for _, _, o in self.resid_pos]).reshape(len(self.resid), self.q)
        return xf, dr

    def implied(self, x):
        xf, _ = self.full(x, derivative=False)
        return self.model.implied(xf)[0]

    def rho(self, x):
        return self.implied(x)[self.rows, self.cols]

    def delta(self, x, residual: bool = True):
        """d rho / d x (pstar x q), with the residual variances' dependence on x (residual), or
        as lavaan 0.6-14's Delta, which holds them fixed (for its SEs and test statistics: the
        two differ only through the residual variance of an ordered item in the structural part,
        e.g. cmp_complained ~ SAT; TRU ~ cmp_complained)."""
        xf, dr = self.full(x)
        D = self.model.dsigma(xf)[:, self.rows, self.cols].T     # (pstar, all params)
        return D[:, self.keep] + D[:, self.resid] @ dr if residual else D[:, self.keep]


def fit_dwls(dm: DeltaModel, r, w, start, max_iter=200, tol=1e-10) -> tuple[np.ndarray, bool, int, float]:
    """Gauss-Newton with step halving on F = sum w (r - rho(x))^2."""
    x = np.array(start, float)

    def F(v):
        with np.errstate(all="ignore"):
            e = r - dm.rho(v)
        f = float(np.sum(w * e * e))
        return f if np.isfinite(f) else np.inf

    f = F(x)
    converged = False
    for it in range(1, max_iter + 1):
        D = dm.delta(x)
        e = r - dm.rho(x)
        g = D.T @ (w * e)
        H = D.T @ (w[:, None] * D)
        try:
            step = np.linalg.solve(H, g)
        except np.linalg.LinAlgError:
            step = np.linalg.lstsq(H, g, rcond=None)[0]
        if np.max(np.abs(2 * g)) < tol:
            converged = True
            break
        t = 1.0
        while t > 1e-10:
            fn = F(x + t * step)
            if fn <= f:
                break
            t /= 2
        x, f_old, f = x + t * step, f, fn
        if abs(f_old - f) < 1e-16 and np.max(np.abs(step)) * t < 1e-12:
            converged = np.max(np.abs(2 * g)) < 1e-6
            break
    return x, converged, it, f


def refit(dm: DeltaModel, X: np.ndarray, x0, values, start=None) -> tuple[np.ndarray, bool, np.ndarray]:
    """A bootstrap refit: thresholds, polychoric correlations and DWLS weights of the resampled
    rows X, then DWLS from x0 (free parameters). Returns the Model's full parameter vector, whether
    it converged, and the thresholds in the full sample's layout (`values`: each item's categories
    there; NaN for an item that lost a category in the draw, whose thresholds are not comparable).
    start: the full sample's polychoric matrix, to start from.
    An item with one answer only in X, a two-way table whose correlation is at the bound (empty
    cells: no DWLS weight), or a failed fit, is a draw that did not converge."""
    nth = sum(len(v) - 1 for v in values)
    failed = np.full(len(dm.model.start), np.nan), False, np.full(nth, np.nan)
    try:
        with np.errstate(divide="ignore", invalid="ignore"):
            s = ordinal_sample(X, dm.model.observed, nacov="diag", start=start)
    except CSIError:
        return failed
    if not np.all(np.isfinite(s.gamma) & (s.gamma > 0)):    # a degenerate table (a correlation at +-1)
        return failed
    th = np.concatenate([t if len(v) == len(full) and np.array_equal(v, full) else np.full(len(full) - 1, np.nan)
                         for t, v, full in zip(s.th, s.values, values)])
    x, ok, _, _ = fit_dwls(dm, s.cor_vector(), 1.0 / s.gamma, x0)
    return dm.full(x)[0], ok, th


# --- WLSMV -------------------------------------------------------------------------------------------


@dataclass
class WLSMV:
    fit: Fit                    # x: the Model's full parameter vector (residual variances derived)
    vcov: np.ndarray            # robust covariance of the Model's parameters (0 for derived ones)
    measures: dict
    sample: OrdinalSample
    dm: DeltaModel
    threshold_se: np.ndarray


def wlsmv(model, X: np.ndarray, start=None) -> WLSMV:
    """DWLS estimates with robust SEs and lavaan's WLSMV test statistics and fit measures, for data
    X whose columns are model.observed, every one an ordered item; blank cells (NaN): pairwise."""
    if model.exo:
        raise CSIError("estimator WLSMV with exogenous observed covariates is not supported yet",
                       hint="use estimator ML/MLR, or make the covariate an indicator of a construct.")
    n = len(X)
    s = ordinal_sample(X, model.observed)
    dm = DeltaModel(model)
    nth = s.nth
    r = s.cor_vector()
    G = s.gamma[nth:, nth:]
    w = 1.0 / np.diag(G)
    if start is None:
        try:    # ML on the polychoric matrix: a good start (its residual variances are dropped)
            x0 = model.fit(s.R).x[dm.keep]
        except Exception:  # noqa: BLE001
            x0 = model.start[dm.keep]
        if not np.all(np.isfinite(x0)):
            x0 = model.start[dm.keep]
    else:
        x0 = np.asarray(start, float)
    x, converged, iterations, F = fit_dwls(dm, r, w, x0)
    D = dm.delta(x)
    e = r - dm.rho(x)
    grad = -2 * D.T @ (w * e)
    D = dm.delta(x, residual=False)       # lavaan's Delta, for SEs and the tests
    E = D.T @ (w[:, None] * D)
    q, pstar = dm.q, len(r)
    df = pstar - q
    xf = dm.full(x)[0]
    sigma = model.implied(xf)[0]
    info_full = np.zeros((len(xf), len(xf)))
    info_full[np.ix_(dm.keep, dm.keep)] = 2 * E
    # the derived residual variances are not parameters: a neutral unit block keeps the
    # identification check (admissibility.py) to the free ones
    info_full[dm.resid, dm.resid] = np.mean(np.diag(2 * E)) if q else 1.0
    fit = Fit(x=xf, fmin=F, converged=converged, iterations=iterations,
              grad_norm=float(np.max(np.abs(grad))) if len(grad) else 0.0, information=info_full)
    vcov = np.full((len(xf), len(xf)), np.nan)
    measures = dict.fromkeys(("chisq_scaled", "chisq_scaling_factor", "chisq_shift", "pvalue_scaled",
                              "cfi_scaled", "tli_scaled", "rmsea_scaled", "cfi_robust", "tli_robust",
                              "rmsea_robust"))
    n1 = n - 1                                # lavaan (DWLS): N - 1 in the statistic and in RMSEA
    chisq = n1 * F
    chisq_b = n1 * float(np.sum(w * r * r))
    df_b = pstar
    th_se = np.sqrt(np.diag(s.gamma)[:nth] / (n - 1))
    try:
        Ei = np.linalg.inv(E)
        WD = w[:, None] * D
        V = Ei @ (WD.T @ G @ WD) @ Ei / (n - 1)
        vcov[:] = 0.0
        vcov[np.ix_(dm.keep, dm.keep)] = V
        U = np.diag(w) - WD @ Ei @ WD.T
        UG = U @ G
        test = _scaled_shifted(chisq, df, np.trace(UG), np.sum(UG * UG.T))
        WG = w[:, None] * G
        test_b = _scaled_shifted(chisq_b, df_b, np.trace(WG), np.sum(WG * WG.T))
        measures.update(chisq_scaled=test[0], chisq_scaling_factor=test[1], chisq_shift=test[2],
                        pvalue_scaled=float(stats.chi2.sf(test[0], df)) if df > 0 else float("nan"),
                        cfi_scaled=_cfi(test[0], df, test_b[0], df_b), tli_scaled=_tli(test[0], df, test_b[0], df_b),
                        rmsea_scaled=_rmsea(test[0], df, n1))
        measures.update(_robust_catml(s, sigma, D, Ei, w, G, df, df_b, n))
    except np.linalg.LinAlgError:
        test_b = (np.nan,)
    from ..measures import _rmsea_ci
    lo, hi = _rmsea_ci(chisq, df, n1)
    res = (s.R - sigma)[dm.rows, dm.cols]
    p = model.p
    measures.update({
        "npar": q + nth, "chisq": float(chisq), "df": int(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else float("nan"),
        "cfi": _cfi(chisq, df, chisq_b, df_b), "tli": _tli(chisq, df, chisq_b, df_b),
        "rmsea": _rmsea(chisq, df, n1), "rmsea_ci_lower": lo, "rmsea_ci_upper": hi,
        "srmr": float(np.sqrt(np.sum(res ** 2) / (p * (p + 1) / 2))),
        "gfi": None, "aic": None, "bic": None, "loglik": None, "unrestricted_loglik": None, "n": int(n),
        "baseline_chisq": float(chisq_b), "baseline_df": int(df_b),
        "baseline_chisq_scaled": float(test_b[0]),
        "ordered": list(model.observed),
    })
    return WLSMV(fit, vcov, measures, s, dm, th_se)


def _scaled_shifted(chisq, df, tr, tr2):
    """lavaan's "scaled.shifted" test: (chisq a + b, 1/a, b), a = sqrt(df / tr(UG^2)),
    b = df - a tr(UG)."""
    if df <= 0 or not tr2 > 0:
        return (float("nan"),) * 3
    a = np.sqrt(df / tr2)
    b = df - a * tr
    return float(chisq * a + b), float(1 / a), float(b)


def _robust_catml(s, sigma, D, Ei, w, G, df, df_b, n) -> dict:
    """lavaan 0.6-14's robust CFI/TLI/RMSEA for categorical data (lav_fit_catml_dwls): the ML
    discrepancy of the DWLS solution from the polychoric matrix (XX3 = N F_ML) with c3 =
    tr((I - D E^-1 D' W)' V (I - D E^-1 D' W) Gamma) / df, V the normal-theory weight of the
    correlations at the model; the baseline's c3 = tr(Gamma) / df_b."""
    R = s.R
    p = len(R)
    ev = np.linalg.eigvalsh(R)
    out = dict.fromkeys(("cfi_robust", "tli_robust", "rmsea_robust"))
    if np.any(ev < np.sqrt(np.finfo(float).eps)) or df <= 0:
        return out        # lavaan: NA when the polychoric matrix is not positive definite
    Si = np.linalg.inv(sigma)
    xx3 = n * (np.linalg.slogdet(sigma)[1] + np.trace(R @ Si) - np.linalg.slogdet(R)[1] - p)
    xx3_b = n * (-np.linalg.slogdet(R)[1])
    rows, cols = _pairs(p)
    V = Si[rows][:, rows] * Si[cols][:, cols] + Si[rows][:, cols] * Si[cols][:, rows]
    WiU = np.eye(len(w)) - D @ Ei @ D.T * w[None, :]
    c3 = float(np.sum((WiU.T @ V @ WiU) * G.T)) / df
    c3_b = float(np.trace(G)) / df_b
    out.update(cfi_robust=_cfi(xx3, df, xx3_b, df_b, c3, c3_b), tli_robust=_tli(xx3, df, xx3_b, df_b, c3, c3_b),
               rmsea_robust=_rmsea(xx3, df, n - 1, c3))
    return out
