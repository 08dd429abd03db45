"""How well the company level of a year is forecast, by trend rule, against the generator's truth.

Run: ``.venv/bin/python benchmarks/company_level.py [--seeds 40 80] [--reps 400]``

For each generated company (4 history years, last one 2026) and each year ``Y`` in
2025-2027 it forecasts log(level of ``Y`` / level of ``Y - 1``) from the chain index
of the years before ``Y`` (:mod:`quotaopt.company_level`) and compares it with the
truth, ``log(1 + market growth) + log(shock Y / shock Y-1)`` from ``truth/meta.json``
and territories.csv. Rules compared:

* ``raw slope`` -- mean of the last three levels carried forward by the least-squares
  slope of the log index (the rule before the shrinkage);
* ``shrunk slope`` -- the same with :func:`~quotaopt.company_level.shrunk_slope`
  (what :func:`~quotaopt.company_level.level_factor` does without territories.csv);
* ``no trend`` -- mean of the last three levels, no growth;
* ``last level`` -- a random walk: the level of ``Y - 1``;
* ``market growth`` -- mean of the last three levels carried forward by the
  territories' market growth (what ``level_factor`` does with territories.csv).

It prints the RMSE and mean error of each rule per number of known years. The
shrinkage priors were chosen on seeds 0-39; the default seeds 40-79 were not used.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from quotaopt.company_level import LEVEL_WINDOW, company_index, shrunk_slope
from quotaopt.data import load_company
from quotaopt.datasets import generate_company


def _mean_reverting(years: np.ndarray, log_level: np.ndarray, year: int, growth: float) -> float:
    recent = years >= year - LEVEL_WINDOW
    return float(np.mean(log_level[recent] + growth * (year - years[recent])) - log_level[-1])


def forecasts(years: np.ndarray, log_level: np.ndarray, year: int, market: float) -> dict[str, float]:
    """Each rule's forecast of the log level of ``year`` over ``year - 1``."""
    raw = float(np.clip(np.polyfit(years, log_level, 1)[0], -0.2, 0.3))
    return {"raw slope": _mean_reverting(years, log_level, year, raw),
            "shrunk slope": _mean_reverting(years, log_level, year, shrunk_slope(years, log_level)),
            "no trend": _mean_reverting(years, log_level, year, 0.0),
            "last level": 0.0,
            "market growth": _mean_reverting(years, log_level, year, market)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs=2, default=[40, 80], metavar=("FIRST", "STOP"))
    parser.add_argument("--reps", type=int, default=400)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for seed in range(*args.seeds):
            folder = generate_company(Path(tmp) / f"s{seed}", n_reps=args.reps, years=4, seed=seed, end_year=2026)
            company = load_company(folder)
            shocks = {int(y): v["company"] for y, v in json.loads((folder / "truth" / "meta.json").read_text())
                      ["shocks"].items()}
            terr = company.territories
            market = float(np.log1p((terr["potential"] * terr["market_growth"]).sum() / terr["potential"].sum()))
            # The index as a company without territories.csv sees it (it does not depend on them).
            log_index = np.log(company_index(dataclasses.replace(company, territories=None, accounts=None)))
            for year in (2025, 2026, 2027):
                known = log_index[log_index.index < year]
                truth = market + np.log(shocks[year] / shocks[year - 1])
                got = forecasts(known.index.to_numpy(dtype="float64"), known.to_numpy(), year, market)
                rows.append({"known years": len(known), **{k: v - truth for k, v in got.items()}})
    errors = pd.DataFrame(rows).groupby("known years")
    print(f"== log level forecast error, seeds {args.seeds[0]}-{args.seeds[1] - 1}, {args.reps} reps ==")
    print("RMSE")
    print(errors.agg(lambda e: float(np.sqrt(np.mean(e**2)))).round(4).to_string())
    print("mean error (positive: forecast too high)")
    print(errors.mean().round(4).to_string())


if __name__ == "__main__":
    main()
