"""Planning a study of many districts: `snakemake -n` of the pipeline with N districts (copies of
district B's entry, in a district table as docs/adapting.md advises for many districts) against a
trivial two-rule workflow with the same number of jobs, both run from a fresh copy, whole process,
in turns in one run. Prints the seconds, the job counts and the ratio (target: at most 2 at 1,000
districts). Also the time to parse the workflow for one job of one district, as each cluster job
does (target: at most 1.5 s), beside the same with the districts as YAML entries and a one-rule
workflow's (Snakemake's own start, the floor).

    python benchmarks/dag_scale.py [--districts 1000] [--repeats 1]
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def copy_project(dest: Path) -> None:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for f in files:
        (dest / f).parent.mkdir(parents=True, exist_ok=True)
        (dest / f).write_bytes((ROOT / f).read_bytes())


def timed(cmd, cwd) -> tuple[float, str]:
    t = time.perf_counter()
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    if r.returncode:
        sys.exit(r.stdout[-2000:] + r.stderr[-2000:])
    return time.perf_counter() - t, r.stdout


def jobs(out: str) -> int:
    m = re.search(r"^total\s+(\d+)", out, re.M)
    return int(m.group(1)) if m else -1


def files_per_job(proj: Path) -> tuple[float, float]:
    """Average inputs and outputs per job of the default configuration's dry run."""
    out = timed([str(BIN / "snakemake"), "-n", "--forceall", "--cores", "2"], proj)[1]
    ins = [len(m.split(", ")) for m in re.findall(r"\n    input: (.*)", out)]
    outs = [len(m.split(", ")) for m in re.findall(r"\n    output: (.*)", out)]
    n = len(re.findall(r"\n(?:local)?rule \w+:", out))
    return sum(ins) / n, sum(outs) / n


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--districts", type=int, default=1000)
    p.add_argument("--repeats", type=int, default=1)
    a = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proj = Path(tmp) / "proj"
        copy_project(proj)
        files_in, files_out = files_per_job(proj)       # of the default districts' jobs
        cfg = yaml.safe_load((proj / "config/config.yaml").read_text(encoding="utf-8"))
        entry = cfg["districts"]["district_b"]
        keys = sorted(entry)
        rows = ["\t".join(["district", "name", *keys])] + [
            "\t".join([f"d{i:04d}", f"District {i}", *(str(entry[k]) for k in keys)]) for i in range(a.districts)]
        (proj / "config/districts.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        cfg["districts"] = {}
        cfg["district_table"] = "config/districts.tsv"
        (proj / "config/config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
        as_yaml = Path(tmp) / "as_yaml.yaml"       # the same districts as YAML entries (--configfile)
        cfg_yaml = dict(cfg, districts={f"d{i:04d}": dict(entry, name=f"District {i}") for i in range(a.districts)})
        cfg_yaml["district_table"] = ""           # (merged over config.yaml: the table is not read)
        as_yaml.write_text(yaml.safe_dump(cfg_yaml, allow_unicode=True), encoding="utf-8")
        ours, out = [], ""
        for _ in range(a.repeats):
            s, out = timed([str(BIN / "snakemake"), "-n", "--cores", "2", "--quiet", "rules"], proj)
            ours.append(s)
        n = jobs(out)
        trivial = Path(tmp) / "trivial"
        trivial.mkdir()
        half = max(n // 2, 1)
        (trivial / "Snakefile").write_text(
            f"N = {half}\n"
            "rule all:\n    input: expand('b/{i}.txt', i=range(N))\n"
            "rule a:\n    output: 'a/{i}.txt'\n    shell: 'touch {output}'\n"
            "rule b:\n    input: 'a/{i}.txt'\n    output: 'b/{i}.txt'\n    shell: 'touch {output}'\n")
        theirs, tout = [], ""
        for _ in range(a.repeats):
            s, tout = timed([str(BIN / "snakemake"), "-n", "--cores", "2", "--quiet", "rules"], trivial)
            theirs.append(s)
        # the same two rules with as many files per job as ours: what Snakemake itself costs per file
        k_out, k_in = max(round(files_out), 1), max(round(2 * files_in), 1)
        matched = Path(tmp) / "matched"
        matched.mkdir()
        (matched / "Snakefile").write_text(
            f"N = {half}\n"
            "rule all:\n    input: expand('b/{i}_0.txt', i=range(N))\n"
            f"rule a:\n    output: expand('a/{{{{i}}}}_{{j}}.txt', j=range({k_out}))\n    shell: 'touch {{output}}'\n"
            f"rule b:\n    input: lambda w: [f'a/{{(int(w.i) + k) % N}}_{{j}}.txt' for k in range({k_in // k_out + 1})"
            f" for j in range({k_out})][:{k_in}]\n"
            f"    output: expand('b/{{{{i}}}}_{{j}}.txt', j=range({k_out}))\n    shell: 'touch {{output}}'\n")
        same = min(timed([str(BIN / "snakemake"), "-n", "--cores", "2", "--quiet", "rules"], matched)[0]
                   for _ in range(a.repeats))
        # one cluster job: parse the workflow and run nothing (its target is up to date or absent)
        job = [str(BIN / "snakemake"), "results/d0000/data/flow.json", "-n", "--cores", "1", "--quiet", "rules"]
        one = min(timed(job, proj)[0] for _ in range(a.repeats))
        one_yaml = min(timed(job + ["--configfile", str(as_yaml)], proj)[0] for _ in range(a.repeats))
        floor_dir = Path(tmp) / "one_rule"
        floor_dir.mkdir()
        (floor_dir / "Snakefile").write_text("rule a:\n    output: 'a.txt'\n    shell: 'touch {output}'\n")
        floor = min(timed([str(BIN / "snakemake"), "a.txt", "-n", "--cores", "1", "--quiet", "rules"], floor_dir)[0]
                    for _ in range(a.repeats))
    print(f"dry run, {a.districts} districts: {min(ours):.2f} s for {n} jobs")
    print(f"trivial two-rule workflow: {min(theirs):.2f} s for {jobs(tout)} jobs")
    print(f"ratio {min(ours) / min(theirs):.2f} (target <= 2)")
    print(f"the same two rules with our files per job ({files_in:.1f} inputs, {files_out:.1f} outputs on average; "
          f"theirs 0.5 and 1): {same:.2f} s, ratio {min(ours) / same:.2f}")
    print(f"parse + plan for one district's job: {one:.2f} s (target <= 1.5); with the districts as YAML "
          f"entries {one_yaml:.2f} s; a one-rule workflow's job {floor:.2f} s (ratio {one / floor:.2f})")


if __name__ == "__main__":
    main()
