"""Planning: Monte Carlo power against the closed form for a single regression path."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from csi import plan


def closed_form_power(beta, n, var_x=1.0, var_e=1.0):
    """Wald test of a regression slope: z = beta / SE, SE = sqrt(var_e / (n var_x))."""
    delta = beta * np.sqrt(n * var_x / var_e)
    return stats.norm.cdf(delta - 1.959964) + stats.norm.cdf(-delta - 1.959964)


@pytest.mark.parametrize("beta", [0.10, 0.20])
def test_power_of_one_path_matches_the_closed_form(beta):
    est = pd.DataFrame({"lhs": ["y", "x", "y"], "op": ["~", "~~", "~~"], "rhs": ["x", "x", "y"],
                        "est": [beta, 1.0, 1.0]})
    model, x, layout, sigma = plan.population("y ~ x", est)
    assert np.allclose(sigma, [[1 + beta ** 2, beta], [beta, 1]])   # (y, x): the population as given
    power, _ = plan.run(model, x, layout, sigma, [100, 400], reps=400, seed=5, jobs=1, progress=False)
    for row in power.itertuples():
        expected = closed_form_power(beta, row.n)
        mc_se = np.sqrt(expected * (1 - expected) / row.reps)
        assert abs(row.power - expected) <= 3.5 * mc_se + 0.01, (row.n, row.power, expected)


def test_same_seed_same_results_for_any_worker_count():
    est = pd.DataFrame({"lhs": ["y", "x", "y"], "op": ["~", "~~", "~~"], "rhs": ["x", "x", "y"],
                        "est": [0.15, 1.0, 1.0]})
    model, x, layout, sigma = plan.population("y ~ x", est)
    a, _ = plan.run(model, x, layout, sigma, [150], reps=60, seed=2, jobs=1, progress=False)
    b, _ = plan.run(model, x, layout, sigma, [150], reps=60, seed=2, jobs=2, progress=False)
    pd.testing.assert_frame_equal(a, b)


def test_plan_command_on_the_default_model(tmp_path):
    """From district A's fixture data and a fit of it: power rises with n and the index CI
    narrows like 1/sqrt(n) (the sampling SD of a mean-based statistic)."""
    from csi import sem
    from csi.cli import main

    from conftest import CODEBOOK, ROOT

    fix = ROOT / "tests/fixtures/lavaan"
    model = ROOT / "data/models/csi_government.lavaan"
    district = tmp_path / "results/a"          # laid out as a fitted district's results
    data = pd.read_csv(fix / "chengdu_a.csv")
    (district / "data").mkdir(parents=True)
    data.to_parquet(district / "data/clean.parquet")
    sem.write_result(sem.estimate(model.read_text(), data), district / "model")
    assert main(["plan", str(model), "--from", str(district), "--n", "150,600", "--reps", "80",
                 "--codebook", str(CODEBOOK), "--target", "SAT", "--out", str(tmp_path / "plan"), "--quiet"]) == 0
    power = pd.read_csv(tmp_path / "plan/power.csv").pivot_table(index="path", columns="n", values="power")
    assert (power[600] >= power[150] - 0.05).all() and power.loc["TRU ~ SAT", 600] == 1.0
    width = pd.read_csv(tmp_path / "plan/index_ci_width.csv").set_index("n")["expected_ci_width"]
    ratio = (width[150] * np.sqrt(150)) / (width[600] * np.sqrt(600))
    assert 0.75 < ratio < 1.33, ratio
    assert (tmp_path / "plan/power.png").exists()


def test_plan_from_an_ordinal_solution_draws_ordered_answers(tmp_path):
    """From a WLSMV fit (estimates.csv with thresholds) the samples are ordered answers cut at the
    fitted thresholds (their category shares match the population's), refitted by WLSMV: the
    strong paths have full power and the index CI narrows with n."""
    from scipy import stats as st

    from csi import sem
    from csi.cli import main

    from conftest import CODEBOOK, ROOT

    fix = ROOT / "tests/fixtures/lavaan"
    model = ROOT / "data/models/csi_government.lavaan"
    district = tmp_path / "results/a"
    data = pd.read_csv(fix / "chengdu_a.csv")
    (district / "data").mkdir(parents=True)
    data.to_parquet(district / "data/clean.parquet")
    r = sem.estimate(model.read_text(), data, estimator="WLSMV", missing="pairwise", ordered="all")
    sem.write_result(r, district / "model")
    est = pd.read_csv(district / "model/estimates.csv")
    m, x, layout, sigma = plan.population(model.read_text(), est)
    th = plan.thresholds(est, m.observed)
    # y*: unit variances (delta parameterization; lavaan 0.6-14 sets the residual variances with every
    # residual at zero, so the outcomes of the ordered mediator cmp_complained are 0.1% off)
    assert np.allclose(np.diag(sigma), 1.0, atol=0.002)
    # the category shares of a large draw are the population's: Phi(t_k) - Phi(t_k-1)
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((200_000, len(th))) @ np.linalg.cholesky(sigma).T
    j = m.observed.index("cmp_complained")
    share = np.mean(np.searchsorted(th[j], Y[:, j]) == 1)
    assert abs(share - st.norm.sf(th[j][0])) < 0.005
    assert main(["plan", str(model), "--from", str(district), "--n", "250,1000", "--reps", "6",
                 "--codebook", str(CODEBOOK), "--target", "SAT", "--out", str(tmp_path / "plan"), "--quiet"]) == 0
    power = pd.read_csv(tmp_path / "plan/power.csv")
    assert (power["converged"] == 6).all()
    p = power.pivot_table(index="path", columns="n", values="power")
    assert p.loc["TRU ~ SAT", 1000] == 1.0 and p.loc["cmp_complained ~ SAT", 1000] == 1.0
    tv = power.drop_duplicates("path").set_index("path")["true_value"]
    e = r.estimates.set_index(["lhs", "op", "rhs"])
    assert tv["cmp_complained ~ SAT"] == pytest.approx(e.loc[("cmp_complained", "~", "SAT"), "est"], abs=1e-8)
    width = pd.read_csv(tmp_path / "plan/index_ci_width.csv").set_index("n")["expected_ci_width"]
    assert width[1000] < width[250]
