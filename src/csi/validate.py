"""Validate a raw export against its codebook and turn answer labels into analysis codes.

Every problem in the file is collected (pandera, lazy validation) and reported at once; nothing
is written unless the whole file passes. Personal data is dropped here, before anything reaches
results/: identity columns only serve to find repeated submissions, via a salted hash.
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
from .io import excel_letter

NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(秒|s|sec)?\s*$")
LABEL_ROLES = ("respondent_type", "demographic", "paradata")


@dataclass
class Validated:
    coded: pd.DataFrame      # one row per raw row, analysis codes, no personal data
    recoded: pd.DataFrame    # cells set to missing, with why
    n_rows: int


def cell_text(v) -> str | None:
    """A raw cell as the text a researcher sees; None when empty."""
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    s = str(v).strip()
    return s or None


def check_headers(raw: pd.DataFrame, codebook: Codebook, file) -> None:
    expected = [c.header for c in codebook.columns]
    present = list(raw.columns)
    missing = [h for h in expected if h not in present]
    unknown = [h for h in present if h not in expected]
    problems = []
    for h in missing:
        guess = difflib.get_close_matches(h, unknown, n=1, cutoff=0.6)
        if guess:
            col = excel_letter(present.index(guess[0]))
            problems.append(f"codebook column {h!r} is missing; column {col} {guess[0]!r} looks like it "
                            "was renamed")
        else:
            problems.append(f"codebook column {h!r} is missing from the export")
    for h in unknown:
        if not any(h in p for p in problems):
            problems.append(f"column {excel_letter(present.index(h))} {h!r} is not in the codebook")
    if problems:
        first = missing[0] if missing else unknown[0]
        raise CSIError(f"the export's columns do not match codebook {codebook.path}", file=file,
                       column=first, problems=problems,
                       hint="make the header text in row 1 match the codebook's `header:` exactly "
                            "(or update the codebook); a column not used in the analysis still needs "
                            "an entry (role: pii for personal data, which is then dropped).")


def _allowed_answers(col: RawColumn, codebook: Codebook) -> tuple[set[str], str]:
    missing = codebook.missing_codes
    if col.role in ("item", "attention_check"):
        scale = codebook.scales[col.scale]
        if scale.exported_as == "codes":
            return missing, f"a code of scale {scale.name}"
        return set(scale.labels) | missing, f"a label of scale {scale.name}"
    if col.value_labels is not None:
        return set(map(str, col.value_labels)) | missing, "a listed value_label"
    if col.role in ("channel", "descriptive") and col.question:
        return {"0", "1"} | missing, "0 or 1 (multi-select option)"
    return set(), ""


def build_schema(codebook: Codebook) -> pa.DataFrameSchema:
    """A pandera schema for the text cells of an export, built from the codebook."""
    columns = {}
    for col in codebook.columns:
        checks = []
        allowed, what = _allowed_answers(col, codebook)
        if allowed:
            numeric_ok = col.role in ("item", "attention_check")  # stray codes: handled in coding
            checks.append(pa.Check(
                lambda s, allowed=allowed, numeric_ok=numeric_ok:
                    s.isin(allowed) | (numeric_ok & s.str.match(NUMBER).fillna(False)),
                name=f"answer is {what} or a missing code",
                error=f"not {what} or a missing code in the codebook"))
        if col.role == "duration":
            checks.append(pa.Check(
                lambda s: s.isin(codebook.missing_codes) | s.str.match(DURATION).fillna(False),
                name="duration in seconds", error="not a number of seconds (e.g. 285 or 285秒)"))
        if col.role == "timestamp":
            checks.append(pa.Check(
                lambda s: pd.to_datetime(s, errors="coerce", format="mixed").notna(),
                name="date-time", error="not a date-time (e.g. 2020-11-02 09:15:00)"))
        columns[col.header] = pa.Column(object, checks=checks, nullable=col.role != "id",
                                        unique=col.role == "id", required=True)
    return pa.DataFrameSchema(columns, strict=False, coerce=False)


def _problems_from(err: pa.errors.SchemaErrors, raw: pd.DataFrame) -> list[tuple]:
    out = []
    letters = {h: excel_letter(i) for i, h in enumerate(raw.columns)}
    for _, f in err.failure_cases.iterrows():
        row = None if pd.isna(f["index"]) else int(f["index"])
        col = f["column"]
        what = f["check"]
        if what == "field_uniqueness":
            what = "appears more than once (each submission needs its own id)"
        elif what == "not_nullable":
            what = "is empty"
        out.append((letters.get(col, "?"), col, row, f["failure_case"], what))
    return out


def validate(raw: pd.DataFrame, codebook: Codebook, file, *, salt: bytes,
             out_of_range: str = "missing") -> Validated:
    check_headers(raw, codebook, file)
    text = raw.map(cell_text).astype(object)
    text.index = raw.index
    problems = []
    try:
        build_schema(codebook).validate(text, lazy=True)
    except pa.errors.SchemaErrors as e:
        problems = _problems_from(e, raw)
    coded, recoded = code_answers(text, codebook, salt)
    if out_of_range == "error" and len(recoded):
        problems += [(excel_letter(list(raw.columns).index(r.header)), r.header, r.raw_row,
                      r.raw_value, r.reason) for r in recoded.itertuples()]
    if problems:
        letter, col, row, value, _ = problems[0]
        lines = [f"column {lt} {c!r}, row {r}: value {v!r}: {w}" for lt, c, r, v, w in problems]
        raise CSIError(f"{len(problems)} cell(s) do not fit codebook {codebook.path}", file=file,
                       column=col, row=row, value=value, problems=lines,
                       hint="if an answer is legitimate, add it to that column's labels in the "
                            "codebook (or to missing_codes); otherwise correct the export. Rows are "
                            "numbered as in a spreadsheet (header = row 1).")
    return Validated(coded=coded, recoded=recoded, n_rows=len(raw))


def code_answers(text: pd.DataFrame, cb: Codebook, salt: bytes) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Map exported text to codes. Returns (coded frame, log of cells set to missing)."""
    out = pd.DataFrame(index=text.index)
    recoded = []
    missing = cb.missing_codes
    for col in cb.columns:
        s = text[col.header]
        is_missing = s.isna() | s.isin(missing)
        if col.role in ("item", "attention_check"):
            scale = cb.scales[col.scale]
            codes = s.map(scale.labels) if scale.exported_as == "labels" else pd.Series(np.nan, index=s.index)
            numeric = pd.to_numeric(s.where(~is_missing & codes.isna()), errors="coerce")
            if scale.exported_as == "codes":
                ok = numeric.between(scale.min, scale.max) & (numeric % 1 == 0)
                codes = codes.fillna(numeric.where(ok))
                stray = numeric.notna() & ~ok
                reason = f"code outside scale {scale.name} ({scale.min}–{scale.max})"
            else:
                stray = numeric.notna()
                reason = f"numeric code in a labelled scale ({scale.name})"
            for row in s.index[stray]:
                recoded.append({"raw_row": row, "code": col.code, "header": col.header,
                                "raw_value": s[row], "reason": reason, "action": "set to missing"})
            if col.role == "attention_check":
                out["attention_passed"] = (s == col.correct)
                continue
            codes = codes.astype(float)
            if col.reverse:
                codes = scale.reverse(codes)
            out[col.code] = codes
        elif col.role in LABEL_ROLES and col.value_labels is not None:
            out[col.code] = s.map({str(k): v for k, v in col.value_labels.items()}).astype(object)
        elif col.role in ("channel", "descriptive") and col.question:
            out[col.code] = pd.to_numeric(s.where(~is_missing), errors="coerce").astype("Int8")
        elif col.role == "duration":
            out[col.code] = pd.to_numeric(s.where(~is_missing).str.extract(DURATION)[0], errors="coerce")
        elif col.role == "timestamp":
            out[col.code] = pd.to_datetime(s.where(~is_missing), errors="coerce", format="mixed")
        elif col.role == "id":
            out["respondent"] = s.map(lambda v: privacy.pseudonym(v, salt))
        # pii, free_text and unlabelled paradata are not carried forward.
    out.insert(0, "raw_row", out.index.astype("int64"))
    if "respondent" not in out:  # no id column in the export: pseudonymize the row number
        out.insert(1, "respondent", [privacy.pseudonym(f"row{r}", salt) for r in out.index])
    out["same_person_as"] = privacy.repeated_submissions(text, cb, out, salt)
    log = pd.DataFrame(recoded, columns=["raw_row", "code", "header", "raw_value", "reason", "action"])
    return out.reset_index(drop=True), log.sort_values(["raw_row", "code"]).reset_index(drop=True)
