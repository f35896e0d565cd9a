"""Hard ECSI-type optimizer cases: simulated 1-10 survey data on which an ML optimizer must
reach the optimum lavaan reaches (see tests/test_optimizer.py).

The European Customer Satisfaction Index model (image -> expectations -> perceived quality ->
perceived value -> satisfaction -> complaints -> loyalty, image also on satisfaction and
loyalty), 24 items in 7 constructs, n = 250. Continuous data from a population that the
model does not quite fit (cross-loadings, correlated errors, a missing path) are cut into
skewed 1-10 codes. Variants make the optimum harder to reach:

  base        the plain model
  collinear   expectations and quality correlate ~.97 (near-singular latent covariance)
  heywood     one value item almost error-free, the other weak: a negative residual variance
  weak        weak expectation items and a near-zero complaints -> loyalty path
  observed    complaints as an observed variable (COMP1 ~ SAT; LOY ~ ... + COMP1)
  hard        collinear + weak + heywood together
  misfit      collinear with stronger misspecification (chi-square 400-600 on 241 df, the
              size of the reported case: lavaan 573.68)

    python scripts/make_optimizer_cases.py survey [--seeds 0-59] [--variants ...] [--out F.csv]
        fit every case with csi and with lavaan (Rscript) and print chi-square, iterations,
        convergence and max |gradient| side by side (the evidence for the optimizer fix)
    python scripts/make_optimizer_cases.py fixtures
        write the cases used by tests/test_optimizer.py to tests/fixtures/lavaan/
        (NAME.csv, NAME.lavaan) and run scripts/lavaan_reference.R on each

Deterministic: numpy's default_rng(seed) per case.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests/fixtures/lavaan"

ITEMS = {"IMAG": 5, "EXPE": 3, "QUAL": 7, "VAL": 2, "SAT": 3, "LOY": 3, "COMP": 1}
LATENT = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "COMP", "LOY"]      # causal order

MODEL = """\
IMAG =~ IMAG1 + IMAG2 + IMAG3 + IMAG4 + IMAG5
EXPE =~ EXPE1 + EXPE2 + EXPE3
QUAL =~ QUAL1 + QUAL2 + QUAL3 + QUAL4 + QUAL5 + QUAL6 + QUAL7
VAL  =~ VAL1 + VAL2
SAT  =~ SAT1 + SAT2 + SAT3
LOY  =~ LOY1 + LOY2 + LOY3
COMP =~ COMP1
COMP1 ~~ 0*COMP1
EXPE ~ IMAG
QUAL ~ EXPE
VAL ~ EXPE + QUAL
SAT ~ IMAG + EXPE + QUAL + VAL
COMP ~ SAT
LOY ~ IMAG + SAT + COMP
"""

# The same model with the single-item complaint construct as its observed item.
MODEL_OBSERVED = "".join(line.replace("COMP ~", "COMP1 ~").replace("+ COMP\n", "+ COMP1\n")
                         for line in MODEL.splitlines(keepends=True) if not line.startswith(("COMP =~", "COMP1 ~~")))

VARIANTS = ["base", "collinear", "heywood", "weak", "observed", "hard", "misfit"]

# The cases committed as fixtures for tests/test_optimizer.py: (fixture name, variant, seed).
# Chosen from `survey` output as cases where csi's former optimizer (Fisher scoring with step
# halving) stopped short of lavaan's optimum, and where lavaan's own solution is precise
# (its estimates are the optimum's to 1e-4); see the docstring of tests/test_optimizer.py.
FIXTURES = [
    ("ecsi_weak", "weak", 1),               # was: 500-iteration cap at chi-square 304.79
    ("ecsi_heywood", "heywood", 0),         # was: stopped, not converged, at 965.55
    ("ecsi_collinear", "collinear", 4),     # was: 500-iteration cap at 749.79
]


def _paths(variant: str, rng) -> dict:
    """Standardized structural weights: {(to, from): beta} (the population has QUAL -> LOY too)."""
    b = {("EXPE", "IMAG"): 0.55, ("QUAL", "EXPE"): 0.70, ("VAL", "EXPE"): 0.15,
         ("VAL", "QUAL"): 0.55, ("SAT", "IMAG"): 0.20, ("SAT", "EXPE"): 0.05,
         ("SAT", "QUAL"): 0.40, ("SAT", "VAL"): 0.25, ("COMP", "SAT"): -0.45,
         ("LOY", "IMAG"): 0.20, ("LOY", "SAT"): 0.45, ("LOY", "COMP"): -0.15,
         ("LOY", "QUAL"): 0.12}                      # not in the fitted model: misfit
    if variant in ("collinear", "hard", "misfit"):
        b[("QUAL", "EXPE")] = 0.97
        b[("EXPE", "IMAG")] = 0.60
    if variant in ("weak", "hard"):
        b[("LOY", "COMP")] = -0.02
        b[("SAT", "EXPE")] = 0.0
    jitter = {k: v + rng.normal(0, 0.03) for k, v in b.items()}
    if variant in ("collinear", "hard", "misfit"):
        jitter[("QUAL", "EXPE")] = min(jitter[("QUAL", "EXPE")], 0.985)
    return jitter


def _loadings(variant: str, rng) -> dict:
    lam = {}
    for lv, k in ITEMS.items():
        lam[lv] = rng.uniform(0.62, 0.88, k)
    lam["COMP"] = np.array([1.0])
    if variant in ("heywood", "hard"):
        lam["VAL"] = np.array([0.995, 0.45])          # VAL1 almost error-free
    if variant in ("weak", "hard"):
        lam["EXPE"] = rng.uniform(0.30, 0.45, 3)      # weak items
        lam["IMAG"][4] = 0.25
    return lam


def simulate(variant: str, seed: int, n: int = 250) -> tuple[str, pd.DataFrame]:
    """(model text, data) for one case: integer codes 1-10, skewed toward the top."""
    rng = np.random.default_rng(seed)
    b = _paths(variant, rng)
    eta = {}
    for lv in LATENT:                       # standardized latent variables, causal order
        pred = [(f, w) for (t, f), w in b.items() if t == lv]
        if not pred:
            eta[lv] = rng.standard_normal(n)
            continue
        mean = sum(w * eta[f] for f, w in pred)
        # a disturbance that brings the variance to about 1 (from the linear predictor's
        # sample variance), then standardized
        v = float(np.var(mean))
        eta[lv] = mean + np.sqrt(max(1.0 - v, 0.01)) * rng.standard_normal(n)
        eta[lv] /= eta[lv].std()
    lam = _loadings(variant, rng)
    cols = {}
    for lv, k in ITEMS.items():
        for j in range(k):
            load = lam[lv][j]
            cols[f"{lv}{j + 1}"] = load * eta[lv] + np.sqrt(max(1 - load ** 2, 0.0)) * rng.standard_normal(n)
    # misfit: two cross-loadings and a pair of correlated errors (method effect)
    cols["SAT3"] += 0.25 * eta["QUAL"]
    cols["LOY3"] += 0.20 * eta["IMAG"]
    shared = rng.standard_normal(n)
    cols["QUAL6"] += 0.35 * shared
    cols["QUAL7"] += 0.35 * shared
    if variant == "misfit":
        # more: a halo on image, satisfaction and loyalty items; cross-loadings of a value,
        # an expectation and a quality item
        halo = rng.standard_normal(n)
        for k in (1, 2, 3):
            cols[f"IMAG{k}"] += 0.65 * halo
        for k in (1, 2):
            cols[f"SAT{k}"] += 0.50 * halo
            cols[f"LOY{k}"] += 0.50 * halo
        cols["VAL2"] += 0.45 * eta["QUAL"]
        cols["EXPE3"] += 0.40 * eta["SAT"]
        cols["QUAL1"] += 0.40 * eta["IMAG"]
    data = {}
    for name, z in cols.items():
        data[name] = _codes(z, rng)
    frame = pd.DataFrame(data)
    text = MODEL_OBSERVED if variant == "observed" else MODEL
    return text, frame


def _codes(z: np.ndarray, rng) -> np.ndarray:
    """Cut a continuous item into 1-10 codes, skewed toward the top (a beta(a, 1.3) share)."""
    a = rng.uniform(2.5, 4.0)                     # item-specific skew
    edges = np.linspace(0, 1, 11)[1:-1]
    cum = stats.beta.cdf(edges, a, 1.3)            # P(code <= k) for k = 1..9
    cuts = stats.norm.ppf(cum)
    zs = (z - z.mean()) / z.std()
    return 1 + np.searchsorted(cuts, zs)


# --- comparison with lavaan ----------------------------------------------------------------------
R_BATCH = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
cases <- read.csv(args[1], stringsAsFactors = FALSE)
out <- NULL
for (i in seq_len(nrow(cases))) {
  m <- paste(readLines(cases$model[i]), collapse = "\n")
  d <- read.csv(cases$data[i])
  t0 <- Sys.time()
  f <- tryCatch(sem(m, data = d, estimator = "ML"), error = function(e) NULL)
  el <- as.numeric(Sys.time() - t0, units = "secs")
  if (is.null(f)) {
    out <- rbind(out, data.frame(case = cases$case[i], chisq = NA, fmin = NA, iterations = NA,
                                 converged = FALSE, max_gradient = NA, seconds = el))
    next
  }
  conv <- lavInspect(f, "converged")
  fm <- if (conv) fitMeasures(f, c("chisq", "fmin")) else c(NA, NA)
  if (!conv) {   # lavaan's fmin at its last iterate, to compare even without convergence
    fm <- c(2 * nobs(f) * f@optim$fx, f@optim$fx)
  }
  # lavaan's gradient is of its objective, F_ML / 2: doubled here to compare with csi's
  out <- rbind(out, data.frame(case = cases$case[i], chisq = fm[1], fmin = fm[2],
                               iterations = lavInspect(f, "iterations"), converged = conv,
                               max_gradient = 2 * max(abs(lavInspect(f, "optim.gradient"))),
                               seconds = el))
}
write.csv(out, args[2], row.names = FALSE)
"""


def lavaan_batch(cases: list[tuple[str, str, pd.DataFrame]], tmp: Path) -> pd.DataFrame:
    rows = []
    for name, text, data in cases:
        (tmp / f"{name}.lavaan").write_text(text)
        data.to_csv(tmp / f"{name}.csv", index=False)
        rows.append(dict(case=name, model=str(tmp / f"{name}.lavaan"), data=str(tmp / f"{name}.csv")))
    pd.DataFrame(rows).to_csv(tmp / "cases.csv", index=False)
    (tmp / "batch.R").write_text(R_BATCH)
    subprocess.run(["Rscript", str(tmp / "batch.R"), str(tmp / "cases.csv"), str(tmp / "lavaan.csv")],
                   check=True)
    return pd.read_csv(tmp / "lavaan.csv").set_index("case")


def csi_fit(text: str, data: pd.DataFrame) -> dict:
    try:                      # the csi on the path (PYTHONPATH can point at another version)
        from csi import sem
    except ImportError:
        sys.path.append(str(ROOT / "src"))
        from csi import sem

    t0 = time.perf_counter()
    r = sem.estimate(text, data)
    return dict(chisq=r.measures["chisq"], converged=r.fit.converged, iterations=r.fit.iterations,
                grad=r.fit.grad_norm, admissible=r.measures["admissible"],
                route=getattr(r.fit, "start", ""), seconds=time.perf_counter() - t0)


def _seeds(spec: str) -> list[int]:
    out = []
    for part in spec.split(","):
        lo, _, hi = part.partition("-")
        out += list(range(int(lo), int(hi or lo) + 1))
    return out


def survey(variants: list[str], seeds: list[int], out: Path | None) -> pd.DataFrame:
    cases = [(f"{v}_{s}", *simulate(v, s)) for v in variants for s in seeds]
    with tempfile.TemporaryDirectory() as tmp:
        lav = lavaan_batch(cases, Path(tmp))
    rows = []
    for name, text, data in cases:
        c = csi_fit(text, data)
        L = lav.loc[name]
        rows.append(dict(case=name, csi_chisq=c["chisq"], lav_chisq=L["chisq"],
                         diff=c["chisq"] - L["chisq"], csi_conv=c["converged"],
                         lav_conv=bool(L["converged"]), csi_iter=c["iterations"],
                         lav_iter=L["iterations"], csi_grad=c["grad"], lav_grad=L["max_gradient"],
                         admissible=c["admissible"], route=c["route"], csi_s=c["seconds"],
                         lav_s=L["seconds"]))
    table = pd.DataFrame(rows)
    if out:
        table.to_csv(out, index=False)
    return table


def fixtures() -> None:
    for name, variant, seed in FIXTURES:
        text, data = simulate(variant, seed)
        header = (f"# ECSI-type model, simulated case '{variant}' seed {seed} "
                  "(scripts/make_optimizer_cases.py fixtures).\n")
        (FIX / f"{name}.lavaan").write_text(header + text)
        data.to_csv(FIX / f"{name}.csv", index=False)
        subprocess.run(["Rscript", str(ROOT / "scripts/lavaan_reference.R"), str(FIX / f"{name}.lavaan"),
                        str(FIX / f"{name}.csv"), str(FIX / name)], check=True)
        for extra in ("reliability", "htmt", "htmt2"):    # semTools' outputs: not used here
            (FIX / f"{name}.{extra}.csv").unlink(missing_ok=True)
        print("wrote", FIX / name)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("survey")
    s.add_argument("--variants", nargs="+", default=VARIANTS, choices=VARIANTS)
    s.add_argument("--seeds", default="0-19")
    s.add_argument("--out", type=Path)
    sub.add_parser("fixtures")
    a = p.parse_args()
    if a.cmd == "survey":
        pd.set_option("display.width", 200)
        pd.set_option("display.max_rows", 500)
        t = survey(a.variants, _seeds(a.seeds), a.out)
        print(t.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        bad = t[(t["diff"] > 1e-3) | (~t["csi_conv"] & t["lav_conv"])]
        print(f"\n{len(bad)} of {len(t)} cases: csi above lavaan's chi-square by > 1e-3, or not "
              "converged where lavaan says it converged (lav_grad: lavaan's max |gradient| of F_ML)")
    else:
        fixtures()


if __name__ == "__main__":
    main()
