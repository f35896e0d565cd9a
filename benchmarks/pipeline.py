"""Wall time of the default pipeline: a cold run (empty results/, every district, the configured
bootstrap B, all notebooks and reports) and no-op reruns, in a fresh copy of the tracked files.
Prints the cold and no-op times against the targets (60 s and 3 s) and the time per rule,
summed over its jobs (from Snakemake's own job log, whole seconds).

    make benchmark      # or, after `make compile`: python benchmarks/pipeline.py [--cores 2] [--noop 5]

It uses the project's environment, as `make` does.
"""

import argparse
import datetime
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"


def copy_project(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout
    for rel in files.decode().split("\0"):
        if rel and (ROOT / rel).exists():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel, follow_symlinks=False)


def run(cmd, cwd) -> tuple[float, str]:
    t = time.perf_counter()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}  # as `make` runs it
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    elapsed = time.perf_counter() - t
    if r.returncode:
        sys.exit(f"failed: {' '.join(cmd)}\n{r.stderr[-3000:]}")
    return elapsed, r.stderr


def per_rule(log: str) -> dict[str, list[float]]:
    """Seconds per job, by rule, from the timestamps Snakemake prints around each job."""
    stamp, started, current, out = None, {}, None, defaultdict(list)
    for line in log.splitlines():
        if m := re.match(r"\[(\w{3} \w{3}\s+\d+ [\d:]+ \d{4})\]", line):
            stamp = datetime.datetime.strptime(m.group(1), "%a %b %d %H:%M:%S %Y")
        elif m := re.match(r"(?:local)?rule (\w+):", line):
            current = (m.group(1), stamp)
        elif (m := re.match(r"\s+jobid: (\d+)", line)) and current:
            started[m.group(1)] = current
        elif (m := re.match(r"Finished jobid: (\d+)", line)) and m.group(1) in started:
            rule, t0 = started.pop(m.group(1))
            out[rule].append((stamp - t0).total_seconds())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cores", default="2")
    ap.add_argument("--noop", type=int, default=5, help="no-op reruns to time")
    a = ap.parse_args()
    snakemake = [str(BIN / "snakemake"), "--cores", a.cores]
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp)
        copy_project(proj)
        cold, log = run(snakemake, proj)
        noop = [run(snakemake, proj)[0] for _ in range(a.noop)]
    rules = per_rule(log)
    print(f"cold run   {cold:6.1f} s wall   (target <= 60 s)   {sum(map(len, rules.values()))} jobs, "
          f"{a.cores} cores")
    print(f"no-op run  {statistics.median(noop):6.2f} s wall   (target <= 3 s)    median of {a.noop}: "
          + ", ".join(f"{t:.2f}" for t in noop))
    print("\nseconds per rule, summed over its jobs (jobs overlap on several cores):")
    for rule, times in sorted(rules.items(), key=lambda kv: -sum(kv[1])):
        print(f"  {rule:22s} {sum(times):5.0f} s  {len(times):3d} jobs  {sum(times) / len(times):5.1f} s each")


if __name__ == "__main__":
    main()
