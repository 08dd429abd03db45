"""Benchmark the synthetic company generator.

Generates ``--reps`` reps x ``--years`` years into a temporary folder and prints the
seconds taken and the rows written; in the same process it times a ``--baseline``
company (1,000 reps by default) and prints the ratio, so numbers from machines of
different speed can be compared. The big folder is then checked with
``quotaopt.io.load_company`` (the 10,000-rep check kept out of the test suite).

Run from the repository root::

    .venv/bin/python benchmarks/generate.py --reps 10000 --years 3
    .venv/bin/python benchmarks/generate.py --reps 100000 --fmt parquet --no-load
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from quotaopt.datasets import generate_company


def _timed(out: Path, reps: int, years: int, seed: int, fmt: str) -> tuple[float, int]:
    start = time.perf_counter()
    folder = generate_company(out, n_reps=reps, years=years, seed=seed, fmt=fmt)
    seconds = time.perf_counter() - start
    counts = json.loads((folder / "truth" / "meta.json").read_text())["counts"]
    return seconds, int(sum(counts.values()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000, help="reps of the timed company")
    parser.add_argument("--years", type=int, default=3, help="years of history")
    parser.add_argument("--baseline", type=int, default=1_000, help="reps of the baseline company")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--fmt", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--no-load", action="store_true", help="skip the load_company check")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="quotaopt-bench-") as tmp:
        base_s, base_rows = _timed(Path(tmp) / "baseline", args.baseline, args.years, args.seed, args.fmt)
        big_s, big_rows = _timed(Path(tmp) / "big", args.reps, args.years, args.seed, args.fmt)
        print(f"baseline  {args.baseline:>7} reps x {args.years} years: {base_s:7.2f} s, {base_rows:>10,} rows")
        print(f"timed     {args.reps:>7} reps x {args.years} years: {big_s:7.2f} s, {big_rows:>10,} rows")
        print(f"ratio     {big_s / base_s:7.2f} x time for {args.reps / args.baseline:.1f} x reps")
        if not args.no_load:
            from quotaopt.io import load_company

            start = time.perf_counter()
            company = load_company(Path(tmp) / "big")
            print(
                f"load_company: ok in {time.perf_counter() - start:.2f} s "
                f"({len(company.active_reps):,} active reps, {len(company.bookings):,} bookings)"
            )


if __name__ == "__main__":
    main()
