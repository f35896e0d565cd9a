"""Ordinal SEM as lavaan's estimator = "WLSMV" with ordered items (delta parameterization).

- thresholds: per ordered item, qnorm of the cumulative proportions of its categories (lavaan's
  univariate ML without covariates);
- polychoric (tetrachoric) correlations: two-step ML, thresholds fixed, maximizing the
  bivariate-normal likelihood of each two-way table (lavaan's lav_bvord; a 2x2 table with one
  empty cell gets lavaan's zero.add = 0.5 keeping the margins);
- Gamma (lavaan's NACOV, lavInspect(fit, "gamma")): Muthen (1984) from casewise scores,
  N B^-1 INNER B^-T with INNER the crossproduct of the stacked univariate and bivariate scores
  and B the block-triangular "bread" (A11 per item, A21 the cross-products of the correlation
  scores with the bivariate threshold scores, A22 diagonal);
- DWLS: F = (r - rho(theta))' W (r - rho(theta)), W = diag(Gamma)^-1 over the correlations (the
  thresholds are saturated: their estimates are the sample thresholds); residual variances of y*
  follow from the model as lavaan's setResidualElements does (Theta = 1 - diag(Sigma) with the
  residual elements at zero; for an ordered item that is an outcome or predictor in the
  structural part, the residual variance of its inner variable);
- robust SEs E^-1 D'W Gamma W D E^-1 / N, lavaan's "scaled.shifted" chi-square, scaled CFI/TLI/
  RMSEA, and lavaan 0.6-14's robust CFI/TLI/RMSEA for categorical data (lav_fit_catml_dwls:
  ML evaluated at the DWLS estimates against the polychoric matrix, Savalei 2021).
Only complete cases (listwise) and all-ordered models without exogenous covariates.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import optimize, stats

from ..errors import CSIError
from .measures import _cfi, _rmsea, _tli
from .ml import Fit

# --- the bivariate normal distribution ------------------------------------------------------------

_GL = {n: np.polynomial.legendre.leggauss(n) for n in (6, 12, 20)}


def _gl_half(n):
    x, w = _GL[n]
    keep = x < 0
    return x[keep], w[keep]


def bvn_cdf(h, k, r) -> np.ndarray:
    """P(X < h, Y < k) for standard bivariate normal X, Y with correlation r (vectorized over h, k
    for one r; Drezner & Wesolowsky's method as refined by Genz 2004, accurate to ~1e-15; +-inf
    allowed)."""
    h, k = np.broadcast_arrays(np.asarray(h, float), np.asarray(k, float))
    return _bvnu(-h.ravel(), -k.ravel(), float(r)).reshape(h.shape)


def _bvnu(h, k, r):
    """P(X > h, Y > k) (Genz's bvnu) for arrays h, k and a scalar r."""
    Phi = stats.norm.cdf
    out = np.zeros(h.shape)
    fin = np.isfinite(h) & np.isfinite(k)
    # borders: +inf -> 0; h = -inf -> P(Y > k); k = -inf -> P(X > h)
    hm, km = h == -np.inf, k == -np.inf
    out[hm & km] = 1.0
    sel = hm & ~km & (k != np.inf)
    out[sel] = Phi(-k[sel])
    sel = km & ~hm & (h != np.inf)
    out[sel] = Phi(-h[sel])
    if not fin.any():
        return out
    h, k = h[fin], k[fin]
    ar = abs(r)
    x, w = _gl_half(6 if ar < 0.3 else 12 if ar < 0.75 else 20)
    x, w = x[None, :], w[None, :]
    hk = h * k
    if ar < 0.925:
        hs = ((h * h + k * k) / 2)[:, None]
        asr = np.arcsin(r)
        sn1 = np.sin(asr * (1 - x) / 2)
        sn2 = np.sin(asr * (1 + x) / 2)
        hk2 = hk[:, None]
        bvn = np.sum(w * (np.exp((sn1 * hk2 - hs) / (1 - sn1 * sn1)) + np.exp((sn2 * hk2 - hs) / (1 - sn2 * sn2))),
                     axis=1)
        bvn = bvn * asr / (4 * np.pi) + Phi(-h) * Phi(-k)
        out[fin] = np.clip(bvn, 0.0, 1.0)
        return out
    if r < 0:
        k, hk = -k, -hk
    bvn = np.zeros(h.shape)
    if ar < 1:
        as_ = (1 - r) * (1 + r)
        a = np.sqrt(as_)
        bs = (h - k) ** 2
        c = (4 - hk) / 8
        d = (12 - hk) / 16
        asr = -(bs / as_ + hk) / 2
        with np.errstate(over="ignore", under="ignore"):
            bvn = np.where(asr > -100, a * np.exp(np.maximum(asr, -100))
                           * (1 - c * (bs - as_) * (1 - d * bs / 5) / 3 + c * d * as_ * as_ / 5), 0.0)
            b = np.sqrt(bs)
            sp = np.sqrt(2 * np.pi) * Phi(-b / a)
            bvn = bvn - np.where(hk > -100, np.exp(-np.maximum(hk, -100) / 2) * sp * b
                                 * (1 - c * bs * (1 - d * bs / 5) / 3), 0.0)
            a = a / 2
            for sgn in (-1.0, 1.0):
                xs = (a * (sgn * x + 1)) ** 2
                rs = np.sqrt(1 - xs)
                asr = -(bs[:, None] / xs + hk[:, None]) / 2
                sp = 1 + c[:, None] * xs * (1 + d[:, None] * xs)
                ep = np.exp(-hk[:, None] * (1 - rs) / (2 * (1 + rs))) / rs
                term = a * w * np.exp(np.maximum(asr, -100)) * (ep - sp)
                bvn = bvn + np.sum(np.where(asr > -100, term, 0.0), axis=1)
        bvn = -bvn / (2 * np.pi)
    if r > 0:
        bvn = bvn + Phi(-np.maximum(h, k))
    else:
        L = np.where(h < 0, Phi(k) - Phi(h), Phi(-h) - Phi(-k))
        bvn = np.where(h >= k, -bvn, L - bvn)
    out[fin] = np.clip(bvn, 0.0, 1.0)
    return out


def bvn_pdf(h, k, r):
    s = 1 - r * r
    with np.errstate(invalid="ignore", over="ignore"):
        v = np.exp(-(h * h - 2 * r * h * k + k * k) / (2 * s)) / (2 * np.pi * np.sqrt(s))
    return np.where(np.isfinite(h) & np.isfinite(k), v, 0.0)


# --- sample statistics: thresholds, polychorics, Gamma ----------------------------------------------

def _codes(x: np.ndarray):
    """Category codes 0..K-1 of one item (its observed values in order) and the values."""
    values, codes = np.unique(x, return_inverse=True)
    return codes, values


def thresholds(codes: np.ndarray, K: int) -> np.ndarray:
    prop = np.bincount(codes, minlength=K) / len(codes)
    return stats.norm.ppf(np.cumsum(prop)[:-1])


def _cell_probs(ta, tb, rho):
    """P (K1 x K2), dP/drho, dP/dta (K1 x K2 x K1-1), dP/dtb for thresholds ta, tb at rho."""
    a = np.concatenate([[-np.inf], ta, [np.inf]])
    b = np.concatenate([[-np.inf], tb, [np.inf]])
    A, B = np.meshgrid(a, b, indexing="ij")
    F = bvn_cdf(A, B, rho)
    f = bvn_pdf(A, B, rho)
    P = F[1:, 1:] - F[:-1, 1:] - F[1:, :-1] + F[:-1, :-1]
    dR = f[1:, 1:] - f[:-1, 1:] - f[1:, :-1] + f[:-1, :-1]
    s = np.sqrt(1 - rho * rho)
    K1, K2 = len(a) - 1, len(b) - 1
    # d F(a_m, b) / d a_m = phi(a_m) Phi((b - rho a_m)/s), for the inner thresholds
    with np.errstate(invalid="ignore"):
        ga = stats.norm.pdf(ta)[:, None] * stats.norm.cdf((b[None, :] - rho * ta[:, None]) / s)  # (K1-1, K2+1)
        gb = stats.norm.pdf(tb)[:, None] * stats.norm.cdf((a[None, :] - rho * tb[:, None]) / s)  # (K2-1, K1+1)
    dA = np.zeros((K1, K2, K1 - 1))
    for m in range(K1 - 1):
        row = ga[m, 1:] - ga[m, :-1]          # over cells l
        dA[m, :, m] += row                     # a_m is the upper bound of category m
        dA[m + 1, :, m] -= row                 # and the lower bound of category m + 1
    dB = np.zeros((K1, K2, K2 - 1))
    for m in range(K2 - 1):
        col = gb[m, 1:] - gb[m, :-1]
        dB[:, m, m] += col
        dB[:, m + 1, m] -= col
    return P, dR, dA, dB


def polychoric(ca, cb, ta, tb) -> float:
    """Two-step ML polychoric correlation of two coded items (thresholds fixed)."""
    K1, K2 = len(ta) + 1, len(tb) + 1
    freq = np.zeros((K1, K2))
    np.add.at(freq, (ca, cb), 1.0)
    if K1 == 2 and K2 == 2:
        zero = np.flatnonzero(freq.ravel() == 0)
        if len(zero) == 2:
            return 1.0 if freq[0, 0] > 0 else -1.0
        if len(zero) == 1:      # lavaan's zero.add = 0.5 keeping the margins
            sgn = 1.0 if zero[0] in (0, 3) else -1.0
            freq += sgn * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
        if freq[0, 0] * freq[1, 1] == freq[0, 1] * freq[1, 0]:
            return 0.0

    def nll(r):
        P = _cell_probs(ta, tb, r)[0]
        return -float(np.sum(freq * np.log(np.clip(P, 1e-300, None))))

    res = optimize.minimize_scalar(nll, bounds=(-0.999, 0.999), method="bounded",
                                   options={"xatol": 1e-12, "maxiter": 500})
    return float(res.x)


@dataclass
class OrdinalSample:
    names: list                 # the items, in the model's order
    values: list                # per item: its category values
    th: list                    # per item: its thresholds
    R: np.ndarray               # polychoric correlation matrix
    gamma: np.ndarray           # NACOV of (thresholds, correlations) (lavaan's order)
    n: int
    th_names: list = field(default_factory=list)

    @property
    def nth(self) -> int:
        return sum(len(t) for t in self.th)

    def cor_vector(self) -> np.ndarray:
        r, c = _pairs(len(self.names))
        return self.R[r, c]


def _pairs(p):
    """(i, j) of the correlations in lavaan's order: lower triangle column by column."""
    rows, cols = [], []
    for j in range(p):
        for i in range(j + 1, p):
            rows.append(i), cols.append(j)
    return np.array(rows, int), np.array(cols, int)


def ordinal_sample(X: np.ndarray, names: list, nacov: bool = True) -> OrdinalSample:
    """Thresholds, polychoric correlations and (nacov) lavaan's Gamma of complete data X."""
    n, p = X.shape
    codes, values, th = [], [], []
    for j in range(p):
        c, v = _codes(X[:, j])
        if len(v) < 2:
            raise CSIError(f"item {names[j]} has one answer only: no thresholds or polychoric correlations",
                           hint="leave the item out of the model.")
        codes.append(c), values.append(v), th.append(thresholds(c, len(v)))
    rows, cols = _pairs(p)
    R = np.eye(p)
    for i, j in zip(rows, cols):
        R[i, j] = R[j, i] = polychoric(codes[j], codes[i], th[j], th[i])
    th_names = [f"{names[j]}|t{m + 1}" for j in range(p) for m in range(len(th[j]))]
    out = OrdinalSample(names, values, th, R, np.empty((0, 0)), n, th_names)
    if nacov:
        out.gamma = _gamma(codes, th, R, n)
    return out


def _gamma(codes, th, R, n):
    """lavaan's NACOV (muthen1984 step 3): N B^-1 INNER B^-T."""
    p = len(codes)
    start = np.concatenate([[0], np.cumsum([len(t) for t in th])])
    nth = int(start[-1])
    rows, cols = _pairs(p)
    pstar = len(rows)
    sc_th = np.zeros((n, nth))
    for j in range(p):
        t = np.concatenate([[-np.inf], th[j], [np.inf]])
        prob = np.diff(stats.norm.cdf(t))
        dens = stats.norm.pdf(th[j])
        c = codes[j]
        for m in range(len(th[j])):
            sc_th[:, start[j] + m] = ((c == m) * dens[m] - (c == m + 1) * dens[m]) / prob[c]
    sc_cor = np.zeros((n, pstar))
    A21 = np.zeros((pstar, nth))
    for q, (i, j) in enumerate(zip(rows, cols)):
        # lavaan's pair (y1 = j, y2 = i)
        P, dR, dA, dB = _cell_probs(th[j], th[i], R[i, j])
        cj, ci = codes[j], codes[i]
        Pc = P[cj, ci]
        s = dR[cj, ci] / Pc
        sc_cor[:, q] = s
        A21[q, start[j]:start[j + 1]] = s @ (dA[cj, ci] / Pc[:, None])
        A21[q, start[i]:start[i + 1]] = s @ (dB[cj, ci] / Pc[:, None])
    sc = np.hstack([sc_th, sc_cor])
    inner = sc.T @ sc
    A11 = np.zeros((nth, nth))
    for j in range(p):
        b = slice(start[j], start[j + 1])
        A11[b, b] = inner[b, b]
    a22 = np.sum(sc_cor ** 2, axis=0)
    A11i = np.linalg.inv(A11)
    Binv = np.zeros((nth + pstar, nth + pstar))
    Binv[:nth, :nth] = A11i
    Binv[nth:, nth:] = np.diag(1 / a22)
    Binv[nth:, :nth] = -(A21 / a22[:, None]) @ A11i
    return n * Binv @ inner @ Binv.T


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

    def full(self, x):
        """The Model's parameter vector with lavaan's residual variances; also d r / d x."""
        m = self.model
        xf = np.zeros(len(m.start))
        xf[self.keep] = x
        sigma0, parts0 = m.implied(xf)          # residual elements at zero
        D0 = m.dsigma(xf, parts0)[self.keep]    # (q, p, p)
        diag = np.array([sigma0[o, o] for _, _, o in self.resid_pos])
        xf[self.resid] = 1.0 - diag
        dr = -np.array([D0[:, o, o] for _, _, o in self.resid_pos]).reshape(len(self.resid), self.q)
        return xf, dr

    def implied(self, x):
        xf, _ = self.full(x)
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
    """DWLS estimates with robust SEs and lavaan's WLSMV test statistics and fit measures, for
    complete data X whose columns are model.observed, every one an ordered item."""
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
    from .measures import _rmsea_ci
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


# --- estimate() helpers ---------------------------------------------------------------------------------

def check_ordered(model, estimator: str, ordered) -> None:
    """WLSMV needs every observed model variable ordered (no continuous + ordered mixtures yet)."""
    if estimator != "WLSMV":
        raise CSIError(f"ordered items need estimator WLSMV (got {estimator})",
                       hint="set estimator WLSMV, or leave `ordered` empty to treat the items as continuous.")
    if ordered is None or (isinstance(ordered, str) and ordered.lower() == "all"):
        return
    names = [ordered] if isinstance(ordered, str) else list(ordered)
    unknown = [v for v in names if v not in model.observed]
    if unknown:
        raise CSIError(f"ordered variable(s) not in the model: {', '.join(unknown)}",
                       hint=f"the model's observed variables are: {', '.join(model.observed)}.")
    rest = [v for v in model.observed if v not in names]
    if rest:
        raise CSIError("a model with both ordered and continuous observed variables is not supported with WLSMV "
                       f"yet (continuous: {', '.join(rest)})",
                       hint="declare every model item ordered (ordered: all), or use ML/MLR for all of them.")


def threshold_rows(model, w: WLSMV) -> list:
    """(lhs, "|", "t<m>", est, se, std_all) per threshold; std_all divides by sd(y*)."""
    sigma = model.implied(w.fit.x)[0]
    out, k = [], 0
    for j, name in enumerate(w.sample.names):
        sd = np.sqrt(sigma[j, j])
        for m, t in enumerate(w.sample.th[j]):
            out.append((name, "|", f"t{m + 1}", float(t), float(w.threshold_se[k]), float(t / sd)))
            k += 1
    return out


def add_thresholds(table, rows):
    """The parameter table with threshold rows after the (co)variances, before effects (":=")."""
    import pandas as pd

    t = pd.DataFrame(rows, columns=["lhs", "op", "rhs", "est", "se", "std_all"])
    with np.errstate(divide="ignore", invalid="ignore"):
        t["z"] = np.where(t["se"] > 0, t["est"] / t["se"], np.nan)
    t["pvalue"] = 2 * stats.norm.sf(np.abs(t["z"]))
    q = stats.norm.ppf(0.975)
    t["ci_lower"], t["ci_upper"] = t["est"] - q * t["se"], t["est"] + q * t["se"]
    order = table.attrs.get("layout_order")
    cut = int((table["op"] != ":=").sum())
    out = pd.concat([table.iloc[:cut], t[table.columns], table.iloc[cut:]], ignore_index=True)
    if order is not None:
        out.attrs["layout_order"] = order
    return out
