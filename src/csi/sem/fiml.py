"""Full-information ML (lavaan's missing = "ml"): the casewise normal likelihood summed over the
missingness patterns, with a saturated mean structure (every observed variable's intercept free,
latent means 0), fitted by the trust-region scoring of ml.py.

Parameters theta = (x, nu): the model's covariance parameters x (as in ML) then the p intercepts.
F(theta) = -2 (loglik(theta) - loglik_h1) / N with h1 the saturated model (EM), so that
chisq = N F at the optimum, as N F_ML with complete data.
"""

from __future__ import annotations

import numpy as np

from .ml import GRAD_TOL, Fit, bfgs_from, trust_region
from .sample import Patterns, vech_index


class FIML:
    def __init__(self, model, pats: Patterns, h1=None):
        """h1: (mu, sigma) of the saturated model, for F's zero (optional: refits need none)."""
        self.model, self.pats = model, pats
        self.q, self.p = len(model.start), model.p
        self.r, self.c = vech_index(self.p)[:2]
        self.h1 = h1
        self.f0 = 0.0
        if h1 is not None:
            self.f0 = pats.fiml(h1[0], h1[1])[0]

    def moments(self, theta):
        """(mu, Sigma, parts of implied) at theta."""
        sigma, parts = self.model.implied(theta[:self.q])
        return theta[self.q:], sigma, parts

    def objective(self, theta) -> float:
        mu, sigma, _ = self.moments(theta)
        out = self.pats.fiml(mu, sigma)
        return np.inf if out is None else out[0] - self.f0

    def fg(self, theta):
        """(F, gradient), or (inf, None) where Sigma is not positive definite."""
        mu, sigma, parts = self.moments(theta)
        out = self.pats.fiml(mu, sigma)
        if out is None:
            return np.inf, None
        f, Wf, g_mu = out
        return f - self.f0, np.concatenate([self.model.chain(Wf, parts, self.q), g_mu])

    def delta(self, theta) -> np.ndarray:
        """d h / d theta for h = (mu, vech Sigma): (p + p*, q + p)."""
        q, p = self.q, self.p
        D = np.zeros((p + len(self.r), q + p))
        D[:p, q:] = np.eye(p)
        D[p:, :q] = self.model.dsigma(theta[:q])[:, self.r, self.c].T
        return D

    def score(self, theta):
        """Gradient of F and its expected Hessian (2 x the expected information)."""
        mu, sigma, _ = self.moments(theta)
        D = self.delta(theta)
        return self.fg(theta)[1], 2 * D.T @ self.pats.information(mu, sigma, observed=False) @ D

    def hessian(self, theta):
        """Observed Hessian of F: 2 Delta' I_obs Delta (h-space) plus the curvature of Sigma(x)
        weighted by dF/dSigma (central differences of a cheap matrix gradient)."""
        mu, sigma, parts = self.moments(theta)
        out = self.pats.fiml(mu, sigma)
        if out is None:
            return None
        Wf = out[1]
        D = self.delta(theta)
        H = 2 * D.T @ self.pats.information(mu, sigma, observed=True) @ D
        q = self.q
        x = theta[:q]
        for k in range(q):
            h = 1e-6 * max(1.0, abs(x[k]))
            e = np.zeros(q)
            e[k] = h
            gp = self.model.chain(Wf, self.model.implied(x + e)[1], q)
            gm = self.model.chain(Wf, self.model.implied(x - e)[1], q)
            H[k, :q] += (gp - gm) / (2 * h)
        H[:q, :q] = (H[:q, :q] + H[:q, :q].T) / 2
        return H

    def start(self) -> np.ndarray:
        """ML on the saturated (EM) covariance, intercepts at the EM means: close to the optimum."""
        mu, sigma = self.h1
        return np.concatenate([self.model.fit(sigma).x, mu])

    def fit(self, start=None, max_iter=500) -> Fit:
        theta = self.start() if start is None else np.asarray(start, float)
        res = trust_region(theta, self.objective, self.score, self.hessian, self.p, max_iter)
        res.start = "em" if start is None else "given"
        return res

    def refit(self, theta0, h_inv, tol=GRAD_TOL, max_iter=100):
        """BFGS from a nearby optimum (a bootstrap refit): (theta, converged, iterations)."""
        return bfgs_from(self.fg, theta0, h_inv, tol, max_iter)
