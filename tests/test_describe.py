"""Differences between respondent types' top-box rates: Newcombe's CI against his published
examples, the exact test where a cell is small, and the Holm adjustment over the indicators."""

import numpy as np
import pandas as pd
import pytest

from csi import codebook, describe

from conftest import CODEBOOK


@pytest.mark.parametrize("counts, ci", [((56, 70, 48, 80), (0.0524, 0.3339)),     # Newcombe (1998), Table II,
                                        ((9, 10, 3, 10), (0.1705, 0.8090))])     # method 10 (hybrid score)
def test_newcombe_interval_of_the_difference(counts, ci):
    d = describe.difference(*counts)
    assert d["diff"] == pytest.approx(counts[0] / counts[1] - counts[2] / counts[3])
    assert (round(d["diff_ci_lower"], 4), round(d["diff_ci_upper"], 4)) == ci


def test_small_cells_get_fishers_exact_test():
    d = describe.difference(9, 10, 3, 10)          # expected cells below 5
    assert d["test"] == "exact" and d["p_value"] == pytest.approx(0.01977, abs=1e-4)   # R: fisher.test
    assert describe.difference(560, 700, 480, 800)["test"] == "score"
    assert np.isnan(describe.difference(10, 10, 5, 5)["p_value"])                     # no variation: no test


def test_top_box_p_values_are_holm_adjusted_over_the_items():
    from statsmodels.stats.multitest import multipletests

    cb = codebook.load(CODEBOOK)
    col, levels = describe.groups(cb)
    rng = np.random.default_rng(4)
    n = 400
    data = pd.DataFrame({c: rng.integers(cb.scale_of(c).min, cb.scale_of(c).max + 1, n).astype(float)
                         for c in cb.item_codes})
    data[col] = rng.choice(levels, n)
    top = describe.top_box(data, cb)
    ok = top["p_value"].notna()
    assert ok.sum() == len(cb.item_codes)
    assert np.allclose(top.loc[ok, "p_holm"], multipletests(top.loc[ok, "p_value"], method="holm")[1])
    assert (top["p_holm"] >= top["p_value"]).all()
    assert ((top["diff_ci_lower"] <= top["diff"]) & (top["diff"] <= top["diff_ci_upper"])).all()
