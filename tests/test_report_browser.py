"""report.html in a real browser: headless Chromium renders every section and chart without a
console error, the sort script works, the page body never overflows sideways at 1280 and 1920
px (the rep table scrolls inside its box, its first columns frozen), and screenshots at both
widths land in test-artifacts/report-1280.png and report-1920.png.

Needs Debian's ``chromium`` package (``apt-get install -y chromium``); skipped without it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from quotaopt.report import render_html
from quotaopt.report.html import SECTIONS

from report_fixtures import make_result

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
#: Screen widths the page is checked at (a laptop and a desktop monitor).
WIDTHS = (1280, 1920)

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                "(Debian: apt-get install -y chromium)")

# Clicks the "Quota" header of the rep table once (ascending) and records the order it left.
SORT_PROBE = """<script>
(function () {
  var ths = Array.prototype.slice.call(document.querySelectorAll("#capacity table.sortable th"));
  var th = ths.filter(function (h) { return h.textContent.trim() === "Quota"; })[0];
  th.click();
  var values = Array.prototype.map.call(th.closest("table").tBodies[0].rows,
                                        function (r) { return r.cells[th.cellIndex].getAttribute("data-v"); });
  document.body.setAttribute("data-probe", JSON.stringify(values));
})();
</script>
"""


def _chromium(tmp_path: Path, url: str, *extra: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(tmp_path), XDG_CONFIG_HOME=str(tmp_path / "config"),
               XDG_CACHE_HOME=str(tmp_path / "cache"))
    args = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0", "--hide-scrollbars", *extra, url]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)


def _console(stderr: str) -> list[str]:
    """Console messages and uncaught errors from Chromium's log (dbus and GPU noise is not ours)."""
    return [line for line in stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]


def test_console_errors_are_detected(tmp_path: Path) -> None:
    """The probe below would be blind if this Chromium logged console errors differently."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><html><body><script>missingFunction();</script></body></html>")
    run = _chromium(tmp_path, page.as_uri(), "--virtual-time-budget=2000", "--dump-dom")
    assert any("Uncaught" in line for line in _console(run.stderr)), run.stderr[-2000:]


def test_page_renders_sections_and_charts(tmp_path: Path) -> None:
    html = render_html(make_result(60, status="feasible", gap=0.004)).decode()
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", SORT_PROBE + "</body>"), encoding="utf-8")
    run = _chromium(tmp_path, page.as_uri(), "--virtual-time-budget=3000", "--dump-dom")
    assert run.returncode == 0, run.stderr[-2000:]
    dom = run.stdout
    assert _console(run.stderr) == [], _console(run.stderr)
    assert 'data-ready="yes"' in dom  # our script ran to its end
    for sid, _label in SECTIONS:
        assert f'<section id="{sid}">' in dom, sid
    assert dom.count("<svg") == 7
    assert "feasible, gap 0.40%" in dom
    probe = re.search(r"data-probe=\"([^\"]*)\"", dom)
    assert probe, "sort probe did not run"
    values = [float(v) for v in json.loads(probe.group(1).replace("&quot;", '"'))]
    assert len(values) == 60 and values == sorted(values)


# Measures, after layout, how wide the page is against the window, and where the rep
# table's first two columns sit once its box is scrolled to the far right.
LAYOUT_PROBE = """<script>
window.addEventListener("load", function () {
  var doc = document.documentElement, box = document.querySelector("#capacity .scroll");
  var table = box.querySelector("table"), row = table.tBodies[0].rows[0];
  box.scrollLeft = box.scrollWidth;
  var left = box.getBoundingClientRect().left;
  document.body.setAttribute("data-layout", JSON.stringify({
    window: window.innerWidth, page: doc.scrollWidth, body: document.body.scrollWidth,
    box: box.clientWidth, table: table.scrollWidth, scrolled: box.scrollLeft,
    first: row.cells[0].getBoundingClientRect().left - left,
    second: row.cells[1].getBoundingClientRect().left - left,
    sticky: getComputedStyle(row.cells[1]).position}));
});
</script>
"""


@pytest.mark.parametrize("width", WIDTHS)
def test_no_sideways_overflow_and_frozen_rep_columns(tmp_path: Path, width: int) -> None:
    html = render_html(make_result(60)).decode()
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", LAYOUT_PROBE + "</body>"), encoding="utf-8")
    run = _chromium(tmp_path, page.as_uri(), "--virtual-time-budget=3000", "--dump-dom",
                    f"--window-size={width},1200")
    found = re.search(r"data-layout=\"([^\"]*)\"", run.stdout)
    assert found, run.stderr[-2000:]
    layout = json.loads(found.group(1).replace("&quot;", '"'))
    assert layout["window"] == width
    assert layout["page"] <= width and layout["body"] <= width, layout  # nothing sticks out of the page
    assert layout["box"] <= width
    if layout["table"] > layout["box"]:  # wider than its box: it scrolls there, id and name stay put
        assert layout["scrolled"] > 0
        assert layout["sticky"] == "sticky"
        assert abs(layout["first"]) < 2 and 0 < layout["second"] < 200, layout


@pytest.mark.parametrize("width", WIDTHS)
def test_screenshot(tmp_path: Path, width: int) -> None:
    page = tmp_path / "report.html"
    page.write_bytes(render_html(make_result(60)))
    ARTIFACTS.mkdir(exist_ok=True)
    artifact = ARTIFACTS / f"report-{width}.png"
    artifact.unlink(missing_ok=True)
    run = _chromium(tmp_path, page.as_uri(), f"--screenshot={artifact}", f"--window-size={width},2400")
    assert artifact.exists(), run.stderr[-2000:]
    data = artifact.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", data[16:24]) == (width, 2400)
    assert len(data) > 50_000  # a blank page compresses to a few kB; ours has charts and tables
