"""Priorities within each respondent group (groups.py): each group is fitted to its own rows only
(checked against lavaan on the same rows), and a group the model cannot be fitted to gets a reason,
not numbers."""

import numpy as np
import pandas as pd
import pytest

from csi import codebook, groups, index, sem

from conftest import CODEBOOK, ROOT

FIX = ROOT / "tests/fixtures/lavaan"
TEXT = (ROOT / "data/models/csi_government.lavaan").read_text()


@pytest.fixture(scope="module")
def tables():
    a = pd.read_csv(FIX / "chengdu_a.csv").assign(kind="a")       # lavaan's fixture: fit known
    b = a.head(6).assign(kind="b")                                  # too few rows for 20 items
    data = pd.concat([b, a], ignore_index=True)                     # the small group first: order by size
    return groups.analyse(TEXT, data, "kind", codebook.load(CODEBOOK), "SAT", estimator="ML", missing="listwise")


def test_a_group_is_fitted_to_its_own_rows_as_lavaan_fits_them(tables):
    lav = pd.read_csv(FIX / "chengdu_a.fit.csv").set_index("measure")["value"]
    lav = pd.to_numeric(lav, errors="coerce")
    f = tables["fit_by_group.csv"].set_index("group")
    assert list(f.index) == ["a", "b"]                              # largest group first
    assert f.loc["a", "n"] == 1000 and f.loc["a", "admissible"]
    assert f.loc["a", "chisq"] == pytest.approx(lav["chisq"], rel=1e-6)
    assert f.loc["a", "cfi"] == pytest.approx(lav["cfi"], rel=1e-6)
    assert f.loc["a", "df"] == lav["df"]


def test_a_groups_priorities_are_those_of_its_rows_alone(tables):
    data = pd.read_csv(FIX / "chengdu_a.csv")
    r = sem.estimate(TEXT, data)
    s = index.spec(r.model, TEXT, codebook.load(CODEBOOK), "SAT")
    _, ipma = index.tables(r, s, r.data.to_numpy(float), None)
    got = tables["ipma_by_group.csv"]
    got = got[got["group"] == "a"].reset_index(drop=True)
    assert list(got["driver"]) == list(ipma["driver"])
    assert np.allclose(got["potential"], ipma["potential"], rtol=1e-9)
    prio = tables["priorities_by_group.csv"]
    assert set(prio.loc[prio["group"] == "a", "driver"]) == set(ipma["driver"])


def test_a_group_that_cannot_be_fitted_gets_a_reason_and_no_numbers(tables):
    f = tables["fit_by_group.csv"].set_index("group")
    assert not f.loc["b", "admissible"] and f.loc["b", "n"] == 6
    assert f.loc["b", "reason"]                                    # the checks' message, said in the report
    assert f.loc["b", "reason_kind"] == "data"                     # so a Chinese report can say it in Chinese
    assert set(f.loc[f["admissible"], "reason_kind"].fillna("")) == {""}
    assert (tables["ipma_by_group.csv"]["group"] != "b").all()
