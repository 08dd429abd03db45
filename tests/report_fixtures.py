"""A synthetic PlanResult for the report tests: every table and summary key, seeded."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quotaopt.planning import PLAN_COLUMNS, UNIT_COLUMNS, PlanResult, Summary

EVIL_REP = "<script>alert(1)</script>"
EVIL_TEAM = "=cmd|' /C calc'!A0"
EVIL_NAME = "<b>Mallory</b> =HYPERLINK(1)"


def make_result(n_reps: int = 40, *, status: str = "optimal", gap: float | None = 0.0,
                distributions: bool = True, periods: str = "quarter", seed: int = 5) -> PlanResult:
    """A plan of ``n_reps`` reps over a three-level tree (CO -> 2 regions -> 4 teams)."""
    rng = np.random.default_rng(seed)
    teams = ["T1", "T2", "T3", EVIL_TEAM]
    units = pd.DataFrame({
        "unit_id": ["CO", "EU", "US", *teams],
        "parent_id": [None, "CO", "CO", "EU", "EU", "US", "US"],
        "level": [0, 1, 1, 2, 2, 2, 2],
    })
    p50 = rng.lognormal(np.log(400_000), 0.4, n_reps).round(2)
    stretch = rng.uniform(0.85, 1.25, n_reps)
    quota = (np.round(p50 * stretch / 1000) * 1000).astype("int64")
    last = np.where(rng.random(n_reps) < 0.8, (quota * rng.uniform(0.8, 1.1, n_reps)).round(-3), np.nan)
    p_attain = np.clip(1.2 - 0.75 * stretch + rng.normal(0, 0.05, n_reps), 0.01, 0.99).round(4)
    binding = rng.choice(["stretch_max", "max_change", "fairness", "ka_share"], n_reps)
    rep_ids = [f"R{i:05d}" for i in range(n_reps)]
    rep_ids[0] = EVIL_REP
    team_names = {"T1": "Team One", "T2": "Team Two", "T3": "Team Three", EVIL_TEAM: EVIL_TEAM}
    plan = pd.DataFrame({
        "rep_id": rep_ids,
        "name": [EVIL_NAME if i == 1 else f"Rep Person {i}" for i in range(n_reps)],
        "team_id": [teams[i % len(teams)] for i in range(n_reps)],
        "team_name": [team_names[teams[i % len(teams)]] for i in range(n_reps)],
        "role": np.where(np.arange(n_reps) % 3 == 0, "ka", "longtail"),
        "capacity_p10": (p50 * 0.7).round(2), "capacity_p50": p50, "capacity_p90": (p50 * 1.35).round(2),
        "quota": quota, "stretch": (quota / p50).round(4), "last_quota": last,
        "change": np.round(quota / last - 1.0, 4), "p_attain": p_attain,
        "expected_payout": (p_attain * 12_000).round(2), "binding": binding,
    })[PLAN_COLUMNS]
    by_team = plan.groupby("team_id")[["quota", "capacity_p50"]].sum()
    for unit in ("T1", "T2", "T3", EVIL_TEAM):
        units.loc[units["unit_id"] == unit, ["quota", "capacity_p50"]] = by_team.loc[unit].to_numpy()
    for region, kids in (("EU", ["T1", "T2"]), ("US", ["T3", EVIL_TEAM])):
        units.loc[units["unit_id"] == region, ["quota", "capacity_p50"]] = by_team.loc[kids].sum().to_numpy()
    units.loc[units["unit_id"] == "CO", ["quota", "capacity_p50"]] = by_team.sum().to_numpy()
    units["p_attain"] = [0.35, 0.55, 0.7, 0.62, 0.45, 0.2, 0.81]
    units["name"] = ["Company", "Europe", "Americas", "Team One", "Team Two", "Team Three", EVIL_TEAM]
    units = units[UNIT_COLUMNS]
    labels = {"quarter": [f"2027-Q{q}" for q in range(1, 5)], "week": [f"2027-W{w:02d}" for w in range(1, 53)]}[periods]
    share = np.full(len(labels), 1.0 / len(labels))
    per = np.floor(np.outer(quota, share))
    per[:, -1] += quota - per.sum(axis=1)
    period_frame = pd.DataFrame({
        "rep_id": np.repeat(rep_ids, len(labels)), "period": np.tile(labels, n_reps), "quota": per.ravel(),
    })
    target = float(quota.sum()) / 1.1
    summary: dict[str, Any] = {
        "scenario": "fy2027 <base>", "plan_year": 2027, "company_target": round(target, 2),
        "target_basis": {"kind": "growth", "growth": 0.18, "base_year": 2026, "base_bookings": round(target / 1.18, 2)},
        "total_quota": int(quota.sum()), "over_assignment": 0.1, "over_assignment_requested": 0.1,
        "reps": n_reps, "units": len(units), "p_company_target": 0.64, "expected_payout": 512_000.5,
        "payout_p10": 430_000.0, "payout_p50": 505_000.0, "payout_p90": 610_000.0, "cost_of_sales": 0.043,
        "reps_expected": {"ge_100": 0.45, "80_100": 0.35, "lt_80": 0.2},
        "fairness": {"stretch_min": 0.85, "stretch_max": 1.25, "stretch_mean": 1.05, "stretch_std": 0.11,
                     "stretch_spread": 0.4, "p_attain_min": 0.05, "p_attain_max": 0.6},
        "solver": {"backend": "highs", "status": status, "objective": 12.5, "gap": gap, "bound": 12.4,
                   "n_solves": 3},
        "capacity": {"model": "train", "total_p50": round(float(p50.sum()), 2), "market_growth": 0.0},
        "simulation": {"draws": 2000, "seed": 7},
        "binding_counts": {str(k): int(v) for k, v in plan["binding"].value_counts().sort_index().items()},
        "bookings_credit_notes": 3,
        "allocation_notes": [f"rep {EVIL_REP} (team T): quota 2.25M is -39% on last quota 3.7M, beyond max_change "
                             "30%, because stretch <= 1.3 against P50 1.73M comes first"],
    }
    dists: dict[str, np.ndarray] = {}
    if distributions:
        dists = {
            "company_bookings": rng.normal(target * 1.02, target * 0.05, 2000),
            "total_payout": rng.normal(512_000, 60_000, 2000),
            "rep_attainment": rng.lognormal(0.0, 0.25, 2000),
        }
    return PlanResult(name=summary["scenario"], plan_year=2027, plan=plan, periods=period_frame, units=units,
                      summary=Summary.model_validate(summary), distributions=dists, timings={"allocation": 1.0})
