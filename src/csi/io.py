"""Writing outputs all-or-nothing (raw exports are read by csi.exports)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:     # pandas is not imported by commands that only move files (strip-notebook)
    import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


UMASK = _umask()


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
        os.fchmod(fd, 0o666 & ~UMASK)      # as an ordinary new file (mkstemp's is 0600)
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
