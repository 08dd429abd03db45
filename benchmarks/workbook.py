"""Benchmark: plan.xlsx (every sheet people work in) against a plain spreadsheet export.

The baseline, in the same process, is what a spreadsheet user gets from pandas: the
plan, the units and the periods in long format written with ``DataFrame.to_excel``
(xlsxwriter engine), no formats, no formulas. quotaopt's workbook writes more (Summary
in words, the rep x period grid with SUM formulas, the unit tree, Exceptions, the
Overrides sheet) and should stay within a small factor of it.

Usage::

    .venv/bin/python benchmarks/workbook.py [--reps 1000 10000] [--periods month]

Prints seconds and file size per size and the ratio to the baseline.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.planning import PLAN_COLUMNS, UNIT_COLUMNS, PlanResult
from quotaopt.report import render_xlsx


def synthetic_result(n_reps: int, split: str, seed: int = 0) -> PlanResult:
    """A plan of ``n_reps`` reps in teams of 10 under 10 regions, with ``split`` periods."""
    rng = np.random.default_rng(seed)
    teams = [f"TM{i:05d}" for i in range(max(n_reps // 10, 1))]
    regions = [f"RG{i:02d}" for i in range(10)]
    p50 = rng.lognormal(np.log(400_000), 0.4, n_reps).round(2)
    quota = (np.round(p50 * rng.uniform(0.85, 1.25, n_reps) / 1000) * 1000).astype("int64")
    team = [teams[i % len(teams)] for i in range(n_reps)]
    plan = pd.DataFrame({
        "rep_id": [f"RP{i:07d}" for i in range(n_reps)], "name": [f"Rep {i}" for i in range(n_reps)],
        "team_id": team, "team_name": [f"Team {t}" for t in team], "role": np.where(rng.random(n_reps) < 0.3, "ka",
                                                                                      "longtail"),
        "capacity_p10": (p50 * 0.7).round(2), "capacity_p50": p50, "capacity_p90": (p50 * 1.3).round(2),
        "quota": quota, "stretch": (quota / p50).round(4), "last_quota": (quota * 0.95).round(-3),
        "change": 0.0526, "p_attain": rng.uniform(0.1, 0.9, n_reps).round(4),
        "expected_payout": rng.uniform(1000, 50_000, n_reps).round(2), "binding": "fairness",
    })[PLAN_COLUMNS]
    units = pd.DataFrame({
        "unit_id": ["CO", *regions, *teams], "name": ["Company", *regions, *teams],
        "parent_id": [None, *["CO"] * len(regions), *[regions[i % 10] for i in range(len(teams))]],
        "level": [0, *[1] * len(regions), *[2] * len(teams)], "quota": 0, "capacity_p50": 0.0, "p_attain": 0.5,
    })[UNIT_COLUMNS]
    labels = {"quarter": [f"2027-Q{q}" for q in range(1, 5)], "month": [f"2027-{m:02d}" for m in range(1, 13)],
              "week": [f"2027-W{w:02d}" for w in range(1, 53)]}[split]
    per = np.floor(np.outer(quota, np.full(len(labels), 1.0 / len(labels))))
    per[:, -1] += quota - per.sum(axis=1)
    periods = pd.DataFrame({"rep_id": np.repeat(plan["rep_id"].to_numpy(), len(labels)),
                            "period": np.tile(labels, n_reps), "quota": per.ravel()})
    summary = {"scenario": "bench", "plan_year": 2027, "company_target": float(quota.sum()) / 1.1,
               "total_quota": int(quota.sum()), "reps": n_reps, "units": len(units), "exceptions": [],
               "solver": {"backend": "highs", "status": "optimal", "gap": 0.0}}
    return PlanResult(name="bench", plan_year=2027, plan=plan, periods=periods, units=units, summary=summary)


def baseline(result: PlanResult) -> bytes:
    """The plain export: three frames through ``DataFrame.to_excel``."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="xlsxwriter") as writer:
        result.plan.to_excel(writer, sheet_name="plan", index=False)
        result.units.to_excel(writer, sheet_name="units", index=False)
        result.periods.to_excel(writer, sheet_name="periods", index=False)
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--periods", choices=["quarter", "month", "week"], default="month")
    args = parser.parse_args(argv)
    print(f"{'reps':>8}  {'split':>7}  {'baseline s':>10}  {'plan.xlsx s':>11}  {'ratio':>6}  {'MB base':>7}  "
          f"{'MB ours':>7}")
    for n in args.reps:
        result = synthetic_result(n, args.periods)
        start = time.perf_counter()
        plain = baseline(result)
        t_base = time.perf_counter() - start
        start = time.perf_counter()
        ours = render_xlsx(result)
        t_ours = time.perf_counter() - start
        print(f"{n:>8}  {args.periods:>7}  {t_base:>10.2f}  {t_ours:>11.2f}  {t_ours / t_base:>6.2f}  "
              f"{len(plain) / 1e6:>7.1f}  {len(ours) / 1e6:>7.1f}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    sys.exit(main())
