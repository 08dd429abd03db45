"""How well the company level of a year is forecast: each candidate and their combination.

Run: ``.venv/bin/python benchmarks/company_level.py [--seeds 40 80] [--reps 400] [--data ../shared/data/real]``

For each generated company (4 history years, last one 2026) and each year ``Y`` in
2025-2026, and for every year of every real panel (``benchmarks/real_data.py``'s
companies), it forecasts the log growth of the company level into ``Y`` from the chain
index of the years before ``Y`` (:mod:`quotaopt.capacity._level`): every candidate, and
the combination weighted by the candidates' record over the company's own past years.
The generated companies are scored against the realised chain index and against the
generator's truth (``log(1 + market growth) + log(shock Y / shock Y-1)``, truth/meta.json
and territories.csv); the real panels against the realised index.

It prints the RMSE and mean error of each rule per data set: the combination should be
near the best single rule on each, which no single rule is on both.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.capacity._level import candidates, chain, forecast_level, planners_growth
from quotaopt.capacity._panel import build_panel
from quotaopt.datasets import generate_company
from quotaopt.datasets.panel import panel_company
from quotaopt.io import load_company

sys.path.insert(0, str(Path(__file__).resolve().parent))
from real_data import DEFAULT_DATA, PANELS  # noqa: E402


def _rows(company, years: list[int], label: str, truth: dict[int, float] | None = None) -> list[dict]:
    index = chain(build_panel(company))
    planners = planners_growth(company.territories)
    out = []
    for year in years:
        realised = index.realised_growth(year)
        combined = forecast_level(index, year, planners)
        if realised is None or combined is None:
            continue
        rules = dict(candidates(index, year, planners), combination=combined.growth)
        for name, value in rules.items():
            row = {"data": label, "rule": name, "year": year, "error": value - realised}
            if truth is not None and year in truth:
                row["truth_error"] = value - truth[year]
            out.append(row)
    return out


def generated(root: Path, seeds: range, reps: int) -> list[dict]:
    rows = []
    for seed in seeds:
        folder = generate_company(root / f"g{seed}", n_reps=reps, years=4, seed=seed, end_year=2026)
        company = load_company(folder)
        shocks = {int(y): v["company"] for y, v in json.loads((folder / "truth" / "meta.json").read_text())
                  ["shocks"].items()}
        market = planners_growth(company.territories) or 0.0
        truth = {y: market + np.log(shocks[y] / shocks[y - 1]) for y in (2025, 2026) if y - 1 in shocks}
        rows += _rows(company, [2025, 2026], "generated", truth)
        bare = load_company(folder)
        bare.territories = None
        rows += _rows(bare, [2025, 2026], "generated, no territories", truth)
    return rows


def real(root: Path, data: Path) -> list[dict]:
    rows = []
    for panel in PANELS:
        frame = panel.frame(data)
        folder = panel_company(frame, root / panel.file, entity=panel.entity, period=panel.period,
                               value=panel.value, team=panel.team, freq=panel.freq)
        company = load_company(folder)
        years = [int(y) for y in chain(build_panel(company)).years]
        rows += _rows(company, years[2:], f"real: {panel.name}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=[40, 80], metavar=("FIRST", "STOP"))
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = generated(Path(tmp), range(*args.seeds), args.reps)
        if args.data.exists():
            rows += real(Path(tmp), args.data)
    frame = pd.DataFrame(rows)
    rmse = frame.groupby(["data", "rule"])["error"].apply(lambda e: float(np.sqrt(np.mean(e**2)))).unstack(0)
    print("RMSE of the log level forecast against the realised chain index:")
    print(rmse.round(4).to_string())
    if "truth_error" in frame:
        gen = frame.dropna(subset=["truth_error"])
        truth = gen.groupby(["data", "rule"])["truth_error"].apply(lambda e: float(np.sqrt(np.mean(e**2))))
        print("\nRMSE against the generator's truth (market growth and shocks):")
        print(truth.unstack(0).round(4).to_string())
    means = frame.groupby(["data", "rule"])["error"].mean().unstack(0)
    print("\nMean error (positive: forecast too high):")
    print(means.round(4).to_string())


if __name__ == "__main__":
    main()
