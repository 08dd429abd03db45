"""Capacity model benchmark: fit/predict time at scale, and the backtest table.

Run: ``.venv/bin/python benchmarks/capacity.py [--reps 10000] [--years 3]``

1. Generates a company of ``--reps`` reps and ``--years`` years of history, trains the
   capacity model for the plan year (all complete years as targets) and predicts it.
   Goal: fit + predict under 60 s on 2 cores.
2. Backtests the last history year of a ``--bt-reps`` x ``--bt-years`` company against
   the baselines, with and without accounts.csv/territories.csv, and scores the P50
   against the generator's truth (truth_wape: expected bookings before shocks;
   truth_wape_shocks: after the year's company and team shocks).
3. With ``--compare``, the same backtest for the learners considered (the default
   blend, trees alone, quantile-loss boosting) over ``--seeds``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import pandas as pd

from quotaopt.backtest import backtest
from quotaopt.capacity import fit_capacity, predict_capacity
from quotaopt.data import load_company
from quotaopt.datasets import generate_company
from quotaopt.features import training_set

VARIANTS = {
    "conformal blend (default)": {},
    "conformal, trees only": {"linear_weight": 0.0},
    "quantile-loss boosting": {"method": "quantile"},
}


def _timed(label: str, func, *args, **kwargs):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    out = func(*args, **kwargs)
    print(f"  {label:<34} {time.perf_counter() - start:7.2f} s")
    return out


def scale(root: Path, reps: int, years: int, seed: int) -> None:
    end_year = 2026
    print(f"== fit and predict: {reps} reps x {years} years of history ==")
    folder = _timed("generate company", generate_company, root / "big", n_reps=reps, years=years, seed=seed,
                    end_year=end_year)
    company = _timed("load and validate", load_company, folder)
    plan_year = end_year + 1
    X, _ = _timed("features (training rows)", training_set, company, range(end_year - years + 2, plan_year),
                  as_of=plan_year)
    print(f"  training rows: {len(X)}, features: {X.shape[1]}")
    start = time.perf_counter()
    model = _timed("fit_capacity (features + fit)", fit_capacity, company, plan_year)
    cap = _timed("predict_capacity (features + predict)", predict_capacity, model, company, plan_year)
    print(f"  total fit + predict {time.perf_counter() - start:.2f} s for {len(cap)} active reps (goal < 60 s)")


def table(root: Path, reps: int, years: int, seeds: list[int], compare: bool) -> None:
    end_year = 2026
    for seed in seeds:
        folder = generate_company(root / f"bt{seed}", n_reps=reps, years=years, seed=seed, end_year=end_year)
        truth = pd.read_csv(folder / "truth" / "capacity.csv", dtype={"rep_id": "str"})
        bare = root / f"bare{seed}"
        shutil.copytree(folder, bare)
        (bare / "accounts.csv").unlink()
        (bare / "territories.csv").unlink()
        runs = VARIANTS if compare else {"conformal blend (default)": {}}
        for name, params in runs.items():
            for label, path in (("all files", folder), ("no accounts/territories", bare)):
                start = time.perf_counter()
                result = backtest(load_company(path), end_year, truth=truth, **params)  # type: ignore[arg-type]
                took = time.perf_counter() - start
                base = result.set_index("method").drop("model")
                model = result.set_index("method").loc["model"]
                gain = 1.0 - model["wape"] / base["wape"].min()
                print(f"\n== backtest {end_year}: {reps} reps x {years} years, seed {seed}, {name}, {label} "
                      f"({took:.1f} s) ==")
                print(result.round(4).to_string(index=False))
                print(f"  model WAPE vs best baseline ({base['wape'].idxmin()}): {gain:+.1%} lower; "
                      f"P10-P90 coverage {model['coverage_p10_p90']:.1%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--bt-reps", type=int, default=1_000)
    parser.add_argument("--bt-years", type=int, default=4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--compare", action="store_true", help="also backtest the other learners")
    parser.add_argument("--skip-scale", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="quotaopt-bench-") as tmp:
        root = Path(tmp)
        if not args.skip_scale:
            scale(root, args.reps, args.years, args.seeds[0])
        table(root, args.bt_reps, args.bt_years, args.seeds, args.compare)


if __name__ == "__main__":
    main()
