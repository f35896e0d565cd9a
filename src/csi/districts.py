"""Districts listed in a table (config `district_table:`), for studies of many districts.

A tab-separated file, one row per district: a `district` column with its short name, and any of the
keys a district entry takes in config/config.yaml as further columns (raw, codebook, name, name_zh,
encoding, sheet, header_row, footer_rows, model, ...). A blank cell leaves the key out. It reads in
milliseconds where the same thousand entries in YAML take seconds, and every cluster job reads the
configuration again.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .errors import CSIError

KEYS = ("name", "name_zh", "frame", "fieldwork", "frame_zh", "fieldwork_zh", "raw", "codebook", "encoding",
        "sheet", "header_row", "separator", "footer_rows", "model", "satisfaction", "published", "estimator",
        "missing", "evaluations")


def _value(key: str, text: str, where: str):
    if key == "footer_rows" or (key == "sheet" and text.isdigit()):
        if not text.isdigit():
            raise CSIError(f"{where}: {key} {text!r} is not a whole number", hint=f"write {key} as a number, e.g. 0.")
        return int(text)
    if key == "header_row":
        parts = [p for p in re.split(r"[,\s\[\]]+", text) if p]
        if not parts or not all(p.isdigit() for p in parts) or len(parts) > 2:
            raise CSIError(f"{where}: header_row {text!r} is not a row number or two (e.g. 3 or 3,4)",
                           hint="write the row that holds the question texts, or two rows as 3,4.")
        return int(parts[0]) if len(parts) == 1 else [int(p) for p in parts]
    return text


def read_table(path) -> dict[str, dict]:
    """{district: entry} from a district table; CSIError naming the file, row and column of a problem."""
    path = Path(path)
    if not path.exists():
        raise CSIError("district table not found", file=path,
                       hint="check `district_table:` in config/config.yaml (a path relative to the project).")
    with open(path, newline="", encoding="utf-8-sig") as f:
        rows = list(csv.reader(f, delimiter="\t"))
    if not rows or "district" not in rows[0]:
        raise CSIError("the district table has no `district` column", file=path, row=1,
                       hint="the first row names the columns: district, raw, codebook, and any other district keys, "
                            "separated by tabs.")
    header = [h.strip() for h in rows[0]]
    unknown = [h for h in header if h != "district" and h not in KEYS]
    if unknown:
        raise CSIError(f"column(s) {', '.join(map(repr, unknown))} are not district keys", file=path, row=1,
                       column=unknown[0], hint=f"the columns a district table may have: district, {', '.join(KEYS)}.")
    out: dict[str, dict] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(header):
            raise CSIError(f"row {n} has {len(row)} fields, the header {len(header)}", file=path, row=n,
                           hint="separate the cells by tabs, one per column (a blank cell for a key left out).")
        cells = {h: c.strip() for h, c in zip(header, row)}
        name = cells.pop("district")
        if name in out:
            raise CSIError(f"district {name!r} appears twice (rows {out[name]['_row']} and {n})", file=path, row=n,
                           column="district", value=name, hint="give each district one row.")
        entry = {k: _value(k, v, f"row {n}") for k, v in cells.items() if v}
        out[name] = {**entry, "_row": n}
    for entry in out.values():
        del entry["_row"]
    return out


def merge(config: dict) -> dict:
    """The configuration with the table's districts added to those under `districts:` (a district in
    both is refused: which entry would count?)."""
    table = config.get("district_table")
    if not table:
        return config
    listed = read_table(table)
    both = sorted(set(listed) & set(config.get("districts") or {}))
    if both:
        raise CSIError(f"district(s) {', '.join(both)} are both under `districts:` and in the district table",
                       file=table, hint="keep each district in one place.")
    config["districts"] = {**(config.get("districts") or {}), **listed}
    return config
