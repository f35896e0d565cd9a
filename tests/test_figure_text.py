"""Figures speak the report's language: their own words (axes, legends, notes, titles) come from
csi.plots.TEXT in English and Chinese, and respondent types are named as the report names them."""

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from csi import codebook, plots

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


def used_keys() -> set[str]:
    """Every key passed to say() in the library and the notebook templates."""
    sources = [p.read_text("utf-8") for p in (ROOT / "src/csi").rglob("*.py")]
    for nb in (ROOT / "notebooks").glob("*.ipynb"):
        sources += ["".join(c["source"]) for c in json.loads(nb.read_text("utf-8"))["cells"]]
    keys = set()
    for text in sources:
        keys |= set(re.findall(r"""(?<![\w.])(?:plots\.)?say\(["']([a-z_]+)["']""", text))
    return keys


def test_every_word_a_figure_uses_exists_in_both_languages():
    keys = used_keys()
    assert len(keys) > 25
    assert keys <= set(plots.TEXT), keys - set(plots.TEXT)
    for key, (en, zh) in plots.TEXT.items():
        assert en and not CJK.search(en), key
        assert CJK.search(zh), key


@pytest.fixture
def restore_language():
    yield
    plots.use_language("en")


def test_a_chinese_figure_has_chinese_axes_and_an_english_one_english_axes(restore_language):
    ipma = pd.DataFrame({"driver": ["A", "B"], "importance": [0.3, 0.5], "importance_ci_lower": [0.2, 0.4],
                         "importance_ci_upper": [0.4, 0.6], "performance": [80.0, 90.0],
                         "performance_ci_lower": [78.0, 88.0], "performance_ci_upper": [82.0, 92.0],
                         "potential": [6.0, 5.0], "priority": [1, 2]})
    for language in ("en", "zh"):
        plots.use_language(language)
        fig = plots.ipma(ipma, {"A": "A", "B": "B"}, plots.say("title_ipma"), target="满意度")
        ax = fig.axes[0]
        words = [ax.get_xlabel(), ax.get_ylabel(), ax.get_title()]
        assert all(bool(CJK.search(w)) is (language == "zh") for w in words[1:]), words
        assert words[2] == plots.TEXT["title_ipma"][language == "zh"]
        plots.plt.close(fig)


def test_respondent_types_are_named_as_the_report_names_them():
    cb = codebook.load(ROOT / "data/codebooks/ssa_service_2021.yaml")
    col = cb.role("respondent_type")[0]
    zh = cb.type_names("zh")
    assert set(zh) == set(col.value_labels.values())
    assert {zh[v] for v in col.value_labels.values()} == {str(k) for k in col.value_labels}
    assert cb.type_names("en") == {v: v.replace("_", " ").capitalize() for v in col.value_labels.values()}
    assert codebook.load(ROOT / "data/codebooks/ecsi_example.yaml").type_names("zh") == {}
