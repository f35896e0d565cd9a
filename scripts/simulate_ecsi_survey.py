"""Write the SIMULATED third questionnaire, an English ECSI-type survey of a pension office:
data/raw/ecsi_example/export.csv — answer columns only (no id, times, demographics or personal
data), headers "CODE — question", 1-10 scores skewed to the top, ~2% blank cells and 8
respondents who left more than a third of the items blank — and truth.json.

Population model (ECSI, standardized): EXPE ~ IMAG; QUAL ~ EXPE; VAL ~ EXPE + QUAL;
SAT ~ IMAG + EXPE + QUAL + VAL; COMP ~ SAT; LOY ~ IMAG + SAT + COMP. Each answer discretizes a
latent-normal response (item intercept + loading * factor + error) at fixed thresholds.

    python scripts/simulate_ecsi_survey.py [OUT_DIR]   # byte-identical on every run
"""

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import norm

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data/raw/ecsi_example"
SEED = 2025
N_GENUINE = 342
N_INCOMPLETE = 8                     # leave 9-14 of the 24 items blank (> 1/3)
P_BLANK = 0.02                       # blank cells among the genuine respondents

CONSTRUCTS = ["IMAG", "EXPE", "QUAL", "VAL", "SAT", "COMP", "LOY"]   # causal order
PATHS = {"EXPE": {"IMAG": 0.55},
         "QUAL": {"EXPE": 0.60},
         "VAL": {"EXPE": 0.15, "QUAL": 0.55},
         "SAT": {"IMAG": 0.30, "EXPE": 0.05, "QUAL": 0.35, "VAL": 0.30},
         "COMP": {"SAT": 0.50},
         "LOY": {"IMAG": 0.20, "SAT": 0.50, "COMP": 0.15}}
# code -> (question text, standardized loading); export column order. COMP1 is the single
# indicator of COMP: its latent response is the factor itself (loading 1).
ITEMS = {
    "IMAG1": ("The pension office is trustworthy", 0.85),
    "IMAG2": ("The pension office is stable and well established", 0.75),
    "IMAG3": ("The pension office makes an important contribution to society", 0.70),
    "IMAG4": ("The pension office cares about the people it serves", 0.85),
    "IMAG5": ("The pension office is modern and forward-looking", 0.75),
    "EXPE1": ("Before your contact: how high were your expectations of the office's overall quality?", 0.80),
    "EXPE2": ("Before your contact: how well did you expect the office to meet your personal needs?", 0.75),
    "EXPE3": ("Before your contact: how reliable did you expect the office to be?", 0.70),
    "QUAL1": ("Overall quality of the service you received", 0.90),
    "QUAL2": ("Competence and knowledge of the staff", 0.80),
    "QUAL3": ("Clear and accurate information about your pension or benefit", 0.80),
    "QUAL4": ("Decisions and payments are correct and on time", 0.75),
    "QUAL5": ("Time taken to process your application or request", 0.75),
    "QUAL6": ("Ease of reaching the office by phone / online / in person", 0.70),
    "QUAL7": ("Quality of the online self-service portal", 0.70),
    "VAL1": ("Service received for the time and effort it took you", 0.85),
    "VAL2": ("Service received in return for the contributions you pay", 0.80),
    "SAT1": ("Overall how satisfied are you with the pension office?", 0.90),
    "SAT2": ("To what extent did the office meet your expectations?", 0.85),
    "SAT3": ("How close is the office to an ideal public service?", 0.80),
    "COMP1": ("How well did the office handle your complaint or query (or how well would it)?", 1.0),
    "LOY1": ("I would speak positively about the pension office to others", 0.85),
    "LOY2": ("I would recommend the office's online services to friends and family", 0.80),
    "LOY3": ("If I had a choice I would use this office again", 0.75),
}
# answer shares of codes 1..10 at item intercept 0 (mean 7.56); thresholds are their normal quantiles
SHARES = [0.02, 0.02, 0.03, 0.04, 0.07, 0.08, 0.13, 0.20, 0.19, 0.22]
THRESHOLDS = norm.ppf(np.cumsum(SHARES)[:-1])


def implied_correlations() -> np.ndarray:
    """Latent correlations of the standardized population model (construct order)."""
    k = len(CONSTRUCTS)
    phi = np.eye(k)
    for i, c in enumerate(CONSTRUCTS[1:], start=1):
        b = np.array([PATHS[c].get(x, 0.0) for x in CONSTRUCTS[:i]])
        phi[i, :i] = phi[:i, i] = b @ phi[:i, :i]
    return phi


def main(out: Path = OUT) -> None:
    rng = np.random.default_rng(SEED)
    n = N_GENUINE + N_INCOMPLETE
    phi = implied_correlations()
    eta = {"IMAG": rng.standard_normal(n)}
    r2 = {}
    for c in CONSTRUCTS[1:]:
        r2[c] = float(sum(b * phi[CONSTRUCTS.index(c), CONSTRUCTS.index(x)] for x, b in PATHS[c].items()))
        eta[c] = sum(b * eta[x] for x, b in PATHS[c].items()) + rng.normal(0, np.sqrt(1 - r2[c]), n)
    intercepts = np.round(rng.uniform(-0.2, 0.2, len(ITEMS)), 2) + 0.0   # + 0.0: no -0.0
    answers = {}
    for (code, (text, lam)), mu in zip(ITEMS.items(), intercepts):
        ystar = mu + lam * eta[code.rstrip("0123456789")] + rng.normal(0, np.sqrt(1 - lam ** 2), n)
        answers[f"{code} — {text}"] = pd.array(1 + np.searchsorted(THRESHOLDS, ystar), dtype="Int64")
    frame = pd.DataFrame(answers)
    incomplete = np.sort(rng.choice(n, N_INCOMPLETE, replace=False))
    genuine = np.setdiff1d(np.arange(n), incomplete)
    blank = rng.random(frame.shape) < P_BLANK
    blank[incomplete] = False
    for r in incomplete:
        blank[r, rng.choice(len(ITEMS), rng.integers(9, 15), replace=False)] = True
    frame = frame.mask(blank)
    share = blank.mean(axis=1)
    assert share[genuine].max() <= 0.2 < share[incomplete].min(), "a planted row is misclassified"
    out.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out / "export.csv", index=False, encoding="utf-8", lineterminator="\n")
    truth = {
        "simulated": True, "seed": SEED, "n_rows": n, "n_genuine": N_GENUINE,
        "n_incomplete": N_INCOMPLETE,
        "incomplete_raw_rows": [int(r) + 2 for r in incomplete],   # spreadsheet rows, header = 1
        "blank_cell_share_genuine": P_BLANK,
        "loadings": {code: lam for code, (_, lam) in ITEMS.items()},
        "paths": PATHS,
        "r2": {c: round(v, 4) for c, v in r2.items()},
        "latent_correlations": {a: {b: round(float(phi[i, j]), 4) for j, b in enumerate(CONSTRUCTS)}
                                for i, a in enumerate(CONSTRUCTS)},
        "thresholds": [round(float(t), 4) for t in THRESHOLDS],
        "item_intercepts": dict(zip(ITEMS, intercepts.tolist())),
        "note": "standardized population values on the latent-normal responses; the 1-10 answers "
                "are these responses cut at the thresholds (plus each item's intercept)",
    }
    (out / "truth.json").write_text(json.dumps(truth, ensure_ascii=False, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
