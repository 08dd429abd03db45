"""Allocation benchmark: wall and CPU time per solve path, and monolithic vs decomposed.

Companies are generated in memory (quotaopt.allocation.synthetic), ~12 reps a team.

    .venv/bin/python benchmarks/allocation.py                       # 100 / 1,000 / 10,000 / 100,000 reps
    .venv/bin/python benchmarks/allocation.py --sizes 1000 --backends highs cbc ortools

Rows, per size and backend:

- ``exact``: stage A through the backend, every unit by the exact unit solver (default path);
- ``milp``: every unit as its own two-stage MILP through the backend (1 and ``--workers`` processes);
- ``mono``: one model over the whole tree, three lexicographic solves.

The machine is shared, so besides wall time each row reports CPU seconds (this process
plus its worker processes, which are shut down after each run so that their CPU,
start-up included, is counted) and both as ratios to ``ref``: the CPU seconds of a
fixed in-process workload timed at start (the 1,000-rep company solved with
``unit_solver="milp"``, the previous default path) and again at the end. Ratios travel
between machines and loads better than seconds. ``x_milp`` is the speed-up in CPU time
over the ``milp`` row of the same size run in this process.
Slow combinations are skipped with a printed note (see the options).
"""

from __future__ import annotations

import argparse
import resource
import time
from dataclasses import dataclass

from quotaopt.allocation import AllocationResult, allocate
from quotaopt.allocation.decompose import shutdown_pools
from quotaopt.allocation.synthetic import make_company
from quotaopt.errors import QuotaOptError
from quotaopt.scenario import AllocationConfig


def cpu_seconds() -> float:
    """User + system CPU of this process and its reaped children."""
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


@dataclass
class Run:
    n: int
    path: str
    backend: str
    workers: int
    wall: float
    cpu: float
    result: AllocationResult | None
    error: str = ""


def run(n: int, backend: str, path: str, workers: int, time_limit: float, gap: float) -> Run:
    reps, teams, total = make_company(n, seed=42, locked_frac=0.02, fixed_frac=0.05)
    cfg = AllocationConfig(unit=1000, max_change=0.5, flex=0.1,
                           solver={"backend": backend, "mip_gap": gap, "time_limit": time_limit})
    c0, t0 = cpu_seconds(), time.perf_counter()
    try:
        result: AllocationResult | None = allocate(
            reps, teams, total, cfg, 2027, decompose=path != "mono", workers=workers,
            unit_solver="milp" if path == "milp" else "exact")
        error = ""
    except QuotaOptError as exc:
        result, error = None, str(exc)
    wall = time.perf_counter() - t0
    shutdown_pools()  # reap the workers so that RUSAGE_CHILDREN holds their CPU time
    return Run(n, path, backend, workers, wall, cpu_seconds() - c0, result, error)


def reference() -> float:
    """CPU seconds of a fixed workload (the yardstick for the ratio columns)."""
    return run(1000, "highs", "milp", 1, 60.0, 1e-3).cpu


def show(r: Run, ref: float, milp_cpu: dict[tuple[int, str], float]) -> None:
    head = f"{r.n:>7} {r.backend:<8} {r.path:<6} {r.workers:>2}"
    if r.result is None:
        print(f"{head}  failed: {r.error}", flush=True)
        return
    s = r.result.solver.record()
    base = milp_cpu.get((r.n, r.backend))
    speed = f"{base / r.cpu:7.1f}" if base and r.path != "milp" else "      -"
    units = len(r.result.units)
    print(f"{head} {r.wall:8.2f} {r.cpu:8.2f} {r.wall / ref:8.2f} {r.cpu / ref:8.2f} {speed} {s['status']:<9} "
          f"{s['gap']:8.1e} {s['objective']:10.5f} {s['max_deviation']:8.4f} {s['n_solves']:>6} {units:>6}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[100, 1000, 10_000, 100_000])
    parser.add_argument("--backends", nargs="+", default=["highs", "cbc", "ortools"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--gap", type=float, default=1e-3, help="relative MIP gap (default 0.1%%)")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per solve")
    parser.add_argument("--milp-max", type=int, default=10_000, help="largest size for the per-unit MILP rows")
    parser.add_argument("--monolithic-max", type=int, default=1000, help="largest size for the monolithic model")
    parser.add_argument("--slow-backend-max", type=int, default=1000, help="largest size for cbc / ortools")
    args = parser.parse_args()
    ref = reference()
    print(f"ref = {ref:.2f} CPU s (1,000 reps, per-unit MILPs, 1 process, in this process)")
    print("   reps backend  path   wk   wall_s    cpu_s wall/ref  cpu/ref  x_milp status         gap  objective"
          "  max_dev solves  units")
    milp_cpu: dict[tuple[int, str], float] = {}
    runs: list[Run] = []
    for n in args.sizes:
        for backend in args.backends:
            if backend != "highs" and n > args.slow_backend_max:
                print(f"{n:>7} {backend:<8} skipped: slow at this size (raise --slow-backend-max to run)")
                continue
            plan = []
            if n <= args.milp_max:
                plan.append(("milp", 1))
                if args.workers > 1 and backend == "highs":
                    plan.append(("milp", args.workers))
            plan.append(("exact", 1))
            if n <= args.monolithic_max:
                plan.append(("mono", 1))
            for path, workers in plan:
                r = run(n, backend, path, workers, args.time_limit, args.gap)
                if path == "milp" and workers == 1:
                    milp_cpu[(n, backend)] = r.cpu
                runs.append(r)
                show(r, ref, milp_cpu)
            if n > args.monolithic_max:
                print(f"{n:>7} {backend:<8} mono    skipped: above --monolithic-max {args.monolithic_max}")
    print(f"ref again = {reference():.2f} CPU s (load drift between start and end)")
    compare(runs)


def compare(runs: list[Run]) -> None:
    """Monolithic against decomposed (exact units): same objective levels, one model vs many."""
    print("\nmonolithic vs decomposed (same lexicographic objective; objective = sum of unit maxima)")
    print("   reps backend  decomp_obj   mono_obj  mono-decomp  mono_status mono_gap  decomp_s   mono_s  ratio")
    by = {(r.n, r.backend, r.path): r for r in runs if r.workers == 1}
    for (n, backend, path), mono in by.items():
        dec = by.get((n, backend, "exact"))
        if path != "mono" or dec is None or dec.result is None or mono.result is None:
            continue
        d, m = dec.result.solver.record(), mono.result.solver.record()
        print(f"{n:>7} {backend:<8} {d['objective']:10.5f} {m['objective']:10.5f} {m['objective'] - d['objective']:12.2e} "
              f"{m['status']:<11} {m['gap']:8.1e} {dec.wall:9.2f} {mono.wall:8.2f} {mono.wall / dec.wall:6.0f}x")


if __name__ == "__main__":
    main()
