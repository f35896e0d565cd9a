"""Rank uncertainty from bootstrap draws: improvement priorities (index) and the district league
(compare), checked against known answers and against direct computations written here."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from csi import codebook, compare, index, io, sem
from csi.errors import CSIError

from conftest import CODEBOOK, ROOT

FIX = ROOT / "tests/fixtures/lavaan"
MODEL = ROOT / "data/models/csi_government.lavaan"
TEXT = MODEL.read_text()


# --- rank probabilities ---------------------------------------------------------------------

def test_two_columns_ordered_in_70_percent_of_draws():
    v = np.array([[2.0, 1.0]] * 7 + [[1.0, 2.0]] * 3)
    p, tied, used, left = index.rank_probabilities(v)
    assert np.allclose(p, [[0.7, 0.3], [0.3, 0.7]])
    assert list(tied) == [0, 0] and (used, left) == (10, 0)


def test_nan_draws_are_left_out_and_counted():
    v = np.array([[2.0, 1.0]] * 7 + [[np.nan, np.nan], [1.0, np.nan]] + [[1.0, 2.0]] * 3)
    p, _, used, left = index.rank_probabilities(v)
    assert np.allclose(p, [[0.7, 0.3], [0.3, 0.7]]) and (used, left) == (10, 2)


def test_ties_share_the_ranks_they_span():
    v = np.array([[5, 5, 1],      # a, b tied for 1st-2nd
                  [1, 3, 3],      # b, c tied for 1st-2nd
                  [4, 4, 4],      # all three tied
                  [3, 2, 1]], float)
    h, t = Fraction(1, 2), Fraction(1, 3)
    per_draw = [[[h, h, 0], [h, h, 0], [0, 0, 1]],
                [[0, 0, 1], [h, h, 0], [h, h, 0]],
                [[t, t, t]] * 3,
                [[1, 0, 0], [0, 1, 0], [0, 0, 1]]]
    expected = np.array([[float(sum(d[i][r] for d in per_draw) / 4) for r in range(3)] for i in range(3)])
    p, tied, used, _ = index.rank_probabilities(v)
    assert np.allclose(p, expected)
    assert np.allclose(p.sum(axis=0), 1) and np.allclose(p.sum(axis=1), 1)
    assert np.allclose(tied, [2 / 4, 3 / 4, 2 / 4]) and used == 4


# --- priorities -------------------------------------------------------------------------------

def test_priority_ranks_use_the_capped_potential():
    cons = ["A", "B", "Y", "Z"]          # drivers A, B; target Y; Z neither
    s = index.Spec(cons, {c: [] for c in cons}, np.zeros(0), np.zeros(0), ["A", "B"], "Y")
    # columns: index A, B, Y, Z; importance A, B
    a_first = [80, 90, 70, 50, 0.5, 0.5]     # gains 10 and 5, room 30: A first
    b_first = [90, 80, 70, 50, 0.5, 0.5]     # gains 5 and 10: B first
    capped = [80, 84, 95, 50, 0.5, 0.5]      # gains 10 and 8, both capped at room 5: a tie (A first uncapped)
    failed = [[np.nan] * 6, [80, 90, 70, np.nan, 0.5, 0.5]]     # any NaN: left out, as in the CIs
    draws = np.array([a_first] * 5 + [b_first] * 3 + [capped] * 2 + failed, float)
    pot = index.draw_potentials(draws, s)
    assert np.allclose(pot[:10], np.minimum(draws[:10, 4:] * (100 - draws[:10, :2]), 100 - draws[:10, [2]]))
    assert np.isnan(pot[10:]).all()
    t = index.priority_ranks(s, draws)
    assert list(t.columns) == ["driver", "rank", "probability", "p_tied", "draws", "left_out"]
    got = t.set_index(["driver", "rank"])["probability"]
    assert got[("A", 1)] == pytest.approx((5 + 2 / 2) / 10) and got[("B", 1)] == pytest.approx((3 + 2 / 2) / 10)
    assert got[("A", 2)] == pytest.approx(0.4) and got[("B", 2)] == pytest.approx(0.6)
    assert np.allclose(t["p_tied"], 0.2) and (t["draws"] == 10).all() and (t["left_out"] == 2).all()


@pytest.fixture(scope="module")
def fitted():
    data = pd.read_csv(FIX / "chengdu_a.csv")
    r = sem.estimate(TEXT, data)
    return r, index.spec(r.model, TEXT, codebook.load(CODEBOOK), "SAT")


def test_ipma_shares_follow_the_point_ranking_and_its_cap(fitted):
    """Draws all equal to the point estimate, with the target index set so that exactly the two
    largest gains are capped: those two tie (1/2 each at priorities 1 and 2), the others hold
    their priority in every draw; a NaN draw is left out."""
    r, s = fitted
    k, n = len(s.constructs), len(s.drivers)
    X = r.data.to_numpy(float).copy()
    est = index.values(r.model, r.fit.x, X.mean(axis=0), s)
    gains = np.array([est[k + j] * (100 - est[s.constructs.index(d)]) for j, d in enumerate(s.drivers)])
    g = np.sort(gains)[::-1]
    room = (g[1] + g[2]) / 2
    items = s.items[s.target]        # target's items all at the same point of their scale: index = 100 - room
    X[:, items] = s.lo[items] + (100 - room) / 100 * s.rng[items]
    est = index.values(r.model, r.fit.x, X.mean(axis=0), s)
    assert est[s.constructs.index(s.target)] == pytest.approx(100 - room)
    draws = np.vstack([np.tile(est, (4, 1)), np.full(k + n, np.nan)])
    idx, ipma = index.tables(r, s, X, draws)
    top2 = [s.drivers[j] for j in np.argsort(-gains, kind="stable")[:2]]
    assert set(ipma.loc[ipma["potential_capped"], "driver"]) == set(top2)
    assert np.allclose(ipma["potential"], np.minimum(ipma["importance"] * (100 - ipma["performance"]), room))
    # the capped potential of the draws is the one ipma.csv ranks
    assert np.allclose(index.draw_potentials(est[None], s)[0],
                       ipma.set_index("driver").loc[s.drivers, "potential"])
    tied = ipma["driver"].isin(top2)
    assert np.allclose(ipma.loc[tied, ["p_rank", "p_first", "p_tied"]], 0.5 * np.array([1, 1, 2]))
    assert np.allclose(ipma.loc[~tied, ["p_rank", "p_first", "p_tied"]], [1, 0, 0])
    t = index.priority_ranks(s, draws)
    assert (t["draws"] == 4).all() and (t["left_out"] == 1).all()
    assert np.allclose(t.groupby("rank")["probability"].sum(), 1)


def test_ipma_p_rank_equals_a_direct_count_over_bootstrap_draws(fitted):
    r, s = fitted
    k = len(s.constructs)
    res = sem.estimate(TEXT, pd.read_csv(FIX / "chengdu_a.csv"), bootstrap=40, seed=11, model=r.model,
                       extra=lambda m, x, X: index.values(m, x, X.mean(axis=0), s))
    draws = res.extra_draws.copy()
    draws[3] = np.nan                                   # a draw that did not converge
    _, ipma = index.tables(res, s, res.data.to_numpy(float), draws)
    ok = draws[~np.isnan(draws).any(axis=1)]
    perf = np.column_stack([ok[:, s.constructs.index(d)] for d in s.drivers])
    pot = np.minimum(ok[:, k:] * (100 - perf), (100 - ok[:, s.constructs.index(s.target)])[:, None])
    rank = np.argsort(np.argsort(-pot, axis=1), axis=1) + 1      # continuous draws: no ties
    for row in ipma.itertuples():
        j = s.drivers.index(row.driver)
        assert row.p_rank == pytest.approx((rank[:, j] == row.priority).mean())
        assert row.p_first == pytest.approx((rank[:, j] == 1).mean())
        assert row.p_tied == 0
    t = index.priority_ranks(s, draws)
    assert (t["draws"] == 39).all() and (t["left_out"] == 1).all()
    for row in ipma.itertuples():        # ipma.csv's p_rank is priority_ranks.csv at the point priority
        assert row.p_rank == t[(t["driver"] == row.driver) & (t["rank"] == row.priority)]["probability"].item()


def test_without_draws_no_shares(fitted):
    r, s = fitted
    _, ipma = index.tables(r, s, r.data.to_numpy(float), None)
    assert ipma[["p_rank", "p_first", "p_tied"]].isna().all(axis=None)
    _, withheld, _, _ = index.withheld(s)
    assert withheld[["p_rank", "p_first", "p_tied"]].isna().all(axis=None)
    t = index.draw_tables(s, None)
    assert list(t["index_draws.csv"].columns) == ["draw", *s.constructs] and t["index_draws.csv"].empty
    assert t["priority_ranks.csv"].empty


def test_csi_fit_writes_the_draws_deterministically(tmp_path):
    from csi.cli import main

    def fit(out, seed):
        assert main(["fit", str(MODEL), str(FIX / "chengdu_a.csv"), "--out", str(out), "--codebook",
                     str(CODEBOOK), "--target", "SAT", "--bootstrap", "12", "--seed", str(seed), "--quiet"]) == 0
        return {f: (out / f).read_bytes() for f in ("index_draws.csv", "priority_ranks.csv", "ipma.csv")}

    a, b, c = fit(tmp_path / "a", 5), fit(tmp_path / "b", 5), fit(tmp_path / "c", 6)
    assert a == b and a["index_draws.csv"] != c["index_draws.csv"]
    draws = pd.read_csv(tmp_path / "a/index_draws.csv")
    index_csv = pd.read_csv(tmp_path / "a/index.csv")
    assert list(draws.columns) == ["draw", *index_csv["construct"]] and list(draws["draw"]) == list(range(12))
    # the index CIs of index.csv are the percentiles of these draws
    q = np.quantile(draws[index_csv["construct"]].to_numpy(), [0.025, 0.975], axis=0)
    assert np.allclose(q, index_csv[["ci_lower", "ci_upper"]].to_numpy().T, rtol=1e-8)
    ranks = pd.read_csv(tmp_path / "a/priority_ranks.csv")
    ipma = pd.read_csv(tmp_path / "a/ipma.csv")
    assert np.allclose(ranks.groupby("driver")["probability"].sum(), 1)
    for row in ipma.itertuples():
        assert row.p_rank == pytest.approx(
            ranks[(ranks["driver"] == row.driver) & (ranks["rank"] == row.priority)]["probability"].item())


# --- district league --------------------------------------------------------------------------

def _district(folder, indices: dict, draws: pd.DataFrame | None):
    io.write_tables(folder / "model", {
        "index.csv": pd.DataFrame({"construct": list(indices), "index": list(indices.values()),
                                   "ci_lower": np.nan, "ci_upper": np.nan}),
        "index_draws.csv": draws if draws is not None else pd.DataFrame(columns=["draw", *indices])})
    return folder


@pytest.fixture
def districts(tmp_path):
    """Three districts with draws of two indices (one failed draw in 'south', fewer draws in 'east')
    and one withheld."""
    rng = np.random.default_rng(3)
    B, out = 300, {}
    for name, mu in {"north": (70, 80), "south": (71, 79), "east": (68, 85)}.items():
        d = pd.DataFrame({"draw": range(B), "Q1": rng.normal(mu[0], 1.5, B), "Q2": rng.normal(mu[1], 2.0, B)})
        if name == "south":
            d.loc[5, ["Q1", "Q2"]] = np.nan
        if name == "east":                  # a smaller B: joint draws are the draws all districts have
            d = d.head(280)
        out[name] = _district(tmp_path / name, {"Q1": mu[0], "Q2": mu[1]}, d)
    out["west"] = _district(tmp_path / "west", {"Q1": np.nan, "Q2": np.nan}, None)
    return out


def test_league_rank_shares_equal_a_direct_computation(districts):
    names = {d: d.title() for d in districts}
    lg = compare.league(districts, names, True, "comparable")
    out, ranks, _ = compare.rank_uncertainty(districts, lg)
    assert list(ranks.columns) == ["construct", "district", "name", "rank", "probability", "p_tied", "draws",
                                   "left_out"]
    draws = {d: pd.read_csv(f / "model/index_draws.csv") for d, f in districts.items()}
    ranked = ["north", "south", "east"]
    for c in ("Q1", "Q2"):
        joint = draws["north"][["draw", c]]
        for d in ranked[1:]:
            joint = joint.merge(draws[d][["draw", c]], on="draw", suffixes=("", d))
        m = joint.drop(columns="draw").to_numpy()
        assert m.shape == (280, 3)
        m = m[~np.isnan(m).any(axis=1)]
        rank = (-m).argsort(axis=1).argsort(axis=1) + 1
        t = ranks[ranks["construct"] == c]
        assert set(t["district"]) == set(ranked)                  # the withheld district has no rank
        assert (t["draws"] == len(m)).all() and (t["left_out"] == 1).all()
        for j, d in enumerate(ranked):
            for r in (1, 2, 3):
                got = t[(t["district"] == d) & (t["rank"] == r)]["probability"].item()
                assert got == pytest.approx((rank[:, j] == r).mean())
            row = out[(out["construct"] == c) & (out["district"] == d)].iloc[0]
            assert row["p_rank"] == pytest.approx((rank[:, j] == row["rank"]).mean())
            assert row["p_first"] == pytest.approx((rank[:, j] == 1).mean())
    west = out[out["district"] == "west"]
    assert west["rank"].isna().all() and west[["p_rank", "p_first"]].isna().all(axis=None)
    assert list(out.columns[:len(lg.columns)]) == list(lg.columns)
    pd.testing.assert_frame_equal(out[lg.columns], lg)          # the league itself is unchanged


def test_pairwise_differences_equal_a_direct_computation(districts):
    lg = compare.league(districts, {}, True, "comparable")
    _, _, diffs = compare.rank_uncertainty(districts, lg)
    draws = {d: pd.read_csv(f / "model/index_draws.csv") for d, f in districts.items()}
    assert len(diffs) == 2 * 3 and "west" not in set(diffs["district"]) | set(diffs["other"])
    point = lg.set_index(["construct", "district"])["index"]
    for row in diffs.itertuples():
        a, b = (draws[d].set_index("draw")[row.construct] for d in (row.district, row.other))
        diff = (a - b).dropna().to_numpy()           # aligned on the draw number
        assert row.difference == point[(row.construct, row.district)] - point[(row.construct, row.other)] >= 0
        assert [row.ci_lower, row.ci_upper] == pytest.approx(np.percentile(diff, [2.5, 97.5]), rel=1e-12)
        assert row.p_higher == pytest.approx((diff > 0).mean())
        expected = {frozenset({"north", "south"}): (299, 1), frozenset({"north", "east"}): (280, 0),
                    frozenset({"south", "east"}): (279, 1)}
        assert (row.draws, row.left_out) == expected[frozenset({row.district, row.other})]


def test_a_ranked_district_without_draws_withholds_the_rank_shares(tmp_path):
    rng = np.random.default_rng(0)
    folders = {"a": _district(tmp_path / "a", {"Q1": 70.0}, pd.DataFrame({"draw": range(50),
                                                                         "Q1": rng.normal(70, 1, 50)})),
               "b": _district(tmp_path / "b", {"Q1": 69.0}, None)}         # an index but no bootstrap
    lg = compare.league(folders, {}, True, "comparable")
    out, ranks, diffs = compare.rank_uncertainty(folders, lg)
    assert ranks.empty and out["p_rank"].isna().all() and list(out["rank"]) == [1, 2]
    assert diffs["ci_lower"].isna().all() and (diffs["draws"] == 0).all()
    (tmp_path / "a/model/index_draws.csv").unlink()
    with pytest.raises(CSIError, match="no bootstrap draws"):
        compare.rank_uncertainty(folders, lg)


# --- wording ----------------------------------------------------------------------------------

def test_phrases():
    assert [index.ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111)] == \
        ["1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd", "101st", "111th"]
    assert [index.share_text(p) for p in (0, 0.004, 0.73, 0.996, 1)] == ["0%", "<1%", "73%", ">99%", "100%"]
    assert index.rank_phrase(1, 0.73, 0.73, kind="priority") == "priority 1 in 73% of draws"
    assert index.rank_phrase(2, 0.61, 0.30) == "ranked 2nd in 61% of draws (1st in 30%)"
    assert index.rank_phrase(3, 0.4, 0.0) == "ranked 3rd in 40% of draws"
    assert index.rank_phrase(2, 0.5, 0.5, 0.2, kind="priority") == \
        "priority 2 in 50% of draws (priority 1 in 50%; tied in 20%)"
    assert index.rank_phrase(2, 0.61, 0.30, language="zh") == \
        "在 61% 的自助抽样中排名第 2（30% 排名第 1）"
    assert compare.difference_phrase(pd.Series({"difference": 2.14, "ci_lower": 0.31, "ci_upper": 3.9,
                                                "p_higher": 0.98}), "zh") == \
        "高 2.1 分（95% 置信区间 0.3 至 3.9；98% 的自助抽样中更高）"
    assert index.rank_phrase(2, np.nan, np.nan) is None and index.rank_phrase(pd.NA, 0.5, 0.5) is None
    ipma = pd.DataFrame({"priority": [1, 2], "driver": ["D1", "D2"], "p_rank": [0.73, 0.39],
                         "p_first": [0.73, 0.27], "p_tied": [0.0, 0.0]})
    assert index.priority_phrases(ipma).to_dict() == {"D1": "priority 1 in 73% of draws",
                                                      "D2": "priority 2 in 39% of draws (priority 1 in 27%)"}
    assert compare.league_phrase(pd.Series({"rank": 2, "p_rank": 0.61, "p_first": 0.3, "p_tied": 0.0})) == \
        "ranked 2nd in 61% of draws (1st in 30%)"
    assert compare.difference_phrase(pd.Series({"difference": 2.14, "ci_lower": 0.31, "ci_upper": 3.9,
                                                "p_higher": 0.98})) == \
        "2.1 points higher (95% CI 0.3 to 3.9; higher in 98% of draws)"
    assert index.draws_note(998, 2) == ("Shares of 998 bootstrap draws (2 more left out: a refit did not "
                                        "converge or was not admissible); tied values share the ranks they span "
                                        "equally.")
    # a negative CI bound with a minus sign
    assert compare.difference_phrase(pd.Series({"difference": 1.6, "ci_lower": -1.3, "ci_upper": 4.3,
                                                "p_higher": 0.86})) == \
        "1.6 points higher (95% CI −1.3 to 4.3; higher in 86% of draws)"


def test_no_ci_when_no_draw_converged(fitted):
    """A bootstrap too short for the early stop, with every draw failed: no CI, no crash."""
    r, s = fitted
    draws = np.full((10, len(s.constructs) + len(s.drivers)), np.nan)
    idx, ipma = index.tables(r, s, r.data.to_numpy(float), draws)
    assert idx["ci_lower"].isna().all() and idx["index"].notna().all() and ipma["importance"].notna().all()
