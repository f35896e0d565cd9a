"""A report page in headless Chromium (Debian package `chromium`): rendered at a given width in
an iframe of that width (headless windows have a minimum width), measured by a script: the
horizontal overflow of the page, each image's rendered and natural size and alt text, and
whether the embedded CJK font is loaded; plus a screenshot."""

import json
import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SKIP_REASON = "headless browser test: chromium not installed (Debian: apt-get install chromium)"

HARNESS = """<!doctype html><html><body style="margin:0">
<iframe id="f" src="page.html" style="width:%(width)dpx;height:900px;border:0"></iframe>
<script>
document.getElementById("f").addEventListener("load", async () => {
  const doc = document.getElementById("f").contentDocument;
  await doc.fonts.ready;
  const imgs = [...doc.images].map(i => { const r = i.getBoundingClientRect();
    return {w: r.width, h: r.height, nw: i.naturalWidth, nh: i.naturalHeight, alt: i.alt}; });
  const d = doc.documentElement;
  const m = document.createElement("pre"); m.id = "metrics";
  m.textContent = JSON.stringify({imgs, overflow: d.scrollWidth - d.clientWidth, width: d.clientWidth,
                                  cjk_font: doc.fonts.check('16px "CSI CJK"', "满意度")});
  document.body.appendChild(m);
});
</script></body></html>
"""


def _chromium(*args):
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                           "--virtual-time-budget=8000", *args], capture_output=True, text=True, timeout=120)


def measure(html: Path, width: int, work: Path, screenshot: Path | None = None) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    shutil.copy(html, work / "page.html")
    (work / "harness.html").write_text(HARNESS % {"width": width}, "utf-8")
    out = _chromium(f"--window-size={width + 40},940", "--dump-dom", (work / "harness.html").as_uri())
    m = re.search(r'<pre id="metrics">(.*?)</pre>', out.stdout, flags=re.S)
    assert m, out.stderr[-2000:]
    import html as html_lib

    metrics = json.loads(html_lib.unescape(m.group(1)))
    if screenshot is not None:
        _chromium(f"--window-size={max(width, 500)},1200", f"--screenshot={screenshot}", (work / "page.html").as_uri())
    return metrics
