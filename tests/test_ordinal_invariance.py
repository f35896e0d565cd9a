"""Measurement invariance with ordered items (WLSMV, Wu & Estabrook 2016) against lavaan 0.6-14 +
semTools::measEq.syntax (fixtures: scripts/lavaan_ordinal_invariance.R)."""

import numpy as np
import pandas as pd
import pytest

from csi import invariance
from csi.invariance.ordinal import STEPS, OrdinalGroups, factors_of, merge_empty, merges

FX = "tests/fixtures/lavaan/"
CASES = {"holzinger_groups": "listwise", "holzinger_groups_pairwise": "pairwise",
         "holzinger_groups_merged": "listwise"}
MEASURES = {"chisq": "chisq", "df": "df", "npar": "npar", "chisq.scaled": "chisq_scaled",
            "chisq.scaling.factor": "chisq_scaling_factor", "chisq.shift.parameter": "chisq_shift",
            "cfi.scaled": "cfi_scaled", "tli.scaled": "tli_scaled", "rmsea.scaled": "rmsea_scaled",
            "baseline.chisq": "baseline_chisq", "baseline.chisq.scaled": "baseline_chisq_scaled",
            "cfi": "cfi", "rmsea": "rmsea", "srmr": "srmr"}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    name = request.param
    model = open(FX + name + ".lavaan").read()
    data = pd.read_csv(FX + name + ".csv")
    og = OrdinalGroups(factors_of(model), data, "school", CASES[name])
    return name, og, {s: og.fit(s) for s in STEPS}


def test_fit_measures_match_lavaan(case):
    name, _, fits = case
    ref = pd.read_csv(FX + name + ".fit.csv")
    for step, f in fits.items():
        r = ref[ref.step == step].set_index("measure")["value"]
        assert r["converged"] == "TRUE" and f.row["converged"] and f.row["admissible"]
        for theirs, ours in MEASURES.items():
            assert f.row[ours] == pytest.approx(float(r[theirs]), rel=1e-6, abs=1e-6), (step, theirs)


def test_estimates_and_robust_se_match_lavaan(case):
    name, og, fits = case
    ref = pd.read_csv(FX + name + ".estimates.csv", keep_default_na=False)
    for step, f in fits.items():
        ours = og.parameters(f)
        theirs = ref[ref.step == step].astype({"est": float, "se": float})
        m = ours.merge(theirs, on=["group", "lhs", "op", "rhs"], suffixes=("", "_lavaan"))
        assert len(m) == len(theirs) == len(ours)       # thresholds, intercepts, scales, residuals too
        np.testing.assert_allclose(m["est"], m["est_lavaan"], atol=5e-5)
        np.testing.assert_allclose(m["se"], m["se_lavaan"], atol=1e-5)


def test_satorra_2000_differences_match_lavtestlrt(case):
    name, og, fits = case
    for r in pd.read_csv(FX + name + ".lrt.csv").itertuples():
        stat, df, p = og.difference(fits[r.compared_with], fits[r.step])
        assert df == r.df_diff
        assert stat == pytest.approx(r.chisq_diff, rel=1e-5)
        assert p == pytest.approx(r.pvalue, rel=1e-4, abs=1e-9)


def test_analyse_picks_wlsmv_for_ordered_items_and_reports_the_steps():
    model = open(FX + "holzinger_groups.lavaan").read()
    data = pd.read_csv(FX + "holzinger_groups.csv")
    items = [f"x{i}" for i in range(1, 10)]
    res = invariance.analyse(model, data, "school", "auto", ordered=items)
    t = res.table.set_index("model")
    assert list(t.index) == list(STEPS) and set(t["estimator"]) == {"WLSMV"}
    lrt = pd.read_csv(FX + "holzinger_groups.lrt.csv").set_index("step")
    assert t.loc["scalar", "delta_chisq_scaled"] == pytest.approx(lrt.loc["scalar", "chisq_diff"], rel=1e-5)
    # this data: delta CFI (scaled) of the scalar step is -.024 -> scalar invariance fails
    assert t.loc["scalar", "delta_cfi_scaled"] < -0.01 and "does NOT hold" in t.loc["scalar", "verdict"]
    assert "holds" in t.loc["metric", "verdict"] and t.loc["thresholds", "compared_with"] == "configural"
    # latent means: the scalar model's alpha of the second group, but not comparable here
    est = pd.read_csv(FX + "holzinger_groups.estimates.csv", keep_default_na=False)
    alpha = est[(est.step == "scalar") & (est.op == "~1") & (est.group == "Grant-White") & est.lhs.isin(
        ["visual", "textual", "speed"])].set_index("lhs")
    means = res.latent_means.set_index("factor")
    for f in ["visual", "textual", "speed"]:
        assert means.loc[f, "est"] == pytest.approx(float(alpha.loc[f, "est"]), abs=5e-5)
        assert means.loc[f, "se"] == pytest.approx(float(alpha.loc[f, "se"]), abs=1e-5)
    assert not means["comparable"].any()


def test_a_category_one_group_never_gave_is_merged_and_said():
    data = pd.read_csv(FX + "holzinger_groups_merged.csv")
    assert 1 not in set(data.loc[data.school == "Pasteur", "x1"]) and 1 in set(data["x1"])
    merged, notes = merge_empty(data, ["x1", "x2"], "school")
    assert notes == ["x1: answers 1 counted as 2 (no answer 1 in group 'Pasteur')"]
    assert set(merged["x1"]) == {2, 3, 4} and merged["x2"].equals(data["x2"])
    assert (data["x1"] == 1).any()                    # the caller's data are not modified
    res = invariance.analyse(open(FX + "holzinger_groups_merged.lavaan").read(), data, "school", "WLSMV")
    assert "x1: answers 1 counted as 2" in res.table["note"].iloc[0]
    assert merges(res.table["note"].iloc[0]) == [("x1", "1", "2", "'Pasteur'")]    # what the report reads back


def test_models_wlsmv_cannot_test_fall_back_to_mlr_with_the_reason():
    data = pd.read_csv(FX + "holzinger_groups.csv")
    model = open(FX + "holzinger_groups.lavaan").read() + "x7 ~~ x8\n"     # a residual covariance
    res = invariance.analyse(model, data, "school", "WLSMV")
    assert res.table["note"].iloc[0] == ("MLR instead of WLSMV: ordinal invariance supports factor definitions "
                                         "(=~) only, not 'x7 ~~ x8'")
    assert "cfi_robust" in res.table and list(res.table["model"][:3]) == ["configural", "metric", "scalar"]
