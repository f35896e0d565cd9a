"""The study on a SLURM cluster (profiles/slurm) gives the same tables as a local run. Runs where
`sinfo` answers (e.g. after `scripts/local_slurm.sh start`) and CSI_TEST_SLURM=1 is set (it takes
~4 minutes, more than `make test` can spend); skipped, with the reason, elsewhere."""

import os
import shutil
import subprocess

import pytest

from conftest import project_copy, sha, snakemake

pytestmark = pytest.mark.slow
SMALL = ["--config", "bootstrap=20", 'analyse=["district_b","district_c"]']


def _sinfo() -> str | None:
    if os.environ.get("CSI_TEST_SLURM") != "1":
        return "the SLURM test runs with CSI_TEST_SLURM=1 (about 4 minutes; needs a cluster, see scripts/local_slurm.sh)"
    if not shutil.which("sinfo"):
        return "no SLURM here (sinfo not found): start one with scripts/local_slurm.sh"
    r = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True, timeout=20)
    if r.returncode != 0 or not any(s in r.stdout for s in ("idle", "mixed", "alloc")):
        return f"sinfo does not answer with a usable node ({(r.stderr or r.stdout).strip()[:120]})"
    return None


@pytest.mark.skipif(_sinfo() is not None, reason=str(_sinfo()))
def test_cluster_run_equals_local_run(tmp_path):
    local, cluster = project_copy(tmp_path / "local"), project_copy(tmp_path / "cluster")
    for proj in (local, cluster):        # one salt, as one study folder would have
        (proj / ".secrets").mkdir()
        (proj / ".secrets/pseudonym-salt").write_bytes(b"test-salt-0123456789abcdef")
    r = snakemake("--cores", "2", *SMALL, cwd=local)
    assert r.returncode == 0, r.stderr[-3000:]
    r = snakemake("--profile", "profiles/slurm", *SMALL, cwd=cluster)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert "submitted with SLURM jobid" in r.stdout + r.stderr
    # every table, JSON and parquet equal byte for byte (notebooks and PDFs hold run times)
    files = sorted(p.relative_to(local) for p in (local / "results").rglob("*")
                   if p.suffix in (".csv", ".json", ".parquet") and "logs" not in p.parts)
    assert len(files) > 60
    differ = [str(f) for f in files if sha(local / f) != sha(cluster / f)]
    assert not differ, differ
