"""Maximum likelihood: F_ML, its analytic gradient and expected information, Fisher scoring
(full fits) and BFGS from a nearby optimum (bootstrap refits). Mixed into Model."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

GRAD_TOL = 1e-6                  # max |dF/dtheta| at a converged optimum


@dataclass
class Fit:
    x: np.ndarray                # free parameter values
    fmin: float                  # F_ML at the optimum (lavaan's fmin is half of it)
    converged: bool
    iterations: int
    grad_norm: float
    information: np.ndarray      # expected information of F (per observation, times 2)



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


