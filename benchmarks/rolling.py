"""Planning before the year closes: capacity from bookings cut at the end of August vs the full year.

Run: ``.venv/bin/python benchmarks/rolling.py [--seeds 3 5 7] [--reps 1000] [--cut 08-31]``

For each generated company (4 history years to 2026, plan year 2027) it predicts the
plan year's capacity twice: from every booking (a plan made in January), and from the
bookings up to ``--cut`` of 2026 on the shifted calendar of :mod:`quotaopt.capacity._rolling`
(a plan made in the autumn), carried forward by the trend as ``plan`` does. Both are
scored against the generator's plan-year bookings divided by the plan year's company
shock (which no model can foresee): median actual / P50 (1 when calibrated), share
inside P10-P90 (0.8), and WAPE of the P50.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.capacity import capacity_calendar, carry_forward, estimate_capacity
from quotaopt.datasets import generate_company
from quotaopt.io import load_company


def score(cap: pd.DataFrame, factor: float, actual: pd.Series) -> dict[str, float]:
    p10, p50, p90 = (cap[f"capacity_p{q}"] * factor for q in (10, 50, 90))
    return {"median actual/P50": float(np.median(actual / p50)),
            "in P10-P90": float(np.mean((actual >= p10) & (actual <= p90))),
            "WAPE": float(np.abs(p50 - actual).sum() / np.abs(actual).sum())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[3, 5, 7])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--cut", default="08-31", help="Last booking day of 2026 for the autumn plan (MM-DD).")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            folder = generate_company(Path(tmp) / f"s{seed}", n_reps=args.reps, years=4, seed=seed, end_year=2026)
            company = load_company(folder)
            shock = json.loads((folder / "truth" / "meta.json").read_text())["shocks"]["2027"]["company"]
            booked = pd.read_csv(folder / "truth" / "plan_year_bookings.csv", dtype={"rep_id": str})
            full = estimate_capacity(company, 2027)[1].set_index("rep_id")
            actual = booked.groupby("rep_id")["amount"].sum().reindex(full.index).fillna(0.0) / shock
            cut = dataclasses.replace(company, bookings=company.bookings[company.bookings["date"]
                                                                           <= pd.Timestamp(f"2026-{args.cut}")])
            seen, short = capacity_calendar(cut, 2027)
            autumn = estimate_capacity(seen, 2027)[1].set_index("rep_id").reindex(full.index)
            carry = carry_forward(seen, 2027, short)
            rows.append({"seed": seed, "plan made": "January (full 2026)", **score(full, 1.0, actual)})
            rows.append({"seed": seed, "plan made": f"autumn ({short} months short)", **score(autumn, carry, actual)})
    frame = pd.DataFrame(rows)
    print(frame.round(3).to_string(index=False))
    print("\nmean by when the plan was made:")
    print(frame.drop(columns="seed").groupby("plan made", sort=False).mean().round(3).to_string())


if __name__ == "__main__":
    main()
