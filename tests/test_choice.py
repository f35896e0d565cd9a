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


def test_ordered_items_get_wlsmv_and_skipped_items_pairwise():
    """auto with the codebook's ordered items: WLSMV when they are all the model's variables
    (pairwise deletion when some were skipped); a model mixing them with a continuous variable
    keeps the continuous estimators, and the reason says why."""
    d = pd.read_csv(FIX / "chengdu_a.csv")
    cols = list(d.columns)
    c = sem.choose(d, cols, ordered=cols)
    assert (c.estimator, c.missing) == ("WLSMV", "pairwise")
    assert c.rules["estimator"] == "ordinal" and "all 20 model variables are ordered" in c.reasons["estimator"]
    assert "5-point and 3-point scales and a two-category (yes/no) item" in c.reasons["estimator"]
    assert "65 respondents (6.5%)" in c.reasons["missing"] and "MCAR" in c.reasons["missing"]
    c = sem.choose(d.dropna(), cols, ordered=cols)
    assert (c.estimator, c.missing) == ("WLSMV", "listwise")
    c = sem.choose(d, cols, ordered=cols[:-1])
    assert (c.estimator, c.missing) == ("MLR", "fiml") and c.record()["ordered_mixed"]
    assert "analysed as continuous" in c.reasons["estimator"]
    c = sem.choose(d, cols, estimator="MLR", ordered=cols)       # a given estimator is kept
    assert c.estimator == "MLR" and c.rules["estimator"] == "given"


def test_codebook_decides_which_items_are_ordered(tmp_path):
    """At most 7 categories: ordered, unless the scale says `ordered: false`; a 1-10 scale is
    continuous unless it says `ordered: true`."""
    import yaml

    from csi import codebook

    cb = codebook.load(ROOT / "data/codebooks/ssa_service_2021.yaml")
    assert cb.ordered_items(["sat_overall", "hnd_service", "cmp_complained", "not_in_codebook"]) == \
        ["sat_overall", "hnd_service", "cmp_complained"]
    ecsi = yaml.safe_load((ROOT / "data/codebooks/ecsi_example.yaml").read_text("utf-8"))
    items = [c["code"] for c in ecsi["columns"] if c.get("role") == "item"]
    assert codebook.Codebook(ecsi).ordered_items(items) == []          # 1-10 answers
    for scale in ecsi["scales"].values():
        scale["ordered"] = True
    assert codebook.Codebook(ecsi).ordered_items(items) == items
    data = yaml.safe_load((ROOT / "data/codebooks/ssa_service_2021.yaml").read_text("utf-8"))
    data["scales"]["sat5"]["ordered"] = False
    p = tmp_path / "cb.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    assert codebook.load(p).ordered_items(["sat_overall", "hnd_service"]) == ["hnd_service"]
