"""Run folders: atomic, never overwritten, audited, verified when read back."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd
import pytest

from quotaopt.errors import InputError
from quotaopt.io import STAGING, clean_stale_staging, csv_bytes, json_bytes, read_run, write_run
from quotaopt.io._atomic import host_name


def _files(summary: dict[str, object] | None = None) -> dict[str, bytes]:
    plan = pd.DataFrame({"rep_id": ["A", "B"], "team_id": ["T", "T"], "quota": [1000, 2000]})
    units = pd.DataFrame({"unit_id": ["T"], "parent_id": [None], "level": [0], "quota": [3000]})
    periods = pd.DataFrame({"rep_id": ["A", "B"], "period": ["2027-Q1", "2027-Q1"], "quota": [1000, 2000]})
    return {"plan.csv": csv_bytes(plan), "plan_periods.csv": csv_bytes(periods), "units.csv": csv_bytes(units),
            "summary.json": json_bytes(summary or {"scenario": "s", "plan_year": 2027, "company_target": 3000.0,
                                                   "total_quota": 3000})}


def test_run_lands_whole_with_manifest_and_audit(tmp_path: Path) -> None:
    written = write_run(tmp_path, "s", _files(), {"inputs": {"x": "1"}}, audit={"headline": {"q": 1}})
    assert written.path.parent == tmp_path / "s"
    names = sorted(p.name for p in written.path.iterdir())
    assert names == ["manifest.json", "plan.csv", "plan_periods.csv", "summary.json", "units.csv"]
    manifest = json.loads((written.path / "manifest.json").read_text())
    assert set(manifest["outputs"]) == {"plan.csv", "plan_periods.csv", "units.csv", "summary.json"}
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert audit[0]["run_id"] == written.run_id and audit[0]["headline"] == {"q": 1}
    assert not any((tmp_path / STAGING).iterdir())
    run = read_run(written.path)
    assert list(run.plan["rep_id"]) == ["A", "B"]


@pytest.mark.parametrize(("summary", "key", "why"), [
    ({"scenario": "s", "plan_year": 2027, "company_target": 1.0, "p_company": 0.5}, "p_company", "Extra inputs"),
    ({"scenario": "s", "plan_year": 2027, "company_target": 1.0, "solver": {"backend": "highs"}}, "solver.status",
     "Field required"),
    ({"scenario": "s", "plan_year": "next", "company_target": 1.0}, "plan_year", "valid integer"),
])
def test_a_summary_that_does_not_fit_is_named_by_key(tmp_path: Path, summary: dict[str, object], key: str,
                                                      why: str) -> None:
    written = write_run(tmp_path, "s", _files(summary), {"inputs": {}}, audit={})
    with pytest.raises(InputError) as caught:
        read_run(written.path)
    text = str(caught.value)
    assert f"summary.json:{key}" in text and why in text and "\n" not in text


def test_second_run_never_overwrites_the_first(tmp_path: Path) -> None:
    first = write_run(tmp_path, "s", _files(), {"inputs": {}}, audit={})
    before = {p.name: p.read_bytes() for p in first.path.iterdir()}
    second = write_run(tmp_path, "s", _files(), {"inputs": {}}, audit={})
    assert second.path != first.path
    assert {p.name: p.read_bytes() for p in first.path.iterdir()} == before
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 2


def test_failure_while_writing_leaves_nothing(tmp_path: Path) -> None:
    def boom() -> bytes:
        raise RuntimeError("disk on fire")

    files: dict = {**_files(), "report.html": boom}
    with pytest.raises(RuntimeError):
        write_run(tmp_path, "s", files, {"inputs": {}}, audit={})
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())
    assert not any((tmp_path / STAGING).iterdir())
    assert not (tmp_path / "audit.jsonl").exists()


def test_stale_staging_of_dead_process_is_removed(tmp_path: Path) -> None:
    host = host_name()
    stale = tmp_path / STAGING / f"qo-{host}-999999999-abcdef12"
    stale.mkdir(parents=True)
    mine = tmp_path / STAGING / f"qo-{host}-{os.getpid()}-0123abcd"
    mine.mkdir()
    clean_stale_staging(tmp_path)
    assert not stale.exists()
    assert mine.exists()


def test_edited_plan_file_is_refused(tmp_path: Path) -> None:
    written = write_run(tmp_path, "s", _files(), {"inputs": {}}, audit={})
    (written.path / "plan.csv").write_text("rep_id,quota\nA,1\n")
    with pytest.raises(InputError, match="differs from the SHA-256"):
        read_run(written.path)
