"""Is p_attain_year better calibrated than extrapolating pace? Brier scores on a known outcome.

For each seed (a company) and each as-of date (end of March, June, September) a
company of ``--reps`` reps is generated with ``actuals_through`` that date (same seed,
so the same company and the same plan-year outcome), a plan is made once, and
``track`` is run against the actuals. Each rep's and unit's prediction is scored against whether its full plan-year
bookings (truth/plan_year_bookings) reached its annual quota:

- model: p_attain_year from status.csv (Bayesian level update + correlated draws);
- naive: "pace extrapolated to year end" (actual / plan to date x quota >= quota,
  i.e. pace >= 1) as a 0/1 prediction;
- prior: the plan's own p_attain (no actuals), for reference.

The plan comes from ``quotaopt.api.plan`` when it solves the scenario; otherwise (the
allocation refuses, e.g. infeasible) from the trained capacity model with quotas set by
the common rule "last year's bookings + 10%" (P50 for reps without a full last year),
decomposed into months by the real period code. The table says which was used.

    .venv/bin/python benchmarks/tracking.py [--reps 1000] [--seeds 3,5,7] [--draws 2000] [--out DIR]

Exit status 0 when, pooled over the companies, the model's Brier score is lower than
the naive rule's at every date, for reps and for units.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from quotaopt.datasets import generate_company  # noqa: E402
from quotaopt.errors import QuotaOptError  # noqa: E402
from quotaopt.track_api import track_run  # noqa: E402

from tracking_fixtures import build_run  # noqa: E402

AS_OF = ("2027-03-31", "2027-06-30", "2027-09-30")


def _real_plan(folder: Path, data: Path) -> Path | None:
    """A run of the real pipeline, or None when it does not solve this company."""
    from quotaopt import api

    scenario = folder / "real.yaml"
    scenario.write_text(textwrap.dedent(f"""\
        name: real
        data: {data}
        plan_year: 2027
        target: {{growth: 0.05, over_assignment: 0.10}}
        allocation: {{unit: 1000, stretch: [0.7, 1.5], max_change: 0.50, flex: 0.15}}
        periods: {{split: month, seasonality: learned}}
        simulation: {{draws: 2000, seed: 11, correlation: {{company: 0.1, team: 0.1}}}}
        """))
    try:
        return api.plan(scenario)[1].path
    except QuotaOptError as exc:
        print(f"api.plan did not solve this company ({type(exc).__name__}: {str(exc)[:160]}...)")
        return None


def _rule_plan(folder: Path, data: Path, draws: int) -> Path:
    """Trained capacity model, quotas = last year's bookings + 10%, real periods and run writer."""
    from quotaopt.pipeline import load_inputs
    from quotaopt.planning import estimate_capacity

    from tracking_fixtures import scenario_text

    probe = folder / "probe.yaml"
    probe.write_text(scenario_text(data))
    inputs = load_inputs(probe)
    assert inputs.scenario is not None
    capacity, _ = estimate_capacity(inputs.scenario, inputs.company, 2027)
    company = inputs.company
    last = company.bookings[company.bookings["date"].dt.year == 2026].groupby("rep_id")["amount"].sum()
    full_year = company.reps.set_index("rep_id")["hire_date"] < pd.Timestamp("2025-01-01")
    quotas = (last.clip(lower=0.0) * 1.10)[full_year.reindex(last.index).fillna(False)]
    return build_run(folder / "rule", data, capacity, quotas=quotas, draws=draws)


def _outcome(data: Path, status: pd.DataFrame) -> np.ndarray:
    """1 where the full plan-year bookings reached the annual quota (reps and units)."""
    booked = pd.read_csv(data / "truth" / "plan_year_bookings.csv", dtype={"rep_id": "str"})
    per_rep = booked.groupby("rep_id")["amount"].sum()
    reps = status[status["kind"] == "rep"]
    rep_total = reps["id"].map(per_rep).fillna(0.0)
    unit_total = {}
    teams = pd.read_csv(data / "teams.csv", dtype="str", keep_default_na=False)
    parent = dict(zip(teams["team_id"], teams["parent_id"], strict=True))
    for team, amount in zip(reps["parent_id"], rep_total, strict=True):
        cur = team
        while cur:
            unit_total[cur] = unit_total.get(cur, 0.0) + amount
            cur = parent.get(cur, "")
    total = np.where(status["kind"] == "rep", status["id"].map(per_rep).fillna(0.0),
                     status["id"].map(unit_total).fillna(0.0))
    return (total >= status["quota"].to_numpy(dtype=float)).astype(float)


def brier(p: np.ndarray, hit: np.ndarray) -> float:
    """Mean squared error of probabilities against 0/1 outcomes."""
    return float(np.mean((np.asarray(p, dtype=float) - hit) ** 2))


def _one_company(root: Path, seed: int, args: argparse.Namespace) -> list[dict[str, object]]:
    """Generate, plan once, track at every as-of date; one row per date and kind."""
    start = time.perf_counter()
    folders = {d: generate_company(root / f"co-{d}", n_reps=args.reps, seed=seed, actuals_through=d,
                                   overwrite=True) for d in AS_OF}
    first = folders[AS_OF[0]]
    run = None if args.rule_only else _real_plan(root, first)
    source = "quotaopt.api.plan" if run is not None else "capacity model + last-year-plus-10% rule"
    if run is None:
        run = _rule_plan(root, first, args.draws)
    print(f"seed {seed}: plan by {source} ({time.perf_counter() - start:.1f}s) -> {run}")
    plan = pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})
    rows: list[dict[str, object]] = []
    for day in AS_OF:
        t0 = time.perf_counter()
        status = track_run(run, folders[day] / "actuals.csv", day, draws=args.draws).status
        hit = _outcome(folders[day], status)
        for kind in ("rep", "unit"):
            mask = (status["kind"] == kind).to_numpy()
            p_model = status.loc[mask, "p_attain_year"].to_numpy(dtype=float)
            pace = status.loc[mask, "pace"].to_numpy(dtype=float)
            p_naive = np.where(np.isnan(pace), 1.0, (pace >= 1.0).astype(float))
            row: dict[str, object] = {
                "seed": seed, "as_of": day, "kind": kind, "n": int(mask.sum()), "hit_rate": float(hit[mask].mean()),
                "brier_model": brier(p_model, hit[mask]), "brier_naive": brier(p_naive, hit[mask]),
                "brier_prior": np.nan}
            if kind == "rep":
                prior = status.loc[mask, "id"].map(plan.set_index("rep_id")["p_attain"]).to_numpy(dtype=float)
                row["brier_prior"] = brier(prior, hit[mask])
            row["track_s"] = round(time.perf_counter() - t0, 2)
            rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=1000)
    parser.add_argument("--seeds", type=str, default="3,5,7", help="companies to generate, comma-separated")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--rule-only", action="store_true", help="skip trying quotaopt.api.plan")
    args = parser.parse_args(argv)
    root = args.out or Path(tempfile.mkdtemp(prefix="qo-track-bench-"))
    start = time.perf_counter()
    rows = []
    for seed in (int(s) for s in args.seeds.split(",")):
        rows += _one_company(root / f"seed-{seed}", seed, args)
    table = pd.DataFrame(rows)
    table["model_better"] = table["brier_model"] < table["brier_naive"]
    # Pooled over companies: Brier weighted by the number of reps or units scored.
    weighted = table.assign(**{c: table[c] * table["n"] for c in ("brier_model", "brier_naive", "brier_prior",
                                                                    "hit_rate")})
    pooled = weighted.groupby(["as_of", "kind"], sort=False)[["n", "hit_rate", "brier_model", "brier_naive",
                                                              "brier_prior"]].sum(min_count=1)
    for column in ("hit_rate", "brier_model", "brier_naive", "brier_prior"):
        pooled[column] = pooled[column] / pooled["n"]
    pooled["model_better"] = pooled["brier_model"] < pooled["brier_naive"]
    with pd.option_context("display.width", 160, "display.float_format", "{:.4f}".format):
        print("\nper company")
        print(table.to_string(index=False))
        print(f"\npooled over seeds {args.seeds} (Brier: lower is better; naive = pace >= 1 as a 0/1 forecast)")
        print(pooled.reset_index().to_string(index=False))
    print(f"\ntotal {time.perf_counter() - start:.1f}s; data and runs in {root}")
    return 0 if bool(pooled["model_better"].all()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
