"""The planning frontier: what each growth target would mean for the company and its reps.

For a range of growth values over the last complete year, the same capacities, limits,
incentive plans and simulation seed: allocate the target (soft limits give way and are
counted as exceptions), then simulate it with the plan's own Monte Carlo
(:func:`quotaopt.planning.simulate_stage`). Every row draws the same company bookings
(they do not depend on quotas), so P(company target met) can only fall as the target
rises: the frontier is monotone by construction, not by smoothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.errors import InfeasibleError, InputError, Problem
from quotaopt.parallel import Executor
from quotaopt.planning._plan import Inputs

#: Columns of frontier.csv, in order.
COLUMNS = ["growth", "company_target", "total_quota", "p_company_target", "reps_at_quota", "reps_80_100",
           "reps_below_80", "expected_payout", "cost_of_sales", "exceptions", "exceptions_amount", "status"]
#: Default growth values: -10% to +30% in steps of 5 points.
DEFAULT_GROWTH = tuple(round(g, 4) for g in np.arange(-0.10, 0.3001, 0.05))


def growth_values(start: float, stop: float, step: float) -> list[float]:
    """``start``, ``start + step`` ... up to ``stop`` (included), rounded to 4 decimals.

    Raises
    ------
    InputError
        A step that is not positive, or a range that gives fewer than two values.
    """
    if not step > 0:
        raise InputError([Problem("--step", f"must be > 0, got {step:g}")])
    values = [round(float(g), 4) for g in np.arange(start, stop + step / 2, step)]
    if len(values) < 2 or any(g <= -1 for g in values):
        raise InputError([Problem("--from/--to", f"need at least two growth values above -100% from {start:g} "
                                  f"to {stop:g} by {step:g}")])
    return values


def frontier(inputs: Inputs, growths: Sequence[float] = DEFAULT_GROWTH, executor: Executor | None = None,
             progress: Callable[[str], None] | None = None, capacity_cache: Any = None) -> pd.DataFrame:
    """One row per growth value (see module docstring), columns :data:`COLUMNS`.

    Parameters
    ----------
    inputs : Inputs
        A loaded scenario (its target is replaced by each growth value in turn).
    growths : sequence of float
    executor : Executor, optional
        Where the simulation's chunks run (:mod:`quotaopt.parallel`; default: this process).
    progress : callable, optional
        Called with a short label as each row starts.
    capacity_cache : mutable mapping, optional
        Fitted capacities kept between calls (see :func:`quotaopt.planning.run_plan`).

    Returns
    -------
    DataFrame
    """
    from quotaopt.allocation import allocate
    from quotaopt.planning._plan import (
        estimate_capacity,
        growth_base,
        month_weights_of,
        simulate_stage,
        with_locks,
    )

    scenario, company, plan_year = inputs.scenario, inputs.company, inputs.plan_year
    if scenario is None:
        raise InputError([Problem(str(company.folder), "frontier needs a scenario file, not a data folder")])
    base_year, base = growth_base(scenario, company, plan_year)
    history = company.bookings[company.bookings["date"].dt.year < plan_year]
    if progress is not None:
        progress("capacity")
    capacity, _ = estimate_capacity(scenario, company, plan_year, inputs.model, capacity_cache)
    reps = with_locks(company.active_reps, scenario).merge(capacity, on="rep_id", how="left")
    weights = month_weights_of(company, history)
    cover = 1.0 + scenario.target.over_assignment
    rows: list[dict[str, Any]] = []
    for growth in growths:
        if progress is not None:
            progress(f"growth {growth:+.1%}")
        target = base * (1.0 + growth) ** (plan_year - base_year)
        row: dict[str, Any] = {"growth": growth, "company_target": round(target, 2)}
        try:
            alloc = allocate(reps, company.teams, target * cover, scenario.allocation, plan_year, org=company.org)
        except InfeasibleError:
            rows.append({**row, "status": "infeasible"})
            continue
        planned = reps.merge(alloc.reps[["rep_id", "quota"]], on="rep_id")
        sim = simulate_stage(scenario, planned, alloc.units, history, plan_year, target, weights, executor,
                             company.org)
        s = sim.summary
        rows.append({**row, "total_quota": int(round(float(planned["quota"].sum()))),
                     "p_company_target": s.p_company_target, "reps_at_quota": s.share_ge_100,
                     "reps_80_100": s.share_80_100, "reps_below_80": s.share_lt_80,
                     "expected_payout": round(s.expected_payout, 2), "cost_of_sales": s.cost_of_sales,
                     "exceptions": len(alloc.exceptions),
                     "exceptions_amount": round(sum(e.amount for e in alloc.exceptions), 2), "status": "ok"})
    return pd.DataFrame(rows, columns=COLUMNS)
