"""The whole evaluation analysis (`csi evaluations analyse`: read, classify every record, count,
tables, SPC, follow-up, comments) against DuckDB merely scanning the same parquet with one
GROUP BY window, month, at 1M, 3M and 10M simulated ratings, measured in turns in one run.

    python benchmarks/evaluations_scale.py [--sizes 1,3,10] [--repeats 1] [--keep DIR]

Targets (issue 13): ratio <= 5 at 10M, peak RSS <= 2 GiB, time linear in rows. The streams are
simulated from config/evaluations_simulation.yaml with the ratings per day scaled (~78 s for 10M);
--keep reuses them between runs.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from child import run      # benchmarks/child.py

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PER_MILLION = 1_000_000 / 320_492        # scale of the default spec (~320,000 records a year)

SCAN = """
import duckdb, sys
duckdb.sql("SELECT 窗口, date_trunc('month', 评价时间) AS month, count(*) FROM read_parquet('" + sys.argv[1] + "') GROUP BY ALL").fetchall()
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="1,3,10", help="millions of records")
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--keep", help="folder for the simulated streams (kept between runs)")
    a = ap.parse_args()
    folder = Path(a.keep) if a.keep else Path(tempfile.mkdtemp(prefix="csi-evbench-"))
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for size in [float(s) for s in a.sizes.split(",")]:
        stream = folder / f"ev{size:g}m.parquet"
        if not stream.exists():
            t = time.perf_counter()
            subprocess.run([str(BIN / "csi"), "evaluations", "simulate", "--scale", f"{size * PER_MILLION:.6f}",
                            "--out", str(stream), "--truth", str(folder / f"ev{size:g}m.truth.json")],
                           cwd=ROOT, check=True, stderr=subprocess.DEVNULL)
            print(f"simulated {stream.name} in {time.perf_counter() - t:.0f} s", flush=True)
        import pyarrow.parquet as pq

        n = pq.ParquetFile(stream).metadata.num_rows
        analyse = [str(BIN / "csi"), "evaluations", "analyse", str(stream), "--codebook",
                   str(ROOT / "data/codebooks/haochaping_2021.yaml"), "--salt-file", str(folder / "salt"),
                   "--out", str(folder / f"out{size:g}m")]
        scan = [sys.executable, "-c", SCAN, str(stream)]
        ours, theirs, rss = [], [], []
        for _ in range(a.repeats):
            w, r = run(analyse)
            ours.append(w)
            rss.append(r)
            theirs.append(run(scan)[0])
        rows.append((n, statistics.median(theirs), statistics.median(ours), max(rss)))
        print(f"{n:>11,d} records: scan {rows[-1][1]:6.2f} s, analysis {rows[-1][2]:6.2f} s, "
              f"ratio {rows[-1][2] / rows[-1][1]:5.1f}, peak RSS {rows[-1][3]:6.0f} MiB", flush=True)
    print("\nrecords      scan s  analysis s  ratio  analysis s per 1M  peak RSS MiB")
    for n, s, o, r in rows:
        print(f"{n:>11,d}  {s:6.2f}  {o:10.2f}  {o / s:5.1f}  {o / n * 1e6:17.2f}  {r:12.0f}")
    print("targets: ratio <= 5 at 10M, peak RSS <= 2048 MiB, seconds per 1M about constant (linear)")


if __name__ == "__main__":
    main()
