"""Exports as real platforms write them, one class per test, in files the test makes: each is read
correctly where its intent is unambiguous, or refused with a message that names what is wrong
and the exact fix — never a traceback, never output left behind."""

import json

import openpyxl
import pandas as pd
import pytest
import yaml

from conftest import CODEBOOK, write_csv, write_xlsx

SIGNS = "9. 您对服务大厅的标识指引是否满意？"
PHONE = "31. 您的手机号码："
ID_CARD = "32. 您的身份证号码："
CHANNEL = "5. 您通过哪些渠道办理过社保业务？(多选):网上服务平台"
DURATION = "所用时间"
SUBMITTED = "提交答卷时间"


def refused(code, err, paths, *fragments):
    """A clear refusal: exit 1, the fragments, a 'What to do', no traceback, no output."""
    assert code == 1, err
    assert "What to do:" in err and "Traceback" not in err, err
    for f in fragments:
        assert f in err, f"{f!r} not in:\n{err}"
    out = paths["coded"].parent
    assert not out.exists() or not any(out.iterdir())


def passed(code, err, paths):
    assert code == 0, err
    return (pd.read_parquet(paths["coded"]), pd.read_csv(paths["recoded"], keep_default_na=False),
            json.loads(paths["report"].read_text()))


def col(header, rows, name):
    return header.index(name)


# --- 1. blank cells ---------------------------------------------------------------------------

def test_a_blank_optional_personal_column_is_missing_not_a_crash(tmp_path, small_rows, cli):
    header, rows = small_rows
    rows[2][col(header, rows, PHONE)] = None          # one respondent left phone and ID blank
    rows[2][col(header, rows, ID_CARD)] = ""
    for path in (write_xlsx(tmp_path / "blank.xlsx", header, rows), write_csv(tmp_path / "blank.csv", header, rows)):
        coded, _, _ = passed(*cli(path))
        assert len(coded) == 40 and pd.isna(coded.loc[2, "same_person_as"])
        for p in tmp_path.glob("out/*"):
            p.unlink()


def test_a_header_cell_left_blank_is_named_by_its_column_never_nan(tmp_path, small_rows, cli):
    header, rows = small_rows
    header = list(header)
    header[col(header, rows, SIGNS)] = None
    code, err, paths = cli(write_xlsx(tmp_path / "noheader.xlsx", header, rows))
    refused(code, err, paths, "column T holds answers", "header cell in row 1 is empty")
    assert "nan" not in err.lower().replace("cannot", "")


def test_empty_trailing_columns_without_header_are_skipped(tmp_path, small_rows, cli):
    header, rows = small_rows
    coded, _, report = passed(*cli(write_csv(tmp_path / "trailing.csv", header + [None, None],
                                             [r + [None, None] for r in rows])))
    assert len(coded) == 40 and report["read"]["empty_columns"] == ["AV", "AW"]


# --- 2. problems before coding ------------------------------------------------------------------

def test_a_totals_row_is_named_with_its_fix_and_read_with_footer_rows(tmp_path, small_rows, cli):
    header, rows = small_rows
    totals = [None] * len(header)
    totals[0] = "合计"
    totals[col(header, rows, CHANNEL)] = 523               # a count in a 0/1 column
    path = write_xlsx(tmp_path / "totals.xlsx", header, rows + [totals])
    code, err, paths = cli(path)
    refused(code, err, paths, "row 42 is a totals or summary row ('合计')", "set `footer_rows: 1`")
    coded, _, report = passed(*cli(path, CODEBOOK, "--footer-rows", "1"))
    assert len(coded) == 40 and report["read"]["footer_rows"] == {"42": "合计"}


def test_a_summary_row_without_a_label_is_one_problem_not_a_crash(tmp_path, small_rows, cli):
    header, rows = small_rows
    totals = [None] * len(header)
    for h in header:
        if "(多选):" in h:
            totals[header.index(h)] = 523                 # would overflow an 8-bit 0/1 column
    code, err, paths = cli(write_csv(tmp_path / "sums.csv", header, rows + [totals]))
    refused(code, err, paths, "row 42 does not look like a response", "footer_rows")
    assert err.count("row 42") <= 3                       # said once, not once per cell


def test_cell_problems_are_reported_before_any_coding(tmp_path, small_rows, cli):
    header, rows = small_rows
    rows[4][col(header, rows, CHANNEL)] = 523             # one bad 0/1 cell in an otherwise good row
    rows[6][col(header, rows, SIGNS)] = "满意的"
    code, err, paths = cli(write_xlsx(tmp_path / "bad.xlsx", header, rows))
    refused(code, err, paths, "row 6: value '523' is not 0 or 1", "row 8: value '满意的' is not a label",
            "multi-select option", "add it to the scale's `labels`")


# --- 3. one missing-value rule for every format ----------------------------------------------

@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_missing_value_words_are_missing_and_logged_in_both_formats(tmp_path, small_rows, cli, kind):
    header, rows = small_rows
    i = col(header, rows, SIGNS)
    for r, word in zip((1, 2, 3, 4), ("N/A", "NA", "null", "#N/A")):
        rows[r][i] = word
    rows[5][col(header, rows, PHONE)] = "#VALUE!"          # an error in a column that is dropped
    write = write_xlsx if kind == "xlsx" else write_csv
    coded, log, report = passed(*cli(write(tmp_path / f"words.{kind}", header, rows)))
    assert coded.loc[1:4, "loc_signs"].isna().all()
    words = log[log["code"] == "loc_signs"]
    assert words["raw_value"].tolist() == ["N/A", "NA", "null", "#N/A"] and (words["raw_row"] == [3, 4, 5, 6]).all()
    assert (words["reason"] == "missing-value text").all()
    assert log[log["code"] == "mobile"]["raw_value"].tolist() == ["#VALUE!"]
    if kind == "xlsx":
        assert report["read"]["excel_error_cells"] == 2     # #N/A and #VALUE! are real error cells


@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_an_excel_error_in_an_analysed_column_is_refused(tmp_path, small_rows, cli, kind):
    header, rows = small_rows
    rows[6][col(header, rows, SIGNS)] = "#DIV/0!"
    write = write_xlsx if kind == "xlsx" else write_csv
    code, err, paths = cli(write(tmp_path / f"err.{kind}", header, rows))
    refused(code, err, paths, "row 8: value '#DIV/0!' holds an Excel error", "correct the formula")


# --- 4. layout: title row, two-row header, other sheet ------------------------------------------

@pytest.mark.parametrize("kind", ["xlsx", "csv"])
def test_a_title_row_above_the_header(tmp_path, small_rows, cli, kind):
    header, rows = small_rows
    title = ["社保经办服务满意度调查 导出数据"] + [None] * (len(header) - 1)
    write = write_xlsx if kind == "xlsx" else write_csv
    path = write(tmp_path / f"title.{kind}", title, [header] + rows)
    code, err, paths = cli(path)
    refused(code, err, paths, "row 1 is not the header", "the header is on row 2", "set `header_row: 2`")
    coded, _, report = passed(*cli(path, CODEBOOK, "--header-row", "2"))
    assert coded["raw_row"].tolist() == list(range(3, 43))        # rows as the spreadsheet shows them
    assert report["read"]["rows_above_header"] == {"1": "社保经办服务满意度调查 导出数据"}


def _two_row_header(header):
    """Group title over the 14 satisfaction items, single headers merged down over two rows."""
    group = "您对以下各项服务是否满意？"
    items = [h for h in header if h.split(". ")[0] in ("9", "10", "11", "12")]     # adjacent columns
    top = [group if h in items else h for h in header]
    bottom = [h.split(". ", 1)[1] if h in items else None for h in header]
    joined = {h: f"{group}：{h.split('. ', 1)[1]}" for h in items}
    return top, bottom, items, joined


def test_a_two_row_merged_header(tmp_path, small_rows, cli):
    header, rows = small_rows
    top, bottom, items, joined = _two_row_header(header)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(top)
    ws.append(bottom)
    for r in rows:
        ws.append(r)
    cols = [header.index(h) + 1 for h in items]
    for j, h in enumerate(header, start=1):
        if h not in items:
            ws.merge_cells(start_row=1, start_column=j, end_row=2, end_column=j)
    # the group title: one cell merged across its (adjacent) item columns, blank elsewhere
    for j in cols[1:]:
        ws.cell(row=1, column=j).value = None
    ws.merge_cells(start_row=1, start_column=cols[0], end_row=1, end_column=cols[-1])
    path = tmp_path / "tworow.xlsx"
    wb.save(path)
    code, err, paths = cli(path)
    refused(code, err, paths, "the header spans two rows, 1 and 2", "set `header_row: [1, 2]`")
    book = yaml.safe_load(CODEBOOK.read_text("utf-8"))
    for c in book["columns"]:
        c["header"] = joined.get(c.get("header"), c.get("header"))
        if "header" not in c or c["header"] is None:
            c.pop("header", None)
    joined_book = tmp_path / "joined.yaml"
    joined_book.write_text(yaml.safe_dump(book, allow_unicode=True), "utf-8")
    coded, _, _ = passed(*cli(path, joined_book, "--header-row", "1,2"))
    assert coded["raw_row"].tolist() == list(range(3, 43)) and coded["loc_signs"].notna().sum() > 30


def test_answers_on_another_sheet(tmp_path, small_rows, cli):
    header, rows = small_rows
    wb = openpyxl.Workbook()
    wb.active.title = "Sheet1"                                   # the empty first sheet
    ws = wb.create_sheet("问卷数据")
    for r in [header] + rows:
        ws.append(r)
    path = tmp_path / "sheets.xlsx"
    wb.save(path)
    code, err, paths = cli(path)
    refused(code, err, paths, "sheet 'Sheet1' is empty", "the answers seem to be on sheet '问卷数据'",
            "set `sheet: 问卷数据`")
    coded, _, report = passed(*cli(path, CODEBOOK, "--sheet", "问卷数据"))
    assert len(coded) == 40 and report["read"]["sheet"] == "问卷数据"


def test_a_notes_sheet_first_points_to_the_sheet_with_the_codebook_headers(tmp_path, small_rows, cli):
    header, rows = small_rows
    wb = openpyxl.Workbook()
    notes = wb.active
    notes.title = "说明"
    notes.append(["本文件由问卷平台导出", "导出时间", "2020-12-20"])
    notes.append(["字段", "说明", "备注"])
    ws = wb.create_sheet("答卷")
    for r in [header] + rows:
        ws.append(r)
    path = tmp_path / "notes.xlsx"
    wb.save(path)
    code, err, paths = cli(path)
    refused(code, err, paths, "are on sheet '答卷', row 1", "set `sheet: 答卷`")


# --- 5. CSV dialects and encodings -----------------------------------------------------------

@pytest.mark.parametrize("sep", [";", "\t"])
def test_semicolon_and_tab_separated_csv_are_detected(tmp_path, small_rows, cli, sep):
    import csv

    header, rows = small_rows
    path = tmp_path / "sep.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=sep).writerows([header] + [["" if v is None else v for v in r] for r in rows])
    coded, _, report = passed(*cli(path))
    reference, _, _ = passed(*cli(write_csv(tmp_path / "comma.csv", header, rows)))
    assert report["read"]["separator"] == sep and report["read"]["separator_detected"]
    pd.testing.assert_frame_equal(coded.drop(columns="same_person_as"), reference.drop(columns="same_person_as"))


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-8-sig"])
def test_utf16_and_byte_order_marks_are_read(tmp_path, small_rows, cli, encoding):
    header, rows = small_rows
    coded, _, report = passed(*cli(write_csv(tmp_path / "enc.csv", header, rows, encoding=encoding)))
    assert len(coded) == 40 and report["read"]["encoding"].startswith(encoding[:6])


def test_the_encoding_advice_fits_the_file(tmp_path, small_rows, cli):
    header, rows = small_rows
    gbk = write_csv(tmp_path / "gbk.csv", header, rows, encoding="gb18030")
    refused(*cli(gbk), "GBK/GB18030", "set `encoding: gb18030`")
    utf8 = write_csv(tmp_path / "utf8.csv", header, rows)
    code, err, paths = cli(utf8, CODEBOOK, "--encoding", "gb18030")   # garbled headers, not an error
    refused(code, err, paths, "it is UTF-8 text", "remove `encoding: gb18030`")
    assert "set `encoding: gb18030`" not in err
    utf16 = write_csv(tmp_path / "utf16.csv", header, rows, encoding="utf-16")
    coded, _, report = passed(*cli(utf16, CODEBOOK, "--encoding", "gb18030"))   # a BOM is unambiguous
    assert "remove `encoding:`" in report["read"]["note"]
    xlsx = write_xlsx(tmp_path / "book.xlsx", header, rows)
    renamed = tmp_path / "book.csv"
    renamed.write_bytes(xlsx.read_bytes())
    for p in (tmp_path / "out").glob("*"):
        p.unlink()
    refused(*cli(renamed), "zip file", "rename the file to .xlsx")


# --- 6. broken CSV rows --------------------------------------------------------------------------

def _csv_text(header, rows):
    import csv
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header] + [["" if v is None else v for v in r] for r in rows])
    return buf.getvalue()


def test_a_truncated_last_row(tmp_path, small_rows, cli):
    header, rows = small_rows
    text = _csv_text(header, rows)
    path = tmp_path / "cut.csv"
    path.write_text(text[: text.rstrip("\n").rfind(",", 0, len(text) - 200)], "utf-8")   # cut mid-row
    refused(*cli(path), "the last row (41)", "cut off", "export (or download) the survey again")


def test_a_row_with_one_field_too_many(tmp_path, small_rows, cli):
    header, rows = small_rows
    lines = _csv_text(header, rows).split("\n")
    parts = lines[9].split(",")
    parts[-3] = parts[-3] + ",意见"                  # an unquoted comma in an answer
    lines[9] = ",".join(parts)
    path = tmp_path / "extra.csv"
    path.write_text("\n".join(lines), "utf-8")
    refused(*cli(path), "row 10 has 48", "more fields than the header (47)", "comma (',') outside quotes",
            "put that answer in double quotes")


def test_an_unclosed_quote_is_a_message_not_a_traceback(tmp_path, small_rows, cli):
    header, rows = small_rows
    text = _csv_text(header, rows).rstrip("\n")
    path = tmp_path / "quote.csv"
    path.write_text(text + ',"unfinished answer', "utf-8")
    refused(*cli(path), "cannot be parsed", "quote")


# --- 7. "What to do" fits the problem -----------------------------------------------------------

def test_duplicate_and_empty_respondent_ids_get_advice_about_ids(tmp_path, small_rows, cli):
    header, rows = small_rows
    rows[5][0] = rows[3][0]                               # a repeated id
    rows[7][0] = None                                     # a missing id
    code, err, paths = cli(write_xlsx(tmp_path / "ids.xlsx", header, rows))
    refused(code, err, paths, "row 7 repeats the respondent id of row 5", "row 9 has no respondent id",
            "each submission needs its own id", "role `paradata`")
    assert "labels" not in err and rows[3][0] not in err.split("What to do")[0].split("repeats")[0][-20:]


# --- 8. values platforms write differently --------------------------------------------------------

def test_values_written_differently_are_read(tmp_path, small_rows, cli):
    header, rows = small_rows
    d, t, s = col(header, rows, DURATION), col(header, rows, SUBMITTED), col(header, rows, SIGNS)
    rows[0][d], rows[1][d], rows[2][d], rows[3][d] = "5分30秒", "00:05:30", "1小时2分", "330 s"
    rows[4][t] = 44501.375                               # an Excel serial date: 2021-11-01 09:00
    rows[5][t] = "2020年11月2日 10:32"
    rows[6][s] = "非常满意 "                               # trailing space
    rows[7][s] = "（跳过）"                                 # full-width brackets of the missing code
    rows[8][col(header, rows, CHANNEL)] = "１"              # a full-width digit
    coded, log, _ = passed(*cli(write_xlsx(tmp_path / "values.xlsx", header, rows)))
    assert coded.loc[0:3, "duration_s"].tolist() == [330, 330, 3720, 330]
    assert coded.loc[4, "submitted_at"] == pd.Timestamp("2021-11-01 09:00:00")
    assert coded.loc[5, "submitted_at"] == pd.Timestamp("2020-11-02 10:32:00")
    assert coded.loc[6, "loc_signs"] == 5 and pd.isna(coded.loc[7, "loc_signs"])
    assert coded.loc[8, "channel_online"] == 1 and log.empty


def test_answer_labels_match_in_any_case_and_width(tmp_path, cli):
    """An English questionnaire with upper-case item codes and labels such as 'Yes' / 'No'."""
    book = {"questionnaire": "english", "title": {"en": "English survey"},
            "scales": {"yes_no": {"min": 0, "max": 1, "labels": {"Yes": 1, "No": 0}, "top_box": [1]},
                       "five": {"min": 1, "max": 5, "exported_as": "codes", "labels": {"1": 1, "5": 5},
                                "top_box": [4, 5]}},
            "constructs": {"SAT": {"kind": "outcome", "label": {"en": "Satisfaction"}}},
            "columns": [{"header": "SAT1 — Overall", "code": "SAT1", "role": "item", "construct": "SAT",
                         "scale": "five", "label": {"en": "Overall"}},
                        {"header": "REC — Recommend?", "code": "REC", "role": "item", "construct": "SAT",
                         "scale": "yes_no", "label": {"en": "Recommend"}}]}
    path = tmp_path / "english.yaml"
    path.write_text(yaml.safe_dump(book), "utf-8")
    data = write_csv(tmp_path / "english.csv", ["SAT1 — Overall", "REC — Recommend?"],
                     [["5", "YES"], ["４", "no"], ["3", "Ｙｅｓ"]])
    coded, _, _ = passed(*cli(data, path))
    assert coded["SAT1"].tolist() == [5, 4, 3] and coded["REC"].tolist() == [1, 0, 1]


def test_columns_keep_their_letters_and_excels_separator_line_is_read(tmp_path, small_rows, cli):
    """An empty column A (the table starts in B) and Excel's 'sep=;' line: messages still name
    the column letters a spreadsheet shows, and the rows keep their numbers."""
    import csv

    header, rows = small_rows
    rows[6][header.index(SIGNS)] = "满意的"
    path = tmp_path / "shifted.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        f.write("sep=;\n")
        csv.writer(f, delimiter=";").writerows([[None] + header] + [[None] + r for r in rows])
    code, err, paths = cli(path)
    refused(code, err, paths, f"column U {SIGNS!r}, row 8: value '满意的'")
