"""Reading raw survey exports as the platform wrote them, or refusing them with the exact fix.

Every cell becomes the text a researcher sees in a spreadsheet (None when blank), whatever the
format: .xlsx (calamine; Excel error cells such as #N/A are read back from the sheet's XML, since
calamine turns them into blanks), .csv (any of , ; tab |, UTF-8/UTF-16 with or without a byte-order
mark, or a declared encoding such as GB18030) and .sav. Rows keep the number a spreadsheet shows
(`raw_row`), so every message and exclusions.csv point at the exact row. A large CSV (from 1 MiB)
whose rows and quotes look regular is parsed by pyarrow, column by column, with the same result;
any other goes through the strict reader, which gives the messages.

The layout is taken from the options (config keys of the district): `sheet`, `header_row` (one
row, or two rows [a, b] whose texts are joined as "a：b"), `separator`, `encoding`,
`footer_rows` (rows at the end that are not responses, e.g. a totals row). A file that does not
fit them is refused with a message naming what is wrong and which option fixes it. Blank rows and
columns with neither header nor data hold nothing and are skipped; what was skipped is recorded.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import CSIError

READERS = (".csv", ".xlsx", ".sav")
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
# Words a totals or summary row starts with (checked in its first cells).
SUMMARY_WORDS = {"合计", "总计", "小计", "汇总", "统计", "平均", "平均值", "平均分", "均值", "总数", "总分",
                 "total", "totals", "sum", "subtotal", "average", "mean", "count", "summary"}
EXCEL_ERRORS = ("#N/A", "#VALUE!", "#DIV/0!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!",
                "#CALC!", "#GETTING_DATA", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!")
FAST_BYTES = 1 << 20   # CSV files from this size are parsed by pyarrow when they look regular
# A cell that starts or ends with what Python's str.strip() removes (or is empty), in RE2 syntax
_EDGE_SPACE = r"^[\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}]|[\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}]$"
JOIN = "："   # two header rows become "<upper>：<lower>" (as multi-select columns are named)


@dataclass
class Options:
    """How to read an export (the district's config keys of the same names)."""

    encoding: str | None = None        # CSV text encoding; None: UTF-8, or what a BOM says
    sheet: str | int | None = None     # xlsx sheet name or number (1 = first); None: the first
    header_row: int | tuple[int, int] = 1
    separator: str | None = None       # CSV field separator; None: detected when unambiguous
    footer_rows: int = 0               # rows at the end that are not responses (totals, notes)

    @classmethod
    def of(cls, encoding=None, sheet=None, header_row=None, separator=None, footer_rows=None) -> "Options":
        if isinstance(sheet, str) and sheet.isdigit():
            sheet = int(sheet)
        if isinstance(header_row, str):
            parts = [p for p in re.split(r"[,\s\[\]]+", header_row) if p]
            header_row = tuple(int(p) for p in parts) if len(parts) > 1 else int(parts[0])
        elif isinstance(header_row, list):
            header_row = tuple(header_row) if len(header_row) > 1 else header_row[0]
        separator = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";"}.get(separator, separator)
        return cls(encoding or None, sheet if sheet not in ("", None) else None, header_row or 1,
                   separator or None, int(footer_rows or 0))

    @property
    def header_rows(self) -> tuple[int, ...]:
        return self.header_row if isinstance(self.header_row, tuple) else (self.header_row,)


@dataclass
class Export:
    path: Path
    options: Options
    frame: pd.DataFrame                 # text cells (str or None); index raw_row
    info: dict = field(default_factory=dict)   # how it was read and what was skipped
    letters: dict = field(default_factory=dict)   # header -> its column letter in the file

    def letter(self, header) -> str:
        return self.letters.get(header, "?")


def sheet_setting(name) -> str:
    return f"`sheet: {name}`" if re.fullmatch(r"[\w\u4e00-\u9fff]+", str(name)) else f"`sheet: \"{name}\"`"


def excel_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names column i."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def text_of(v) -> str | None:
    """A cell as the text a spreadsheet shows; None when blank."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float):
        if v != v:    # NaN
            return None
        return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, dt.datetime):
        return v.isoformat(sep=" ", timespec="seconds") if v.time() != dt.time(0) else v.date().isoformat()
    if isinstance(v, (dt.date, dt.time)):
        return v.isoformat()
    if isinstance(v, dt.timedelta):
        s = int(round(v.total_seconds()))
        return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"
    s = str(v).strip()
    return s or None


def normalize(text: str) -> str:
    """Text compared with the codebook: NFKC (full-width ５ and （ become 5 and (), spaces collapsed."""
    if text.isascii() and text.isprintable() and "  " not in text and text.strip() == text:
        return text                # already so (NFKC leaves printable ASCII as it is)
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip()


def read(path, options: Options | None = None) -> Export:
    """Read a raw export as it is (see the module docstring); CSIError when it cannot be read."""
    path = Path(path)
    options = options or Options()
    if not path.exists():
        raise CSIError("raw export not found", file=path,
                       hint="check the `raw:` path of this district in config/config.yaml.")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        hint = (f"export the survey as one of {', '.join(READERS)}"
                + (" (open the .xls file in a spreadsheet program and save it as .xlsx)." if suffix in (".xls", ".et")
                   else "."))
        raise CSIError(f"cannot read {suffix!r} files", file=path, hint=hint)
    if path.stat().st_size == 0:
        raise CSIError("the file is empty (0 bytes)", file=path,
                       hint="export the survey again; the download may have failed.")
    info: dict = {"format": suffix[1:]}
    merged: list = []
    if suffix == ".csv":
        (cells, per_row), info = _read_csv(path, options, info)
    elif suffix == ".xlsx":
        rows, merged, info = _read_xlsx(path, options, info)
        cells, per_row = _cells(rows), None
    else:
        rows, info = _read_sav(path, info)
        cells, per_row = _cells(rows), None
    return _table(path, options, cells, merged, info, per_row)


# --- the table: header, blank rows and columns, footer ------------------------------------------

def _cells(rows: list[list]) -> pd.DataFrame:
    """Rows of cells (ragged lists of str or None) as one frame: position i is spreadsheet row i + 1."""
    width = max((len(r) for r in rows), default=0)
    return pd.DataFrame([r + [None] * (width - len(r)) for r in rows], columns=range(width), dtype=object)


def _table(path: Path, options: Options, cells: pd.DataFrame, merged: list, info: dict,
           per_row: np.ndarray | None = None) -> Export:
    """The responses under the header: `cells` holds every row of the sheet or file (str or None,
    position i = spreadsheet row i + 1), whatever the format; per_row: its filled cells per row."""
    if per_row is None:
        per_row = cells.notna().sum(axis=1).to_numpy()
    if not per_row.any():
        raise CSIError("the file holds no data (only blank cells)", file=path,
                       hint="export the survey again; the download may have failed.")
    hrows = options.header_rows
    if hrows[-1] > len(cells):
        raise CSIError(f"`header_row: {options.header_row}` is below the last row ({len(cells)})", file=path,
                       hint="set `header_row:` to the row that holds the question texts.")

    def row(i: int) -> list:
        return cells.iloc[i].tolist() if i < len(cells) else []

    header = _header(row, hrows, merged)
    _check_header_shape(path, options, row, header, per_row, merged)
    first = hrows[-1]              # data start below the header row(s): 0-based index = row number
    body_pos = np.arange(first, len(cells))
    blank = [int(i) + 1 for i in body_pos[per_row[first:] == 0]]
    body_pos = body_pos[per_row[first:] > 0]
    above = {n: next(v for v in row(n - 1) if v is not None) for n in range(1, hrows[0]) if per_row[n - 1]}
    # columns without a header: skipped when they hold nothing, refused when they hold answers
    empty_cols, nameless = [], []
    for j, h in enumerate(header):
        if h is None:
            filled_rows = [int(i) + 1 for i in body_pos[cells[j].notna().to_numpy()[body_pos]]]
            (nameless if filled_rows else empty_cols).append((j, filled_rows))
    if nameless:
        j, filled_rows = nameless[0]
        raise CSIError(
            f"column {excel_letter(j)} holds answers (in {len(filled_rows)} row(s), e.g. row {filled_rows[0]}) but "
            f"its header cell in row {hrows[-1]} is empty", file=path, column=excel_letter(j), row=hrows[-1],
            problems=[f"column {excel_letter(j)}: no header, {len(f)} filled row(s)" for j, f in nameless],
            hint="every answer column needs its question text in the header row: export the survey again with "
                 "question texts, or type the missing header in a copy of the export and point `raw:` at it.")
    keep = [j for j, h in enumerate(header) if h is not None]
    header = [header[j] for j in keep]
    _check_duplicates(path, header, keep)
    if not len(body_pos):
        raise CSIError("the file has a header but no responses", file=path,
                       hint="export the survey again with its responses.")
    footer = {}
    if options.footer_rows:
        if options.footer_rows >= len(body_pos):
            raise CSIError(f"`footer_rows: {options.footer_rows}` would leave no responses", file=path,
                           hint="set `footer_rows:` to the number of totals or note rows at the end.")
        for i in body_pos[-options.footer_rows:]:
            footer[int(i) + 1] = next(v for v in row(i) if v is not None)
        body_pos = body_pos[:-options.footer_rows]
    else:
        _check_footer(path, {int(i) + 1: row(i) for i in body_pos[-3:]}, [int(i) + 1 for i in body_pos[-3:]])
    frame = cells.iloc[body_pos, keep]
    frame.columns = header
    frame.index = pd.Index(body_pos + 1, name="raw_row", dtype="int64")
    info.update(header_row=list(hrows), rows=len(frame), columns=len(header),
                blank_rows=blank, rows_above_header={str(k): v for k, v in above.items()},
                footer_rows={str(k): v for k, v in footer.items()},
                empty_columns=[excel_letter(j) for j, _ in empty_cols])
    return Export(path, options, frame, info, {header[k]: excel_letter(j) for k, j in enumerate(keep)})


def _header(row, hrows, merged) -> list[str | None]:
    if len(hrows) == 1:
        return row(hrows[0] - 1)
    top, bottom = row(hrows[0] - 1), row(hrows[1] - 1)
    if merged:   # xlsx: a merged title spans exactly its columns
        for (r0, c0), (r1, c1) in merged:
            if r0 == hrows[0] - 1 and c1 > c0:
                for j in range(c0 + 1, c1 + 1):
                    top[j] = top[c0]
    else:        # csv: a title stands over the blank cells to its right that have a lower text
        for j in range(1, len(top)):
            if top[j] is None and bottom[j] is not None:
                top[j] = top[j - 1]
    out = []
    for a, b in zip(top, bottom):
        out.append(None if a is None and b is None else a if b is None else b if a is None or a == b
                   else f"{a}{JOIN}{b}")
    return out


def _check_header_shape(path, options, row, header, per_row, merged) -> None:
    """Refuse a header row that is really a title, or one row of a two-row header."""
    hrows = options.header_rows
    h = hrows[-1] - 1
    filled = [v is not None for v in header]
    below = row(h + 1)
    if len(hrows) == 1 and sum(filled) <= 2 and len(header) > 3:
        wide = np.flatnonzero(per_row[h + 1:] > 3)
        nxt = int(wide[0]) + h + 1 if len(wide) else None
        if nxt is not None:
            title = next(v for v in header if v is not None) if any(filled) else ""
            raise CSIError(
                f"row {h + 1} is not the header: it holds only {title!r}"
                f" (a title above the table); the header is on row {nxt + 1}", file=path, row=h + 1,
                hint=f"set `header_row: {nxt + 1}` for this district in config/config.yaml "
                     f"(or --header-row {nxt + 1}).")
    if len(hrows) == 1 and below:
        spans = [m for m in merged if m[0][0] == h and m[1][1] > m[0][1]]
        gaps_filled_below = [j for j, v in enumerate(header) if v is None and below[j] is not None]
        texts_below = [v for v in below if v is not None]
        looks_header = texts_below and not any(_numberish(v) for v in texts_below)
        if spans or (gaps_filled_below and looks_header and len(gaps_filled_below) >= 2):
            cols = [excel_letter(j) for j in gaps_filled_below][:6]
            where = (f"merged cells {excel_letter(spans[0][0][1])}{h + 1}:{excel_letter(spans[0][1][1])}{h + 1}"
                     if spans else f"row {h + 1} is blank above column(s) {', '.join(cols)}")
            raise CSIError(
                f"the header spans two rows, {h + 1} and {h + 2} ({where}, whose texts are in row {h + 2})",
                file=path, row=h + 1,
                hint=f"set `header_row: [{h + 1}, {h + 2}]` (or --header-row {h + 1},{h + 2}): each column's "
                     f"header is then row {h + 1}'s text and row {h + 2}'s joined as 'upper{JOIN}lower' "
                     "(the codebook's `header:` must read the same; `csi scaffold-codebook` with the same "
                     f"option writes them so). If row {h + 2} alone names every column, `header_row: {h + 2}` "
                     "is enough.")


def _numberish(v) -> bool:
    return bool(re.fullmatch(r"-?\d+(\.\d+)?", str(v)))


def _check_duplicates(path, header, keep) -> None:
    seen: dict[str, int] = {}
    dups = []
    for h, j in zip(header, keep):
        if h in seen:
            dups.append(f"{h!r} in columns {excel_letter(seen[h])} and {excel_letter(j)}")
        seen.setdefault(h, j)
    if dups:
        raise CSIError("duplicated header(s): the same question text appears twice", file=path,
                       column=dups[0].split(" in columns")[0].strip("'"), problems=dups,
                       hint="if the export holds a question twice, give each column its own header text in the "
                            "codebook's `header:` as exported; two identical headers cannot be told apart, so "
                            "export again with distinct question texts (many platforms number them).")


def _check_footer(path, body, numbers) -> None:
    """A totals or summary row at the end is not a response: say how to leave it out."""
    hit = None
    for count, n in enumerate(reversed(numbers[-3:]), start=1):
        first = [v for v in body[n][:4] if v is not None]
        word = next((v for v in first if normalize(str(v)).lower().rstrip(":：") in SUMMARY_WORDS), None)
        if word is not None:
            hit = (count, n, word)
    if hit:
        count, n, word = hit
        raise CSIError(
            f"row {n} is a totals or summary row ({word!r}), not a response", file=path, row=n, value=word,
            hint=f"set `footer_rows: {count}` for this district in config/config.yaml (or --footer-rows "
                 f"{count}): the last {count} row(s) are then left out and listed in validation.json.")


# --- xlsx -------------------------------------------------------------------------------------

def _read_xlsx(path: Path, options: Options, info: dict):
    import python_calamine

    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
    except Exception as e:  # a damaged or mislabelled file raises various types
        raise CSIError(f"not a readable .xlsx workbook ({type(e).__name__}: {e})", file=path,
                       hint=_not_xlsx_hint(path)) from None
    names = list(book.sheet_names)
    if options.sheet is None:
        index = 0
    elif isinstance(options.sheet, int):
        if not 1 <= options.sheet <= len(names):
            raise CSIError(f"`sheet: {options.sheet}`: the workbook has {len(names)} sheet(s)", file=path,
                           hint=f"its sheets are {', '.join(map(repr, names))}: set `sheet:` to one of them.")
        index = options.sheet - 1
    elif options.sheet in names:
        index = names.index(options.sheet)
    else:
        raise CSIError(f"the workbook has no sheet {options.sheet!r}", file=path,
                       hint=f"its sheets are {', '.join(map(repr, names))}: set `sheet:` to one of them.")
    sheet = book.get_sheet_by_index(index)
    rows = [[text_of(v) for v in r] for r in sheet.to_python(skip_empty_area=False)]
    if not any(v is not None for r in rows for v in r):
        others = [n for k, n in enumerate(names) if k != index and
                  any(v not in ("", None) for r in book.get_sheet_by_index(k).to_python() for v in r)]
        hint = (f"the answers seem to be on sheet {others[0]!r}: set {sheet_setting(others[0])} for this "
                "district in config/config.yaml (or --sheet)." if len(others) == 1 else
                f"sheets with data: {', '.join(map(repr, others))}; set `sheet:` to the one with the answers."
                if others else "export the survey again; the workbook holds no data.")
        raise CSIError(f"sheet {names[index]!r} is empty", file=path, hint=hint)
    errors = _error_cells(path, index)
    for (r, c), text in errors.items():
        if r < len(rows) and c < len(rows[r]):
            rows[r][c] = text
    info.update(sheet=names[index], sheets=names, excel_error_cells=len(errors))
    return rows, list(sheet.merged_cell_ranges or []), info


CELL = re.compile(rb'<c\b([^>]*\bt="e"[^>]*)>(.*?)</c>', re.S)
REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
VALUE = re.compile(rb"<v>([^<]*)</v>")


def _error_cells(path: Path, index: int) -> dict[tuple[int, int], str]:
    """{(row, col): '#N/A'} for the Excel error cells of sheet `index` (calamine reads them as blanks)."""
    try:
        with zipfile.ZipFile(path) as z:
            target = _sheet_part(z, index)
            if target is None:
                return {}
            data = z.read(target)
    except (zipfile.BadZipFile, KeyError):
        return {}
    out = {}
    if b't="e"' not in data:
        return out
    for m in CELL.finditer(data):
        ref, v = REF.search(m.group(1)), VALUE.search(m.group(2))
        if ref is None:
            continue
        col = 0
        for ch in ref.group(1).decode():
            col = col * 26 + ord(ch) - 64
        out[(int(ref.group(2)) - 1, col - 1)] = v.group(1).decode() if v else "#N/A"
    return out


def _sheet_part(z: zipfile.ZipFile, index: int) -> str | None:
    wb = z.read("xl/workbook.xml")
    rels = z.read("xl/_rels/workbook.xml.rels")
    ids = re.findall(rb'<(?:\w+:)?sheet\b[^>]*?\br:id="([^"]+)"', wb) or re.findall(rb'<(?:\w+:)?sheet\b[^>]*?\bid="([^"]+)"', wb)
    if index >= len(ids):
        return None
    for rel in re.findall(rb"<Relationship\b[^>]*>", rels):
        if re.search(rb'Id="' + re.escape(ids[index]) + rb'"', rel):
            target = re.search(rb'Target="([^"]+)"', rel).group(1).decode()
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return None


def _not_xlsx_hint(path: Path) -> str:
    head = path.read_bytes()[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "this is an old-style .xls workbook named .xlsx: open it and save it as .xlsx."
    if not head.startswith(b"PK"):
        return ("this is not a workbook (it looks like text): if it is a CSV export, name it .csv and point "
                "`raw:` at it.")
    return "open it in a spreadsheet program and save it again as .xlsx; the file may be damaged."


# --- csv --------------------------------------------------------------------------------------

BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"), (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def _decode(path: Path, data: bytes, declared: str | None) -> tuple[str, str, str | None]:
    """(text, encoding used, note). A byte-order mark or UTF-16 without one wins over `declared`."""
    if data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0"):
        raise CSIError(f"the file is not text: {_what_encoding(data, declared or 'utf-8')}", file=path,
                       hint=_encoding_hint(data, declared or "utf-8"))
    for bom, enc in BOMS:
        if data.startswith(bom):
            note = None
            if declared and codecs.lookup(declared).name not in (codecs.lookup(enc).name, "utf-8", "utf-8-sig"):
                note = (f"`encoding: {declared}` is set, but the file starts with a {enc.upper().replace('-SIG', '')} "
                        f"byte-order mark; read as {enc.upper().replace('-SIG', '')} (remove `encoding:`).")
            return _strict(path, data, enc), enc, note
    sample = data[:4000]
    if b"\x00" in sample:     # UTF-8 and GB18030 text never hold a zero byte: UTF-16 without a BOM
        enc = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        return _strict(path, data, enc), enc, None
    enc = declared or "utf-8"
    try:
        return data.decode(enc), enc, None
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise CSIError(f"the file is not {enc.upper()} text: {_what_encoding(data, enc)}; first undecodable byte "
                       f"on line {line}", file=path, row=line, hint=_encoding_hint(data, enc)) from None
    except LookupError:
        raise CSIError(f"unknown text encoding {enc!r}", file=path,
                       hint="set `encoding:` to a Python codec name such as utf-8, gb18030 or big5.") from None


def _strict(path: Path, data: bytes, enc: str) -> str:
    try:
        return data.decode(enc)
    except UnicodeDecodeError as e:
        raise CSIError(f"the file looks {enc.upper()} (byte-order mark / zero bytes) but does not decode as it "
                       f"(byte {e.start})", file=path,
                       hint="the file is damaged or truncated mid-character: export it again.") from None


def _works(data: bytes, enc: str) -> bool:
    try:
        data.decode(enc)
        return True
    except UnicodeDecodeError:
        return False


def _what_encoding(data: bytes, tried: str) -> str:
    if data[:4].startswith(b"PK\x03\x04"):
        return "it is a zip file (an .xlsx workbook named .csv?)"
    if data[:4] == b"\xd0\xcf\x11\xe0":
        return "it is an Excel .xls workbook"
    if tried.replace("-", "").lower() not in ("utf8",) and _works(data, "utf-8"):
        return "it is UTF-8 text"
    if _works(data, "gb18030"):
        return "it looks GBK/GB18030-encoded (Excel on Chinese Windows)"
    if _works(data, "big5"):
        return "it looks Big5-encoded (traditional Chinese)"
    return "and not UTF-8 or GB18030 either"


def _encoding_hint(data: bytes, tried: str) -> str:
    if data[:4].startswith(b"PK\x03\x04"):
        return "rename the file to .xlsx (and update `raw:`)."
    if data[:4] == b"\xd0\xcf\x11\xe0":
        return "open it in a spreadsheet program and save it as .xlsx."
    if tried.replace("-", "").lower() != "utf8" and _works(data, "utf-8"):
        return f"remove `encoding: {tried}` for this district in config/config.yaml: the file is UTF-8."
    for enc in ("gb18030", "big5"):
        if _works(data, enc) and tried.lower() != enc:
            return (f"set `encoding: {enc}` for this district in config/config.yaml (or --encoding {enc}), or "
                    "re-save the file as 'CSV UTF-8'.")
    return "re-save the export as 'CSV UTF-8' in a spreadsheet program; the file may be damaged."


def _read_csv(path: Path, options: Options, info: dict):
    data = path.read_bytes()
    text, enc, note, options, extra = _text(path, data, options)
    sep, detected = _separator(path, text, options)
    info.update(encoding=enc, separator=sep, separator_detected=detected)
    if enc.replace("-", "").lower() not in ("utf8", "utf8sig") and not data.isascii() and _works(data, "utf-8"):
        info["also_utf8"] = True     # decodes as UTF-8 too: a wrong `encoding:` gives garbled headers
    if note:
        info["note"] = note
    if len(data) >= FAST_BYTES and extra["boms"] == 0 and not _quote_doubt(text, sep):
        # large and regular-looking: pyarrow's parser reads the file itself (nothing held twice)
        try:
            width = len(next(csv.reader(io.StringIO(text[:1 << 16], newline=""), delimiter=sep)))
        except (csv.Error, StopIteration):
            width = 0
        del text, data
        fast = _fast_cells(path, enc, int(extra["sep_line"]), sep, width) if width else None
        if fast is not None:
            return fast, info
        data = path.read_bytes()
        text = _text(path, data, options)[0]
    records, lines = [], []
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep, strict=True)
    try:
        last = 0
        for rec in reader:
            records.append([v.strip() or None for v in rec])
            lines.append(last + 1)
            last = reader.line_num
    except csv.Error as e:
        row = len(records) + 1
        raise CSIError(f"row {row} (line {last + 1}): the CSV cannot be parsed ({e})", file=path, row=row,
                       hint="a quote (\") opens a field that never closes: the file was cut off, or an answer "
                            "holds an unmatched quote. Export again with text fields quoted; if the file ends "
                            "early, the download failed.") from None
    h = options.header_rows[-1]
    width = len(records[h - 1]) if len(records) >= h else 0
    long_, short = [], []
    for n, rec in enumerate(records, start=1):
        if n <= h or not any(rec):
            continue
        if len(rec) > width:
            long_.append(n)
        elif len(rec) < width:
            short.append(n)
    complete_end = text.endswith(("\n", "\r"))
    if short and short[-1] == len(records) and not complete_end:
        n = short[-1]
        raise CSIError(f"the last row ({n}) has {len(records[n - 1])} of {width} fields and the file ends in "
                       "the middle of it: the export or download was cut off", file=path, row=n,
                       hint="export (or download) the survey again; do not analyse a truncated file.")
    if long_ or short:
        bad = long_ or short
        n = bad[0]
        what = "more" if long_ else "fewer"
        extra = (f"; its fields from {width + 1} on: {', '.join(repr(v) for v in records[n - 1][width:][:3])}"
                 if long_ else "")
        sepname = SEPARATORS.get(sep, repr(sep))
        raise CSIError(
            f"{len(bad)} row(s) have {what} fields than the header ({width}); row {n} has {len(records[n - 1])}"
            f"{extra}", file=path, row=n,
            problems=[f"row {k} (line {lines[k - 1]}): {len(records[k - 1])} fields" for k in bad],
            hint=(f"an answer in that row holds a {sepname} ({sep!r}) outside quotes, so it split into two fields: "
                  f"put that answer in double quotes in a copy of the export (line {lines[n - 1]} in a text "
                  "editor), or export again with text fields quoted." if long_ else
                  "the row is incomplete (fields missing, or a line break inside an unquoted answer): export "
                  f"again, or check line {lines[n - 1]} in a text editor."))
    return (_cells(records), None), info


def _text(path: Path, data: bytes, options: Options) -> tuple[str, str, str | None, Options, dict]:
    """(text, encoding, note, options, what was skipped at the start: byte-order marks beyond the one
    the encoding consumes, Excel's `sep=` line). That line sets the separator unless the options do."""
    text, enc, note = _decode(path, data, options.encoding)
    if not text.strip():
        raise CSIError("the file holds no data (only blank space)", file=path,
                       hint="export the survey again; the download may have failed.")
    n = len(text)
    text = text.lstrip("\ufeff")
    extra = {"boms": n - len(text), "sep_line": False}
    hint = re.match(r"sep=(.)\r?\n", text)     # Excel's separator line: not a row of the table
    if hint:
        text = text[hint.end():]
        extra["sep_line"] = True
        options = Options(options.encoding, options.sheet, options.header_row, options.separator or hint.group(1),
                          options.footer_rows)
    return text, enc, note, options, extra


def _quote_doubt(text: str, sep: str) -> bool:
    """A quote inside or beside a field's text (`a"b`, `"a" ,`, `, "a"`), where the strict reader
    might refuse the file. Doubled quotes and quotes between quoted fields are dropped first (fast
    string replaces), so the search only looks at the quotes that remain."""
    if '"' not in text:
        return False
    rest = text.replace('""', "").replace(f'"{sep}"', sep).replace('"\r\n"', "\n").replace('"\n"', "\n")
    q = re.escape(sep)
    return re.search(rf'"(?:(?<=[^{q}\r\n"]")[^{q}\r\n"]|(?<=[ \t]")|[ \t]+[{q}\r\n])', rest) is not None


def _fast_cells(path: Path, enc: str, skip_rows: int, sep: str,
                width: int) -> tuple[pd.DataFrame, np.ndarray] | None:
    """The cells of a CSV by pyarrow's parser, reading (and if need be decoding) the file itself, or
    None when the file needs the strict reader: rows of unequal length (a title above the header, a
    cut-off file) or any other parse error. Gives what that reader gives: stripped text, None for
    blank, one row per record (a blank line is a blank row); one text object per distinct cell of a
    column, the table released column by column (a million rows stay within memory). Also returns
    the number of filled cells per row."""
    import pyarrow as pa
    import pyarrow.compute as pc
    from pyarrow import csv as pacsv

    names = [str(j) for j in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=skip_rows, use_threads=False,
                                           block_size=1 << 22,
                                           encoding="utf8" if enc in ("utf-8", "utf-8-sig") else enc),
            parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                 strings_can_be_null=False, null_values=[],
                                                 quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
        return None
    cells = np.empty((table.num_rows, width), dtype=object)
    per_row = np.zeros(table.num_rows, dtype=np.int64)        # filled cells per row
    for j in range(width):
        column = table.column(0).combine_chunks()
        table = table.remove_column(0)
        sample = column.slice(0, 1 << 16)
        if len(sample) and pc.count_distinct(sample).as_py() > len(sample) // 2:
            # mostly distinct (ids, phone numbers): no dictionary; strip only what may need it
            values = column.to_numpy(zero_copy_only=False)
            fix = np.flatnonzero(pc.or_(pc.equal(column, ""), pc.match_substring_regex(column, _EDGE_SPACE))
                                 .to_numpy(zero_copy_only=False))
            values[fix] = [v.strip() or None for v in values[fix]]
            cells[:, j] = values
            per_row += values != None    # noqa: E711 - elementwise
        else:
            enc = column.dictionary_encode()
            values = np.array([v.strip() or None for v in enc.dictionary.to_pylist()], dtype=object)
            codes = enc.indices.to_numpy(zero_copy_only=False)
            cells[:, j] = values[codes]
            blank = [k for k, v in enumerate(values) if v is None]
            per_row += ~np.isin(codes, blank) if blank else 1
        del column, values
        pa.default_memory_pool().release_unused()     # give the column's memory back as we go
    return pd.DataFrame(cells, columns=range(width), dtype=object, copy=False), per_row


def _head_lines(text: str, k: int) -> list[str]:
    """The first k lines of text, without splitting all of a large file."""
    n = 1 << 16
    while True:
        lines = text[:n].splitlines()
        if n >= len(text):
            return lines[:k]
        if len(lines) > k:          # the last line may be cut at n: it is not among the first k
            return lines[:k]
        n *= 4


def _separator(path: Path, text: str, options: Options) -> tuple[str, bool]:
    """The field separator: as configured, else the one candidate that splits the header row into
    several fields and the next lines into as many."""
    if options.separator:
        return options.separator, False
    head = _head_lines(text, options.header_rows[-1] + 20)
    plausible = []
    for sep in SEPARATORS:
        try:
            counts = [len(r) for r in csv.reader(head, delimiter=sep) if r]
        except csv.Error:
            continue
        h = counts[min(options.header_rows[-1], len(counts)) - 1] if counts else 1
        if h > 1 and sum(c == h for c in counts) >= max(1, len(counts) * 0.6):
            plausible.append((sep, h))
    if not plausible:
        return ",", False
    if len(plausible) > 1 and plausible[0][0] != ",":
        names = " or ".join(SEPARATORS[s] for s, _ in plausible)
        raise CSIError(f"cannot tell the field separator ({names} both split the rows evenly)", file=path,
                       hint="set `separator:` for this district in config/config.yaml (e.g. `separator: \";\"`).")
    return plausible[0][0], plausible[0][0] != ","


# --- sav --------------------------------------------------------------------------------------

def _read_sav(path: Path, info: dict):
    import pyreadstat

    try:
        frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=True)
    except Exception as e:  # pyreadstat raises its own error types for damaged files
        raise CSIError(f"not a readable SPSS .sav file ({type(e).__name__}: {e})", file=path,
                       hint="export the survey again as .sav, .xlsx or .csv.") from None
    labels = meta.column_names_to_labels
    header = [labels.get(c) or c for c in frame.columns]
    rows = [[text_of(v) for v in r] for r in frame.astype(object).itertuples(index=False)]
    return [header] + rows, info


# --- finding where the codebook's header is -----------------------------------------------------

def locate_header(path, options: Options, expected: list[str]) -> tuple[str | None, int, int] | None:
    """(sheet, row, matches) of the row among the first 15 of every sheet that holds most of the
    codebook's headers, or None. Used to say where the header is when it is not where configured."""
    path = Path(path)
    want = {normalize(h) for h in expected}
    best = None
    if path.suffix.lower() == ".xlsx":
        import python_calamine

        try:
            book = python_calamine.CalamineWorkbook.from_path(str(path))
        except Exception:
            return None
        for k, name in enumerate(book.sheet_names):
            rows = book.get_sheet_by_index(k).to_python(skip_empty_area=False, nrows=15)
            for i, r in enumerate(rows):
                hits = sum(normalize(t) in want for v in r if (t := text_of(v)))
                if hits and (best is None or hits > best[2]):
                    best = (name, i + 1, hits)
    elif path.suffix.lower() == ".csv":
        try:
            text, _, _ = _decode(path, path.read_bytes(), options.encoding)
            sep, _ = _separator(path, text, options)
        except CSIError:
            return None
        for i, r in enumerate(csv.reader(text.lstrip("\ufeff").splitlines()[:15], delimiter=sep)):
            hits = sum(normalize(v) in want for v in r if v.strip())
            if hits and (best is None or hits > best[2]):
                best = (None, i + 1, hits)
    return best
