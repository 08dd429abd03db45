"""Product-line capacity backtest: the line mix forecast against last year's split.

Run: ``.venv/bin/python benchmarks/product_lines.py [--reps 1000] [--lines 2 3] [--seeds 0 1 2]``

For each seed and number of lines, generates a company with product lines
(``generate_company(product_lines=k)``), takes its last history year Y as the scored
year, and forecasts each rep's bookings of each line in Y from the years before it:

- ``split``: the rep's realised revenue of Y times the forecast mix -- the split alone;
- ``capacity``: the capacity model's P50 for Y (fitted on the years before Y) times the
  forecast mix -- what ``plan`` uses as a line's capacity_p50.

Each against the same revenue times the rep's own mix of Y-1 ("last year's split").
WAPE = sum |actual - forecast| / sum actual over rep x line, for reps active in Y. The
generator's truth/line_mix gives a third column: the WAPE of the truth mix itself (the
floor no forecast of the mix can go below, deal luck being what is left).
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.capacity import estimate_capacity
from quotaopt.datasets import generate_company
from quotaopt.io import load_company
from quotaopt.measures.history import line_amounts
from quotaopt.measures.lines import forecast_line_shares, last_year_shares


def _wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    return float(np.abs(actual - forecast).sum() / actual.sum())


def backtest(root: Path, reps: int, lines: int, seed: int) -> dict[str, float]:
    folder = generate_company(root / f"c{lines}-{seed}", n_reps=reps, years=3, seed=seed, product_lines=lines)
    company = load_company(folder)
    year = int(company.bookings["date"].dt.year.max())
    before = company.bookings[company.bookings["date"].dt.year < year]
    scored = company.bookings[company.bookings["date"].dt.year == year]
    names = sorted(scored["product_line"].unique())
    actual_table = line_amounts(scored).droplevel("year")
    ids = actual_table.index.to_numpy()
    actual = actual_table.reindex(columns=names, fill_value=0.0).to_numpy()
    revenue = actual.sum(axis=1)
    history = line_amounts(before)
    forecast = forecast_line_shares(history, ids, year, names).shares
    baseline = last_year_shares(history, ids, year, names)
    truth = pd.read_csv(folder / "truth" / "line_mix.csv", dtype={"rep_id": str})
    truth = truth[truth["year"] == year].pivot(index="rep_id", columns="product_line", values="share")
    truth_mix = truth.reindex(index=ids, columns=names).to_numpy()
    _, cap = estimate_capacity(dataclasses.replace(company, bookings=before), year)
    p50 = cap.set_index("rep_id")["capacity_p50"].reindex(ids).fillna(0.0).to_numpy()
    return {
        "split_model": _wape(actual, revenue[:, None] * forecast),
        "split_last_year": _wape(actual, revenue[:, None] * baseline),
        "split_truth_mix": _wape(actual, revenue[:, None] * np.nan_to_num(truth_mix)),
        "capacity_model": _wape(actual, p50[:, None] * forecast),
        "capacity_last_year": _wape(actual, p50[:, None] * baseline),
    }


def report(root: Path, reps: int, lines_list: list[int], seeds: list[int]) -> pd.DataFrame:
    """Backtest every (lines, seed) and print the table, its means and the ratios."""
    start = time.perf_counter()
    rows = [{"lines": lines, "seed": seed, **backtest(root, reps, lines, seed)} for lines in lines_list
            for seed in seeds]
    table = pd.DataFrame(rows)
    mean = table.groupby("lines").mean(numeric_only=True).drop(columns="seed").reset_index()
    pd.set_option("display.width", 160)
    print(f"== product-line backtest, {reps} reps, last history year scored (WAPE over rep x line) ==")
    print(table.round(4).to_string(index=False))
    print("-- mean per number of lines --")
    print(mean.round(4).to_string(index=False))
    for _, row in mean.iterrows():
        print(f"lines {int(row['lines'])}: split WAPE {row['split_model']:.4f} vs last year's split "
              f"{row['split_last_year']:.4f} (ratio {row['split_model'] / row['split_last_year']:.3f}); with the "
              f"capacity P50 {row['capacity_model']:.4f} vs {row['capacity_last_year']:.4f} "
              f"(ratio {row['capacity_model'] / row['capacity_last_year']:.3f})")
    print(f"({time.perf_counter() - start:.0f} s)")
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--lines", type=int, nargs="+", default=[2, 3])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report(Path(tmp), args.reps, args.lines, args.seeds)


if __name__ == "__main__":
    main()
