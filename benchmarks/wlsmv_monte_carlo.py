"""Monte Carlo of the CSI model on the project's simulator: WLSMV (the pipeline's default for
ordered items) against ML and MLR+FIML on the category codes.

Samples are drawn as in robust_monte_carlo.py (district chengdu_a's population, 2% light
skippers). Against the simulator's standardized latent truth (structural weights on the latent
variables, which the ordered items' y* measure), per estimator:

- mean standardized estimate and its relative bias for the driver paths (SAT ~ driver) and the
  complaint path (cmp_complained ~ SAT); target for WLSMV: |bias| <= 5%;
- coverage of the 95% CI of the standardized path (the Wald CI of the estimate, scaled by
  std / est) of that truth; target for WLSMV: 0.93-0.97;
- the share of samples in which the true top driver (largest standardized path to SAT) is
  estimated as the top driver;
- the rejection rate at 5% of the model test (ML: chi-square; MLR: Yuan-Bentler; WLSMV: scaled-
  shifted); target for WLSMV: <= 0.10.

    python benchmarks/wlsmv_monte_carlo.py [--reps 200] [--n 1000] [--jobs 2]
"""

import argparse
import multiprocessing as mp
import time

import numpy as np
import pandas as pd
from robust_monte_carlo import DISTRICT, fit_all, standardized_truth

ESTIMATORS = (("ML", "ML", "listwise"), ("MLR+FIML", "MLR", "fiml"), ("WLSMV", "WLSMV", "pairwise"))


def replicate(args):
    return fit_all(args, ESTIMATORS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=200)
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    t0 = time.perf_counter()
    truth = standardized_truth()
    drivers = [p for p in truth.index if p.startswith("SAT ~")]
    top = truth[drivers].idxmax()
    with mp.get_context("spawn").Pool(a.jobs) as pool:
        results = pool.map(replicate, [(5000 + i, a.n) for i in range(a.reps)])
    print(f"{a.reps} samples of n = {a.n} from the {DISTRICT} population ({time.perf_counter() - t0:.0f} s)")
    print("standardized truth:", truth.round(3).to_dict(), f"; top driver {top}\n")
    for name, _, _ in ESTIMATORS:
        ok = [r[name] for r in results if r[name][2]]
        est = np.column_stack([p["est"].to_numpy() for p, _, _ in ok])
        se = np.column_stack([p["se"].to_numpy() for p, _, _ in ok])
        std = np.column_stack([p["std"].to_numpy() for p, _, _ in ok])
        lo, hi = (est - 1.96 * se) * std / est, (est + 1.96 * se) * std / est
        lo, hi = np.minimum(lo, hi), np.maximum(lo, hi)
        t_ = truth.to_numpy()[:, None]
        first = np.mean([p.loc[drivers, "std"].idxmax() == top for p, _, _ in ok])
        reject = np.mean([p < 0.05 for _, p, _ in ok])
        t = pd.DataFrame({"mean std": std.mean(axis=1), "truth": truth.to_numpy(),
                          "rel. bias": std.mean(axis=1) / truth.to_numpy() - 1,
                          "coverage": ((lo <= t_) & (hi >= t_)).mean(axis=1)}, index=truth.index)
        print(f"== {name}: {len(ok)} of {a.reps} admissible; true top driver first in {first:.3f}; correct model "
              f"rejected at 5% in {reject:.3f}")
        print(t.round(3).to_string(), "\n")


if __name__ == "__main__":
    main()
