"""WLSMV wall time: `csi fit --estimator WLSMV` vs lavaan's sem(..., ordered = TRUE, estimator =
"WLSMV"), whole process against whole process, measured in turns in one run; then the bootstrap
(B draws, each re-estimating thresholds, polychoric correlations and weights) against lavaan's
se = "bootstrap" (which asks for estimator = "DWLS": the same estimates). Prints each time, the
ratios csi / lavaan (target: at most 0.5 for both) and both programs' scaled-shifted chi-square;
and the one fit's time within a running process (csi: sem.estimate after a warm-up; lavaan:
system.time of sem() in R), which leaves out start-up and imports.

The data are simulated here (numpy default_rng(2025)): robust_vs_lavaan.py's 25-item, 5-factor model,
n = 2,800, every item cut into 6 ordered categories at skewed thresholds.

    python benchmarks/wlsmv_vs_lavaan.py [--repeats 3] [--B 100] [--jobs 1]

B = 1000 takes lavaan about 20 minutes here; the default B = 100 gives the same ratio (the cost
is per draw). Needs R with lavaan for the comparison (Debian: r-cran-lavaan).
"""

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from robust_vs_lavaan import CONSTRUCTS, MODEL, factors
from side_by_side import in_turns, report

R_CODE = """
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
m <- paste(readLines(args[1]), collapse = "\\n")
d <- read.csv(args[2])
B <- as.integer(args[4])
if (B == 0) {
  f <- sem(m, data = d, ordered = names(d), estimator = "WLSMV")
  t <- lavInspect(f, "test")
  writeLines(sprintf("%.6f", t$scaled.shifted$stat), args[3])
} else if (B < 0) {     # the fit alone, in the running process: median of 3 after a warm-up
  f <- sem(m, data = d, ordered = names(d), estimator = "WLSMV")
  secs <- replicate(3, system.time(sem(m, data = d, ordered = names(d), estimator = "WLSMV"))[["elapsed"]])
  writeLines(sprintf("%.6f", median(secs)), args[3])
} else {
  set.seed(1)
  f <- sem(m, data = d, ordered = names(d), estimator = "DWLS", se = "bootstrap", bootstrap = B)
  writeLines(sprintf("%.6f", sum(parameterEstimates(f)$se)), args[3])
}
"""


def simulate(n: int = 2800, seed: int = 2025) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    scores = factors(rng, n)
    cuts = np.array([-1.8, -1.2, -0.5, 0.3, 1.1])          # skewed towards the top categories
    cols = {}
    for c in CONSTRUCTS:
        f = scores[c] / scores[c].std()
        for i in range(5):
            lam = 0.65 + 0.05 * i
            y = lam * f + np.sqrt(1 - lam ** 2) * rng.standard_normal(n)
            cols[f"{c.lower()}{i + 1}"] = np.searchsorted(cuts, y) + 1
    return pd.DataFrame(cols)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--B", type=int, default=100)
    p.add_argument("--jobs", type=int, default=1, help="csi's bootstrap workers (lavaan: one process)")
    a = p.parse_args()
    csi = Path(sys.executable).parent / "csi"
    rscript = shutil.which("Rscript")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "model.lavaan").write_text(MODEL)
        data = simulate()
        data.to_csv(tmp / "data.csv", index=False)
        (tmp / "fit.R").write_text(R_CODE)

        def ours(B):
            return [str(csi), "fit", str(tmp / "model.lavaan"), str(tmp / "data.csv"), "--out", str(tmp / f"out{B}"),
                    "--estimator", "WLSMV", "--ordered", "all", "--bootstrap", str(B), "--jobs", str(a.jobs),
                    "--quiet"]

        def theirs(B):
            return [rscript, str(tmp / "fit.R"), str(tmp / "model.lavaan"), str(tmp / "data.csv"),
                    str(tmp / f"lavaan{B}.txt"), str(B)] if rscript else None

        print(f"WLSMV, n = {len(data)}, 25 items with 6 categories, 5 factors (whole process)")
        o, t = in_turns(ours(0), theirs(0), a.repeats)
        fit = json.loads((tmp / "out0/fit.json").read_text())
        print(f"csi    scaled-shifted chisq {fit['chisq_scaled']:.3f}")
        if rscript:
            print(f"lavaan scaled-shifted chisq {float((tmp / 'lavaan0.txt').read_text()):.3f}")
        report("csi fit (one fit)", "lavaan", o, t, 0.5)
        # the fit alone, without process start-up and imports (csi: semopy, scipy, pandas ~2 s here)
        from csi import sem

        if rscript:
            in_turns(theirs(-1), None, 1)
            lavaan_secs = float((tmp / "lavaan-1.txt").read_text())
        sem.estimate(MODEL, data, estimator="WLSMV", ordered="all")           # warm-up
        secs = []
        for _ in range(3):
            t0 = time.perf_counter()
            sem.estimate(MODEL, data, estimator="WLSMV", ordered="all")
            secs.append(time.perf_counter() - t0)
        print(f"in process (median of 3): csi {statistics.median(secs):.3f} s" +
              (f", lavaan {lavaan_secs:.3f} s, ratio {statistics.median(secs) / lavaan_secs:.3f}" if rscript else ""))
        print(f"\nbootstrap, B = {a.B}, csi with {a.jobs} worker(s), 1 run each")
        o, t = in_turns(ours(a.B), theirs(a.B), 1)
        report(f"csi fit --bootstrap {a.B}", f"lavaan bootstrap = {a.B}", o, t, 0.5)


if __name__ == "__main__":
    main()
