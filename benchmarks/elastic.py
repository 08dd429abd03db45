"""Soft limits that give way: what the elastic model costs against a plan that holds.

For each size, one synthetic company (quotaopt.allocation.synthetic, ~12 reps a team,
max_change 30%, 2% locked, 5% fixed targets) is allocated at
three totals: ``holds`` (sum of P50 x 1.05: every limit holds, the fast path), ``tight``
(x 1.30: some pools give stretch or max_change) and ``short`` (x 1.60: the whole company
beyond its stretch limit). Each row prints wall and CPU seconds, the ratio to the
``holds`` row of the same size (measured in this process, so load cancels), the number
of exceptions and the money they move, and the plan's stretch spread.

    .venv/bin/python benchmarks/elastic.py --sizes 1000 10000 100000
"""

from __future__ import annotations

import argparse
import resource
import time

from quotaopt.allocation import allocate
from quotaopt.allocation.synthetic import make_company
from quotaopt.errors import InfeasibleError
from quotaopt.scenario import AllocationConfig

CASES = (("holds", 1.0), ("tight", 1.30 / 1.05), ("short", 1.60 / 1.05))


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    return own.ru_utime + own.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeat", type=int, default=2, help="runs per row (the fastest is shown)")
    args = parser.parse_args()
    cfg = AllocationConfig(unit=1000, max_change=0.3, flex=0.05)
    print(f"{'reps':>8} {'case':>6} {'wall s':>8} {'cpu s':>8} {'x holds':>8} {'exceptions':>10} "
          f"{'moved':>14} {'stretch max':>11}")
    for n in args.sizes:
        reps, teams, total = make_company(n, seed=42, locked_frac=0.02, fixed_frac=0.05)
        base = None
        for name, factor in CASES:
            best = None
            for _ in range(args.repeat):
                c0, t0 = cpu_seconds(), time.perf_counter()
                try:
                    result = allocate(reps, teams, total * factor, cfg, 2027)
                except InfeasibleError as exc:
                    print(f"{n:>8} {name:>6} infeasible at the hard limits: {exc}")
                    result = None
                    break
                wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                if best is None or cpu < best[1]:
                    best = (wall, cpu, result)
            if best is None or result is None:
                continue
            wall, cpu, result = best
            base = base or cpu
            moved = sum(e.amount for e in result.exceptions)
            stretch = (result.reps["quota"] / reps["capacity_p50"].to_numpy()).max()
            print(f"{n:>8} {name:>6} {wall:>8.2f} {cpu:>8.2f} {cpu / base:>8.1f} {len(result.exceptions):>10} "
                  f"{moved:>14,.0f} {stretch:>11.3f}")


if __name__ == "__main__":
    main()
