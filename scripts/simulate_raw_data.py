"""Regenerate the SIMULATED raw exports under data/raw/ (byte-identical for the same spec).

    python scripts/simulate_raw_data.py            # all districts in config/simulation.yaml
    python scripts/simulate_raw_data.py chengdu_a  # one district
"""

import sys

from csi.cli import main

if __name__ == "__main__":
    districts = [a for d in sys.argv[1:] for a in ("--district", d)]
    sys.exit(main(["simulate", "--spec", "config/simulation.yaml", "--out", "data/raw", *districts]))
