"""``allocation.locks``: quotas fixed in the scenario, over reps.csv, honoured exactly; bad ones named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from click.testing import CliRunner

from quotaopt.cli import main


def _plan(tiny: Path, extra: str) -> tuple[int, str, pd.DataFrame | None]:
    child = tiny.parent / "locked.yaml"
    child.write_text(f"extends: tiny.yaml\nname: locked\n{extra}")
    result = CliRunner().invoke(main, ["plan", str(child), "--workers", "1"])
    runs = tiny.parent / "runs" / "locked"
    plan = None
    if result.exit_code == 0:
        (folder,) = runs.iterdir()
        plan = pd.read_csv(folder / "plan.csv", dtype={"rep_id": str}).set_index("rep_id")
    return result.exit_code, result.output, plan


def test_a_lock_is_honoured_and_the_team_reshares(tiny: Path) -> None:
    code, output, plan = _plan(tiny, "allocation:\n  locks: {A2: 250000}\n")
    assert code == 0, output
    assert plan is not None
    assert plan.loc["A2", "quota"] == 250000
    assert plan.loc["A2", "binding"] == "locked"


def test_null_unlocks_a_reps_csv_lock(tiny: Path) -> None:
    reps = tiny.parent / "data" / "reps.csv"
    text = reps.read_text().replace("A2,EU,longtail,2020-06-15,1,active,Bob,200000,",
                                    "A2,EU,longtail,2020-06-15,1,active,Bob,200000,230000")
    reps.write_text(text)
    code, output, plan = _plan(tiny, "allocation:\n  locks: {A2: null}\n")
    assert code == 0, output
    assert plan is not None and plan.loc["A2", "binding"] != "locked"


def test_bad_locks_are_input_errors_naming_the_key(tiny: Path) -> None:
    code, output, _ = _plan(tiny, "allocation:\n  locks: {ZZ9: 1000, A1: 1234.5}\n")
    assert code == 2
    assert "allocation.locks.ZZ9: no active rep 'ZZ9' to lock" in output
    assert "allocation.locks.A1: locked quota 1234.5 is not a whole multiple of allocation.unit" in output
    code, output, _ = _plan(tiny, "allocation:\n  locks: {A1: -5}\n")
    assert code == 2 and "allocation.locks.A1" in output
