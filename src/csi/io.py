"""Reading raw exports (csv, xlsx, sav) and writing outputs all-or-nothing."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import pandas as pd

from .errors import CSIError

READERS = (".csv", ".xlsx", ".sav")


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def excel_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: how a spreadsheet names column i."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def read_raw(path, encoding: str | None = None) -> pd.DataFrame:
    """Read a raw export as it is: header row as column names, every cell as exported.

    The index is the row number a spreadsheet shows (the header is row 1), so messages and
    exclusions.csv can point at the exact row. Raises CSIError for an empty file, a file that
    is not UTF-8 (unless an encoding is given), or duplicated headers.
    """
    path = Path(path)
    if not path.exists():
        raise CSIError("raw export not found", file=path,
                       hint="check the `raw:` path of this district in config/config.yaml.")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise CSIError(f"cannot read {suffix!r} files", file=path,
                       hint=f"export the survey as one of {', '.join(READERS)}.")
    if path.stat().st_size == 0:
        raise CSIError("the file is empty (0 bytes)", file=path,
                       hint="export the survey again; the download may have failed.")
    if suffix == ".csv":
        header, rows = _read_csv(path, encoding)
    elif suffix == ".xlsx":
        header, rows = _read_xlsx(path)
    else:
        header, rows = _read_sav(path)
    if not header or all(h is None or str(h).strip() == "" for h in header):
        raise CSIError("the file has no header row", file=path,
                       hint="the first row must hold the question texts as exported.")
    header = ["" if h is None else str(h).strip() for h in header]
    blanks = [excel_letter(i) for i, h in enumerate(header) if h == ""]
    if blanks:
        raise CSIError(f"header cell(s) are empty in column(s) {', '.join(blanks)}", file=path,
                       hint="every column needs its question text in row 1; delete stray columns.")
    seen: dict[str, int] = {}
    dups = []
    for i, h in enumerate(header):
        if h in seen:
            dups.append(f"{h!r} in columns {excel_letter(seen[h])} and {excel_letter(i)}")
        seen.setdefault(h, i)
    if dups:
        raise CSIError("duplicated header(s): the same question text appears twice", file=path,
                       column=dups[0].split(" in columns")[0].strip("'"), problems=dups,
                       hint="remove the repeated column or rename it and add it to the codebook.")
    if not rows:
        raise CSIError("the file has a header but no responses", file=path,
                       hint="export the survey again with its responses.")
    frame = pd.DataFrame(rows, columns=header, dtype=object)
    frame.index = pd.RangeIndex(2, 2 + len(frame), name="raw_row")
    return frame


def _read_csv(path: Path, encoding: str | None):
    data = path.read_bytes()
    enc = encoding or "utf-8-sig"
    try:
        text = data.decode(enc)
    except UnicodeDecodeError as e:
        looks_gbk = False
        with contextlib.suppress(UnicodeDecodeError):
            data.decode("gb18030")
            looks_gbk = True
        line = data[: e.start].count(b"\n") + 1
        what = "looks GBK/GB18030-encoded (Excel on Chinese Windows)" if looks_gbk else "is not valid text"
        raise CSIError(f"the file is not {enc.upper()} text: it {what}; first bad byte on line {line}",
                       file=path, row=line,
                       hint="re-save it as 'CSV UTF-8', or give its encoding: `encoding: gb18030` "
                            "for this district in config/config.yaml (or --encoding gb18030).") from None
    if not text.strip():
        raise CSIError("the file holds no data (only blank space)", file=path,
                       hint="export the survey again; the download may have failed.")
    table = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False,
                        skip_blank_lines=True)
    values = table.where(table != "", None).values.tolist()
    return values[0], values[1:]


def _read_xlsx(path: Path):
    try:  # calamine (Rust) reads an export ~10x faster than openpyxl
        table = pd.read_excel(path, header=None, dtype=object, engine="calamine", sheet_name=0)
    except Exception as e:  # a damaged or mislabelled file raises various types
        raise CSIError(f"not a readable .xlsx workbook ({type(e).__name__}: {e})", file=path,
                       hint="open it in a spreadsheet program and save it again as .xlsx.") from None
    rows = table.astype(object).where(table.notna(), None).values.tolist()
    while rows and all(v is None or v == "" for v in rows[-1]):
        rows.pop()
    if not rows:
        raise CSIError("the workbook's first sheet is empty", file=path,
                       hint="put the export on the first sheet.")
    return rows[0], rows[1:]


def _read_sav(path: Path):
    import pyreadstat

    frame, meta = pyreadstat.read_sav(str(path), apply_value_formats=True)
    labels = meta.column_names_to_labels
    header = [labels.get(c) or c for c in frame.columns]
    rows = frame.astype(object).where(frame.notna(), None).values.tolist()
    return header, rows


# --- writing --------------------------------------------------------------------------------

@contextlib.contextmanager
def atomic_outputs(*paths):
    """Yield temporary paths; move them into place only if the block succeeds.

    Either every output exists afterwards or none of them was touched.
    """
    finals = [Path(p) for p in paths]
    temps = []
    for p in finals:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
        os.close(fd)
        temps.append(Path(tmp))
    try:
        yield temps
        for tmp, final in zip(temps, finals):
            os.replace(tmp, final)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def write_json(obj, path) -> None:
    Path(path).write_text(json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n", "utf-8")


def write_csv(frame: pd.DataFrame, path, **kw) -> None:
    frame.to_csv(path, index=False, lineterminator="\n", **kw)


def write_tables(folder, tables: dict) -> None:
    """Write {file name: DataFrame} as CSV files into folder, all or none."""
    folder = Path(folder)
    with atomic_outputs(*(folder / name for name in tables)) as tmp:
        for frame, path in zip(tables.values(), tmp):
            frame.to_csv(path, index=False, float_format="%.10g", lineterminator="\n")


def write_parquet(frame: pd.DataFrame, path) -> None:
    # Deterministic for the same data and library versions (no timestamps are stored).
    frame.reset_index(drop=True).to_parquet(path, index=False, engine="pyarrow", compression="zstd")
