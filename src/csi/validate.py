"""Validate a raw export against its codebook and turn answer labels into analysis codes.

Every cell is first normalized (NFKC: full-width ５ or （跳过） read as 5 and (跳过); spaces
collapsed; answer labels matched without regard to case). Blank cells, the codebook's
`missing_codes` and common missing-value words (N/A, NA, null, none, #N/A) mean "no answer" in
every format; the words are logged in recoded_cells.csv. Other Excel error cells (#VALUE!, #REF!,
...) in an analysed column are refused. Every problem in the file is then collected (pandera,
lazy validation) and reported at once, each kind with its own fix, before anything is coded;
coding itself never fails on a cell. Nothing is written unless the whole file passes.
Answers repeat (a few labels, many rows): every step works once per distinct value of a column,
so a million-row export takes seconds, not minutes.

Values platforms write differently are read: durations as seconds, "5分30秒", "1小时2分" or
"00:05:30" (two parts, "05:30", are minutes and seconds); timestamps as text, Excel serial
day numbers (44501.375), yyyymmdd, Unix seconds, or "2024年5月6日 10:11".

Personal data is dropped here, before anything reaches results/: identity columns only serve to
find repeated submissions, compared in memory and never written.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pandera.pandas as pa

from . import privacy
from .codebook import Codebook, RawColumn
from .errors import CSIError
from .exports import EXCEL_ERRORS, Export, locate_header, normalize, sheet_setting

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(秒|s|sec)?\s*$")   # seconds only (scaffold's guess)
LABEL_ROLES = ("respondent_type", "demographic", "paradata")
MISSING_WORDS = {"n/a", "na", "null", "none", "nan", "nil", "#n/a"}
ERRORS = {e for e in EXCEL_ERRORS if e != "#N/A"}
UNUSED_ROLES = ("pii", "free_text")   # not carried into the coded data


@dataclass
class Validated:
    coded: pd.DataFrame      # one row per raw row, analysis codes, no personal data
    recoded: pd.DataFrame    # cells set to missing, with why
    n_rows: int


def cell_text(v) -> str | None:
    """A raw cell as the text a researcher sees; None when empty (NaN, NA, None or blank)."""
    from .exports import text_of

    return text_of(v)


def key(text: str) -> str:
    """How an answer is compared with the codebook's labels: NFKC, spaces collapsed, any case."""
    return normalize(text).casefold()


# --- values platforms write in several ways ----------------------------------------------------

_HMS = re.compile(r"^(?:(\d+(?:\.\d+)?)\s*(?:小时|时|h|hr|hours?))?\s*(?:(\d+(?:\.\d+)?)\s*(?:分钟|分|min|mins|minutes?|m))?"
                  r"\s*(?:(\d+(?:\.\d+)?)\s*(?:秒钟|秒|s|sec|secs|seconds?))?$", re.I)
_CLOCK = re.compile(r"^(\d+):(\d{1,2})(?::(\d{1,2}(?:\.\d+)?))?$")


def parse_duration(text: str) -> float | None:
    """Seconds from '285', '285秒', '4分45秒', '1小时2分', '00:04:45' or '04:45' (min:s); None if not."""
    t = normalize(text).lower()
    if NUMBER.match(t):
        return int(t) if t.lstrip("-").isdigit() else float(t)
    m = _CLOCK.match(t)
    if m:
        a, b, c = m.groups()
        v = float(a) * 3600 + float(b) * 60 + float(c) if c is not None else float(a) * 60 + float(b)
        return int(v) if v.is_integer() else v
    m = _HMS.match(t)
    if m and any(m.groups()):
        h, mi, s = (float(g) if g else 0.0 for g in m.groups())
        v = h * 3600 + mi * 60 + s
        return int(v) if v.is_integer() else v
    return None


EXCEL_EPOCH = pd.Timestamp("1899-12-30")


def parse_timestamp(text: str):
    """A pandas Timestamp from the ways platforms write a date-time; None if it is not one."""
    t = normalize(text)
    if NUMBER.match(t):
        v = float(t)
        if re.fullmatch(r"(19|20)\d{6}", t):                  # yyyymmdd
            return pd.to_datetime(t, format="%Y%m%d")
        if 20000 <= v < 80000:                                # Excel serial day (1954-2119)
            return (EXCEL_EPOCH + pd.to_timedelta(v, unit="D")).round("s")
        if 1e9 <= v < 4e9:                                    # Unix seconds
            return pd.to_datetime(v, unit="s").round("s")
        if 1e12 <= v < 4e12:                                  # Unix milliseconds
            return pd.to_datetime(v, unit="ms").round("s")
        return None
    t = re.sub(r"(\d)\s*[年月]\s*", r"\1-", t)
    t = re.sub(r"(\d)\s*[日号]", r"\1 ", t)
    t = re.sub(r"(\d)\s*[时点]\s*(\d)", r"\1:\2", t)
    t = re.sub(r"(\d)\s*分\s*(\d)", r"\1:\2", t).replace("分", "").replace("秒", "").strip()
    try:
        return pd.to_datetime(t, format="mixed")
    except (ValueError, OverflowError):
        return None


def _parsed(values: pd.Series, fn) -> pd.Series:
    """fn applied once per distinct non-missing value."""
    uniq = values.dropna().unique()
    return values.map(dict(zip(uniq, (fn(v) for v in uniq))))


# --- headers -----------------------------------------------------------------------------------

def check_headers(export: Export, codebook: Codebook) -> pd.DataFrame:
    """The export's cells with the codebook's headers as column names (a header matches exactly or
    after NFKC, e.g. ？ for ?). Raise when they do not match."""
    raw = export.frame
    expected = [c.header for c in codebook.columns]
    by_norm = {normalize(h): h for h in expected}
    rename = {h: by_norm[normalize(h)] for h in raw.columns if h not in expected and normalize(h) in by_norm}
    raw = raw.rename(columns=rename) if rename else raw
    present = list(raw.columns)
    missing = [h for h in expected if h not in present]
    unknown = [h for h in present if h not in expected]
    problems = []
    for h in missing:
        guess = difflib.get_close_matches(h, unknown, n=1, cutoff=0.6)
        if guess:
            col = export.letter(guess[0])
            problems.append(f"codebook column {h!r} is missing; column {col} {guess[0]!r} looks like it "
                            "was renamed")
        else:
            problems.append(f"codebook column {h!r} is missing from the export")
    for h in unknown:
        if not any(h in p for p in problems):
            problems.append(f"column {export.letter(h)} {h!r} is not in the codebook")
    if problems:
        first = missing[0] if missing else unknown[0]
        raise CSIError(f"the export's columns do not match codebook {codebook.path}", file=export.path,
                       column=first, problems=problems, hint=_header_hint(export, expected, missing))
    return raw


def _header_hint(export: Export, expected: list[str], missing: list[str]) -> str:
    info, opts = export.info, export.options
    found = len(expected) - len(missing)
    if info.get("also_utf8") and found < len(expected) / 2:
        return (f"the headers come out garbled: the file is UTF-8, not {info.get('encoding', '').upper()}. Remove "
                "`encoding:` for this district in config/config.yaml.")
    where = locate_header(export.path, opts, expected)
    if where and where[2] > max(found, 1):
        sheet, row, hits = where
        here_sheet = info.get("sheet")
        fixes = []
        if sheet is not None and sheet != here_sheet:
            fixes.append(sheet_setting(sheet))
        if row != opts.header_rows[-1] or len(opts.header_rows) > 1:
            fixes.append(f"`header_row: {row}`")
        if fixes:
            place = (f"sheet {sheet!r}, row {row}" if sheet is not None and sheet != here_sheet else f"row {row}")
            return (f"{hits} of the codebook's {len(expected)} headers are on {place}, not where this district "
                    f"reads them: set {' and '.join(fixes)} for this district in config/config.yaml.")
    return ("make the header text match the codebook's `header:` exactly (or update the codebook); a column not "
            "used in the analysis still needs an entry (role: pii for personal data, which is then dropped).")


# --- cells ----------------------------------------------------------------------------------------

class Factors(dict):
    """Each normalized column's codes and distinct values (header -> (codes, values); code -1 =
    blank), made once while normalizing, so that every later check and coding step works on the
    distinct values instead of hashing a million cells again. A value may be listed twice (two raw
    spellings of one answer): harmless for per-value work."""

    def of(self, s: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        f = self.get(s.name)
        if f is None or len(f[0]) != len(s):
            codes, uniq = pd.factorize(s, use_na_sentinel=True)
            f = (codes, np.asarray(uniq, dtype=object))
        return f


def normalized(text: pd.DataFrame, cb: Codebook) -> tuple[pd.DataFrame, list[dict], Factors]:
    """Cells as compared with the codebook: NFKC text, None for blank / missing code / missing word.
    Returns the frame, a log entry per missing-value word (or unused Excel error) read as missing,
    and the columns' factors. Each distinct value of a column is normalized once."""
    missing_codes = {normalize(m) for m in cb.missing_codes}
    out = {}
    factors = Factors()
    log = []
    for col in cb.columns:
        s = text[col.header]
        codes, uniq = pd.factorize(s, use_na_sentinel=True)
        norm = [normalize(v) if isinstance(v, str) else "" for v in uniq]
        to_none = {k for k, n in enumerate(norm) if n in missing_codes or n == ""}
        errors = {k for k, n in enumerate(norm) if n.upper() in ERRORS}
        words = {k for k, n in enumerate(norm) if n.casefold() in MISSING_WORDS and k not in to_none}
        if col.role in UNUSED_ROLES or (col.role == "paradata" and col.value_labels is None):
            words |= errors          # not analysed: an error cell is simply no data (logged)
        for k in sorted(words, key=lambda k: uniq[k]):
            v = uniq[k]
            for row in s.index[codes == k]:
                log.append({"raw_row": int(row), "code": col.code, "header": col.header, "raw_value": v,
                            "reason": "missing-value text" if k not in errors else "Excel error cell in an unused column",
                            "action": "set to missing"})
        gone = to_none | words
        if gone:
            blank = np.zeros(len(uniq) + 1, dtype=bool)
            blank[list(gone)] = True
            blank[-1] = True
            codes = np.where(blank[codes], -1, codes)
        factors[col.header] = (codes.astype(np.int32), np.array(norm, dtype=object))
        if not gone and all(n is v or n == v for n, v in zip(norm, uniq)):
            out[col.header] = s          # already as compared: the same cells, not a copy
            continue
        values = np.array(norm + [None], dtype=object)
        out[col.header] = pd.Series(values[codes], index=s.index, dtype=object)
    return pd.DataFrame(out, index=text.index, copy=False), log, factors


def by_value(f, factors: Factors | None = None):
    """A pandera check computed once per distinct value of a column: f takes the distinct non-blank
    values (a Series of text) and returns which pass; blank cells pass (nullability is checked apart)."""
    def check(s: pd.Series) -> pd.Series:
        codes, uniq = (factors or Factors()).of(s)
        ok = np.append(np.asarray(f(pd.Series(uniq, dtype=object)), dtype=bool), True)
        return pd.Series(ok[codes], index=s.index)
    return check


def _allowed(col: RawColumn, cb: Codebook) -> tuple[set[str] | None, str, str]:
    """(allowed keys, what an allowed answer is, problem kind) for a column."""
    if col.role in ("item", "attention_check"):
        scale = cb.scales[col.scale]
        what = f"a code of scale {scale.name} ({scale.min}–{scale.max})" if scale.exported_as == "codes" else \
            f"a label of scale {scale.name}"
        return {key(k) for k in scale.labels}, what, "label"
    if col.value_labels is not None:
        return {key(str(k)) for k in col.value_labels}, "a listed value_label", "value_label"
    if col.role in ("channel", "descriptive") and col.question:
        return {"0", "1"}, "0 or 1 (multi-select option)", "option"
    return None, "", ""


def build_schema(cb: Codebook, factors: Factors | None = None) -> pa.DataFrameSchema:
    """A pandera schema for the normalized cells of an export, built from the codebook (factors:
    those of the frame it will check, to skip factorizing its columns again)."""
    columns = {}
    for col in cb.columns:
        checks = []
        used = col.role not in UNUSED_ROLES and not (col.role == "paradata" and col.value_labels is None)
        if used:
            checks.append(pa.Check(by_value(lambda u: ~u.str.upper().isin(ERRORS), factors), name="excel_error"))
        allowed, _, kind = _allowed(col, cb)
        if allowed is not None:
            numeric_ok = col.role in ("item", "attention_check")   # stray codes: handled in coding
            checks.append(pa.Check(by_value(
                lambda u, allowed=allowed, numeric_ok=numeric_ok:
                    u.str.casefold().isin(allowed) | u.str.upper().isin(ERRORS)
                    | (numeric_ok & u.str.match(NUMBER)), factors), name=f"{kind}:{col.scale or ''}"))
        if col.role == "duration":
            checks.append(pa.Check(by_value(lambda u: u.map(parse_duration).notna() | u.str.upper().isin(ERRORS), factors),
                                   name="duration"))
        if col.role == "timestamp":
            checks.append(pa.Check(by_value(lambda u: u.map(parse_timestamp).notna() | u.str.upper().isin(ERRORS), factors),
                                   name="timestamp"))
        columns[col.header] = pa.Column(object, checks=checks, nullable=col.role != "id",
                                        unique=col.role == "id", required=True)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


WHAT = {
    "excel_error": "holds an Excel error (a formula in the workbook failed)",
    "label": "is not {what} or a missing code",
    "value_label": "is not one of the column's value_labels or a missing code",
    "option": "is not 0 or 1 (a multi-select option column)",
    "duration": "is not an answering time (seconds, '5分30秒' or '00:05:30')",
    "timestamp": "is not a date-time (e.g. 2020-11-02 09:15:00)",
    "id_dup": "repeats the respondent id of another row",
    "id_empty": "has no respondent id",
    "stray": "{reason}",
}
HINTS = {
    "excel_error": "correct the formula in the workbook (or replace the cell by a blank if there is no answer) "
                   "and export again; answer columns should hold the answers, not formulas.",
    "label": "if an answer is legitimate, add it to the scale's `labels` in the codebook (e.g. scale {scale}); "
             "if it means 'no answer', add it to `missing_codes`; otherwise correct the export.",
    "value_label": "add the value to that column's `value_labels` in the codebook (or to `missing_codes` if it "
                   "means 'no answer').",
    "option": "a multi-select option column holds 1 (chosen) or 0 (not chosen); correct the export, or if the "
              "column is not a multi-select option, change its role in the codebook.",
    "duration": "write the answering time as seconds (285), '4分45秒' or '00:04:45'; if the column is not the "
                "answering time, change its role in the codebook.",
    "timestamp": "write date-times as 2020-11-02 09:15:00 (or as Excel dates); if the column is not the "
                 "submission time, change its role in the codebook.",
    "id_dup": "each submission needs its own id. If these rows are the same submission exported twice, export "
              "again; if the column is not a unique id (e.g. a user name), give it role `paradata` in the "
              "codebook: repeated submissions are then found by the duplicates step.",
    "id_empty": "a response without an id is not a normal submission: if it is a note or totals row, leave it "
                "out with `footer_rows:`; if the platform leaves ids blank, give the column role `paradata`.",
    "stray": "set `clean.out_of_range: missing` in config/config.yaml to log such codes as missing, or correct "
             "the export.",
    "row": "if it is a totals, summary or note row at the end, set `footer_rows:` for this district in "
           "config/config.yaml; if the export repeats its header (pages glued together), export again as one "
           "table.",
}


@dataclass
class Problem:
    column: str
    row: int | None
    value: str | None
    kind: str
    what: str
    scale: str = ""


def _problems(err: pa.errors.SchemaErrors, cb: Codebook, text: pd.DataFrame) -> list[Problem]:
    out = []
    by_header = {c.header: c for c in cb.columns}
    for f in err.failure_cases.to_dict("records"):
        row = None if pd.isna(f["index"]) else int(f["index"])
        col = by_header.get(f["column"])
        check = str(f["check"])
        kind = {"field_uniqueness": "id_dup", "not_nullable": "id_empty"}.get(check, check.split(":")[0])
        what = WHAT.get(kind, check)
        if kind == "label" and col is not None:
            what = what.format(what=_allowed(col, cb)[1])
        if kind == "id_dup":   # name the other row, not the id (ids are not shown)
            ids = text[f["column"]]
            first = ids.index[ids == f["failure_case"]][0]
            what = f"repeats the respondent id of row {first}" if first != row else "has an id that appears again"
        value = None if kind == "id_empty" or (col is not None and col.role == "id") else f["failure_case"]
        out.append(Problem(f["column"], row, value, kind, what, (col.scale or "") if col else ""))
    return out


def _not_responses(problems: list[Problem], text: pd.DataFrame, checked: list[str]) -> list[Problem]:
    """A row failing in most of its filled cells is not a response (a totals row, a repeated header):
    one problem for the row instead of one per cell."""
    by_row: dict = {}
    for p in problems:
        by_row.setdefault(p.row, []).append(p)
    filled = text[checked].notna().sum(axis=1) if by_row else None
    out = []
    for row, ps in by_row.items():
        cols = {p.column for p in ps}
        if row is not None and len(cols) >= 3 and len(cols) >= 0.5 * max(filled.get(row, 0), 1):
            first = ps[0]
            shown = "" if first.value is None else f" (e.g. {first.value!r} in {first.column!r})"
            out.append(Problem(first.column, row, None, "row",
                               f"does not look like a response: {len(cols)} of its {filled.get(row, 0)} filled "
                               f"cells do not fit the codebook{shown}"))
        else:
            out.extend(ps)
    return out


def raise_problems(problems: list[Problem], export: Export, cb: Codebook) -> None:
    by_norm = {normalize(h): h for h in export.frame.columns}    # a header may match after NFKC
    letters = {c.header: export.letter(by_norm.get(normalize(c.header), c.header)) for c in cb.columns}
    problems = sorted(problems, key=lambda p: (p.kind != "row", p.row or 0, letters.get(p.column, "")))
    lines = []
    for p in problems:
        where = f"row {p.row}" if p.kind == "row" else f"column {letters.get(p.column, '?')} {p.column!r}, row {p.row}"
        val = "" if p.value is None else f": value {p.value!r}"
        lines.append(f"{where}{val} {p.what}")
    hints, seen = [], set()
    for p in problems:
        if p.kind in seen:
            continue
        seen.add(p.kind)
        hints.append(HINTS[p.kind].format(scale=p.scale or "…"))
    first = problems[0]
    hints.append("Rows are numbered as in a spreadsheet (header = row "
                 f"{'–'.join(map(str, export.options.header_rows))}).")
    raise CSIError(f"{len(problems)} cell(s) or row(s) do not fit codebook {cb.path}", file=export.path,
                   column=None if first.kind == "row" else first.column, row=first.row, value=first.value,
                   problems=lines, hint=hints[0] if len(hints) == 2 else None,
                   hints=hints if len(hints) > 2 else None)


def validate(export: Export, codebook: Codebook, *, salt: bytes, out_of_range: str = "missing") -> Validated:
    text, log, factors = normalized(check_headers(export, codebook), codebook)
    problems: list[Problem] = []
    try:
        build_schema(codebook, factors).validate(text, lazy=True, inplace=True)    # inplace: no copy (nothing is coerced)
    except pa.errors.SchemaErrors as e:
        problems = _problems(e, codebook, text)
    stray = _stray_codes(text, codebook, factors)
    if out_of_range == "error":
        problems += [Problem(r["header"], r["raw_row"], r["raw_value"], "stray", r["reason"]) for r in stray]
    checked = [c.header for c in codebook.columns if c.role not in UNUSED_ROLES]
    problems = _not_responses(problems, text, checked)
    if problems:
        raise_problems(problems, export, codebook)
    coded = code_answers(text, codebook, salt, factors)
    recoded = pd.DataFrame(log + (stray if out_of_range != "error" else []),
                           columns=["raw_row", "code", "header", "raw_value", "reason", "action"])
    recoded = recoded.sort_values(["raw_row", "code"], kind="stable").reset_index(drop=True)
    return Validated(coded=coded, recoded=recoded, n_rows=len(export.frame))


def per_value(s: pd.Series, f, factors: Factors | None = None) -> pd.Series:
    """f of every cell, computed once per distinct value (answers repeat: a few labels, many rows)."""
    codes, uniques = (factors or Factors()).of(s)
    values = np.empty(len(uniques) + 1, dtype=object)
    values[:-1] = [f(u) for u in uniques]
    values[-1] = f(None)                       # blank cells (code -1)
    return pd.Series(values[codes], index=s.index, dtype=object)


def _item_codes(s: pd.Series, scale, factors: Factors | None = None) -> tuple[pd.Series, pd.Series]:
    """(codes, stray mask) of an item column of normalized text; never raises. Computed once per
    distinct value."""
    labels = {key(k): v for k, v in scale.labels.items()}
    idx, uniq = (factors or Factors()).of(s)
    u = pd.Series(uniq, dtype=object)
    codes = u.map(lambda v: labels.get(key(v)) if isinstance(v, str) else None).astype(float)
    numeric = pd.to_numeric(u.where(codes.isna()), errors="coerce")
    if scale.exported_as == "codes":
        ok = numeric.between(scale.min, scale.max) & (numeric % 1 == 0)
        codes = codes.fillna(numeric.where(ok))
        stray = numeric.notna() & ~ok
    else:
        stray = numeric.notna()
    codes = np.append(codes.to_numpy(float), np.nan)[idx]
    stray = np.append(stray.to_numpy(bool), False)[idx]
    return pd.Series(codes, index=s.index), pd.Series(stray, index=s.index)


def _stray_codes(text: pd.DataFrame, cb: Codebook, factors: Factors | None = None) -> list[dict]:
    out = []
    for col in cb.role("item", "attention_check"):
        scale = cb.scales[col.scale]
        s = text[col.header]
        _, stray = _item_codes(s, scale, factors)
        reason = (f"code outside scale {scale.name} ({scale.min}–{scale.max})" if scale.exported_as == "codes"
                  else f"numeric code in a labelled scale ({scale.name})")
        for row in s.index[stray]:
            out.append({"raw_row": int(row), "code": col.code, "header": col.header, "raw_value": s[row],
                        "reason": reason, "action": "set to missing"})
    return out


def code_answers(text: pd.DataFrame, cb: Codebook, salt: bytes, factors: Factors | None = None) -> pd.DataFrame:
    """Map normalized text to analysis codes (cells that do not fit become missing)."""
    out = pd.DataFrame(index=text.index)
    for col in cb.columns:
        s = text[col.header]
        if col.role in ("item", "attention_check"):
            scale = cb.scales[col.scale]
            codes, _ = _item_codes(s, scale, factors)
            if col.role == "attention_check":
                out["attention_passed"] = (codes == scale.labels[col.correct]).to_numpy()
                continue
            if col.reverse:
                codes = scale.reverse(codes)
            out[col.code] = codes
        elif col.role in LABEL_ROLES and col.value_labels is not None:
            labels = {key(str(k)): v for k, v in col.value_labels.items()}
            out[col.code] = per_value(s, lambda v, labels=labels: labels.get(key(v)) if isinstance(v, str) else None,
                                      factors)
        elif col.role in ("channel", "descriptive") and col.question:
            idx, uniq = (factors or Factors()).of(s)
            num = np.append(pd.to_numeric(pd.Series(uniq, dtype=object), errors="coerce").to_numpy(float), np.nan)
            num = pd.Series(num[idx], index=s.index)
            out[col.code] = num.where(num.isin([0, 1])).astype("Int8")
        elif col.role == "duration":
            out[col.code] = pd.to_numeric(_parsed(s, parse_duration), errors="coerce")
        elif col.role == "timestamp":
            out[col.code] = pd.to_datetime(_parsed(s, parse_timestamp), errors="coerce")
        elif col.role == "id":
            out["respondent"] = s.map(lambda v: privacy.pseudonym(v, salt))
        # pii, free_text and unlabelled paradata are not carried forward.
    out.insert(0, "raw_row", out.index.astype("int64"))
    if "respondent" not in out:  # no id column in the export: pseudonymize the row number
        out.insert(1, "respondent", [privacy.pseudonym(f"row{r}", salt) for r in out.index])
    out["same_person_as"] = privacy.repeated_submissions(text, cb, out)
    return out.reset_index(drop=True)

