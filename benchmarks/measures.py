"""``plan`` with several measures against the revenue-only plan, in the same process.

Run: ``.venv/bin/python benchmarks/measures.py [--reps 10000] [--draws 10000]``

Generates a company with two product lines (``generate_company(product_lines=2)``) and
plans it three times in one process: revenue only, then revenue + both lines + new
customers (``measures: [revenue, "revenue:Devices", "revenue:Services", new_customers]``),
then revenue only again (the two revenue-only runs are averaged, so warm caches favour
neither side). Goal (issue #19): the measures plan within 2x the revenue-only plan's time.
Prints each run's stages and the ratio.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

SCENARIO = """\
name: {name}
data: data/
target: {{growth: 0.05, over_assignment: 0.05}}
capacity: {{model: train}}
{measures}
allocation:
  unit: 1000
  stretch: [0.7, 1.5]
  flex: 0.15
  solver: {{backend: highs, time_limit: 600, mip_gap: 0.001, threads: 1}}
periods: {{split: month, seasonality: learned}}
incentives:
  plans:
    - name: all
      kind: bonus
      target_incentive: 20000
      period: quarter
      tiers:
        - {{from: 0.0, to: 1.0, rate: 1.0}}
        - {{from: 1.0, rate: 2.0}}
      cap: 2.5
simulation: {{draws: {draws}, seed: 7}}
"""
MEASURES = 'measures: [revenue, "revenue:Devices", "revenue:Services", new_customers]'


def _plan(folder: Path, name: str) -> tuple[float, dict[str, float]]:
    from quotaopt.api import plan

    start = time.perf_counter()
    result, _ = plan(folder / f"{name}.yaml", out=folder / "runs")
    return time.perf_counter() - start, result.timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--draws", type=int, default=10_000)
    args = parser.parse_args()
    from quotaopt.datasets import generate_company

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        generate_company(folder / "data", n_reps=args.reps, years=3, seed=11, product_lines=2)
        (folder / "revenue.yaml").write_text(SCENARIO.format(name="revenue", measures="", draws=args.draws))
        (folder / "measures.yaml").write_text(SCENARIO.format(name="measures", measures=MEASURES, draws=args.draws))
        runs = [("revenue", *_plan(folder, "revenue")), ("measures", *_plan(folder, "measures")),
                ("revenue", *_plan(folder, "revenue"))]
    print(f"== plan with measures vs revenue only: {args.reps:,} reps, {args.draws:,} draws ==")
    for name, seconds, timings in runs:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in timings.items() if not k.startswith("solver_"))
        print(f"  {name:<9} {seconds:7.2f} s   ({stages})")
    revenue = (runs[0][1] + runs[2][1]) / 2
    ratio = runs[1][1] / revenue
    print(f"measures / revenue-only = {ratio:.2f} (goal <= 2.0): {'ok' if ratio <= 2.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
