"""MLM, MLR and FIML (lavaan's missing = "ml") against lavaan 0.6 reference numbers
(tests/fixtures/lavaan/*_{mlm,mlr,fiml,mlr_fiml}.*, made by scripts/make_robust_fixtures.py with
scripts/lavaan_reference.R). Tolerance 1e-3, relative where the value exceeds 1."""

import json
import sys

import numpy as np
import pandas as pd
import pytest

from csi import sem
from csi.errors import CSIError

from conftest import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
from make_robust_fixtures import CASES  # noqa: E402

FIX = ROOT / "tests/fixtures/lavaan"
FIT_NAMES = {"npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi", "tli": "tli",
             "rmsea": "rmsea", "rmsea_ci_lower": "rmsea.ci.lower", "rmsea_ci_upper": "rmsea.ci.upper",
             "srmr": "srmr", "gfi": "gfi", "aic": "aic", "bic": "bic", "loglik": "logl",
             "unrestricted_loglik": "unrestricted.logl", "n": "ntotal",
             "chisq_scaled": "chisq.scaled", "chisq_scaling_factor": "chisq.scaling.factor",
             "pvalue_scaled": "pvalue.scaled", "cfi_scaled": "cfi.scaled", "tli_scaled": "tli.scaled",
             "rmsea_scaled": "rmsea.scaled", "cfi_robust": "cfi.robust", "tli_robust": "tli.robust",
             "rmsea_robust": "rmsea.robust"}


def close(a, b, tol=1e-3):
    if b is None or np.isnan(b):       # lavaan has no such measure (NA): neither do we
        return a is None or np.isnan(a)
    return a is not None and abs(a - b) <= tol * max(1.0, abs(b))


def keyed(t: pd.DataFrame) -> pd.DataFrame:
    t = t.copy()
    t["rhs"] = t["rhs"].fillna("")              # intercepts: "x1 ~1" has no rhs
    sym = t["op"] == "~~"
    pair = t.loc[sym, ["lhs", "rhs"]].apply(sorted, axis=1, result_type="expand")
    t.loc[sym, "lhs"], t.loc[sym, "rhs"] = pair[0], pair[1]
    return t.set_index(["lhs", "op", "rhs"])


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    name = request.param
    model, data, estimator, missing = CASES[name]
    d = pd.read_csv(FIX / f"{data}.csv")
    r = sem.estimate((FIX / f"{model}.lavaan").read_text(), d, estimator=estimator,
                     missing="fiml" if missing == "ml" else missing)
    return name, r


def test_every_parameter_matches_lavaan(case):
    name, r = case
    ref = keyed(pd.read_csv(FIX / f"{name}.estimates.csv"))
    ours = keyed(r.estimates[r.estimates["op"] != ":="])
    assert sorted(ours.index) == sorted(ref.index)
    for key, row in ref.iterrows():
        for col in ("est", "se", "std_all"):
            assert close(ours.loc[key, col], row[col]), (name, key, col, ours.loc[key, col], row[col])


def test_fit_measures_match_lavaan(case):
    name, r = case
    ref = pd.read_csv(FIX / f"{name}.fit.csv").set_index("measure")["value"]
    for ours, theirs in FIT_NAMES.items():
        assert close(r.measures[ours], float(ref[theirs])), (name, ours, r.measures[ours], ref[theirs])
    assert r.measures["estimator"] == ref["estimator"]
    assert r.measures["missing"] == {"ml": "fiml", "listwise": "listwise"}[ref["missing"]]
    assert r.measures["converged"] and r.measures["admissible"]


def test_effects_use_the_estimators_covariance_matrix():
    """Delta-method SEs of ind_/tot_ rows: the MLR sandwich, not ML's information (a single path's
    total effect is the path itself, so its SE is the path's robust SE)."""
    d = pd.read_csv(FIX / "chengdu_a.csv")
    text = (FIX / "chengdu_a.lavaan").read_text()
    ml, mlr = sem.estimate(text, d), sem.estimate(text, d, estimator="MLR")
    for r in (ml, mlr):
        t = r.estimates.set_index(["lhs", "op", "rhs"])
        assert t.loc[("tot_HND_SAT", ":=", "total effect of HND on SAT"), "se"] == \
            pytest.approx(t.loc[("SAT", "~", "HND"), "se"], rel=1e-6)
    a = ml.estimates.set_index("lhs").loc["tot_HND_TRU", "se"]
    b = mlr.estimates.set_index("lhs").loc["tot_HND_TRU", "se"]
    assert abs(a - b) > 1e-4 * a


def test_plain_ml_has_no_scaled_measures_and_keeps_its_numbers():
    d = pd.read_csv(FIX / "political_democracy.csv")
    r = sem.estimate((FIX / "political_democracy.lavaan").read_text(), d)
    m = r.measures
    assert m["estimator"] == "ML" and m["missing"] == "listwise"
    assert all(m[k] is None for k in ("chisq_scaled", "chisq_scaling_factor", "cfi_scaled", "cfi_robust",
                                      "rmsea_robust"))
    ref = pd.read_csv(FIX / "political_democracy_mlr.fit.csv").set_index("measure")["value"]
    assert close(m["unrestricted_loglik"], float(ref["unrestricted.logl"]))


@pytest.mark.parametrize("estimator, missing, data, needle", [
    ("MLM", "fiml", "political_democracy", "MLM"),
    ("MLR", "fiml", "holzinger1939_mimic", "ageyr"),          # fixed.x covariates with FIML
    ("ML", "fiml", "holzinger1939_mimic", "sex"),
    ("WLS", "listwise", "political_democracy", "WLS"),
    ("ML", "pairwise", "political_democracy", "pairwise"),
])
def test_unsupported_combinations_are_refused(estimator, missing, data, needle):
    model = "holzinger1939_mimic" if "mimic" in data else data
    d = pd.read_csv(FIX / f"{data}.csv")
    with pytest.raises(CSIError) as e:
        sem.estimate((FIX / f"{model}.lavaan").read_text(), d, estimator=estimator, missing=missing)
    assert needle in str(e.value) and "What to do" in str(e.value)


def test_fiml_indices_recover_the_true_index_where_listwise_means_are_biased():
    """Known truth: normal data drawn from a fitted CSI model (its parameters and item means), then
    answers to the satisfaction items blanked more often for respondents who rated a driver low (MAR).
    Complete-case means overstate satisfaction; FIML's intercepts recover it."""
    from csi import codebook, index

    from conftest import CODEBOOK

    text = (ROOT / "data/models/csi_government.lavaan").read_text()
    pop = sem.estimate(text, pd.read_csv(FIX / "chengdu_a.csv"))
    s = index.spec(pop.model, text, codebook.load(CODEBOOK), "SAT")
    mu = pop.data.to_numpy(float).mean(axis=0)
    truth = index.values(pop.model, pop.fit.x, mu, s)
    rng = np.random.default_rng(11)
    X = rng.multivariate_normal(mu, pop.model.implied(pop.fit.x)[0], size=4000)
    obs = pop.model.observed
    sat = s.items["SAT"]
    low = X[:, s.items[s.drivers[0]][0]] < np.median(X[:, s.items[s.drivers[0]][0]])
    for j in sat:
        X[low & (rng.random(len(X)) < 0.6), j] = np.nan
    d = pd.DataFrame(X, columns=obs)
    k = s.constructs.index("SAT")
    fiml = sem.estimate(text, d, estimator="MLR", missing="fiml")
    listwise = sem.estimate(text, d)
    got = index.values(fiml.model, fiml.fit.x, index.item_means(fiml.model, fiml.fit.x, fiml.data), s)
    lw = index.values(listwise.model, listwise.fit.x, index.item_means(listwise.model, listwise.fit.x,
                                                                        listwise.data.to_numpy(float)), s)
    assert abs(got[k] - truth[k]) < 1.0          # sampling error: n = 4000, 30% of SAT answers blank
    assert abs(lw[k] - truth[k]) > 3 * abs(got[k] - truth[k])
    print(f"SAT index: truth {truth[k]:.2f}, FIML {got[k]:.2f}, listwise {lw[k]:.2f}")


def test_fit_command_computes_indices_with_fiml(tmp_path):
    from csi.cli import main

    from conftest import CODEBOOK

    d = pd.read_csv(FIX / "chengdu_a.csv")
    d.iloc[::7, 3] = np.nan                     # one skipped item in every 7th row
    d.iloc[3::11, 8] = np.nan
    d.to_csv(tmp_path / "data.csv", index=False)
    assert main(["fit", str(ROOT / "data/models/csi_government.lavaan"), str(tmp_path / "data.csv"),
                 "--out", str(tmp_path / "out"), "--estimator", "MLR", "--missing", "fiml", "--quiet",
                 "--codebook", str(CODEBOOK), "--target", "SAT", "--bootstrap", "20", "--seed", "3"]) == 0
    fit = json.loads((tmp_path / "out/fit.json").read_text())
    assert fit["n"] == len(d) and fit["missing"] == "fiml"
    idx = pd.read_csv(tmp_path / "out/index.csv")
    assert idx["index"].between(0, 100).all() and (idx["ci_lower"] < idx["index"]).all()
    assert (pd.read_csv(tmp_path / "out/ipma.csv")["p_first"].sum()) == pytest.approx(1)


def test_fit_command_with_estimator_and_missing(tmp_path):
    from csi.cli import main

    assert main(["fit", str(FIX / "holzinger1939.lavaan"), str(FIX / "holzinger1939_missing.csv"),
                 "--out", str(tmp_path), "--estimator", "MLR", "--missing", "fiml", "--quiet"]) == 0
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert list(fit) == sem.FIT_KEYS
    ref = pd.read_csv(FIX / "holzinger1939_missing_mlr_fiml.fit.csv").set_index("measure")["value"]
    assert fit["estimator"] == "MLR" and fit["missing"] == "fiml" and fit["n"] == 301
    for k in ("chisq_scaled", "cfi_robust", "rmsea_robust", "unrestricted_loglik"):
        assert close(fit[k], float(ref[FIT_NAMES[k]]))
    est = pd.read_csv(tmp_path / "estimates.csv")
    assert list(est.columns) == sem.EST_COLUMNS
    assert (est["op"] == "~1").sum() == 12                 # 9 intercepts, 3 latent means at 0


def test_fiml_bootstrap_refits_are_fiml_fits_of_the_draw():
    """A warm-started bootstrap refit reaches the optimum a cold FIML fit of the same rows reaches."""
    from csi.bootstrap import _refit_fiml
    from csi.sem.fiml import FIML
    from csi.sem.sample import Patterns, used_rows

    d = pd.read_csv(FIX / "holzinger1939_missing.csv")
    model = sem.Model((FIX / "holzinger1939.lavaan").read_text(), d)
    X = used_rows(d, model.observed).to_numpy(float)
    pats = Patterns(X)
    full = FIML(model, pats, pats.em()[:2]).fit()
    rng = np.random.default_rng(5)
    for _ in range(3):
        Xb = X[rng.integers(0, len(X), len(X))]
        warm, ok = _refit_fiml(model, Xb, full.x, np.linalg.pinv(full.information))
        pb = Patterns(Xb)
        cold = FIML(model, pb, pb.em()[:2]).fit()
        assert ok and cold.converged
        assert np.max(np.abs(warm - cold.x)) < 1e-4


def test_fiml_bootstrap_is_identical_for_any_worker_count():
    d = pd.read_csv(FIX / "holzinger1939_missing.csv")
    text = (FIX / "holzinger1939.lavaan").read_text()
    one = sem.estimate(text, d, estimator="MLR", missing="fiml", bootstrap=24, seed=3, jobs=1)
    two = sem.estimate(text, d, estimator="MLR", missing="fiml", bootstrap=24, seed=3, jobs=2)
    assert one.measures["bootstrap"]["converged"] == 24
    pd.testing.assert_frame_equal(one.bootstrap, two.bootstrap, check_exact=True)
    assert (one.bootstrap["op"] == "~1").sum() == 12 and one.bootstrap["boot_se"].notna().all()


def test_fiml_leaves_out_rows_with_no_model_variable():
    """lavaan drops empty rows under missing = "ml": the estimates and N stay those of the fixture."""
    d = pd.read_csv(FIX / "holzinger1939_missing.csv")
    empty = d.iloc[:2].copy()
    empty[[f"x{i}" for i in range(1, 10)]] = np.nan
    r = sem.estimate((FIX / "holzinger1939.lavaan").read_text(), pd.concat([d, empty]), missing="fiml")
    ref = pd.read_csv(FIX / "holzinger1939_missing_fiml.fit.csv").set_index("measure")["value"]
    assert r.n == 301 and close(r.measures["chisq"], float(ref["chisq"]))
    assert any("2 row(s) with no model variable answered" in n for n in r.measures["notes"])


def test_fiml_bootstrap_se_matches_lavaan_bootstrap():
    """FIML refits of resampled rows: bootstrap SEs as lavaan's sem(..., missing = "ml",
    se = "bootstrap"). Both B = 1000 (Monte Carlo error of each SE about 2%): allow 12%."""
    d = pd.read_csv(FIX / "holzinger1939_missing.csv")
    r = sem.estimate((FIX / "holzinger1939.lavaan").read_text(), d, missing="fiml", bootstrap=1000, seed=1,
                     jobs=2)
    ref = pd.read_csv(FIX / "holzinger1939_missing_fiml.boot_se.csv").fillna({"rhs": ""})
    ref = ref[ref["se"] > 0].rename(columns={"se": "se_lavaan"})
    b = r.bootstrap.fillna({"rhs": ""}).merge(ref, on=["lhs", "op", "rhs"])
    assert len(b) == len(ref) == 30                   # 21 (co)variance parameters and 9 intercepts
    ratio = b["boot_se"] / b["se_lavaan"]
    assert ratio.between(0.88, 1.12).all(), b.assign(ratio=ratio).to_string()
