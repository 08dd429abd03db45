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

from end_to_end import SCENARIO as E2E_SCENARIO  # the same plan, so the numbers compare

MEASURES = 'measures: [revenue, "revenue:Devices", "revenue:Services", new_customers]'


def _scenario(name: str, measures: str, draws: int) -> str:
    """end_to_end.py's scenario under another name, with ``measures`` added."""
    text = E2E_SCENARIO.format(draws=draws).replace("name: bench\n", f"name: {name}\n")
    return text.replace("data: data/\n", f"data: data/\n{measures}\n" if measures else "data: data/\n")


def _plan(folder: Path, name: str) -> tuple[float, dict[str, float]]:
    from quotaopt.commands import plan

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
        (folder / "revenue.yaml").write_text(_scenario("revenue", "", args.draws))
        (folder / "measures.yaml").write_text(_scenario("measures", MEASURES, args.draws))
        runs = [("revenue", *_plan(folder, "revenue")), ("measures", *_plan(folder, "measures")),
                ("revenue", *_plan(folder, "revenue"))]
    print(f"== plan with measures vs revenue only: {args.reps:,} reps, {args.draws:,} draws ==")
    for name, seconds, timings in runs:
        stages = ", ".join(f"{k} {v:.2f}" for k, v in timings.items() if not k.startswith("solver") and not k.endswith("_s"))
        print(f"  {name:<9} {seconds:7.2f} s   ({stages})")
    revenue = (runs[0][1] + runs[2][1]) / 2
    ratio = runs[1][1] / revenue
    print(f"measures / revenue-only = {ratio:.2f} (goal <= 2.0): {'ok' if ratio <= 2.0 else 'MISSED'}")


if __name__ == "__main__":
    main()
