"""Same seed, same inputs -> the same bytes, whatever the number of BLAS threads (Snakemake sets
OMP/OPENBLAS threads to a rule's threads; a cluster job may get other counts than a laptop)."""

import hashlib
import os
import subprocess
import sys
from pathlib import Path

from conftest import ROOT

FIX = ROOT / "tests/fixtures/lavaan"


def test_estimates_and_bootstrap_do_not_depend_on_blas_threads(tmp_path):
    digests = []
    for threads in ("1", "3"):
        env = {**os.environ, "OMP_NUM_THREADS": threads, "OPENBLAS_NUM_THREADS": threads,
               "MKL_NUM_THREADS": threads}
        out = tmp_path / threads
        subprocess.run([str(Path(sys.executable).parent / "csi"), "fit", str(FIX / "chengdu_a.lavaan"),
                        str(FIX / "chengdu_a.csv"), "--out", str(out), "--bootstrap", "60", "--quiet"],
                       check=True, env=env, capture_output=True)
        digests.append({f: hashlib.sha256((out / f).read_bytes()).hexdigest()
                        for f in ("estimates.csv", "fit.json", "bootstrap.csv")})
    assert digests[0] == digests[1]
