"""The model: a lavaan-syntax description bound to observed variables, as LISREL-type matrices.

semopy parses the syntax and lays out the matrices (Sigma = Lambda C Psi C' Lambda' + Theta,
C = (I - B)^-1); everything computed from them is done here and in the sibling modules.
"""

from __future__ import annotations

import re
import warnings

import numpy as np
import pandas as pd

from .ml import MaximumLikelihood

MATRICES = ("B", "L", "P", "T")  # semopy's order: beta, lambda, psi, theta


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


class Model(MaximumLikelihood):
    """A lavaan-syntax model bound to an ordered set of observed variables."""

    def __init__(self, description: str, data: pd.DataFrame):
        import semopy

        text, self.defined = strip_model(description)
        own = sum(1 for line in description.splitlines() if ":=" not in line.split("#")[0])
        self.auto_covariances = text.splitlines()[own:]    # added by strip_model, as lavaan does
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
        self.fixed_cov = []    # (matrix, i, j) of (co)variances the model fixes (e.g. `x ~~ 0*x`)
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
                    if k in (2, 3):
                        self.fixed_cov.append((k, i, j))
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

def sample_cov(X: np.ndarray) -> np.ndarray:
    """Covariance with divisor N, as lavaan's ML (likelihood = "normal")."""
    Xc = X - X.mean(axis=0)
    return Xc.T @ Xc / len(X)


