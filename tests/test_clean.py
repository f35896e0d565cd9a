import json
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from csi import clean, codebook, exports, privacy, validate

from conftest import CODEBOOK, RAW_A, ROOT

CB = codebook.load(CODEBOOK)
RULES = {"min_duration_seconds": 90, "straightlining": {"min_items": 8, "require_reversed": True},
         "max_item_missing": 0.2}
GRID = [c.code for c in CB.items if c.battery == "quality"]


def coded(n=6, item=4.0):
    """A coded frame of n plausible respondents (all kept by every rule)."""
    d = pd.DataFrame({"raw_row": np.arange(2, n + 2), "respondent": [f"p{i}" for i in range(n)],
                      "submitted_at": pd.date_range("2020-11-02 09:00", periods=n, freq="h"),
                      "duration_s": 300.0, "resp_type": "unit"})
    for i, c in enumerate(CB.item_codes):
        d[c] = item if i % 3 else 5.0   # not all the same
    d["attention_passed"] = True
    d["same_person_as"] = pd.array([pd.NA] * n, dtype="Int64")
    return d


def reasons(d, rules=RULES):
    c = clean.clean(d, CB, rules)
    return dict(zip(c.exclusions["raw_row"], c.exclusions["reason"])), c


def test_plausible_respondents_are_kept():
    got, c = reasons(coded())
    assert got == {} and len(c.data) == 6
    assert "same_person_as" not in c.data and "attention_passed" not in c.data


def test_duplicate_keeps_the_first_submission():
    d = coded()
    d.loc[3, "same_person_as"] = 3
    got, c = reasons(d)
    assert got == {5: "duplicate"}
    assert c.exclusions.loc[0, "detail"] == "repeat of raw row 3"


def test_speeder_threshold_is_strict():
    d = coded()
    d.loc[1, "duration_s"] = 89.0
    d.loc[2, "duration_s"] = 90.0    # exactly the limit is not a speeder
    assert reasons(d)[0] == {3: "speeder"}


def test_straight_lining_needs_a_contradicted_reverse_item():
    d = coded()
    # the same raw position on every grid question: reverse item coded 6 - 5 = 1
    for c in GRID:
        d.loc[0, c] = 1.0 if CB.by_code[c].reverse else 5.0
    # genuinely very satisfied: 5 everywhere after reverse coding (raw 1 on the reverse item)
    for c in GRID:
        d.loc[1, c] = 5.0
    # the same raw position everywhere, but the reverse item skipped: nothing contradicts it
    for c in GRID:
        d.loc[2, c] = np.nan if CB.by_code[c].reverse else 5.0
    assert reasons(d)[0] == {2: "straight_liner"}
    loose = {**RULES, "straightlining": {"min_items": 8, "require_reversed": False}}
    assert reasons(d, loose)[0] == {2: "straight_liner", 4: "straight_liner"}


def test_straight_lining_needs_enough_answers():
    d = coded()
    for c in GRID:
        d.loc[0, c] = 1.0 if CB.by_code[c].reverse else 5.0
    d.loc[0, [c for c in GRID if not CB.by_code[c].reverse][:len(GRID) - 7]] = np.nan
    assert d.loc[0, GRID].notna().sum() == 7
    assert reasons(d)[0] == {}


def test_attention_check_and_missing_items():
    d = coded(8)
    d.loc[2, "attention_passed"] = False
    items = CB.item_codes
    limit = int(0.2 * len(items))      # 20% of 20 items = 4 may be missing
    d.loc[4, items[:limit]] = np.nan
    d.loc[5, items[:limit + 1]] = np.nan
    got, _ = reasons(d)
    assert got == {4: "attention_check", 7: "item_missing"}


def test_each_row_gets_its_first_reason_only():
    d = coded()
    d.loc[0, "duration_s"] = 10.0
    d.loc[0, "attention_passed"] = False
    got, c = reasons(d)
    assert got == {2: "speeder"}
    assert [s["excluded"] for s in c.flow["steps"]] == [0, 1, 0, 0, 0]


@st.composite
def respondents(draw):
    n = draw(st.integers(1, 40))
    d = coded(n)
    d["duration_s"] = draw(st.lists(st.sampled_from([20.0, 89.0, 90.0, 300.0]), min_size=n, max_size=n))
    d["attention_passed"] = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    for c in CB.item_codes:
        d[c] = draw(st.lists(st.sampled_from([np.nan, 1.0, 3.0, 5.0]), min_size=n, max_size=n))
    dup = draw(st.lists(st.booleans(), min_size=n, max_size=n))
    d["same_person_as"] = pd.array([2 if (x and i) else pd.NA for i, x in enumerate(dup)], dtype="Int64")
    return d


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(respondents())
def test_every_raw_row_is_accounted_for(d):
    c = clean.clean(d, CB, RULES)
    flow = c.flow
    assert flow["raw_rows"] == len(d) == flow["kept"] + sum(s["excluded"] for s in flow["steps"])
    rows = sorted(c.exclusions["raw_row"].tolist() + c.data["raw_row"].tolist())
    assert rows == d["raw_row"].tolist()          # each raw row exactly once
    assert set(c.exclusions["reason"]) <= set(clean.STEPS)


@pytest.fixture(scope="module")
def district_a(tmp_path_factory):
    salt = privacy.load_salt(tmp_path_factory.mktemp("s") / "salt")
    v = validate.validate(exports.read(RAW_A), CB, salt=salt)
    return v, clean.clean(v.coded, CB, RULES)


def test_planted_defects_are_found_exactly(district_a):
    v, c = district_a
    truth = json.loads((RAW_A.parent / "truth.json").read_text())
    expected = {"duplicate": "duplicate", "speeder": "speeder", "straight_liner": "straight_liner",
                "attention_fail": "attention_check", "heavy_skipper": "item_missing"}
    planted = {row: expected[k] for k, rows in truth["planted_rows"].items() for row in rows}
    assert dict(zip(c.exclusions["raw_row"], c.exclusions["reason"])) == planted
    assert len(c.data) == truth["n_genuine"] == 1000
    assert sorted(v.recoded["raw_row"]) == truth["stray_code_rows"]


def test_same_inputs_give_identical_bytes(tmp_path):
    from csi.cli import main

    outs = []
    for k in ("a", "b"):
        o = tmp_path / k
        args = ["--coded", str(o / "coded.parquet"), "--recoded", str(o / "rec.csv"),
                "--report", str(o / "v.json"), "--salt-file", str(tmp_path / "salt")]
        assert main(["validate", str(ROOT / "data/raw/district_c/export.xlsx"),
                     "--codebook", str(CODEBOOK), *args]) == 0
        assert main(["clean", str(o / "coded.parquet"), "--codebook", str(CODEBOOK), "--validation",
                     str(o / "v.json"), "--data", str(o / "clean.parquet"), "--exclusions",
                     str(o / "excl.csv"), "--flow", str(o / "flow.json")]) == 0
        outs.append({p.name: p.read_bytes() for p in sorted(o.iterdir())})
    assert outs[0] == outs[1] and len(outs[0]) == 6


def test_repeated_submissions_match_rules_by_hand():
    """The same person: the same normalized value in one identity column (not across columns); rows
    without identity data: identical answers (blank equals blank). Each row points at the earliest
    earlier row sharing a key, in submission-time order (ties: raw row)."""
    from types import SimpleNamespace as Col

    from csi.privacy import repeated_submissions

    cb = Col(columns=[Col(header="t", role="timestamp", identity=False), Col(header="mob", role="pii", identity=True),
                      Col(header="idn", role="pii", identity=True), Col(header="q", role="item", identity=False)])
    text = pd.DataFrame({"t": "x",
                         "mob": ["138-0000", None, "1380000 ", None, None, "555", None],
                         "idn": [None, "555", None, None, None, "9x", "9X"],
                         "q": ["1", "2", "3", None, None, "4", "5"]}, index=[2, 3, 4, 5, 6, 7, 8])
    minute = pd.Timedelta(minutes=1)
    t0 = pd.Timestamp("2021-01-01")
    coded = pd.DataFrame({"submitted_at": [t0 + 5 * minute, t0, t0 + minute, t0 + minute, t0 + minute,
                                           t0 + 2 * minute, t0 + 3 * minute]}, index=text.index)
    got = repeated_submissions(text, cb, coded).fillna(0).to_dict()      # 0: no earlier submission
    assert got == {2: 4,        # mobile 138-0000 = 1380000, and row 4 was submitted first
                   3: 0,        # idn 555 is not mobile 555
                   4: 0, 5: 0,
                   6: 5,        # no identity: the same (blank) answers as row 5, same time, later raw row
                   7: 0,
                   8: 7}        # idn 9x = 9X


def test_why_a_step_did_not_apply_is_said_in_chinese_for_every_step_that_can_be_skipped():
    """clean.not_applicable's reasons (English, in flow.json) have Chinese counterparts in the report."""
    from csi.report.district import why_not_zh

    book = codebook.load(ROOT / "data/codebooks/ecsi_example.yaml")   # no duration, attention check or grid
    cfg = {"min_duration_seconds": 90, "straightlining": {"min_items": 8, "require_reversed": True},
           "max_item_missing": 0.2}
    d = pd.DataFrame({c: [1.0] for c in book.item_codes})
    skipped = [{"step": s, "why_not": clean.not_applicable(s, d, book, cfg)} for s in clean.STEPS]
    skipped = [s for s in skipped if s["why_not"]]
    assert {s["step"] for s in skipped} == {"speeder", "attention_check", "straight_liner"}
    for s in skipped:
        zh = why_not_zh(s, {"rules": {"straightlining": cfg["straightlining"]}})
        assert zh != s["why_not"] and re.search(r"[\u4e00-\u9fff]", zh), s
