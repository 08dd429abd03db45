"""``quotaopt simulate RUN``: re-simulate a run's quotas with other draws or seed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from quotaopt.commands._runs import inputs_of_run, write_result
from quotaopt.io import WrittenRun, check_runs_root, read_run
from quotaopt.planning import PlanResult


def simulate(run_path: str | Path, draws: int | None = None, seed: int | None = None) -> tuple[PlanResult, WrittenRun]:
    """Re-simulate a run's quotas with other draws or seed, into a new run whose parent is it.

    Quotas, periods and units are kept; p_attain, expected payouts and the simulated
    summary figures are recomputed.

    Examples
    --------
    (``example`` is the shipped ``scenarios/example.yaml``, ``runs`` an empty folder.)

    >>> import quotaopt as qo
    >>> _, run = qo.plan(example, out=runs)
    >>> result, child = qo.simulate(run.path, draws=500, seed=1)
    >>> child.manifest.parent_run == run.run_id, result.summary.simulation
    (True, SimulationSettings(draws=500, seed=1))
    """
    from quotaopt.planning import (
        assemble,
        comparable_last,
        distributions,
        month_weights_of,
        outcome_of,
        simulate_stage,
    )

    run = read_run(run_path)
    check_runs_root(run.runs_root, str(run.runs_root))
    simulation: dict[str, Any] = {}
    if draws is not None:
        simulation["draws"] = draws
    if seed is not None:
        simulation["seed"] = seed
    inputs = inputs_of_run(run, {"simulation": simulation} if simulation else None)
    assert inputs.scenario is not None
    company = inputs.company
    history = company.bookings[company.bookings["date"].dt.year < inputs.plan_year]
    hires = company.reps.set_index("rep_id")["hire_date"]
    reps = run.plan.assign(hire_date=run.plan["rep_id"].map(hires))
    units = run.units.assign(parent_id=run.units["parent_id"].where(run.units["parent_id"].notna(), None))
    sim = simulate_stage(inputs.scenario, reps, units, history, inputs.plan_year, float(run.summary.company_target),
                         month_weights_of(inputs.company, history), org=run.org)
    plan_table = run.plan.drop(columns=["p_attain", "expected_payout"]).merge(
        sim.reps[["rep_id", "p_attain", "expected_payout"]], on="rep_id", how="left")
    plan_table["p_attain"] = plan_table["p_attain"].round(4)
    plan_table["expected_payout"] = plan_table["expected_payout"].round(2)
    plan_table = plan_table[run.plan.columns]
    unit_table = run.units.drop(columns=["p_attain"]).merge(sim.units[["unit_id", "p_attain"]], on="unit_id", how="left")
    unit_table["p_attain"] = unit_table["p_attain"].round(4)
    unit_table = unit_table[run.units.columns]
    result = assemble(inputs.scenario, inputs.plan_year, plan_table, run.periods, unit_table,
                      outcome_of(sim, inputs.scenario), sections={}, base=run.summary,
                      distributions=distributions(sim),
                      comparable_last=comparable_last(reps, inputs.plan_year, len(inputs.scenario.allocation.ramp)))
    written = write_result(result, inputs, run.runs_root, parent_run=run.run_id,
                           extra_manifest={"derived_from": {"run": run.run_id, "action": "simulate",
                                                            "draws": draws, "seed": seed}})
    return result, written
