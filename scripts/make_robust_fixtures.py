"""lavaan reference fixtures for the robust estimators and FIML (tests/test_robust.py).

    python scripts/make_robust_fixtures.py            # needs Rscript with lavaan 0.6

1. holzinger1939_missing.csv: HolzingerSwineford1939 (holzinger1939.csv) with cells of the
   model variables x1-x9 deleted at random: 30% of the rows, each of their nine cells with
   probability 1/3 (at least one), so about 10% of the cells (numpy default_rng(1939)).
2. scripts/lavaan_reference.R on each CASE below, writing NAME.estimates.csv and NAME.fit.csv
   (and for the cases in BOOTSTRAP, NAME.boot_se.csv: lavaan's bootstrap SEs, set.seed(1);
   lavaan takes about 5 minutes for those 1000 FIML refits).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
FIX = ROOT / "tests/fixtures/lavaan"
ITEMS = [f"x{i}" for i in range(1, 10)]

# fixture name: (model, data, estimator, missing)
CASES = {
    "political_democracy_mlm": ("political_democracy", "political_democracy", "MLM", "listwise"),
    "political_democracy_mlr": ("political_democracy", "political_democracy", "MLR", "listwise"),
    "political_democracy_fiml": ("political_democracy", "political_democracy", "ML", "ml"),
    "political_democracy_mlr_fiml": ("political_democracy", "political_democracy", "MLR", "ml"),
    "holzinger1939_mlm": ("holzinger1939", "holzinger1939", "MLM", "listwise"),
    "holzinger1939_mlr": ("holzinger1939", "holzinger1939", "MLR", "listwise"),
    "holzinger1939_missing_fiml": ("holzinger1939", "holzinger1939_missing", "ML", "ml"),
    "holzinger1939_missing_mlr_fiml": ("holzinger1939", "holzinger1939_missing", "MLR", "ml"),
    "holzinger1939_mimic_mlm": ("holzinger1939_mimic", "holzinger1939_mimic", "MLM", "listwise"),
    "holzinger1939_mimic_mlr": ("holzinger1939_mimic", "holzinger1939_mimic", "MLR", "listwise"),
    "regression_mlm": ("regression", "regression", "MLM", "listwise"),
    "regression_mlr": ("regression", "regression", "MLR", "listwise"),
    "chengdu_a_mlm": ("chengdu_a", "chengdu_a", "MLM", "listwise"),
    "chengdu_a_mlr": ("chengdu_a", "chengdu_a", "MLR", "listwise"),
    "chengdu_a_fiml": ("chengdu_a", "chengdu_a", "ML", "ml"),
    "chengdu_a_mlr_fiml": ("chengdu_a", "chengdu_a", "MLR", "ml"),
}
BOOTSTRAP = {"holzinger1939_missing_fiml": 1000}     # fixture name: draws


def missing_cells() -> pd.DataFrame:
    d = pd.read_csv(FIX / "holzinger1939.csv")
    rng = np.random.default_rng(1939)
    rows = rng.choice(len(d), size=round(0.3 * len(d)), replace=False)
    for r in sorted(rows):
        drop = rng.random(len(ITEMS)) < 1 / 3
        if not drop.any():
            drop[rng.integers(len(ITEMS))] = True
        d.loc[r, [c for c, k in zip(ITEMS, drop) if k]] = np.nan
    return d


def main() -> None:
    d = missing_cells()
    d.to_csv(FIX / "holzinger1939_missing.csv", index=False)
    cells = d[ITEMS].isna().to_numpy()
    print(f"holzinger1939_missing.csv: {cells.any(axis=1).sum()} of {len(d)} rows incomplete, "
          f"{cells.mean():.1%} of the item cells missing")
    for name, (model, data, estimator, missing) in CASES.items():
        draws = [str(BOOTSTRAP[name])] if name in BOOTSTRAP else []
        subprocess.run(["Rscript", str(ROOT / "scripts/lavaan_reference.R"), str(FIX / f"{model}.lavaan"),
                        str(FIX / f"{data}.csv"), str(FIX / name), *draws, f"--estimator={estimator}",
                        f"--missing={missing}"], check=True)
        print(name)


if __name__ == "__main__":
    main()
