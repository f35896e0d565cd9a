"""The estimator chosen for the data (auto): Mardia's tests against semTools, and the choices on
data whose distribution and missingness are known."""

import numpy as np
import pandas as pd
import pytest

from csi import sem

from conftest import ROOT

FIX = ROOT / "tests/fixtures/lavaan"
NINE = [f"x{i}" for i in range(1, 10)]


@pytest.mark.parametrize("name, cols", [("chengdu_a", None), ("holzinger1939", NINE),
                                        ("holzinger1939_missing", NINE)])
def test_mardia_matches_semtools(name, cols):
    X = pd.read_csv(FIX / f"{name}.csv")
    X = (X[cols] if cols else X).dropna().to_numpy(float)
    ref = pd.read_csv(FIX / f"{name}.mardia.csv").set_index("measure")["value"]
    m = sem.mardia(X)
    assert m["n"] == int(ref["n"])
    for k in ("b1d", "skew_chi", "skew_p", "b2d", "kurtosis_z", "kurtosis_p"):
        assert m[k] == pytest.approx(float(ref[k]), rel=1e-8, abs=1e-12), k


def test_skewed_survey_items_get_mlr_and_skipped_items_fiml():
    d = pd.read_csv(FIX / "chengdu_a.csv")       # 65 of 1,000 respondents skipped an item
    c = sem.choose(d, list(d.columns))
    assert (c.estimator, c.missing) == ("MLR", "fiml")
    assert "z = 99.7" in c.reasons["estimator"] and "65 respondents (6.5%)" in c.reasons["missing"]
    c = sem.choose(d.dropna(), list(d.columns))
    assert c.missing == "listwise" and "every respondent answered" in c.reasons["missing"]


def test_normal_data_keep_ml_and_skipped_items_get_fiml():
    """Known truth: multivariate normal draws (Mardia's tests hold their level), 5% of cells blank."""
    rng = np.random.default_rng(3)
    A = rng.normal(size=(6, 6))
    X = rng.multivariate_normal(np.zeros(6), A @ A.T + np.eye(6), size=800)
    X[rng.random(X.shape) < 0.05] = np.nan
    d = pd.DataFrame(X, columns=list("abcdef"))
    c = sem.choose(d, list(d.columns))
    assert (c.estimator, c.missing) == ("ML", "fiml")
    n_incomplete = int(d.isna().any(axis=1).sum())
    assert f"FIML: {n_incomplete} respondents" in c.reasons["missing"]


def test_what_cannot_be_fiml_is_listwise_with_the_reason():
    d = pd.read_csv(FIX / "holzinger1939_missing.csv")
    c = sem.choose(d, NINE + ["ageyr"], exogenous=["ageyr"])
    assert c.missing == "listwise" and "exogenous observed covariates (ageyr)" in c.reasons["missing"]
    c = sem.choose(d, NINE, estimator="MLM")
    assert (c.estimator, c.missing) == ("MLM", "listwise") and "MLM needs complete data" in c.reasons["missing"]
    c = sem.choose(d, NINE, estimator="ML", missing="listwise")
    assert (c.estimator, c.missing) == ("ML", "listwise")
    assert "chosen in the configuration" in c.reasons["estimator"]


def test_auto_fits_what_it_chose_and_says_why():
    d = pd.read_csv(FIX / "holzinger1939_missing.csv")
    text = (FIX / "holzinger1939.lavaan").read_text()
    auto = sem.estimate(text, d, estimator="auto", missing="auto")
    given = sem.estimate(text, d, estimator="MLR", missing="fiml")
    assert (auto.measures["estimator"], auto.measures["missing"]) == ("MLR", "fiml")
    assert auto.measures["choice"]["estimator"].startswith("MLR") and auto.measures["choice"]["mardia"]["n"] > 0
    pd.testing.assert_frame_equal(auto.estimates, given.estimates)
