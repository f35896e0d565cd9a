"""Robust inference as lavaan 0.6 defines it: sandwich standard errors and scaled test statistics.

- MLM (complete data): se = "robust.sem", V^-1 Delta' W Gamma W Delta V^-1 / N with V = Delta' W
  Delta the expected information (W the normal-theory weight at the model's Sigma) and Gamma
  from the data; Satorra-Bentler scaling c = tr(U Gamma) / df, U = W - W Delta V^-1 Delta' W.
- MLR: se = "robust.huber.white", A^-1 B A^-1 / N with A the observed information and B the mean
  outer product of the casewise scores at the model (complete data: no mean structure; FIML:
  over the missingness patterns, means included); Yuan-Bentler scaling in lavaan's default
  "yuan.bentler.mplus" form, c = (tr(A1^-1 B1) - tr(A^-1 B)) / df with A1, B1 the observed
  and first-order information of the saturated model.
- FIML's robust CFI/TLI/RMSEA (lavaan's lav_fit_fiml_corrected; Zhang & Savalei): the model
  and the baseline evaluated against the EM moments, with the "V3" correction for MLR and "V6"
  for ML.

Each scaling is computed for the model and for lavaan's baseline (independence) model, whose
parameters are linear in the moments: variances (and with FIML the means); with fixed.x the
covariates' (co)variances stay at their sample values.
Information matrices are per observation; h = (mu, vech Sigma) as in sample.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .sample import Patterns, dup, gamma, vech_index


@dataclass
class Robust:
    vcov: np.ndarray                 # covariance of the free parameters (the estimator's)
    scaling: float | None = None     # c of the model's chi-square (None: not scaled)
    scaling_baseline: float | None = None
    fiml: dict | None = None         # FIML-corrected XX3, c3 (model and baseline), for cfi.robust etc.


def normal_information(sigma: np.ndarray, mean: bool = True) -> np.ndarray:
    """Expected information of one complete normal observation in h (no mean block if not mean)."""
    p = len(sigma)
    V = np.linalg.inv(sigma)
    ss = dup(0.5 * np.einsum("jk,li->ijkl", V, V).reshape(p * p, p * p), p)
    if not mean:
        return ss
    out = np.zeros((p + len(ss), p + len(ss)))
    out[:p, :p], out[p:, p:] = V, ss
    return out


def _sandwich(bread_inv, meat, n):
    return bread_inv @ meat @ bread_inv / n


def _outer(scores, D=None):
    """Mean outer product of casewise scores (mapped to parameters by D): (S D)'(S D) / N."""
    SD = scores if D is None else scores @ D
    return SD.T @ SD / len(scores)


def _baseline_delta(p, exo, mean):
    """d h / d theta of the independence model: a variance per non-covariate (and p means)."""
    r, c, *_ = vech_index(p)
    diag = [u for u in range(len(r)) if r[u] == c[u] and r[u] not in exo]
    off = p if mean else 0
    D = np.zeros((off + len(r), (p if mean else 0) + len(diag)))
    if mean:
        D[:p, :p] = np.eye(p)
    for k, u in enumerate(diag):
        D[off + u, (p if mean else 0) + k] = 1.0
    return D


def baseline_sigma(S, exo):
    base = np.diag(np.diag(S))
    if exo:
        base[np.ix_(exo, exo)] = S[np.ix_(exo, exo)]
    return base


def _h1_mask(p, exo):
    """vech elements that are not covariate-covariate moments (lavaan zeroes those with fixed.x)."""
    r, c, *_ = vech_index(p)
    ex = np.isin(r, exo) & np.isin(c, exo)
    return ~ex


# --- complete data (listwise) -------------------------------------------------------------------

def mlm(model, x, X, S, df, df_b) -> Robust:
    """MLM on complete data X (S its covariance, divisor N)."""
    n, p = X.shape
    exo = model.exo_obs
    r, c, *_ = vech_index(p)
    G = gamma(X, exo)
    sigma = model.implied(x)[0]
    D = model.dsigma(x)[:, r, c].T

    def parts(W, D):
        E = D.T @ W @ D
        Ei = np.linalg.inv(E)
        U = W - W @ D @ Ei @ D.T @ W
        return Ei, float(np.sum(U * G))

    W = normal_information(sigma, mean=False)
    Ei, tr = parts(W, D)
    WD = W @ D
    vcov = _sandwich(Ei, WD.T @ G @ WD, n)
    Wb = normal_information(baseline_sigma(S, exo), mean=False)
    tr_b = parts(Wb, _baseline_delta(p, exo, False))[1]
    return Robust(vcov, _ratio(tr, df), _ratio(tr_b, df_b))


def mlr(model, x, X, S, df, df_b) -> Robust:
    """MLR on complete data X: observed information (Hessian of F_ML / 2) and casewise scores
    without a mean structure (at the sample means), as lavaan's estimator = "MLR"."""
    n, p = X.shape
    exo = model.exo_obs
    r, c, *_ = vech_index(p)
    pats = Patterns(X)
    ybar = X.mean(axis=0)
    sigma = model.implied(x)[0]
    D = model.dsigma(x)[:, r, c].T
    H = model.hessian(x, S, np.linalg.slogdet(S)[1])
    Ei = np.linalg.inv(H / 2)
    B0 = _outer(pats.scores(ybar, sigma)[:, p:], D)
    vcov = _sandwich(Ei, B0, n)
    # saturated model: A1 = W(S) without the covariates' own moments; B1 = A1 Gamma A1
    keep = _h1_mask(p, exo)
    A1 = normal_information(S, mean=False)[np.ix_(keep, keep)]
    tr_h1 = float(np.sum(gamma(X, exo)[np.ix_(keep, keep)] * A1))
    tr_h0 = float(np.sum(Ei * B0))
    Sb = baseline_sigma(S, exo)
    Db = _baseline_delta(p, exo, False)
    Eb = Db.T @ pats.information(ybar, Sb, observed=True)[p:, p:] @ Db
    B0b = _outer(pats.scores(ybar, Sb)[:, p:], Db)
    tr_b = float(np.sum(np.linalg.inv(Eb) * B0b))
    return Robust(vcov, _ratio(tr_h1 - tr_h0, df), _ratio(tr_h1 - tr_b, df_b))


# --- FIML ---------------------------------------------------------------------------------------

def fiml(F, theta, n, df, df_b, estimator: str) -> Robust:
    """ML or MLR with FIML (F: a fiml.FIML with its EM moments F.h1). The information is the
    observed one (lavaan's default with missing = "ml")."""
    pats, p = F.pats, F.p
    mu, sigma, _ = F.moments(theta)
    A = F.hessian(theta) / 2
    Ai = np.linalg.inv(A)
    D = F.delta(theta)
    mu1, sigma1 = F.h1
    Wm = pats.information(mu1, sigma1, observed=True)        # saturated model, observed
    Jm = _outer(pats.scores(mu1, sigma1))                      # saturated model, first order
    mu_b, var_b = pats.available()
    sigma_b = np.diag(var_b)
    Db = _baseline_delta(p, [], True)
    out = Robust(Ai / n)
    version = "V6"
    if estimator == "MLR":
        B0 = _outer(pats.scores(mu, sigma), D)
        out.vcov = _sandwich(Ai, B0, n)
        tr_h1 = float(np.trace(np.linalg.solve(Wm, Jm)))
        tr_h0 = float(np.sum(Ai * B0))
        Ab = Db.T @ pats.information(mu_b, sigma_b, observed=True) @ Db
        B0b = _outer(pats.scores(mu_b, sigma_b), Db)
        tr_b = float(np.sum(np.linalg.inv(Ab) * B0b))
        out.scaling, out.scaling_baseline = _ratio(tr_h1 - tr_h0, df), _ratio(tr_h1 - tr_b, df_b)
        version = "V3"
    out.fiml = _fiml_corrected(Wm, Jm, mu1, sigma1, (mu, sigma, D, df), (mu_b, sigma_b, Db, df_b), n,
                               version)
    return out


def _fiml_corrected(Wm, Jm, mu1, sigma1, model, baseline, n, version):
    """lavaan's FIML-C: XX3 = N F_ML of the estimates against the EM moments, and c3 = k / df
    with k = tr(U Wm^-1 Wc Wm^-1 U Gamma) (V3, Gamma = Wm^-1 Jm Wm^-1) or tr(Wc Wm^-1 U Wm^-1)
    (V6), U = Wm - Wm D (D' Wm D)^-1 D' Wm, Wc the complete-data information at the EM moments.
    With R = Wm^-1 U Wm^-1 = Wm^-1 - D (D' Wm D)^-1 D': V3 k = tr(R Wc R Jm), V6 k = tr(Wc R)."""
    Wc = normal_information(sigma1)
    Wmi = np.linalg.inv(Wm)
    out = {}
    for name, (mu, sigma, D, df) in (("model", model), ("baseline", baseline)):
        R = Wmi - D @ np.linalg.solve(D.T @ Wm @ D, D.T)
        k = float(np.sum((R @ Wc) * (R @ Jm).T)) if version == "V3" else float(np.sum(Wc * R))
        out[name] = (n * _f_ml(mu, sigma, mu1, sigma1), df, k / df if df > 0 else np.nan)
    return out


def _f_ml(mu, sigma, m, S):
    """F_ML with a mean structure: log|Sigma| + tr(S Sigma^-1) - log|S| - p + (m - mu)' Sigma^-1 (m - mu)."""
    V = np.linalg.inv(sigma)
    d = m - mu
    return float(np.linalg.slogdet(sigma)[1] + np.trace(S @ V) - np.linalg.slogdet(S)[1] - len(S) + d @ V @ d)


def _ratio(trace, df):
    if df <= 0:
        return np.nan
    c = trace / df
    return c if c >= 0 else np.nan
