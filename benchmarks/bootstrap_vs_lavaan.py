"""Bootstrap wall time: `csi fit --bootstrap 1000 --jobs 2` vs lavaan's
sem(..., se = "bootstrap", bootstrap = 1000, parallel = "multicore", ncpus = 2),
same model (data/models/csi_government.lavaan) and data (district A's clean data), measured
in turns in one run. Prints each time and the ratio csi / lavaan (target: at most 0.5; with
--estimator MLR --missing fiml, the pipeline's default for these data, at most 0.25: each draw is
then a FIML refit over the draw's missingness patterns, on all 1,000 respondents).

    python benchmarks/bootstrap_vs_lavaan.py [--repeats 3] [--draws 1000] [--estimator MLR --missing fiml]

Needs R with lavaan for the comparison (Debian: r-cran-lavaan); without it, prints csi only.
"""

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from side_by_side import in_turns, report

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
         missing = args[4], parallel = "multicore", ncpus = 2)   # lavaan bootstraps ML only (MLR's estimates are ML's)
"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--estimator", choices=["ML", "MLR"], default="ML")
    p.add_argument("--missing", choices=["listwise", "fiml"], default="listwise")
    a = p.parse_args()
    csi = Path(sys.executable).parent / "csi"
    with tempfile.TemporaryDirectory() as tmp:
        ours_cmd = [str(csi), "fit", str(MODEL), str(DATA), "--out", tmp, "--bootstrap",
                    str(a.draws), "--jobs", "2", "--quiet", "--estimator", a.estimator, "--missing", a.missing]
        rscript = shutil.which("Rscript")
        theirs_cmd = None
        if rscript:
            script = Path(tmp) / "boot.R"
            script.write_text(R_CODE)
            theirs_cmd = [rscript, str(script), str(MODEL), str(DATA), str(a.draws),
                          "ml" if a.missing == "fiml" else "listwise"]
        ours, theirs = in_turns(ours_cmd, theirs_cmd, a.repeats)
    fiml = a.missing == "fiml"
    print(f"bootstrap B={a.draws}, {a.estimator}, {a.missing}, 2 workers, n={1000 if fiml else 935}, 20 indicators, "
          f"{a.repeats} runs each (whole process)")
    report("csi fit", "lavaan", ours, theirs, 0.25 if fiml else 0.5)


if __name__ == "__main__":
    main()
