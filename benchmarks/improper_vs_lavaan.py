"""Time to the verdict on an inadmissible model: the pipeline's model step (`csi measurement
--then fit --bootstrap 1000 --jobs 2`, which diagnoses the improper solution and skips the
bootstrap) against lavaan's bootstrap (B = 1000, 2 cores) of the same model, measured in turns
in one run, whole process against whole process. Prints each time and the ratio csi / lavaan
(target: at most 0.5).

The model splits satisfaction into two factors (SAT2 ~ SAT), which gives a negative disturbance
variance on district A's clean data; the data stage (validate + clean) runs once, untimed.

    python benchmarks/improper_vs_lavaan.py [--repeats 3]

Needs R with lavaan for the comparison (Debian: r-cran-lavaan); without it, prints csi only.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pandas as pd
from side_by_side import in_turns, report

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data/raw/chengdu_a/export.xlsx"
CODEBOOK = ROOT / "data/codebooks/ssa_service_2021.yaml"

R_CODE = """
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
m <- paste(readLines(args[1]), collapse = "\\n")
d <- read.csv(args[2])
set.seed(1)
f <- sem(m, data = d, se = "bootstrap", bootstrap = 1000L, parallel = "multicore", ncpus = 2)
cat(lavInspect(f, "post.check"), "\\n")
"""


def improper_model() -> str:
    text = (ROOT / "data/models/csi_government.lavaan").read_text()
    return (text.replace("SAT =~ sat_overall + sat_expect + sat_ideal",
                         "SAT =~ sat_overall + sat_expect\nSAT2 =~ sat_ideal + tru_confidence")
            .replace("SAT ~ LOC", "SAT2 ~ SAT\nSAT ~ LOC"))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeats", type=int, default=3)
    a = p.parse_args()
    csi = str(Path(sys.executable).parent / "csi")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = tmp / "improper.lavaan"
        model.write_text(improper_model())
        data = tmp / "data"
        subprocess.run([csi, "validate", str(RAW), "--codebook", str(CODEBOOK), "--coded", str(data / "coded.parquet"),
                        "--recoded", str(data / "recoded.csv"), "--report", str(data / "validation.json"),
                        "--salt-file", str(tmp / "salt")], check=True, stderr=subprocess.DEVNULL)
        subprocess.run([csi, "clean", str(data / "coded.parquet"), "--codebook", str(CODEBOOK), "--validation",
                        str(data / "validation.json"), "--data", str(data / "clean.parquet"), "--exclusions",
                        str(data / "exclusions.csv"), "--flow", str(data / "flow.json")],
                       check=True, stderr=subprocess.DEVNULL)
        clean = pd.read_parquet(data / "clean.parquet")
        csv = tmp / "clean.csv"          # lavaan's input: the model's columns (lavaan deletes listwise too)
        items = [c for c in clean.columns if c[:4] in ("loc_", "inf_", "hnd_", "int_", "sat_", "tru_", "cmp_")]
        clean[items].to_csv(csv, index=False)
        ours_cmd = [csi, "measurement", str(model), str(data / "clean.parquet"), "--out", str(tmp / "tables"),
                    "--cfa-out", str(tmp / "cfa"), "--codebook", str(CODEBOOK), "--then", "fit", str(model),
                    str(data / "clean.parquet"), "--out", str(tmp / "model"), "--codebook", str(CODEBOOK),
                    "--target", "SAT", "--bootstrap", "1000", "--jobs", "2", "--quiet"]
        rscript = shutil.which("Rscript")
        theirs_cmd = None
        if rscript:
            script = tmp / "boot.R"
            script.write_text(R_CODE)
            theirs_cmd = [rscript, str(script), str(model), str(csv)]
        ours, theirs = in_turns(ours_cmd, theirs_cmd, a.repeats)
        verdict = (tmp / "model/fit.json").read_text()
        assert '"admissible": false' in verdict, "the benchmark model should be inadmissible"
    print(f"inadmissible model (SAT2 ~ SAT), district A ({len(clean)} kept respondents), {a.repeats} runs each "
          "(whole process)")
    report("csi measurement+fit (diagnosis, no bootstrap)", "lavaan bootstrap B=1000, 2 cores", ours, theirs, 0.5)


if __name__ == "__main__":
    main()
