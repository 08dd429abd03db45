"""``track --opportunities`` at scale: 10,000 reps and 500,000 open opportunities, against plain ``track``.

A company of ``--reps`` reps is generated (no pipeline: the generator's weekly snapshots of
10,000 reps would be millions of rows), a plan is made with the real period split and run
writer (``tests/tracking_fixtures.build_run``), and an opportunities file is written beside
it: ``--open`` open opportunities at the as-of date (stages, amounts and close dates drawn at
random over the reps), ``--closed`` won or lost ones of the past year, and ``--snapshots``
monthly snapshots 4 to 7 months back, each listing ``--open / 5`` open opportunities whose
outcome the as-of snapshot tells (so conversion is learned from snapshots, the slow path).
Then, in this one process, ``track`` runs without and with the file; wall and CPU seconds
(every thread's: Arrow reads with several) and their ratios are printed.

    .venv/bin/python benchmarks/pipeline_scale.py [--reps 10000] [--open 500000] [--closed 200000]
        [--snapshots 4] [--draws 1000]

Exit status 0 when ``track`` with the opportunities finishes within 60 seconds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from quotaopt.commands import track as track_run  # noqa: E402
from quotaopt.datasets import generate_company  # noqa: E402

from tracking_fixtures import build_run, truth_capacity  # noqa: E402

AS_OF = "2027-03-01"
STAGES = np.array(["qualify", "discover", "propose", "commit"], dtype=object)
LIMIT_S = 60.0


def _iso(days: np.ndarray) -> np.ndarray:
    return np.datetime_as_string(days.astype("datetime64[D]"), unit="D").astype(object)


def synthetic_opportunities(reps: np.ndarray, n_open: int, n_closed: int, n_snapshots: int,
                            rng: np.random.Generator) -> pd.DataFrame:
    """An opportunities table: past snapshots, closed history and the open pipeline at the as-of date."""
    as_of = np.datetime64(AS_OF, "D")
    frames = []
    n_past = n_open // 5
    # Past opportunities, resolved (won or lost) by the as-of date; block k was open at snapshot k.
    total_past = n_closed + n_past * n_snapshots
    snap_of = np.concatenate([np.full(n_closed, -1), np.repeat(np.arange(n_snapshots), n_past)])
    snap_day = as_of - 30 * (4 + snap_of)
    created = np.where(snap_of < 0, as_of - rng.integers(100, 400, total_past), snap_day - rng.integers(1, 60, total_past))
    resolved = np.minimum(np.where(snap_of < 0, created, snap_day) + rng.integers(5, 120, total_past), as_of - 1)
    won = rng.random(total_past) < 0.35
    ids = np.array([f"P{i:08d}" for i in range(total_past)], dtype=object)
    rep = reps[rng.integers(0, len(reps), total_past)]
    amount = np.round(rng.lognormal(9.5, 0.9, total_past), 2)
    stage = rng.integers(0, 4, total_past)
    frames.append(pd.DataFrame({"snapshot_date": AS_OF, "opportunity_id": ids, "rep_id": rep, "amount": amount,
                                "stage": np.where(won, "commit", STAGES[stage]),
                                "status": np.where(won, "won", "lost"), "close_date": _iso(resolved),
                                "created_date": _iso(created), "probability": np.where(won, 1.0, 0.0)}))
    for k in range(n_snapshots):
        rows = np.flatnonzero(snap_of == k)
        day = as_of - 30 * (4 + k)
        frames.append(pd.DataFrame({
            "snapshot_date": str(day), "opportunity_id": ids[rows], "rep_id": rep[rows], "amount": amount[rows],
            "stage": STAGES[stage[rows]], "status": "open",
            "close_date": _iso(np.maximum(day + rng.integers(-20, 90, len(rows)), created[rows])),
            "created_date": _iso(created[rows]),
            "probability": 0.25}))
    o_created = as_of - rng.integers(0, 120, n_open)
    frames.append(pd.DataFrame({
        "snapshot_date": AS_OF, "opportunity_id": np.array([f"O{i:08d}" for i in range(n_open)], dtype=object),
        "rep_id": reps[rng.integers(0, len(reps), n_open)], "amount": np.round(rng.lognormal(9.5, 0.9, n_open), 2),
        "stage": STAGES[rng.integers(0, 4, n_open)], "status": "open",
        "close_date": _iso(np.maximum(as_of + rng.integers(-30, 150, n_open), o_created)),
        "created_date": _iso(o_created),
        "probability": 0.25}))
    return pd.concat(frames, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--open", dest="n_open", type=int, default=500_000)
    parser.add_argument("--closed", type=int, default=200_000)
    parser.add_argument("--snapshots", type=int, default=4)
    parser.add_argument("--draws", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="qo-pipeline-scale-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        data = generate_company(root / "data", n_reps=args.reps, seed=1, actuals_through=AS_OF)
        run = build_run(root, data, truth_capacity(data), draws=args.draws)
        plan = pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})
        opps = synthetic_opportunities(plan["rep_id"].to_numpy(dtype=object), args.n_open, args.closed,
                                       args.snapshots, np.random.default_rng(7))
        path = root / "opportunities.csv"
        opps.to_csv(path, index=False)
        print(f"set-up {time.perf_counter() - t0:.1f}s: {len(plan)} plan reps, {len(opps):,} opportunity rows "
              f"({args.n_open:,} open at {AS_OF})")
        t1, c1 = time.perf_counter(), time.process_time()
        track_run(run, data / "actuals.csv", AS_OF, draws=args.draws)
        plain, plain_cpu = time.perf_counter() - t1, time.process_time() - c1
        t2, c2 = time.perf_counter(), time.process_time()
        out = track_run(run, data / "actuals.csv", AS_OF, draws=args.draws, opportunities_path=path, horizon="30d")
        piped, piped_cpu = time.perf_counter() - t2, time.process_time() - c2
    pipeline = out.meta.record()["quarter"]["pipeline"]  # as track.json has it
    # CPU seconds count every thread (Arrow reads with several); wall seconds are what the user waits.
    print(f"track without opportunities: {plain:.1f}s wall, {plain_cpu:.1f}s CPU")
    print(f"track with opportunities:    {piped:.1f}s wall, {piped_cpu:.1f}s CPU  ({piped / plain:.2f}x wall, "
          f"{piped_cpu / plain_cpu:.2f}x CPU; {pipeline['open']:,} open, conversion from "
          f"{pipeline['conversion']['method']}, {pipeline['conversion']['examples']:,} examples)")
    ok = piped < LIMIT_S
    print(f"{'PASS' if ok else 'FAIL'}: with opportunities {piped:.1f}s wall (limit {LIMIT_S:.0f}s)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
