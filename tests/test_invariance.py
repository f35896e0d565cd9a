"""Measurement invariance against lavaan, and verdicts on simulated truths."""

import numpy as np
import pandas as pd
import pytest

from csi import invariance

from conftest import ROOT

FIX = ROOT / "tests/fixtures/lavaan"
NAMES = {"npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
         "rmsea": "rmsea", "srmr": "srmr", "aic": "aic", "bic": "bic", "loglik": "logl"}


@pytest.fixture(scope="module")
def hs():
    d = pd.read_csv(FIX / "holzinger1939.csv")
    return invariance.invariance((FIX / "holzinger1939.lavaan").read_text(), d, "school")


def test_matches_lavaan_group_equal(hs):
    ref = pd.read_csv(FIX / "holzinger1939.invariance.csv").set_index("model")
    ours = hs.set_index("model")
    for step in ("configural", "metric", "scalar"):
        for k, r in NAMES.items():
            a, b = ours.loc[step, k], ref.loc[step, r]
            assert abs(a - b) <= 1e-3 * max(1, abs(b)), (step, k, a, b)
        assert ours.loc[step, "converged"]
    # the lavaan tutorial's numbers
    assert ours["chisq"].round(3).tolist() == [115.851, 124.044, 164.103]
    assert ours["df"].tolist() == [48, 54, 60]


def test_deltas_and_verdicts(hs):
    t = hs.set_index("model")
    assert t.loc["metric", "delta_df"] == 6 and t.loc["scalar", "delta_df"] == 6
    assert t.loc["metric", "verdict"].startswith("metric invariance holds")
    assert "does NOT hold" in t.loc["scalar", "verdict"]


def two_group_data(loading_b: float, n=600, seed=3):
    """Two groups of a 2-factor CFA; group B's x2 loading is `loading_b` (A: 0.8)."""
    rng = np.random.default_rng(seed)
    frames = []
    for g, lam2 in (("A", 0.8), ("B", loading_b)):
        f = rng.multivariate_normal([0, 0] if g == "A" else [0.3, 0.2], [[1, .4], [.4, 1]], n)
        lam = np.array([[.8, 0], [lam2, 0], [.7, 0], [0, .8], [0, .75], [0, .7]])
        x = f @ lam.T + rng.normal(0, .6, (n, 6)) + 3
        frames.append(pd.DataFrame(x, columns=[f"x{i}" for i in range(1, 7)]).assign(g=g))
    return pd.concat(frames, ignore_index=True)


MODEL = "F1 =~ x1 + x2 + x3\nF2 =~ x4 + x5 + x6"


def test_invariant_population_passes_metric_and_scalar():
    t = invariance.invariance(MODEL, two_group_data(0.8), "g").set_index("model")
    assert t.loc["metric", "verdict"].startswith("metric invariance holds")
    assert t.loc["scalar", "verdict"].startswith("scalar invariance holds")


def test_a_different_loading_breaks_metric_invariance():
    t = invariance.invariance(MODEL, two_group_data(0.2), "g").set_index("model")
    assert "does NOT hold" in t.loc["metric", "verdict"]
    assert t.loc["metric", "delta_pvalue"] < 0.001


def test_command_writes_invariance_csv(tmp_path):
    from csi.cli import main

    assert main(["invariance", str(FIX / "holzinger1939.lavaan"), str(FIX / "holzinger1939.csv"),
                 "--group", "school", "--out", str(tmp_path)]) == 0
    t = pd.read_csv(tmp_path / "invariance.csv")
    cols = ["model", "chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "delta_chisq",
            "delta_df", "delta_pvalue", "delta_cfi", "delta_rmsea", "delta_srmr", "verdict"]
    assert set(cols) <= set(t.columns) and t["model"].tolist() == ["configural", "metric", "scalar"]
