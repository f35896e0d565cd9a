"""Reading a rating export with DuckDB, out of core: parquet as it is; csv and xlsx staged once as
parquet (DuckDB cannot read xlsx, nor GB18030 without a download). Headers are checked against the
codebook; every column is then reached through the SQL view `src`, whose columns are the codebook's
roles, parsed: `raw_row` (the record's row as a spreadsheet shows it, header = row 1), `ts`, `code`
(NULL when the rating is not a label), `channel`, `on_site`, `service`, `hall`, `window`, `staff`
(the exported id: pseudonymized before anything is written), `case_id`, `reasons` (as exported;
`reason_flags` turns them into one 0/1 column per option), `comment`, `status`, `resolved_at`, `deadline`. Nothing is written to the
export. The categorical columns are mapped through their distinct values (a few per column), so the
per-record work is a lookup.
"""

from __future__ import annotations

import re
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import CSIError
from .codebook import StreamCodebook

READERS = (".parquet", ".csv", ".xlsx")
TIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y/%m/%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M",
                "%Y-%m-%dT%H:%M:%S", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y%m%d%H%M%S"]
CATEGORICAL = ("service", "hall", "window", "staff")


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value) -> str:
    """A SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def norm(text: str) -> str:
    """How exported text is compared with the codebook: NFKC, spaces collapsed, any case."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text)).strip().casefold()


@dataclass
class Source:
    export: Path                     # the raw export (never written)
    parquet: str                     # what DuckDB reads: the export, or its staged copy
    names: dict[str, str]            # codebook code -> column name in the parquet
    types: dict[str, str]            # codebook code -> DuckDB type
    info: dict = field(default_factory=dict)
    recoded: list = field(default_factory=list)     # cells set to missing: column, value, count, why
    scope: str = "TRUE"              # SQL on the export's columns: the records of the partition at hand
    _tmp: object = None
    _distinct: dict = field(default_factory=dict)

    def scan(self) -> str:
        return f"read_parquet({lit(self.parquet)}, file_row_number = true)"

    def close(self):
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


def connect(threads: int | None = None, memory_limit: str | None = None):
    import duckdb

    con = duckdb.connect(config={"preserve_insertion_order": False})
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    if memory_limit:
        con.execute(f"SET memory_limit = {lit(memory_limit)}")
    return con


def open_export(path, cb: StreamCodebook, con, *, encoding: str | None = None) -> Source:
    """Check the export against the codebook and make it readable by DuckDB; CSIError if it is not."""
    path = Path(path)
    if not path.exists():
        raise CSIError("rating export not found", file=path,
                       hint="check the district's `evaluations:` path in config/config.yaml (the simulated "
                            "stream of chengdu_a is made by `make simulate` or the rule simulate_evaluations).")
    suffix = path.suffix.lower()
    if suffix not in READERS:
        raise CSIError(f"cannot read {suffix!r} files as a rating export", file=path,
                       hint=f"export the ratings as one of {', '.join(READERS)}.")
    if path.stat().st_size == 0:
        raise CSIError("the file is empty (0 bytes)", file=path, hint="export the ratings again; the download may have failed.")
    tmp = None
    if suffix == ".parquet":
        parquet = str(path)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="csi-evaluations-")
        parquet = str(Path(tmp.name) / "staged.parquet")
        try:
            if suffix == ".csv":
                _stage_csv(path, parquet, con, encoding, Path(tmp.name))
            else:
                _stage_xlsx(path, parquet)
        except Exception:
            tmp.cleanup()
            raise
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM read_parquet({lit(parquet)})").fetchall()
    except Exception as e:  # duckdb raises its own error types for a damaged file
        if tmp:
            tmp.cleanup()
        raise CSIError(f"not a readable parquet file ({type(e).__name__}: {str(e).splitlines()[0]})", file=path,
                       hint="export the ratings again (parquet, csv or xlsx); the file may be damaged or cut off.") from None
    types = {name: typ for name, typ, *_ in described}
    names = _match_headers(path, list(types), cb, tmp)
    src = Source(path, parquet, names, {code: types[name] for code, name in names.items()},
                 info={"format": suffix[1:]}, _tmp=tmp)
    return src


def _match_headers(path, present: list[str], cb: StreamCodebook, tmp) -> dict[str, str]:
    import difflib

    by_norm = {norm(h): h for h in present}
    names, missing = {}, []
    for c in cb.columns:
        found = c.header if c.header in present else by_norm.get(norm(c.header))
        if found is None:
            missing.append(c)
        else:
            names[c.code] = found
    unknown = [h for h in present if h not in names.values()]
    if missing or unknown:
        problems = []
        for c in missing:
            guess = difflib.get_close_matches(c.header, unknown, n=1, cutoff=0.5)
            problems.append(f"codebook column {c.header!r} ({c.role}) is missing" +
                            (f"; column {guess[0]!r} looks like it was renamed" if guess else ""))
        problems += [f"column {h!r} is not in the codebook" for h in unknown
                     if not any(repr(h) in p for p in problems)]
        if tmp:
            tmp.cleanup()
        raise CSIError(f"the export's columns do not match codebook {cb.path}", file=path,
                       column=(missing[0].header if missing else unknown[0]), problems=problems,
                       hint="make the header text match the codebook's `header:` exactly (or update the codebook); "
                            "a column not used in the analysis still needs an entry (role: pii for personal data, "
                            "which is then dropped; role: paradata for anything else).")
    return names


def _stage_csv(path: Path, parquet: str, con, encoding: str | None, tmp: Path) -> None:
    """CSV -> parquet, every cell as text (nothing guessed). Non-UTF encodings are transcoded first
    (streamed, so a large file is never held in memory)."""
    from .. import exports

    with open(path, "rb") as f:
        head = f.read(1 << 16)
    enc = encoding or "utf-8"
    for bom, name in exports.BOMS:
        if head.startswith(bom):
            enc = name
    source = path
    if enc.replace("-", "").lower() not in ("utf8", "utf8sig"):
        source = tmp / "utf8.csv"
        try:
            with open(path, encoding=enc, newline="") as fin, open(source, "w", encoding="utf-8", newline="") as fout:
                for block in iter(lambda: fin.read(1 << 20), ""):
                    fout.write(block)
        except (UnicodeDecodeError, LookupError) as e:
            raise CSIError(f"the file is not {enc.upper()} text ({e})", file=path,
                           hint="give its encoding (--encoding gb18030, utf-16 ...) or re-save it as 'CSV UTF-8'.") from None
    elif not _utf8(path):
        raise CSIError("the file is not UTF-8 text: " + exports._what_encoding(head, "utf-8"), file=path,
                       hint=exports._encoding_hint(head, "utf-8"))
    try:
        con.execute(f"COPY (SELECT * FROM read_csv({lit(str(source))}, all_varchar = true, header = true, "
                    f"strict_mode = true)) TO {lit(parquet)} (FORMAT parquet)")
    except Exception as e:
        raise CSIError(f"the CSV cannot be parsed: {str(e).splitlines()[0]}", file=path,
                       hint="a row has more or fewer fields than the header, or a quote never closes: export again "
                            "with text fields quoted; if the file ends early, the download failed.") from None


def _utf8(path: Path) -> bool:
    import codecs

    dec = codecs.getincrementaldecoder("utf-8")()
    try:
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                dec.decode(block)
            dec.decode(b"", final=True)
        return True
    except UnicodeDecodeError:
        return False


def _stage_xlsx(path: Path, parquet: str) -> None:
    """xlsx -> parquet (cells as the text a spreadsheet shows). A sheet holds at most ~1M rows, so
    it is read into memory once."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from .. import exports

    export = exports.read(path)
    frame = export.frame
    table = pa.table({h: pa.array([v for v in frame[h]], type=pa.string()) for h in frame.columns})
    pq.write_table(table, parquet)


# --- the parsed view ------------------------------------------------------------------------------

def distinct(con, src: Source, code: str) -> list[tuple]:
    """(value, count) of a column's distinct values in the whole export (read once per process: the
    mappings built from them serve every partition)."""
    if code not in src._distinct:
        col = q(src.names[code])
        src._distinct[code] = con.execute(
            f"SELECT {col}, count(*) FROM {src.scan()} GROUP BY ALL ORDER BY ALL").fetchall()
    return src._distinct[code]


def _is_missing(value, cb: StreamCodebook) -> bool:
    return value is None or norm(str(value)) in {norm(m) for m in cb.missing_codes} or norm(str(value)) == ""


def _case(col: str, mapping: dict, default="NULL") -> str:
    if not mapping:
        return default
    whens = " ".join(f"WHEN {lit(k)} THEN {v}" for k, v in mapping.items())
    return f"CASE {col} {whens} ELSE {default} END"


def time_expr(src: Source, code: str) -> str:
    col = q(src.names[code])
    typ = src.types[code].upper()
    if typ.startswith("TIMESTAMP") or typ == "DATE":
        return f"CAST({col} AS TIMESTAMP)"
    if typ == "VARCHAR":
        fmts = "[" + ", ".join(lit(f) for f in TIME_FORMATS) + "]"
        return f"try_strptime(trim({col}), {fmts})"
    raise CSIError(f"column {src.names[code]!r} holds {typ} values, not date-times", file=src.export,
                   column=src.names[code], hint="export date-times as text (2021-03-05 10:12:33) or as timestamps.")


def build_view(con, src: Source, cb: StreamCodebook, name: str = "src") -> dict:
    """Create the view `name` over the export; return the mappings used (for the flow report)."""
    cols = {c.role: c for c in cb.columns}
    sel = ["file_row_number + 2 AS raw_row"]
    recoded = []
    # rating: exported label -> code
    rating = cols["rating"]
    labels = {norm(k): v for k, v in cb.labels.items()}
    rmap = {}
    for value, n in distinct(con, src, rating.code):
        if value is not None and norm(str(value)) in labels:
            rmap[str(value)] = labels[norm(str(value))]
    rcol = q(src.names[rating.code])
    rtext = rcol if src.types[rating.code] == "VARCHAR" else f"CAST({rcol} AS VARCHAR)"
    sel += [f"{_case(rtext, rmap)} AS code", f"{rtext} AS rating_raw"]
    ts = cols["timestamp"].code
    sel += [f"{time_expr(src, ts)} AS ts",      # the text only where it is text (a typed time is NULL or valid)
            f"{q(src.names[ts])} AS ts_raw" if src.types[ts] == "VARCHAR" else "NULL::VARCHAR AS ts_raw"]
    # channel: value_labels; on-site / online lists
    ch = cols.get("channel")
    if ch:
        vl = {norm(k): v for k, v in ch.value_labels.items()}
        cmap, unknown = {}, []
        for value, n in distinct(con, src, ch.code):
            if value is None:
                continue
            v = vl.get(norm(str(value)))
            if v is not None:
                cmap[str(value)] = v
            elif not _is_missing(value, cb):
                unknown.append((value, n))
        ccol = q(src.names[ch.code])
        stray = f"{ccol} IN ({', '.join(lit(v) for v, _ in unknown)})" if unknown else "FALSE"
        sel += [f"{_case(ccol, {k: lit(v) for k, v in cmap.items()})} AS channel",
                f"CASE WHEN {stray} THEN {ccol} END AS channel_stray",
                f"{_case(ccol, {k: str(v in ch.on_site).upper() for k, v in cmap.items()}, 'FALSE')} AS on_site",
                f"{_case(ccol, {k: str(v in ch.online).upper() for k, v in cmap.items()}, 'FALSE')} AS online"]
    else:
        sel += ["'all' AS channel", "NULL::VARCHAR AS channel_stray", "FALSE AS on_site", "FALSE AS online"]
    # service, hall, window, staff: as exported; missing codes are missing
    for role in CATEGORICAL:
        c = cols.get(role)
        if c is None:
            sel.append(f"NULL::VARCHAR AS {role}")
            continue
        col = q(src.names[c.code])
        text = col if src.types[c.code] == "VARCHAR" else f"CAST({col} AS VARCHAR)"
        missing = [str(v) for v, _ in distinct(con, src, c.code) if v is not None and _is_missing(v, cb)]
        sel.append(f"CASE WHEN {text} IN ({', '.join(lit(m) for m in missing)}) THEN NULL ELSE {text} END AS {q(role)}"
                   if missing else f"{text} AS {q(role)}")
    case = cols.get("case")
    sel.append(f"CAST({q(src.names[case.code])} AS VARCHAR) AS case_id" if case else "NULL::VARCHAR AS case_id")
    # reasons: one 0/1 column per option; unknown reasons set to missing (logged)
    rs = cols.get("reasons")
    if rs:
        col = q(src.names[rs.code])
        known = {norm(o["value"]): o["value"] for o in rs.options}
        sep = re.compile(rs.separator)
        # a text the separator matches, to write a cell back with the options as the codebook spells them
        joiner = next((c for c in (";", ",", "|", "、", " ") if sep.fullmatch(c)), None)
        rewrite = {}     # cells whose reasons match options only after normalization (width, case, spaces)
        for value, n in distinct(con, src, rs.code):
            if value is None or _is_missing(value, cb):
                continue
            parts = [p for p in (x.strip() for x in sep.split(str(value))) if p]
            for p in parts:
                if norm(p) not in known:
                    recoded.append({"column": rs.header, "value": p, "records": n,
                                    "why": "not a reason listed in the codebook's options", "action": "ignored"})
            canonical = [known.get(norm(p), p) for p in parts]
            if canonical != parts and joiner is not None:
                rewrite[str(value)] = joiner.join(canonical)
        if rewrite:      # reason_flags compares the exact text of each option
            cases = " ".join(f"WHEN {lit(v)} THEN {lit(c)}" for v, c in rewrite.items())
            sel.append(f"CASE CAST({col} AS VARCHAR) {cases} ELSE CAST({col} AS VARCHAR) END AS reasons")
        else:
            sel.append(f"{col} AS reasons")
    else:
        sel.append("NULL::VARCHAR AS reasons")
    # comment: free text (scrubbed later); missing codes and blanks are no comment
    cm = cols.get("comment")
    if cm:
        col = q(src.names[cm.code])
        miss = ", ".join(lit(m) for m in cb.missing_codes + [""])
        sel.append(f"CASE WHEN trim({col}) IN ({miss}) THEN NULL ELSE {col} END AS comment")
    else:
        sel.append("NULL::VARCHAR AS comment")
    st = cols.get("followup_status")
    if st:
        vl = {norm(k): v for k, v in st.value_labels.items()}
        smap = {}
        for value, n in distinct(con, src, st.code):
            if value is None or _is_missing(value, cb):
                continue
            v = vl.get(norm(str(value)))
            if v is None:
                recoded.append({"column": st.header, "value": str(value), "records": n,
                                "why": "not one of the column's value_labels", "action": "set to missing"})
            else:
                smap[str(value)] = lit(v)
        sel.append(f"{_case(q(src.names[st.code]), smap)} AS status")
    else:
        sel.append("NULL::VARCHAR AS status")
    for role, alias in (("followup_time", "resolved_at"), ("deadline", "deadline")):
        c = cols.get(role)
        sel.append(f"{time_expr(src, c.code)} AS {alias}" if c else f"NULL::TIMESTAMP AS {alias}")
    con.execute(f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {', '.join(sel)} FROM {src.scan()} WHERE {src.scope}")
    src.recoded = recoded
    return {"rating": rmap}


def reason_flags(cb: StreamCodebook, col: str = "reasons") -> str:
    """SQL: one 0/1 column r_<code> per bad-rating reason option, from the exported text."""
    rs = cb.role("reasons")
    if rs is None:
        return ""
    parts = f"list_transform(regexp_split_to_array({col}, {lit(rs.separator)}), lambda x: trim(x))"
    return "".join(f", coalesce(list_contains({parts}, {lit(o['value'])}), FALSE)::INTEGER AS {q('r_' + o['code'])}"
                   for o in rs.options)
