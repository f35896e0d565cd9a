"""Timing one child process: wall seconds and its peak RSS (shared by the benchmark scripts)."""

import os
import subprocess
import time


def run(cmd) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t
    err = p.stderr.read().decode()
    p.stderr.close()
    if status:
        raise SystemExit(f"{cmd[0]} failed:\n{err}")
    return wall, usage.ru_maxrss / 1024
