"""The ``quotaopt`` command line: thin click commands over one library call each.

Heavy libraries are imported inside the commands so ``quotaopt --help`` answers at
once. Our errors become the exit codes of contract §3 with one clear line and no
traceback; anything unexpected is exit 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from quotaopt.errors import QuotaOptError

if TYPE_CHECKING:
    from quotaopt.planning import Summary


class _FiniteFloat(click.ParamType[float]):
    """A float that is a real amount: 'nan' and 'inf' parse as floats but are no quota or sales."""

    name = "amount"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if number != number or number in (float("inf"), float("-inf")):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class _Group(click.Group):
    """Turns our errors into exit codes; keeps tracebacks for ``--debug``."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except QuotaOptError as exc:
            click.echo(f"error: {exc}" if exc.exit_code != 2 else str(exc), err=True)
            ctx.exit(exc.exit_code)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            ctx.exit(130)
        except Exception as exc:  # noqa: BLE001 - last line of defence for users
            if ctx.obj and ctx.obj.get("debug"):
                raise
            click.echo(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="quotaopt")
@click.option("--debug", is_flag=True, help="Show tracebacks for unexpected errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """quotaopt: optimization-based sales quotas, from history to payout."""
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


@main.command()
@click.option("--reps", "n_reps", type=click.IntRange(min=1), required=True, help="Number of reps.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write.")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--years", type=click.IntRange(min=1, max=30), default=3, show_default=True, help="Years of history.")
@click.option("--end-year", type=click.IntRange(min=1901, max=2199), default=2026, show_default=True, help="Last history year.")
@click.option("--actuals-through", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Also write plan-year actuals.csv up to this date (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True)
@click.option("--overwrite", is_flag=True, help="Replace a --out folder an earlier generate wrote (has truth/meta.json).")
@click.option("--product-lines", type=click.IntRange(min=0, max=6), default=0, show_default=True,
              help="Give every deal one of this many product lines (bookings product_line, truth/line_mix).")
@click.option("--opportunities", is_flag=True,
              help="With --actuals-through: also write opportunities.csv (the CRM pipeline on that date).")
@click.option("--unowned", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of each team's accounts nobody owns yet (new logos).")
@click.option("--vacant", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of seats left vacant in the last history year (their accounts name a departed rep).")
@click.option("--imbalance", type=click.FloatRange(0, 3), default=0.0, show_default=True,
              help="Log-sd of uneven book sizes.")
@click.option("--churn", type=click.FloatRange(0, 0.5), default=0.0, show_default=True,
              help="Yearly share of buying accounts that stop; as many prospects start (truth/account_life).")
@click.option("--activities", is_flag=True,
              help="Also write activities.csv (visits, conversion, collection_days, satisfaction per rep and month).")
def generate(n_reps: int, out_dir: Path, seed: int, years: int, end_year: int, actuals_through: Any, fmt: str,
             overwrite: bool, product_lines: int, opportunities: bool, unowned: float, vacant: float,
             imbalance: float, churn: float, activities: bool) -> None:
    """Write a synthetic company (contract §1) and its ground truth (truth/)."""
    from quotaopt.datasets import generate_company

    through = actuals_through.date() if actuals_through is not None else None
    path = generate_company(out_dir, n_reps=n_reps, years=years, seed=seed, end_year=end_year,
                            actuals_through=through, fmt=fmt, overwrite=overwrite, product_lines=product_lines,
                            opportunities=opportunities, unowned=unowned, vacant=vacant, imbalance=imbalance,
                            churn=churn, activities=activities)
    click.echo(f"wrote synthetic company with {n_reps} reps and {years} years of history to {path}")


def _print_summary(summary: dict[str, Any]) -> None:
    click.echo(f"teams: {summary['teams']}")
    roles = ", ".join(f"{k} {v}" for k, v in summary["reps_by_role"].items())
    statuses = ", ".join(f"{k} {v}" for k, v in summary["reps_by_status"].items())
    click.echo(f"reps: {summary['reps']} ({roles}; {statuses})")
    years = summary["history_years"]
    click.echo(f"years of history: {summary['years_of_history']} ({years[0]}-{years[-1]})")
    for year, row in summary["bookings_per_year"].items():
        click.echo(f"  bookings {year}: {row['rows']} rows, {row['amount']:,.2f}")
    click.echo(f"credit notes: {summary['credit_notes']} ({summary['credit_note_amount']:,.2f})")
    for key in ("accounts", "territories"):
        if summary[key] is not None:
            click.echo(f"{key}: {summary[key]}")
    if summary["capacity_given"]:
        click.echo("capacity.csv: present")


_PROBLEMS_HELP = "On bad input, write every problem to this CSV (file,row,column,value,expected,message)."


def _report_problems(problems_file: Path | None, as_json: bool) -> Any:
    """A context that writes the problems file (and prints the JSON document) when input is bad."""
    import contextlib

    from quotaopt.errors import InputError

    @contextlib.contextmanager
    def reporting() -> Any:
        try:
            yield
        except InputError as exc:
            from quotaopt.io import problems_csv, problems_document, write_file_atomic

            if problems_file is not None:
                write_file_atomic(problems_file, problems_csv(exc))
            if as_json:
                click.echo(problems_document(exc))
            if problems_file is not None:
                click.echo(f"every problem ({exc.count()}) written to {problems_file}", err=True)
            raise

    return reporting()


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary (or, on bad input, every problem) as JSON.")
@click.option("--problems", "problems_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_PROBLEMS_HELP)
def validate(scenario: Path, as_json: bool, problems_file: Path | None) -> None:
    """Check a scenario file and its data (folder, workbook or database), or a data folder alone."""
    from quotaopt.commands import validate as check

    with _report_problems(problems_file, as_json):
        found = check(scenario)
    summary = found.summary.record()
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    if "scenario" in summary:
        click.echo(f"scenario {summary['scenario']}: plan year {summary['plan_year']}, data {found.source}")
    _print_summary(summary)
    click.echo("valid")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("quotaopt-demo"),
              show_default=True, help="Where to write the sample company and its runs.")
def demo(out_dir: Path) -> None:
    """Write the sample company, validate it and run the full plan."""
    from quotaopt.commands import demo as run_demo

    run_demo(out_dir, echo=click.echo)


class _Progress:
    """Stage names on stderr while a long job runs (a spinner on a terminal, nothing in pipes)."""

    def __init__(self) -> None:
        from rich.console import Console

        self.console = Console(stderr=True)
        self.status: Any = None

    def __enter__(self) -> _Progress:
        if self.console.is_terminal:
            self.status = self.console.status("starting")
            self.status.__enter__()
        return self

    def __call__(self, stage: str) -> None:
        if self.status is not None:
            self.status.update(f"quotaopt: {stage}")

    def __exit__(self, *exc: Any) -> None:
        if self.status is not None:
            self.status.__exit__(*exc)


def _echo_headline(summary: Summary, path: Path) -> None:
    from quotaopt.report.terminal import headline_lines

    for line in headline_lines(summary, path):
        click.echo(line)


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Parent folder of the runs (default: runs/ beside the scenario).")
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Local workers for unit solves and simulation chunks (default: one per CPU core).")
@click.option("--scheduler", default=None,
              help="Dask scheduler address (tcp://host:port): unit solves and simulation chunks run there.")
@click.option("--scheduler-timeout", type=click.FloatRange(min=0.1, max=3600), default=30.0, show_default=True,
              help="Seconds to reach the scheduler, and again for a worker to be there.")
@click.option("--overrides", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="An edited plan.xlsx: quotas typed in its Overrides sheet (new_quota) are locked.")
@click.option("--problems", "problems_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help=_PROBLEMS_HELP)
def plan(scenario: Path, out_dir: Path | None, workers: int | None, scheduler: str | None,
         scheduler_timeout: float, overrides: Path | None, problems_file: Path | None) -> None:
    """Run the main job: capacity, allocation, periods, simulation, run folder."""
    import os

    from quotaopt.commands import plan as run_plan

    with _report_problems(problems_file, False), _Progress() as progress:
        result, written = run_plan(scenario, out=out_dir, progress=progress,
                                   workers=workers or os.cpu_count() or 1, scheduler=scheduler,
                                   scheduler_timeout=scheduler_timeout, overrides=overrides)
    if overrides is not None:
        locked = {} if written.manifest.overrides is None else written.manifest.overrides.quotas
        click.echo(f"overrides: {len(locked)} quota(s) locked from {overrides}")
    _echo_headline(result.summary, written.path)


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--from", "start", type=float, default=-0.10, show_default=True, help="Lowest growth.")
@click.option("--to", "stop", type=float, default=0.30, show_default=True, help="Highest growth.")
@click.option("--step", type=float, default=0.05, show_default=True, help="Growth step.")
@click.option("--draws", type=click.IntRange(min=1, max=10_000_000), default=None,
              help="Simulation draws per row (default: as in the scenario).")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Parent folder of the runs (default: runs/ beside the scenario).")
def frontier(scenario: Path, start: float, stop: float, step: float, draws: int | None, out_dir: Path | None) -> None:
    """The planning frontier: P(target), reps at quota, payout and exceptions for each growth value."""
    import os

    from quotaopt.commands import frontier as frontier_scenario
    from quotaopt.planning import growth_values

    growths = growth_values(start, stop, step)
    with _Progress() as progress:
        table, folder = frontier_scenario(scenario, growths, out=out_dir, draws=draws,
                                          workers=os.cpu_count() or 1, progress=progress)
    shown = table.assign(**{c: table[c].map(lambda v: "" if v != v else f"{v:.1%}") for c in
                            ("growth", "p_company_target", "reps_at_quota", "reps_below_80", "cost_of_sales")})
    shown = shown[["growth", "company_target", "p_company_target", "reps_at_quota", "reps_below_80",
                   "expected_payout", "cost_of_sales", "exceptions", "status"]]
    with _wide_pandas():
        click.echo(shown.to_string(index=False, float_format=lambda v: f"{v:,.0f}"))
    click.echo(f"wrote {folder / 'frontier.csv'}")
    click.echo(f"page: {folder / 'frontier.html'}")


@main.command()
@click.argument("runs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--reps", "by_rep", is_flag=True,
              help="Also list every rep whose quota, stretch or chance changed (with the reason), and unit deltas.")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the table: CSV, or a workbook when the name ends in .xlsx.")
def compare(runs: tuple[Path, ...], by_rep: bool, out_file: Path | None) -> None:
    """Compare runs side by side: headline figures and unit quotas (with --reps: rep by rep)."""
    from quotaopt.commands import compare as compare_runs
    from quotaopt.commands import compare_by_rep

    number = lambda v: f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.4f}"  # noqa: E731
    if not by_rep:
        table = compare_runs(list(runs), out=out_file)
        with _wide_pandas():
            click.echo(table.to_string(float_format=number))
    else:
        table, reps = compare_by_rep(list(runs), out=out_file)
        with _wide_pandas():
            click.echo(table.to_string(float_format=number))
        # On screen the runs are #1, #2 ... (the files keep the full labels).
        short = {f": {label}": f" #{i}" for i, label in enumerate(reps.labels, start=1)}

        def shorten(frame: Any) -> Any:
            return frame.rename(columns=lambda c: next((c.replace(k, v) for k, v in short.items() if
                                                        c.endswith(k)), c))

        click.echo("\n" + "; ".join(f"#{i} = {label}" for i, label in enumerate(reps.labels, start=1)))
        click.echo(f"reps that changed: {len(reps.reps)} of {reps.compared}")
        if len(reps.reps):
            shown = reps.reps[[c for c in reps.reps.columns if not c.startswith(("binding:", "stretch:"))]]
            with _wide_pandas():
                click.echo(shorten(shown).to_string(index=False, float_format=number))
        click.echo(f"units that changed: {len(reps.units)}")
        if len(reps.units):
            with _wide_pandas():
                click.echo(shorten(reps.units).to_string(index=False, float_format=number))
    if out_file is not None:
        click.echo(f"wrote {out_file}")


@main.command()
@click.argument("scenarios", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Local processes.")
@click.option("--scheduler", default=None, help="Dask scheduler address (tcp://host:port); runs there instead.")
@click.option("--scheduler-timeout", type=click.FloatRange(min=0.1, max=3600), default=30.0, show_default=True,
              help="Seconds to reach the scheduler, and again for a worker to be there.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Parent folder of the runs (default: runs/ beside each scenario).")
@click.pass_context
def batch(ctx: click.Context, scenarios: tuple[Path, ...], workers: int, scheduler: str | None,
          scheduler_timeout: float, out_dir: Path | None) -> None:
    """Plan many scenarios; one failure does not stop the others."""
    from quotaopt.commands import batch as run_batch
    from quotaopt.commands import batch_exit_code

    outcomes = run_batch(list(scenarios), out=out_dir, workers=workers, scheduler=scheduler,
                         scheduler_timeout=scheduler_timeout)
    width = max(len(Path(o.scenario).name) for o in outcomes)
    click.echo(f"{'scenario':<{width}}  status  exit  P(target)  total quota     run / message")
    for o in outcomes:
        p = "" if o.p_company_target is None else f"{o.p_company_target:.1%}"
        q = "" if o.total_quota is None else f"{o.total_quota:,.0f}"
        click.echo(f"{Path(o.scenario).name:<{width}}  {o.status:<6}  {o.exit_code:<4}  {p:>9}  {q:>13}  "
                   f"{o.run or o.message}")
    failed = sum(o.status != "ok" for o in outcomes)
    click.echo(f"{len(outcomes) - failed} of {len(outcomes)} scenarios planned")
    ctx.exit(batch_exit_code(outcomes))


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--plan", "plan_name", required=True, help="Name of an incentive plan in the scenario.")
@click.option("--quota", type=_FiniteFloat(), default=None, help="Quota for the measurement period.")
@click.option("--sales", type=_FiniteFloat(), default=None, help="Sales in the measurement period.")
@click.option("--attainment", "attainments", multiple=True, metavar="MEASURE=A",
              help="A scorecard measure's attainment, e.g. activity:visits=1.1 (repeat; revenue may "
              "come from --quota and --sales instead).")
@click.option("--activities", "activities", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --rep: read each activity:<metric> attainment from this activities.csv.")
@click.option("--rep", "rep_id", default=None, help="With --activities: the rep whose rows and role's targets count.")
def payout(scenario: Path, plan_name: str, quota: float | None, sales: float | None,
           attainments: tuple[str, ...], activities: Path | None, rep_id: str | None) -> None:
    """Compute one payout and explain it band by band (component by component for a scorecard)."""
    from quotaopt.commands import payout as explain

    click.echo(explain(scenario, plan_name, quota, sales, attainments, activities_path=activities,
                       rep=rep_id).render())


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--draws", type=click.IntRange(min=1, max=10_000_000), default=None, help="Draws (default: as planned).")
@click.option("--seed", type=click.IntRange(min=0), default=None, help="Seed (default: as planned).")
def simulate(run: Path, draws: int | None, seed: int | None) -> None:
    """Re-simulate a run's quotas into a new run whose parent is RUN."""
    from quotaopt.commands import simulate as simulate_run

    with _Progress():
        result, written = simulate_run(run, draws=draws, seed=seed)
    _echo_headline(result.summary, written.path)
    click.echo(f"parent run: {written.manifest.parent_run}")


@main.command()
@click.argument("run", type=click.Path(path_type=Path))
@click.option("--actuals", "actuals", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="Plan-year bookings so far (bookings.csv columns).")
@click.option("--as-of", "as_of", required=True, help="Date the actuals run to (YYYY-MM-DD).")
@click.option("--replan", is_flag=True, help="Also re-optimise the periods after the as-of date into a new run.")
@click.option("--recalibrate", is_flag=True,
              help="Re-plan with the company target reset to the forecast P50 (or to --growth); needs --reason.")
@click.option("--growth", type=float, default=None,
              help="With --recalibrate: growth over the last complete year instead of the forecast (0.18 = +18%).")
@click.option("--reason", default=None, help="With --recalibrate: why the target changes (goes to the audit log).")
@click.option("--opportunities", "opportunities", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The CRM pipeline (opportunities.csv): forecast the quarter and the year from it too.")
@click.option("--horizon", default=None, help="Answer for the last quarter ending within this horizon (e.g. 30d).")
@click.option("--activities", "activities", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Process metrics of the plan year (activities.csv): pace against the scenario's targets.")
def track(run: Path, actuals: Path, as_of: str, replan: bool, recalibrate: bool, growth: float | None,
          reason: str | None, opportunities: Path | None, horizon: str | None, activities: Path | None) -> None:
    """Actuals against plan: pace, status colours, chance of making the year."""
    from quotaopt.commands import track as track_run
    from quotaopt.report.replan_note import exception_lines, replan_lines

    with _Progress():
        outcome = track_run(run, actuals, as_of, replan=replan, recalibrate=recalibrate, growth=growth, reason=reason,
                            opportunities_path=opportunities, horizon=horizon, activities_path=activities)
    status = outcome.status
    for kind in ("rep", "unit"):
        rows = status[status["kind"] == kind] if "kind" in status else status
        counts = rows["status"].value_counts()
        click.echo(f"{kind}s: " + ", ".join(f"{colour} {int(counts.get(colour, 0))}" for colour in
                                              ("green", "yellow", "red")))
    if "calibrate" in status:
        click.echo(f"need a calibration meeting: {int(status['calibrate'].astype(bool).sum())}")
    quarter = status[(status["kind"] == "unit") & (status["level"] == 0)] if "p_attain_quarter" in status else None
    if quarter is not None and len(quarter):
        top = quarter.iloc[0]
        click.echo(f"{top['quarter']}: P(company quarter quota) {float(top['p_attain_quarter']):.0%}, "
                   f"forecast P50 {float(top['quarter_p50']):,.0f} against {float(top['quarter_quota']):,.0f}")
    if outcome.meta.activities is not None:
        colours = outcome.meta.activities.status
        click.echo("activities: " + ", ".join(f"{c} {colours[c]}" for c in ("green", "yellow", "red")))
    click.echo(f"status: {outcome.track_path / 'status.csv'}")
    click.echo(f"page: {outcome.track_path / 'status.html'}")
    if outcome.replan is not None:
        change = outcome.replan.manifest.replan
        for line in replan_lines({} if change is None else change.record()):
            click.echo(line)
        summary = outcome.replan_summary
        for line in exception_lines(None if summary is None else summary.record().get("exceptions")):
            click.echo(f"  {line}")
        click.echo(f"re-plan run: {outcome.replan.path} (parent {outcome.replan.manifest.parent_run})")


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--model-out", "model_out", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Model folder to write (default: models/<scenario name>).")
def train(scenario: Path, model_out: Path | None) -> None:
    """Fit the capacity model on the history and save it with its backtest."""
    from quotaopt.commands import train as train_scenario

    with _Progress():
        folder, meta = train_scenario(scenario, model_out)
    click.echo(f"model written to {folder} (training years {meta.training_years})")
    weights = (meta.model.change_weights if meta.model is not None else None) or {}
    if weights:
        click.echo("  change candidates: " + ", ".join(f"{k} {v:.2f}" for k, v in weights.items()))
    for row in meta.backtest or []:
        level = row.get("wape_blend_forecast_level")
        click.echo(f"  backtest {row['year']}: WAPE {row['wape_blend']:.3f} with the realised level"
                   + (f", {level:.3f} with the level as forecast" if level is not None else "")
                   + f"; last year {row['wape_persistence']:.3f} (same level)")


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--year", type=int, default=None, help="Year to score; the model is fitted on the years before.")
@click.option("--years", type=int, default=None,
              help="Several years to score as a rolling origin: --years 2024 2025 2026.")
@click.argument("more_years", nargs=-1, type=int, required=False)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Runs folder for backtest.json (default: runs/ beside the scenario).")
def backtest(scenario: Path, year: int | None, years: int | None, more_years: tuple[int, ...],
             out_dir: Path | None) -> None:
    """Score the capacity model on past years against naive baselines.

    Give one year with --year Y, or several with --years Y1 Y2 Y3 (a rolling origin:
    each fitted on the years before it), one row per method and year, then the mean.
    """
    from quotaopt.commands import backtest as backtest_scenario

    wanted = ([year] if year is not None else []) + ([years] if years is not None else []) + list(more_years)
    if not wanted:
        raise click.UsageError("give --year Y or --years Y1 Y2 ...")
    with _Progress():
        table, path = backtest_scenario(scenario, wanted if len(wanted) > 1 else wanted[0], out_dir)
    with _wide_pandas():
        click.echo(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    click.echo(f"wrote {path}")


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File to write (default: runs/<scenario>/analysis.html beside the scenario).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the tables by measure (product lines, new customers, repurchase rate) as JSON.")
def analyze(scenario: Path, out_file: Path | None, json_file: Path | None) -> None:
    """The history view: bookings by period and unit, the 80% accounts, reps' growth, product lines,
    new customers and repurchase rate (analysis.html)."""
    from quotaopt.commands import analyze as write_analysis

    outcome = write_analysis(scenario, out_file, json_file)
    click.echo(f"page: {outcome.path}")
    if outcome.tables is not None:
        click.echo(f"tables: {outcome.tables}")
    for line in outcome.summary:
        click.echo(line)


@main.command()
@click.argument("scenarios", nargs=-1, type=click.Path(path_type=Path))
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; any but this machine's loopback needs --token.")
@click.option("--port", type=click.IntRange(min=0, max=65535), default=8000, show_default=True)
@click.option("--token", default=None, envvar="QUOTAOPT_TOKEN",
              help="Secret every request must carry (env QUOTAOPT_TOKEN); required off loopback.")
@click.option("--user", default=None, help="Name recorded on approvals (default: the OS account).")
@click.option("--runs", "runs_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Parent folder of the versions (default: runs/ beside each scenario).")
def serve(scenarios: tuple[Path, ...], host: str, port: int, token: str | None, user: str | None,
          runs_dir: Path | None) -> None:
    """The what-if workbench: a local web page to shape, save, compare and approve plans.

    Serves each SCENARIO (default: every scenarios/*.yaml of the working directory).
    """
    from quotaopt.workbench import serve as run_server

    chosen = list(scenarios) or sorted(Path("scenarios").glob("*.yaml"))
    if not chosen:
        raise click.UsageError("name a scenario file (no scenarios/*.yaml here)")
    run_server(chosen, host=host, port=port, token=token, user=user, runs_dir=runs_dir, echo=click.echo)


@main.group()
def runs() -> None:
    """The runs of a runs folder (`runs/<scenario>/<run id>/`; `latest` names each scenario's newest)."""


@runs.command("list")
@click.argument("runs_root", type=click.Path(path_type=Path), default=Path("runs"))
@click.option("--scenario", default=None, help="Only this scenario's runs.")
@click.option("--json", "as_json", is_flag=True, help="Print the list as JSON.")
def list_runs_command(runs_root: Path, scenario: str | None, as_json: bool) -> None:
    """List runs with their headline figures (default folder: ./runs)."""
    from quotaopt.io import list_runs

    table = list_runs(runs_root, scenario)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
        return
    if table.empty:
        click.echo(f"no runs in {runs_root}")
        return
    shown = table.assign(
        latest=table["latest"].map(lambda v: "*" if v else ""),
        parent_run=table["parent_run"].fillna(""),
        **{c: table[c].map(lambda v: "" if v is None or v != v else f"{v:,.0f}")
           for c in ("company_target", "total_quota", "expected_payout")},
        **{c: table[c].map(lambda v: "" if v is None or v != v else f"{v:.1%}")
           for c in ("p_company_target", "cost_of_sales")})
    with _wide_pandas():
        click.echo(shown.to_string(index=False))
    click.echo(f"{len(table)} run(s); * = latest (use <runs>/<scenario>/latest wherever a run is asked)")


def _wide_pandas() -> Any:
    import pandas as pd

    return pd.option_context("display.width", 200, "display.max_columns", 50, "display.max_rows", 500)


def run() -> None:  # pragma: no cover - console entry for `python -m quotaopt`
    main(obj={}, prog_name="quotaopt")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
