"""The chance of making the quarter 30 days ahead, from the pipeline: Brier scores and reliability.

For each seed a company of ``--reps`` reps is generated with its CRM pipeline
(``generate_company(..., opportunities=True)``) as it stood 30 days before each quarter end
(1 March, 31 May, 31 August, 1 December; same seed, so the same company and the same
plan-year outcome). One plan is made (quotas = the generator's capacity P50, the real
period split and run writer: ``tests/tracking_fixtures.build_run``) and ``track`` runs at each
date. Every rep's and unit's chance of making its quarter quota is scored against whether its
quarter's bookings (``truth/plan_year_bookings``) reached it:

- pipeline: p_attain_quarter of ``track --opportunities`` (learned conversion + correlated draws);
- bookings: p_attain_quarter of ``track`` without opportunities (the bookings-only forecast);
- crm: the CRM-probability-weighted pipeline rule: booked so far + sum(probability x amount)
  of the open opportunities closing by quarter end, reaching the quota -> 1, else 0.

The reliability table bins the pipeline forecast by decile (pooled over seeds and dates); the
largest gap is taken over deciles with at least ``--min-bin`` points.

    .venv/bin/python benchmarks/pipeline_tracking.py [--reps 400] [--seeds 3,5,7] [--draws 1000] [--min-bin 40]

Exit status 0 when, for reps and for units pooled, the pipeline forecast's Brier score is at
least 20% below both others, and the largest reliability gap (reps and units together) is at
most 10 points.
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
sys.path.insert(0, str(ROOT / "benchmarks"))

from quotaopt.commands import track as track_run  # noqa: E402
from quotaopt.datasets import generate_company  # noqa: E402
from tracking import _parents, brier, largest_gap, reliability, unit_totals  # noqa: E402

from tracking_fixtures import build_run, truth_capacity  # noqa: E402

AS_OF = ("2027-03-01", "2027-05-31", "2027-08-31", "2027-12-01")
MIN_GAIN, MAX_GAP = 0.20, 10.0


def _quarter_outcome(data: Path, status: pd.DataFrame, first: str, last: str) -> np.ndarray:
    """1 where the quarter's bookings reached the quarter's quota (reps and units)."""
    booked = pd.read_csv(data / "truth" / "plan_year_bookings.csv", dtype={"rep_id": "str"})
    booked = booked[(booked["date"] >= first) & (booked["date"] <= last)]
    total = unit_totals(status, booked.groupby("rep_id")["amount"].sum(), _parents(data))
    return (total >= status["quarter_quota"].to_numpy(dtype=float)).astype(float)


def _crm_rule(data: Path, status: pd.DataFrame, as_of: str, last: str) -> np.ndarray:
    """Booked in the quarter + CRM-probability-weighted open pipeline closing by quarter end >= quota."""
    opps = pd.read_csv(data / "opportunities.csv", dtype={"rep_id": "str"})
    now = opps[(opps["snapshot_date"] == as_of) & (opps["status"] == "open") & (opps["close_date"] <= last)]
    weighted = (now["probability"] * now["amount"]).groupby(now["rep_id"]).sum()
    expected = status["quarter_actual"].to_numpy(dtype=float) + unit_totals(status, weighted, _parents(data))
    return (expected >= status["quarter_quota"].to_numpy(dtype=float)).astype(float)


def _one_company(root: Path, seed: int, args: argparse.Namespace) -> pd.DataFrame:
    points = []
    run = None
    for day in AS_OF:
        t0 = time.perf_counter()
        data = generate_company(root / f"co-{seed}-{day}", n_reps=args.reps, seed=seed, actuals_through=day,
                                overwrite=True, opportunities=True)
        if run is None:
            run = build_run(root / f"run-{seed}", data, truth_capacity(data), draws=args.draws)
        t1 = time.perf_counter()
        plain = track_run(run, data / "actuals.csv", day, draws=args.draws, horizon="30d")
        t2 = time.perf_counter()
        piped = track_run(run, data / "actuals.csv", day, draws=args.draws, horizon="30d",
                          opportunities_path=data / "opportunities.csv")
        t3 = time.perf_counter()
        status = piped.status
        quarter = piped.meta.record()["quarter"]  # as track.json has it
        hit = _quarter_outcome(data, status, quarter["first_day"], quarter["last_day"])
        points.append(pd.DataFrame({
            "seed": seed, "as_of": day, "kind": status["kind"].to_numpy(), "hit": hit,
            "pipeline": status["p_attain_quarter"].to_numpy(dtype=float),
            "bookings": plain.status["p_attain_quarter"].to_numpy(dtype=float),
            "crm": _crm_rule(data, status, day, quarter["last_day"])}))
        print(f"seed {seed} {day}: generated {t1 - t0:.1f}s, track {t2 - t1:.1f}s, with opportunities {t3 - t2:.1f}s; "
              f"{quarter['pipeline']['open']} open opportunities, conversion from {quarter['pipeline']['conversion']['method']}")
    return pd.concat(points, ignore_index=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--seeds", default="3,5,7")
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--min-bin", type=int, default=40)
    args = parser.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    with tempfile.TemporaryDirectory(prefix="qo-pipeline-") as tmp:
        points = pd.concat([_one_company(Path(tmp), seed, args) for seed in seeds], ignore_index=True)
    ok = True
    rows = []
    for kind in ("rep", "unit"):
        p = points[points["kind"] == kind]
        scores = {m: brier(p[m], p["hit"]) for m in ("pipeline", "bookings", "crm")}
        gain_b = 1.0 - scores["pipeline"] / scores["bookings"]
        gain_c = 1.0 - scores["pipeline"] / scores["crm"]
        ok &= gain_b >= MIN_GAIN and gain_c >= MIN_GAIN
        rows.append({"kind": kind, "n": len(p), "hit_rate": p["hit"].mean(), **{f"brier_{k}": v for k, v in scores.items()},
                     "gain_vs_bookings": gain_b, "gain_vs_crm": gain_c})
    with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
        print("\nBrier scores of the chance of making the quarter, 30 days before its end (lower is better):")
        print(pd.DataFrame(rows).to_string(index=False))
        for kind in ("rep", "unit"):
            by = points[points["kind"] == kind].groupby("as_of")
            print(f"\n{kind}s by date:")
            print(by.apply(lambda g: pd.Series({m: brier(g[m], g["hit"]) for m in ("pipeline", "bookings", "crm")}),
                           include_groups=False).to_string())
        table = reliability(points["pipeline"].to_numpy(), points["hit"].to_numpy())
        gap = largest_gap(table, args.min_bin)
        print("\nreliability of the pipeline forecast (reps and units, all dates and seeds):")
        print(table.to_string())
        print(f"largest decile gap (deciles with >= {args.min_bin} points): {gap:.1f} points (limit {MAX_GAP:.0f})")
        for kind in ("rep", "unit"):
            sub = points[points["kind"] == kind]
            print(f"  {kind}s alone: {largest_gap(reliability(sub['pipeline'].to_numpy(), sub['hit'].to_numpy()), args.min_bin):.1f} points")
    ok &= bool(np.isfinite(gap) and gap <= MAX_GAP)
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
