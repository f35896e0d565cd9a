"""Parameter recovery: data drawn from the simulator's known population CSI model.

The population model (config/simulation.yaml) is the default CSI model with known standardized
loadings and paths. Fitting the model to the population covariance must return exactly those
values; a Monte Carlo study (continuous responses, n = 500) must show small bias and 95% CIs
that cover the truth about 95% of the time.
"""

import numpy as np
import pandas as pd
import pytest

from csi import codebook, sem, simulate

from conftest import CODEBOOK, ROOT

SPEC = simulate.load_spec(ROOT / "config/simulation.yaml")
POP = simulate.build_population(SPEC, codebook.load(CODEBOOK))
MODEL = (ROOT / "data/models/csi_government.lavaan").read_text()
ITEMS, SIGMA = POP.item_covariance()


@pytest.fixture(scope="module")
def truth():
    draws = np.random.default_rng(1).standard_normal((2000, len(ITEMS))) @ np.linalg.cholesky(SIGMA).T
    model = sem.Model(MODEL, pd.DataFrame(draws, columns=ITEMS))   # data only for start values
    order = [ITEMS.index(v) for v in model.observed]
    S = SIGMA[np.ix_(order, order)]
    fit = model.fit(S)
    assert fit.converged and fit.fmin < 1e-12   # the model reproduces the population exactly
    return model, S, fit, sem.parameter_table(model, fit, 10**6)


def test_population_fit_returns_the_known_parameters(truth):
    model, S, fit, table = truth
    t = table.set_index(["lhs", "op", "rhs"])["std_all"]
    for item, lam in POP.loadings.items():
        c = POP.construct_of[item]
        if c != "CMP":
            assert t[c, "=~", item] == pytest.approx(lam, abs=1e-6)
    for dst, srcs in POP.structural.items():
        for src, b in srcs.items():
            lhs = "cmp_complained" if dst == "CMP" else dst
            rhs = "cmp_complained" if src == "CMP" else src
            assert t[lhs, "~", rhs] == pytest.approx(b, abs=1e-6)
    assert t["LOC", "~~", "INF"] == pytest.approx(POP.corr, abs=1e-6)


@pytest.mark.slow
def test_monte_carlo_bias_and_coverage(truth):
    model, S, fit, table = truth
    true_x = fit.x
    reps, n = 300, 500
    rng = np.random.default_rng(20211122)
    L = np.linalg.cholesky(S)
    hits = np.zeros(len(true_x))
    est = np.zeros((reps, len(true_x)))
    info_inv = np.linalg.pinv(fit.information)
    for r in range(reps):
        X = rng.standard_normal((n, len(S))) @ L.T
        Sr = sem.sample_cov(X)
        x, ok, _ = model.refit(true_x, Sr, info_inv)
        assert ok
        H = model.score(x, Sr)[1]
        se = np.sqrt(np.diag(np.linalg.inv(H / 2)) / n)
        hits += np.abs(x - true_x) <= 1.959964 * se
        est[r] = x
    coverage = hits / reps
    bias = est.mean(axis=0) - true_x
    # each bias is practically negligible or not distinguishable from zero (< 3 Monte Carlo
    # SEs). Loadings and paths: negligible = 2.5% of the true value. (Co)variances: 5%, since ML
    # variance components carry a known O(1/n) downward bias (about -2% for the SAT
    # disturbance at n = 500, like a residual variance divided by n instead of n - k - 1).
    mc_se = est.std(axis=0, ddof=1) / np.sqrt(reps)
    layout = sem.Layout.of(model, true_x)
    is_cov = np.zeros(len(true_x), bool)
    for lhs, op, rhs, k, i, j, pi in layout.rows:
        if pi is not None and op == "~~":
            is_cov[pi] = True
    limit = np.where(is_cov, 0.05, 0.025) * np.abs(true_x)
    ok = (np.abs(bias) < limit) | (np.abs(bias) < 3 * mc_se)
    assert ok.all(), [layout.rows[i][:3] for i in range(len(layout.rows)) if layout.rows[i][6] in np.flatnonzero(~ok)]
    assert np.mean(np.abs(bias / true_x)) < 0.01
    # MC standard error of one coverage rate with 300 reps is 1.3 points
    assert 0.935 <= coverage.mean() <= 0.965, coverage.mean()
    assert coverage.min() >= 0.89, coverage.min()
