"""End-to-end timing of ``quotaopt plan`` by stage, with peak memory, against baselines.

For each size it generates a company (Parquet above 10,000 reps), then runs the whole
plan in a child process (so peak memory is that size's own) and records the time of
each stage: load and validate, capacity, allocation, periods, simulation, writing. In
the same child it times the baselines a user would otherwise pick: the spreadsheet
method (the target split by last year's share, in pandas) and, up to --monolithic-max
reps, the single monolithic MILP. It prints ratios, fits the growth exponent of each
stage between the two largest sizes, and writes BENCHMARKS.md.

    python benchmarks/end_to_end.py                      # 1,000 and 10,000 reps
    python benchmarks/end_to_end.py --sizes 1000 10000 100000 --write BENCHMARKS.md
    python benchmarks/end_to_end.py --sizes 10000 100000 --load-only   # the reading stage alone

Each size also runs the load-and-validate stage (what ``plan`` does before the capacity
stage) on its own in two more children: with quotaopt's columnar reader, and with the
reading path of quotaopt 0.x as the baseline (pandas' CSV and Parquet readers, every
cell a Python string), printing the time ratio and the memory each holds after loading.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SCENARIO = """\
name: bench
data: data/
target: {{growth: 0.05, over_assignment: 0.05}}
capacity: {{model: train}}
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

#: Everything after this line of the --write file is kept when the tables are rewritten.
NOTES_MARKER = "<!-- notes: kept by end_to_end.py -->"

STAGES = ["load", "capacity", "allocation", "periods", "simulation", "writing"]


def child(folder: Path, workers: int, monolithic: bool) -> dict:
    """Run one plan in this process and time its stages (called in a subprocess)."""
    import pandas as pd

    from quotaopt.commands import plan

    marks: list[tuple[str, float]] = [("load", time.perf_counter())]
    peaks: dict[str, float] = {}  # the process's peak RSS when each stage ended

    def progress(stage: str) -> None:
        name = stage if stage in STAGES else "writing"
        if marks[-1][0] != name:
            peaks[marks[-1][0]] = peak_mb()
            marks.append((name, time.perf_counter()))

    result, written = plan(folder / "bench.yaml", out=folder / "runs", progress=progress, workers=workers)
    peaks[marks[-1][0]] = peak_mb()
    marks.append(("end", time.perf_counter()))
    stages = {name: round(marks[i + 1][1] - t, 3) for i, (name, t) in enumerate(marks[:-1])}

    # Baseline 1: the spreadsheet method - the company total split by last year's share.
    from quotaopt.io import load_company

    company = load_company(folder / "data")
    start = time.perf_counter()
    last_year = company.bookings["date"].dt.year.max()
    booked = company.bookings[company.bookings["date"].dt.year == last_year].groupby("rep_id")["amount"].sum()
    active = company.active_reps["rep_id"]
    share = booked.reindex(active).fillna(0.0).clip(lower=0.0)
    total = float(result.summary.total_quota or 0.0)
    spreadsheet = pd.Series((share / share.sum() * total / 1000.0).round() * 1000.0, index=active)
    spreadsheet_s = time.perf_counter() - start
    assert len(spreadsheet) == len(active)

    out = {"reps": int(len(active)), "stages": stages, "total_s": round(sum(stages.values()), 3),
           "spreadsheet_s": round(spreadsheet_s, 4), "solver": result.summary.record()["solver"],
           "maxrss_mb": peak_mb(), "peak_after_mb": peaks}
    if monolithic:
        from quotaopt.allocation import allocate
        from quotaopt.io import load_inputs
        from quotaopt.parallel import executor
        from quotaopt.planning import company_target, estimate_capacity

        inputs = load_inputs(folder / "bench.yaml")
        assert inputs.scenario is not None
        cap, _ = estimate_capacity(inputs.scenario, inputs.company, inputs.plan_year)
        target, _ = company_target(inputs.scenario, inputs.company, inputs.plan_year)
        reps = inputs.company.active_reps.merge(cap, on="rep_id")
        company_total = target * (1 + inputs.scenario.target.over_assignment)
        timings = {}
        for label, decompose in (("decomposed", True), ("monolithic", False)):
            start = time.perf_counter()
            res = allocate(reps, inputs.company.teams, company_total, inputs.scenario.allocation,
                           inputs.plan_year, decompose=decompose, executor=executor(workers))
            timings[label] = {"s": round(time.perf_counter() - start, 3), "status": res.solver.status,
                              "gap": res.solver.gap}
        out["allocation_modes"] = timings
    return out


def load_child(folder: Path, reader: str) -> dict:
    """The load-and-validate stage of ``plan`` alone, with one reader (called in a subprocess)."""
    from quotaopt.io import check_runs_root, load_inputs

    start, cpu = time.perf_counter(), cpu_seconds()
    inputs = load_inputs(folder / "bench.yaml", reader=reader)  # type: ignore[arg-type]
    check_runs_root(folder / "runs", "--out")
    seconds = time.perf_counter() - start
    return {"reader": reader, "s": round(seconds, 3), "cpu_s": round(cpu_seconds() - cpu, 3),
            "rows": int(len(inputs.company.bookings)),
            "held_mb": held_mb(),
            "maxrss_mb": peak_mb()}


def cpu_seconds() -> float:
    """CPU seconds this process has used, every thread, user and system (what other load on a shared machine leaves alone)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_mb() -> float:
    """This process's peak resident memory (Linux VmHWM; ru_maxrss where /proc is not there).

    Not ru_maxrss on Linux: a child started by a parent holding a generated 100,000-rep
    company inherits the parent's peak through exec, and would report it as its own.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except (OSError, IndexError, ValueError):
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def held_mb() -> float:
    """Resident memory the process holds now (Linux /proc; the peak where it is not available)."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return round(pages * os.sysconf("SC_PAGE_SIZE") / 2**20, 1)


def run_reading(folder: Path) -> dict:
    """The load stage with the columnar reader and with the 0.x reader, each in its own process."""
    out = {}
    for reader in ("pandas", "arrow"):
        cmd = [sys.executable, __file__, "--load-child", str(folder), "--reader", reader]
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise SystemExit(f"loading failed with the {reader} reader:\n{proc.stderr[-3000:]}")
        out[reader] = json.loads(proc.stdout.strip().splitlines()[-1])
    return out


def make_company(n: int, draws: int, tmp: Path) -> tuple[Path, float]:
    from quotaopt.datasets import generate_company

    folder = tmp / f"n{n}"
    start = time.perf_counter()
    generate_company(folder / "data", n_reps=n, years=3, seed=11, fmt="parquet" if n > 10_000 else "csv")
    (folder / "bench.yaml").write_text(SCENARIO.format(draws=draws))
    return folder, time.perf_counter() - start


def run_size(n: int, workers: int, draws: int, monolithic_max: int, tmp: Path) -> dict:
    folder, generate_s = make_company(n, draws, tmp)
    cmd = [sys.executable, __file__, "--child", str(folder), "--workers", str(workers)]
    if n <= monolithic_max:
        cmd.append("--monolithic")
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"plan failed at {n} reps:\n{proc.stderr[-3000:]}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    out["generate_s"] = round(generate_s, 2)
    out["reading"] = run_reading(folder)
    return out


def exponent(small: dict, large: dict, key: str) -> float | None:
    a = small["stages"].get(key) if key != "total" else small["total_s"]
    b = large["stages"].get(key) if key != "total" else large["total_s"]
    if not a or not b or a <= 0 or b <= 0:
        return None
    return math.log(b / a) / math.log(large["reps"] / small["reps"])


def report(results: list[dict], args: argparse.Namespace) -> str:
    lines = ["# Benchmarks", "",
             f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
             f"Python {platform.python_version()}, {platform.system()}. Shared and noisy: read ratios, not seconds.",
             "", "Reproduce:", "", "```", f"python benchmarks/end_to_end.py --sizes {' '.join(map(str, args.sizes))} "
             f"--draws {args.draws} --workers {args.workers} --write BENCHMARKS.md", "```", "",
             "## Whole `plan` by stage (seconds) and peak memory", "",
             "| reps | " + " | ".join(STAGES) + " | total | peak RSS (MB) | spreadsheet (s) | plan / spreadsheet |",
             "|---|" + "---|" * (len(STAGES) + 4)]
    for r in results:
        cells = [f"{r['stages'].get(s, 0):.2f}" for s in STAGES]
        ratio = r["total_s"] / max(r["spreadsheet_s"], 1e-6)
        lines.append(f"| {r['reps']:,} | " + " | ".join(cells) +
                     f" | {r['total_s']:.1f} | {r['maxrss_mb']:.0f} | {r['spreadsheet_s']:.3f} | {ratio:,.0f}x |")
    if len(results) >= 2:
        small, large = results[-2], results[-1]
        lines += ["", f"## Growth exponent from {small['reps']:,} to {large['reps']:,} reps (1.0 = linear)", "",
                  "| stage | exponent |", "|---|---|"]
        for s in [*STAGES, "total"]:
            e = exponent(small, large, s)
            lines.append(f"| {s} | {'n/a' if e is None else f'{e:.2f}'} |")
    modes = [r for r in results if "allocation_modes" in r]
    if modes:
        lines += ["", "## Allocation: decomposed per unit vs one monolithic MILP", "",
                  "| reps | decomposed (s) | status | monolithic (s) | status, gap | monolithic / decomposed |",
                  "|---|---|---|---|---|---|"]
        for r in modes:
            d, m = r["allocation_modes"]["decomposed"], r["allocation_modes"]["monolithic"]
            gap = "" if m["gap"] is None else f", gap {m['gap']:.2%}"
            lines.append(f"| {r['reps']:,} | {d['s']:.2f} | {d['status']} | {m['s']:.2f} | {m['status']}{gap} | "
                         f"{m['s'] / max(d['s'], 1e-6):.1f}x |")
    lines += ["", "## Peak memory (RSS, MB) of the process when each stage ended", "",
              "| reps | " + " | ".join(STAGES) + " |", "|---|" + "---|" * len(STAGES)]
    for r in results:
        after = r.get("peak_after_mb", {})
        lines.append(f"| {r['reps']:,} | " + " | ".join(f"{after[s]:,.0f}" if s in after else "" for s in STAGES) + " |")
    lines += ["", *reading_table(results)]
    lines += ["", "## Where the time goes", ""]
    big = results[-1]
    order = sorted(big["stages"].items(), key=lambda kv: -kv[1])
    lines.append(", ".join(f"{k} {v / big['total_s']:.0%}" for k, v in order) + f" at {big['reps']:,} reps.")
    return "\n".join(lines) + "\n"


def reading_line(r: dict) -> str:
    old, new = r["reading"]["pandas"], r["reading"]["arrow"]
    return (f"{r['reps']:>7,} reps: load and validate {new['s']:.2f} s ({new['held_mb']:,.0f} MB held after "
            f"loading, peak {new['maxrss_mb']:,.0f} MB) vs the 0.x reading path {old['s']:.2f} s "
            f"({old['held_mb']:,.0f} MB held, peak {old['maxrss_mb']:,.0f} MB): {new['s'] / old['s']:.2f}x the time; "
            f"CPU {new['cpu_s']:.2f} s vs {old['cpu_s']:.2f} s: {new['cpu_s'] / old['cpu_s']:.2f}x")


def reading_table(results: list[dict]) -> list[str]:
    """The load-and-validate stage against the 0.x reading path, measured in the same run."""
    lines = ["## Load and validate: columnar reader vs the 0.x reading path (same run)", "",
             "| reps | bookings rows | load (s) | 0.x reading (s) | load / 0.x | CPU s, load / 0.x "
             "| MB held after loading (peak) | 0.x MB held (peak) |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        old, new = r["reading"]["pandas"], r["reading"]["arrow"]
        lines.append(f"| {r['reps']:,} | {new['rows']:,} | {new['s']:.2f} | {old['s']:.2f} | "
                     f"{new['s'] / old['s']:.2f}x | {new['cpu_s']:.2f} / {old['cpu_s']:.2f} = "
                     f"{new['cpu_s'] / old['cpu_s']:.2f}x | {new['held_mb']:,.0f} ({new['maxrss_mb']:,.0f}) | "
                     f"{old['held_mb']:,.0f} ({old['maxrss_mb']:,.0f}) |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--draws", type=int, default=10000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--monolithic-max", type=int, default=1000, help="Largest size to also solve as one MILP.")
    parser.add_argument("--write", type=Path, default=None, help="Write the Markdown report here.")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--monolithic", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--load-only", action="store_true", help="Time only the load-and-validate stage, "
                        "against the 0.x reading path.")
    parser.add_argument("--load-child", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--reader", default="arrow", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.workers, args.monolithic)))
        return
    if args.load_child is not None:
        print(json.dumps(load_child(args.load_child, args.reader)))
        return
    if args.load_only:
        with tempfile.TemporaryDirectory() as tmp:
            readings = []
            for n in sorted(args.sizes):
                folder, _ = make_company(n, args.draws, Path(tmp))
                readings.append({"reps": n, "reading": run_reading(folder)})
                print(reading_line(readings[-1]), flush=True)
        print("\n".join(reading_table(readings)))
        return
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(args.sizes):
            r = run_size(n, args.workers, args.draws, args.monolithic_max, Path(tmp))
            results.append(r)
            print(f"{n:>7,} reps: total {r['total_s']:.1f} s, peak {r['maxrss_mb']:.0f} MB, "
                  f"stages {r['stages']}, plan/spreadsheet {r['total_s'] / max(r['spreadsheet_s'], 1e-6):,.0f}x",
                  flush=True)
            print(reading_line(r), flush=True)
    text = report(results, args)
    print(text)
    if args.write:
        # Hand-written notes below the marker survive a re-run.
        old = args.write.read_text() if args.write.exists() else ""
        kept = old[old.index(NOTES_MARKER):] if NOTES_MARKER in old else ""
        args.write.write_text(text + ("\n" + kept if kept else ""))


if __name__ == "__main__":
    main()
