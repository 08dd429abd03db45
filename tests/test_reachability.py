"""Targets from reachability, the target-capacity gap and its guardrail, the planning frontier.

A generated company with capacities given by hand (``capacity.model: given``, from the
generator's truth), so these numbers do not move with the fitted capacity model.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.datasets import generate_company

SCENARIO = """\
name: {name}
data: data/
plan_year: 2027
capacity: {{model: given}}
target: {target}
allocation: {{unit: 1000, stretch: [0.8, 1.3]}}
simulation: {{draws: 2000, seed: 3}}
incentives:
  plans:
    - name: all
      kind: bonus
      target_incentive: 10000
      tiers:
        - {{from: 0.0, to: 1.0, rate: 1.0}}
        - {{from: 1.0, rate: 2.0}}
"""


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("reach")
    data = generate_company(root / "data", n_reps=120, years=3, seed=8, end_year=2026)
    truth = pd.read_csv(data / "truth" / "capacity.csv", dtype={"rep_id": str})
    reps = pd.read_csv(data / "reps.csv", dtype={"rep_id": str})
    active = reps.loc[reps["status"] == "active", "rep_id"]
    p50 = truth[truth["year"] == 2027].set_index("rep_id")["capacity"].reindex(active).fillna(200_000.0)
    given = pd.DataFrame({"rep_id": active.to_numpy(), "p10": (0.7 * p50).round(2).to_numpy(),
                          "p50": p50.round(2).to_numpy(), "p90": (1.35 * p50).round(2).to_numpy()})
    given.to_csv(data / "capacity.csv", index=False)
    return root


def _plan(root: Path, name: str, target: str) -> tuple[int, str, dict]:
    path = root / f"{name}.yaml"
    path.write_text(SCENARIO.format(name=name, target=target))
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(root / "runs")])
    runs = sorted((root / "runs" / name).glob("*/summary.json"))
    summary = json.loads(runs[-1].read_text()) if runs and result.exit_code == 0 else {}
    return result.exit_code, result.output, summary


def test_reps_at_quota_picks_the_total_that_share_of_reps_reaches(company: Path) -> None:
    code, output, summary = _plan(company, "reach60", "{reps_at_quota: 0.6}")
    assert code == 0, output
    assert summary["reps_expected"]["ge_100"] == pytest.approx(0.6, abs=0.02)
    assert summary["target_basis"]["kind"] == "reps_at_quota"
    assert summary["target_basis"]["expected_at_quota"] == pytest.approx(0.6, abs=0.002)
    assert not summary["guardrail"]["below"] and "warning" not in output


def test_p_company_picks_the_target_met_with_that_chance(company: Path) -> None:
    code, output, summary = _plan(company, "p80", "{p_company: 0.8}")
    assert code == 0, output
    assert summary["p_company_target"] == pytest.approx(0.8, abs=1e-3)
    assert summary["target_basis"] == {**summary["target_basis"], "kind": "p_company", "p_company": 0.8}


def test_target_gap_and_guardrail_are_said_out_loud(company: Path) -> None:
    code, output, summary = _plan(company, "grow40", "{growth: 0.4}")
    assert code == 0, output
    gap = summary["target_gap"]
    plan = pd.read_csv(sorted((company / "runs" / "grow40").glob("*/plan.csv"))[-1])
    assert gap["capacity_p50"] == pytest.approx(plan["capacity_p50"].sum())
    assert gap["total_quota"] == plan["quota"].sum()
    assert gap["quota_over_p50"] == pytest.approx(plan["quota"].sum() / plan["capacity_p50"].sum() - 1)
    assert gap["bookings_p10"] < gap["bookings_p50"] < gap["bookings_p90"]
    # 40% growth over the history sets most reps up to miss: the guardrail says so everywhere.
    guard = summary["guardrail"]
    assert guard["below"] and guard["share_at_quota"] < 0.5 and guard["min_share_at_quota"] == 0.5
    assert "warning: only" in output and "against capacity P50" in output
    report = sorted((company / "runs" / "grow40").glob("*/report.html"))[-1].read_text()
    assert 'class="banner warn"' in report and "Target against capacity" in report


def test_mutually_exclusive_target_keys_are_an_input_error(company: Path) -> None:
    code, output, _ = _plan(company, "both", "{growth: 0.1, reps_at_quota: 0.6}")
    assert code == 2
    assert "target" in output and "reps_at_quota" in output


def test_frontier_prints_and_writes_a_monotone_table(company: Path) -> None:
    path = company / "frontier.yaml"
    path.write_text(SCENARIO.format(name="frontier", target="{growth: 0.0}"))
    result = CliRunner().invoke(main, ["frontier", str(path), "--from", "-0.1", "--to", "0.6", "--step", "0.1",
                                       "--draws", "1000", "--out", str(company / "runs")])
    assert result.exit_code == 0, result.output
    [folder] = (company / "runs" / "frontier").glob("frontier-*")
    table = pd.read_csv(folder / "frontier.csv")
    assert len(table) == 8 and (table["status"] == "ok").all()
    assert np.all(np.diff(table["p_company_target"]) <= 0)
    assert np.all(np.diff(table["reps_at_quota"]) <= 0) and np.all(np.diff(table["reps_below_80"]) >= 0)
    assert table["exceptions"].iloc[0] == 0 and table["exceptions"].iloc[-1] > 0
    assert np.all(np.diff(table["expected_payout"]) <= 0)
    page = (folder / "frontier.html").read_text()
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org", "")
    lines = result.output.splitlines()
    assert sum(line.strip().startswith(("-", "0", "1", "2", "3", "4", "5", "6")) for line in lines) >= 8


def test_strict_plan_beyond_the_limits_is_one_short_actionable_line(company: Path) -> None:
    path = company / "strict.yaml"
    path.write_text(SCENARIO.format(name="strict", target="{growth: 0.6}").replace("stretch: [0.8, 1.3]}",
                                                                                   "stretch: [0.8, 1.3], strict: true}"))
    result = CliRunner().invoke(main, ["plan", str(path), "--out", str(company / "runs")])
    assert result.exit_code == 3, result.output
    line = result.output.strip()
    assert "\n" not in line and len(line) < 400
    assert "(+60.0% growth) cannot be planned within the limits; the most that works is" in line
    assert "stretch <= " in line and "would carry" in line
    details = company / "runs" / "strict" / "infeasibility.csv"
    assert f"details: {details}" in line
    assert [p.name for p in details.parent.iterdir()] == ["infeasibility.csv"]  # no run folder
    assert set(pd.read_csv(details).columns) >= {"unit_id", "reps_carry_most", "short_by", "gives_way"}
