"""Bad input: one clear message (file, column, row, value, what to do) and no output."""

import json

import pandas as pd
import pytest
import yaml

from conftest import CODEBOOK, write_csv, write_xlsx

SIGNS = "9. 您对服务大厅的标识指引是否满意？"


def assert_clean_failure(code, err, paths, *fragments):
    assert code == 1
    assert "What to do:" in err
    for f in fragments:
        assert f in err, err
    out = paths["coded"].parent
    assert not out.exists() or not any(out.iterdir())   # no output, not even a temporary file


def test_valid_export_passes_and_codes_answers(tmp_path, small_rows, cli):
    header, rows = small_rows
    code, err, paths = cli(write_xlsx(tmp_path / "ok.xlsx", header, rows))
    assert code == 0, err
    coded = pd.read_parquet(paths["coded"])
    assert len(coded) == 40 and coded["raw_row"].tolist() == list(range(2, 42))
    i = header.index(SIGNS)
    labels = {"非常满意": 5, "比较满意": 4, "一般": 3, "不太满意": 2, "非常不满意": 1}
    expected = [labels.get(r[i], float("nan")) for r in rows]
    assert coded["loc_signs"].tolist() == pytest.approx(expected, nan_ok=True)
    # reverse-worded item: agreeing that the platform is slow is a low score
    j = header.index("8. 网上服务平台办理业务速度慢、经常卡顿。")
    agree = {"非常同意": 5, "比较同意": 4, "一般": 3, "不太同意": 2, "非常不同意": 1}
    for raw, got in zip((r[j] for r in rows), coded["loc_online_speed"]):
        if raw in agree:
            assert got == 6 - agree[raw]
    report = json.loads(paths["report"].read_text())
    assert report["rows"] == 40 and report["problems"] == 0


def test_csv_and_sav_exports_read_like_xlsx(tmp_path, small_rows, cli):
    import pyreadstat

    header, rows = small_rows
    code, err, p = cli(write_csv(tmp_path / "ok.csv", header, rows))
    assert code == 0, err
    from_csv = pd.read_parquet(p["coded"])
    names = [f"v{i}" for i in range(len(header))]
    frame = pd.DataFrame([[None if v is None else str(v) for v in r] for r in rows], columns=names)
    pyreadstat.write_sav(frame, tmp_path / "ok.sav", column_labels=header)
    code, err, p = cli(tmp_path / "ok.sav")
    assert code == 0, err
    from_sav = pd.read_parquet(p["coded"])
    items = ["loc_signs", "hnd_competence", "sat_overall", "cmp_complained"]
    pd.testing.assert_frame_equal(from_csv[items], from_sav[items])


def test_missing_column(tmp_path, small_rows, cli):
    header, rows = small_rows
    i = header.index(SIGNS)
    h = header[:i] + header[i + 1:]
    r = [row[:i] + row[i + 1:] for row in rows]
    code, err, paths = cli(write_xlsx(tmp_path / "missing.xlsx", h, r))
    assert_clean_failure(code, err, paths, "missing.xlsx", f"column {SIGNS!r}", "is missing from the export")


def test_renamed_column_is_recognised(tmp_path, small_rows, cli):
    header, rows = small_rows
    h = [("9. 您对服务大厅的标识指引满意吗？" if x == SIGNS else x) for x in header]
    code, err, paths = cli(write_xlsx(tmp_path / "renamed.xlsx", h, rows))
    assert_clean_failure(code, err, paths, "renamed.xlsx", "looks like it was renamed",
                         "满意吗？", f"column {SIGNS!r}")


def test_label_not_in_codebook(tmp_path, small_rows, cli):
    header, rows = small_rows
    i = header.index(SIGNS)
    rows[6][i] = "满意的"          # raw row 8 in a spreadsheet
    rows[20][i] = "还行"           # raw row 22: every problem is listed
    code, err, paths = cli(write_xlsx(tmp_path / "label.xlsx", header, rows))
    assert_clean_failure(code, err, paths, "label.xlsx", f"column {SIGNS!r}", "row 8", "value '满意的'",
                         "row 22", "value '还行'", "not a label of scale sat5", "2 cell(s)")


def test_gbk_csv(tmp_path, small_rows, cli):
    header, rows = small_rows
    raw = write_csv(tmp_path / "gbk.csv", header, rows, encoding="gbk")
    code, err, paths = cli(raw)
    assert_clean_failure(code, err, paths, "gbk.csv", "GBK", "line 1", "encoding: gb18030")
    code, err, paths = cli(raw, CODEBOOK, "--encoding", "gb18030")  # the advice works
    assert code == 0, err


@pytest.mark.parametrize("content", [b"", b"\n\n  \n"])
def test_empty_file(tmp_path, cli, content):
    raw = tmp_path / "empty.csv"
    raw.write_bytes(content)
    code, err, paths = cli(raw)
    assert_clean_failure(code, err, paths, "empty.csv")
    assert "empty" in err or "no data" in err


def test_duplicated_headers(tmp_path, small_rows, cli):
    header, rows = small_rows
    h = header + [SIGNS]
    r = [row + [row[header.index(SIGNS)]] for row in rows]
    code, err, paths = cli(write_xlsx(tmp_path / "dup.xlsx", h, r))
    assert_clean_failure(code, err, paths, "dup.xlsx", "duplicated header", SIGNS, "columns")


def test_codebook_failing_schema(tmp_path, small_rows, cli):
    header, rows = small_rows
    data = yaml.safe_load(CODEBOOK.read_text("utf-8"))
    data["columns"][5]["role"] = "respondent"
    bad = tmp_path / "bad_codebook.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    code, err, paths = cli(write_xlsx(tmp_path / "ok.xlsx", header, rows), bad)
    assert_clean_failure(code, err, paths, "bad_codebook.yaml", "does not match its schema",
                         "columns[5] (resp_type).role")


def test_stray_numeric_codes_are_logged_or_refused(tmp_path, small_rows, cli):
    header, rows = small_rows
    i = header.index(SIGNS)
    rows[3][i] = 6
    code, err, paths = cli(write_xlsx(tmp_path / "stray.xlsx", header, rows))
    assert code == 0, err
    log = pd.read_csv(paths["recoded"])
    assert log[["raw_row", "code", "raw_value"]].values.tolist() == [[5, "loc_signs", 6]]
    assert pd.isna(pd.read_parquet(paths["coded"]).loc[3, "loc_signs"])
    for p in paths.values():
        p.unlink()
    code, err, paths = cli(tmp_path / "stray.xlsx", CODEBOOK, "--out-of-range", "error")
    assert_clean_failure(code, err, paths, "row 5", "value '6'", "numeric code in a labelled scale")


def test_missing_raw_file_and_unknown_type(tmp_path, cli):
    code, err, paths = cli(tmp_path / "nowhere.xlsx")
    assert_clean_failure(code, err, paths, "nowhere.xlsx", "not found")
    (tmp_path / "x.json").write_text("{}")
    code, err, paths = cli(tmp_path / "x.json")
    assert_clean_failure(code, err, paths, "cannot read '.json' files")


def test_console_script_exit_code(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    raw = tmp_path / "empty.xlsx"
    raw.write_bytes(b"")
    csi = Path(sys.executable).parent / "csi"
    out = tmp_path / "o"
    r = subprocess.run([str(csi), "validate", str(raw), "--codebook", str(CODEBOOK), "--coded",
                        str(out / "c.parquet"), "--recoded", str(out / "r.csv"), "--report",
                        str(out / "v.json"), "--salt-file", str(tmp_path / "salt")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "empty.xlsx" in r.stderr and not out.exists()


def test_export_without_an_id_column(tmp_path, small_rows, cli):
    header, rows = small_rows
    data = yaml.safe_load(CODEBOOK.read_text("utf-8"))
    data["columns"] = [c for c in data["columns"] if c.get("role") != "id"]
    book = tmp_path / "noid.yaml"
    book.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    i = header.index("序号")
    code, err, paths = cli(write_xlsx(tmp_path / "noid.xlsx", header[:i] + header[i + 1:],
                                      [r[:i] + r[i + 1:] for r in rows]), book)
    assert code == 0, err
    coded = pd.read_parquet(paths["coded"])
    assert coded["respondent"].notna().all() and coded["respondent"].is_unique
