"""The HTML report's styling (report/html.py) on a page shaped like typst's HTML export."""

import base64
import io
import re

from csi import cjk_fonts
from csi.report import html as report_html

PAGE = ('<!DOCTYPE html><html><head><meta charset="utf-8"><title>t</title></head><body>'
        '<figure><img src="data:image/png;base64,AAAA" width="1815" height="1457" style="display: block; width: 90%">'
        '<figcaption>Figure&nbsp;1: Rates &amp; CIs. Source: figures/a.png.</figcaption></figure>'
        '<div><figure><figcaption>Table 1: Flow</figcaption><table><thead><tr><th><strong>Step</strong></th>'
        '<th><strong>n</strong></th></tr></thead><tbody><tr><td>Speeders</td><td>1,045</td></tr>'
        '<tr><td>CI</td><td>[0.281, 0.355]</td></tr><tr><td>β</td><td>−0.548***</td></tr></tbody></table>'
        '</figure></div>{}</body></html>')


def test_figures_tables_and_numbers():
    out = report_html.style(PAGE.format(""))
    assert '<img alt="Figure\xa01: Rates &amp; CIs. Source: figures/a.png." src=' in out
    assert out.count('<div class="table-wrap"><table>') == 1 and out.count("</table></div>") == 1
    cells = re.findall(r"<td( class=\"num\")?>([^<]*)</td>", out)
    assert [(bool(c), t) for c, t in cells] == [(False, "Speeders"), (True, "1,045"), (False, "CI"),
                                                (True, "[0.281, 0.355]"), (False, "β"), (True, "−0.548***")]
    assert "height: auto" in out and "@font-face" not in out       # no Chinese text: no font


def test_chinese_text_gets_an_embedded_subset_of_the_cjk_font():
    from fontTools.ttLib import TTFont

    out = report_html.style(PAGE.format("<p>总体满意度指数</p>"), cjk_fonts() / "NotoSerifCJKsc-Regular.otf")
    data = re.search(r"base64,([A-Za-z0-9+/=]+)\) format", out).group(1)
    font = TTFont(io.BytesIO(base64.b64decode(data)))
    cmap = font.getBestCmap()
    assert all(ord(ch) in cmap for ch in "总体满意度指数")
    assert len(data) < 400_000          # a subset, not the 23 MB font
