"""Allocation benchmark: build and solve time per backend, monolithic vs decomposed.

Companies are generated in memory (quotaopt.allocation.synthetic), ~12.5 reps a team.

    .venv/bin/python benchmarks/allocation.py                      # 1,000 / 10,000 / 100,000 reps
    .venv/bin/python benchmarks/allocation.py --sizes 1000 --backends highs cbc ortools

Slow combinations are skipped with a printed note: CBC and OR-Tools above 10,000 reps
(their per-model overhead is 3-5x HiGHS's), and the monolithic model above 1,000 reps
(it stops on the time limit; see docs/allocation.md).
"""

from __future__ import annotations

import argparse
import time

from quotaopt.allocation import allocate
from quotaopt.allocation.synthetic import make_company
from quotaopt.errors import QuotaOptError
from quotaopt.scenario import AllocationConfig


def run(n: int, backend: str, decompose: bool, workers: int, time_limit: float, gap: float) -> None:
    reps, teams, total = make_company(n, seed=42, locked_frac=0.02, fixed_frac=0.05)
    cfg = AllocationConfig(unit=1000, max_change=0.5, flex=0.1,
                           solver={"backend": backend, "mip_gap": gap, "time_limit": time_limit})
    start = time.perf_counter()
    try:
        result = allocate(reps, teams, total, cfg, 2027, decompose=decompose, workers=workers)
    except QuotaOptError as exc:
        print(f"{n:>7} {backend:<8} {'decomp' if decompose else 'mono':<7} {workers:>2}  failed: {exc}")
        return
    wall = time.perf_counter() - start
    s = result.solver
    print(f"{n:>7} {backend:<8} {s['mode'][:6]:<7} {workers:>2} {wall:8.2f} {s['build_s']:8.2f} "
          f"{s['solve_s']:8.2f} {s['status']:<9} {s['gap']:8.2e} {s['objective']:10.4f} "
          f"{s['max_deviation']:8.4f} {s['n_solves']:>6} {len(teams):>6}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["highs", "cbc", "ortools"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-serial", action="store_true", help="only the --workers run when it is > 1")
    parser.add_argument("--gap", type=float, default=1e-3, help="relative MIP gap (default 0.1%%)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--monolithic-max", type=int, default=1000, help="largest size for the monolithic model")
    parser.add_argument("--slow-backend-max", type=int, default=10_000, help="largest size for cbc / ortools")
    args = parser.parse_args()
    print("   reps backend  mode    wk   wall_s  build_s  solve_s status         gap  objective  max_dev solves  units")
    print("   (build_s / solve_s are summed over solves and processes; wall_s is end to end)")
    for n in args.sizes:
        for backend in args.backends:
            if backend != "highs" and n > args.slow_backend_max:
                print(f"{n:>7} {backend:<8} skipped: slow at this size (raise --slow-backend-max to run)")
                continue
            if not (args.skip_serial and args.workers > 1):
                run(n, backend, True, 1, args.time_limit, args.gap)
            if args.workers > 1:
                run(n, backend, True, args.workers, args.time_limit, args.gap)
            if n <= args.monolithic_max:
                run(n, backend, False, 1, min(args.time_limit, 30.0), args.gap)
            else:
                print(f"{n:>7} {backend:<8} mono    skipped: the monolithic model stops on its time limit "
                      f"above {args.monolithic_max} reps")


if __name__ == "__main__":
    main()
