"""Sample statistics of ordered items: thresholds, polychoric correlations (two-step ML) and
lavaan's Gamma (NACOV), listwise or pairwise."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import special, stats

from ...errors import CSIError
from .bivariate import _phi, bvn_cdf, bvn_pdf

# --- sample statistics: thresholds, polychorics, Gamma ----------------------------------------------

def thresholds(codes: np.ndarray, K: int) -> np.ndarray:
    prop = np.bincount(codes, minlength=K) / len(codes)
    return stats.norm.ppf(np.cumsum(prop)[:-1])


def _two_by_two(freq):
    """lavaan's special cases of a 2 x 2 table: the correlation (+-1, 0) or None, and the table
    with zero.add = 0.5 keeping the margins when one cell is empty."""
    zero = np.flatnonzero(freq.ravel() == 0)
    if len(zero) == 2:
        return (1.0 if freq[0, 0] > 0 else -1.0), freq
    if len(zero) == 1:
        sgn = 1.0 if zero[0] in (0, 3) else -1.0
        freq = freq + sgn * 0.5 * np.array([[1.0, -1.0], [-1.0, 1.0]])
    if freq[0, 0] * freq[1, 1] == freq[0, 1] * freq[1, 0]:
        return 0.0, freq
    return None, freq


def _padded(ths, K):
    """Thresholds of many items as rows of (-inf, t1, ..., +inf, +inf ...) of length K + 1."""
    out = np.full((len(ths), K + 1), np.inf)
    out[:, 0] = -np.inf
    for q, t in enumerate(ths):
        out[q, 1:len(t) + 1] = t
    return out


def _cells(A, B, rho):
    """Cell probabilities P and dP/drho of many tables: A (Q, K1 + 1), B (Q, K2 + 1), rho (Q,)."""
    a, b = A[:, :, None], B[:, None, :]
    r = rho[:, None, None]
    F = bvn_cdf(a, b, r)
    f = bvn_pdf(a, b, r)
    P = F[:, 1:, 1:] - F[:, :-1, 1:] - F[:, 1:, :-1] + F[:, :-1, :-1]
    dR = f[:, 1:, 1:] - f[:, :-1, 1:] - f[:, 1:, :-1] + f[:, :-1, :-1]
    return P, dR


def polychorics(freqs, tas, tbs, tol: float = 1e-11, max_iter: int = 200, start=None) -> np.ndarray:
    """Two-step ML polychoric correlations of many two-way tables at once (freqs[q] of shape
    (len(tas[q]) + 1, len(tbs[q]) + 1), thresholds fixed): Fisher scoring with step halving on
    each table's bivariate-normal log-likelihood, within (-0.999, 0.999) as lavaan's bounds;
    `start`: starting values (a bootstrap draw: the full sample's correlations), else 0."""
    Q = len(freqs)
    K1 = max(len(t) for t in tas) + 1
    K2 = max(len(t) for t in tbs) + 1
    F = np.zeros((Q, K1, K2))
    out = np.full(Q, np.nan)
    todo = np.ones(Q, bool)
    for q, f in enumerate(freqs):
        if f.shape == (2, 2):
            fixed, f = _two_by_two(np.asarray(f, float))
            if fixed is not None:
                out[q], todo[q] = fixed, False
        F[q, :f.shape[0], :f.shape[1]] = f
    A, B = _padded(tas, K1), _padded(tbs, K2)
    idx = np.flatnonzero(todo)
    if not len(idx):
        return out
    A, B, F = A[idx], B[idx], F[idx]
    n = F.sum(axis=(1, 2))
    rho = np.zeros(len(idx)) if start is None else np.clip(np.asarray(start, float)[idx], -0.99, 0.99)

    ll = _sub_loglik(A, B, F, rho)
    active = np.ones(len(idx), bool)
    for _ in range(max_iter):
        P, dR = _cells(A[active], B[active], rho[active])
        with np.errstate(divide="ignore", invalid="ignore"):
            ok = P > 0
            score = np.sum(np.where(ok, F[active] * dR / np.where(ok, P, 1.0), 0.0), axis=(1, 2))
            info = n[active] * np.sum(np.where(ok, dR * dR / np.where(ok, P, 1.0), 0.0), axis=(1, 2))
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(info > 0, score / np.where(info > 0, info, 1.0), 0.0)
        t = np.ones(len(step))
        ids = np.flatnonzero(active)
        new = np.clip(rho[ids] + step, -0.999, 0.999)
        ll_new = np.full(len(ids), -np.inf)
        pending = np.ones(len(ids), bool)
        for _h in range(30):                     # step halving where the likelihood drops
            sel = np.flatnonzero(pending)
            ll_new[sel] = _sub_loglik(A[ids[sel]], B[ids[sel]], F[ids[sel]], new[sel])
            pending[sel] = ll_new[sel] < ll[ids[sel]] - 1e-12 * np.abs(ll[ids[sel]])
            if not pending.any():
                break
            t[pending] /= 2
            new[pending] = np.clip(rho[ids[pending]] + t[pending] * step[pending], -0.999, 0.999)
        moved = np.abs(new - rho[ids])
        rho[ids], ll[ids] = new, np.maximum(ll_new, ll[ids])
        done = (moved < tol) | (np.abs(new) == 0.999) & (moved < 1e-8)
        active[ids[done]] = False
        if not active.any():
            break
    out[idx] = rho
    return out


def _sub_loglik(A, B, F, r):
    P = _cells(A, B, r)[0]
    return np.sum(np.where(F > 0, F * np.log(np.clip(P, 1e-300, None)), 0.0), axis=(1, 2))


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


def ordinal_sample(X: np.ndarray, names: list, nacov: bool | str = True, start=None) -> OrdinalSample:
    """Thresholds, polychoric correlations and (nacov) lavaan's Gamma of data X. Blank cells (NaN)
    are handled as lavaan's missing = "pairwise": each threshold from the rows answering its item,
    each correlation from the rows answering both items, and in Gamma the scores of an unanswered
    item (or pair) are zero, over all N rows. nacov = "diag": only the diagonal of Gamma's
    correlation block (the DWLS weights), as `gamma` (a vector). start: a correlation matrix to
    start the polychoric estimates from."""
    X = np.asarray(X, float)
    n, p = X.shape
    codes, values, th = [], [], []
    for j in range(p):
        seen = ~np.isnan(X[:, j])
        v = np.unique(X[seen, j])
        if len(v) < 2:
            raise CSIError(f"item {names[j]} has one answer only: no thresholds or polychoric correlations",
                           hint="leave the item out of the model.")
        c = np.full(n, -1, int)
        c[seen] = np.searchsorted(v, X[seen, j])
        codes.append(c), values.append(v), th.append(thresholds(c[seen], len(v)))
    rows, cols = _pairs(p)
    R = np.eye(p)
    tables = _tables(codes, [len(v) for v in values], rows, cols)
    R[rows, cols] = R[cols, rows] = polychorics(tables, [th[j] for j in cols], [th[i] for i in rows],
                                                start=None if start is None else start[rows, cols])
    th_names = [f"{names[j]}|t{m + 1}" for j in range(p) for m in range(len(th[j]))]
    out = OrdinalSample(names, values, th, R, np.empty((0, 0)), n, th_names)
    if nacov:
        with np.errstate(divide="ignore", invalid="ignore"):
            out.gamma = _gamma(codes, th, R, n, diag_only=nacov == "diag", tables=tables)
        if nacov != "diag" and not np.isfinite(out.gamma).all():
            _at_bound(R, names, codes, values)
    return out


def _at_bound(R, names, codes, values):
    """Raise the error of a correlation at lavaan's bound (+-0.999), which leaves its weight
    undefined: name the pairs and the rare answers that cause it."""
    i, j = np.nonzero(np.triu(np.abs(R) >= 0.999, 1))
    if not len(i):
        raise CSIError("the weights of the polychoric correlations are undefined (an empty two-way table)",
                       hint="answers given by very few respondents leave empty cells in the items' cross-tables: "
                            "pool rare answers in the codebook, analyse a larger group, or use --estimator MLR.")
    pairs = [f"{names[a]} and {names[b]} ({R[a, b]:+.3f})" for a, b in zip(i, j)]

    def rare(k):
        counts = np.bincount(codes[k][codes[k] >= 0], minlength=len(values[k]))
        m = int(np.argmin(counts))
        return f"{names[k]} = {values[k][m]:g} given by {counts[m]}"
    items = sorted(set(i) | set(j))
    raise CSIError(f"the polychoric correlation of {'; '.join(pairs[:5])} is at the bound of ±1, so WLSMV has no "
                   f"weight for it; the rarest answers: {'; '.join(rare(k) for k in items[:6])}",
                   hint="answers given by very few respondents leave empty cells in the two items' cross-table. "
                        "Pool the rare answer with its neighbour in the codebook (scales: one code for both), "
                        "analyse a larger group, or use --estimator MLR.")


def _tables(codes, K, rows, cols):
    """The two-way frequency tables of the pairs (y1 = cols[q], y2 = rows[q]), answered by both."""
    out = []
    for i, j in zip(rows, cols):
        both = (codes[i] >= 0) & (codes[j] >= 0)
        out.append(np.bincount(codes[j][both] * K[i] + codes[i][both], minlength=K[j] * K[i])
                   .reshape(K[j], K[i]).astype(float))
    return out


def _gamma(codes, th, R, n, diag_only: bool = False, tables=None):
    """lavaan's NACOV (muthen1984 step 3): N B^-1 INNER B^-T = N Z'Z with Z = SC B^-T, SC the
    casewise scores (codes -1: not answered, score 0). diag_only: the diagonal of the correlation
    block only (the DWLS weights). tables: the pairs' two-way tables (_tables), if made already."""
    p = len(codes)
    start = np.concatenate([[0], np.cumsum([len(t) for t in th])])
    nth = int(start[-1])
    rows, cols = _pairs(p)
    pstar = len(rows)
    sc_th = np.zeros((n, nth))
    for j in range(p):
        t = np.concatenate([[-np.inf], th[j], [np.inf]])
        prob = np.diff(special.ndtr(t))
        dens = _phi(th[j])
        c = codes[j]
        for m in range(len(th[j])):
            sc_th[:, start[j] + m] = ((c == m) * dens[m] - (c == m + 1) * dens[m]) / prob[c]
    # all pairs at once (y1 = cols[q], y2 = rows[q]), thresholds padded with +inf
    K = [len(t) + 1 for t in th]
    K1, K2 = max(K[j] for j in cols), max(K[i] for i in rows)
    A = _padded([th[j] for j in cols], K1)
    B = _padded([th[i] for i in rows], K2)
    rho = R[rows, cols]
    P, dR = _cells(A, B, rho)
    with np.errstate(divide="ignore", invalid="ignore"):
        S = np.where(P > 0, dR / np.where(P > 0, P, 1.0), 0.0)        # d log P / d rho per cell
    C = np.column_stack(codes)
    both = (C[:, rows] >= 0) & (C[:, cols] >= 0)
    q = np.arange(pstar)[None, :]
    sc_cor = np.where(both, S[q, np.maximum(C[:, cols], 0), np.maximum(C[:, rows], 0)], 0.0)
    freq = np.zeros((pstar, K1, K2))
    if tables is None:
        tables = _tables(codes, K, rows, cols)
    for k, f in enumerate(tables):
        freq[k, :f.shape[0], :f.shape[1]] = f
    with np.errstate(divide="ignore", invalid="ignore"):
        Wt = np.where(P > 0, freq * S / np.where(P > 0, P, 1.0), 0.0)   # sum over rows of s dP/P
    s_ = np.sqrt(1 - rho * rho)[:, None, None]
    # d F(a_m, b_l) / d a_m = phi(a_m) Phi((b_l - rho a_m) / s); a_m bounds categories m and m + 1
    am, bm = A[:, 1:-1], B[:, 1:-1]
    with np.errstate(invalid="ignore"):
        ga = _phi(am)[:, :, None] * special.ndtr((B[:, None, :] - rho[:, None, None] * am[:, :, None]) / s_)
        gb = _phi(bm)[:, :, None] * special.ndtr((A[:, None, :] - rho[:, None, None] * bm[:, :, None]) / s_)
    ga, gb = np.nan_to_num(ga), np.nan_to_num(gb)
    da = ga[:, :, 1:] - ga[:, :, :-1]                 # (Q, K1 - 1, K2): d P[m, l] / d a_m
    db = gb[:, :, 1:] - gb[:, :, :-1]                 # (Q, K2 - 1, K1): d P[k, m] / d b_m
    a21a = np.sum((Wt[:, :-1, :] - Wt[:, 1:, :]) * da, axis=2)             # (Q, K1 - 1)
    a21b = np.sum((Wt[:, :, :-1] - Wt[:, :, 1:]).transpose(0, 2, 1) * db, axis=2)   # (Q, K2 - 1)
    A21 = np.zeros((pstar, nth))
    for k, (i, j) in enumerate(zip(rows, cols)):
        A21[k, start[j]:start[j + 1]] = a21a[k, :K[j] - 1]
        A21[k, start[i]:start[i + 1]] = a21b[k, :K[i] - 1]
    A11i = np.zeros((nth, nth))
    for j in range(p):
        b = slice(start[j], start[j + 1])
        A11i[b, b] = np.linalg.inv(sc_th[:, b].T @ sc_th[:, b])
    a22 = np.sum(sc_cor ** 2, axis=0)
    # Z = SC B^-T: threshold columns SC_th A11^-1; correlation columns (sc_cor - SC_th A11^-1 A21') / a22
    Zth = sc_th @ A11i
    Zcor = (sc_cor - Zth @ A21.T) / a22
    if diag_only:
        return n * np.sum(Zcor ** 2, axis=0)
    Z = np.hstack([Zth, Zcor])
    return n * Z.T @ Z
