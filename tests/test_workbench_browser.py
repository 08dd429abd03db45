"""The workbench in a real browser: Playwright driving Debian's Chromium over the shipped example.

One walk through the page a sales-ops analyst would take, every step asserted on the
page's text: change growth and see the headline move; lock a rep and see the teammates
that moved; save two versions and compare them (the numbers of ``quotaopt compare``);
submit and approve one (a script typed in a comment stays text); ``quotaopt plan`` with
the saved version's settings writes the same plan files, byte for byte; then the history view
and ``quotaopt analyze``'s analysis.html. Screenshots land in test-artifacts/workbench/.

Needs Debian's ``chromium`` (``apt-get install -y chromium``; ``.ci/run`` installs it) and
the ``playwright`` package; Playwright's own browsers are never downloaded. Skipped
without them.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from workbench_fixtures import copy_example, running

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts" / "workbench"
playwright_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed "
                                "(Debian: apt-get install -y chromium)")
#: Longest wait for one re-plan in the browser (the first one fits the capacity model).
WAIT_MS = 60_000


@pytest.fixture(scope="module")
def browser_page(tmp_path_factory: pytest.TempPathFactory):
    from quotaopt.workbench import build

    where = tmp_path_factory.mktemp("workbench")
    scenario = copy_example(where)
    app = build([scenario], user="tester")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with running(app) as base, playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        # bypass_csp: the waits below evaluate script text, which the page's policy forbids; the
        # script-in-a-comment check then rests on escaping alone, not on the policy.
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, bypass_csp=True)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        yield page, base, scenario, errors
        browser.close()


def _solved(page, before: int) -> int:
    """Wait until the page has shown a plan newer than ``before``; return its number."""
    page.wait_for_function(f"Number(document.getElementById('workbench').getAttribute('data-solved') || 0) > {before}"
                           " && !document.getElementById('workbench').hasAttribute('data-busy')", timeout=WAIT_MS)
    return int(page.get_attribute("#workbench", "data-solved") or 0)


def _set_growth(page, percent: str, solved: int) -> int:
    page.fill("input[data-knob=growth]", percent)
    page.dispatch_event("input[data-knob=growth]", "change")
    return _solved(page, solved)


def _save(page, name: str) -> str:
    page.fill("#version-name", name)
    page.click("#save")
    page.wait_for_selector("#saved", timeout=WAIT_MS)
    text = page.inner_text("#saved")
    assert f"Saved version \u201c{name}\u201d" in text
    run_id = page.get_attribute("#saved", "data-run")
    assert run_id
    return run_id


def _same_as_plan(saved: Path, scenario: Path) -> None:
    """``quotaopt plan`` of the scenario with the version's recorded overrides writes the same plan files."""
    import yaml
    from click.testing import CliRunner

    from quotaopt.cli import main

    overrides = json.loads((saved / "manifest.json").read_text())["workbench"]["overrides"]
    assert overrides["allocation"]["locks"] and overrides["target"]["growth"] == 0.2
    child = scenario.parent / "from_the_page.yaml"
    child.write_text(yaml.safe_dump({"extends": scenario.name, "name": "example", **overrides}))
    out = scenario.parent.parent / "cli-runs"
    result = CliRunner().invoke(main, ["plan", str(child), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 0, result.output
    (planned,) = [p for p in (out / "example").iterdir() if p.is_dir()]
    for name in ("plan.csv", "plan_periods.csv", "units.csv", "summary.json"):
        assert (planned / name).read_bytes() == (saved / name).read_bytes(), name


def test_shape_save_compare_approve(browser_page) -> None:
    page, base, scenario, errors = browser_page
    page.goto(f"{base}/s/example")
    solved = _solved(page, 0)
    assert page.inner_text("#fig-target .label").lower() == "company target"
    first_target = page.inner_text("#fig-target .value")
    assert page.inner_text("#fig-target .sub") == "growth +12.0%"  # the scenario file's 12%

    # 1. Change growth: the headline follows.
    solved = _set_growth(page, "20", solved)
    assert page.inner_text("#fig-target .sub") == "growth +20.0%"
    assert page.inner_text("#fig-target .value") != first_target
    assert page.input_value("input[data-knob=growth]") == "20"
    page.screenshot(path=str(ARTIFACTS / "01-growth.png"), full_page=False)

    # 2. Lock a rep: the teammates re-share the team's total.
    row = page.locator("#grid tbody tr[data-team=TM0001]").first
    rep = row.get_attribute("data-rep")
    quota = float(row.locator("input.quota").input_value())
    locked = int(round(quota * 0.9 / 1000) * 1000)
    row.locator("input.quota").fill(str(locked))
    row.locator("button.lock").click()
    solved = _solved(page, solved)
    moved = page.inner_text("#moved")
    assert re.match(rf"Locking {rep} moved [1-9]\d* teammate\(s\) in TM0001", moved), moved
    locked_row = page.locator(f"#grid tbody tr[data-rep={rep}]")
    assert "locked (page)" in locked_row.inner_text()
    assert float(locked_row.locator("input.quota").input_value()) == locked
    deltas = page.locator("#grid tbody tr[data-team=TM0001].moved")
    assert deltas.count() >= 2  # the locked rep and at least one teammate
    page.select_option("#team-filter", "TM0001")
    assert page.locator("#grid tbody tr:not([hidden])").count() == page.locator("#grid tbody tr[data-team=TM0001]").count()
    page.screenshot(path=str(ARTIFACTS / "02-lock.png"), full_page=False)
    locked_row.locator("button.unlock").click()  # and back: the team re-shares again
    solved = _solved(page, solved)
    assert page.inner_text("#moved").startswith(f"Unlocking {rep} moved")
    assert "locked" not in page.locator(f"#grid tbody tr[data-rep={rep}]").inner_text()
    locked_row.locator("input.quota").fill(str(locked))
    locked_row.locator("input.quota").press("Enter")  # Enter locks too
    solved = _solved(page, solved)
    assert "locked (page)" in page.locator(f"#grid tbody tr[data-rep={rep}]").inner_text()

    # 3. Two versions, then compare them.
    locked_run = _save(page, "Growth 20% with a lock")
    solved = _set_growth(page, "10", solved)
    assert page.inner_text("#fig-target .sub") == "growth +10.0%"
    plain_run = _save(page, "Growth 10%")
    page.click("#nav-versions")
    page.wait_for_selector("#version-table")
    listing = page.inner_text("#version-table")
    assert "Growth 20% with a lock" in listing and "Growth 10%" in listing
    page.check(f"tr[data-run='{locked_run}'] input[name=run]")
    page.check(f"tr[data-run='{plain_run}'] input[name=run]")
    page.click("#compare")
    page.wait_for_selector("#compare-table")
    from quotaopt.commands import compare as compare_runs

    runs = scenario.parent / "runs" / "example"
    table = compare_runs([runs / locked_run, runs / plain_run])
    shown = page.inner_text("#compare-table")
    for item in ("company_target", "total_quota"):
        first, second = table.loc[("headline", item)].drop("name").iloc[:2]
        assert f"{first:,.0f}" in shown and f"{second:,.0f}" in shown, item
    assert page.inner_text("#compare-head h2") == "Compare versions"
    assert "rep(s) differ" in page.inner_text("#rep-deltas")
    page.screenshot(path=str(ARTIFACTS / "03-compare.png"), full_page=False)
    _same_as_plan(runs / locked_run, scenario)

    # 4. Submit (with a script in the comment: it stays text), then approve.
    page.click("#nav-versions")
    row = page.locator(f"tr[data-run='{locked_run}']")
    row.locator("textarea.comment-in").fill("<script>window.pwned = 1</script> ready for review")
    row.locator("button.move[data-to=submitted]").click()
    page.wait_for_selector("#notice")
    assert page.inner_text("#notice") == f"{locked_run} is now submitted"
    row = page.locator(f"tr[data-run='{locked_run}']")
    assert "<script>window.pwned = 1</script> ready for review" in row.inner_text()
    assert page.evaluate("window.pwned") is None
    row.locator("textarea.comment-in").fill("approved in the planning meeting")
    row.locator("button.move[data-to=approved]").click()
    page.wait_for_function(f"document.querySelector(\"tr[data-run='{locked_run}']\").dataset.status === 'approved'")
    row = page.locator(f"tr[data-run='{locked_run}']")
    assert "approved read-only" in row.inner_text()
    assert row.locator("button.move").count() == 0  # an approved version cannot move again
    assert "approved by tester" in row.inner_text()
    page.screenshot(path=str(ARTIFACTS / "04-approved.png"), full_page=False)
    lines = [json.loads(x) for x in (runs.parent / "audit.jsonl").read_text().splitlines()]
    steps = [(x["status"], x["by"]) for x in lines if x.get("event") == "status" and x["run_id"] == locked_run]
    assert steps == [("draft", "tester"), ("submitted", "tester"), ("approved", "tester")]
    page.goto(f"{base}/s/example/versions/{locked_run}/report")
    assert "Approved by tester" in page.inner_text("#approval")
    assert errors == [], errors


def test_history_and_analysis_page(browser_page, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from quotaopt.cli import main

    page, base, scenario, errors = browser_page
    page.goto(f"{base}/s/example/history")
    for sid in ("periods", "units", "pareto", "growth", "customers", "repurchase"):
        assert page.locator(f"section#{sid} svg").count() == 1, sid
    out = tmp_path / "analysis.html"
    result = CliRunner().invoke(main, ["analyze", str(scenario), "--out", str(out)])
    assert result.exit_code == 0, result.output
    page.goto(out.as_uri())
    text = page.inner_text("main")
    for heading in ("Bookings by quarter and month", "Bookings by region and unit",
                    "The accounts that carry 80% of revenue", "Reps' year-on-year growth",
                    "New customers by year and unit", "Repurchase rate by year and unit"):
        assert heading in text
    assert re.search(r"\d[\d,]* of [\d,]+ accounts \([\d.]+%\) carry 80% of 2026's account revenue",
                     page.inner_text("#pareto-count"))
    assert page.locator("svg.chart").count() == 6  # the example has account ids, no product lines
    page.screenshot(path=str(ARTIFACTS / "05-analysis.png"), full_page=True)
    assert errors == [], errors
