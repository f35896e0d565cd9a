"""Rewrite environment.yml from requirements.in and requirements.lock (run by `make lock`).

conda-forge gets every top-level package at its locked version; those not on conda-forge
(semopy, typst, mplfonts) go under pip.
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PIP_ONLY = {"semopy", "typst", "mplfonts"}


def norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def main() -> None:
    lock = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = line.split("==")
            lock[norm(name)] = version
    top = []
    for line in (ROOT / "requirements.in").read_text().splitlines():
        name = re.split(r"[=<>~!;\s#]", line.strip(), maxsplit=1)[0]
        if name:
            top.append(norm(name))
    conda = [f"  - {n}={lock[n]}" for n in top if n not in PIP_ONLY]
    pip = [f"      - {n}=={lock[n]}" for n in top if n in PIP_ONLY]
    text = ("# Conda alternative to `make setup` (conda-forge). Same packages and versions as\n"
            "# requirements.lock (written by scripts/sync_environment_yml.py; a test checks it).\n"
            "#   conda env create -f environment.yml\n"
            "name: csi\nchannels:\n  - conda-forge\n  - nodefaults\ndependencies:\n  - python=3.11\n"
            + "\n".join(conda) + "\n  - pip\n  - pip:\n" + "\n".join(pip) + "\n      - -e .\n")
    (ROOT / "environment.yml").write_text(text)


if __name__ == "__main__":
    main()
