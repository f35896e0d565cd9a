"""Report pieces that need no pipeline run: small-cell suppression, the Chinese font."""

import pandas as pd

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
