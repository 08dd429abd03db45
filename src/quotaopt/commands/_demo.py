"""The sample company behind ``quotaopt demo`` and the shipped example."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

#: The shipped example scenario; `quotaopt demo` writes it beside a generated company.
EXAMPLE_SCENARIO = """\
# The shipped example: a 60-rep company with three years of history (2024-2026).
name: example
data: example/
plan_year: 2027
target:
  growth: 0.12                    # 12% over 2026 bookings
  over_assignment: 0.10           # rep quotas add up to 110% of the company number
market:
  growth: 0.0
capacity:
  model: train
  quantiles: [0.1, 0.5, 0.9]
allocation:
  unit: 1000
  stretch: [0.75, 1.4]            # quota / capacity P50 per rep
  max_change: 0.40                # year-on-year, for reps with a full ramped year
  flex: 0.05
  ka_share: [0.3, 0.9]
  ramp: [0.25, 0.5, 0.75, 1.0]
  fairness: stretch
  strict: false                   # soft limits give way (listed as exceptions); true: exit 3 instead
  guardrail: {min_share_at_quota: 0.5}   # warn when fewer reps are expected to reach quota
  solver: {backend: highs, time_limit: 60, mip_gap: 0.0001, threads: 1}
periods:
  split: month
  seasonality: learned
  win_rate: 0.25
incentives:
  plans:
    - name: ka
      applies_to: {role: ka}
      kind: bonus
      target_incentive: 60000
      period: quarter
      mode: marginal
      tiers:
        - {from: 0.0, to: 0.5, rate: 0.5}
        - {from: 0.5, to: 1.0, rate: 1.0}
        - {from: 1.0, to: 1.3, rate: 1.5}
        - {from: 1.3, rate: 2.0}
      threshold: 0.0
      cap: 3.0
    - name: longtail
      applies_to: {role: longtail}
      kind: commission
      period: year
      mode: marginal
      tiers:
        - {from: 0.0, to: 0.7, rate: 0.02}
        - {from: 0.7, to: 1.0, rate: 0.04}
        - {from: 1.0, rate: 0.06}
      threshold: 0.0
      cap: 2.0
  team_bonus: {threshold: 1.0, per_rep: 5000}
simulation:
  draws: 10000
  seed: 7
  correlation: {company: 0.3, team: 0.2}
tracking:
  red: 0.85
  green: 1.0
"""

#: Generator settings of the shipped example (scenarios/example/). ``actuals_through`` adds
#: the same company's plan-year bookings to mid-year (actuals.csv), so `track` has real
#: actuals to read; the history files are the same with or without it.
EXAMPLE_GENERATOR = {"n_reps": 60, "years": 3, "seed": 2027, "end_year": 2026, "actuals_through": "2027-06-30"}


def write_example(folder: Path) -> Path:
    """Write the example company and its scenario file into ``folder``; return the scenario path."""
    from quotaopt.datasets import generate_company
    from quotaopt.io import write_file_atomic

    generate_company(folder / "example", **EXAMPLE_GENERATOR)  # type: ignore[arg-type]
    scenario = folder / "example.yaml"
    write_file_atomic(scenario, EXAMPLE_SCENARIO.encode("utf-8"), parents=True)
    return scenario


def demo(out_dir: Path, echo: Callable[[str], None] = print) -> Path:
    """Write the sample company into ``out_dir``, validate it and run the full plan.

    Returns
    -------
    Path
        The run folder written (under ``out_dir/runs/example/``).
    """
    from quotaopt.commands._plan import plan
    from quotaopt.io import load_inputs
    from quotaopt.report.terminal import headline_lines

    out_dir = Path(out_dir)
    scenario = out_dir / "example.yaml"
    if not scenario.exists():  # a second demo re-plans the same company into a new run
        scenario = write_example(out_dir)
    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    summary = inputs.company.summary()
    echo(f"sample company: {summary.reps} reps in {summary.teams} units, "
         f"{summary.years_of_history} years of history, plan year {inputs.plan_year}")
    echo(f"scenario: {scenario}")
    result, written = plan(scenario)
    for line in headline_lines(result.summary, written.path):
        echo(line)
    return written.path
