"""Runs by name (issue 16): `<runs>/<scenario>/latest` and `quotaopt runs list`."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from quotaopt.cli import main

from conftest import write_tiny_company


def _invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.output


def test_latest_names_the_newest_run_and_stands_for_it(tmp_path: Path) -> None:
    scenario, out = write_tiny_company(tmp_path), tmp_path / "runs"
    assert _invoke("plan", str(scenario), "--out", str(out))[0] == 0
    latest = out / "tiny" / "latest"
    first = latest.read_text()
    assert first.endswith("\n") and (out / "tiny" / first.strip()).is_dir()
    assert _invoke("plan", str(scenario), "--out", str(out))[0] == 0
    second = latest.read_text().strip()
    assert second != first.strip() and (out / "tiny" / second / "manifest.json").is_file()
    assert not [p for p in (out / "tiny").iterdir() if p.name.startswith(".latest")]  # no temp file left

    code, text = _invoke("compare", str(out / "tiny" / first.strip()), str(latest))
    assert code == 0, text
    code, text = _invoke("compare", str(out / "tiny" / second), str(latest))
    assert code == 2 and "the same run is given twice" in text

    code, text = _invoke("runs", "list", str(out))
    assert code == 0, text
    rows = [line for line in text.splitlines() if line.strip().startswith("tiny")]
    assert len(rows) == 2 and rows[1].rstrip().endswith("*") and not rows[0].rstrip().endswith("*")
    assert second in rows[1] and "1,475,000" in rows[1] and "optimal" in rows[1]
    code, text = _invoke("runs", "list", str(out), "--json")
    records = json.loads(text)
    assert [r["latest"] for r in records] == [False, True] and records[0]["kind"] == "plan"


def test_a_latest_that_names_nothing_is_an_input_error(tmp_path: Path) -> None:
    folder = tmp_path / "runs" / "s"
    folder.mkdir(parents=True)
    (folder / "latest").write_text("20270101T000000-deadbeef\n")
    code, text = _invoke("simulate", str(folder / "latest"))
    assert code == 2 and "names run 20270101T000000-deadbeef" in text and "Traceback" not in text
    (folder / "latest").write_text("../../elsewhere\n")
    code, text = _invoke("simulate", str(folder / "latest"))
    assert code == 2 and "does not name a run" in text
    code, text = _invoke("runs", "list", str(tmp_path / "nowhere"))
    assert code == 2 and "not a runs folder" in text
    code, text = _invoke("runs", "list", str(tmp_path / "runs"), "--scenario", "other")
    assert code == 2 and "no runs of scenario 'other'" in text
