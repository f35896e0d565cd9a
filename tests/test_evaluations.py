"""The rating stream (issue 13): accounting, planted incidents found, rates equal direct counts, bad
files refused with clear errors, no personal data in any output. Small simulated streams only."""

import hashlib
import json
import re

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from csi.errors import CSIError
from csi.evaluations import analysis, codebook, partition, simulate, spc

from conftest import ROOT

SPEC = ROOT / "config/evaluations_simulation.yaml"
CB = codebook.load(ROOT / "data/codebooks/haochaping_2021.yaml")
SALT = b"test-salt"
SMALL = {"ratings_per_day": 300}      # ~100,000 records a year: every incident still detectable


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    d = tmp_path_factory.mktemp("stream")
    truth = simulate.write_from_spec(SPEC, ROOT, out=d / "evaluations.parquet", truth=d / "truth.json", **SMALL)
    return d / "evaluations.parquet", truth


@pytest.fixture(scope="module")
def result(stream, tmp_path_factory):
    export, truth = stream
    out = tmp_path_factory.mktemp("out")
    parts = analysis.partition_stream(export, CB, SALT)            # month by month
    flow = analysis.combine(export, CB, parts, out, min_n=10)
    tables = {p.stem: pd.read_csv(p) for p in (out / "tables").glob("*.csv")}
    return {"out": out, "flow": flow, "parts": parts, "tables": tables, "truth": truth, "export": export}


def test_accounting_holds_and_matches_the_planted_records(result):
    flow, truth = result["flow"], result["truth"]
    excluded = {s["step"]: s["excluded"] for s in flow["steps"]}
    assert flow["raw_rows"] == truth["n_raw"] == flow["kept"] + sum(excluded.values())
    assert flow["kept"] == truth["n_genuine"]
    assert excluded == truth["planted_counts"]
    excl = pd.read_csv(result["out"] / "exclusions.csv")
    assert len(excl) == sum(excluded.values()) and excl["raw_row"].is_unique
    assert excl.groupby("reason").size().to_dict() == {k: v for k, v in excluded.items() if v}
    dup = excl[excl["reason"] == "duplicate"]["detail"]
    assert dup.str.match(r"repeat of raw row \d+ \(same case, \d+ min later\)").all()


def test_months_as_partitions_give_the_whole_stream_result(result):
    con_parts = result["parts"]
    whole = analysis.partition_stream(result["export"], CB, SALT, [None])[0]
    combined = partition.combine(con_parts)
    keys = ["set"] + partition.KEYS
    a = whole.counts.sort_values(keys).reset_index(drop=True)
    b = combined.counts.sort_values(keys).reset_index(drop=True)[a.columns]
    pd.testing.assert_frame_equal(a, b, check_dtype=False)
    pd.testing.assert_frame_equal(whole.exclusions.reset_index(drop=True), combined.exclusions, check_dtype=False)


def _kept_records(result) -> pd.DataFrame:
    """The export read with pandas, less the excluded raw rows: a direct count's base."""
    raw = pq.read_table(result["export"]).to_pandas()
    raw["raw_row"] = np.arange(len(raw)) + 2
    excl = pd.read_csv(result["out"] / "exclusions.csv")
    kept = raw[~raw["raw_row"].isin(excl["raw_row"])].copy()
    kept["good"] = kept["评价等级"].isin(["满意", "非常满意"])
    return kept


def test_rates_equal_a_direct_count(result):
    kept = _kept_records(result)
    t = result["tables"]
    month = kept.groupby(kept["评价时间"].dt.strftime("%Y-%m-01"))["good"].agg(["size", "sum"])
    m = t["rates_month"].set_index("month")
    assert (m["n"] == month["size"]).all() and (m["good"] == month["sum"]).all()
    assert np.allclose(m["rate"], month["sum"] / month["size"])
    by = t["rates_by"]
    svc = kept.groupby("服务事项")["good"].agg(["size", "sum"])
    s = by[by["dimension"] == "service"].set_index("value")
    assert (s.loc[svc.index, "n"] == svc["size"]).all() and np.allclose(s.loc[svc.index, "rate"], svc["sum"] / svc["size"])
    win = kept.groupby(["办理大厅", "窗口"])["good"].size()
    w = by[by["dimension"] == "window"].set_index(["hall", "value"])["n"]
    assert (w.loc[win.index] == win).all()
    # the deadline days against the other days: the simulator's own counts of its genuine ratings
    peak = t["peaks"].iloc[0]
    truth = result["truth"]["incidents"]["peak_day"]
    assert peak["ratings"] == truth["ratings_deadline_days"] and peak["other_ratings"] == truth["ratings_other_days"]
    assert peak["rate"] == pytest.approx(truth["good_rate_deadline_days"], abs=1e-6)
    assert peak["other_rate"] == pytest.approx(truth["good_rate_other_days"], abs=1e-6)


def _flagged_within_two_weeks(signals, chart, unit, start):
    s = signals[(signals["chart"] == chart) & (signals["unit"] == unit) & (signals["direction"] == "low")]
    start = pd.Timestamp(start)
    first = pd.to_datetime(s["start"])
    # a flagged week that begins at most 6 days before the start (the week holding it) and at most 14 after
    return bool(((first >= start - pd.Timedelta(days=6)) & (first <= start + pd.Timedelta(days=14))).any())


def test_each_planted_drop_is_flagged_within_two_weeks(result):
    inc, sig = result["truth"]["incidents"], result["tables"]["spc_signals"]
    w = inc["window_drop"]
    assert _flagged_within_two_weeks(sig, "window", f"{w['hall']} {w['window']}", w["start"]), sig
    p = inc["policy_change"]
    assert _flagged_within_two_weeks(sig, "service", p["service"], p["date"]), sig


def test_peak_days_and_slow_followup_are_found(result):
    peak = result["tables"]["peaks"].iloc[0]
    assert peak["diff_ci_upper"] < 0                         # deadline days worse, beyond chance
    f = result["tables"]["followup"].set_index("hall")
    slow = result["truth"]["incidents"]["slow_followup"]["hall"]
    others = f.drop(index=[slow, "(all)"])
    assert f.loc[slow, "ci_upper"] < others["ci_lower"].min()
    assert f.loc[slow, "median_hours"] > 2 * others["median_hours"].max()


def _false_alarms(chart_table, incident_units):
    c = chart_table[~chart_table["unit"].isin(incident_units)].fillna({"p_flag": "", "ewma_flag": ""})
    return len(c), int((c["p_flag"] != "").sum()), int((c["ewma_flag"] != "").sum())


def test_false_alarm_rate_on_stable_units_is_at_most_alpha(tmp_path):
    """Several seeds, the incidents switched off in none: only the units without one count."""
    points = p_flags = e_flags = 0
    inc = simulate.load_spec(SPEC)["incidents"]
    incident_units = {f"{inc['window_drop']['hall']} {inc['window_drop']['window']}", inc["policy_change"]["service"]}
    for seed in (1, 2, 3):
        export = tmp_path / f"s{seed}.parquet"
        simulate.write_from_spec(SPEC, ROOT, out=export, truth=tmp_path / f"t{seed}.json", seed=seed, **SMALL)
        whole = analysis.partition_stream(export, CB, SALT, [None])[0]
        for kind in ("window", "service"):
            n, p, e = _false_alarms(spc.chart(spc.daily(whole.counts, kind)), incident_units)
            points, p_flags, e_flags = points + n, p_flags + p, e_flags + e
    assert points > 3000
    assert p_flags / points <= spc.ALPHA, (p_flags, points)
    assert e_flags / points <= spc.ALPHA, (e_flags, points)


def test_p_chart_probability_limits_keep_alpha_on_binomial_data():
    """In-control binomial weeks (rates near 1, small n): the p-chart flags at most alpha of them."""
    rng = np.random.default_rng(7)
    rows = []
    days = pd.date_range("2021-01-04", periods=52 * 7, freq="D")
    for u in range(40):
        p = rng.uniform(0.9, 0.98)
        n = rng.integers(5, 30, len(days))
        rows.append(pd.DataFrame({"unit": f"u{u}", "day": days, "n": n, "good": rng.binomial(n, p)}))
    c = spc.chart(pd.concat(rows, ignore_index=True))
    assert len(c) == 40 * 52
    assert (c["p_flag"] != "").mean() <= spc.ALPHA


def test_no_personal_data_in_any_output(result):
    truth = result["truth"]
    st = simulate.Structure({**simulate.load_spec(SPEC), **SMALL})
    staff_ids, staff_names = set(truth["staff_ids"]), set(st.staff_names)
    files = [p for p in result["out"].rglob("*") if p.is_file()]
    texts = [p.read_text("utf-8") for p in files]
    for part in result["parts"]:                  # the partitions' files hold the same (pseudonymized) counts
        texts += [f.to_csv() for f in (part.counts, part.followup, part.comments, part.exclusions)]
    blob = "\n".join(texts)
    assert not re.search(r"(?<!\d)1[3-9]\d{9}(?!\d)", blob), "a mobile number reached an output"
    assert not re.search(r"\d{17}[\dXx]", blob), "an ID number reached an output"
    assert not [s for s in staff_ids if s in blob], "a staff id reached an output"
    words = set(result["tables"]["comment_keywords"]["word"])
    assert not words & staff_names
    by = result["tables"]["rates_by"]
    assert by.loc[by["dimension"] == "staff", "value"].str.fullmatch(r"[0-9a-f]{16}").all()
    assert result["flow"]["comments_with_numbers_scrubbed"] >= truth["comments_with_personal_data"] > 0


def test_simulation_is_byte_identical(tmp_path, stream):
    """Another process (another hash seed) writes the same bytes, as `make simulate` would."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    export, _ = stream
    csi = Path(sys.executable).parent / "csi"
    r = subprocess.run([str(csi), "evaluations", "simulate", "--spec", str(SPEC), "--root", str(ROOT),
                        "--ratings-per-day", str(SMALL["ratings_per_day"]), "--out", str(tmp_path / "e.parquet"),
                        "--truth", str(tmp_path / "t.json")], capture_output=True, text=True,
                       env={**os.environ, "PYTHONHASHSEED": "12345"})
    assert r.returncode == 0, r.stderr
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()  # noqa: E731
    assert sha(tmp_path / "e.parquet") == sha(export)
    assert json.loads((tmp_path / "t.json").read_text())["n_raw"] == \
        json.loads((export.parent / "truth.json").read_text())["n_raw"]


def test_csv_and_xlsx_exports_are_read_like_parquet(stream, tmp_path):
    export, _ = stream
    head = pq.read_table(export).slice(0, 400).to_pandas()
    head.to_parquet(tmp_path / "e.parquet", index=False)
    text = head.astype(object).where(head.notna(), None)
    for c in ("评价时间", "整改完成时间", "整改期限"):       # times as a platform writes them in text
        text[c] = head[c].dt.strftime("%Y/%m/%d %H:%M:%S").where(head[c].notna(), None)
    text.to_csv(tmp_path / "e.csv", index=False, encoding="utf-8-sig")
    text.to_csv(tmp_path / "gbk.csv", index=False, encoding="gb18030")
    text.to_excel(tmp_path / "e.xlsx", index=False)
    flows = {}
    for name, enc in (("e.parquet", None), ("e.csv", None), ("gbk.csv", "gb18030"), ("e.xlsx", None)):
        parts = analysis.partition_stream(tmp_path / name, CB, SALT, [None], encoding=enc)
        flows[name] = (parts[0].flow["raw_rows"], parts[0].flow["kept"], str(parts[0].flow["excluded"]),
                       int(parts[0].counts.loc[parts[0].counts["set"] == "channel", "good"].sum()))
    assert len(set(flows.values())) == 1, flows


def _write(frame, path):
    frame.to_parquet(path, index=False)
    return path


def test_bad_files_give_clear_errors_and_no_outputs(stream, tmp_path):
    export, _ = stream
    head = pq.read_table(export).slice(0, 300).to_pandas()
    out = tmp_path / "out"
    cases = {
        "missing column": (_write(head.drop(columns=["评价等级"]), tmp_path / "a.parquet"), ["评价等级", "What to do"]),
        "renamed column": (_write(head.rename(columns={"窗口": "窗口号"}), tmp_path / "b.parquet"),
                           ["窗口号", "looks like it was renamed"]),
        "wrong labels": (_write(head.assign(评价等级="好"), tmp_path / "c.parquet"),
                         ["cannot be read", "rating '好' is not a label", "row 2", "scale labels"]),
        "not parquet": (tmp_path / "d.parquet", ["not a readable parquet file", "export the ratings again"]),
        "wrong type": (tmp_path / "e.txt", ["cannot read '.txt'"]),
        "empty": (tmp_path / "f.csv", ["empty"]),
        "header only": (_write(head.iloc[:0], tmp_path / "g.parquet"), ["no rating records", "export the ratings"]),
        "all excluded": (_write(head.assign(评价渠道="窗口评价器",             # rated at the window at 3 a.m.
                                            评价时间=pd.to_datetime(head["评价时间"]).dt.normalize()
                                            + pd.Timedelta(hours=3)), tmp_path / "h.parquet"),
                         ["none of the export's 300 records", "outside_hours: 296", "opening hours"]),
    }
    (tmp_path / "d.parquet").write_text("评价编号,评价时间\n1,2\n")
    (tmp_path / "e.txt").write_text("x")
    (tmp_path / "f.csv").write_bytes(b"")
    for name, (path, needles) in cases.items():
        with pytest.raises(CSIError) as e:
            analysis.analyse(path, CB, SALT, out)
        msg = str(e.value)
        assert str(path) in msg, name
        for needle in needles:
            assert needle in msg, f"{name}: {needle!r} not in {msg}"
        assert not out.exists(), name
    with pytest.raises(CSIError, match="no rating records"):            # the pipeline's first step
        analysis.months(tmp_path / "g.parquet", CB)


def test_cli_writes_every_table_and_reports_errors(stream, tmp_path, capsys):
    from csi.cli import main

    export, _ = stream
    head = pq.read_table(export).slice(0, 3000).to_pandas()
    small = _write(head, tmp_path / "s.parquet")
    code = main(["evaluations", "analyse", str(small), "--codebook", str(ROOT / "data/codebooks/haochaping_2021.yaml"),
                 "--salt-file", str(tmp_path / "salt"), "--out", str(tmp_path / "out")])
    assert code == 0, capsys.readouterr().err
    assert {f"{k}" for k in analysis.TABLES} == {p.name for p in (tmp_path / "out/tables").iterdir()}
    code = main(["evaluations", "analyse", str(tmp_path / "none.parquet"), "--codebook",
                 str(ROOT / "data/codebooks/haochaping_2021.yaml"), "--out", str(tmp_path / "o2")])
    err = capsys.readouterr().err
    assert code == 1 and "csi evaluations: error:" in err and "rating export not found" in err


def test_codebook_is_checked(tmp_path):
    import yaml

    data = yaml.safe_load((ROOT / "data/codebooks/haochaping_2021.yaml").read_text("utf-8"))
    data["scale"]["good"] = [4, 9]
    data["columns"] = [c for c in data["columns"] if c["role"] != "timestamp"]
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(CSIError) as e:
        codebook.load(bad)
    assert "code 9 is not the code of any label" in str(e.value) and "no column has role `timestamp`" in str(e.value)


def test_reasons_spelled_otherwise_are_counted_as_their_option(stream, tmp_path):
    """A reason exported in full-width brackets (or another case or spacing) is the codebook's option:
    counted, not dropped, and not logged as unknown."""
    import yaml

    export, _ = stream
    head = pq.read_table(export).slice(0, 20000).to_pandas()
    data = yaml.safe_load((ROOT / "data/codebooks/haochaping_2021.yaml").read_text("utf-8"))
    opt = next(o for c in data["columns"] if c.get("role") == "reasons" for o in c["options"] if o["code"] == "waiting")
    opt["value"] = opt["value"] + "(窗口)"                      # the codebook: ASCII brackets
    (tmp_path / "cb.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    cb2 = codebook.load(tmp_path / "cb.yaml")
    wide = head.assign(差评原因=head["差评原因"].str.replace("等待时间长", "等待时间长（窗口）"))   # the export: full-width
    n_wait = int(head["差评原因"].fillna("").str.contains("等待时间长").sum())
    assert n_wait > 0
    (base,) = analysis.partition_stream(_write(head, tmp_path / "a.parquet"), CB, SALT, [None])
    (other,) = analysis.partition_stream(_write(wide, tmp_path / "b.parquet"), cb2, SALT, [None])
    count = lambda part: int(part.counts.loc[part.counts["set"] == "service", "r_waiting"].sum())  # noqa: E731
    assert count(other) == count(base) > 0
    assert not [r for r in other.flow.get("recoded", []) if "窗口" in str(r["value"])]
