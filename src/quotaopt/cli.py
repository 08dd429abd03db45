"""The ``quotaopt`` command line: thin click commands over one library call each.

Heavy libraries are imported inside the commands so ``quotaopt --help`` answers at
once. Our errors become the exit codes of contract §3 with one clear line and no
traceback; anything unexpected is exit 1 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from quotaopt.errors import QuotaOptError


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
def generate(n_reps: int, out_dir: Path, seed: int, years: int, end_year: int, actuals_through: Any, fmt: str) -> None:
    """Write a synthetic company (contract §1) and its ground truth (truth/)."""
    from quotaopt.datasets import generate_company

    through = actuals_through.date() if actuals_through is not None else None
    path = generate_company(out_dir, n_reps=n_reps, years=years, seed=seed, end_year=end_year,
                            actuals_through=through, fmt=fmt)
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


@main.command()
@click.argument("scenario", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
def validate(scenario: Path, as_json: bool) -> None:
    """Check a scenario file and its data folder (or a data folder alone)."""
    from quotaopt.pipeline import load_inputs

    inputs = load_inputs(scenario)
    summary = inputs.company.summary()
    if inputs.scenario is not None:
        summary = {"scenario": inputs.scenario.name, "plan_year": inputs.plan_year, **summary}
    if as_json:
        click.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    if inputs.scenario is not None:
        click.echo(f"scenario {inputs.scenario.name}: plan year {inputs.plan_year}, data {inputs.company.folder}")
    _print_summary(summary)
    click.echo("valid")


@main.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("quotaopt-demo"),
              show_default=True, help="Where to write the sample company and its runs.")
def demo(out_dir: Path) -> None:
    """Write the sample company, validate it and run the full plan."""
    from quotaopt.demo import run_demo

    run_demo(out_dir, echo=click.echo)


def run() -> None:  # pragma: no cover - console entry for `python -m quotaopt`
    main(obj={}, prog_name="quotaopt")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
