"""Report pieces that need no pipeline run: small-cell suppression, the Chinese font."""

import pandas as pd
import pytest

from csi import report


def test_small_cells_are_suppressed_and_counted():
    t = pd.DataFrame({"category": ["a", "b", "c"], "n": [120, 9, 10], "share": [0.86, 0.064, 0.071]})
    out, k = report.suppress(t, "n", ["share"], 10)
    assert k == 1
    assert out.loc[1, "n"] == "<10" and out.loc[1, "share"] is None          # n = 9 hidden
    assert out.loc[2, "n"] == 10 and out.loc[2, "share"] == 0.071            # n = 10 shown
    assert t.loc[1, "n"] == 9                                                # input untouched


def test_suppression_threshold_is_configurable():
    t = pd.DataFrame({"n": [4, 25], "rate": [0.5, 0.9]})
    assert report.suppress(t, "n", ["rate"], 5)[1] == 1
    assert report.suppress(t, "n", ["rate"], 30)[1] == 2


def test_the_cjk_font_is_installed_by_setup():
    from pathlib import Path

    from csi import cjk_fonts

    fonts = Path(cjk_fonts())
    assert (fonts / "NotoSerifCJKsc-Regular.otf").stat().st_size > 10_000_000


def test_chinese_figure_labels_render_with_the_cjk_font(tmp_path):
    import subprocess
    import sys

    code = f"""
from csi import plots
plots.use_language("zh")
import matplotlib.pyplot as plt
fig, ax = plt.subplots()
ax.set_title("满意度指数")
plots.save(fig, {str(tmp_path)!r}, "zh")
"""
    r = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr            # a missing glyph would warn (made an error here)
    assert b"NotoSansCJKsc" in (tmp_path / "zh.pdf").read_bytes()


def test_missing_results_give_a_clear_error_and_no_report(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    exe = Path(sys.executable).parent / "csi"
    out = tmp_path / "results/x/report"
    r = subprocess.run([str(exe), "report", "--results", str(tmp_path / "results/x"), "--codebook",
                        "data/codebooks/ssa_service_2021.yaml", "--title", "X", "--seed", "1", "--satisfaction", "SAT", "--out", str(out)],
                       capture_output=True, text=True, cwd=Path(__file__).resolve().parents[1])
    assert r.returncode == 1
    assert "flow.json" in r.stderr and "What to do:" in r.stderr and "Traceback" not in r.stderr
    assert not out.exists() and not any(p.name.startswith(".report") for p in out.parent.glob(".*"))


def test_latex_tables_escape_text_and_spell_symbols_as_commands():
    t = pd.DataFrame({"District": ["Li & Mao 2021", "50% of #1"], "β": [0.5, None], "p": ["< .001", "0.2"]})
    tex = report.to_latex(t)
    assert r"Li \& Mao 2021" in tex and r"50\% of \#1" in tex
    assert r"$\beta$" in tex and "$<$ .001" in tex and "--" in tex       # missing value: en dash
    assert "\\toprule" in tex and "β" not in tex and "–" not in tex


def test_a_lone_small_cell_is_protected_by_a_second_one():
    """Categories add up to the published total: one hidden cell alone could be recovered by
    subtraction, so the smallest visible cell of its group is hidden too."""
    t = pd.DataFrame({"variable": ["g", "g", "g", "a", "a"], "n": [400, 3, 120, 250, 250],
                      "share": [0.767, 0.006, 0.230, 0.5, 0.5]})
    first, k1 = report.suppress(t, "n", ["share"], 10)
    out, k2 = report.suppress_complement(first, [[(i, "n", ["share"]) for i in [0, 1, 2]],
                                                 [(i, "n", ["share"]) for i in [3, 4]]], 10)
    assert (k1, k2) == (1, 1)
    assert out.loc[1, "n"] == "<10" and pd.isna(out.loc[2, "n"]) and pd.isna(out.loc[2, "share"])
    assert out.loc[0, "n"] == 400 and out.loc[3, "n"] == 250             # the rest stays
    two, _ = report.suppress(t.assign(n=[400, 3, 4, 250, 250]), "n", ["share"], 10)
    assert report.suppress_complement(two, [[(i, "n", ["share"]) for i in [0, 1, 2]]], 10)[1] == 0


# --- the rating-stream section (issue 13) ------------------------------------------------------------

EV_FIGURES = ["evaluations_trend", "evaluations_heatmap", "evaluations_control_windows",
              "evaluations_control_services", "evaluations_peaks_followup"]


@pytest.fixture(scope="module")
def evaluated(tmp_path_factory):
    """A district's results folder holding only the rating stream's results: a small simulated stream
    (one quarter, 100 ratings a day), analysed as rules/evaluations.smk does, beside a survey top-box
    table; placeholder figures. Its tables: one hall with fewer due bad ratings than min_cell."""
    from PIL import Image

    from csi.evaluations import analysis, codebook, simulate

    from conftest import ROOT

    d = tmp_path_factory.mktemp("ev")
    export = d / "evaluations.parquet"
    simulate.write_from_spec(ROOT / "config/evaluations_simulation.yaml", ROOT, out=export, truth=d / "truth.json",
                             ratings_per_day=100, period={"start": "2021-04-01", "end": "2021-06-30"})
    res = d / "results/chengdu_a"
    (res / "tables").mkdir(parents=True)
    pd.DataFrame({"item": ["sat_overall", "hnd_service", "hnd_efficiency", "loc_online_ease"],
                  "label_en": ["Overall satisfaction", "Service", "Efficiency", "Online ease"],
                  "label_zh": ["总体满意度", "服务水平", "办理效率", "网上便捷性"], "top_box": "4+5",
                  "n": [999, 996, 8, 993], "rate": [0.928, 0.993, 0.875, 0.789],
                  "ci_lower": [0.910, 0.986, 0.529, 0.762], "ci_upper": [0.942, 0.997, 0.978, 0.813]}
                 ).to_csv(res / "tables/top_box.csv", index=False)
    cb = codebook.load(ROOT / "data/codebooks/haochaping_2021.yaml")
    parts = analysis.partition_stream(export, cb, b"test-salt")
    analysis.combine(export, cb, parts, res / "evaluations", min_n=10, survey_top_box=str(res / "tables/top_box.csv"),
                     survey_period="2021")
    (res / "figures").mkdir()
    for name in EV_FIGURES:
        Image.new("RGB", (60, 30), "white").save(res / "figures" / f"{name}.png")
    f = pd.read_csv(res / "evaluations/tables/followup.csv")
    small = f.index[f["hall"] != "(all)"][0]
    f.loc[small, ["due", "suppressed"]] = [7, True]
    f.loc[small, ["share_within_deadline", "ci_lower", "ci_upper", "median_hours", "p90_hours"]] = float("nan")
    f.to_csv(res / "evaluations/tables/followup.csv", index=False)
    return res, export


def _section(res, lang):
    from csi.report import evaluations as report_evaluations

    r = report.Report(res, res / f"report_{lang}", "A", lang, None, 10)
    added = report_evaluations.section(r)
    r.write(0)
    out = res / f"report_{lang}"
    return added, r, (out / "report.typ").read_text("utf-8"), (out / "report.html").read_text("utf-8")


def test_the_rating_stream_section_states_the_numbers_of_its_result_files(evaluated):
    import json

    res, _ = evaluated
    added, r, typ, html = _section(res, "en")
    assert added and "= Service-evaluation stream" in typ and "Service-evaluation stream" in html
    assert (res / "report_en/report.pdf").read_bytes()[:4] == b"%PDF"
    ev = res / "evaluations"
    flow = json.loads((ev / "flow.json").read_text("utf-8"))
    o = flow["overall"]
    assert o["n"] == flow["kept"] and o["good"] == pd.read_csv(ev / "tables/rates_month.csv")["good"].sum()
    assert f"{flow['raw_rows']:,} records" in typ and f"{flow['kept']:,} were kept" in typ
    assert f"{100 * o['rate']:.1f}% (95% CI {100 * o['ci_lower']:.1f}–{100 * o['ci_upper']:.1f}) of them were good" in typ
    T = lambda name: pd.read_csv(res / f"report_en/tables/{name}.csv", dtype=str)   # noqa: E731 (as published)
    steps = T("ev_flow").set_index("Step")
    assert steps.loc["Test record", "Excluded"] == f"{flow['steps'][1]['excluded']:,}"
    assert steps.loc["Kept ratings", "Remaining"] == f"{flow['kept']:,}"
    m, pm = pd.read_csv(ev / "tables/rates_month.csv"), T("ev_months")
    assert list(pm["Month"]) == [x[:7] for x in m["month"]] and list(pm["n"]) == [f"{n:,}" for n in m["n"]]
    assert list(pm["Good, % [95% CI]"]) == [report.pct_ci(*v) for v in m[["rate", "ci_lower", "ci_upper"]].itertuples(index=False)]
    dl = pd.read_csv(ev / "tables/trend.csv").set_index("term").loc["deadline_day"]
    assert f"OR = {dl['odds_ratio']:.3f} [{dl['ci_lower']:.3f}, {dl['ci_upper']:.3f}]" in typ
    peak = pd.read_csv(ev / "tables/peaks.csv").iloc[0]
    assert T("ev_peaks").loc[0, "Difference, pp [95% CI]"] == (
        f"{100 * peak['diff']:.1f} [{100 * peak['diff_ci_lower']:.1f}, {100 * peak['diff_ci_upper']:.1f}]".replace("-", "−"))
    sig = pd.read_csv(ev / "tables/spc_signals.csv")
    for kind in ("window", "service"):
        if (sig["chart"] == kind).any():
            assert len(T(f"ev_signals_{kind}")) == (sig["chart"] == kind).sum()
    reasons = pd.read_csv(ev / "tables/reasons.csv")
    top = reasons[reasons["service"] == "(all)"].sort_values("rank").head(8)
    assert list(T("ev_reasons")["Reason"]) == list(top["label_en"])
    assert list(T("ev_reasons")["Share of bad ratings, %"]) == [f"{100 * s:.1f}" for s in top["share"]]
    topics = T("ev_topics").set_index("Topic")
    t = pd.read_csv(ev / "tables/comment_topics.csv").query("service == '(all)'").set_index("label_en")
    for label, row in topics.iterrows():
        if row["n"] != "<10":
            assert row["n"] == f"{int(t.loc[label, 'topic_comments']):,}"
    cmp, pc = pd.read_csv(ev / "tables/survey_comparison.csv"), T("ev_survey")
    assert list(pc["Stream, % [95% CI]"]) == [report.pct_ci(*v) for v in
                                              cmp[["stream_rate", "stream_ci_lower", "stream_ci_upper"]].itertuples(index=False)]
    assert pc.loc[0, "Survey, % [95% CI]"] == report.pct_ci(*cmp.loc[0, ["survey_rate", "survey_ci_lower", "survey_ci_upper"]])
    for name in EV_FIGURES:
        assert f"figures/{name}.png" in typ
    # small cells: the survey indicator of n = 8 and the hall of 7 due bad ratings are withheld, and the
    # hall with the fewest other due ratings as well (the halls add up to the total shown)
    assert pd.isna(pc.loc[2, "Survey, % [95% CI]"]) and pd.isna(pc.loc[2, "Difference, pp [95% CI]"])
    fu = T("ev_followup")
    assert (fu["Due"] == "<10").sum() == 1 and fu.loc[fu["Due"] == "<10", "Within deadline, % [95% CI]"].isna().all()
    assert fu["Due"].isna().sum() == 1 and fu.loc[0, "Due"] == f"{pd.read_csv(ev / 'tables/followup.csv').loc[0, 'due']:,}"
    assert r.suppressed >= 3


def test_the_rating_stream_section_publishes_no_personal_data(evaluated):
    import re

    import pyarrow.parquet as pq

    res, export = evaluated
    raw = pq.read_table(export).to_pandas()
    excl = pd.read_csv(res / "evaluations/exclusions.csv")
    raw = raw[~(raw.index + 2).isin(excl.loc[excl["reason"] == "test_record", "raw_row"])]  # staff '测试': no person
    staff = set(pd.read_csv(res / "evaluations/tables/rates_by.csv").query("dimension == 'staff'")["value"])
    for lang in ("en", "zh"):
        _, _, typ, html = _section(res, lang)
        tables = "".join(p.read_text("utf-8") for p in (res / f"report_{lang}/tables").glob("*"))
        for text in (typ, html, tables):
            assert not re.search(r"1[3-9]\d{9}|\d{15}", text)                 # no phone or ID numbers
            assert not [s for s in staff if s in text]                         # no staff pseudonyms
            for col in ("工作人员工号", "工作人员姓名", "评价人姓名", "评价编号", "办件编号"):
                values = raw[col].dropna().astype(str)
                assert not [v for v in values[values.str.len() >= 2].unique() if v in text], col
            comments = raw["评价内容"].dropna().astype(str)
            assert not [c for c in comments[comments.str.len() >= 6].unique() if c in text]   # no comment text
    assert "= 办事评价（好差评）数据" in typ


def test_a_district_without_a_rating_stream_has_no_such_section(tmp_path):
    from csi.report import evaluations as report_evaluations

    r = report.Report(tmp_path, tmp_path / "report", "A", "en", None, 10)
    assert report_evaluations.section(r) is False and r.parts == []


def test_table_numbers_use_minus_signs_and_never_show_minus_zero():
    from csi.report import fmt

    assert fmt(-0.0004) == "0.000" and fmt(-0.0123) == "−0.012" and fmt(0.5) == "0.500"
    assert fmt(-0.04, 1) == "0.0" and fmt(-1234.0) == "−1,234" and fmt(-3) == "−3"


def test_apa_leading_zeros():
    """Values that cannot exceed 1 lose their leading zero (APA); a minus sign stays; 1.000 and values
    of other statistics are left alone."""
    from csi.report.document import apa

    assert apa(0.5741) == ".574" and apa(-0.0021) == "−.002" and apa("0.574") == ".574"
    assert apa(1.0) == "1.000" and apa("< .001") == "< .001" and apa(0.0) == ".000"


def test_ipma_map_shows_every_driver_even_a_negative_importance_without_cis():
    """Another survey can have a driver with a negative total effect and no bootstrap: every point
    stays inside the axes."""
    import numpy as np

    from csi import plots

    t = pd.DataFrame({"priority": [1, 2, 3], "driver": ["A", "B", "C"], "importance": [0.5, 0.2, -0.1],
                      "performance": [70.0, 85.0, 60.0], "potential": [15.0, 3.0, -4.0]})
    for c in ("importance_ci_lower", "importance_ci_upper", "performance_ci_lower", "performance_ci_upper"):
        t[c] = np.nan
    ax = plots.ipma(t, {}, "map").axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert (x0 < t["importance"]).all() and (t["importance"] < x1).all()
    assert (y0 < t["performance"]).all() and (t["performance"] < y1).all()
