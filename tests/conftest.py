import csv
import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config/config.yaml").read_text())
DISTRICTS = list(CONFIG["districts"])
COMPARED = [d for d in DISTRICTS
            if CONFIG["districts"][d]["codebook"] == CONFIG["districts"][DISTRICTS[0]]["codebook"]]


def sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()
CODEBOOK = ROOT / "data/codebooks/ssa_service_2021.yaml"
RAW_A = ROOT / "data/raw/chengdu_a/export.xlsx"


@pytest.fixture(scope="session")
def raw_a():
    from csi import exports

    return exports.read(RAW_A).frame


@pytest.fixture
def small_rows(raw_a):
    """Header and the first 40 responses of district A, cells as exported."""
    head = raw_a.head(40)
    return list(head.columns), [list(r) for r in head.itertuples(index=False)]


def write_csv(path, header, rows, encoding="utf-8"):
    with open(path, "w", newline="", encoding=encoding) as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows([["" if v is None else v for v in r] for r in rows])
    return path


def write_xlsx(path, header, rows):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


@pytest.fixture
def cli(tmp_path, capsys):
    """Run `csi validate` in-process; return (exit code, stderr, output paths)."""
    from csi.cli import main

    def run(raw, codebook=CODEBOOK, *extra):
        out = tmp_path / "out"
        paths = {k: out / n for k, n in (("coded", "coded.parquet"), ("recoded", "recoded.csv"),
                                          ("report", "validation.json"))}
        code = main(["validate", str(raw), "--codebook", str(codebook),
                     "--coded", str(paths["coded"]), "--recoded", str(paths["recoded"]),
                     "--report", str(paths["report"]), "--salt-file", str(tmp_path / "salt"), *extra])
        return code, capsys.readouterr().err, paths

    return run


def project_copy(dest: Path) -> Path:
    """A copy of the tracked project files (a stand-in for a fresh clone)."""
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                           check=True).stdout.split()
    for f in files:
        src = ROOT / f
        target = dest / f
        target.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            target.symlink_to(src.readlink())
        else:
            shutil.copy2(src, target)
    return dest


def venv_env() -> dict:
    """The environment with this venv's bin/ first on PATH, as `make` sets it."""
    import os

    bin_dir = Path(sys.executable).parent
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


def snakemake(*args, cwd):
    """Run the environment's snakemake; its rules find `csi` on PATH as under `make`."""
    return subprocess.run([str(Path(sys.executable).parent / "snakemake"), *args], cwd=cwd,
                          capture_output=True, text=True, env=venv_env())
