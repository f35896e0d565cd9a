"""Maximum likelihood: F_ML, its analytic gradient and expected information, trust-region
Fisher scoring (full fits) and BFGS from a nearby optimum (bootstrap refits). Mixed into Model.

A full fit (fit) runs a trust-region method (_scoring) whose quadratic model is the expected
information (Fisher scoring) and, once that converges only slowly, the observed Hessian
(central differences of the analytic gradient). The trust region keeps far-off steps from
jumping into other basins or to the edge of the positive-definite region, which plain scoring
with step halving did on hard ECSI-type models (near-collinear constructs, Heywood cases, weak
items: see scripts/make_optimizer_cases.py and tests/test_optimizer.py); the Newton phase
removes the slow linear convergence of scoring in misfitting models. If a run does not
converge, fit tries the next of a few routes (other starts, other paths: ROUTES). The
trust-region loop (trust_region) and the BFGS refit (bfgs_from) take the objective as functions,
so FIML (fiml.py) runs the same ones on its own F.

Converged means an optimum: max |gradient| < GRAD_TOL and a Newton decrement g' H^-1 g below
DECREMENT_TOL, which a point on a ridge where F still falls (collinear constructs whose paths
run off to infinity) does not meet however flat the ridge is. No bounds: an improper optimum
(a negative variance) is an optimum and is reported, as lavaan does.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

GRAD_TOL = 1e-6                  # max |dF/dtheta| at a converged optimum
DECREMENT_TOL = 1e-8             # and g' H^-1 g: F a Newton step would still gain (twice)
TR_START = 0.3                   # first trust radius, relative to the scaled start (||D x0||)
NEWTON_AFTER = 20                # scoring iterations before slow progress calls for Newton steps
NEWTON_MAX = 40                  # Newton steps without convergence: a ridge, not an optimum
# Routes of fit(), tried in turn until a run converges: (start, path to the trust-region run,
# trust-region scaling). Starts: the model's (semopy's), the model's with instrumental-variable
# loadings (_iv_start), semopy's own SLSQP solution. Paths: none, BFGS, plain Fisher scoring
# with step halving (the former optimizer). On the simulated hard cases each later route
# rescues some fits that the earlier ones leave on a ridge.
ROUTES = (("model", None, "fisher"), ("iv", None, "fisher"), ("model", None, "unit"),
          ("iv", "bfgs", "fisher"), ("model", "scoring", "fisher"), ("semopy", None, "fisher"))


@dataclass
class Fit:
    x: np.ndarray                # free parameter values
    fmin: float                  # F_ML at the optimum (lavaan's fmin is half of it)
    converged: bool
    iterations: int
    grad_norm: float
    information: np.ndarray      # expected information of F (per observation, times 2)
    decrement: float = 0.0       # g' H^-1 g with H = information: ~0 at an optimum, not on a ridge
    start: str = "model"         # the route of fit() that led to this optimum (see ROUTES)
    attempts: int = 1            # routes tried


class MaximumLikelihood:
    """ML estimation methods of Model (they use its matrices, implied and dsigma)."""

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
        return f, self.chain(W, pt, len(x))

    def chain(self, W, pt, q):
        """d tr(W Sigma(theta)) / d theta for a fixed symmetric W (the chain rule of F through Sigma:
        dF = tr(W dSigma)), from the parts of implied()."""
        A, R = pt["A"], pt["M"] @ pt["L"].T
        grads = (2 * A.T @ W @ R.T,          # dF/dB
                 2 * W @ R.T,                # dF/dLambda = 2 W Lambda M
                 A.T @ W @ A,                # dF/dPsi (entries of both triangles listed)
                 W)                          # dF/dTheta
        g = np.zeros(q)
        for G, (r, cc, i) in zip(grads, self._flat):
            if len(i):
                g += np.bincount(i, weights=G[r, cc], minlength=q)
        return g

    def hessian(self, x, S, logdet_s):
        """Observed Hessian of F_ML: central differences of the analytic gradient (None where
        a perturbed Sigma is not positive definite)."""
        q = len(x)
        H = np.empty((q, q))
        for k in range(q):
            h = 1e-6 * max(1.0, abs(x[k]))
            e = np.zeros(q)
            e[k] = h
            gp = self.obj_grad(x + e, S, logdet_s)[1]
            gm = self.obj_grad(x - e, S, logdet_s)[1]
            if gp is None or gm is None:
                return None
            H[k] = (gp - gm) / (2 * h)
        return (H + H.T) / 2

    def refit(self, x0, S, h_inv, tol=GRAD_TOL, max_iter=100) -> tuple[np.ndarray, bool, int]:
        """BFGS from a nearby optimum, starting from its inverse information: a bootstrap refit."""
        self.fix_x(S)
        logdet_s = np.linalg.slogdet(S)[1]
        return bfgs_from(lambda v: self.obj_grad(v, S, logdet_s), x0, h_inv, tol, max_iter)

    def fit(self, S, start=None, max_iter=500) -> Fit:
        """Minimize F_ML along the ROUTES in turn (from `start` alone if given), stopping at
        the first run that converges; if none does, the run with the lowest F, not converged."""
        self.fix_x(S)
        logdet_s = np.linalg.slogdet(S)[1]
        routes = [("given", None, "fisher")] if start is not None else ROUTES
        best, tried = None, 0
        for name, pre, scale in routes:
            x0 = (np.asarray(start, float), 0) if start is not None else \
                self._route_start(name, pre, S, logdet_s)
            if x0 is None:
                continue
            x0, pre_it = x0
            tried += 1
            res = self._scoring(x0, S, logdet_s, max_iter, scale=scale)
            res.iterations += pre_it
            res.start = name + (f"+{pre}" if pre else "") + ("/unit" if scale == "unit" else "")
            if best is None or (res.converged and not best.converged) or \
                    (res.converged == best.converged and res.fmin < best.fmin - 1e-10):
                best = res
            if best.converged:
                break
        best.attempts = tried
        return best

    def _route_start(self, name, pre, S, logdet_s):
        """(x0, iterations spent getting there) for a route of fit(), or None."""
        x = {"model": lambda: self.start.copy(), "iv": lambda: self._iv_start(S),
             "semopy": lambda: self._semopy_start(S)}[name]()
        if x is None:
            return None
        if pre == "bfgs":
            return self._bfgs(x, S, logdet_s)
        if pre == "scoring":
            return self._linesearch_scoring(x, S, logdet_s)
        return x, 0

    def _scoring(self, x, S, logdet_s, max_iter, tol=GRAD_TOL * 1e-2, scale="fisher") -> Fit:
        """Trust-region Fisher scoring on F_ML, Newton steps when slow (see trust_region)."""
        self.fix_x(S)
        return trust_region(x, lambda v: self.objective(v, S, logdet_s), lambda v: self.score(v, S),
                            lambda v: self.hessian(v, S, logdet_s), self.p, max_iter, tol, scale)

    def _linesearch_scoring(self, x, S, logdet_s, max_iter=500):
        """Plain Fisher scoring with step halving (the former fit): another path to an optimum."""
        f = self.objective(x, S, logdet_s)
        it = 0
        for it in range(1, max_iter + 1):
            if not np.isfinite(f):
                break
            g, H = self.score(x, S)
            if np.max(np.abs(g)) < GRAD_TOL * 1e-2:
                break
            try:
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
            done = abs(f - fn) < 1e-15 and np.max(np.abs(t * step)) < 1e-12
            x, f = xn, fn
            if done:
                break
        return x, it

    def _bfgs(self, x, S, logdet_s):
        """scipy's BFGS on F_ML with the analytic gradient (no bounds): another path."""
        def fg(v):
            f, g = self.obj_grad(v, S, logdet_s)
            return (f, g) if g is not None else (np.inf, np.full(len(v), np.nan))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = optimize.minimize(fg, x, jac=True, method="BFGS", options=dict(gtol=1e-8, maxiter=2000))
        return r.x, int(r.nit)

    def _iv_start(self, S):
        """The model's start with each free loading replaced by its instrumental-variable (2SLS)
        estimate: item j = lambda_j * marker + error, instruments the factor's other items
        (for a two-item factor: the items of the other factors)."""
        x = self.start.copy()
        L0 = self.templates[1]
        rows, cols, idx = self._flat[1]
        free: dict[int, list] = {}
        for r, c, pi in zip(rows, cols, idx):
            free.setdefault(int(c), []).append((int(r), int(pi)))
        items = {}
        for c in range(self.m):
            fixed = [r for r in range(self.p) if L0[r, c] != 0 and r not in {q for q, _ in free.get(c, [])}]
            items[c] = (fixed, [q for q, _ in free.get(c, [])])
        for c, loads in free.items():
            fixed, own = items[c]
            if len(fixed) != 1:
                continue
            mk = fixed[0]
            for r, pi in loads:
                inst = [q for q in own if q != r]
                if not inst:
                    inst = sorted({q for c2, (fx, fr) in items.items() if c2 != c and fr for q in fx + fr}
                                  - {r, mk})
                if not inst:
                    continue
                W = np.linalg.pinv(S[np.ix_(inst, inst)])
                a, b = S[r, inst], S[mk, inst]
                den = b @ W @ b
                if den > 1e-12 * S[mk, mk]:
                    x[pi] = L0[mk, c] * (a @ W @ b) / den
        return x

    def _semopy_start(self, S):
        """semopy's SLSQP solution (semopy's bounds), in this model's parameter order."""
        m = self.semopy
        try:
            order = self._semopy_order()       # semopy's k-th parameter is our order[k]-th
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                m.load_cov(S)
                m.param_vals = self.start[order].copy()
                m.update_matrices(m.param_vals)
                fun, grad = m.get_objective("MLW")
                r = optimize.minimize(fun, m.param_vals, jac=grad, method="SLSQP",
                                      bounds=m.get_bounds(), options={"maxiter": 1000})
            x = np.empty(len(order))
            x[order] = r.x
            return x
        except Exception:  # semopy failing is not fatal: the other routes already ran
            return None

    def _semopy_order(self):
        """Positions in this model's parameter vector of semopy's active parameters, in
        semopy's order (model.py sorts them by matrix position)."""
        if getattr(self, "_semopy_perm", None) is None:
            m = self.semopy
            mats = [m.mx_beta, m.mx_lambda, m.mx_psi, m.mx_theta]
            order = []
            for p in (p for p in m.parameters.values() if p.active):
                locs = []
                for loc in p.locations:
                    k = next(i for i, mx in enumerate(mats) if mx is loc.matrix)
                    i, j = loc.indices
                    if loc.symmetric:
                        i, j = min(i, j), max(i, j)
                    locs.append((k, i, j, loc.symmetric))
                order.append(self.locations.index(sorted(locs)))
            self._semopy_perm = np.array(order, int)
        return self._semopy_perm


def trust_region(x, objective, score, hessian, size_f, max_iter, tol=GRAD_TOL * 1e-2, scale="fisher") -> Fit:
    """Trust-region Fisher scoring, switching to Newton steps (observed Hessian) when slow.

    objective(x) -> F; score(x) -> (gradient, expected Hessian); hessian(x) -> observed Hessian
    or None; size_f: the size of F's terms (its rounding error is 1e-13 (|F| + size_f)).
    The trust region is ||D s|| <= delta with D the square roots of the information's
    diagonal (largest seen so far; scale="fisher") or the identity (scale="unit")."""
    x = np.asarray(x, float).copy()
    f = objective(x)
    q = len(x)
    if not np.isfinite(f):
        return Fit(x, f, False, 0, np.inf, np.full((q, q), np.nan), np.inf)
    g, H = score(x)
    fisher = scale == "fisher"
    D = np.sqrt(np.maximum(np.diag(H), 1e-12)) if fisher else np.ones(q)
    delta = TR_START * max(np.linalg.norm(D * x), 1.0)
    newton, hist, it = 0, [], 0
    while it < max_iter:
        gmax = np.max(np.abs(g))
        if gmax < tol and _decrement(g, H) < DECREMENT_TOL:
            break
        hist.append(gmax)
        k = len(hist)
        if not newton and k > NEWTON_AFTER and (hist[-1] > 0.1 * hist[-6] or k > 2 * NEWTON_AFTER):
            newton = k
        if newton and k - newton >= NEWTON_MAX:
            break                     # Newton steps that do not converge: a ridge
        model_h = hessian(x) if newton else None
        if model_h is None:
            model_h = H
        it += 1
        s, pred, on_boundary = _trust_step(g, model_h, D, delta)
        xn = x + s
        fn = objective(xn)
        ared = f - fn if np.isfinite(fn) else -np.inf
        noise = 1e-13 * (abs(f) + size_f)          # rounding error of F: below it rho is noise
        if pred < noise:
            rho = 1.0 if ared >= -noise else -np.inf
        else:
            rho = ared / pred
        size = np.linalg.norm(D * s)
        if rho < 0.25:
            delta = 0.25 * min(size, delta)
        elif rho > 0.75 and on_boundary:
            delta = 2 * delta
        if rho > 1e-4:
            x, f = xn, fn
            g, H = score(x)
            if fisher:
                D = np.maximum(D, np.sqrt(np.maximum(np.diag(H), 1e-12)))
        elif delta < 1e-12 * max(np.linalg.norm(D * x), 1.0):
            break                     # no step of any size decreases F: stalled
    g, H = score(x)
    gnorm, dec = float(np.max(np.abs(g))), _decrement(g, H)
    return Fit(x, float(f), bool(gnorm < GRAD_TOL and dec < DECREMENT_TOL), it, gnorm, H, dec)


def bfgs_from(fg, x0, h_inv, tol=GRAD_TOL, max_iter=100) -> tuple[np.ndarray, bool, int]:
    """BFGS on fg(x) -> (F, gradient or None) from x0 with inverse Hessian h_inv (Armijo halving):
    (x, converged, iterations). A refit from a nearby optimum takes a few steps."""
    x = np.asarray(x0, float).copy()
    f, g = fg(x)
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
            fn, gn = fg(xn)
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


def _decrement(g, H) -> float:
    """g' H^-1 g (H symmetric, possibly near-singular): small at an optimum; at a point of a
    ridge along which F still falls (weakly identified constructs running off to infinity)
    the gradient can be tiny while this is not."""
    w, U = linalg.eigh(H)
    c = U.T @ g
    return float(np.sum(c * c / np.maximum(np.abs(w), 1e-300)))


def _trust_step(g, H, D, delta):
    """Minimize g's + s'Hs/2 subject to ||D s|| <= delta (H may be indefinite or singular):
    eigen-decomposition of the scaled H and the secular equation for the multiplier.
    Returns (s, predicted decrease, whether the step lies on the boundary)."""
    gs = g / D
    lam, Q = linalg.eigh(H / np.outer(D, D))
    c = Q.T @ gs
    top = max(abs(lam[-1]), 1e-300)
    lo = max(0.0, -lam[0])
    if lo == 0 and lam[0] > 1e-12 * top:             # positive definite: Newton step if inside
        p = -(Q @ (c / lam))
        inside = np.linalg.norm(p) <= delta
    if not (lo == 0 and lam[0] > 1e-12 * top and inside):
        first = lo + 1e-14 * (top + lo) + 1e-300
        norm = lambda mu: np.linalg.norm(c / (lam + mu))
        if norm(first) > delta:                      # on the boundary: 1/||p(mu)|| = 1/delta
            hi = lo + np.linalg.norm(gs) / delta + 1e-300
            mu = optimize.brentq(lambda u: 1.0 / delta - 1.0 / norm(u), first, hi, xtol=1e-15, rtol=1e-12)
            p, inside = -(Q @ (c / (lam + mu))), False
        elif lam[0] < 0:                             # "hard case": the gradient misses the most
            keep = lam + lo > 1e-14 * (top + lo)     # negative curvature; follow it to the boundary
            p = -(Q[:, keep] @ (c[keep] / (lam[keep] + lo)))
            p, inside = p + np.sqrt(max(delta ** 2 - p @ p, 0.0)) * Q[:, 0], False
        else:                                        # singular, gradient off the null space: the
            p, inside = -(Q @ (c / (lam + first))), True    # least-squares Newton step, inside
    s = p / D
    return s, -(g @ s + 0.5 * s @ H @ s), not inside
