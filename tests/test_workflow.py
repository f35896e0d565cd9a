"""The Snakemake workflow without a full run: lint, dry run, refused and failing inputs. (Apart
from test_pipeline.py so that pytest-xdist runs them beside the long pipeline run.)"""

import pytest
import yaml

from conftest import COMPARED, DISTRICTS, ROOT, project_copy, sha, snakemake

pytestmark = pytest.mark.slow


def test_lint_is_clean():
    r = snakemake("--lint", cwd=ROOT)
    assert r.returncode == 0 and "Congratulations" in r.stdout + r.stderr, r.stdout + r.stderr


def test_dry_run_plans_every_district(tmp_path):
    proj = project_copy(tmp_path)
    r = snakemake("-n", cwd=proj)
    assert r.returncode == 0, r.stderr
    counts = dict(line.split()[:2] for line in r.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit())
    assert counts["validate"] == counts["clean"] == str(len(DISTRICTS))
    for rule in ("describe", "model", "notebook_sample", "notebook_measurement",
                 "notebook_structural"):
        assert counts[rule] == str(len(DISTRICTS)), rule
    assert counts["compare"] == "1" and counts["invariance_type"] == str(len(COMPARED))


def _commands(proj, *args):
    r = snakemake("-n", "-p", *args, cwd=proj)
    assert r.returncode == 0, r.stderr
    return [line for line in r.stdout.splitlines() if line.startswith("Shell command: csi")]


def test_threads_come_from_the_config_and_the_comparison_reads_a_file(tmp_path):
    """A cluster job and the submitting side must agree on a rule's threads: they come from the
    config, not from --cores. The comparison's districts come from a file (any number of them)."""
    proj = project_copy(tmp_path)
    commands = _commands(proj, "--cores", "8")          # 8 cores, 6 districts: still 1 (the config's)
    models = [c for c in commands if " fit " in c]
    assert len(models) == len(DISTRICTS) and all(c.endswith("--jobs 1") for c in models)
    (proj / "two.yaml").write_text("threads: {bootstrap: 2}\n")
    models = [c for c in _commands(proj, "--cores", "8", "--configfile", "config/config.yaml", "two.yaml")
              if " fit " in c]
    assert len(models) == len(DISTRICTS) and all(c.endswith("--jobs 2") for c in models)
    (compare,) = [c for c in commands if " compare " in c]
    assert "--districts results/comparison/districts.tsv" in compare and "--district " not in compare
    assert snakemake("--cores", "1", "results/comparison/districts.tsv", cwd=proj).returncode == 0
    rows = (proj / "results/comparison/districts.tsv").read_text("utf-8").splitlines()
    assert rows[0] == "district\tresults\ttitle" and [r.split("\t")[0] for r in rows[1:]] == COMPARED


def test_a_district_list_file_is_read_or_refused(tmp_path):
    from csi import compare
    from csi.errors import CSIError

    f = tmp_path / "districts.tsv"
    f.write_text("district\tresults\ttitle\n" + "".join(f"d{i}\tresults/d{i}\tD {i}\n" for i in range(1500)))
    folders, titles = compare.read_district_list(f)
    assert len(folders) == 1500 and titles["d7"] == "D 7"
    f.write_text("district\tresults\ttitle\nd1\n")
    with pytest.raises(CSIError, match="line 2"):
        compare.read_district_list(f)


def test_unknown_district_is_refused():
    r = snakemake("-n", "--config", 'analyse=["nowhere"]', cwd=ROOT)
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "nowhere" in out and "config/config.yaml" in out and "districts" in out


def test_a_failing_district_leaves_no_outputs(tmp_path):
    proj = project_copy(tmp_path / "proj")
    (proj / "data/raw/broken").mkdir()
    (proj / "data/raw/broken/export.csv").write_bytes("序号,x\n1,2\n".encode("gbk"))
    cfg = yaml.safe_load((proj / "config/config.yaml").read_text())
    cfg["districts"] = {"broken": {"raw": "data/raw/broken/export.csv",
                                   "codebook": "data/codebooks/ssa_service_2021.yaml"}}
    (proj / "config/config.yaml").write_text(yaml.safe_dump(cfg, allow_unicode=True))
    r = snakemake("--cores", "1", cwd=proj)
    assert r.returncode != 0
    log = (proj / "results/broken/logs/validate.log").read_text()
    assert "export.csv" in log and "What to do:" in log
    console = r.stdout + r.stderr                   # the message reaches the person, not only the log
    assert "GBK/GB18030" in console and "set `encoding: gb18030`" in console and "Traceback" not in console
    assert not (proj / "results/broken/data").exists() or not any((proj / "results/broken/data").iterdir())


@pytest.mark.parametrize("script,district", [("simulate_county_survey.py", "county_x"),
                                             ("simulate_ecsi_survey.py", "ecsi_example")])
def test_other_questionnaire_generators_are_byte_identical(tmp_path, script, district):
    import subprocess
    import sys

    subprocess.run([sys.executable, str(ROOT / "scripts" / script), str(tmp_path)], check=True)
    for name in ("export.csv", "truth.json"):
        assert sha(tmp_path / name) == sha(ROOT / "data/raw" / district / name), name


def test_districts_from_a_table_plan_the_same_commands_as_from_the_yaml(tmp_path):
    """The same districts, moved from `districts:` into a district table (config `district_table`),
    give the same jobs and the same commands."""
    import yaml

    proj = project_copy(tmp_path / "yaml")
    before = _commands(proj, "--cores", "2")
    table_proj = project_copy(tmp_path / "table")
    config = table_proj / "config/config.yaml"
    cfg = yaml.safe_load(config.read_text("utf-8"))
    moved = {d: e for d, e in cfg["districts"].items() if d != DISTRICTS[0]}
    keys = sorted({k for e in moved.values() for k in e})
    lines = ["\t".join(["district", *keys])]
    for d, e in moved.items():
        cells = [",".join(map(str, e[k])) if isinstance(e.get(k), list) else str(e.get(k, "")) for k in keys]
        lines.append("\t".join([d, *cells]))
    (table_proj / "config/districts.tsv").write_text("\n".join(lines) + "\n", "utf-8")
    cfg["districts"] = {DISTRICTS[0]: cfg["districts"][DISTRICTS[0]]}
    cfg["district_table"] = "config/districts.tsv"
    config.write_text(yaml.safe_dump(cfg, allow_unicode=True, sort_keys=False), "utf-8")
    assert sorted(_commands(table_proj, "--cores", "2")) == sorted(before) and len(before) > 30


@pytest.mark.parametrize(("table", "says"), [
    ("district\traw\tcodebook\tcolour\nx\ta.csv\tb.yaml\tred\n", ["'colour' are not district keys", "row 1"]),
    ("district\traw\tcodebook\nx\ta.csv\tb.yaml\nx\tc.csv\tb.yaml\n", ["'x' appears twice", "rows 2 and 3"]),
    ("district\traw\tcodebook\theader_row\nx\ta.csv\tb.yaml\ttwo\n", ["row 2: header_row 'two'"]),
    ("district\traw\tcodebook\nx\ta.csv\n", ["row 2 has 2 fields, the header 3"]),
])
def test_a_bad_district_table_is_refused_with_its_row(tmp_path, table, says):
    from csi import districts
    from csi.errors import CSIError

    path = tmp_path / "districts.tsv"
    path.write_text(table, "utf-8")
    with pytest.raises(CSIError) as e:
        districts.read_table(path)
    assert all(s in str(e.value) for s in says), str(e.value)


def test_validate_asks_for_memory_by_the_size_of_its_export(tmp_path):
    """mem_mb of validate = 512 + 5 x its inputs' MiB (measured: 1.93 GiB for a 435 MB export,
    benchmarks/validate_scale.py): a larger export asks for more, on the submitting side and in the job."""
    proj = project_copy(tmp_path)
    big = proj / "data/raw/county_x/export.csv"
    big.write_bytes(big.read_bytes() + b"\n" * (60 * 2**20))       # 60 MiB more (blank lines)
    r = snakemake("-n", "--cores", "1", "--forcerun", "validate", cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    asked = {}
    for block in r.stdout.split("rule validate:")[1:]:
        district = block.split("district=")[1].split()[0].rstrip(",")
        asked[district] = int(block.split("mem_mb=")[1].split(",")[0])
    assert asked["county_x"] >= 512 + 5 * 60 and all(v < 600 for d, v in asked.items() if d != "county_x"), asked
