"""The leaderboard page in a real browser: headless Chromium loads it from a file, the
tables and charts are there, a header click re-sorts, and a screenshot is not blank."""

import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

pytest.importorskip("matplotlib", reason="the HTML page needs the plot extra (matplotlib)")
pytest.importorskip("jinja2", reason="the HTML page needs the plot extra (jinja2)")

from test_leaderboard import frame_of, record  # noqa: E402

from dysts_bench.leaderboard import render_html, summarize  # noqa: E402

CHROMIUM = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH (Debian: apt-get install chromium)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


class _Rows(HTMLParser):
    """Forecaster names of the summary table in document order, header states, counts."""

    def __init__(self):
        super().__init__()
        self.names, self.sorted_headers, self.tables, self.svgs = [], [], 0, 0
        self._in_summary = self._cell = 0
        self._col = -1

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tables += tag == "table"
        self.svgs += tag == "svg"
        if tag == "table":
            self._in_summary = a.get("id") == "summary"
        if tag == "th" and "aria-sort" in a:
            self.sorted_headers.append(a["aria-sort"])
        if self._in_summary and tag == "tr":
            self._col = -1
        if self._in_summary and tag == "td":
            self._col += 1
            self._cell = self._col == 1

    def handle_endtag(self, tag):
        if tag in ("td", "table"):
            self._cell = 0
        if tag == "table":
            self._in_summary = 0

    def handle_data(self, data):
        if self._cell and data.strip():
            self.names.append(data.strip())


def _chromium(tmp_path, *args):
    profile = tmp_path / "profile"
    done = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    rng = np.random.default_rng(5)
    recs = [record(name, f"Sys{i}", s, smape=float(rng.uniform(5, 150)) * (1 + k),
                   hsmape=np.sort(rng.uniform(5, 150, 4) * (1 + 10 * k)).tolist(), vpt=float(rng.uniform(0, 3)))
            for k, name in enumerate(("naive", "darts_exponential_smoothing", "alpha", "mid")) for i in range(6) for s in range(2)]
    path = tmp_path_factory.mktemp("page") / "index.html"
    path.write_text(render_html(summarize(frame_of(recs), n_boot=50)))
    return path


def test_page_loads_with_tables_and_charts_and_a_header_click_sorts(page, tmp_path):
    before = _Rows()
    before.feed(_chromium(tmp_path, "--dump-dom", page.as_uri()))
    assert before.tables >= 4 and before.svgs >= 4
    assert len(before.names) == 4 and before.sorted_headers == []
    # the page's script clicks the header named in the URL (#sort=TABLE:COLUMN): column 1 is the name
    after = _Rows()
    after.feed(_chromium(tmp_path, "--dump-dom", page.as_uri() + "#sort=summary:1"))
    assert after.sorted_headers == ["ascending"]
    assert after.names == sorted(before.names) and after.names != before.names


@pytest.mark.parametrize("width", [1400, 390])
def test_screenshot_is_not_blank(page, tmp_path, width):
    from PIL import Image
    shot = tmp_path / f"shot-{width}.png"
    _chromium(tmp_path, f"--window-size={width},1200", f"--screenshot={shot}", page.as_uri())
    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    assert pixels.shape[:2] == (1200, width)
    gray = pixels.mean(axis=2)
    assert gray.std() > 10 and (gray < 128).mean() > 0.005  # text and lines, not a blank page
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50  # colours of the charts and swatches


HARNESS = """<!DOCTYPE html><html><body>
<iframe id="f" src="index.html" style="width:%dpx;height:900px;border:0"></iframe><pre id="out">pending</pre>
<script>
document.getElementById("f").addEventListener("load", function () {
  var d = this.contentDocument, w = this.contentWindow, t = d.getElementById("summary");
  var svgs = Array.prototype.map.call(d.querySelectorAll("svg"), function (s) { return s.getBoundingClientRect().width; });
  document.getElementById("out").textContent = JSON.stringify({inner: w.innerWidth,
    scroll: d.documentElement.scrollWidth, svgs: svgs, table: t.getBoundingClientRect().width,
    box: t.parentNode.getBoundingClientRect().width});
});
</script></body></html>"""


@pytest.mark.parametrize("width", [1400, 390])
def test_layout_fits_the_window(page, tmp_path, width):
    """Measured in the browser (the page in an iframe of the given width): nothing overflows
    the window, the charts scale down, and the summary table fits at 1400 px (on a phone
    it scrolls inside its own box)."""
    import json
    import re
    harness = page.parent / f"harness-{width}.html"
    harness.write_text(HARNESS % width)
    dom = _chromium(tmp_path, "--allow-file-access-from-files", "--virtual-time-budget=10000", "--dump-dom",
                    harness.as_uri())
    m = re.search(r'<pre id="out">([^<]*)</pre>', dom)
    assert m and m.group(1) != "pending", dom[-500:]
    layout = json.loads(m.group(1))
    assert layout["scroll"] <= layout["inner"]
    assert len(layout["svgs"]) >= 4 and max(layout["svgs"]) <= layout["inner"]
    assert layout["box"] <= layout["inner"]
    if width >= 1400:
        assert layout["table"] <= layout["box"] + 1
