"""Bootstrap wall time: `csi fit --bootstrap 1000 --jobs 2` vs lavaan's
sem(..., se = "bootstrap", bootstrap = 1000, parallel = "multicore", ncpus = 2),
same model (data/models/csi_government.lavaan) and data (district A's clean data), measured
in turns in one run. Prints each time and the ratio csi / lavaan (target: at most 0.5).

    python benchmarks/bootstrap_vs_lavaan.py [--repeats 3] [--draws 1000]

Needs R with lavaan for the comparison (Debian: r-cran-lavaan); without it, prints csi only.
"""

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODEL = ROOT / "data/models/csi_government.lavaan"
DATA = ROOT / "tests/fixtures/lavaan/chengdu_a.csv"   # district A's clean data, model columns

R_CODE = """
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
m <- paste(readLines(args[1]), collapse = "\\n")
d <- read.csv(args[2])
set.seed(1)
f <- sem(m, data = d, se = "bootstrap", bootstrap = as.integer(args[3]),
         parallel = "multicore", ncpus = 2)
"""


def wall(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--draws", type=int, default=1000)
    a = p.parse_args()
    csi = Path(sys.executable).parent / "csi"
    with tempfile.TemporaryDirectory() as tmp:
        ours_cmd = [str(csi), "fit", str(MODEL), str(DATA), "--out", tmp, "--bootstrap",
                    str(a.draws), "--jobs", "2", "--quiet"]
        rscript = shutil.which("Rscript")
        theirs_cmd = None
        if rscript:
            script = Path(tmp) / "boot.R"
            script.write_text(R_CODE)
            theirs_cmd = [rscript, str(script), str(MODEL), str(DATA), str(a.draws)]
        ours, theirs = [], []
        for _ in range(a.repeats):      # in turns, so drift in machine speed hits both
            ours.append(wall(ours_cmd))
            if theirs_cmd:
                theirs.append(wall(theirs_cmd))
    print(f"bootstrap B={a.draws}, 2 workers, n=935, 20 indicators, {a.repeats} runs each (whole process)")
    print(f"csi fit : median {statistics.median(ours):6.2f} s  (min {min(ours):.2f}, max {max(ours):.2f})")
    if theirs:
        print(f"lavaan  : median {statistics.median(theirs):6.2f} s  (min {min(theirs):.2f}, max {max(theirs):.2f})")
        ratios = [o / t for o, t in zip(ours, theirs)]
        print(f"ratio csi/lavaan: median {statistics.median(ratios):.3f} (target <= 0.5)")
    else:
        print("lavaan  : Rscript not found; install r-cran-lavaan for the comparison")


if __name__ == "__main__":
    main()
