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
    [cause] = r.measures["diagnosis"]          # said once: the loading beyond 1 follows from it
    assert cause.startswith("Negative residual variance of indicator x1") and "loading exceeds 1" in cause


def test_constructs_correlating_beyond_one():
    within, across = .5, .6            # implied factor correlation .6 / .5 = 1.2
    R = np.full((6, 6), across)
    R[:3, :3] = R[3:, 3:] = within
    np.fill_diagonal(R, 1)
    r = sem.estimate("A =~ x1 + x2 + x3\nB =~ x4 + x5 + x6", data_with_cov(R))
    assert not r.measures["admissible"]
    [cause] = r.measures["diagnosis"]
    assert "B and A correlate 1.200, beyond ±1" in cause or "A and B correlate 1.200, beyond ±1" in cause
    assert "not positive definite" in cause and "carried by" in cause and "HTMT" in cause


def test_empirical_under_identification():
    # two 2-indicator factors that do not correlate: their loadings are not identified
    R = np.eye(4)
    R[0, 1] = R[1, 0] = R[2, 3] = R[3, 2] = .5
    r = sem.estimate("A =~ x1 + x2\nB =~ x3 + x4", data_with_cov(R))
    assert not r.measures["admissible"]
    text = " ".join(r.measures["diagnosis"])
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
    assert r.measures["admissible"] and r.measures["diagnosis"] == [] and r.measures["warnings"] == []
    assert r.measures["iterations"] > 0 and r.measures["max_gradient"] < sem.GRAD_TOL


def test_a_regression_path_beyond_one_is_named_as_a_path():
    # suppression: beta_1 = (.8 - .9 * .6) / (1 - .9^2) = 1.368 with a proper solution (R² = .72)
    d = data_with_cov([[1, .9, .8], [.9, 1, .6], [.8, .6, 1]])
    d.columns = ["x1", "x2", "y"]
    r = sem.estimate("y ~ x1 + x2", d)
    assert r.measures["admissible"]
    [caution] = r.measures["warnings"]
    assert caution.startswith("Standardized path x1 → y is 1.368") and "collinearity" in caution
    assert "loading" not in caution and "correlation of" not in caution.lower()


def test_constructs_nearly_the_same_are_named():
    # two factors correlating .97 and a third explained almost entirely by the first (R² = .96)
    lam = .8
    phi = np.array([[1, .97, .98], [.97, 1, .95], [.98, .95, 1]])
    L = np.kron(np.eye(3), np.full((3, 1), lam))
    R = L @ phi @ L.T
    np.fill_diagonal(R, 1)
    d = data_with_cov(R, n=2000)
    r = sem.estimate("A =~ x1 + x2 + x3\nB =~ x4 + x5 + x6\nC =~ x7 + x8 + x9\nC ~ A", d)
    text = " ".join(r.measures["warnings"] + r.measures["diagnosis"])
    assert "Constructs nearly the same" in text and "A and B" in text or "B and A" in text
    assert "C (R² = 0.96" in text


def test_an_inadmissible_solution_is_not_bootstrapped():
    d = data_with_cov([[1, .8, .8], [.8, 1, .5], [.8, .5, 1]])
    r = sem.estimate("F =~ x1 + x2 + x3", d, bootstrap=200, seed=1)
    assert not r.measures["admissible"]
    assert r.measures["bootstrap"]["drawn"] == 0 and "withheld" in r.measures["bootstrap"]
    assert r.bootstrap["ci_lower"].isna().all() and r.estimates["ci_lower"].isna().all()


def test_a_bootstrap_whose_draws_mostly_fail_stops_early(monkeypatch):
    from csi import bootstrap

    d = data_with_cov([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    monkeypatch.setattr(bootstrap, "_replicate", lambda b: (b, np.nan, np.nan, False, False, None))   # every draw fails
    r = sem.estimate("F =~ x1 + x2 + x3", d, bootstrap=1000, seed=1)
    b = r.measures["bootstrap"]
    assert b["stopped_early"] and b["drawn"] == bootstrap.CHECK_EVERY and b["not_converged"] == b["drawn"]
    assert "stopped after 50 of 1000 draws" in b["verdict"] and b["verdict"] in r.measures["warnings"]
    assert r.bootstrap["ci_lower"].isna().all()


def test_a_district_whose_model_is_not_admissible_has_no_rank_in_the_league(tmp_path):
    """Its withheld (empty) index is neither ranked nor printed as a number."""
    from csi import compare

    for name, value in (("a", 80.0), ("b", np.nan), ("c", 70.0)):
        (tmp_path / name / "model").mkdir(parents=True)
        pd.DataFrame({"construct": ["SAT"], "index": [value], "ci_lower": [value - 2], "ci_upper": [value + 2]}
                     ).to_csv(tmp_path / name / "model/index.csv", index=False)
    t = compare.league({n: tmp_path / n for n in "abc"}, {}, True, "comparable").set_index("district")
    assert t.loc["a", "rank"] == 1 and t.loc["c", "rank"] == 2 and pd.isna(t.loc["b", "rank"])


def test_covariances_the_user_did_not_write_are_noted():
    """As lavaan's sem(), the residuals of outcomes that predict nothing covary: fit.json says so."""
    d = data_with_cov([[1, .5, .4], [.5, 1, .3], [.4, .3, 1]])
    d.columns = ["x", "y1", "y2"]
    r = sem.estimate("y1 ~ x\ny2 ~ x", d)
    [note] = r.measures["notes"]
    assert "covary freely although the model does not write it: y1 ~~ y2" in note and "0*" in note
    est = r.estimates.set_index(["lhs", "op", "rhs"])
    assert est.loc[("y1", "~~", "y2"), "est"] == pytest.approx(.3 - .5 * .4, abs=1e-6)
