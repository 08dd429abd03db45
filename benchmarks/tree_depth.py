"""Validating and planning a deep team tree: a single chain of units, the worst case.

Run: ``.venv/bin/python benchmarks/tree_depth.py [--depths 1000 2000 5000 10000] [--plan 10000]``

For each depth it writes a company whose units form one chain (company -> U1 -> U2
...), with a few reps on the deepest and middle units, and times ``load_company`` (the
data checks, the team-tree cycle check among them). It prints the seconds, the ratio to
the smallest depth and the growth exponent between depths (1.0 = linear). Before #14 the
cycle check walked up from every unit and kept each walk in a list: 2,000 levels took
21 s and 10,000 more than 30 minutes; now every unit is walked once.
With ``--plan D`` it also times the whole plan at depth D (capacities given by hand).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from pathlib import Path

from quotaopt.io import load_company


def write_chain(folder: Path, depth: int) -> Path:
    """A company of ``depth`` units in one chain; returns its scenario file."""
    data = folder / "data"
    data.mkdir(parents=True)
    (data / "teams.csv").write_text("team_id,parent_id\nU0,\n" + "".join(f"U{i},U{i - 1}\n" for i in range(1, depth)))
    reps = [("R0", depth - 1, "ka"), ("R1", depth - 1, "longtail"), ("R2", depth // 2, "ka")]
    (data / "reps.csv").write_text("rep_id,team_id,role,hire_date\n" + "".join(
        f"{r},U{u},{role},2020-01-01\n" for r, u, role in reps))
    (data / "bookings.csv").write_text("date,rep_id,amount\n" + "".join(
        f"{y}-{m:02d}-15,R{r},{1000 * (r + 1)}\n" for y in (2025, 2026) for m in range(1, 13) for r in range(3)))
    (data / "capacity.csv").write_text("rep_id,p10,p50,p90\nR0,10000,12000,15000\nR1,20000,24000,30000\n"
                                       "R2,30000,36000,45000\n")
    scenario = folder / "chain.yaml"
    scenario.write_text("name: chain\ndata: data/\nplan_year: 2027\ncapacity: {model: given}\n"
                        "simulation: {draws: 200}\n")
    return scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depths", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--plan", type=int, default=None, help="Also time the whole plan at this depth.")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for depth in args.depths:
            scenario = write_chain(Path(tmp) / f"d{depth}", depth)
            start = time.perf_counter()
            load_company(scenario.parent / "data")
            rows.append((depth, time.perf_counter() - start))
        base_depth, base_s = rows[0]
        print("| depth | validate (s) | / smallest | growth exponent |")
        print("|---|---|---|---|")
        for i, (depth, seconds) in enumerate(rows):
            exponent = "" if i == 0 else f"{math.log(seconds / rows[i - 1][1]) / math.log(depth / rows[i - 1][0]):.2f}"
            print(f"| {depth:,} | {seconds:.3f} | {seconds / base_s:.1f}x | {exponent} |")
        if args.plan:
            from quotaopt.commands import plan

            scenario = write_chain(Path(tmp) / f"plan{args.plan}", args.plan)
            start = time.perf_counter()
            plan(scenario, out=Path(tmp) / "runs")
            print(f"whole plan at depth {args.plan:,}: {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
