"""Real data is odd: tiny companies, holes in the history, ids stored as numbers.

Each case was found by running the commands on such data and getting an unexpected
error (exit 1); each must now plan, or stop with exit 2 and a line that says why.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.capacity import observed_years
from quotaopt.cli import main
from quotaopt.datasets import generate_company
from quotaopt.io import load_company

SCENARIO = """\
name: odd
data: data/
plan_year: 2027
target: {growth: 0.05, over_assignment: 0.05}
allocation: {unit: 1000, stretch: [0.5, 2.0], flex: 0.3}
simulation: {draws: 500, seed: 1}
"""


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate_company(tmp_path_factory.mktemp("odd") / "data", n_reps=30, years=4, seed=4, end_year=2026)


def _copy(company: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    shutil.copytree(company, data, ignore=shutil.ignore_patterns("truth"))
    (tmp_path / "odd.yaml").write_text(SCENARIO)
    return data


def _plan(tmp_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["plan", str(tmp_path / "odd.yaml"), "--out", str(tmp_path / "runs")])
    return result.exit_code, result.output


def test_a_company_of_one_rep_is_planned(company: Path, tmp_path: Path) -> None:
    data = _copy(company, tmp_path)
    reps = pd.read_csv(data / "reps.csv", dtype=str)
    established = reps[(reps["status"] == "active") & (reps["hire_date"] < "2023-01-01")].iloc[:1]
    established.to_csv(data / "reps.csv", index=False)
    keep = set(established["rep_id"])
    for name in ("bookings", "accounts"):
        frame = pd.read_csv(data / f"{name}.csv", dtype=str)
        frame[frame["rep_id"].isin(keep)].to_csv(data / f"{name}.csv", index=False)
    # The other teams stay, empty.
    territories = pd.read_csv(data / "territories.csv", dtype=str)
    accounts = pd.read_csv(data / "accounts.csv", dtype=str)
    territories[territories["territory_id"].isin(accounts["territory_id"])].to_csv(data / "territories.csv",
                                                                                    index=False)
    code, output = _plan(tmp_path)
    assert code == 0, output
    (run,) = [p for p in (tmp_path / "runs" / "odd").iterdir() if p.is_dir()]
    plan = pd.read_csv(run / "plan.csv")
    assert len(plan) == 1 and plan["quota"].iloc[0] > 0


def test_a_year_without_any_booking_is_a_hole_not_zero_sales(company: Path, tmp_path: Path) -> None:
    data = _copy(company, tmp_path)
    bookings = pd.read_csv(data / "bookings.csv", dtype=str)
    bookings[~bookings["date"].str.startswith("2025")].to_csv(data / "bookings.csv", index=False)
    assert observed_years(load_company(data)) == [2023, 2024, 2026]
    code, output = _plan(tmp_path)
    # The model learns 2024 from 2023; 2026 has no year before it, and 2025 is not zeros.
    assert code == 0, output
    (run,) = [p for p in (tmp_path / "runs" / "odd").iterdir() if p.is_dir()]
    plan = pd.read_csv(run / "plan.csv")
    assert plan["capacity_p50"].median() > 100_000
    # Only the hole left: too little history, said plainly, by validate as by plan.
    bookings[~bookings["date"].str[:4].isin(["2023", "2025"])].to_csv(data / "bookings.csv", index=False)
    code, output = _plan(tmp_path)
    assert code == 2, output
    assert "two consecutive full calendar years" in output and "capacity.model: given" in output
    checked = CliRunner().invoke(main, ["validate", str(tmp_path / "odd.yaml")])
    assert checked.exit_code == 2 and "two consecutive full calendar years" in checked.output


def test_only_plan_year_hires_get_finite_capacities_and_a_clear_answer(company: Path, tmp_path: Path) -> None:
    data = _copy(company, tmp_path)
    reps = pd.read_csv(data / "reps.csv", dtype=str)
    reps = reps[reps["status"] == "active"].assign(hire_date="2027-01-04", last_quota="")
    reps.to_csv(data / "reps.csv", index=False)
    for name in ("bookings", "accounts"):
        frame = pd.read_csv(data / f"{name}.csv", dtype=str)
        frame[frame["rep_id"].isin(set(reps["rep_id"]))].to_csv(data / f"{name}.csv", index=False)
    bookings = pd.read_csv(data / "bookings.csv", dtype=str)
    # Keep a company history booked by people who have left, so only the training rows are missing.
    reps_all = pd.read_csv(company / "reps.csv", dtype=str)
    gone = reps_all[reps_all["status"] == "departed"]
    old = pd.read_csv(company / "bookings.csv", dtype=str)
    pd.concat([reps, gone]).to_csv(data / "reps.csv", index=False)
    pd.concat([bookings.iloc[:0], old[old["rep_id"].isin(set(gone["rep_id"]))]]).to_csv(data / "bookings.csv",
                                                                                         index=False)
    code, output = _plan(tmp_path)
    # Their capacities are bounded by what the history saw (once infinite), so the
    # answer is a business one: hires ramping in their first year cannot carry last
    # year's total booked by people who left, not even with every soft limit given way.
    assert code == 3, output
    assert "ramp caps" in output and "expected a finite number" not in output
    assert len(output.strip().splitlines()) == 1 and len(output.strip()) < 400


def test_ids_stored_as_numbers_in_parquet_load_as_text(company: Path, tmp_path: Path) -> None:
    data = _copy(company, tmp_path)
    names = ("teams", "reps", "bookings", "accounts", "territories")
    frames = {name: pd.read_csv(data / f"{name}.csv", dtype=str) for name in names}
    ids = sorted({v for f in frames.values() for c in f.columns if c.endswith("_id") for v in f[c].dropna()})
    number = {v: i + 1 for i, v in enumerate(ids)}
    first_team = frames["teams"]["team_id"].iloc[0]
    for name, frame in frames.items():
        for column in [c for c in frame.columns if c.endswith("_id")]:
            # Every id becomes a distinct integer; a missing id stays missing (nullable Int64).
            frame[column] = pd.array(frame[column].map(number), dtype="Int64")
        (data / f"{name}.csv").unlink()
        frame.to_parquet(data / f"{name}.parquet", index=False)
    loaded = load_company(data)
    assert loaded.teams["team_id"].iloc[0] == str(number[first_team])
    assert loaded.teams["parent_id"].isna().sum() == 1  # the root, as from a CSV
    code, output = _plan(tmp_path)
    assert code == 0, output


def test_half_a_first_year_is_no_base_for_a_growth_target(company: Path, tmp_path: Path) -> None:
    from quotaopt.errors import InputError
    from quotaopt.io import load_scenario
    from quotaopt.planning import company_target

    data = _copy(company, tmp_path)
    bookings = pd.read_csv(data / "bookings.csv", dtype=str)
    bookings[bookings["date"] >= "2026-07-01"].to_csv(data / "bookings.csv", index=False)
    scenario = load_scenario(tmp_path / "odd.yaml")
    with pytest.raises(InputError) as info:
        company_target(scenario, load_company(data), 2027)
    assert "there is none" in str(info.value) and "2026-07" in str(info.value) and "target.company" in str(info.value)
    # With a complete year before it, that year is the base (not the half year after it).
    full = pd.read_csv(company / "bookings.csv", dtype=str)
    full[full["date"] < "2026-07-01"].to_csv(data / "bookings.csv", index=False)
    target, basis = company_target(scenario, load_company(data), 2027)
    assert basis.base_year == 2025
    assert basis.base_bookings is not None
    assert target == pytest.approx(basis.base_bookings * 1.05**2)


def test_whole_number_float_ids_from_parquet_match_integer_ids(company: Path, tmp_path: Path) -> None:
    data = _copy(company, tmp_path)
    teams = pd.read_csv(data / "teams.csv", dtype=str)
    number = {v: i + 1 for i, v in enumerate(teams["team_id"])}
    teams["team_id"] = teams["team_id"].map(number).astype("int64")
    teams["parent_id"] = teams["parent_id"].map(number)  # the root's NaN makes this float64: 1.0, 2.0 ...
    assert teams["parent_id"].dtype == "float64"
    (data / "teams.csv").unlink()
    teams.to_parquet(data / "teams.parquet", index=False)
    reps = pd.read_csv(data / "reps.csv", dtype=str)
    reps["team_id"] = reps["team_id"].map(number).astype("int64")
    (data / "reps.csv").unlink()
    reps.to_parquet(data / "reps.parquet", index=False)
    loaded = load_company(data)
    assert set(loaded.teams["parent_id"].dropna()) <= set(loaded.teams["team_id"])


def _plan_with_first_active_rep(company: Path, tmp_path: Path, column: str, value: str) -> tuple[str, int, str]:
    """Set ``column`` of the first active rep to ``value``, plan; return its id, exit code, output."""
    data = _copy(company, tmp_path)
    reps = pd.read_csv(data / "reps.csv", dtype=str)
    row = reps.index[reps["status"] == "active"][0]
    reps.loc[row, column] = value
    reps.to_csv(data / "reps.csv", index=False)
    return str(reps.loc[row, "rep_id"]), *_plan(tmp_path)


def test_an_active_rep_hired_after_the_plan_year_is_named(company: Path, tmp_path: Path) -> None:
    rep_id, code, output = _plan_with_first_active_rep(company, tmp_path, "hire_date", "2028-03-01")
    assert code == 2, output
    assert f"rep {rep_id}: hire_date 2028-03-01 is after plan year 2027" in output
    assert "np." not in output and not (tmp_path / "runs").exists()


def test_numbers_in_messages_keep_their_digits(company: Path, tmp_path: Path) -> None:
    _, code, output = _plan_with_first_active_rep(company, tmp_path, "locked_quota", "1234567.89")
    assert code == 2, output
    assert "locked_quota 1234567.89 is not a whole multiple of allocation.unit 1000" in output


def test_planning_in_the_autumn_uses_the_last_twelve_months(company: Path, tmp_path: Path) -> None:
    import json

    from quotaopt.capacity._rolling import months_short, shifted

    data = _copy(company, tmp_path)
    bookings = pd.read_csv(data / "bookings.csv", dtype=str)
    bookings[bookings["date"] <= "2026-08-31"].to_csv(data / "bookings.csv", index=False)
    loaded = load_company(data)
    assert months_short(loaded, 2027) == 4
    assert months_short(load_company(company), 2027) == 0  # a complete 2026: nothing to shift
    seen = shifted(loaded, 4)
    assert seen.bookings["date"].max() == pd.Timestamp("2026-12-31")  # 31 August + 4 months
    assert seen.last_complete_year() == 2026
    # A rep hired after the last booking keeps their own date (from the end of the shifted history).
    late = loaded.reps["hire_date"] > pd.Timestamp("2026-08-31")
    assert (seen.reps.loc[late, "hire_date"] >= pd.Timestamp("2027-01-01")).all()
    code, output = _plan(tmp_path)
    assert code == 0, output
    (run,) = [p for p in (tmp_path / "runs" / "odd").iterdir() if p.is_dir()]
    summary = json.loads((run / "summary.json").read_text())
    assert summary["capacity"]["history_months_short"] == 4
    assert summary["target_basis"]["base_year"] == 2025  # targets still grow from the last complete year
    result = CliRunner().invoke(main, ["train", str(tmp_path / "odd.yaml"), "--model-out", str(tmp_path / "model")])
    assert result.exit_code == 0, result.output
