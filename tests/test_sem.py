"""The ML SEM layer against lavaan 0.6 reference numbers (tests/fixtures/lavaan, made by
scripts/lavaan_reference.R). Tolerance 1e-3, relative where the value exceeds 1."""

import json

import numpy as np
import pandas as pd
import pytest

from csi import sem

from conftest import ROOT

FIX = ROOT / "tests/fixtures/lavaan"
CASES = ["political_democracy", "holzinger1939", "chengdu_a", "holzinger1939_mimic", "regression",
         "ecsi_example"]   # upper-case codes, a single-item factor (residual fixed at 0), mediated paths
FIT_NAMES = {"npar": "npar", "chisq": "chisq", "df": "df", "pvalue": "pvalue", "cfi": "cfi",
             "tli": "tli", "rmsea": "rmsea", "rmsea_ci_lower": "rmsea.ci.lower",
             "rmsea_ci_upper": "rmsea.ci.upper", "srmr": "srmr", "gfi": "gfi", "aic": "aic",
             "bic": "bic", "loglik": "logl", "n": "ntotal"}


def close(a, b, tol=1e-3):
    if np.isnan(b):            # lavaan gives NA (e.g. the p-value of a saturated model)
        return np.isnan(a)
    return abs(a - b) <= tol * max(1.0, abs(b))


@pytest.fixture(scope="module", params=CASES)
def case(request):
    name = request.param
    data = pd.read_csv(FIX / f"{name}.csv")
    result = sem.estimate((FIX / f"{name}.lavaan").read_text(), data)
    return name, result


def lavaan_estimates(name):
    ref = pd.read_csv(FIX / f"{name}.estimates.csv")
    sym = ref["op"] == "~~"
    pair = ref.loc[sym, ["lhs", "rhs"]].apply(sorted, axis=1, result_type="expand")
    ref.loc[sym, "lhs"], ref.loc[sym, "rhs"] = pair[0], pair[1]
    return ref.set_index(["lhs", "op", "rhs"])


def test_every_parameter_matches_lavaan(case):
    name, result = case
    ref = lavaan_estimates(name)
    ours = result.estimates[result.estimates["op"] != ":="].copy()
    sym = ours["op"] == "~~"
    pair = ours.loc[sym, ["lhs", "rhs"]].apply(sorted, axis=1, result_type="expand")
    ours.loc[sym, "lhs"], ours.loc[sym, "rhs"] = pair[0], pair[1]
    ours = ours.set_index(["lhs", "op", "rhs"])
    assert sorted(ours.index) == sorted(ref.index)
    for key, r in ref.iterrows():
        for col in ("est", "se", "std_all"):
            assert close(ours.loc[key, col], r[col]), (name, key, col, ours.loc[key, col], r[col])


def test_fit_measures_match_lavaan(case):
    name, result = case
    ref = pd.read_csv(FIX / f"{name}.fit.csv").set_index("measure")["value"]
    for ours, theirs in FIT_NAMES.items():
        assert close(result.measures[ours], float(ref[theirs])), (name, ours, result.measures[ours], ref[theirs])
    assert result.measures["converged"] and result.measures["admissible"]
    assert result.measures["max_gradient"] < sem.GRAD_TOL


def test_chengdu_fixture_is_the_pipeline_data():
    """The default-model fixture was cut from district A's clean data: keep them in step."""
    from csi import clean, codebook, exports, validate

    cb = codebook.load(ROOT / "data/codebooks/ssa_service_2021.yaml")
    raw = ROOT / "data/raw/chengdu_a/export.xlsx"
    v = validate.validate(exports.read(raw), cb, salt=b"any")
    rules = {"min_duration_seconds": 90, "max_item_missing": 0.2,
             "straightlining": {"min_items": 8, "require_reversed": True}}
    data = clean.clean(v.coded, cb, rules).data
    fixture = pd.read_csv(FIX / "chengdu_a.csv")
    pd.testing.assert_frame_equal(data[fixture.columns].reset_index(drop=True), fixture,
                                  check_dtype=False)


def test_effects_are_products_of_paths(case):
    """Indirect effects equal the sum over paths of products of regression weights."""
    name, result = case
    est = result.estimates.set_index(["lhs", "op", "rhs"])["est"]
    if name == "political_democracy":
        a, b, c = est["dem60", "~", "ind60"], est["dem65", "~", "dem60"], est["dem65", "~", "ind60"]
        eff = result.estimates.set_index("lhs")
        assert eff.loc["ind_ind60_dem65", "est"] == pytest.approx(a * b, rel=1e-9)
        assert eff.loc["tot_ind60_dem65", "est"] == pytest.approx(a * b + c, rel=1e-9)
    if name == "chengdu_a":
        eff = result.estimates.set_index("lhs")
        s = est["SAT", "~", "HND"]
        t_sat, t_cmp, c_sat = est["TRU", "~", "SAT"], est["TRU", "~", "cmp_complained"], est["cmp_complained", "~", "SAT"]
        assert eff.loc["tot_HND_TRU", "est"] == pytest.approx(s * (t_sat + c_sat * t_cmp), rel=1e-9)
        assert "ind_HND_SAT" not in eff.index      # no indirect path: not listed
        assert eff.loc["tot_HND_SAT", "est"] == pytest.approx(s, rel=1e-12)


def test_fit_command_writes_lavaan_named_outputs(tmp_path, capsys):
    from csi.cli import main

    assert main(["fit", str(FIX / "holzinger1939.lavaan"), str(FIX / "holzinger1939.csv"),
                 "--out", str(tmp_path)]) == 0
    est = pd.read_csv(tmp_path / "estimates.csv")
    assert list(est.columns) == sem.EST_COLUMNS
    fit = json.loads((tmp_path / "fit.json").read_text())
    assert list(fit) == sem.FIT_KEYS
    assert fit["df"] == 24 and fit["admissible"] is True and fit["warnings"] == []


def test_fit_command_names_a_missing_variable(tmp_path, capsys):
    from csi.cli import main

    model = tmp_path / "m.lavaan"
    model.write_text("F =~ x1 + x2 + nosuch\n")
    assert main(["fit", str(model), str(FIX / "holzinger1939.csv"), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert "nosuch" in err and "m.lavaan" in err and "What to do:" in err
    assert not (tmp_path / "o").exists()


def test_defined_parameters_are_reported_as_not_evaluated():
    d = pd.read_csv(FIX / "political_democracy.csv")
    text = (FIX / "political_democracy.lavaan").read_text() + "\nind := a*b\n"
    r = sem.estimate(text, d)
    assert any("`:=` definition(s) were not evaluated" in w for w in r.measures["notes"])
    assert r.measures["admissible"]          # a note, not an inadmissibility
