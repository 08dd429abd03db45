"""Run folders to track: a generated company and a plan built on it without the solver.

Shared by tests/test_tracking.py, tests/test_replan.py and benchmarks/tracking.py. The
plan uses the real period decomposition and run writer; only the quotas come from a
simple rule (capacity P50 x ``stretch``), so the tests do not depend on the allocation
solving a given company.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt import commands
from quotaopt.incentives import Z90, QuantileCurve
from quotaopt.io import load_inputs
from quotaopt.names import rep_names, unit_names, with_names
from quotaopt.periods import average_deal_size, decompose, learn_month_weights
from quotaopt.planning import PLAN_COLUMNS, UNIT_COLUMNS, PlanResult, Summary

PLAN_YEAR = 2027


def scenario_text(data: Path, split: str = "month", draws: int = 400, extra: str = "",
                  win_rate: float | None = None) -> str:
    """A scenario file for the generated company at ``data``."""
    return textwrap.dedent(f"""\
        name: trk
        data: {data}
        plan_year: {PLAN_YEAR}
        target:
          over_assignment: 0.10
        allocation:
          unit: 1000
          stretch: [0.8, 1.3]
          max_change: 0.30
          flex: 0.05
        periods:
          split: {split}
          seasonality: learned
          win_rate: {"null" if win_rate is None else win_rate}
        simulation:
          draws: {draws}
          seed: 11
          correlation: {{company: 0.1, team: 0.1}}
        tracking:
          red: 0.85
          green: 1.0
        """) + extra


def truth_capacity(data: Path, spread: float = 0.3) -> pd.DataFrame:
    """Capacity P10/P50/P90 from the generator's truth (P50 = expected plan-year bookings)."""
    truth = pd.read_csv(data / "truth" / "capacity.csv", dtype={"rep_id": "str"})
    year = truth[truth["year"] == PLAN_YEAR]
    p50 = year["capacity"].to_numpy(dtype=float)
    return pd.DataFrame({"rep_id": year["rep_id"].to_numpy(), "capacity_p10": np.round(p50 * np.exp(-Z90 * spread), 2),
                         "capacity_p50": np.round(p50, 2), "capacity_p90": np.round(p50 * np.exp(Z90 * spread), 2)})


def _subtree(teams: pd.DataFrame, direct: pd.Series) -> tuple[pd.Series, pd.Series]:
    parent = dict(zip(teams["team_id"], teams["parent_id"], strict=True))
    total = pd.Series(0.0, index=teams["team_id"])
    level = {}
    for team in teams["team_id"]:
        depth, cur = 0, parent[team]
        while isinstance(cur, str) and cur:
            depth, cur = depth + 1, parent[cur]
        level[team] = depth
    for team, value in direct.items():
        cur = team
        while isinstance(cur, str) and cur:
            total[cur] += value
            cur = parent[cur]
    return total, pd.Series(level)


def build_run(folder: Path, data: Path, capacity: pd.DataFrame, *, stretch: float = 1.0, split: str = "month",
              draws: int = 400, extra: str = "", quotas: pd.Series | None = None,
              win_rate: float | None = None) -> Path:
    """Plan the generated company at ``data``; return the run folder.

    Quota = ``quotas[rep_id]`` when given (P50 where missing), else P50 x ``stretch``,
    rounded to allocation.unit.
    """
    folder.mkdir(parents=True, exist_ok=True)
    scenario_path = folder / "trk.yaml"
    scenario_path.write_text(scenario_text(data, split, draws, extra, win_rate))
    inputs = load_inputs(scenario_path)
    scenario, company = inputs.scenario, inputs.company
    assert scenario is not None
    unit = scenario.allocation.unit
    reps = company.active_reps.merge(capacity, on="rep_id", how="inner").sort_values("rep_id").reset_index(drop=True)
    raw = reps["capacity_p50"].to_numpy() * stretch
    if quotas is not None:
        raw = reps["rep_id"].map(quotas).fillna(reps["capacity_p50"]).to_numpy(dtype=float)
    quota = np.round(raw / unit) * unit
    reps["quota"] = quota
    history = company.bookings[company.bookings["date"].dt.year < PLAN_YEAR]
    weights = learn_month_weights(history, groups=company.reps.set_index("rep_id")["role"])
    periods = decompose(reps[["rep_id", "team_id", "role", "hire_date", "quota"]], PLAN_YEAR, scenario.periods, unit,
                        weights, scenario.allocation.ramp, avg_deal_size=average_deal_size(history))
    curve = QuantileCurve.fit(reps["capacity_p10"], reps["capacity_p50"], reps["capacity_p90"])
    plan = with_names(reps, rep_names(reps, company.teams), "rep_id").assign(
        stretch=(quota / reps["capacity_p50"]).round(4),
        change=(quota / reps["last_quota"] - 1.0).round(4),
        p_attain=np.round(curve.prob_at_least(quota), 4),
        expected_payout=0.0, binding="none", quota=quota.astype("int64"),
    )[PLAN_COLUMNS]
    teams = company.teams
    quota_sum, level = _subtree(teams, plan.groupby("team_id")["quota"].sum())
    cap_sum, _ = _subtree(teams, plan.groupby("team_id")["capacity_p50"].sum())
    units = pd.DataFrame({
        "unit_id": teams["team_id"].to_numpy(), "parent_id": teams["parent_id"].to_numpy(),
        "level": level.reindex(teams["team_id"]).to_numpy(), "quota": quota_sum.reindex(teams["team_id"]).to_numpy(),
        "capacity_p50": cap_sum.reindex(teams["team_id"]).round(2).to_numpy(), "p_attain": np.nan,
    })
    units["quota"] = units["quota"].round().astype("int64")
    units = with_names(units, unit_names(teams), "unit_id")
    units = units[UNIT_COLUMNS].sort_values(["level", "unit_id"], kind="stable").reset_index(drop=True)
    total = int(plan["quota"].sum())
    summary = {"scenario": "trk", "plan_year": PLAN_YEAR, "company_target": round(total / 1.1, 2),
               "total_quota": total, "over_assignment": 0.1, "reps": len(plan), "units": len(units),
               "solver": {"backend": "rule", "status": "optimal"}}
    result = PlanResult(name="trk", plan_year=PLAN_YEAR, plan=plan, periods=periods, units=units,
                        summary=Summary.model_validate(summary))
    return commands.write_result(result, inputs, folder / "runs").path
