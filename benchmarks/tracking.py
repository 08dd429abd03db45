"""The chance of making the year (p_attain_year): is it honest? Brier scores and reliability tables.

**Generated companies.** For each seed a company of ``--reps`` reps is generated with
``actuals_through`` each quarter end (31 March, 30 June, 30 September; same seed, so the
same company and the same plan-year outcome), a plan is made once and ``track`` is run
against the actuals at each date. Every rep's and unit's prediction is scored against
whether its full plan-year bookings (``truth/plan_year_bookings``) reached its annual quota:

- model: p_attain_year from status.csv (Bayesian level update + correlated draws);
- naive: "pace extrapolated to year end" (pace >= 1) as a 0/1 prediction;
- prior: the plan's own p_attain (no actuals), for reference.

The plan comes from ``quotaopt.commands.plan`` on a scenario that sets only the name, data,
plan year and monthly periods (every other key at its default, as a new user would);
where the allocation refuses that company, from the trained capacity model with quotas
set by the common rule "last year's bookings + 10%". The table says which was used.

**A real panel.** Australian accommodation takings of 8 states, 1998-2016, quarterly
(``/work/shared/data/real/``, see its README): each quarter spread evenly over its three
months, the states as reps in two teams by size. For each plan year from 2002 to 2015 the
history before it plans the year, and the year's own months are the actuals. The chance
is scored at the plan's quotas and at quotas 0.9, 0.95, 1.05 and 1.1 times them: the
forecast's whole predictive distribution is checked, not one threshold, so that 8
states give more than 8 points a year (points of one state-year are not independent).

**Reliability table.** Predictions are binned by decile of predicted chance; for each
bin: count, mean predicted chance, observed share that made the year, the gap in points
and a 95% band of the observed share from sampling alone (binomial, at the predicted
chance). The largest gap is taken over deciles holding at least ``--min-bin`` points.

    .venv/bin/python benchmarks/tracking.py [--reps 3000] [--seeds 3,5,7,11,13,17,19,23,29,31,37,41,43,47,53,59,61,67]
        [--draws 2000] [--min-bin 40] [--no-real] [--out DIR]

(about 20 minutes on 2 shared cores.) Eighteen companies by default: with six, the units'
middle deciles held 40-80 points each and their 95% sampling band alone was 10-15 points,
as wide as the 10-point limit, so the check could not tell a calibrated forecast from one
that is not; and the units of one company share its shock, so more companies, not more
reps, narrow it. With eighteen the middle deciles hold 130-430 units (bands 4-9 points).

Exit status 0 when, pooled over the companies, the model's Brier score is lower than the
naive rule's at every date for reps and units, and the largest reliability gap on the
generated companies is at most 10 points at every quarter end, for reps and for units (a
date with no decile of ``--min-bin`` points fails: it shows nothing).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from quotaopt.commands import track as track_run  # noqa: E402
from quotaopt.datasets import generate_company  # noqa: E402
from quotaopt.errors import QuotaOptError  # noqa: E402

from tracking_fixtures import build_run  # noqa: E402

AS_OF = ("2027-03-31", "2027-06-30", "2027-09-30")
#: Largest reliability gap (points) the generated companies may show at a quarter end.
MAX_GAP = 10.0
REAL_PANEL = Path("/work/shared/data/real/aus_accommodation_quarterly_1998_2016.csv")
REAL_YEARS = range(2002, 2016)
REAL_MULTIPLES = (0.9, 0.95, 1.0, 1.05, 1.1)


def _plan_scenario(folder: Path, data: Path, draws: int, name: str = "real", plan_year: int = 2027) -> Path:
    scenario = folder / f"{name}.yaml"
    scenario.write_text(textwrap.dedent(f"""\
        name: {name}
        data: {data}
        plan_year: {plan_year}
        periods: {{split: month}}
        simulation: {{draws: {draws}}}
        """))
    return scenario


def _real_plan(folder: Path, data: Path, draws: int) -> Path | None:
    """A run of the real pipeline with default settings, or None when it does not solve this company."""
    from quotaopt import commands

    try:
        return commands.plan(_plan_scenario(folder, data, draws))[1].path
    except QuotaOptError as exc:
        print(f"commands.plan did not solve this company ({type(exc).__name__}: {str(exc)[:160]}...)")
        return None


def _rule_plan(folder: Path, data: Path, draws: int) -> Path:
    """Trained capacity model, quotas = last year's bookings + 10%, real periods and run writer."""
    from quotaopt.io import load_inputs
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


def unit_totals(status: pd.DataFrame, per_rep: pd.Series, parent: dict[str, str]) -> np.ndarray:
    """Each status row's final total: the rep's own, or the sum over a unit's reps."""
    reps = status[status["kind"] == "rep"]
    rep_total = reps["id"].map(per_rep).fillna(0.0)
    unit_total: dict[str, float] = {}
    for team, amount in zip(reps["parent_id"], rep_total, strict=True):
        cur = team
        while cur:
            unit_total[cur] = unit_total.get(cur, 0.0) + amount
            cur = parent.get(cur, "")
    return np.where(status["kind"] == "rep", status["id"].map(per_rep).fillna(0.0),
                    status["id"].map(unit_total).fillna(0.0))


def _parents(data: Path) -> dict[str, str]:
    teams = pd.read_csv(data / "teams.csv", dtype="str", keep_default_na=False)
    return dict(zip(teams["team_id"], teams["parent_id"], strict=True))


def _outcome(data: Path, status: pd.DataFrame) -> np.ndarray:
    """1 where the full plan-year bookings reached the annual quota (reps and units)."""
    booked = pd.read_csv(data / "truth" / "plan_year_bookings.csv", dtype={"rep_id": "str"})
    total = unit_totals(status, booked.groupby("rep_id")["amount"].sum(), _parents(data))
    return (total >= status["quota"].to_numpy(dtype=float)).astype(float)


def brier(p: np.ndarray, hit: np.ndarray) -> float:
    """Mean squared error of probabilities against 0/1 outcomes."""
    return float(np.mean((np.asarray(p, dtype=float) - hit) ** 2))


def reliability(p: np.ndarray, hit: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """Predicted decile against observed share: n, predicted, observed, gap (points), 95% band.

    ``band`` is the half-width, in points, of the range the observed share would fall in
    95% of the time from sampling alone if the predictions were exact.
    """
    p = np.asarray(p, dtype=float)
    decile = np.minimum((p * bins).astype(int), bins - 1)
    frame = pd.DataFrame({"decile": decile, "p": p, "hit": np.asarray(hit, dtype=float)})
    table = frame.groupby("decile").agg(n=("hit", "size"), predicted=("p", "mean"), observed=("hit", "mean"))
    table["gap"] = 100.0 * (table["observed"] - table["predicted"])
    table["band"] = 100.0 * 1.96 * np.sqrt(table["predicted"] * (1.0 - table["predicted"]) / table["n"])
    table.index = [f"{d / bins:.1f}-{(d + 1) / bins:.1f}" for d in table.index]
    return table


def largest_gap(table: pd.DataFrame, min_bin: int) -> float:
    """Largest |gap| in points over the deciles with at least ``min_bin`` points (NaN if none)."""
    big = table[table["n"] >= min_bin]
    return float(big["gap"].abs().max()) if len(big) else float("nan")


def _one_company(root: Path, seed: int, args: argparse.Namespace) -> tuple[list[dict[str, object]], pd.DataFrame]:
    """Generate, plan once, track at every as-of date: Brier rows and every scored point."""
    start = time.perf_counter()
    folders = {d: generate_company(root / f"co-{d}", n_reps=args.reps, seed=seed, actuals_through=d,
                                   overwrite=True) for d in AS_OF}
    first = folders[AS_OF[0]]
    run = None if args.rule_only else _real_plan(root, first, args.draws)
    source = "quotaopt.commands.plan" if run is not None else "capacity model + last-year-plus-10% rule"
    if run is None:
        run = _rule_plan(root, first, args.draws)
    print(f"seed {seed}: plan by {source} ({time.perf_counter() - start:.1f}s) -> {run}")
    plan = pd.read_csv(run / "plan.csv", dtype={"rep_id": "str"})
    rows: list[dict[str, object]] = []
    points = []
    for day in AS_OF:
        t0 = time.perf_counter()
        status = track_run(run, folders[day] / "actuals.csv", day, draws=args.draws).status
        hit = _outcome(folders[day], status)
        points.append(pd.DataFrame({"as_of": day, "kind": status["kind"], "p": status["p_attain_year"], "hit": hit}))
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
    return rows, pd.concat(points, ignore_index=True)


# --- the real panel ------------------------------------------------------------------------------

def real_panel_folder(folder: Path, plan_year: int) -> tuple[Path, Path]:
    """The accommodation panel as a data folder planning ``plan_year``, and that year's actuals file.

    Each quarter's takings (million AUD) become three equal monthly bookings dated the
    15th; the four largest states (by mean takings) are ``ka`` reps of team LARGE, the
    others ``longtail`` reps of team SMALL.
    """
    raw = pd.read_csv(REAL_PANEL)
    year = raw["Date"].str[:4].astype(int)
    quarter = raw["Date"].str[-1].astype(int)
    states = sorted(raw["State"].unique())
    ids = {s: f"S{i:02d}" for i, s in enumerate(states)}
    large = set(raw.groupby("State")["Takings"].mean().nlargest(4).index)
    rows = pd.DataFrame({
        "date": np.concatenate([[f"{y}-{3 * (q - 1) + m:02d}-15" for y, q in zip(year, quarter, strict=True)]
                                for m in (1, 2, 3)]),
        "rep_id": np.tile(raw["State"].map(ids).to_numpy(), 3),
        "amount": np.tile(np.round(raw["Takings"].to_numpy() * 1e6 / 3.0, 2), 3),
    }).sort_values(["date", "rep_id"], kind="stable")
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"team_id": ["AU", "LARGE", "SMALL"], "parent_id": ["", "AU", "AU"],
                  "name": ["Australia", "large states", "small states"]}).to_csv(folder / "teams.csv", index=False)
    pd.DataFrame({"rep_id": [ids[s] for s in states], "team_id": ["LARGE" if s in large else "SMALL" for s in states],
                  "role": ["ka" if s in large else "longtail" for s in states], "hire_date": "1998-01-01",
                  "name": states}).to_csv(folder / "reps.csv", index=False)
    rows[rows["date"] < f"{plan_year}-01-01"].to_csv(folder / "bookings.csv", index=False)
    actuals = folder / "actuals.csv"
    rows[rows["date"].str[:4] == str(plan_year)].to_csv(actuals, index=False)
    return folder, actuals


def _real_points(root: Path, args: argparse.Namespace) -> pd.DataFrame:
    """Every scored point of the real panel: plan each year, forecast at each quarter end."""
    from quotaopt import commands
    from quotaopt.io import load_actuals, load_company, read_run
    from quotaopt.tracking import assess, rep_forecast, run_scenario, unit_forecast, unit_members

    points = []
    for plan_year in REAL_YEARS:
        t0 = time.perf_counter()
        data, actuals_file = real_panel_folder(root / f"aus-{plan_year}", plan_year)
        try:
            run = read_run(commands.plan(_plan_scenario(data.parent, data, args.draws, f"aus{plan_year}", plan_year))[1].path)
        except QuotaOptError as exc:
            print(f"real panel {plan_year}: plan refused ({type(exc).__name__}: {str(exc)[:120]})")
            continue
        company = load_company(data)
        actuals = load_actuals(actuals_file, company, plan_year)
        final = actuals.groupby(actuals["rep_id"].astype("str"))["amount"].sum()
        scenario = run_scenario(run)
        plan = run.plan.reset_index(drop=True)
        member = unit_members(run.units, plan["team_id"])
        ids = plan["rep_id"].astype("str")
        rep_final = final.reindex(ids).fillna(0.0).to_numpy()
        unit_final = member.T @ rep_final
        for quarter_end in ("03-31", "06-30", "09-30"):
            day = dt.date.fromisoformat(f"{plan_year}-{quarter_end}")
            result = assess(run, company, actuals, scenario, plan_year, day, args.draws)
            quota = plan["quota"].to_numpy(dtype=float)
            unit_quota = run.units["quota"].to_numpy(dtype=float)
            for m in REAL_MULTIPLES:
                reps = rep_forecast(result.posterior, result.actual, result.done, m * quota)
                units = unit_forecast(result.posterior, result.actual, result.done, member, m * unit_quota,
                                      args.draws, scenario.simulation.seed)
                for kind, fc, total, q in (("rep", reps, rep_final, quota), ("unit", units, unit_final, unit_quota)):
                    points.append(pd.DataFrame({
                        "plan_year": plan_year, "as_of": quarter_end, "kind": kind, "multiple": m,
                        "p": fc["p_attain_year"].to_numpy(), "hit": (total >= m * q).astype(float),
                        "below_p10": total < fc["forecast_p10"].to_numpy(),
                        "above_p90": total > fc["forecast_p90"].to_numpy()}))
        print(f"real panel {plan_year}: planned and tracked at three quarter ends ({time.perf_counter() - t0:.1f}s)")
    return pd.concat(points, ignore_index=True) if points else pd.DataFrame()


def _print_reliability(points: pd.DataFrame, label: str, by: str, min_bin: int) -> pd.DataFrame:
    """Print one reliability table per date and kind; return the largest gaps."""
    gaps = []
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        for (day, kind), group in points.groupby([by, "kind"], sort=True):
            table = reliability(group["p"].to_numpy(), group["hit"].to_numpy())
            gap = largest_gap(table, min_bin)
            gaps.append({"as_of": day, "kind": kind, "n": len(group), "mean_predicted": group["p"].mean(),
                         "observed": group["hit"].mean(), "largest_gap": gap,
                         "brier": brier(group["p"].to_numpy(), group["hit"].to_numpy())})
            print(f"\n{label}, as of {day}, {kind}s: {len(group)} points, mean predicted {group['p'].mean():.3f}, "
                  f"observed {group['hit'].mean():.3f}; largest gap {gap:.1f} points over deciles with n >= {min_bin}")
            print(table.to_string())
    return pd.DataFrame(gaps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3000)
    parser.add_argument("--seeds", type=str, default="3,5,7,11,13,17,19,23,29,31,37,41,43,47,53,59,61,67", help="companies to generate, comma-separated")
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--min-bin", type=int, default=40, help="smallest decile counted in the largest gap")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--rule-only", action="store_true", help="skip trying quotaopt.commands.plan")
    parser.add_argument("--no-real", action="store_true", help="skip the real panel")
    args = parser.parse_args(argv)
    root = args.out or Path(tempfile.mkdtemp(prefix="qo-track-bench-"))
    start = time.perf_counter()
    rows, points = [], []
    for seed in (int(s) for s in args.seeds.split(",")):
        brier_rows, scored = _one_company(root / f"seed-{seed}", seed, args)
        rows += brier_rows
        points.append(scored)
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
    gaps = _print_reliability(pd.concat(points, ignore_index=True), "generated companies", "as_of", args.min_bin)
    summary = [("generated", gaps)]
    if not args.no_real and REAL_PANEL.is_file():
        real = _real_points(root / "real", args)
        if len(real):
            real_gaps = _print_reliability(real, f"real panel (years {REAL_YEARS.start}-{REAL_YEARS.stop - 1}, "
                                           f"quota x {', '.join(map(str, REAL_MULTIPLES))})", "as_of",
                                           args.min_bin // 4)
            cover = real.groupby(["as_of", "kind"])[["below_p10", "above_p90"]].mean()
            print("\nreal panel: share of final totals below the forecast P10 and above its P90 (0.10 each if honest)")
            print(cover.to_string(float_format="{:.3f}".format))
            summary.append(("real", real_gaps))
    print("\nlargest reliability gap (points) by quarter end")
    with pd.option_context("display.width", 160, "display.float_format", "{:.3f}".format):
        for label, frame in summary:
            print(f"{label}:\n{frame.to_string(index=False)}")
    print(f"\ntotal {time.perf_counter() - start:.1f}s; data and runs in {root}")
    # A date and kind without any decile of --min-bin points says nothing: it fails (raise --reps or --seeds).
    calibrated = bool((gaps["largest_gap"] <= MAX_GAP).all())  # NaN compares False
    return 0 if bool(pooled["model_better"].all()) and calibrated else 1


if __name__ == "__main__":
    raise SystemExit(main())
