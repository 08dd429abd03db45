"""Golden result files: whole scenarios planned and compared byte for byte with tests/golden/.

Other tests prove that two runs agree; these prove that a run is still *the* run: the
tiny hand-written company (tests/conftest.py) and the shipped 60-rep example
(scenarios/example.yaml). A change that moves any byte of plan.csv, units.csv,
plan_periods.csv or summary.json fails here.

To accept a change on purpose, rewrite the files and review the diff before committing::

    QUOTAOPT_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
    git diff tests/golden/
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import quotaopt as qo

from conftest import write_tiny_company

GOLDEN = Path(__file__).parent / "golden"
REPO = Path(__file__).resolve().parents[1]
#: The files compared; manifest.json (paths, versions, timings) and the reports are not.
FILES = ("plan.csv", "units.csv", "plan_periods.csv", "summary.json")
#: Set to 1 to rewrite the golden files from this checkout's results.
UPDATE_ENV = "QUOTAOPT_UPDATE_GOLDEN"


def _check(name: str, run: Path) -> None:
    folder = GOLDEN / name
    if os.environ.get(UPDATE_ENV) == "1":
        folder.mkdir(parents=True, exist_ok=True)
        for file in FILES:
            (folder / file).write_bytes((run / file).read_bytes())
        return
    for file in FILES:
        expected = folder / file
        assert expected.is_file(), f"{expected} is missing: run with {UPDATE_ENV}=1 to write it"
        assert (run / file).read_bytes() == expected.read_bytes(), (
            f"{name}/{file} differs from {expected}; if the change is meant, rerun with {UPDATE_ENV}=1 "
            "and review `git diff tests/golden/`")


def test_tiny_company_matches_its_golden_files(tmp_path: Path) -> None:
    _, written = qo.plan(write_tiny_company(tmp_path), out=tmp_path / "runs")
    _check("tiny", written.path)


@pytest.mark.slow
def test_shipped_example_matches_its_golden_files(tmp_path: Path) -> None:
    _, written = qo.plan(REPO / "scenarios" / "example.yaml", out=tmp_path / "runs")
    _check("example", written.path)
