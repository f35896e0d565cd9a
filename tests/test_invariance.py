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
    steps = ours.loc[["configural", "metric", "scalar"]]
    assert steps["chisq"].round(3).tolist() == [115.851, 124.044, 164.103]
    assert steps["df"].tolist() == [48, 54, 60]


def test_deltas_and_verdicts(hs):
    t = hs.set_index("model")
    assert t.loc["metric", "delta_df"] == 6 and t.loc["scalar", "delta_df"] == 6
    assert t.loc["metric", "verdict"].startswith("metric invariance holds")
    assert "does NOT hold" in t.loc["scalar", "verdict"]


def two_group_data(loading_b: float, n=600, seed=3, intercept_b=None):
    """Two groups of a 2-factor CFA; group B's x2 loading is `loading_b` (A: 0.8); group B's factor
    means are (0.3, 0.2) (A: 0), so in lavaan's marker scaling (x1, x4 loadings 0.8) the true latent
    mean differences are (0.24, 0.16). intercept_b: {item index: intercept in group B} (all 3 else)."""
    rng = np.random.default_rng(seed)
    frames = []
    for g, lam2 in (("A", 0.8), ("B", loading_b)):
        f = rng.multivariate_normal([0, 0] if g == "A" else [0.3, 0.2], [[1, .4], [.4, 1]], n)
        lam = np.array([[.8, 0], [lam2, 0], [.7, 0], [0, .8], [0, .75], [0, .7]])
        nu = np.full(6, 3.0)
        if g == "B" and intercept_b:
            for i, v in intercept_b.items():
                nu[i] = v
        x = f @ lam.T + rng.normal(0, .6, (n, 6)) + nu
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
    assert set(cols) <= set(t.columns) and t["model"].tolist() == ["configural", "metric", "scalar",
                                                                   "scalar (partial)"]
    lm = pd.read_csv(tmp_path / "latent_means.csv")
    assert lm["model"].eq("scalar (partial)").all() and len(lm) == 3


def test_command_robust_estimator(tmp_path):
    from csi.cli import main

    assert main(["invariance", str(FIX / "holzinger1939.lavaan"), str(FIX / "holzinger1939.csv"),
                 "--group", "school", "--estimator", "MLR", "--no-partial", "--out", str(tmp_path)]) == 0
    t = pd.read_csv(tmp_path / "invariance.csv")
    assert t["model"].tolist() == ["configural", "metric", "scalar"]
    assert {"chisq_scaled", "chisq_scaling_factor", "cfi_robust", "rmsea_robust", "delta_chisq_scaled"} <= set(t.columns)
    lm = pd.read_csv(tmp_path / "latent_means.csv")
    assert lm["estimator"].eq("MLR").all() and lm["model"].eq("scalar").all()


# --- robust estimators, partial invariance and latent means against lavaan ------------------------

TEXT = (FIX / "holzinger1939.lavaan").read_text()
ROBUST = {"chisq_scaled": "chisq.scaled", "chisq_scaling_factor": "chisq.scaling.factor",
          "pvalue_scaled": "pvalue.scaled", "cfi_robust": "cfi.robust", "tli_robust": "tli.robust",
          "rmsea_robust": "rmsea.robust"}
STEM = {"ML": "holzinger1939.invariance", "MLR": "holzinger1939_mlr.invariance",
        "MLM": "holzinger1939_mlm.invariance"}


def close(a, b, tol=1e-3):
    return abs(a - b) <= tol * max(1.0, abs(b))


def ref(estimator, part=""):
    return pd.read_csv(FIX / f"{STEM[estimator]}{part}.csv")


@pytest.fixture(scope="module")
def fitted():
    d = pd.read_csv(FIX / "holzinger1939.csv")
    return {e: invariance.analyse(TEXT, d, "school", e) for e in ("ML", "MLR", "MLM")}


@pytest.mark.parametrize("estimator", ["MLR", "MLM"])
def test_robust_steps_match_lavaan(fitted, estimator):
    ours = fitted[estimator].table.set_index("model")
    theirs = ref(estimator).set_index("model")
    for step in ("configural", "metric", "scalar"):
        for k, r in {**NAMES, **ROBUST}.items():
            assert close(ours.loc[step, k], theirs.loc[step, r]), (estimator, step, k, ours.loc[step, k],
                                                                   theirs.loc[step, r])


@pytest.mark.parametrize("estimator", ["ML", "MLR", "MLM"])
def test_difference_tests_match_lavaan_lrt(fitted, estimator):
    """lavTestLRT(configural, metric, scalar); MLR/MLM: method = "satorra.bentler.2001"."""
    ours = fitted[estimator].table.set_index("model")
    lrt = ref(estimator, ".lrt").set_index("model")
    diff = "delta_chisq" if estimator == "ML" else "delta_chisq_scaled"
    for step in ("metric", "scalar"):
        assert ours.loc[step, "compared_with"] == {"metric": "configural", "scalar": "metric"}[step]
        assert ours.loc[step, "delta_df"] == lrt.loc[step, "df_diff"]
        assert close(ours.loc[step, diff], lrt.loc[step, "chisq_diff"])
        assert close(ours.loc[step, "delta_pvalue"], lrt.loc[step, "pvalue"])


def test_score_tests_match_lavtestscore(fitted):
    scalar = fitted["ML"].fits["scalar"]
    ours = invariance.score_tests(scalar.mg, scalar.theta).set_index("param")
    theirs = ref("ML", ".score").set_index("param")
    assert sorted(ours.index) == sorted(theirs.index)      # marker loadings are not constrained
    for param, r in theirs.iterrows():
        assert close(ours.loc[param, "X2"], r["X2"]), (param, ours.loc[param, "X2"], r["X2"])
        assert ours.loc[param, "group"] == "Grant-White"


@pytest.mark.parametrize("estimator", ["ML", "MLR", "MLM"])
def test_partial_scalar_matches_lavaan_group_partial(fitted, estimator):
    """lavaan's greedy search (lavTestScore, then group.partial) frees the same intercepts in the same
    order with the same statistics, and the partial model fits as cfa(..., group.partial = )."""
    res = fitted[estimator]
    t = res.table.set_index("model")
    steps = ref(estimator, ".partial")
    assert t.loc["scalar (partial)", "freed"] == "; ".join(steps["freed"])
    released = res.score_tests.groupby("iteration").apply(
        lambda s: s.loc[s["param"] == s["released"].iloc[0], "X2"].iloc[0])
    assert np.allclose(released.to_numpy(), steps["X2"].to_numpy(), rtol=1e-3)
    last = steps.iloc[-1]
    names = {**NAMES, **(ROBUST if estimator != "ML" else {})}
    for k, r in names.items():
        assert close(t.loc["scalar (partial)", k], last[r]), (k, t.loc["scalar (partial)", k], last[r])
    assert t.loc["scalar (partial)", "verdict"].startswith("partial scalar invariance holds")
    assert t.loc["scalar (partial)", "compared_with"] == "metric"


@pytest.mark.parametrize("estimator", ["ML", "MLR", "MLM"])
def test_latent_means_match_lavaan(fitted, estimator):
    res = fitted[estimator]
    theirs = ref(estimator, ".latent_means")
    ours = pd.concat([invariance.means_table(res.fits["scalar"], estimator), res.latent_means])
    assert res.latent_means["model"].eq("scalar (partial)").all() and res.latent_means["comparable"].all()
    ours = ours.set_index(["model", "factor", "group"])
    for _, r in theirs.iterrows():
        o = ours.loc[(r["model"], r["factor"], r["group"])]
        assert o["reference"] == "Pasteur"
        for k in ("est", "se", "z", "pvalue", "ci_lower", "ci_upper"):
            assert abs(o[k] - r[k]) <= 1e-3, (estimator, r["model"], r["factor"], k, o[k], r[k])


def test_planted_intercept_is_freed_and_latent_means_recovered():
    """Known truth: group B's x3 intercept is 3.6 (else 3): scalar invariance fails, the partial
    search frees x3~1 and nothing else, and the 95% CIs cover the true latent mean differences
    (0.8 * (0.3, 0.2) in the marker scaling)."""
    d = two_group_data(0.8, intercept_b={2: 3.6})
    res = invariance.analyse(MODEL, d, "g", "MLR")
    t = res.table.set_index("model")
    assert "does NOT hold" in t.loc["scalar", "verdict"]
    assert t.loc["scalar (partial)", "freed"] == "x3~1"
    assert t.loc["scalar (partial)", "verdict"].startswith("partial scalar invariance holds")
    lm = res.latent_means.set_index("factor")
    for factor, truth in (("F1", 0.8 * 0.3), ("F2", 0.8 * 0.2)):
        assert lm.loc[factor, "ci_lower"] <= truth <= lm.loc[factor, "ci_upper"], (factor, lm.loc[factor])


def test_planted_loading_is_freed_in_partial_metric():
    t = invariance.invariance(MODEL, two_group_data(0.2), "g").set_index("model")
    assert t.loc["metric (partial)", "freed"] == "F1=~x2"
    assert t.loc["scalar", "freed"] == "F1=~x2"        # the scalar step keeps it free
    assert t.loc["scalar", "compared_with"] == "metric (partial)"


def test_unknown_estimator_is_refused():
    with pytest.raises(ValueError):
        invariance.analyse(MODEL, two_group_data(0.8), "g", "GLS")


def test_three_groups_score_tests_and_partial_model_match_lavaan():
    """G = 3 (simulated, tests/fixtures/lavaan/three_groups.lavaan): one univariate score test per
    constraint row (group 1 against group 2 or 3), and the released intercept freed in all groups
    as lavaan's group.partial does."""
    d = pd.read_csv(FIX / "three_groups.csv")
    text = (FIX / "three_groups.lavaan").read_text()
    res = invariance.analyse(text, d, "g", "MLR", max_free=1)
    stem = "three_groups_mlr.invariance"
    scalar = res.fits["scalar"]
    ours = invariance.score_tests(scalar.mg, scalar.theta).set_index(["param", "group"])["X2"]
    theirs = pd.read_csv(FIX / f"{stem}.score.csv")
    assert len(ours) == len(theirs) == 20
    for _, r in theirs.iterrows():
        assert close(ours[(r["param"], "ABC"[r["group"] - 1])], r["X2"]), r
    t = res.table.set_index("model")
    fits = pd.read_csv(FIX / f"{stem}.csv").set_index("model")
    for step in ("configural", "metric", "scalar"):
        for k, r in ROBUST.items():
            assert close(t.loc[step, k], fits.loc[step, r]), (step, k)
    last = pd.read_csv(FIX / f"{stem}.partial.csv").iloc[-1]
    assert t.loc["scalar (partial)", "freed"] == last["freed"]
    for k, r in {"chisq": "chisq", "df": "df", **ROBUST}.items():
        assert close(t.loc["scalar (partial)", k], last[r]), k
    lrt = pd.read_csv(FIX / f"{stem}.lrt.csv").set_index("model")
    for step in ("metric", "scalar"):
        assert close(t.loc[step, "delta_pvalue"], lrt.loc[step, "pvalue"])
    lm = res.latent_means.set_index(["factor", "group"])
    for _, r in pd.read_csv(FIX / f"{stem}.latent_means.csv").query("model == 'scalar (partial)'").iterrows():
        for k in ("est", "se", "ci_lower", "ci_upper"):
            assert abs(lm.loc[(r["factor"], r["group"]), k] - r[k]) <= 1e-3, (r["factor"], r["group"], k)
