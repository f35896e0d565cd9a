"""CSI index and IPMA: bounds, weights, and importance checked against the model's mean structure."""

import numpy as np
import pandas as pd
import pytest

from csi import codebook, index, sem

from conftest import CODEBOOK, ROOT

FIX = ROOT / "tests/fixtures/lavaan"
TEXT = (ROOT / "data/models/csi_government.lavaan").read_text()


@pytest.fixture(scope="module")
def fitted():
    data = pd.read_csv(FIX / "chengdu_a.csv")
    r = sem.estimate(TEXT, data)
    return r, index.spec(r.model, TEXT, codebook.load(CODEBOOK), "SAT")


def test_index_is_0_at_the_lowest_and_100_at_the_highest_answers(fitted):
    r, s = fitted
    k = len(s.constructs)
    assert np.allclose(index.values(r.model, r.fit.x, s.lo, s)[:k], 0)
    assert np.allclose(index.values(r.model, r.fit.x, s.lo + s.rng, s)[:k], 100)


def test_weights_are_positive_and_sum_to_one(fitted):
    r, s = fitted
    w = index.weights(r.model, r.fit.x, s)
    assert (w["weight"] > 0).all()
    assert np.allclose(w.groupby("construct")["weight"].sum(), 1)


def test_importance_is_the_index_change_implied_by_the_model(fitted):
    """Shift a driver's latent mean: item means move by Lambda C e; the SAT index must move by
    importance x the driver's index change (a path through the mean structure, not the formula)."""
    r, s = fitted
    model, x = r.model, r.fit.x
    B, L, P, T = model.matrices(x)
    C = np.linalg.inv(np.eye(model.m) - B)
    base_means = r.data.to_numpy(float).mean(axis=0)
    base = index.values(model, x, base_means, s)
    k = len(s.constructs)
    for d_i, driver in enumerate(s.drivers):
        shift = L @ C[:, model.inner.index(driver)] * 0.1
        moved = index.values(model, x, base_means + shift, s)
        d_driver = moved[s.constructs.index(driver)] - base[s.constructs.index(driver)]
        d_sat = moved[s.constructs.index("SAT")] - base[s.constructs.index("SAT")]
        assert d_sat / d_driver == pytest.approx(base[k + d_i], rel=1e-9)


def test_priorities_rank_by_potential(fitted):
    r, s = fitted
    idx, ipma = index.tables(r, s, r.data.to_numpy(float), None)
    assert list(ipma["priority"]) == [1, 2, 3, 4]
    assert ipma["potential"].is_monotonic_decreasing
    assert np.allclose(ipma["potential"], ipma["importance"] * (100 - ipma["performance"]))


def test_ordinal_importance_is_the_index_change_of_the_expected_answers():
    """WLSMV: shift a driver's latent mean by a small d; each item's latent response y* (variance 1)
    moves by its loading path x d, and its expected answer, sum_k v_k P(category k), follows from
    the normal CDF at the thresholds. The SAT index must move by importance x the driver's index
    change, and the index of the expected answers at d = 0 is the index of the item means."""
    from scipy import stats

    data = pd.read_csv(FIX / "chengdu_a.csv").dropna()
    r = sem.estimate(TEXT, data, estimator="WLSMV", ordered="all")
    s = index.spec(r.model, TEXT, codebook.load(CODEBOOK), "SAT")
    model, x, X = r.model, r.fit.x, r.data.to_numpy(float)
    idx, ipma = index.tables(r, s, X, None)
    B, L, P, T = model.matrices(x)
    C = np.linalg.inv(np.eye(model.m) - B)

    def expected(shift):       # E[answer] per item with y* ~ N(shift, 1), sample thresholds
        out = []
        for j, col in enumerate(X.T):
            v, counts = np.unique(col, return_counts=True)
            tau = stats.norm.ppf(np.cumsum(counts)[:-1] / len(col))
            out.append(v[0] + np.sum(np.diff(v) * stats.norm.sf(tau - shift[j])))
        return np.array(out)

    k = len(s.constructs)
    base = index.values(model, x, expected(np.zeros(model.p)), s)
    assert np.allclose(base[:k], idx["index"], atol=1e-9)
    imp = ipma.set_index("driver")["importance"]
    for driver in s.drivers:
        d = 1e-5
        moved = index.values(model, x, expected(L @ C[:, model.inner.index(driver)] * d), s)
        d_driver = moved[s.constructs.index(driver)] - base[s.constructs.index(driver)]
        d_sat = moved[s.constructs.index("SAT")] - base[s.constructs.index("SAT")]
        assert d_sat / d_driver == pytest.approx(imp[driver], rel=1e-4)
