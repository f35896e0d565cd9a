"""Improper solutions are detected and explained, never reported as fine."""

import numpy as np
import pandas as pd
import pytest

from csi import sem


def data_with_cov(R, n=500, seed=1):
    """Data whose sample covariance (divisor N) is exactly R."""
    rng = np.random.default_rng(seed)
    Z = rng.standard_normal((n, len(R)))
    Z -= Z.mean(axis=0)
    Z = Z @ np.linalg.inv(np.linalg.cholesky(Z.T @ Z / n)).T
    X = Z @ np.linalg.cholesky(np.asarray(R)).T
    return pd.DataFrame(X, columns=[f"x{i + 1}" for i in range(len(R))])


def test_heywood_case():
    # lambda_1^2 = r12 * r13 / r23 = 1.28 > 1: the residual variance of x1 must be negative
    d = data_with_cov([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    r = sem.estimate("F =~ x1 + x2 + x3", d)
    est = r.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("x1", "~~", "x1"), "est"] == pytest.approx(1 - 1.28, abs=1e-6)
    assert r.measures["converged"] and not r.measures["admissible"]
    text = " ".join(r.measures["warnings"])
    assert "Negative variance (Heywood case) for x1" in text
    assert "Standardized estimate beyond ±1 for F =~ x1" in text


def test_constructs_correlating_beyond_one():
    within, across = .5, .6            # implied factor correlation .6 / .5 = 1.2
    R = np.full((6, 6), across)
    R[:3, :3] = R[3:, 3:] = within
    np.fill_diagonal(R, 1)
    r = sem.estimate("A =~ x1 + x2 + x3\nB =~ x4 + x5 + x6", data_with_cov(R))
    assert not r.measures["admissible"]
    text = " ".join(r.measures["warnings"])
    assert "latent covariance matrix is not positive definite" in text
    assert "beyond ±1 for A ~~ B" in text


def test_empirical_under_identification():
    # two 2-indicator factors that do not correlate: their loadings are not identified
    R = np.eye(4)
    R[0, 1] = R[1, 0] = R[2, 3] = R[3, 2] = .5
    r = sem.estimate("A =~ x1 + x2\nB =~ x3 + x4", data_with_cov(R))
    assert not r.measures["admissible"]
    text = " ".join(r.measures["warnings"])
    assert "not identified" in text or "Not converged" in text


def test_non_convergence_is_reported():
    d = data_with_cov([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    model = sem.Model("F =~ x1 + x2 + x3", d)
    S = sem.sample_cov(d[model.observed].to_numpy())
    fit = model._scoring(model.start, S, np.linalg.slogdet(S)[1], max_iter=1)
    assert not fit.converged
    table = sem.parameter_table(model, fit, len(d))
    assert any(w.startswith("Not converged") for w in sem.admissibility(model, fit, table))


def test_a_proper_model_is_admissible():
    d = data_with_cov([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    r = sem.estimate("F =~ x1 + x2 + x3", d)
    assert r.measures["admissible"] and r.measures["warnings"] == []
