"""Reliability, AVE and HTMT against semTools 0.5 (fixtures from scripts/lavaan_reference.R)."""

import pandas as pd
import pytest

from csi import psychometrics as pm
from csi import sem

from conftest import ROOT

FIX = ROOT / "tests/fixtures/lavaan"


@pytest.fixture(scope="module", params=["holzinger1939", "chengdu_a_cfa", "political_democracy",
                                        "ecsi_example_cfa"])
def case(request):
    name = request.param
    text = (FIX / f"{name}.lavaan").read_text()
    data = pd.read_csv(FIX / f"{name}.csv")
    # the CFA keeps the model's residual covariances (political_democracy has six), as semTools' omega does
    cfa = sem.estimate(pm.measurement_model(text) if name == "political_democracy" else text, data)
    return name, text, data, cfa


def test_alpha_omega_ave_match_semtools(case):
    name, text, data, cfa = case
    ref = pd.read_csv(FIX / f"{name}.reliability.csv").set_index("measure")
    ours = pm.reliability(cfa, data, text).set_index("construct")
    single = ours.index[ours["items"] == 1]           # semTools omits single-item constructs: so do we
    assert set(ours.index) - set(single) == set(ref.columns)
    assert ours.loc[single, ["alpha", "omega", "ave"]].isna().all(axis=None)
    for c in ref.columns:
        assert ours.loc[c, "alpha"] == pytest.approx(ref.loc["alpha", c], abs=1e-6)
        assert ours.loc[c, "omega"] == pytest.approx(ref.loc["omega", c], abs=1e-5)
        assert ours.loc[c, "ave"] == pytest.approx(ref.loc["avevar", c], abs=1e-5)


@pytest.mark.parametrize("geometric,suffix", [(False, "htmt"), (True, "htmt2")])
def test_htmt_matches_semtools(case, geometric, suffix):
    name, text, data, cfa = case
    ref = pd.read_csv(FIX / f"{name}.{suffix}.csv", index_col=0)
    ours = pm.htmt(data, text, geometric=geometric)
    assert list(ours.index) == list(ref.index)
    pd.testing.assert_frame_equal(ours, ref, check_exact=False, atol=1e-9, check_names=False)


def test_verdicts_follow_the_cutoffs():
    h = pd.DataFrame([[1, .84, .95], [.84, 1, .88], [.95, .88, 1]], index=list("ABC"), columns=list("ABC"))
    v = pm.htmt_verdicts(h).set_index(["construct_a", "construct_b"])["verdict"]
    assert v["A", "B"] == "distinct"
    assert v["B", "C"].startswith("distinct only by the liberal")
    assert v["A", "C"].startswith("NOT distinct")


def test_fornell_larcker_and_vif(case):
    name, text, data, cfa = case
    if name != "chengdu_a_cfa":
        pytest.skip("drivers exist in the CSI model only")
    rel = pm.reliability(cfa, data, text)
    fl = pm.fornell_larcker(cfa, rel, list(rel["construct"]))
    r = pm.latent_correlations(cfa)
    assert fl.loc["SAT", "TRU"] == pytest.approx(r.loc["SAT", "TRU"])
    assert fl.loc["SAT", "SAT"] == pytest.approx(rel.set_index("construct").loc["SAT", "sqrt_ave"])
    v = pm.vif(cfa, data, text, ["LOC", "INF", "HND", "INT"])
    assert (v["vif_latent"] >= 1).all() and (v["vif_composite"] >= 1).all()
    # the simulator's 4 drivers correlate r = .45: the population latent VIF is
    # (1 + 2r) / ((1 - r)(1 + 3r)) = 1.47; estimates land near it
    assert v["vif_latent"].between(1.2, 1.8).all(), v
