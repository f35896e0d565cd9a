"""The Snakemake workflow, run as a user would, in a copy of the tracked project files."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from csi import codebook, methods
import browser
import conftest
from conftest import ROOT, project_copy, sha, snakemake, venv_env

pytestmark = pytest.mark.slow

# The last of the same-design districts is left out of this run: it adds a sixth of the run time and
# no case the others lack (three districts still make a comparison).
LEFT_OUT = conftest.COMPARED[-1]
CONFIG = {**conftest.CONFIG, "districts": {d: c for d, c in conftest.CONFIG["districts"].items() if d != LEFT_OUT}}
DISTRICTS = [d for d in conftest.DISTRICTS if d != LEFT_OUT]
COMPARED = [d for d in conftest.COMPARED if d != LEFT_OUT]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    proj = project_copy(tmp_path_factory.mktemp("proj"))
    config = proj / "config/config.yaml"
    text = re.sub(rf"(?m)^  {LEFT_OUT}:\n(?:    .*\n)+", "", config.read_text("utf-8"))
    assert yaml.safe_load(text)["districts"] == CONFIG["districts"]
    config.write_text(text, "utf-8")
    # a quarter of a small rating stream (3 monthly partitions) keeps its part of the run short
    spec_file = proj / "config/evaluations_simulation.yaml"
    spec = yaml.safe_load(spec_file.read_text(encoding="utf-8"))
    spec.update(ratings_per_day=120, period={"start": "2021-04-01", "end": "2021-06-30"})
    spec_file.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    before = {p: sha(p) for p in (proj / "data/raw").rglob("*") if p.is_file()}
    # a small bootstrap keeps the test short; the default (1000) runs under `make`
    r = snakemake("--cores", "2", "--config", "bootstrap=30", cwd=proj)
    assert r.returncode == 0, r.stderr[-3000:]
    return proj, before


def test_every_district_gets_its_data_outputs(run):
    proj, _ = run
    for d in DISTRICTS:
        data = proj / "results" / d / "data"
        flow = json.loads((data / "flow.json").read_text())
        truth = json.loads((proj / "data/raw" / d / "truth.json").read_text())
        assert flow["kept"] == truth["n_genuine"] == len(pd.read_parquet(data / "clean.parquet"))
        excl = pd.read_csv(data / "exclusions.csv")
        assert flow["raw_rows"] == flow["kept"] + len(excl)
        assert excl.groupby("reason").size().to_dict() == {
            s["step"]: s["excluded"] for s in flow["steps"] if s["excluded"]}
        assert (proj / "results" / d / "logs/clean.log").exists()


def test_every_district_gets_model_notebooks_figures_and_tables(run):
    proj, _ = run
    for d in DISTRICTS:
        res = proj / "results" / d
        fit = json.loads((res / "model/fit.json").read_text())
        assert fit["converged"] and fit["admissible"] and fit["n"] > 200 and fit["bootstrap"]["B"] == 30
        est = pd.read_csv(res / "model/estimates.csv")
        assert {"=~", "~", "~~", ":="} <= set(est["op"])
        for nb in ("01_sample", "02_measurement", "03_structural"):
            executed = json.loads((res / "notebooks" / f"{nb}.ipynb").read_text())
            code = [c for c in executed["cells"] if c["cell_type"] == "code"]
            assert all(c["execution_count"] for c in code)
            assert not [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
            # figures shown inline, not a list of paths
            outputs = [o for c in code for o in c.get("outputs", [])]
            assert any("image/png" in o.get("data", {}) for o in outputs), nb
            assert "PosixPath" not in json.dumps(outputs), nb
        for fig in ("top_box_by_type", "likert", "htmt", "path_diagram", "ipma"):
            assert (res / "figures" / f"{fig}.png").stat().st_size > 10_000
            assert (res / "figures" / f"{fig}.pdf").exists()
        for table in ("top_box", "reliability", "htmt", "vif", "item_stats"):
            assert len(pd.read_csv(res / "tables" / f"{table}.csv")) > 0


def test_the_rating_stream_is_analysed_where_a_district_names_one(run):
    proj, _ = run
    named = [d for d, c in CONFIG["districts"].items() if c.get("evaluations")]
    assert named
    for d in named:
        ev = proj / "results" / d / "evaluations"
        flow = json.loads((ev / "flow.json").read_text())
        # "none": the records whose time cannot be read, excluded with that reason
        assert json.loads((ev / "months.json").read_text())["months"] == ["2021-04", "2021-05", "2021-06", "none"]
        excluded = sum(s["excluded"] for s in flow["steps"])
        assert flow["raw_rows"] == flow["kept"] + excluded == flow["kept"] + len(pd.read_csv(ev / "exclusions.csv"))
        assert len(pd.read_csv(ev / "tables/rates_month.csv")) == 3
        nb = json.loads((proj / "results" / d / "notebooks/05_evaluations.ipynb").read_text())
        assert not [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert (proj / "results" / d / "figures/evaluations_control_windows.png").stat().st_size > 10_000


def test_districts_are_compared(run):
    """The simulated districts share thresholds and loadings (invariant by construction) and
    differ in true service quality: the comparison must say so."""
    proj, _ = run
    cmp = proj / "results/comparison"
    inv = pd.read_csv(cmp / "tables/invariance_districts.csv").set_index("model")
    assert inv.loc["scalar", "verdict"].startswith("scalar invariance holds")
    league = pd.read_csv(cmp / "tables/league.csv")
    assert set(league["district"]) == set(COMPARED) and league["comparable"].all()
    sat = league[league["construct"] == "SAT"].set_index("district")["index"]
    # district B was simulated better on every driver, district C worse
    assert sat["district_b"] > sat["chengdu_a"] > sat["district_c"]
    crit = pd.read_csv(cmp / "tables/criterion.csv")
    assert len(crit) == 14 * len(COMPARED) and (crit["criterion"] == 0.9).all()
    assert (crit["meets"] == (crit["rate"] >= 0.9)).all()
    nb = json.loads((cmp / "notebooks/04_districts.ipynb").read_text())
    assert not [o for c in nb["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    for d in COMPARED:
        by_type = pd.read_csv(proj / "results" / d / "model/invariance_respondent_type/invariance.csv")
        # every model item is an ordered category: WLSMV, thresholds tested before the loadings
        assert by_type["model"].tolist() == ["configural", "thresholds", "metric", "scalar"]
        assert set(by_type["estimator"]) == {"WLSMV"}
        assert "does NOT hold" not in by_type.loc[2, "verdict"]   # loadings invariant by construction
    inv = pd.read_csv(cmp / "tables/invariance_districts.csv")
    assert inv["model"].tolist() == ["configural", "thresholds", "metric", "scalar"]


def test_a_template_runs_as_a_reviewer_opens_it(run):
    """After `make`, a template runs top to bottom from notebooks/ with its default parameters
    (the executed copies under results/ show that every template runs with the rules' ones)."""
    import subprocess
    import sys

    proj, _ = run
    papermill = Path(sys.executable).parent / "papermill"
    results = {p: sha(p) for p in (proj / "results").rglob("*") if p.is_file()}
    for nb in [proj / "notebooks/03_structural.ipynb"]:
        out = proj / "scratch" / f"reviewer_{nb.name}"
        out.parent.mkdir(exist_ok=True)
        r = subprocess.run([str(papermill), str(nb), str(out), "-k", "python3", "--cwd", str(proj / "notebooks")],
                           capture_output=True, text=True)
        assert r.returncode == 0, r.stderr[-2000:]
    # run alone, a template writes its figures to scratch/, never over the pipeline's results
    assert {p: sha(p) for p in (proj / "results").rglob("*") if p.is_file()} == results
    assert (proj / "scratch/figures/path_diagram.png").stat().st_size > 10_000


def test_the_published_figures_are_set_beside_the_reproduction(run):
    """District A names the paper's figures (`published:`): the report sets each beside its
    estimate and CI and says which lie outside (the units' guide-sign rate, 97%, does here)."""
    proj, _ = run
    cal = pd.read_csv(proj / "results/chengdu_a/tables/calibration.csv")
    top = pd.read_csv(proj / "results/chengdu_a/tables/top_box.csv").set_index("item")
    row = cal[(cal["item"] == "loc_signs") & (cal["group"] == "unit")].iloc[0]
    assert row["published"] == 0.97 and row["estimate"] == top.loc["loc_signs", "rate_unit"]
    assert row["inside"] == (row["ci_lower"] <= 0.97 <= row["ci_upper"])
    text = (proj / "results/chengdu_a/report/report.typ").read_text("utf-8")
    outside = int((~cal["assumed"] & (cal["inside"] == False)).sum())   # noqa: E712
    assert f"{outside} {'lies' if outside == 1 else 'lie'} outside this reproduction's 95% CI" in text
    assert not (proj / "results/district_b/tables/calibration.csv").exists()   # no `published:` there


def test_a_rerun_notebook_is_the_same_bytes(run):
    """An executed notebook carries no run timings: rerun with the same inputs, it is byte-identical
    (and names no machine path)."""
    proj, _ = run
    nb = proj / "results/chengdu_a/notebooks/03_structural.ipynb"
    before = nb.read_bytes()
    text = before.decode("utf-8")
    assert "start_time" not in text and "iopub" not in text and str(proj) not in text
    # the target first: --config, --allowed-rules and --forcerun take every word after them
    r = snakemake(str(nb.relative_to(proj)), "--cores", "1", "--config", "bootstrap=30", "--allowed-rules",
                  "notebook_structural", "--forcerun", "notebook_structural", cwd=proj)
    assert "1 of 1 steps (100%) done" in r.stderr, r.stderr[-2000:]
    assert r.returncode == 0, r.stderr[-2000:]
    assert nb.read_bytes() == before


def test_published_rates_reproduced_in_the_top_box_table(run):
    """The seed paper's figures, read from the pipeline's own table for district A."""
    proj, _ = run
    spec = yaml.safe_load((ROOT / "config/simulation.yaml").read_text())
    top = pd.read_csv(proj / "results/chengdu_a/tables/top_box.csv").set_index("item")
    opts = pd.read_csv(proj / "results/chengdu_a/tables/options.csv").set_index("option")
    checks = []
    for item, t in spec["targets"].items():
        if "by_type" in t:
            checks += [(top.loc[item, f"rate_{g}"], p, top.loc[item, f"n_{g}"]) for g, p in t["by_type"].items()]
        elif "overall" in t and not t["source"].startswith("assumed"):
            checks.append((top.loc[item, "rate"], t["overall"], top.loc[item, "n"]))
        elif "categories" in t:   # 3-point items: satisfied = very + fair
            checks.append((top.loc[item, "rate"], t["categories"][3] + t["categories"][2], top.loc[item, "n"]))
    for g in ("unit", "individual"):
        checks.append((opts.loc["channel_online", f"rate_{g}"], spec["channels"]["channel_online"][g],
                       opts.loc["channel_online", f"n_{g}"]))
    assert len(checks) == 12
    for achieved, target, n in checks:
        assert abs(achieved - target) <= 3 * (target * (1 - target) / n) ** 0.5, (achieved, target, n)
    # the unit-vs-individual gaps the paper reports are detected
    for item in ("loc_signs", "loc_comfort", "inf_process"):
        assert top.loc[item, "p_value"] < 0.001


def test_raw_data_is_never_modified(run):
    proj, before = run
    assert before == {p: sha(p) for p in (proj / "data/raw").rglob("*") if p.is_file()}
    for d in DISTRICTS:
        flow = json.loads((proj / "results" / d / "data/flow.json").read_text())
        assert flow["raw_sha256"] == sha(ROOT / CONFIG["districts"][d]["raw"])


def test_no_personal_data_under_results(run):
    from csi import codebook, exports

    proj, _ = run
    names, tokens = set(), set()
    for d, entry in CONFIG["districts"].items():
        cb = codebook.load(ROOT / entry["codebook"])
        raw = exports.read(ROOT / entry["raw"], exports.Options.of(encoding=entry.get("encoding"))).frame
        for col in cb.role("pii"):
            values = {str(v) for v in raw[col.header].dropna()}
            if col.code == "name":
                names |= values
            else:
                tokens |= {v.split("(")[0] for v in values}
    assert len(tokens) > 3000 and len(names) > 500
    # every token (phone, ID number, IP address, staff id) is made of these characters, so it can only
    # occur inside a run of them: look up the runs' substrings instead of scanning for each token
    assert all(re.fullmatch(r"[0-9A-Za-z.]+", t) for t in tokens)
    runs = re.compile(r"[0-9A-Za-z.]{%d,}" % min(map(len, tokens)))
    lengths = sorted({len(t) for t in tokens})

    def leaks(text):
        found = set()
        for run in runs.findall(text):
            found |= {run[i:i + n] for n in lengths if n <= len(run) for i in range(len(run) - n + 1)} & tokens
        return found

    files = [p for p in (proj / "results").rglob("*") if p.is_file()]
    assert files
    for p in files:
        if p.suffix == ".parquet":
            frame = pd.read_parquet(p)
            cells = {str(v) for v in frame.astype(str).to_numpy().ravel()} | set(frame.columns)
            text = "\n".join(cells)
        elif p.suffix in (".png", ".pdf"):
            continue
        else:
            text = p.read_text("utf-8", errors="replace")
            text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", text)  # figures (PNGs)
            cells = set(text.replace(",", "\n").replace('"', "\n").split("\n"))
        leaked = sorted(leaks(text))
        assert not leaked, f"{p}: {leaked[:3]}"
        assert not (names & {c.strip() for c in cells}), f"{p}: a respondent's name"


def test_a_second_questionnaire_runs_with_no_code_change(run):
    """county_x: another platform's GB18030 CSV, 1-10 scores exported as numbers, no respondent
    type, other constructs and model; added through data, codebook, model and config only."""
    proj, _ = run
    res = proj / "results/county_x"
    truth = json.loads((ROOT / "data/raw/county_x/truth.json").read_text())
    flow = json.loads((res / "data/flow.json").read_text())
    assert flow["kept"] == truth["n_genuine"]
    assert {s["step"]: s["excluded"] for s in flow["steps"]}["duplicate"] == 10
    est = pd.read_csv(res / "model/estimates.csv").set_index(["lhs", "op", "rhs"])
    for src, beta in truth["structural"]["CS"].items():          # known simulated paths
        assert abs(est.loc[("CS", "~", src), "std_all"] - beta) < 0.12
    assert abs(est.loc[("LOY", "~", "CS"), "std_all"] - truth["structural"]["LOY"]["CS"]) < 0.08
    assert set(pd.read_csv(res / "model/index.csv")["construct"]) == {"ACC", "STF", "DIG", "CS", "LOY"}
    assert not (res / "model/invariance_respondent_type").exists()
    league = pd.read_csv(proj / "results/comparison/tables/league.csv")
    assert "county_x" not in set(league["district"])            # another design: not compared


def test_reports_build_and_their_key_numbers_are_the_results(run):
    """Each district's report is built from its result files: kept n, the satisfaction index
    and CFI printed in it equal the values in flow.json, index.csv and fit.json."""
    proj, _ = run
    for d in DISTRICTS:
        res = proj / "results" / d
        text = (res / "report/report.typ").read_text("utf-8")
        assert (res / "report/report.pdf").read_bytes()[:4] == b"%PDF"
        html = (res / "report/report.html").read_text("utf-8")
        assert f"{json.loads((res / 'data/flow.json').read_text())['kept']:,} were kept" in html
        assert html.count("<img") >= 3 and "<table" in html
        flow = json.loads((res / "data/flow.json").read_text())
        fit = json.loads((res / "model/fit.json").read_text())
        sat = CONFIG["districts"][d].get("satisfaction", CONFIG.get("satisfaction", "SAT"))
        index = pd.read_csv(res / "model/index.csv").set_index("construct").loc[sat, "index"]
        assert f"{flow['kept']:,} were kept" in text
        # the exclusion thresholds (config `clean:`, as flow.json records them)
        assert f"speeders, under {flow['rules']['min_duration_seconds']:g} s" in text
        assert f"more than {100 * flow['rules']['max_item_missing']:g}% of the items unanswered" in text
        assert f" index is {index:.1f}" in text
        # the estimator's CFI (robust where it has one), and the estimator with the reason it was chosen
        assert f"CFI = {methods.value(fit, 'cfi'):.3f}".replace("= 0.", "= .") in text     # APA: no leading zero
        # a model unstable under resampling says so (refits that failed or were inadmissible, >= 5%)
        b = fit["bootstrap"]
        bad = b["inadmissible"] + b["not_converged"]
        assert (f"{bad} of {b['drawn']} bootstrap refits" in text) == (bad >= 0.05 * b["drawn"])
        # the rating stream's section (report_evaluations), after the results, where `evaluations:` names one
        named = bool(CONFIG["districts"][d].get("evaluations"))
        assert ("= Service-evaluation stream" in text) == named
        if named:
            assert text.index("= Results") < text.index("= Service-evaluation stream") < text.index("= Limitations")
            assert "evaluations/tables/rates_month.csv" in text and "figures/evaluations_trend.png" in text
        assert f"Estimation: {methods.short_name(fit)}" in text
        if fit["choice"]["estimator_rule"] == "nonnormal":
            assert f"kurtosis z = {fit['choice']['mardia']['kurtosis_z']:.1f}" in text
        if fit["missing"] == "fiml":
            assert f"since {fit['choice']['incomplete']:,} respondents" in text
        has_profile = not pd.read_csv(res / "tables/profile.csv").empty
        for name in ("flow", "profile", "top_box", "reliability", "htmt", "fit", "paths", "index", "priorities"):
            if name == "profile" and not has_profile:
                continue
            assert (res / f"report/tables/{name}.csv").exists() and "\\toprule" in (
                res / f"report/tables/{name}.tex").read_text()
        # priorities within each respondent type (groups.py), where the codebook has types
        by_type = res / "model/by_respondent_type"
        assert by_type.exists() == (res / "model/invariance_respondent_type").exists()
        if by_type.exists():
            fits = pd.read_csv(by_type / "fit_by_group.csv")
            ipma = pd.read_csv(by_type / "ipma_by_group.csv")
            # a type the model cannot be fitted to alone (sparse answers) has a reason, said in the report
            ranked = set(ipma.loc[ipma["priority"].notna(), "group"].astype(str))
            assert ranked == set(fits.loc[fits["admissible"], "group"].astype(str))
            for g, n, why in zip(fits["group"], fits["n"], fits["reason"]):
                assert (str(g) in ranked) or (isinstance(why, str) and
                                              f"{str(g).capitalize()} (n = {n:,}): no priorities" in text)
            first = ipma[ipma["priority"] == 1].set_index("group")["driver"]
            book = codebook.load(ROOT / CONFIG["districts"][d]["codebook"])
            shown = pd.read_csv(res / "report/tables/priorities_type.csv")
            shown["Respondent type"] = shown["Respondent type"].ffill()     # named on a type's first row
            for g, n in zip(fits.loc[fits["admissible"], "group"], fits.loc[fits["admissible"], "n"]):
                rows = shown[shown["Respondent type"] == f"{str(g).capitalize()} (n = {n:,})"]
                assert rows["Driver"].iloc[0] == book.label(first[g], "en")
                assert list(rows["Priority"]) == list(range(1, len(rows) + 1)) and len(rows) == ipma["driver"].nunique()
            # the multiple-choice questions (channels used...), as tables/options.csv has them
            opts = pd.read_csv(res / "tables/options.csv")
            for q, t in opts.groupby("question"):
                published = pd.read_csv(res / f"report/tables/options_{q}.csv")
                assert list(published["Option"]) == list(t["label_en"])
                assert published.iloc[0, 2] == f"{100 * t['rate'].iloc[0]:.1f} [{100 * t['ci_lower'].iloc[0]:.1f}, " \
                                               f"{100 * t['ci_upper'].iloc[0]:.1f}]"


def test_comparison_report_and_league_in_district_reports(run):
    proj, _ = run
    comp = proj / "results/comparison/report"
    assert (comp / "report.pdf").read_bytes()[:4] == b"%PDF" and (comp / "report.html").exists()
    league = pd.read_csv(proj / "results/comparison/tables/league.csv")
    sat = league[league["construct"] == CONFIG.get("satisfaction", "SAT")]
    text = (comp / "report.typ").read_text("utf-8")
    for r in sat.itertuples():                        # every district's index, as in league.csv
        assert f"[{r.index:.1f}], [\\[{r.ci_lower:.1f},\u00a0{r.ci_upper:.1f}\\]]" in text      # CI on one line
    assert (comp / "tables/league.tex").exists() and (comp / "tables/invariance_districts.csv").exists()
    a = (proj / "results" / COMPARED[0] / "report/report.typ").read_text("utf-8")
    assert "comparison/tables/league.csv" in a and "invariance_respondent_type" in a
    # respondents' mix per district and the service rates standardized to one mix, as the tables hold them
    mix = pd.read_csv(proj / "results/comparison/tables/mix.csv")
    assert set(mix["district"]) == set(COMPARED) and mix.groupby("district")["share"].sum().round(9).eq(1).all()
    std = pd.read_csv(proj / "results/comparison/tables/standardized.csv")
    assert len(std) == 14 * len(COMPARED) and std["rate_std"].between(std["ci_lower_std"], std["ci_upper_std"]).all()
    shown = pd.read_csv(comp / "tables/standardized.csv")
    row = std.iloc[0]
    cell = shown.loc[shown.iloc[:, 0] == "Online platform ease of use", row["name"]].iloc[0]
    assert cell == f"{100 * row['rate']:.1f} → {100 * row['rate_std']:.1f}"
    assert "Fleiss et al., 2003" in text and "Wilson, 1927" in text and "Efron & Tibshirani, 1993" in text
    assert text.split("= Limitations")[1].split("= References")[0].count("\n- ") >= 4     # beyond one line


def test_published_cross_tabs_suppress_small_cells(run, tmp_path):
    """A category with n < min_cell in profile.csv, and a respondent type with n < min_cell for
    one indicator in top_box.csv, are published as '<10' with no share, CI or p; one more cell of
    each is hidden so that the totals do not give them away."""
    import shutil
    import subprocess

    proj, _ = run
    res = tmp_path / "results/chengdu_a"
    shutil.copytree(proj / "results/chengdu_a", res)
    shutil.rmtree(res / "evaluations")      # the survey's cross-tabs only (the stream's cells: test_report)
    prof = pd.read_csv(res / "tables/profile.csv")
    prof.loc[len(prof)] = ["gender", "Gender", "other", "其他", 3, 0.0031]
    prof.to_csv(res / "tables/profile.csv", index=False)
    top = pd.read_csv(res / "tables/top_box.csv")
    top.loc[0, "n_individual"] = 7
    top.to_csv(res / "tables/top_box.csv", index=False)
    r = subprocess.run(["csi", "report", "--results", str(res), "--codebook", str(ROOT / CONFIG["districts"]["chengdu_a"]["codebook"]),
                        "--title", "A", "--seed", "1", "--satisfaction", "SAT", "--out", str(res / "report")],
                       capture_output=True, text=True, env=venv_env())
    assert r.returncode == 0, r.stderr
    published = pd.read_csv(res / "report/tables/profile.csv", dtype=str)
    row = published[published["Category"] == "Other"].iloc[0]
    assert row["n"] == "<10" and pd.isna(row["%"])
    male = published[published["Category"] == "Male"].iloc[0]          # smallest other gender:
    assert pd.isna(male["n"]) and pd.isna(male["%"])                   # else "other" = total - rest
    typ = (res / "report/report.typ").read_text("utf-8")
    assert "[Other], [\\<10], [–]" in typ                      # n and share of the cell hidden
    rates = pd.read_csv(res / "report/tables/top_box.csv", dtype=str)
    assert rates.loc[0, "n (Individual)"] == "<10"
    assert pd.isna(rates.loc[0, "Individual, %"])
    assert pd.isna(rates.loc[0, "n (Unit)"]) and pd.isna(rates.loc[0, "Unit, %"])  # overall n is shown
    assert rates.loc[1, "n (Individual)"] != "<10"
    gaps = pd.read_csv(res / "report/tables/gaps.csv", dtype=str)     # the gap and p would reveal the cell
    assert pd.isna(gaps.iloc[0, 1]) and pd.isna(gaps.loc[0, "p (Holm)"])
    assert not pd.isna(gaps.iloc[1, 1]) and not pd.isna(gaps.loc[1, "p (Holm)"])
    assert "4 small subgroup cell(s) (n < 10) are suppressed" in typ


def test_chinese_report_uses_zh_labels_and_the_cjk_font(run):
    import subprocess

    from csi import codebook

    proj, _ = run
    res = proj / "results/chengdu_a"
    book = ROOT / CONFIG["districts"]["chengdu_a"]["codebook"]
    r = subprocess.run(["csi", "report", "--results", str(res), "--codebook", str(book),
                        "--title", CONFIG["districts"]["chengdu_a"]["name_zh"], "--seed", "1", "--language", "zh",
                        "--satisfaction", "SAT",
                        "--comparison", str(proj / "results/comparison"), "--out", str(res / "report_zh")],
                       capture_output=True, text=True, env=venv_env())
    assert r.returncode == 0, r.stderr
    cb = codebook.load(book)
    text = (res / "report_zh/report.typ").read_text("utf-8")
    html = (res / "report_zh/report.html").read_text("utf-8")
    for code in ("SAT", "LOC", "loc_online_ease"):
        assert cb.label(code, "zh") in text and cb.label(code, "zh") in html
    assert "摘要" in text and "Noto Serif CJK SC" in text
    assert "本报告数据为*模拟数据*" in text                  # the abstract says the data are simulated
    # the estimation notes and a skipped cleaning step's reason are said in Chinese, not in English
    fit = json.loads((res / "model/fit.json").read_text())
    assert fit["notes"] and len(fit["notes_zh"]) == len(fit["notes"])
    assert not [n for n in fit["notes"] if n[:40] in text] and fit["notes_zh"][0][:20] in text
    from csi import cjk_serif

    assert cjk_serif() is not None, "make setup fetches Noto Serif SC (scripts/fetch_fonts.py)"
    pdf = (res / "report_zh/report.pdf").read_bytes()
    assert b"NotoSerifSC-Regular" in pdf and b"NotoSerifSC-Bold" in pdf     # bold CJK headings, embedded


@pytest.mark.skipif(browser.CHROMIUM is None, reason=browser.SKIP_REASON)
def test_html_report_in_a_real_browser(run, tmp_path):
    """The HTML report at desktop and phone width in headless Chromium: no horizontal overflow of
    the page (wide tables scroll in their own box), every figure at its file's aspect ratio and
    with its caption as alt text; a Chinese report shows its text in the embedded CJK font."""
    import subprocess

    proj, _ = run
    res = proj / "results/chengdu_a"
    for width in (1280, 390):
        m = browser.measure(res / "report/report.html", width, tmp_path / f"en{width}", tmp_path / f"en{width}.png")
        assert m["overflow"] <= 0, (width, m["overflow"])
        assert len(m["imgs"]) >= 3
        for img in m["imgs"]:
            assert img["alt"].startswith("Figure")
            assert abs(img["w"] / img["h"] - img["nw"] / img["nh"]) < 0.01 * img["nw"] / img["nh"], img
        assert (tmp_path / f"en{width}.png").stat().st_size > 10_000       # the screenshot
    book = ROOT / CONFIG["districts"]["chengdu_a"]["codebook"]
    r = subprocess.run(["csi", "report", "--results", str(res), "--codebook", str(book), "--title", "区", "--seed", "1",
                        "--language", "zh", "--satisfaction", "SAT", "--out", str(tmp_path / "zh")],
                       capture_output=True, text=True, env=venv_env())
    assert r.returncode == 0, r.stderr
    m = browser.measure(tmp_path / "zh/report.html", 390, tmp_path / "zh390")
    assert m["cjk_font"] and m["overflow"] <= 0


def test_snakemake_report_captions_every_shown_output(run, tmp_path):
    import re
    import zipfile

    proj, _ = run
    r = snakemake("--report", str(tmp_path / "report.zip"), cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    with zipfile.ZipFile(tmp_path / "report.zip") as z:
        html = z.read(next(n for n in z.namelist() if n.endswith("report.html"))).decode()
    rules = "".join(p.read_text() for p in (ROOT / "rules").glob("*.smk"))
    captions = set(re.findall(r'shown\("[^"]+", "(\w+)"', rules)) | set(re.findall(r'figures\("[^"]+", \[([^\]]+)\]', rules))
    names = {c.strip(' "') for group in captions for c in group.split(",")}
    assert len(names) >= 15
    for name in names | {"report", "report_comparison"}:
        words = re.split(r"[*`{]", (ROOT / "rules/captions" / f"{name}.rst").read_text())[0].split()[:4]
        assert " ".join(words) in html, name


def test_the_summary_and_recommendations_state_the_result_files(run):
    """The manager's summary, definitions and recommendations carry the numbers of index.csv,
    ipma.csv and top_box.csv, in plain words."""
    from csi import codebook

    proj, _ = run
    res = proj / "results/chengdu_a"
    cb = codebook.load(ROOT / CONFIG["districts"]["chengdu_a"]["codebook"])
    text = (res / "report/report.typ").read_text("utf-8")
    summary = text.split("= Summary for managers")[1].split("= Data and method")[0]
    sat = pd.read_csv(res / "model/index.csv").set_index("construct").loc["SAT"]
    assert f"index is {sat['index']:.1f} out of 100 (95% CI {sat['ci_lower']:.1f}–{sat['ci_upper']:.1f})" in summary
    ipma = pd.read_csv(res / "model/ipma.csv")
    top = pd.read_csv(res / "tables/top_box.csv")
    service = top[top["construct"].isin(ipma["driver"])].sort_values("rate", kind="stable")
    weakest = service.head(3)
    for _, w in weakest.iterrows():
        assert f"{cb.label(w['item'], 'en')}, {100 * w['rate']:.1f}%" in summary
    first = ipma.iloc[0]
    assert f"Improve first: {cb.label(first['driver'], 'en')} (priority 1 in {100 * first['p_first']:.0f}% of draws" \
        in summary
    # "satisfied" defined per kind of scale; a top box holding the middle answer is said
    defs = summary.split("What the numbers mean")[1]
    three = [i for i in service["item"] if cb.scale_of(i).max - cb.scale_of(i).min == 2 and
             min(cb.scale_of(i).top_box) <= cb.scale_of(i).min + 1]        # 3-point items counting "fair"
    assert three and "counts the middle answer" in defs
    assert all(cb.label(i, "en") in defs for i in three)
    recs = text.split("= Recommendations")[1].split("= Limitations")[0]
    own = service[service["construct"] == first["driver"]]
    below = own[own["rate"] < 0.9].head(2)
    assert f"Priority 1: {cb.label(first['driver'], 'en')}" in recs
    assert all(f"{cb.label(i, 'en')} {100 * v:.1f}%" in recs for i, v in zip(below["item"], below["rate"]))
    assert "not proven causes" in recs


def test_limitations_are_written_from_the_diagnostics(run, tmp_path):
    """An inadmissible solution, failed discriminant validity and non-invariance in the results
    files each become a limitation in the report."""
    import shutil
    import subprocess

    proj, _ = run
    res = tmp_path / "results/chengdu_a"
    shutil.copytree(proj / "results/chengdu_a", res)
    fit = json.loads((res / "model/fit.json").read_text())
    fit.update(admissible=False, diagnosis=["Heywood case: negative variance of sat_overall"])
    (res / "model/fit.json").write_text(json.dumps(fit))
    htmt = pd.read_csv(res / "tables/htmt_verdicts.csv")
    htmt.loc[0, "verdict"] = "NOT distinct (HTMT >= .90)"
    htmt.to_csv(res / "tables/htmt_verdicts.csv", index=False)
    inv_file = res / "model/invariance_respondent_type/invariance.csv"
    inv = pd.read_csv(inv_file)
    inv.loc[inv["model"] == "scalar", "verdict"] = "scalar invariance does NOT hold (delta CFI -0.020 < -.010)"
    inv.to_csv(inv_file, index=False)
    r = subprocess.run(["csi", "report", "--results", str(res), "--codebook",
                        str(ROOT / CONFIG["districts"]["chengdu_a"]["codebook"]), "--title", "A", "--seed", "1",
                        "--satisfaction", "SAT", "--out", str(res / "report")], capture_output=True, text=True,
                       env=venv_env())
    assert r.returncode == 0, r.stderr
    limits = (res / "report/report.typ").read_text("utf-8").split("= Limitations")[1].split("= References")[0]
    assert "Heywood case" in limits and "not admissible" in limits
    assert "Discriminant validity fails or is borderline" in limits
    assert "Scalar invariance does not hold between respondent types" in limits
    head = (res / "report/report.typ").read_text("utf-8").split("= Data and method")[0]
    assert "NOT admissible" in head and "no index or priority is reported" in head and "Improve first" not in head
    assert "= Recommendations" not in (res / "report/report.typ").read_text("utf-8")


def test_a_third_shape_runs_with_no_code_change(run):
    """ecsi_example: an English ECSI-type survey with answer columns only (no id, paradata,
    demographics or respondent type), 1-10 codes, a single-item construct and mediated drivers."""
    proj, _ = run
    res = proj / "results/ecsi_example"
    truth = json.loads((ROOT / "data/raw/ecsi_example/truth.json").read_text())
    flow = json.loads((res / "data/flow.json").read_text())
    assert flow["kept"] == truth["n_genuine"]
    steps = {s["step"]: s for s in flow["steps"]}
    assert not steps["speeder"]["applied"] and "answering-time" in steps["speeder"]["why_not"]
    assert not steps["attention_check"]["applied"] and not steps["straight_liner"]["applied"]
    assert steps["item_missing"]["excluded"] == len(truth["incomplete_raw_rows"])
    assert pd.read_csv(res / "tables/profile.csv").empty
    # every codebook driver reaches satisfaction, most through mediators: all four are in the IPMA,
    # and each importance is its total effect (index units), not only the direct path
    ipma = pd.read_csv(res / "model/ipma.csv").set_index("driver")
    assert set(ipma.index) == {"IMAG", "EXPE", "QUAL", "VAL"}
    est = pd.read_csv(res / "model/estimates.csv").set_index(["lhs", "op", "rhs"])
    assert ("tot_EXPE_SAT", ":=", "total effect of EXPE on SAT") in est.index
    assert ipma["importance"].notna().all() and (ipma["potential"] <= 100).all()
    assert len(pd.read_csv(res / "tables/vif.csv")) == 4
    rel = pd.read_csv(res / "tables/reliability.csv").set_index("construct")
    assert rel.loc["COMP", "items"] == 1 and rel.loc[["COMP"], ["alpha", "omega", "ave"]].isna().all(axis=None)
    verdicts = pd.read_csv(res / "tables/htmt_verdicts.csv")
    single = verdicts[(verdicts["construct_a"] == "COMP") | (verdicts["construct_b"] == "COMP")]
    assert len(single) == 6 and single["verdict"].str.startswith("not estimable").all()
    text = (res / "report/report.typ").read_text("utf-8")
    assert "no respondent-type or demographic questions" in text
    assert "Steps that did not apply: speeders (the export has no answering-time column)" in text
    assert "by respondent type" not in text and "social-security" not in text and "Li & Mao" not in text
    assert "satisfaction with the pension office" in text and "Tenenhaus" in text
    assert "Cheung & Rensvold" not in text          # no invariance section: not cited, not listed


def test_an_improper_solution_is_a_finding_and_nothing_is_built_on_it(run, tmp_path):
    """A model that splits satisfaction into two factors (SAT2 ~ SAT) has a negative disturbance
    variance on district A's data: fit.json and the report lead with the diagnosis, and the
    bootstrap, indices, priorities, R² and significance are withheld everywhere."""
    import shutil
    import subprocess

    proj, _ = run
    res = tmp_path / "results/chengdu_a"
    shutil.copytree(proj / "results/chengdu_a", res)
    model = tmp_path / "split.lavaan"
    model.write_text((ROOT / "data/models/csi_government.lavaan").read_text()
                     .replace("SAT =~ sat_overall + sat_expect + sat_ideal",
                              "SAT =~ sat_overall + sat_expect\nSAT2 =~ sat_ideal + tru_confidence")
                     .replace("SAT ~ LOC", "SAT2 ~ SAT\nSAT ~ LOC"))
    book = str(ROOT / CONFIG["districts"]["chengdu_a"]["codebook"])
    data = str(res / "data/clean.parquet")
    r = subprocess.run(["csi", "measurement", str(model), data, "--out", str(res / "tables"), "--cfa-out",
                        str(res / "model/cfa"), "--codebook", book, "--then", "fit", str(model), data, "--out",
                        str(res / "model"), "--codebook", book, "--target", "SAT", "--bootstrap", "500"],
                       capture_output=True, text=True, env=venv_env())
    assert r.returncode == 0, r.stderr
    assert "NOT ADMISSIBLE" in r.stderr and "cause: Negative disturbance variance of SAT2" in r.stderr
    fit = json.loads((res / "model/fit.json").read_text())
    assert not fit["admissible"] and fit["diagnosis"][0].startswith("Negative disturbance variance of SAT2")
    assert fit["bootstrap"]["drawn"] == 0 and fit["iterations"] > 0 and fit["max_gradient"] < 1e-6
    assert pd.read_csv(res / "model/index.csv")["index"].isna().all()
    assert pd.read_csv(res / "model/ipma.csv")[["importance", "potential"]].isna().all(axis=None)
    assert pd.read_csv(res / "model/priorities.csv").empty
    assert pd.read_csv(res / "model/bootstrap.csv")["ci_lower"].isna().all()
    r = subprocess.run(["papermill", str(ROOT / "notebooks/03_structural.ipynb"), str(tmp_path / "03.ipynb"),
                        "-k", "python3", "--cwd", str(proj), "-p", "model", str(res / "model"),
                        "-p", "figures", str(tmp_path / "figures")], capture_output=True, text=True, env=venv_env())
    assert r.returncode == 0, r.stderr[-2000:]
    r = subprocess.run(["csi", "report", "--results", str(res), "--codebook", book, "--title", "A", "--seed", "1",
                        "--satisfaction", "SAT", "--out", str(res / "report")],
                       capture_output=True, text=True, env=venv_env())
    assert r.returncode == 0, r.stderr
    text = (res / "report/report.typ").read_text("utf-8")
    abstract, summary = text.split("= Data and method")[0].split("= Summary for managers")
    assert "*The solution of the CSI model is NOT admissible* (Negative disturbance variance of SAT2)" in abstract
    assert " index is " not in abstract and "priority" not in abstract
    assert "no index or priority is reported" in summary and " index is " not in summary
    assert "Improve first" not in summary and "= Recommendations" not in text
    assert "CSI indices are withheld" in text and "ipma.png" not in text
    assert "Structural paths of an IMPROPER solution: not interpretable" in text
    assert "R²" not in text.split("= Structural paths")[1].split("<tab-paths>")[0]
    assert not (res / "report/tables/index.csv").exists() and not (res / "report/tables/priorities.csv").exists()


def test_switching_the_report_language_refits_nothing_and_keeps_the_english_reports(run, tmp_path):
    """report.language: zh plans the notebooks (their figures' labels), the districts' titles and the
    reports, into report_zh/ beside report/: no model, invariance or comparison runs again (the
    comparison's tables hold no display names that depend on the language)."""
    proj, _ = run
    config = (proj / "config/config.yaml").read_text(encoding="utf-8")
    assert "  language: en " in config
    zh = tmp_path / "config_zh.yaml"
    zh.write_text(config.replace("  language: en ", "  language: zh "), encoding="utf-8")
    r = snakemake("-n", "--quiet", "rules", "--configfile", str(zh), "--config", "bootstrap=30", cwd=proj)
    assert r.returncode == 0, r.stderr[-2000:]
    planned = {line.split()[0] for line in r.stdout.splitlines()
               if len(line.split()) == 2 and line.split()[1].isdigit() and line.split()[0] != "total"}
    assert planned and planned <= {"notebook_sample", "notebook_measurement", "notebook_structural",
                                   "notebook_districts", "notebook_evaluations", "comparison_titles", "report",
                                   "report_comparison", "all"}, planned
    assert {"report", "report_comparison"} <= planned
    r = snakemake("-n", "--configfile", str(zh), "--config", "bootstrap=30", cwd=proj)
    assert "results/chengdu_a/report_zh/report.pdf" in r.stdout and "results/comparison/report_zh/report.pdf" in r.stdout
    assert "results/chengdu_a/report/report.pdf" not in r.stdout          # the English report stays


def test_a_library_change_reruns_the_steps_it_affects(run):
    """Editing src/csi/report/document.py plans every report again and nothing else; editing the export
    reader plans every district from validation on. (Snakemake compares checksums: an edit, not a
    touch, is what counts.)"""
    proj, _ = run

    def planned(path=None):
        if path is not None:
            text = path.read_text()
            path.write_text(text + "\n# an edit\n")
        try:
            r = snakemake("-n", "--quiet", "rules", "--config", "bootstrap=30", cwd=proj)
        finally:
            if path is not None:
                path.write_text(text)
        assert r.returncode == 0, r.stderr[-2000:]
        return {line.split()[0]: int(line.split()[1]) for line in r.stdout.splitlines()
                if len(line.split()) == 2 and line.split()[1].isdigit() and line.split()[0] not in ("total", "all")}

    before = planned()     # (other tests of this module may have left a report to redo)
    after = planned(proj / "src/csi/report/document.py")
    # one checksum stamp (rules/library.smk) holds the report package for both report rules
    assert after == {**before, "library_stamp": 1, "report": len(DISTRICTS), "report_comparison": 1}
    after = planned(proj / "src/csi/exports.py")
    assert after["validate"] == after["clean"] == after["model"] == after["report"] == len(DISTRICTS)


def test_fit_table_follows_apa_leading_zeros(run):
    """Measures bounded by 1 (CFI, RMSEA, SRMR) and their cutoffs drop the leading zero; TLI, which can
    exceed 1, keeps it in its value and its cutoff alike."""
    proj, _ = run
    fit = pd.read_csv(proj / "results/chengdu_a/report/tables/fit.csv", dtype=str).set_index("Measure")
    for m in ("CFI", "RMSEA", "SRMR"):
        assert fit.loc[m, "Cutoff"][2:].startswith(".") and not fit.loc[m, "Value"].startswith("0."), fit.loc[m]
    assert fit.loc["TLI", "Cutoff"] == "≥ 0.95" and re.match(r"[01]\.\d{3}$", fit.loc["TLI", "Value"])
