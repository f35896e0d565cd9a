"""Bootstrap: identical bytes for a seed whatever the number of workers or the hash seed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from csi import sem

from conftest import ROOT

FIX = ROOT / "tests/fixtures/lavaan"
MODEL = ROOT / "data/models/csi_government.lavaan"


def run_fit(out, jobs, hashseed, B=60, seed=7):
    csi = Path(sys.executable).parent / "csi"
    env = {**os.environ, "PYTHONHASHSEED": str(hashseed)}
    r = subprocess.run([str(csi), "fit", str(MODEL), str(FIX / "chengdu_a.csv"), "--out", str(out),
                        "--bootstrap", str(B), "--seed", str(seed), "--jobs", str(jobs), "--quiet"],
                       capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    return {p.name: p.read_bytes() for p in sorted(Path(out).iterdir())}


def test_identical_bytes_for_any_worker_count(tmp_path):
    one = run_fit(tmp_path / "a", jobs=1, hashseed=1)
    two = run_fit(tmp_path / "b", jobs=2, hashseed=2)
    assert set(one) == {"estimates.csv", "fit.json", "bootstrap.csv"}
    assert one == two
    other_seed = run_fit(tmp_path / "c", jobs=2, hashseed=2, seed=8)
    assert other_seed["bootstrap.csv"] != one["bootstrap.csv"]
    fit = json.loads(one["fit.json"])
    assert fit["bootstrap"]["B"] == 60 and fit["bootstrap"]["converged"] + fit["bootstrap"]["not_converged"] == 60


def test_refits_reach_the_same_optimum_as_a_cold_fit():
    d = pd.read_csv(FIX / "political_democracy.csv")
    model = sem.Model((FIX / "political_democracy.lavaan").read_text(), d)
    X = d[model.observed].to_numpy(float)
    full = model.fit(sem.sample_cov(X))
    rng = np.random.default_rng(3)
    for _ in range(5):
        S = sem.sample_cov(X[rng.integers(0, len(X), len(X))])
        warm, ok, _ = model.refit(full.x, S, np.linalg.pinv(full.information))
        cold = model.fit(S)
        assert ok and cold.converged
        assert np.max(np.abs(warm - cold.x)) < 1e-4


def test_analytic_gradient_matches_finite_differences():
    d = pd.read_csv(FIX / "chengdu_a.csv")
    model = sem.Model(MODEL.read_text(), d)
    S = sem.sample_cov(sem.complete_cases(d, model.observed).to_numpy(float))
    ld = np.linalg.slogdet(S)[1]
    x = model.fit(S).x + 0.01 * np.random.default_rng(0).standard_normal(len(model.start))
    _, g = model.obj_grad(x, S, ld)
    g_score, _ = model.score(x, S)
    h = 1e-6
    num = np.array([(model.objective(x + h * e, S, ld) - model.objective(x - h * e, S, ld)) / (2 * h)
                    for e in np.eye(len(x))])
    assert np.max(np.abs(g - num)) < 1e-6
    assert np.max(np.abs(g - g_score)) < 1e-10


def test_bootstrap_se_matches_lavaan_bootstrap():
    """HS39 is non-normal: bootstrap SEs exceed information SEs, as lavaan's bootstrap shows.
    Both use B = 1000; Monte Carlo error of each SE is about 2%, so allow 12%."""
    d = pd.read_csv(FIX / "holzinger1939.csv")
    r = sem.estimate((FIX / "holzinger1939.lavaan").read_text(), d, bootstrap=1000, seed=1, jobs=2)
    ref = pd.read_csv(FIX / "holzinger1939.boot_se.csv")
    ref = ref[ref["se"] > 0].rename(columns={"se": "se_lavaan"})
    b = r.bootstrap.merge(ref, on=["lhs", "op", "rhs"])
    assert len(b) == len(ref) == 21
    ratio = b["boot_se"] / b["se_lavaan"]
    assert ratio.between(0.88, 1.12).all(), b.assign(ratio=ratio).to_string()
    free = r.estimates[r.estimates["se"] > 0]
    assert (free["ci_lower"] < free["est"]).all() and (free["est"] < free["ci_upper"]).all()
    assert r.measures["bootstrap"]["converged"] == 1000


def test_named_streams_do_not_share_draws():
    """Districts share the study's seed; their bootstrap rows must still be drawn independently."""
    from csi import bootstrap as bs

    d = pd.read_csv(FIX / "holzinger1939.csv")
    r = sem.estimate((FIX / "holzinger1939.lavaan").read_text(), d)
    layout = sem.Layout.of(r.model, r.fit.x)
    X = r.data.to_numpy(float)
    run = lambda stream: bs.run(r.model, X, r.fit, layout, 8, 5, progress=False, stream=stream).est  # noqa: E731
    a, b, again, none = run("district_a"), run("district_b"), run("district_a"), run(None)
    assert np.array_equal(a, again)
    assert not np.isclose(a, b).all(axis=1).any()          # no draw repeated in the other stream
    assert not np.isclose(a, none).all(axis=1).any()


def test_statistics_of_the_solution_leave_out_inadmissible_draws():
    """Parameter CIs keep inadmissible draws (as lavaan); a statistic of the solution (the CSI
    indices, whose weights an improper refit can make negative, putting an index above 100) is
    NaN in every draw that did not converge or is inadmissible, and in no other."""
    import numpy as np
    import pandas as pd

    from csi import sem
    from conftest import ROOT

    fix = ROOT / "tests/fixtures/lavaan"
    r = sem.estimate((fix / "ecsi_example.lavaan").read_text(), pd.read_csv(fix / "ecsi_example.csv"),
                     bootstrap=100, seed=1, extra=lambda m, x, X: np.array([1.0]))
    b = r.measures["bootstrap"]
    assert b["inadmissible"] > 0                     # the case this test is about
    assert np.isnan(r.extra_draws[:, 0]).sum() == b["not_converged"] + b["inadmissible"]
    assert "use the admissible draws only" in " ".join(r.measures["notes"])
