"""The data behind a fit: complete cases, missingness patterns with their sample statistics, the
saturated (h1) model by EM, Gamma (the asymptotic covariance of the sample covariances), and
the normal loglikelihood's derivatives in the moments h = (mu, vech Sigma).

vech is the lower triangle row by row (np.tril_indices); h-space derivatives take sigma_ij
(i >= j) as one parameter moving both triangles, as lavaan's (duplication-matrix) convention.
Information matrices are per observation (divided by N), as lavaan's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

LOG2PI = np.log(2 * np.pi)


def complete_cases(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return data[columns].apply(pd.to_numeric, errors="raise").dropna()


def used_rows(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Rows with at least one model variable observed (lavaan's missing = "ml" drops empty rows)."""
    d = data[columns].apply(pd.to_numeric, errors="raise")
    return d[d.notna().any(axis=1)]


def vech_index(p: int):
    """(rows, cols) of vech, and for each element its transposed position and off-diagonal flag."""
    r, c = np.tril_indices(p)
    return r, c, r * p + c, c * p + r, r != c


def dup(H: np.ndarray, p: int) -> np.ndarray:
    """D' H D: a (p^2 x p^2) matrix over ordered pairs (i, j) summed onto vech parameters."""
    _, _, u, t, off = vech_index(p)
    o = off.astype(float)
    return (H[np.ix_(u, u)] + o[:, None] * H[np.ix_(t, u)] + o[None, :] * H[np.ix_(u, t)]
            + np.outer(o, o) * H[np.ix_(t, t)])


def dup_cols(T: np.ndarray, p: int) -> np.ndarray:
    """T D for T with columns over ordered pairs (i, j)."""
    _, _, u, t, off = vech_index(p)
    return T[:, u] + off * T[:, t]


def gamma(X: np.ndarray, exo: list[int] | None = None) -> np.ndarray:
    """lavaan's Gamma (NACOV) of vech S from complete data, divisor N. With exogenous covariates
    (fixed.x) the products are of residuals from regressing the other variables on them."""
    X = np.asarray(X, float)
    n, p = X.shape
    r, c, *_ = vech_index(p)
    Xc = X - X.mean(axis=0)
    Z = Xc[:, r] * Xc[:, c]
    if exo:
        rest = [j for j in range(p) if j not in exo]
        D = np.column_stack([np.ones(n), X[:, exo]])
        Yhat = X.copy()
        Yhat[:, rest] = D @ np.linalg.lstsq(D, X[:, rest], rcond=None)[0]
        Yc = Yhat - Yhat.mean(axis=0)
        Z = Z - Yc[:, r] * Yc[:, c]
    Z = Z - Z.mean(axis=0)
    return Z.T @ Z / n


@dataclass
class _Group:
    """Patterns observing the same number k of variables, stacked."""
    ids: np.ndarray      # (P,) pattern numbers
    obs: np.ndarray      # (P, k) observed variables
    mis: np.ndarray      # (P, p - k) missing variables
    n: np.ndarray        # (P,) rows
    mean: np.ndarray     # (P, k)
    cov: np.ndarray      # (P, k, k), divisor n


class Patterns:
    """Rows grouped by which variables they observe (rows with none must be dropped first), with
    each pattern's count, mean and covariance of its observed variables."""

    def __init__(self, X: np.ndarray):
        X = np.asarray(X, float)
        self.X, (self.N, self.p) = X, X.shape
        observed = ~np.isnan(X)
        masks, self.row_pattern = np.unique(observed, axis=0, return_inverse=True)
        self.row_pattern = self.row_pattern.ravel()
        self.masks = masks
        order = np.argsort(self.row_pattern, kind="stable")
        counts = np.bincount(self.row_pattern, minlength=len(masks))
        self.rows = np.split(order, np.cumsum(counts)[:-1])
        self.groups = []
        self._cache = (None, None)             # _blocks at the last (mu, Sigma)
        sizes = masks.sum(axis=1)
        allv = np.arange(self.p)
        for k in np.unique(sizes):
            ids = np.nonzero(sizes == k)[0]
            obs = np.array([allv[masks[i]] for i in ids]).reshape(len(ids), k)
            mis = np.array([allv[~masks[i]] for i in ids]).reshape(len(ids), self.p - k)
            means, covs = [], []
            for i, o in zip(ids, obs):
                Y = X[np.ix_(self.rows[i], o)]
                m = Y.mean(axis=0)
                Yc = Y - m
                means.append(m)
                covs.append(Yc.T @ Yc / len(Y))
            self.groups.append(_Group(ids, obs, mis, counts[ids], np.array(means), np.array(covs)))

    # --- the normal loglikelihood over the patterns --------------------------------------------
    def _blocks(self, mu, sigma):
        """Per group: (inverse of Sigma_oo, log|Sigma_oo|, mean - mu_o); LinAlgError if Sigma is
        not positive definite. With few variables missing, the inverse and determinant come from
        Sigma's by the partitioned-inverse update: Sigma_oo^-1 = V_oo - V_om V_mm^-1 V_mo and
        |Sigma_oo| = |Sigma| |V_mm| (V = Sigma^-1)."""
        key = (mu.tobytes(), sigma.tobytes())
        if self._cache[0] == key:        # the gradient and the information at the same point
            return self._cache[1]
        L = np.linalg.cholesky(sigma)
        V = np.linalg.inv(sigma)
        logdet = 2 * np.log(np.diag(L)).sum()
        out = []
        for g in self.groups:
            P, k = g.obs.shape
            if k == self.p:
                Vo, ld = np.broadcast_to(V, (P, k, k)), np.full(P, logdet)
            elif self.p - k <= k:
                Vmm = V[g.mis[:, :, None], g.mis[:, None, :]]
                Vom = V[g.obs[:, :, None], g.mis[:, None, :]]
                Vo = V[g.obs[:, :, None], g.obs[:, None, :]] - Vom @ np.linalg.solve(Vmm, Vom.transpose(0, 2, 1))
                ld = logdet + np.linalg.slogdet(Vmm)[1]
            else:
                So = sigma[g.obs[:, :, None], g.obs[:, None, :]]
                Vo, ld = np.linalg.inv(So), np.linalg.slogdet(So)[1]
            out.append((Vo, ld, g.mean - mu[g.obs]))
        self._cache = (key, out)
        return out

    def loglik(self, mu, sigma) -> float:
        total = 0.0
        for g, (V, logdet, d) in zip(self.groups, self._blocks(mu, sigma)):
            k = g.obs.shape[1]
            quad = np.einsum("aij,aji->a", V, g.cov) + np.einsum("ai,aij,aj->a", d, V, d)
            total -= 0.5 * float(g.n @ (k * LOG2PI + logdet + quad))
        return total

    def fiml(self, mu, sigma):
        """F = -2 loglik / N (without 2 pi) and its derivatives: (F, Wf, g_mu) with
        dF = tr(Wf dSigma) + g_mu' dmu; None if Sigma is not positive definite."""
        try:
            blocks = self._blocks(mu, sigma)
        except np.linalg.LinAlgError:
            return None
        p, N = self.p, self.N
        f, Wf, g_mu = 0.0, np.zeros((p, p)), np.zeros(p)
        for g, (V, logdet, d) in zip(self.groups, blocks):
            Vd = np.einsum("aij,aj->ai", V, d)
            W = g.cov + d[:, :, None] * d[:, None, :]
            f += float(g.n @ (logdet + np.einsum("aij,aji->a", V, W)))
            VWV = V @ W @ V
            pairs = (g.obs[:, :, None] * p + g.obs[:, None, :]).ravel()
            Wf += np.bincount(pairs, (g.n[:, None, None] * (V - VWV)).ravel(), p * p).reshape(p, p)
            g_mu += np.bincount(g.obs.ravel(), (-2 * g.n[:, None] * Vd).ravel(), p)
        return f / N, Wf / N, g_mu / N

    def information(self, mu, sigma, observed: bool) -> np.ndarray:
        """Information in h = (mu, vech Sigma) per observation: expected (pattern-wise) or observed
        (minus the Hessian of the loglikelihood / N)."""
        p = self.p
        Vs, Qs, us, ns = [], [], [], []
        for g, (V, _, d) in zip(self.groups, self._blocks(mu, sigma)):
            Vs.append(_embed(g.obs, V, p))
            if observed:
                W = g.cov + d[:, :, None] * d[:, None, :]
                Qs.append(_embed(g.obs, 2 * V @ W @ V - V, p))
                us.append(_embed_vec(g.obs, np.einsum("aij,aj->ai", V, d), p))
            ns.append(g.n.astype(float))
        V, n = np.concatenate(Vs), np.concatenate(ns)
        Q = np.concatenate(Qs) if observed else V
        P = len(n)
        mm = np.einsum("a,aij->ij", n, V)
        # sigma-sigma: n/2 tr(E_ij V E_kl Q) = n/2 V[j,k] Q[l,i] for the unit matrices E
        K = ((0.5 * n)[:, None] * V.reshape(P, p * p)).T @ Q.reshape(P, p * p)
        ss = dup(K.reshape(p, p, p, p).transpose(3, 0, 1, 2).reshape(p * p, p * p), p)
        ms = np.zeros((p, len(ss)))
        if observed:   # mean-sigma: n V E_kl V d, i.e. n V[a,k] (V d)[l] (+ transposed pair)
            u = np.concatenate(us)
            T = (n[:, None] * V.reshape(P, p * p)).T @ u          # [(a, k), l]
            ms = dup_cols(T.reshape(p, p * p), p)
        return np.block([[mm, ms], [ms.T, ss]]) / self.N

    def scores(self, mu, sigma) -> np.ndarray:
        """Casewise gradients of the loglikelihood in h = (mu, vech Sigma): (N, p + p*), rows as X."""
        p = self.p
        r, c, _, _, off = vech_index(p)
        mult = np.where(off, 1.0, 0.5)
        out = np.zeros((self.N, p + len(r)))
        for g, (V, _, _) in zip(self.groups, self._blocks(mu, sigma)):
            local = np.concatenate([np.full(len(self.rows[i]), a) for a, i in enumerate(g.ids)])
            rows = np.concatenate([self.rows[i] for i in g.ids])
            obs = g.obs[local]                                        # (n, k)
            u = np.einsum("nk,nkj->nj", self.X[rows[:, None], obs] - mu[obs], V[local])
            ufull = np.zeros((len(rows), p))
            ufull[np.arange(len(rows))[:, None], obs] = u
            out[rows, :p] = ufull
            out[rows, p:] = mult * (ufull[:, r] * ufull[:, c] - _embed(g.obs, V, p)[:, r, c][local])
        return out

    # --- the saturated model ---------------------------------------------------------------------
    def em(self, tol: float = 1e-10, max_iter: int = 10000):
        """ML mean and covariance by EM (lavaan's start: available-case means, diagonal variances).
        Returns (mu, sigma, iterations)."""
        p, N = self.p, self.N
        mu = np.nanmean(self.X, axis=0)
        var = np.nanmean((self.X - mu) ** 2, axis=0)
        sigma = np.diag(np.where(np.isfinite(var) & (var > 0), var, 1.0))
        it = 0
        for it in range(1, max_iter + 1):
            T1, T2 = np.zeros(p), np.zeros((p, p))
            for g in self.groups:
                P, k = g.obs.shape
                ar = np.arange(P)
                if k == p:
                    y, M2 = g.mean, g.cov + g.mean[:, :, None] * g.mean[:, None, :]
                    perm = g.obs
                else:
                    So = sigma[g.obs[:, :, None], g.obs[:, None, :]]
                    Smo = sigma[g.mis[:, :, None], g.obs[:, None, :]]
                    B = np.linalg.solve(So, Smo.transpose(0, 2, 1)).transpose(0, 2, 1)   # (P, m, k)
                    m = mu[g.mis] + np.einsum("amk,ak->am", B, g.mean - mu[g.obs])
                    C = sigma[g.mis[:, :, None], g.mis[:, None, :]] - B @ Smo.transpose(0, 2, 1)
                    BS = B @ g.cov
                    y = np.concatenate([g.mean, m], axis=1)
                    M2 = np.block([[g.cov, BS.transpose(0, 2, 1)],
                                   [BS, BS @ B.transpose(0, 2, 1) + C]]) + y[:, :, None] * y[:, None, :]
                    perm = np.concatenate([g.obs, g.mis], axis=1)
                yf = np.empty((P, p))
                yf[ar[:, None], perm] = y
                Mf = np.empty((P, p, p))
                Mf[ar[:, None, None], perm[:, :, None], perm[:, None, :]] = M2
                T1 += g.n @ yf
                T2 += np.einsum("a,aij->ij", g.n.astype(float), Mf)
            mu_new = T1 / N
            sigma_new = T2 / N - np.outer(mu_new, mu_new)
            change = max(np.max(np.abs(mu_new - mu)), np.max(np.abs(sigma_new - sigma)))
            mu, sigma = mu_new, (sigma_new + sigma_new.T) / 2
            if change < tol * max(1.0, float(np.max(np.abs(sigma)))):
                break
        return mu, sigma, it

    def pairwise(self):
        """lavaan's "sample" moments under missing = "ml" (used by its GFI): available-case means
        and pairwise-complete covariances (divisor n_ij - 1), rescaled by (N - 1) / N."""
        X, p = self.X, self.p
        seen = ~np.isnan(X)
        Z = np.where(seen, X, 0.0)
        cov = np.empty((p, p))
        for i in range(p):
            both = seen[:, i:i + 1] & seen[:, i:]
            n = both.sum(axis=0)
            mi = (Z[:, i:i + 1] * both).sum(axis=0) / n
            mj = (Z[:, i:] * both).sum(axis=0) / n
            cov[i, i:] = ((Z[:, i:i + 1] - mi) * (Z[:, i:] - mj) * both).sum(axis=0) / (n - 1)
            cov[i:, i] = cov[i, i:]
        return np.nanmean(X, axis=0), cov * (self.N - 1) / self.N

    def available(self):
        """Each variable's mean and variance (divisor count) over the rows observing it: the ML
        estimates of the independence model under FIML."""
        mu = np.nanmean(self.X, axis=0)
        return mu, np.nanmean((self.X - mu) ** 2, axis=0)


def _embed(obs: np.ndarray, M: np.ndarray, p: int) -> np.ndarray:
    """(P, k, k) blocks on the observed variables -> (P, p, p), zeros elsewhere."""
    P = len(obs)
    out = np.zeros((P, p, p))
    out[np.arange(P)[:, None, None], obs[:, :, None], obs[:, None, :]] = M
    return out


def _embed_vec(obs: np.ndarray, v: np.ndarray, p: int) -> np.ndarray:
    out = np.zeros((len(obs), p))
    out[np.arange(len(obs))[:, None], obs] = v
    return out
