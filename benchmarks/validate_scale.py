"""`csi validate` + `csi clean` on a large survey export against pandas merely reading the same file,
at several sizes, measured in turns in one run (issue 14, part 4).

    python benchmarks/validate_scale.py [--sizes 0.1,0.3,1] [--keep DIR]

The exports are the default study's (data/raw/chengdu_a/export.xlsx: 47 columns, answers as Chinese
labels, personal data) as a UTF-8 CSV, rows drawn with replacement, each with its own serial,
mobile and ID number so that they are distinct respondents (a few keep a repeated mobile number:
the duplicates step has work to do). Targets: validate + clean <= 3 x pandas reading, peak RSS
<= 2 GiB, time linear in rows.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

from child import run      # benchmarks/child.py

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
SOURCE = ROOT / "data/raw/chengdu_a/export.xlsx"
CODEBOOK = ROOT / "data/codebooks/ssa_service_2021.yaml"
READ = "import pandas as pd, sys; pd.read_csv(sys.argv[1], dtype=str)"
READ_ARROW = "import pandas as pd, sys; pd.read_csv(sys.argv[1], dtype=str, engine='pyarrow')"   # shown beside it


def export(rows: int, path: Path) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    from csi import codebook, exports

    cb = codebook.load(CODEBOOK)
    base = exports.read(SOURCE).frame.reset_index(drop=True)
    rng = np.random.default_rng(1)
    out = base.iloc[rng.integers(0, len(base), rows)].reset_index(drop=True)
    by_code = {c.code: c.header for c in cb.columns}
    out[by_code["serial"]] = np.arange(1, rows + 1).astype(str)
    mobile = 13_000_000_000 + np.arange(rows)
    repeat = rng.random(rows) < 0.002                     # the same person submitting again
    mobile[repeat] = mobile[np.maximum(np.flatnonzero(repeat) - 7, 0)]
    out[by_code["mobile"]] = mobile.astype(str)
    out[by_code["id_number"]] = [f"5101051980{i:08d}" for i in range(rows)]
    out.to_csv(path, index=False, encoding="utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="0.1,0.3,1", help="millions of rows")
    ap.add_argument("--keep", help="folder for the exports (kept between runs)")
    a = ap.parse_args()
    folder = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="csi-valbench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in [float(s) for s in a.sizes.split(",")]:
        n = int(size * 1_000_000)
        csv = folder / f"export{n}.csv"
        if not csv.exists():
            export(n, csv)
        out = folder / f"out{n}"
        out.mkdir(exist_ok=True)
        validate = [str(BIN / "csi"), "validate", str(csv), "--codebook", str(CODEBOOK),
                    "--salt-file", str(folder / "salt"), "--coded", str(out / "coded.parquet"),
                    "--recoded", str(out / "recoded.csv"), "--report", str(out / "validation.json")]
        clean = [str(BIN / "csi"), "clean", str(out / "coded.parquet"), "--codebook", str(CODEBOOK),
                 "--validation", str(out / "validation.json"), "--data", str(out / "clean.parquet"),
                 "--exclusions", str(out / "exclusions.csv"), "--flow", str(out / "flow.json")]
        read_s, read_rss = run([sys.executable, "-c", READ, str(csv)])
        arrow_s, _ = run([sys.executable, "-c", READ_ARROW, str(csv)])
        v_s, v_rss = run(validate)
        c_s, c_rss = run(clean)
        rows.append((n, read_s, arrow_s, v_s, c_s, max(v_rss, c_rss), read_rss))
        print(f"{n:>9,d} rows: pandas read {read_s:6.2f} s ({read_rss:.0f} MiB; pyarrow engine {arrow_s:.2f} s), "
              f"validate {v_s:6.2f} s, clean {c_s:6.2f} s, ratio {(v_s + c_s) / read_s:5.1f}, "
              f"peak RSS {max(v_rss, c_rss):6.0f} MiB", flush=True)
    print("\n(ratio: validate + clean over pandas.read_csv(dtype=str), C engine; 'arrow' the same over its pyarrow engine)")
    print("rows        read s  validate+clean s  ratio  arrow  s per 100k rows  peak RSS MiB")
    for n, r, ra, v, c, m, _ in rows:
        print(f"{n:>9,d}  {r:7.2f}  {v + c:16.2f}  {(v + c) / r:5.1f}  {(v + c) / ra:5.1f}  "
              f"{(v + c) / n * 1e5:15.2f}  {m:12.0f}")


if __name__ == "__main__":
    main()
