"""Re-plans that hold: a company behind plan re-plans (exit 0), no ratchet, recalibration on the record."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.datasets import generate_company
from quotaopt.io import read_run
from quotaopt.planning import StoredRun
from test_allocation_cases import ONE, PATHS, Case, rep, run

from tracking_fixtures import build_run, truth_capacity

AS_OF = "2027-06-30"
FROZEN = [f"2027-{m:02d}" for m in range(1, 7)]


@pytest.fixture(scope="module")
def behind(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A 60-rep company whose quotas are 35% above what its reps can book: about 82% of pace at mid-year."""
    base = tmp_path_factory.mktemp("behind")
    data = generate_company(base / "data", n_reps=60, seed=4, actuals_through=AS_OF)
    return build_run(base / "none", data, truth_capacity(data), stretch=1.35), data


def _track(run_path: Path, data: Path, *extra: str) -> Any:
    return CliRunner().invoke(main, ["track", str(run_path), "--actuals", str(data / "actuals.csv"),
                                     "--as-of", AS_OF, *extra])


def _new_run(result: Any) -> Path:
    line = next(x for x in result.output.splitlines() if x.startswith("re-plan run: "))
    return Path(line.removeprefix("re-plan run: ").split(" (parent")[0])


def _change(run: StoredRun) -> dict[str, Any]:
    """The re-plan's change record as its manifest holds it."""
    assert run.manifest.replan is not None
    return run.manifest.replan.record()


def _remaining(run_path: Path) -> pd.Series:
    periods = read_run(run_path).periods
    return periods[~periods["period"].isin(FROZEN)].groupby("rep_id")["quota"].sum()


@pytest.fixture(scope="module")
def replanned(behind: tuple[Path, Path]) -> tuple[Path, Path, Any]:
    run_path, data = behind
    result = _track(run_path, data, "--replan")
    return run_path, _new_run(result), result


def test_a_company_behind_plan_replans_with_exit_0_and_lists_what_gave_way(replanned: tuple[Path, Path, Any]) -> None:
    parent, new, result = replanned
    assert result.exit_code == 0, result.output
    change = _change(read_run(new))
    summary = json.loads((new / "summary.json").read_text())
    assert summary["exceptions"] and change["exceptions"] == len(summary["exceptions"])
    assert {"unit", "rep", "limit", "allowed", "used", "amount", "reps", "message"} <= set(summary["exceptions"][0])
    stretch = [e for e in summary["exceptions"] if e["limit"] == "stretch_max"]
    assert stretch and all(e["used"] > e["allowed"] == 1.3 for e in stretch)
    assert "exceptions:" in result.output and "no ratchet" in result.output
    first = summary["exceptions"][0]["message"]
    assert first in result.output and first in (new / "report.html").read_text(encoding="utf-8")
    # The annual target stands: same total, past periods as they were.
    assert read_run(new).plan["quota"].sum() == read_run(parent).plan["quota"].sum()


def test_no_rep_ahead_of_pace_gets_a_higher_remaining_quota(replanned: tuple[Path, Path, Any]) -> None:
    parent, new, _ = replanned
    status = pd.read_csv(parent / f"track-{AS_OF}" / "status.csv", dtype={"id": "str"})
    reps = status[status["kind"] == "rep"].set_index("id")
    ahead = reps.index[reps["pace"] >= 1.0]
    assert len(ahead) >= 5
    before, after = _remaining(parent), _remaining(new)
    assert (after.reindex(ahead) <= before.reindex(ahead)).all()
    # The behind ones carry the rest (the company keeps its target), moved among themselves.
    behind_reps = reps.index[reps["pace"] < 1.0]
    assert after.reindex(behind_reps).sum() >= before.reindex(behind_reps).sum()
    assert (after.reindex(behind_reps) != before.reindex(behind_reps)).any()
    ratchet = _change(read_run(new))["ratchet"]
    assert ratchet["rule"] == "none" and ratchet["reps_ahead_of_pace"] == len(ahead)
    assert ratchet["reps_ahead_raised"] == 0


def test_ratchet_allow_is_the_old_behaviour(behind: tuple[Path, Path], tmp_path: Path) -> None:
    _, data = behind
    allow = build_run(tmp_path, data, truth_capacity(data), stretch=1.35, extra="replan:\n  ratchet: allow\n")
    result = _track(allow, data, "--replan")
    assert result.exit_code == 0, result.output
    ratchet = _change(read_run(_new_run(result)))["ratchet"]
    assert ratchet["rule"] == "allow" and ratchet["reps_ahead_raised"] > 0
    assert "ratchet allowed" in result.output


def test_the_replan_says_so_in_its_titles(replanned: tuple[Path, Path, Any], behind: tuple[Path, Path]) -> None:
    parent, new, _ = replanned
    parent_id, new_id = read_run(parent).run_id, read_run(new).run_id
    report = (new / "report.html").read_text(encoding="utf-8")
    title = report.split("<title>")[1].split("</title>")[0]
    assert f"Re-plan of run {parent_id} as of {AS_OF}" in title
    assert "2027-01 to 2027-06 (6 periods)" in report and "company target kept" in report
    status = (parent / f"track-{AS_OF}" / "status.html").read_text(encoding="utf-8")
    assert f"re-planned as run {new_id}" in status.split("</title>")[0]
    # Tracking the re-plan itself: its status page names what it is.
    _, data = behind
    again = CliRunner().invoke(main, ["track", str(new), "--actuals", str(data / "actuals.csv"), "--as-of", AS_OF])
    assert again.exit_code == 0, again.output
    page = (new / f"track-{AS_OF}" / "status.html").read_text(encoding="utf-8")
    assert f"of a re-plan (Re-plan of run {parent_id} as of {AS_OF})" in page.split("</title>")[0]


def test_recalibrate_resets_the_target_to_the_forecast_and_records_why(behind: tuple[Path, Path],
                                                                       tmp_path: Path) -> None:
    _, data = behind
    run_path = build_run(tmp_path, data, truth_capacity(data), stretch=1.35)
    parent = read_run(run_path)
    result = _track(run_path, data, "--recalibrate", "--reason", "competitor cut prices")
    assert result.exit_code == 0, result.output
    new = read_run(_new_run(result))
    status = pd.read_csv(run_path / f"track-{AS_OF}" / "status.csv", dtype={"id": "str"})
    forecast = float(status.loc[(status["kind"] == "unit") & (status["level"] == 0), "forecast_p50"].iloc[0])
    recal = _change(new)["recalibration"]
    assert recal["basis"] == "forecast_p50" and recal["reason"] == "competitor cut prices"
    assert recal["from_target"] == pytest.approx(parent.summary.company_target)
    assert recal["to_target"] == pytest.approx(forecast, abs=0.01)
    assert new.summary.company_target == pytest.approx(forecast, abs=0.01)
    # Same coverage (total quota / target), frozen periods kept, whole units.
    coverage = parent.summary.total_quota / parent.summary.company_target
    assert new.plan["quota"].sum() == recal["to_total_quota"]
    assert abs(new.plan["quota"].sum() - forecast * coverage) <= 500
    assert new.plan["quota"].sum() < parent.plan["quota"].sum()
    audit = [json.loads(x) for x in (parent.runs_root / "audit.jsonl").read_text().splitlines()]
    line = next(a for a in audit if a["run_id"] == new.run_id)
    assert line["recalibration"]["from_target"] == recal["from_target"]
    assert line["recalibration"]["to_target"] == recal["to_target"]
    assert line["recalibration"]["reason"] == "competitor cut prices"
    assert line["headline"]["company_target"] == pytest.approx(forecast, abs=0.01)
    assert "company target recalibrated from" in result.output


def test_recalibrate_to_a_growth_given(behind: tuple[Path, Path], tmp_path: Path) -> None:
    _, data = behind
    run_path = build_run(tmp_path, data, truth_capacity(data), stretch=1.35)
    result = _track(run_path, data, "--recalibrate", "--growth", "-0.05", "--reason", "market down 5%")
    assert result.exit_code == 0, result.output
    new = read_run(_new_run(result))
    bookings = pd.read_csv(data / "bookings.csv", parse_dates=["date"])
    base = float(bookings.loc[bookings["date"].dt.year == 2026, "amount"].sum())
    recal = _change(new)["recalibration"]
    assert recal["basis"] == "growth" and recal["growth"] == -0.05
    assert recal["to_target"] == pytest.approx(0.95 * base, abs=0.01)


@pytest.mark.parametrize(("args", "needle"), [
    (["--recalibrate"], "--reason"),
    (["--replan", "--growth", "0.1"], "--growth: only applies with --recalibrate"),
    (["--recalibrate", "--growth", "-2", "--reason", "x"], "--growth: must be a number above -1"),
    (["--recalibrate", "--growth", "-0.99", "--reason", "x"], "the smallest target that works is"),
])
def test_recalibration_options_that_do_not_fit_exit_2_and_write_nothing(behind: tuple[Path, Path], tmp_path: Path,
                                                                        args: list[str], needle: str) -> None:
    _, data = behind
    run_path = build_run(tmp_path, data, truth_capacity(data), stretch=1.35)
    result = _track(run_path, data, *args)
    assert result.exit_code == 2, result.output
    assert needle in result.output and "Traceback" not in result.output
    assert not (run_path / f"track-{AS_OF}").exists()
    assert [p.name for p in run_path.parent.iterdir() if p.is_dir()] == [run_path.name]


# --- max_quota: the allocation's per-rep ceiling (hand-solved) ---------------------------------

def _capped(rid: str, team: str, p50: float, cap: float, **kw: Any) -> dict[str, Any]:
    return {**rep(rid, team, p50, **kw), "max_quota": cap}


# Fair stretch 1.2 would give a 120, but its ceiling is 110; b takes the rest.
CEILING = Case("max_quota cap", [_capped("a", "T", 100, 110), rep("b", "T", 100)], ONE, 240, [110, 130], 0.0,
               config={"stretch": (0.5, 2.0)}, binding=["max_quota", "fairness"])
# a's ceiling 70 is below its stretch floor 80: the ceiling wins, a gets 70; b 200 - 70.
BELOW_FLOOR = Case("max_quota below the stretch floor", [_capped("a", "T", 100, 70), rep("b", "T", 100)], ONE, 200,
                   [70, 130], 0.0, binding=["max_quota", "stretch_max"])


@pytest.mark.parametrize(("backend", "unit_solver"), PATHS, ids=lambda v: str(v))
@pytest.mark.parametrize("case", [CEILING, BELOW_FLOOR], ids=lambda c: c.name)
def test_max_quota_is_a_ceiling_the_allocation_honours(case: Case, backend: str, unit_solver: str) -> None:
    result = run(case, backend, unit_solver=unit_solver)
    np.testing.assert_array_equal(result.reps["quota"].to_numpy(), case.quotas)
    assert list(result.reps["binding"]) == case.binding
    assert result.reps["upper_bound"].iloc[0] == case.reps[0]["max_quota"]


def test_a_ceiling_that_cannot_carry_the_total_is_infeasible_and_named() -> None:
    from quotaopt.errors import InfeasibleError

    # Stretch is soft, so one capped rep alone is carried by the other; two caps below the
    # total are a hard limit, and the message names them.
    case = Case("too low", [_capped("a", "T", 100, 50), _capped("b", "T", 100, 60)], ONE, 250, [], 0.0)
    with pytest.raises(InfeasibleError, match="the most that works is 110"):
        run(case, "highs")
