"""Maximum-likelihood SEM with lavaan's conventions, on top of semopy's model structure.

semopy parses the lavaan-syntax model and builds the LISREL/RAM-type matrices
(Sigma = Lambda C Psi C' Lambda' + Theta, C = (I - B)^-1). Everything semopy lacks or gets wrong
is done here and tested against lavaan 0.6 (tests/fixtures/lavaan): the ML fit itself (Fisher
scoring with analytic derivatives, so a solution is a verified optimum, not an early SLSQP
stop), expected-information standard errors, lavaan's fit measures (chi-square, CFI, TLI, RMSEA
and its CI, SRMR, GFI, log-likelihood, AIC, BIC), std.all, effects (`:=`), admissibility.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import linalg, optimize, stats

MATRICES = ("B", "L", "P", "T")  # semopy's order: beta, lambda, psi, theta
GRAD_TOL = 1e-6                  # max |dF/dtheta| at a converged optimum


@dataclass
class Fit:
    x: np.ndarray                # free parameter values
    fmin: float                  # F_ML at the optimum (lavaan's fmin is half of it)
    converged: bool
    iterations: int
    grad_norm: float
    information: np.ndarray      # expected information of F (per observation, times 2)


@dataclass
class Result:
    model: "Model"
    n: int
    fit: Fit
    estimates: pd.DataFrame
    measures: dict
    bootstrap: pd.DataFrame | None = None
    data: pd.DataFrame | None = None          # the complete cases the model was fitted to
    extra_draws: np.ndarray | None = None     # bootstrap draws of the `extra` statistic


def strip_model(text: str) -> tuple[str, list[str]]:
    """Model text for semopy with lavaan's sem() defaults, and the `:=` lines it cannot parse.

    lavaan's auto.cov.y: residuals of endogenous variables that predict nothing else covary;
    semopy leaves them uncorrelated, so those covariances are added here.
    """
    keep, defined = [], []
    for line in text.splitlines():
        body = line.split("#")[0].strip()
        if ":=" in body:
            defined.append(body)
        else:
            keep.append(line)
    lhs, rhs, declared = [], set(), set()
    for line in keep:
        body = line.split("#")[0]
        if "~~" in body:
            a, b = body.split("~~")
            for t in b.split("+"):
                declared.add(frozenset((a.strip(), t.strip().split("*")[-1].strip())))
        elif "~" in body and "=~" not in body:
            a, b = body.split("~", 1)
            if a.strip() not in lhs:
                lhs.append(a.strip())
            rhs |= {t.strip().split("*")[-1].strip() for t in b.split("+")}
    terminal = [v for v in lhs if v not in rhs]
    extra = [f"{a} ~~ {b}" for n, a in enumerate(terminal) for b in terminal[n + 1:]
             if frozenset((a, b)) not in declared]
    return "\n".join(keep + extra), defined


class Model:
    """A lavaan-syntax model bound to an ordered set of observed variables."""

    def __init__(self, description: str, data: pd.DataFrame):
        import semopy

        text, self.defined = strip_model(description)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = semopy.Model(text)
            m.load(data=data)
        self.semopy = m
        self.observed = list(m.vars["observed"])
        self.inner = list(m.vars["inner"])
        self.latent = [v for v in self.inner if v in m.vars["latent"]]
        mats = [m.mx_beta, m.mx_lambda, m.mx_psi, m.mx_theta]
        self.templates = [mx.copy() for mx in mats]
        # free parameters, in semopy's order: (matrix index, row, col, symmetric) locations
        free = []
        for name, p in m.parameters.items():
            locs = []
            for loc in p.locations:
                k = next(i for i, mx in enumerate(mats) if mx is loc.matrix)
                i, j = loc.indices
                if loc.symmetric:  # semopy stores (i, j) or (j, i) depending on set order
                    i, j = min(i, j), max(i, j)
                locs.append((k, i, j, loc.symmetric))
            if p.active:
                free.append((sorted(locs), p.start, name))
            else:
                for k, i, j, sym in locs:
                    self.templates[k][i, j] = p.start
                    if sym:
                        self.templates[k][j, i] = p.start
        # semopy's parameter order follows set iteration (it changes with the hash seed);
        # a canonical order (by matrix position) makes every run sum in the same order.
        free.sort(key=lambda t: t[0])
        self.locations = [t[0] for t in free]
        self.start = np.array([t[1] for t in free], dtype=float)
        self.p, self.m = len(self.observed), len(self.inner)
        tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_.]*", text)
        self.order = {v: i for i, v in reversed(list(enumerate(tokens)))}
        self._flat = self._flat_positions()
        self._eye_m = np.eye(self.m)
        # exogenous observed predictors: their (co)variances are the sample's (lavaan's fixed.x)
        endogenous = set(self._flat[0][0]) | {i for i in range(self.m) if self.templates[0][i].any()}
        self.exo = [i for i, v in enumerate(self.inner)
                    if v in self.observed and v not in self.latent and i not in endogenous]
        self.exo_obs = [self.observed.index(self.inner[i]) for i in self.exo]

    # --- matrices -----------------------------------------------------------------------------
    def _flat_positions(self):
        """For each matrix: arrays (row, col, param) incl. mirrored symmetric entries."""
        out = []
        for k in range(4):
            rows, cols, idx = [], [], []
            for pi, locs in enumerate(self.locations):
                for kk, i, j, sym in locs:
                    if kk != k:
                        continue
                    rows.append(i), cols.append(j), idx.append(pi)
                    if sym and i != j:
                        rows.append(j), cols.append(i), idx.append(pi)
            out.append((np.array(rows, int), np.array(cols, int), np.array(idx, int)))
        return out

    def fix_x(self, S) -> None:
        """Set the exogenous observed block of Psi to the sample covariance S (fixed.x)."""
        if self.exo:
            self.templates[2][np.ix_(self.exo, self.exo)] = S[np.ix_(self.exo_obs, self.exo_obs)]

    def matrices(self, x):
        mats = [t.copy() for t in self.templates]
        for mx, (r, c, i) in zip(mats, self._flat):
            if len(i):
                mx[r, c] = x[i]
        return mats

    def implied(self, x):
        """Sigma and the pieces its derivatives need."""
        B, L, P, T = self.matrices(x)
        C = np.linalg.inv(self._eye_m - B)
        A = L @ C                    # observed <- inner (total)
        M = C @ P @ C.T              # covariance of inner variables
        sigma = A @ P @ A.T + T
        return sigma, dict(B=B, L=L, P=P, T=T, C=C, A=A, M=M)

    def dsigma(self, x, parts=None) -> np.ndarray:
        """dSigma/dtheta_k for every free parameter: array (k, p, p), vectorized by matrix."""
        if parts is None:
            parts = self.implied(x)[1]
        L, A, M = parts["L"], parts["A"], parts["M"]
        R = M @ L.T                  # inner x observed; also C Psi C' Lambda'
        out = np.zeros((len(x), self.p, self.p))
        i, j, k = self._flat[1]   # Lambda[i, j]: e_i R[j] + (e_i R[j])'
        if len(k):
            half = np.zeros((len(k), self.p, self.p))
            half[np.arange(len(k)), i, :] = R[j, :]
            np.add.at(out, k, half + half.transpose(0, 2, 1))
        i, j, k = self._flat[0]   # B[i, j]: A[:, i] R[j] + transpose
        if len(k):
            half = A[:, i].T[:, :, None] * R[j, :][:, None, :]
            np.add.at(out, k, half + half.transpose(0, 2, 1))
        i, j, k = self._flat[2]   # Psi[i, j] (both triangles listed)
        if len(k):
            np.add.at(out, k, A[:, i].T[:, :, None] * A[:, j].T[:, None, :])
        i, j, k = self._flat[3]   # Theta[i, j] (both triangles listed)
        if len(k):
            np.add.at(out, (k, i, j), 1.0)
        return out

    # --- ML ------------------------------------------------------------------------------------
    def objective(self, x, S, logdet_s):
        sigma = self.implied(x)[0]
        try:
            c = linalg.cho_factor(sigma)
        except linalg.LinAlgError:
            return np.inf
        logdet = 2 * np.log(np.diag(c[0])).sum()
        return logdet + np.trace(linalg.cho_solve(c, S)) - logdet_s - self.p

    def score(self, x, S):
        """Gradient of F_ML and its expected Hessian (Fisher information x 2)."""
        sigma, parts = self.implied(x)
        V = np.linalg.inv(sigma)
        W = V @ (sigma - S) @ V
        D = self.dsigma(x, parts)
        q = len(x)
        g = D.reshape(q, -1) @ W.ravel()                       # tr(W D_k), W and D_k symmetric
        VD = V @ D                                             # batched matmul (BLAS)
        H = VD.reshape(q, -1) @ VD.transpose(0, 2, 1).reshape(q, -1).T   # tr(V D_k V D_l)
        return g, H

    def obj_grad(self, x, S, logdet_s):
        """F_ML and its gradient from matrix derivatives (cheap: no per-parameter dSigma)."""
        sigma, pt = self.implied(x)
        try:
            chol = np.linalg.cholesky(sigma)
        except np.linalg.LinAlgError:
            return np.inf, None
        V = np.linalg.inv(sigma)
        VS = V @ S
        f = 2 * np.log(np.diag(chol)).sum() + np.trace(VS) - logdet_s - self.p
        W = V - VS @ V                       # V (Sigma - S) V
        A, R = pt["A"], pt["M"] @ pt["L"].T
        grads = (2 * A.T @ W @ R.T,          # dF/dB
                 2 * W @ R.T,                # dF/dLambda = 2 W Lambda M
                 A.T @ W @ A,                # dF/dPsi (entries of both triangles listed)
                 W)                          # dF/dTheta
        g = np.zeros(len(x))
        for G, (r, cc, i) in zip(grads, self._flat):
            if len(i):
                g += np.bincount(i, weights=G[r, cc], minlength=len(x))
        return f, g

    def refit(self, x0, S, h_inv, tol=GRAD_TOL, max_iter=100) -> tuple[np.ndarray, bool, int]:
        """BFGS from a nearby optimum, starting from its inverse information: a bootstrap refit."""
        self.fix_x(S)
        logdet_s = np.linalg.slogdet(S)[1]
        x = np.asarray(x0, float).copy()
        f, g = self.obj_grad(x, S, logdet_s)
        if g is None:
            return x, False, 0
        Hi = h_inv.copy()
        for it in range(1, max_iter + 1):
            if np.max(np.abs(g)) < tol:
                return x, True, it - 1
            step = -Hi @ g
            t = 1.0
            while t > 1e-10:
                xn = x + t * step
                fn, gn = self.obj_grad(xn, S, logdet_s)
                if gn is not None and fn <= f + 1e-4 * t * (g @ step):
                    break
                t /= 2
            else:
                return x, False, it
            sv, yv = xn - x, gn - g
            sy = sv @ yv
            if sy > 1e-12:
                rho = 1.0 / sy
                Hy = Hi @ yv
                Hi += (rho * rho * (yv @ Hy) + rho) * np.outer(sv, sv) - rho * (np.outer(Hy, sv) + np.outer(sv, Hy))
            x, f, g = xn, fn, gn
        return x, bool(np.max(np.abs(g)) < tol), max_iter

    def fit(self, S, start=None, max_iter=500) -> Fit:
        """Fisher scoring with step halving; falls back to semopy's SLSQP start if needed."""
        self.fix_x(S)
        logdet_s = np.linalg.slogdet(S)[1]
        tries = [self.start if start is None else np.asarray(start, float)]
        if start is None:
            tries.append(None)  # semopy's own optimizer as a second opinion on the start
        best = None
        for x0 in tries:
            if x0 is None:
                x0 = self._semopy_start(S)
                if x0 is None:
                    continue
            res = self._scoring(x0, S, logdet_s, max_iter)
            if best is None or (res.converged and not best.converged) or \
                    (res.converged == best.converged and res.fmin < best.fmin - 1e-10):
                best = res
            if best.converged:
                break
        return best

    def _scoring(self, x, S, logdet_s, max_iter, tol=GRAD_TOL * 1e-2) -> Fit:
        self.fix_x(S)
        f = self.objective(x, S, logdet_s)
        it = 0
        g = H = None
        for it in range(1, max_iter + 1):
            if not np.isfinite(f):
                break
            g, H = self.score(x, S)
            if np.max(np.abs(g)) < tol:
                break
            try:  # far from the optimum H can be near-singular: then a least-squares step
                with warnings.catch_warnings():
                    warnings.simplefilter("error", linalg.LinAlgWarning)
                    step = linalg.solve(H, g, assume_a="sym")
            except (linalg.LinAlgError, linalg.LinAlgWarning, ValueError):
                step = np.linalg.lstsq(H, g, rcond=None)[0]
            t = 1.0
            while t > 1e-8:
                xn = x - t * step
                fn = self.objective(xn, S, logdet_s)
                if np.isfinite(fn) and fn <= f + 1e-14:
                    break
                t /= 2
            else:
                break
            converged_step = abs(f - fn) < 1e-15 and np.max(np.abs(t * step)) < 1e-12
            x, f = xn, fn
            if converged_step:
                g, H = self.score(x, S)
                break
        if g is None or not np.isfinite(f):
            return Fit(x, f, False, it, np.inf, np.full((len(x), len(x)), np.nan))
        g, H = self.score(x, S)
        gnorm = float(np.max(np.abs(g)))
        return Fit(x, float(f), bool(gnorm < GRAD_TOL), it, gnorm, H)

    def _semopy_start(self, S):
        m = self.semopy
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.load_cov(S)
                m.param_vals = self.start.copy()
                m.update_matrices(m.param_vals)
                fun, grad = m.get_objective("MLW")
                r = optimize.minimize(fun, m.param_vals, jac=grad, method="SLSQP",
                                      bounds=m.get_bounds(), options={"maxiter": 1000})
            return np.asarray(r.x, float)
        except Exception:  # semopy failing is not fatal: scoring from its start already ran
            return None


def sample_cov(X: np.ndarray) -> np.ndarray:
    """Covariance with divisor N, as lavaan's ML (likelihood = "normal")."""
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / len(X)


# --- the parameter table --------------------------------------------------------------------

def _rows(model: Model, x: np.ndarray):
    """(lhs, op, rhs, matrix, i, j, param index or None, value) for every reported parameter."""
    mats = model.matrices(x)
    free = {}
    for pi, locs in enumerate(model.locations):
        for k, i, j, sym in locs:
            free[(k, i, j)] = pi
            if sym:
                free[(k, j, i)] = pi
    obs, inner = model.observed, model.inner
    rows = []
    # loadings: free ones and fixed markers (lavaan lists both)
    for i, j in zip(*np.nonzero((model.templates[1] != 0) | _mask(free, 1, model.templates[1].shape))):
        if inner[j] == obs[i] and (1, i, j) not in free:
            continue  # an observed variable standing in for itself in the structural part
        if inner[j] in model.latent:
            rows.append((inner[j], "=~", obs[i], 1, i, j, free.get((1, i, j)), mats[1][i, j]))
        else:  # semopy keeps a regression of an observed outcome on an observed predictor in Lambda
            rows.append((obs[i], "~", inner[j], 1, i, j, free.get((1, i, j)), mats[1][i, j]))
    for (k, i, j), pi in sorted(free.items(), key=lambda t: t[1]):
        if k == 0:
            rows.append((inner[i], "~", inner[j], 0, i, j, pi, mats[0][i, j]))
    for a, i in enumerate(model.exo):          # fixed.x moments, listed as lavaan does (se 0)
        for j in model.exo[a:]:
            rows.append((inner[i], "~~", inner[j], 2, i, j, None, mats[2][i, j]))
    for k, names in ((2, inner), (3, obs)):
        seen = set()
        for (kk, i, j), pi in sorted(free.items(), key=lambda t: t[1]):
            if kk != k or (min(i, j), max(i, j)) in seen:
                continue
            seen.add((min(i, j), max(i, j)))
            a, b = sorted((i, j), key=lambda v: model.order.get(names[v], 10**6))
            rows.append((names[a], "~~", names[b], k, a, b, pi, mats[k][a, b]))
    return rows


def _mask(free, k, shape):
    m = np.zeros(shape, bool)
    for (kk, i, j) in free:
        if kk == k:
            m[i, j] = True
    return m


def effects(model: Model, x: np.ndarray) -> list[tuple[str, str, str, str, float]]:
    """Direct, indirect and total effects of each exogenous latent on each endogenous variable."""
    B = model.matrices(x)[0]
    C = np.linalg.inv(np.eye(model.m) - B)
    total = C - np.eye(model.m)
    exo = [i for i, v in enumerate(model.inner) if not B[i].any() and v in model.latent]
    endo = [i for i in range(model.m) if B[i].any()]
    out = []
    paths = (B != 0) | _free_mask(model, 0)
    for j in exo:
        for i in endo:
            if not _reachable(paths, j, i):
                continue
            x_, y_ = model.inner[j], model.inner[i]
            if _reachable(paths, j, i, min_length=2):
                out.append((f"ind_{x_}_{y_}", f"indirect effect of {x_} on {y_}", x_, y_, total[i, j] - B[i, j]))
            out.append((f"tot_{x_}_{y_}", f"total effect of {x_} on {y_}", x_, y_, total[i, j]))
    return out


def _free_mask(model: Model, k: int) -> np.ndarray:
    mask = np.zeros(model.templates[k].shape, bool)
    r, c, _ = model._flat[k]
    mask[r, c] = True
    return mask


def _reachable(paths: np.ndarray, src: int, dst: int, min_length: int = 1) -> bool:
    """Is there a directed path src -> dst of at least min_length arrows (paths[to, from])?"""
    frontier = {src}
    for length in range(1, len(paths) + 1):
        frontier = {int(i) for k in frontier for i in np.nonzero(paths[:, k])[0]}
        if not frontier:
            return False
        if length >= min_length and dst in frontier:
            return True
    return False


def _jacobian(f, x, h=1e-6):
    f0 = f(x)
    J = np.zeros((len(f0), len(x)))
    for k in range(len(x)):
        e = np.zeros_like(x)
        e[k] = h * max(1.0, abs(x[k]))
        J[:, k] = (f(x + e) - f(x - e)) / (2 * e[k])
    return J


@dataclass
class Layout:
    """Which rows a parameter table has, so draws can be computed without pandas."""

    rows: list            # (lhs, op, rhs, matrix, i, j, free index or None)
    effects: list         # (name, description, source, target)

    @classmethod
    def of(cls, model: Model, x: np.ndarray) -> "Layout":
        return cls([r[:7] for r in _rows(model, x)], [e[:4] for e in effects(model, x)])


def point_values(model: Model, x: np.ndarray, layout: Layout) -> tuple[np.ndarray, np.ndarray]:
    """(est, std_all) for every row of the layout: parameters, then effects."""
    mats = model.matrices(x)
    B, P = mats[0], mats[2]
    C = np.linalg.inv(np.eye(model.m) - B)
    A = mats[1] @ C
    M = C @ P @ C.T
    sigma = A @ P @ A.T + mats[3]
    var_inner, var_obs = np.diag(M), np.diag(sigma)
    with np.errstate(invalid="ignore", divide="ignore"):
        sd_inner, sd_obs = np.sqrt(var_inner), np.sqrt(var_obs)
        est, std = [], []
        for lhs, op, rhs, k, i, j, pi in layout.rows:
            e = mats[k][i, j]
            if op == "=~" or k == 1:   # loadings, and regressions of observed outcomes (Lambda)
                s = e * sd_inner[j] / sd_obs[i]
            elif op == "~":
                s = e * sd_inner[j] / sd_inner[i]
            elif i == j:
                s = e / (var_inner if k == 2 else var_obs)[i]
            else:
                res = np.diag(mats[k])
                s = e / np.sqrt(res[i] * res[j]) if res[i] > 0 and res[j] > 0 else np.nan
            est.append(e)
            std.append(s)
        total = C - np.eye(model.m)
        idx = {v: n for n, v in enumerate(model.inner)}
        for name, _, src, dst in layout.effects:
            a, b = idx[dst], idx[src]
            e = total[a, b] - (B[a, b] if name.startswith("ind_") else 0.0)
            est.append(e)
            std.append(e * sd_inner[b] / sd_inner[a])
    return np.array(est), np.array(std)


def parameter_table(model: Model, fit: Fit, n: int) -> pd.DataFrame:
    x = fit.x
    layout = Layout.of(model, x)
    est, std = point_values(model, x, layout)
    vcov = np.linalg.pinv(fit.information / 2) / n
    se_free = np.sqrt(np.clip(np.diag(vcov), 0, None))
    se = [se_free[pi] if pi is not None else 0.0 for *_, pi in layout.rows]
    if layout.effects:  # delta method, as lavaan does for defined parameters
        k = len(layout.rows)
        J = _jacobian(lambda v: point_values(model, v, layout)[0][k:], x)
        se += list(np.sqrt(np.clip(np.einsum("ik,kl,il->i", J, vcov, J), 0, None)))
    names = [r[:3] for r in layout.rows] + [(e[0], ":=", e[1]) for e in layout.effects]
    t = pd.DataFrame(names, columns=["lhs", "op", "rhs"])
    t["est"], t["se"], t["std_all"] = est, np.array(se, float), std
    rank = {"=~": 0, "~": 1, "~~": 2, ":=": 3}
    key = [(rank[o], model.order.get(l, 10**6), o != "~~" or l != r, model.order.get(r, 10**6), i)
           for i, (l, o, r) in enumerate(names)]
    order = [k[-1] for k in sorted(key)]
    t = t.iloc[order].reset_index(drop=True)
    t.attrs["layout_order"] = order   # row i of t is row order[i] of the layout
    with np.errstate(divide="ignore", invalid="ignore"):
        z = np.where(t["se"] > 0, t["est"] / t["se"], np.nan)
    t.insert(5, "z", z)
    t.insert(6, "pvalue", 2 * stats.norm.sf(np.abs(z)))
    q = stats.norm.ppf(0.975)
    t["ci_lower"] = t["est"] - q * t["se"]
    t["ci_upper"] = t["est"] + q * t["se"]
    return t


# --- fit measures ---------------------------------------------------------------------------

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

def complete_cases(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    return data[columns].apply(pd.to_numeric, errors="raise").dropna()


def estimate(description: str, data: pd.DataFrame, *, bootstrap: int = 0, seed: int = 0,
             jobs: int = 1, progress: bool = False, extra=None, model: Model | None = None) -> Result:
    """Fit a lavaan-syntax model by ML to the complete cases of `data` (listwise, as lavaan).

    With bootstrap = B > 0 the CIs in the table are bootstrap percentile CIs (see bootstrap.py).
    """
    model = model or Model(description, data)
    X = complete_cases(data, model.observed)
    S = sample_cov(X.to_numpy(float))
    fit = model.fit(S)
    table = parameter_table(model, fit, len(X))
    measures = fit_measures(model, fit, S, len(X))
    warns = admissibility(model, fit, table)
    dropped = len(data) - len(X)
    notes = [f"{dropped} row(s) with missing values in model variables were left out (listwise)."] \
        if dropped else []
    if model.defined:
        notes.append(f"{len(model.defined)} `:=` definition(s) were not evaluated; indirect and total "
                     "effects of the exogenous constructs are listed as ind_*/tot_* rows instead.")
    boot = None
    if bootstrap:
        from . import bootstrap as bs

        draws = bs.run(model, X.to_numpy(float), fit, Layout.of(model, fit.x), bootstrap, seed,
                       jobs=jobs, progress=progress, extra=extra)
        ci = bs.percentile_table(draws).iloc[table.attrs["layout_order"]].reset_index(drop=True)
        boot = pd.concat([table[["lhs", "op", "rhs", "est"]], ci[["boot_se", "ci_lower", "ci_upper"]],
                          table[["std_all"]], ci[["std_ci_lower", "std_ci_upper"]]], axis=1)
        table["ci_lower"], table["ci_upper"] = ci["ci_lower"].to_numpy(), ci["ci_upper"].to_numpy()
        measures["bootstrap"] = bs.summary(draws, bootstrap)
        failed = measures["bootstrap"]["not_converged"] + measures["bootstrap"]["inadmissible"]
        if failed:
            notes.append(f"bootstrap: {measures['bootstrap']['not_converged']} of {bootstrap} draws did "
                         f"not converge and {measures['bootstrap']['inadmissible']} were inadmissible.")
    measures.update(converged=fit.converged, admissible=not warns, warnings=warns + notes,
                    iterations=fit.iterations, max_gradient=fit.grad_norm,
                    ci="bootstrap percentile" if bootstrap else "normal theory (expected information)")
    result = Result(model=model, n=len(X), fit=fit, estimates=table, measures=measures, bootstrap=boot, data=X, extra_draws=draws.extra if bootstrap else None)
    return result


FIT_KEYS = ["npar", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "rmsea_ci_lower",
            "rmsea_ci_upper", "srmr", "gfi", "aic", "bic", "loglik", "n", "converged",
            "admissible", "warnings", "ci"]
EST_COLUMNS = ["lhs", "op", "rhs", "est", "se", "z", "pvalue", "std_all", "ci_lower", "ci_upper"]


def read_data(path) -> pd.DataFrame:
    from pathlib import Path

    from .errors import CSIError

    path = Path(path)
    if not path.exists():
        raise CSIError("data file not found", file=path)
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix == ".csv":
        return pd.read_csv(path)
    raise CSIError(f"cannot read {path.suffix!r} data", file=path, hint="give a .csv or .parquet file.")


def check_variables(description: str, data: pd.DataFrame, model_file, data_file) -> None:
    """Every observed variable of the model must be a numeric column of the data."""
    import semopy

    from .errors import CSIError

    try:
        observed = semopy.Model(strip_model(description)[0]).vars["observed"]
    except Exception as e:  # semopy's parser raises bare exceptions on syntax errors
        raise CSIError(f"the model could not be parsed ({type(e).__name__}: {e})", file=model_file,
                       hint="check the lavaan syntax (=~ loadings, ~ regressions, ~~ covariances).") from None
    missing = [v for v in observed if v not in data.columns]
    if missing:
        raise CSIError(f"the model uses variable(s) not in the data: {', '.join(missing)}",
                       file=model_file,
                       hint=f"columns of {data_file} are: {', '.join(map(str, data.columns[:40]))}; "
                            "rename the variable in the model or add the column.")
    bad = [v for v in observed if not pd.api.types.is_numeric_dtype(data[v])]
    if bad:
        raise CSIError(f"model variable(s) are not numeric: {', '.join(bad)}", file=data_file,
                       column=bad[0], hint="SEM needs numeric codes; recode the column first.")


def write_result(result: Result, out_dir) -> None:
    """DIR/estimates.csv and DIR/fit.json (+ DIR/bootstrap.csv), all-or-nothing."""
    import json
    from pathlib import Path

    from .io import atomic_outputs

    out = Path(out_dir)
    fit = {k: result.measures[k] for k in FIT_KEYS}
    if "bootstrap" in result.measures:
        fit["bootstrap"] = result.measures["bootstrap"]
    paths = [out / "estimates.csv", out / "fit.json"]
    if result.bootstrap is not None:
        paths.append(out / "bootstrap.csv")
    with atomic_outputs(*paths) as tmp:
        result.estimates[EST_COLUMNS].to_csv(tmp[0], index=False, float_format="%.10g", lineterminator="\n")
        Path(tmp[1]).write_text(json.dumps(_jsonable(fit), indent=2, ensure_ascii=False) + "\n", "utf-8")
        if result.bootstrap is not None:
            result.bootstrap.to_csv(tmp[2], index=False, float_format="%.10g", lineterminator="\n")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {k: _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(f"{float(obj):.10g}")
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    return obj
