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
}
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
    r = sem.estimate(model_file.read_text(), data, estimator="WLSMV", ordered="all")
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
    data = pd.read_csv(data_file).dropna()
    ref = pd.read_csv(FIX / f"{name}.ordinal.sampstat.csv", keep_default_na=False)
    names = list(data.columns)
    s = ordinal_sample(data.to_numpy(float), names, nacov=name == "holzinger_ordinal")
    th = dict(zip(s.th_names, np.concatenate(s.th)))
    t = ref[ref.kind == "th"]
    assert close([th[v] for v in t.lhs], t.value.astype(float), 1e-8)
    c = ref[ref.kind == "cor"]
    R = pd.DataFrame(s.R, index=names, columns=names)
    assert close([R.loc[a, b] for a, b in zip(c.lhs, c.rhs)], c.value.astype(float), 1e-6)
    if name == "holzinger_ordinal":     # Gamma, in lavaan's order (this data's columns are)
        G = pd.read_csv(FIX / "holzinger_ordinal.ordinal.gamma.csv", index_col=0)
        assert list(G.index) == s.th_names + [f"{a}~~{b}" for a, b in
                                              zip(c.rhs, c.lhs)]
        assert np.abs(s.gamma - G.to_numpy(float)).max() < 1e-6


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
    indices from an ordinal solution are refused until they are defined for it."""
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
    assert main(["fit", str(model), str(data), "--out", str(tmp_path / "x"), "--estimator", "WLSMV",
                 "--ordered", "all", "--codebook", str(codebook), "--target", "SAT", "--quiet"]) == 1
    assert not (tmp_path / "x").exists()
