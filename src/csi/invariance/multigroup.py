"""A joint, constrained multigroup ML fit with a mean structure, and its inference (ML, MLM, MLR).

    F = sum_g (n_g / N) [log|Sigma_g| + tr((S_g + r_g r_g') Sigma_g^-1) - log|S_g| - p],
    r_g = ybar_g - mu_g,  mu_g = nu_g + Lambda_g C_g alpha_g

Each group has local parameters [cov (q) | nu (p) | alpha (latents)]; `index` maps them onto
the global vector (shared entries are equality constraints, -1 a fixed zero). configural:
everything free per group (intercepts free, latent means 0); metric: loadings equal; scalar:
loadings and intercepts equal, latent means free except in the first group. `free` releases
constraints in all groups (lavaan's group.partial); `split` releases one constraint row (one
group's copy of a parameter: what lavTestScore's univariate test releases).

Inference as lavaan 0.6 (complete data, meanstructure, h = (mu, vech Sigma) per group):
- ML: the expected information E = sum_g f_g Delta_g' W_g Delta_g (f_g = n_g / N, W_g the normal
  information at the model), vcov = E^-1 / N.
- MLM: vcov = E^-1 (sum_g f_g Delta_g' W_g Gamma_g W_g Delta_g) E^-1 / N with Gamma_g the
  asymptotic covariance of (ybar, vech S) (means included); Satorra-Bentler trace
  sum_g [tr(W_g Gamma_g) - f_g tr(W_g Delta_g E^-1 Delta_g' W_g Gamma_g)] (lavaan's
  lav_test_satorra_bentler_trace_original).
- MLR: A the observed information (Hessian of F / 2), B0 = sum_g f_g Delta_g' B1_g Delta_g with
  B1_g the mean outer product of the casewise scores at the model, vcov = A^-1 B0 A^-1 / N;
  Yuan-Bentler "mplus" trace sum_g tr(A1_g^-1 B1_g) - tr(A^-1 B0), A1_g and B1_g at the
  sample moments (lav_test_yuan_bentler_mplus_trace).
The baseline (independence) model has free means and variances per group.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from .. import sem
from ..sem.measures import _cfi, _rmsea, _tli, robust_measures
from ..sem.robust import _baseline_delta, _outer, _ratio, normal_information
from ..sem.sample import Patterns, vech_index

ESTIMATORS = ("ML", "MLR", "MLM")


@dataclass
class Group:
    name: str
    model: sem.Model
    n: int
    S: np.ndarray
    mean: np.ndarray
    X: np.ndarray
    x0: np.ndarray | None = None    # the group's own covariance-structure fit (start values)


def gamma_means(X: np.ndarray) -> np.ndarray:
    """Asymptotic covariance (divisor N) of (ybar, vech S): lavaan's NACOV with a mean structure."""
    n, p = X.shape
    r, c = np.tril_indices(p)
    Xc = X - X.mean(axis=0)
    Z = np.hstack([Xc, Xc[:, r] * Xc[:, c]])
    Z = Z - Z.mean(axis=0)
    return Z.T @ Z / n


class MultiGroup:
    def __init__(self, description: str, data: pd.DataFrame, group: str, equal: set[str],
                 free=(), split=None):
        probe = sem.Model(description, data)
        cols = probe.observed
        self.groups = []
        for name in pd.unique(data[group].dropna()):   # lavaan's order: first appearance
            d = sem.complete_cases(data[data[group] == name], cols)
            if len(d) <= len(cols):
                from ..errors import CSIError

                raise CSIError(f"group {name!r} of {group!r} has {len(d)} respondent(s) who answered every model "
                               f"item, for {len(cols)} items: its covariance matrix cannot be estimated",
                               column=group, value=name,
                               hint="invariance is tested on complete cases: check which items this group skips "
                                    "(routed questions?) and leave them out of the model, or merge or drop the group.")
            m = sem.Model(description, d)
            if m.observed != cols or m.locations != probe.locations:
                raise ValueError(f"group {name!r}: the model does not have the same structure")
            X = d.to_numpy(float)
            self.groups.append(Group(str(name), m, len(X), sem.sample_cov(X), X.mean(axis=0), X))
        self.N = sum(g.n for g in self.groups)
        self.p, self.q, self.m = probe.p, len(probe.start), probe.m
        self.observed, self.inner = probe.observed, probe.inner
        self.latent = probe.latent
        self.latent_idx = [probe.inner.index(v) for v in probe.latent]
        self.loading = np.array([any(k == 1 for k, *_ in locs) for locs in probe.locations])
        # labels of the parameters group.equal can constrain, lavaan style
        self.labels = {}
        for k, locs in enumerate(probe.locations):
            lam = [(i, j) for kk, i, j, _ in locs if kk == 1]
            if lam:
                i, j = lam[0]
                self.labels[("cov", k)] = f"{self.inner[j]}=~{self.observed[i]}"
        for j, v in enumerate(self.observed):
            self.labels[("nu", j)] = f"{v}~1"
        # indicators of each latent variable (markers included): intercept identification
        lam = probe.templates[1] != 0
        for k, locs in enumerate(probe.locations):
            for kk, i, j, _ in locs:
                if kk == 1:
                    lam[i, j] = True
        self.indicators = {v: [i for i in range(self.p) if lam[i, self.inner.index(v)]] for v in self.latent}
        self._index(set(equal), frozenset(free), split)

    # --- parameterization ---------------------------------------------------------------------
    def _index(self, equal, free, split):
        """Global index of each group's local parameters [cov (q) | nu (p) | alpha (latents)]."""
        self.equal, self.free, self.split = equal, free, split
        n_lat = len(self.latent_idx)
        self.index, shared = [], {}
        counter = iter(range(10**9))

        def param(key, gi, constrained: bool) -> int:
            if not constrained or key in free or split == (key, gi):
                return next(counter)
            if key not in shared:
                shared[key] = next(counter)
            return shared[key]

        for gi, _ in enumerate(self.groups):
            idx = [param(("cov", k), gi, bool(self.loading[k]) and "loadings" in equal) for k in range(self.q)]
            idx += [param(("nu", k), gi, "intercepts" in equal) for k in range(self.p)]
            # latent means: free only under equal intercepts, and not in the first group
            idx += [next(counter) if "intercepts" in equal and gi > 0 else -1 for _ in range(n_lat)]
            self.index.append(np.array(idx))
        self.npar = next(counter)

    def relabel(self, equal=None, free=(), split=None) -> "MultiGroup":
        """The same groups under other constraints (no refitting of the groups' models)."""
        out = copy.copy(self)
        out._index(set(self.equal if equal is None else equal), frozenset(free), split)
        return out

    def constrained(self, kind: str) -> list:
        """Keys of the parameters held equal across groups, of kind "loadings" or "intercepts"."""
        if kind not in self.equal:
            return []
        keys = [("cov", k) for k in range(self.q) if self.loading[k]] if kind == "loadings" else \
            [("nu", j) for j in range(self.p)]
        return [k for k in keys if k not in self.free]

    def local(self, theta, gi):
        idx = self.index[gi]
        return np.where(idx >= 0, theta[np.maximum(idx, 0)], 0.0)

    def mapping(self, gi) -> np.ndarray:
        """d local / d theta of group gi (0/1)."""
        idx = self.index[gi]
        M = np.zeros((len(idx), self.npar))
        ok = np.nonzero(idx >= 0)[0]
        M[ok, idx[ok]] = 1.0
        return M

    def alpha_position(self, gi, l) -> int:
        return int(self.index[gi][self.q + self.p + l])

    # --- the fit ----------------------------------------------------------------------------------
    def start(self) -> np.ndarray:
        total, count = np.zeros(self.npar), np.zeros(self.npar)
        for g, idx in zip(self.groups, self.index):
            if g.x0 is None:
                g.x0 = g.model.fit(g.S).x
            local = np.concatenate([g.x0, g.mean, np.zeros(len(self.latent_idx))])
            ok = idx >= 0
            np.add.at(total, idx[ok], local[ok])
            np.add.at(count, idx[ok], 1)
        return total / np.maximum(count, 1)

    def _group_fg(self, g: Group, local: np.ndarray):
        """F_g and its gradient with respect to the group's local parameters."""
        model, q, p = g.model, self.q, self.p
        x, nu = local[:q], local[q:q + p]
        alpha = np.zeros(self.m)
        alpha[self.latent_idx] = local[q + p:]
        sigma, pt = model.implied(x)
        try:
            np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf, None
        V = np.linalg.inv(sigma)
        A, C, L = pt["A"], pt["C"], pt["L"]
        ca = C @ alpha
        r = g.mean - nu - L @ ca
        S_eff = g.S + np.outer(r, r)
        VS = V @ S_eff
        f = np.linalg.slogdet(sigma)[1] + np.trace(VS) - np.linalg.slogdet(g.S)[1] - p
        W = V - VS @ V
        R = pt["M"] @ L.T
        vr = V @ r
        grads = (2 * A.T @ W @ R.T - 2 * np.outer(A.T @ vr, ca),   # B
                 2 * W @ R.T - 2 * np.outer(vr, ca),               # Lambda
                 A.T @ W @ A,                                      # Psi
                 W)                                                # Theta
        gx = np.zeros(q)
        for G, (rr, cc, i) in zip(grads, model._flat):
            if len(i):
                gx += np.bincount(i, weights=G[rr, cc], minlength=q)
        g_nu = -2 * vr
        g_alpha = (-2 * A.T @ vr)[self.latent_idx]
        return f, np.concatenate([gx, g_nu, g_alpha])

    def objective(self, theta):
        F, grad = 0.0, np.zeros(self.npar)
        for gi, (g, idx) in enumerate(zip(self.groups, self.index)):
            f, gl = self._group_fg(g, self.local(theta, gi))
            if gl is None:
                return np.inf, np.zeros(self.npar)
            w = g.n / self.N
            F += w * f
            ok = idx >= 0
            np.add.at(grad, idx[ok], w * gl[ok])
        return F, grad

    def fit(self, start=None):
        theta0 = self.start() if start is None else start
        res = optimize.minimize(self.objective, theta0, jac=True, method="BFGS",
                                options={"gtol": 1e-10, "maxiter": 5000})
        theta = res.x
        # polish: BFGS may stop on a line-search failure near the optimum; try once more
        F, grad = self.objective(theta)
        if np.max(np.abs(grad)) >= sem.GRAD_TOL:
            res = optimize.minimize(self.objective, theta, jac=True, method="L-BFGS-B",
                                    options={"gtol": 1e-12, "ftol": 1e-15, "maxiter": 5000})
            theta = res.x
            F, grad = self.objective(theta)
        return theta, F, float(np.max(np.abs(grad)))

    # --- measures ---------------------------------------------------------------------------------
    def df(self) -> int:
        return len(self.groups) * (self.p * (self.p + 1) // 2 + self.p) - self.npar

    def baseline(self):
        """Chi-square and df of the independence model (free means and variances per group)."""
        chisq_b = sum(g.n * (np.log(np.diag(g.S)).sum() - np.linalg.slogdet(g.S)[1]) for g in self.groups)
        return float(chisq_b), len(self.groups) * self.p * (self.p - 1) // 2

    def measures(self, theta, F, gnorm) -> dict:
        G, p, N = len(self.groups), self.p, self.N
        chisq = N * F
        df = self.df()
        chisq_b, df_b = self.baseline()
        cfi, tli = _cfi(chisq, df, chisq_b, df_b), _tli(chisq, df, chisq_b, df_b)
        rmsea = np.sqrt(G) * _rmsea(chisq, df, N)
        srmr, logl = 0.0, 0.0
        for gi, g in enumerate(self.groups):
            mu, sigma = self.moments(theta, gi)[:2]
            sd = np.sqrt(np.diag(g.S))
            res_cov = ((g.S - sigma) / np.outer(sd, sd))[np.tril_indices(p)]
            res_mean = (g.mean - mu) / sd
            srmr += g.n / N * np.sqrt((np.sum(res_cov ** 2) + np.sum(res_mean ** 2)) / (p * (p + 1) / 2 + p))
            V = np.linalg.inv(sigma)
            r = g.mean - mu
            logl += -0.5 * g.n * (p * np.log(2 * np.pi) + np.linalg.slogdet(sigma)[1] + np.trace(g.S @ V) + r @ V @ r)
        return {"npar": self.npar, "chisq": chisq, "df": df, "pvalue": float(stats.chi2.sf(chisq, df)),
                "cfi": cfi, "tli": tli, "rmsea": rmsea, "srmr": srmr,
                "aic": -2 * logl + 2 * self.npar, "bic": -2 * logl + self.npar * np.log(N),
                "loglik": logl, "converged": bool(gnorm < sem.GRAD_TOL), "max_gradient": gnorm,
                "groups": G, "n": N}

    # --- derivatives and information -------------------------------------------------------------
    def moments(self, theta, gi):
        """mu_g, Sigma_g, the parts of implied(), and alpha (all inner variables) of group gi."""
        local = self.local(theta, gi)
        q, p = self.q, self.p
        alpha = np.zeros(self.m)
        alpha[self.latent_idx] = local[q + p:]
        sigma, pt = self.groups[gi].model.implied(local[:q])
        return local[q:q + p] + pt["A"] @ alpha, sigma, pt, alpha

    def delta_local(self, theta, gi):
        """d (mu, vech Sigma) / d local parameters of group gi, with mu and Sigma."""
        model, q, p = self.groups[gi].model, self.q, self.p
        mu, sigma, pt, alpha = self.moments(theta, gi)
        r, c, *_ = vech_index(p)
        D = np.zeros((p + len(r), q + p + len(self.latent_idx)))
        D[p:, :q] = model.dsigma(self.local(theta, gi)[:q], pt)[:, r, c].T
        A, ca = pt["A"], pt["C"] @ alpha
        i, j, k = model._flat[1]                 # Lambda[i, j]: d mu_i = (C alpha)_j
        np.add.at(D, (i, k), ca[j])
        for ii, jj, kk in zip(*model._flat[0]):  # B[i, j]: d mu = A[:, i] (C alpha)_j
            D[:p, kk] += A[:, ii] * ca[jj]
        D[:p, q:q + p] = np.eye(p)
        D[:p, q + p:] = A[:, self.latent_idx]
        return D, mu, sigma

    def weight(self, gi) -> float:
        return self.groups[gi].n / self.N

    def observed_information(self, theta) -> np.ndarray:
        """Hessian of F / 2: central differences of the analytic gradient."""
        H = np.empty((self.npar, self.npar))
        for k in range(self.npar):
            h = 1e-6 * max(1.0, abs(theta[k]))
            e = np.zeros(self.npar)
            e[k] = h
            H[k] = (self.objective(theta + e)[1] - self.objective(theta - e)[1]) / (2 * h)
        return (H + H.T) / 4

    def inference(self, theta, estimator: str):
        """(vcov of theta, scaling factor c of the model, c of the baseline); c None under ML."""
        N, p = self.N, self.p
        df, (_, df_b) = self.df(), self.baseline()
        Db = _baseline_delta(p, [], True)
        parts = []
        for gi, g in enumerate(self.groups):
            Dl, mu, sigma = self.delta_local(theta, gi)
            parts.append((self.weight(gi), Dl @ self.mapping(gi), mu, sigma))
        if estimator == "ML":
            E = sum(f * D.T @ normal_information(s) @ D for f, D, _, s in parts)
            return np.linalg.inv(E) / N, None, None
        if estimator == "MLM":
            Ws = [normal_information(s) for *_, s in parts]
            E = sum(f * D.T @ W @ D for (f, D, _, _), W in zip(parts, Ws))
            Ei = np.linalg.inv(E)
            meat, tr, tr_b = np.zeros_like(E), 0.0, 0.0
            for (f, D, _, _), W, g in zip(parts, Ws, self.groups):
                Gm = gamma_means(g.X)
                WD = W @ D
                meat += f * WD.T @ Gm @ WD
                tr += np.sum(W * Gm) - f * np.sum((WD @ Ei @ WD.T) * Gm)
                Wb = normal_information(np.diag(np.diag(g.S)))
                WDb = Wb @ Db
                Ub = Wb - WDb @ np.linalg.solve(Db.T @ WDb, WDb.T)
                tr_b += np.sum(Ub * Gm)
            return Ei @ meat @ Ei / N, _ratio(tr, df), _ratio(tr_b, df_b)
        if estimator == "MLR":
            Ai = np.linalg.inv(self.observed_information(theta))
            B0, tr_h1, tr_b = np.zeros((self.npar, self.npar)), 0.0, 0.0
            for (f, D, mu, sigma), g in zip(parts, self.groups):
                pats = Patterns(g.X)
                B0 += f * D.T @ _outer(pats.scores(mu, sigma)) @ D
                A1 = normal_information(g.S)          # observed = expected at the sample moments
                tr_h1 += float(np.sum(np.linalg.inv(A1) * _outer(pats.scores(g.mean, g.S))))
                Sb = np.diag(np.diag(g.S))
                Ab = Db.T @ pats.information(g.mean, Sb, observed=True) @ Db
                tr_b += float(np.sum(np.linalg.inv(Ab) * _outer(pats.scores(g.mean, Sb), Db)))
            return Ai @ B0 @ Ai / N, _ratio(tr_h1 - np.sum(Ai * B0), df), _ratio(tr_h1 - tr_b, df_b)
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")

    def robust_measures(self, m: dict, c, c_b) -> dict:
        """lavaan's chisq.scaled, its scaling factor and p, and cfi/tli/rmsea.robust (the RMSEA
        of G groups times sqrt(G), as lav_fit_rmsea)."""
        chisq_b, df_b = self.baseline()
        r = robust_measures({**m, "baseline_chisq": chisq_b, "baseline_df": df_b}, c, c_b)
        out = {k: r[k] for k in ("chisq_scaled", "chisq_scaling_factor", "pvalue_scaled", "cfi_robust",
                                 "tli_robust", "rmsea_robust")}
        out["rmsea_robust"] *= np.sqrt(len(self.groups))
        return out

    # --- score tests --------------------------------------------------------------------------------
    def score_pieces(self, theta):
        """Per group: (f_g times the local gradient of F_g / 2, f_g times the local expected
        information): the score and information of the model without any constraint."""
        out = []
        for gi, g in enumerate(self.groups):
            f = self.weight(gi)
            gl = self._group_fg(g, self.local(theta, gi))[1]
            Dl, _, sigma = self.delta_local(theta, gi)
            out.append((f * gl / 2, f * Dl.T @ normal_information(sigma) @ Dl))
        return out

    def score_statistic(self, pieces) -> float:
        """N s' I^-1 s of this parameterization, from the unconstrained pieces (lavTestScore)."""
        s, I = np.zeros(self.npar), np.zeros((self.npar, self.npar))
        for gi, (sg, Ig) in enumerate(pieces):
            M = self.mapping(gi)
            s += M.T @ sg
            I += M.T @ Ig @ M
        return float(self.N * s @ np.linalg.solve(I, s))
