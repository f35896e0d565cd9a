"""Whole-process wall times of two commands measured in turns (so drift in machine speed hits
both), and their ratio: shared by the benchmarks that compare csi with lavaan."""

import statistics
import subprocess
import time


def wall(cmd) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t


def in_turns(ours_cmd, theirs_cmd, repeats: int) -> tuple[list[float], list[float]]:
    ours, theirs = [], []
    for _ in range(repeats):
        ours.append(wall(ours_cmd))
        if theirs_cmd:
            theirs.append(wall(theirs_cmd))
    return ours, theirs


def report(ours_label: str, theirs_label: str, ours: list[float], theirs: list[float], target: float) -> None:
    width = max(len(ours_label), len(theirs_label))
    print(f"{ours_label:<{width}} : median {statistics.median(ours):6.2f} s  (min {min(ours):.2f}, max {max(ours):.2f})")
    if theirs:
        print(f"{theirs_label:<{width}} : median {statistics.median(theirs):6.2f} s  "
              f"(min {min(theirs):.2f}, max {max(theirs):.2f})")
        ratios = [o / t for o, t in zip(ours, theirs)]
        print(f"ratio csi/lavaan: median {statistics.median(ratios):.3f} (target <= {target})")
    else:
        print(f"{theirs_label}: Rscript not found; install r-cran-lavaan for the comparison")
