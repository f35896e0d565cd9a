"""The HTML report as a document: typst's HTML export (plain tags, no styling) gets a small
stylesheet (rules in tables, numbers right-aligned, captions, a readable measure), figures that
keep their aspect ratio and carry their caption as alt text, tables that scroll sideways within
their own box on a narrow screen instead of widening the page, and, where the text has Chinese
characters, an embedded subset of the CJK font (the glyphs the report uses), so that a machine
without CJK fonts shows the same text."""

from __future__ import annotations

import base64
import html as html_lib
import io
import re
from pathlib import Path

NUMBER = re.compile(r"^[<>=≥≤\-−–+\d.,\s\[\]/%*]+$")   # numbers, CIs, "<10", "3 / 14", "0.28***"
CJK = re.compile(r"[\u3000-\u9fff\uff00-\uffef]")

STYLE = """
:root { --ink: #1a1a1a; --rule: #444; --faint: #ddd; }
body { font-family: %(cjk)s "Libertinus Serif", Georgia, "Times New Roman", serif; color: var(--ink);
       line-height: 1.5; max-width: 46rem; margin: 2rem auto; padding: 0 1rem; font-size: 1.05rem; }
h1, h2, h3, h4 { line-height: 1.25; margin: 1.6em 0 0.5em; }
h2 { font-size: 1.5rem; } h3 { font-size: 1.25rem; } h4 { font-size: 1.1rem; }
figure { margin: 1.5em 0; }
figcaption { font-size: 0.9rem; margin: 0.4em 0; }
img { max-width: 100%%; height: auto; margin: 0 auto; }
.table-wrap { overflow-x: auto; max-width: 100%%; }
table { border-collapse: collapse; font-size: 0.9rem; border-top: 1.5px solid var(--rule);
        border-bottom: 1.5px solid var(--rule); margin: 0.3em 0; }
th { text-align: left; border-bottom: 1px solid var(--rule); font-weight: 600; }
th, td { padding: 0.2em 0.6em; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tbody tr:nth-child(even) { background: #f7f7f7; }
code { font-size: 0.85em; overflow-wrap: anywhere; }
p { overflow-wrap: break-word; }
@media (max-width: 40rem) { body { font-size: 1rem; margin: 1rem auto; } table { font-size: 0.8rem; } }
"""


def _text(fragment: str) -> str:
    return html_lib.unescape(re.sub(r"<[^>]+>", "", fragment)).strip()


def _figure(m: re.Match) -> str:
    block = m.group(0)
    caption = re.search(r"<figcaption>(.*?)</figcaption>", block, flags=re.S)
    alt = html_lib.escape(_text(caption.group(1)) if caption else "figure", quote=True)
    return re.sub(r"<img ", f'<img alt="{alt}" ', block)


def _cell(m: re.Match) -> str:
    tag, body = m.group(1), m.group(2)
    text = _text(body)
    return f'<{tag} class="num">{body}</{tag}>' if text and NUMBER.match(text) else m.group(0)


def font_face(text: str, font: Path, family: str = "CSI CJK") -> str:
    """@font-face with the subset of `font` that covers the CJK characters of `text`, embedded."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    chars = sorted(set(CJK.findall(text)))        # CJK only: Latin text keeps the Latin fonts
    options = subset.Options()
    options.flavor = None
    options.desubroutinize = True
    f = TTFont(str(font), lazy=True)
    s = subset.Subsetter(options)
    s.populate(text="".join(chars))
    s.subset(f)
    buf = io.BytesIO()
    f.save(buf)
    data = base64.b64encode(buf.getvalue()).decode("ascii")
    kind = "opentype" if str(font).endswith(".otf") else "truetype"
    return (f'@font-face {{ font-family: "{family}"; src: url(data:font/{kind};base64,{data}) format("{kind}"); '
            "font-display: block; }\n")


def style(html: str, cjk_font: Path | None = None) -> str:
    """The styled document (see the module's text)."""
    html = re.sub(r"<figure>.*?</figure>", _figure, html, flags=re.S)
    html = re.sub(r"<table>", '<div class="table-wrap"><table>', html)
    html = re.sub(r"</table>", "</table></div>", html)
    html = re.sub(r"<(td|th)>(.*?)</\1>", _cell, html, flags=re.S)
    body = html[html.find("<body"):]
    face, cjk = "", ""
    if cjk_font is not None and CJK.search(_text(body)):
        face = font_face(_text(body), cjk_font)
        # first: the subset has the CJK glyphs only (Latin falls through); after the Latin fonts, Chromium
        # drew some early-laid-out elements (the title, captions) with a fallback font without CJK glyphs
        cjk = '"CSI CJK", "Noto Serif CJK SC", "Source Han Serif SC",'
    css = "<style>\n" + face + STYLE % {"cjk": cjk} + "</style>"
    return html.replace("</head>", css + "</head>", 1)
