"""Ordinal SEM (estimator WLSMV, ordered items) against lavaan 0.6-14 (scripts/lavaan_ordinal.R)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from csi import sem
from csi.errors import CSIError
from csi.sem.ordinal import bvn_cdf, ordinal_sample

FIX = Path(__file__).parent / "fixtures" / "lavaan"
ROOT = Path(__file__).parent.parent
CASES = {
    "holzinger_ordinal": (FIX / "holzinger_ordinal.lavaan", FIX / "holzinger_ordinal.csv"),
    "chengdu_a": (ROOT / "data" / "models" / "csi_government.lavaan", FIX / "chengdu_a.csv"),
    # blank cells, lavaan's missing = "pairwise"
    "chengdu_a_pairwise": (ROOT / "data" / "models" / "csi_government.lavaan", FIX / "chengdu_a.csv"),
    "holzinger_pairwise": (FIX / "holzinger_ordinal.lavaan", FIX / "holzinger_pairwise.csv"),
}
GAMMA = ("holzinger_ordinal", "holzinger_pairwise")     # cases with lavaan's Gamma stored
FIT = {"chisq": "chisq", "df": "df", "pvalue": "pvalue", "chisq_scaled": "chisq.scaled",
       "chisq_scaling_factor": "chisq.scaling.factor", "chisq_shift": "chisq.shift.parameter",
       "pvalue_scaled": "pvalue.scaled", "baseline_chisq": "baseline.chisq", "baseline_df": "baseline.df",
       "cfi": "cfi", "tli": "tli", "rmsea": "rmsea", "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled",
       "rmsea_scaled": "rmsea.scaled", "cfi_robust": "cfi.robust", "tli_robust": "tli.robust",
       "rmsea_robust": "rmsea.robust", "srmr": "srmr", "npar": "npar", "rmsea_ci_lower": "rmsea.ci.lower",
       "rmsea_ci_upper": "rmsea.ci.upper"}


def close(a, b, tol=1e-3):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return np.all(np.abs(a - b) <= tol * np.maximum(1.0, np.abs(b)))


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    name = request.param
    model_file, data_file = CASES[name]
    data = pd.read_csv(data_file)
    r = sem.estimate(model_file.read_text(), data, estimator="WLSMV", ordered="all",
                     missing="pairwise" if "pairwise" in name else "listwise")
    return name, data, r


def test_bivariate_normal_cdf():
    rng = np.random.default_rng(1)
    for _ in range(100):
        h, k = rng.normal(size=2) * 1.5
        r = rng.uniform(-0.995, 0.995)
        dens = lambda t: np.exp(-(h * h - 2 * t * h * k + k * k) / (2 * (1 - t * t))) / (2 * np.pi * np.sqrt(1 - t * t))
        ref = stats.norm.cdf(h) * stats.norm.cdf(k) + integrate.quad(dens, 0, r, epsabs=1e-14, epsrel=1e-13)[0]
        assert abs(bvn_cdf(h, k, r) - ref) < 1e-12
    assert bvn_cdf(np.inf, 0.3, 0.5) == pytest.approx(stats.norm.cdf(0.3), abs=1e-15)
    assert bvn_cdf(-np.inf, 0.3, 0.5) == 0.0
    assert bvn_cdf(0.0, 0.0, 0.5) == pytest.approx(0.25 + np.arcsin(0.5) / (2 * np.pi), abs=1e-15)


@pytest.mark.parametrize("name", list(CASES))
def test_thresholds_polychorics(name):
    model_file, data_file = CASES[name]
    data = pd.read_csv(data_file)
    if "pairwise" not in name:
        data = data.dropna()
    ref = pd.read_csv(FIX / f"{name}.ordinal.sampstat.csv", keep_default_na=False)
    names = list(data.columns)
    s = ordinal_sample(data.to_numpy(float), names, nacov=name in GAMMA)
    th = dict(zip(s.th_names, np.concatenate(s.th)))
    t = ref[ref.kind == "th"]
    assert close([th[v] for v in t.lhs], t.value.astype(float), 1e-8)
    c = ref[ref.kind == "cor"]
    R = pd.DataFrame(s.R, index=names, columns=names)
    assert close([R.loc[a, b] for a, b in zip(c.lhs, c.rhs)], c.value.astype(float), 1e-6)
    if name in GAMMA:     # Gamma, in lavaan's order (this data's columns are)
        G = pd.read_csv(FIX / f"{name}.ordinal.gamma.csv", index_col=0)
        assert list(G.index) == s.th_names + [f"{a}~~{b}" for a, b in
                                              zip(c.rhs, c.lhs)]
        assert np.abs(s.gamma - G.to_numpy(float)).max() < 1e-6
        # the DWLS weights a bootstrap draw computes alone: Gamma's diagonal over the correlations
        d = ordinal_sample(data.to_numpy(float), names, nacov="diag").gamma
        assert np.allclose(d, np.diag(s.gamma)[s.nth:], rtol=1e-10)


def test_estimates(case):
    name, _, r = case
    ref = pd.read_csv(FIX / f"{name}.wlsmv.estimates.csv", keep_default_na=False, na_values=["NA"])
    ref = ref[~ref.op.isin(["~*~", "~1"])]
    m = ref.merge(r.estimates, on=["lhs", "op", "rhs"], suffixes=("_lavaan", ""), how="left")
    assert not m.est.isna().any(), m[m.est.isna()][["lhs", "op", "rhs"]]
    for col in ("est", "se", "std_all"):
        assert close(m[col], m[col + "_lavaan"]), (col, (m[col] - m[col + "_lavaan"]).abs().max())
    z = m.z_lavaan.notna()
    assert close(m.z[z], m.z_lavaan[z])
    assert (r.estimates.op == "|").sum() == (ref.op == "|").sum()


def test_fit_measures(case):
    name, _, r = case
    ref = pd.read_csv(FIX / f"{name}.wlsmv.fit.csv").set_index("measure")["value"]
    for ours, theirs in FIT.items():
        assert close(r.measures[ours], float(ref[theirs])), (ours, r.measures[ours], ref[theirs])
    assert r.measures["estimator"] == "WLSMV" and r.measures["converged"] and r.measures["admissible"]


def test_fit_json_keys(case, tmp_path):
    import json

    _, _, r = case
    sem.write_result(r, tmp_path)
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert list(fit) == sem.FIT_KEYS
    assert fit["chisq_shift"] is not None and fit["loglik"] is None
    est = pd.read_csv(tmp_path / "estimates.csv", keep_default_na=False)
    assert {"t1", "t2"} <= set(est[est.op == "|"].rhs)


def test_refusals():
    data = pd.read_csv(FIX / "holzinger_ordinal.csv")
    model = (FIX / "holzinger_ordinal.lavaan").read_text()
    with pytest.raises(CSIError, match="continuous"):
        sem.estimate(model, data, estimator="WLSMV", ordered=["x1", "x2"])
    with pytest.raises(CSIError, match="fiml"):
        sem.estimate(model, data, estimator="WLSMV", missing="fiml")
    with pytest.raises(CSIError, match="pairwise is for estimator WLSMV"):
        sem.estimate(model, data, estimator="MLR", missing="pairwise")
    with pytest.raises(CSIError, match="WLSMV"):
        sem.estimate(model, data, estimator="ML", ordered="all")


def test_known_truth():
    """Items cut from a one-factor population with loadings 0.8: WLSMV recovers the loadings of y*
    (standardized), ML on the category codes underestimates them."""
    rng = np.random.default_rng(11)
    n, lam = 2000, np.array([0.8, 0.8, 0.8, 0.8, 0.8])
    f = rng.normal(size=n)
    ystar = f[:, None] * lam + rng.normal(size=(n, 5)) * np.sqrt(1 - lam ** 2)
    cuts = [-0.5, 0.6, 1.4]                      # skewed 4-point items
    data = pd.DataFrame(np.digitize(ystar, cuts) + 1, columns=[f"y{i}" for i in range(1, 6)]).astype(float)
    model = "F =~ y1 + y2 + y3 + y4 + y5\n"
    w = sem.estimate(model, data, estimator="WLSMV")
    ml = sem.estimate(model, data, estimator="ML")
    std_w = w.estimates.query("op == '=~'").std_all.to_numpy()
    std_ml = ml.estimates.query("op == '=~'").std_all.to_numpy()
    assert np.all(np.abs(std_w - 0.8) < 0.04)
    assert np.all(std_ml < std_w - 0.03)


def test_fit_command_with_wlsmv(tmp_path):
    """`csi fit --estimator WLSMV --ordered all` writes lavaan's estimates, threshold rows included;
    with the codebook (auto: it makes every item ordered) the CSI indices, the IPMA and the
    sensitivity check (MLR beside WLSMV) too."""
    from csi.cli import main

    model = Path(__file__).parents[1] / "data/models/csi_government.lavaan"
    data = FIX / "chengdu_a.csv"
    assert main(["fit", str(model), str(data), "--out", str(tmp_path), "--estimator", "WLSMV", "--ordered", "all",
                 "--quiet"]) == 0
    ours = pd.read_csv(tmp_path / "estimates.csv").set_index(["lhs", "op", "rhs"])
    ref = pd.read_csv(FIX / "chengdu_a.wlsmv.estimates.csv").set_index(["lhs", "op", "rhs"])
    th = ref.xs("|", level="op", drop_level=False).index
    assert len(th) > 20
    np.testing.assert_allclose(ours.loc[th, "est"], ref.loc[th, "est"], atol=1e-3)
    paths = ref.xs("~", level="op", drop_level=False).index
    np.testing.assert_allclose(ours.loc[paths, "est"], ref.loc[paths, "est"], atol=1e-3)
    np.testing.assert_allclose(ours.loc[paths, "se"], ref.loc[paths, "se"], atol=1e-3)
    codebook = Path(__file__).parents[1] / "data/codebooks/ssa_service_2021.yaml"
    out = tmp_path / "x"
    assert main(["fit", str(model), str(data), "--out", str(out), "--estimator", "auto", "--missing", "auto",
                 "--codebook", str(codebook), "--target", "SAT", "--quiet"]) == 0
    import json

    fit = json.loads((out / "fit.json").read_text())
    assert (fit["estimator"], fit["missing"]) == ("WLSMV", "pairwise")
    assert fit["choice"]["estimator_rule"] == "ordinal" and len(fit["ordered"]) == 20
    # pairwise on every row: lavaan's missing = "pairwise" numbers
    ours = pd.read_csv(out / "estimates.csv").set_index(["lhs", "op", "rhs"])
    ref = pd.read_csv(FIX / "chengdu_a_pairwise.wlsmv.estimates.csv").set_index(["lhs", "op", "rhs"])
    np.testing.assert_allclose(ours.loc[paths, "std_all"], ref.loc[paths, "std.all" if "std.all" in ref else "std_all"],
                               atol=1e-3)
    idx = pd.read_csv(out / "index.csv")
    assert idx["index"].between(0, 100).all() and len(idx) == 6
    sens = pd.read_csv(out / "sensitivity.csv")
    assert list(dict.fromkeys(sens.estimator)) == ["WLSMV", "MLR"]
    w = sens[sens.estimator == "WLSMV"].set_index(["lhs", "op", "rhs"])
    np.testing.assert_allclose(w.loc[paths, "std_all"], ours.loc[paths, "std_all"], atol=1e-9)
    mlr = sens[sens.estimator == "MLR"]
    assert mlr["missing"].iloc[0] == "fiml" and mlr["std_all"].notna().all()
    # the complaint path, attenuated by ML on a binary item (issue: truth -0.52 in the simulator)
    cmp_w = w.loc[("cmp_complained", "~", "SAT"), "std_all"]
    cmp_m = mlr.set_index(["lhs", "op", "rhs"]).loc[("cmp_complained", "~", "SAT"), "std_all"]
    assert cmp_w < cmp_m - 0.15


def test_bootstrap_refits_thresholds():
    """WLSMV bootstrap: each draw re-estimates thresholds, polychorics and weights; the draws do
    not depend on the number of workers; bootstrap SEs agree with lavaan's bootstrap (B = 1000,
    other random draws: within Monte Carlo error, 25%) for loadings, factor (co)variances and
    thresholds, and the percentile CIs of the thresholds within 0.06."""
    data = pd.read_csv(FIX / "holzinger_pairwise.csv")
    model = (FIX / "holzinger_ordinal.lavaan").read_text()
    a = sem.estimate(model, data, estimator="WLSMV", missing="pairwise", bootstrap=150, seed=3, jobs=1)
    b = sem.estimate(model, data, estimator="WLSMV", missing="pairwise", bootstrap=150, seed=3, jobs=2)
    pd.testing.assert_frame_equal(a.bootstrap, b.bootstrap)
    assert a.measures["bootstrap"]["converged"] >= 145
    ref = pd.read_csv(FIX / "holzinger_pairwise.boot.csv")
    m = a.bootstrap.merge(ref, on=["lhs", "op", "rhs"], suffixes=("", "_lavaan"))
    free = m[m.boot_se_lavaan > 0]        # lavaan: residual variances of y* are not parameters
    assert len(free) == 6 + 6 + 27
    ratio = free.boot_se / free.boot_se_lavaan
    assert ratio.between(0.75, 1 / 0.75).all(), free[~ratio.between(0.75, 1 / 0.75)]
    th = m[m.op == "|"]
    assert np.abs(th.ci_lower - th.ci_lower_lavaan).max() < 0.06
    assert np.abs(th.ci_upper - th.ci_upper_lavaan).max() < 0.06


@pytest.mark.parametrize("name", ["holzinger_ordinal", "chengdu_a_cfa"])
def test_ordinal_reliability_matches_semtools(name):
    """omega (Green & Yang 2009, on the answer scale) and AVE of a WLSMV CFA, as semTools'
    compRelSEM and AVE; chengdu_a_cfa: the CSI model's measurement part, blank cells pairwise."""
    from csi import psychometrics as pm

    if name == "holzinger_ordinal":
        model, data, missing = (FIX / "holzinger_ordinal.lavaan").read_text(), \
            pd.read_csv(FIX / "holzinger_ordinal.csv"), "listwise"
    else:
        model = pm.measurement_model((ROOT / "data/models/csi_government.lavaan").read_text())
        data, missing = pd.read_csv(FIX / "chengdu_a.csv"), "pairwise"
    r = sem.estimate(model, data, estimator="WLSMV", ordered="all", missing=missing)
    ours = pm.reliability(r, data, model).set_index("construct")
    ref = pd.read_csv(FIX / f"{name}.wlsmv.reliability.csv").set_index("construct")
    assert close(ours.loc[ref.index, "omega"], ref["omega"], 1e-6)
    assert close(ours.loc[ref.index, "ave"], ref["ave"], 1e-6)


def test_a_correlation_at_the_bound_is_a_clear_error_not_a_hang():
    """A rare answer and a two-way table with empty cells (as in a real group: its 13 respondents who
    complained all gave inf_process its top answer, and one respondent its lowest) put the polychoric
    correlation at lavaan's bound, where WLSMV has no weight. The fit stops with the pair and the
    rare answers named (it once looped forever in the RMSEA interval of a NaN chi-square)."""
    data = pd.read_csv(FIX / "chengdu_a.csv").dropna().reset_index(drop=True)
    text = (Path(__file__).parents[1] / "data/models/csi_government.lavaan").read_text()
    top, low = data["inf_process"].max(), data["inf_process"].min()
    data.loc[data["inf_process"] == low, "inf_process"] = low + 1
    data.loc[data.index[data["inf_process"] < top][0], "inf_process"] = low       # one lowest answer
    data["cmp_complained"] = 0.0
    data.loc[data.index[data["inf_process"] == top][:13], "cmp_complained"] = 1.0
    with pytest.raises(CSIError, match=r"inf_process and cmp_complained .* at the bound") as e:
        sem.estimate(text, data, estimator="WLSMV", ordered="all")
    assert f"inf_process = {low:g} given by 1" in str(e.value) and "Pool the rare answer" in str(e.value)
