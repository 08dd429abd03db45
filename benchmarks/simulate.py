"""Benchmark: Monte Carlo payouts for 10,000 reps x 10,000 draws x 4 quarters.

Every rep is on a quarterly plan (key accounts: marginal bonus, four bands and a cap;
long tail: retroactive commission with a threshold), with company and team shocks, a
three-level unit tree and a team bonus. A 1,000-rep run in the same process is the
baseline for the scaling ratio.

Usage::

    .venv/bin/python benchmarks/simulate.py [--reps 10000] [--draws 10000] [--workers 2]

Prints seconds and peak RSS per run; exits 1 if the large run misses 30 s or 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.incentives import simulate
from quotaopt.parallel import executor
from quotaopt.scenario import IncentivesConfig, SimulationConfig

LIMIT_S, LIMIT_GB = 30.0, 2.0

PLANS = IncentivesConfig.model_validate({
    "plans": [
        {"name": "ka", "applies_to": {"role": "ka"}, "kind": "bonus", "target_incentive": 60_000,
         "period": "quarter", "mode": "marginal", "cap": 3.0,
         "tiers": [{"from": 0, "to": 0.5, "rate": 0.5}, {"from": 0.5, "to": 1.0, "rate": 1.0},
                   {"from": 1.0, "to": 1.3, "rate": 1.5}, {"from": 1.3, "rate": 2.0}]},
        {"name": "longtail", "kind": "commission", "period": "quarter", "mode": "retroactive",
         "threshold": 0.5, "tiers": [{"from": 0, "to": 1, "rate": 0.05}, {"from": 1, "to": 1.5, "rate": 0.08},
                                     {"from": 1.5, "rate": 0.1}]},
    ],
    "team_bonus": {"threshold": 1.0, "per_rep": 5000},
})


def make_company(n_reps: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Reps in teams of 10 under regions of 10 teams under one company."""
    rng = np.random.default_rng(seed)
    n_teams = max(1, n_reps // 10)
    n_regions = max(1, n_teams // 10)
    team = rng.integers(0, n_teams, n_reps)
    p50 = rng.lognormal(13.0, 0.5, n_reps)
    reps = pd.DataFrame({
        "rep_id": [f"R{i:06d}" for i in range(n_reps)],
        "team_id": [f"T{t:05d}" for t in team],
        "role": np.where(rng.random(n_reps) < 0.4, "ka", "longtail"),
        "quota": np.round(p50 * rng.uniform(0.8, 1.3, n_reps), -3),
        "capacity_p10": p50 * rng.uniform(0.55, 0.8, n_reps),
        "capacity_p50": p50,
        "capacity_p90": p50 * rng.uniform(1.2, 1.8, n_reps),
    })
    team_quota = reps.groupby("team_id")["quota"].sum().reindex([f"T{t:05d}" for t in range(n_teams)], fill_value=0)
    region_of = np.arange(n_teams) % n_regions
    region_quota = np.bincount(region_of, weights=team_quota.to_numpy(), minlength=n_regions)
    units = pd.DataFrame({
        "unit_id": ["CO", *[f"G{g:04d}" for g in range(n_regions)], *team_quota.index],
        "parent_id": [None, *["CO"] * n_regions, *[f"G{g:04d}" for g in region_of]],
        "quota": [team_quota.sum(), *region_quota, *team_quota.to_numpy()],
    })
    return reps, units, float(team_quota.sum() / 1.1)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS mark (Linux >= 4.0); False where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(n_reps: int, draws: int, workers: int) -> tuple[float, float, dict[str, float]]:
    """Seconds and peak RSS (MB) of one simulate() call, plus its summary."""
    reps, units, target = make_company(n_reps)
    _reset_peak()
    start = time.perf_counter()
    res = simulate(reps, units, PLANS, SimulationConfig(draws=draws, seed=7), target, executor=executor(workers))
    return time.perf_counter() - start, _peak_mb(), res.summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--baseline", type=int, default=1_000, help="reps of the baseline run")
    args = parser.parse_args(argv)

    base_s, base_mb, _ = run(args.baseline, args.draws, args.workers)
    print(f"baseline {args.baseline:>6} reps x {args.draws} draws x 4 quarters: {base_s:6.2f} s, "
          f"peak RSS {base_mb:7.0f} MB")
    big_s, big_mb, summary = run(args.reps, args.draws, args.workers)
    print(f"large    {args.reps:>6} reps x {args.draws} draws x 4 quarters: {big_s:6.2f} s, "
          f"peak RSS {big_mb:7.0f} MB (workers={args.workers})")
    ratio = big_s / base_s
    print(f"time ratio {ratio:.1f}x for {args.reps / args.baseline:.0f}x the reps "
          f"({ratio / (args.reps / args.baseline):.2f} of linear)")
    print(f"summary: P(company target) {summary.p_company_target:.3f}, expected payout "
          f"{summary.expected_payout:,.0f}, cost of sales {summary.cost_of_sales:.2%}")
    ok = big_s < LIMIT_S and big_mb < LIMIT_GB * 1024
    print(("PASS" if ok else "FAIL") + f": limits {LIMIT_S:.0f} s and {LIMIT_GB:.0f} GB")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
