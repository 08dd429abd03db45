"""The main job: scenario -> capacity -> allocation -> periods -> simulation -> PlanResult.

Each stage is its own module; this one orders them, records timings, and turns the
stage outputs into the tables of contract §4. Nothing here touches the disk except
through :mod:`quotaopt.io`.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator, MutableMapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.capacity import TrainedModel
from quotaopt.capacity.records import CapacitySummary
from quotaopt.company import CompanyData
from quotaopt.errors import InfeasibleError, InputError, Problem
from quotaopt.incentives import SimulationResult
from quotaopt.money import MAX_AMOUNT, amounts, count_units, decimals
from quotaopt.names import name_columns, rep_names, unit_names, with_names
from quotaopt.org_tree import OrgTree
from quotaopt.parallel import Executor
from quotaopt.planning._assemble import assemble, outcome_of
from quotaopt.planning._result import PLAN_COLUMNS, UNIT_COLUMNS, PlanResult
from quotaopt.records import Number, TargetBasis
from quotaopt.scenario import Scenario

Progress = Callable[[str], None]


@dataclass
class Inputs:
    """A validated scenario with its company data, resolved plan year and stored model.

    Built by :func:`quotaopt.io.load_inputs`; nothing below it reads a file.
    """

    scenario: Scenario | None
    company: CompanyData
    plan_year: int
    model: TrainedModel | None = None


@contextmanager
def _stage(timings: dict[str, float], name: str, progress: Progress | None) -> Iterator[None]:
    if progress is not None:
        progress(name)
    start = time.perf_counter()
    yield
    timings[name] = round(time.perf_counter() - start, 4)


def company_target(scenario: Scenario, company: CompanyData, plan_year: int) -> tuple[float, TargetBasis]:
    """The company number and how it was reached.

    Order of precedence: ``target.company``; ``target.growth`` over the last complete
    year's bookings (compounded when that year is not the one before the plan year);
    the root unit's ``target`` in teams.csv; else growth 0.
    """
    cfg = scenario.target
    if cfg.company is not None:
        return float(cfg.company), TargetBasis(kind="company", growth=None, base_year=None, base_bookings=None)
    root = company.teams[company.teams["parent_id"].isna()]
    root_target = float(root["target"].iloc[0]) if len(root) else float("nan")
    if cfg.growth is None and np.isfinite(root_target):
        return root_target, TargetBasis(kind="teams.csv root target", growth=None, base_year=None, base_bookings=None)
    growth = cfg.growth or 0.0
    base_year, base = growth_base(scenario, company, plan_year)
    target = base * (1.0 + growth) ** (plan_year - base_year)
    if not np.isfinite(target) or target > MAX_AMOUNT:
        raise InputError([Problem(str(scenario.source or "scenario"),
                                  f"growing {base_year}'s bookings of {base:,.0f} by {growth:g} a year gives a "
                                  f"target of {target:.3g}, above the supported {MAX_AMOUNT:.0e}",
                                  column="target.growth")])
    return target, TargetBasis(kind="growth", growth=growth, base_year=base_year, base_bookings=round(base, 2))


def growth_base(scenario: Scenario, company: CompanyData, plan_year: int) -> tuple[int, float]:
    """The last complete year before the plan year and its bookings: what growth is measured on.

    Raises
    ------
    InputError
        No complete year before the plan year, or its bookings are not positive.
    """
    from quotaopt.capacity import observed_years

    history = company.bookings[company.bookings["date"].dt.year < plan_year]
    # A complete year runs from January to December: half a first year is no base to grow from.
    complete = [y for y in observed_years(company) if y < plan_year]
    if not complete:
        dates = company.bookings["date"]
        span = f"bookings run from {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}" if len(dates) else "no bookings"
        raise InputError([Problem(str(scenario.source or "scenario"),
                                  f"cannot grow from the last complete year before {plan_year}: there is none "
                                  f"({span}); set target.company instead", column="target.growth")])
    base_year = complete[-1]
    base = float(history.loc[history["date"].dt.year == base_year, "amount"].sum())
    if base <= 0:
        raise InputError([Problem(str(scenario.source or "scenario"),
                                  f"cannot grow from {base_year}: its bookings total {base:,.0f} (expected > 0); "
                                  "set target.company instead", column="target.growth")])
    return base_year, base


def growth_of(target: float, base_year: int, base: float, plan_year: int) -> float:
    """The yearly growth over ``base`` (bookings of ``base_year``) that reaches ``target`` in the plan year."""
    years = max(plan_year - base_year, 1)
    return float((max(target, 0.0) / base) ** (1.0 / years) - 1.0)


def growth_text(scenario: Scenario, company: CompanyData, plan_year: int) -> Callable[[float], str | None]:
    """Turns a quota total into 'target +6.8% growth' (None when growth has no base)."""
    try:
        base_year, base = growth_base(scenario, company, plan_year)
    except InputError:
        return lambda total: None
    cover = 1.0 + scenario.target.over_assignment

    def text(total: float) -> str:
        growth = round(growth_of(total / cover, base_year, base, plan_year), 4)
        return f"{growth + 0.0:+.1%} growth"  # + 0.0: no '-0.0%' for a rounding hair below zero

    return text


#: Fitted capacities kept between plans of one company (the workbench's knob changes):
#: key -> (frame before the market what-if, model info, carry-forward factor). See
#: :func:`estimate_capacity`.
CapacityCache = MutableMapping[tuple[Any, ...], tuple[pd.DataFrame, CapacitySummary, float]]


def capacity_key(scenario: Scenario, company: CompanyData, plan_year: int) -> tuple[Any, ...]:
    """What a fitted capacity depends on: the data files' hashes, the plan year and ``capacity.*``."""
    return (tuple(sorted(company.files.items())), plan_year, scenario.capacity.model_dump_json())


def estimate_capacity(scenario: Scenario, company: CompanyData, plan_year: int,
                      stored: TrainedModel | None = None,
                      cache: CapacityCache | None = None,
                      rebook: Callable[[pd.DataFrame], pd.DataFrame] | None = None
                      ) -> tuple[pd.DataFrame, CapacitySummary]:
    """Capacity P10/P50/P90 for every active rep, after the market what-if.

    ``stored`` is the trained model a scenario names by folder (loaded by
    :func:`quotaopt.io.load_inputs`). ``cache`` keeps the fitted capacities by
    :func:`capacity_key`, so a what-if that changes no ``capacity.*`` key and no data
    file fits once; ``market.growth`` is applied after it and may change freely.
    ``rebook``, given the capacities on accounts.csv's books, returns the accounts with new
    owners (the assignment); the capacities returned are then those the model (fitted on
    the same history) gives on the new books; a model given by hand cannot re-score.
    """
    key = capacity_key(scenario, company, plan_year)
    if cache is not None and key in cache:
        fitted, fitted_info, carry = cache[key]
    else:
        fitted, fitted_info, carry = _fit_capacity(scenario, company, plan_year, stored)
        if cache is not None:
            cache[key] = (fitted, fitted_info, carry)
    frame = fitted.copy()
    frame.attrs = dict(fitted.attrs)
    factor = (1.0 + scenario.market.growth) * carry
    frame = _scaled(frame, factor, scenario)
    after: dict[str, Number | bool] = {}
    if rebook is not None:
        accounts = rebook(frame)
        after["rescored_on_new_books"] = scenario.capacity.model != "given"
        if after["rescored_on_new_books"]:
            frame = _scaled(_fit_capacity(scenario, company, plan_year, stored, books=accounts)[0], factor, scenario)
    after["market_growth"] = scenario.market.growth
    after["total_p50"] = round(float(frame["capacity_p50"].sum()), 2)
    # The cached record stays as it was fitted; the what-if's figures go on a copy.
    return frame, fitted_info.model_copy(update=after)


def _scaled(frame: pd.DataFrame, factor: float, scenario: Scenario) -> pd.DataFrame:
    """Capacities times the market what-if, rounded to cents, within the supported range."""
    for column in ("capacity_p10", "capacity_p50", "capacity_p90"):
        frame[column] = (frame[column] * factor).round(2)
    total_p90 = float(frame["capacity_p90"].abs().sum())
    if not np.isfinite(total_p90) or total_p90 > MAX_AMOUNT:
        raise InputError([Problem(str(scenario.source or "scenario"),
                                  f"capacities times (1 + market.growth) add up to {total_p90:.3g}, above the "
                                  f"supported {MAX_AMOUNT:.0e}", column="market.growth")])
    return frame


def _fit_capacity(scenario: Scenario, company: CompanyData, plan_year: int, stored: TrainedModel | None,
                  books: pd.DataFrame | None = None) -> tuple[pd.DataFrame, CapacitySummary, float]:
    """The capacity model's P10/P50/P90 before the market what-if, what was weighed, and the
    factor carrying a prediction of a shifted year to the plan year (1 on a complete year).

    ``books``: the model is fitted on the company as it is, and predicts each rep on these
    accounts instead (the books after an assignment)."""

    from quotaopt import capacity as cap
    from quotaopt.capacity import capacity_calendar, carry_forward

    kind = scenario.capacity.model
    info: dict[str, Any] = {"model": kind}
    # Bookings that stop inside the year before the plan: plan on the last twelve months.
    seen, short = capacity_calendar(company, plan_year) if kind != "given" else (company, 0)
    if kind == "given":
        frame = cap.given_capacity(company)
    elif kind == "train":
        model, frame = cap.estimate_capacity(seen, plan_year, quantiles=scenario.capacity.quantiles,
                                             random_state=scenario.capacity.seed)
        if books is not None:
            frame = cap.predict_capacity(model, replace(seen, accounts=books), plan_year)
        info.update(model.summary(), level=frame.attrs.get("level"))
    else:
        if stored is None:
            raise InputError([Problem(str(scenario.source or "scenario"), f"capacity.model names {kind!r}, but no "
                                      "trained model was loaded (load the inputs with quotaopt.io.load_inputs)",
                                      column="capacity.model")])
        model, metadata = stored.model, stored.metadata
        info["model_sha256"] = metadata.model_sha256
        frame = cap.predict_capacity(model, seen if books is None else replace(seen, accounts=books), plan_year)
        info.update(model.summary(), level=frame.attrs.get("level"))
    if short:
        info["history_months_short"] = short
    # The predicted twelve months end `short` months before the plan year does.
    return frame, CapacitySummary.model_validate(info), carry_forward(seen, plan_year, short)


def _plan_table(reps: pd.DataFrame, alloc_reps: pd.DataFrame, sim_reps: pd.DataFrame, unit: float,
                names: pd.DataFrame) -> pd.DataFrame:
    plan = with_names(reps, names, "rep_id").merge(alloc_reps[["rep_id", "binding"]], on="rep_id", how="left")
    plan = plan.merge(sim_reps[["rep_id", "p_attain", "expected_payout"]], on="rep_id", how="left")
    plan["stretch"] = (plan["quota"] / plan["capacity_p50"]).round(4)
    last = plan["last_quota"]
    plan["change"] = (plan["quota"] / last - 1.0).where(last > 0).round(4)
    plan["p_attain"] = plan["p_attain"].round(4)
    plan["expected_payout"] = plan["expected_payout"].round(2)
    plan["quota"] = amounts(count_units(plan["quota"], unit), unit)
    return plan[name_columns(PLAN_COLUMNS, plan)].sort_values("rep_id", kind="stable").reset_index(drop=True)


def _units_table(alloc_units: pd.DataFrame, sim_units: pd.DataFrame, unit: float, names: pd.DataFrame) -> pd.DataFrame:
    units = with_names(alloc_units, names, "unit_id").merge(sim_units[["unit_id", "p_attain"]], on="unit_id", how="left")
    units["quota"] = amounts(count_units(units["quota"], unit), unit)
    units["capacity_p50"] = units["capacity_p50"].round(2)
    units["p_attain"] = units["p_attain"].round(4)
    return units[name_columns(UNIT_COLUMNS, units)].sort_values(["level", "unit_id"], kind="stable").reset_index(drop=True)


def month_weights_of(company: CompanyData, history: pd.DataFrame) -> pd.DataFrame:
    """Learned month weights by role, every rep's bookings counted (departed reps' too)."""
    from quotaopt.periods import learn_month_weights

    return learn_month_weights(history, groups=company.reps.set_index("rep_id")["role"])


def simulate_stage(scenario: Scenario, reps: pd.DataFrame, units: pd.DataFrame, history: pd.DataFrame,
                   plan_year: int, target: float, month_weights: pd.DataFrame,
                   executor: Executor | None = None, org: OrgTree | None = None) -> SimulationResult:
    """Monte Carlo of the plan: quarter quotas as decomposed, seasonality as learned or given.

    ``reps`` needs rep_id, team_id, role, hire_date, quota and the capacity quantiles;
    ``executor`` (:mod:`quotaopt.parallel`) only changes where the chunks of draws run,
    never the results; ``org`` is the tree of ``units`` when the caller has it. ``month_weights``: :func:`month_weights_of`
    the company (the same shape the periods were split by).
    """
    from quotaopt.incentives import DEFAULT_QUARTER_NOISE, simulate
    from quotaopt.periods import company_quarter_weights, learn_quarter_noise, quarter_quotas

    roles = reps.set_index("rep_id")["role"]
    quarters = quarter_quotas(reps[["rep_id", "team_id", "role", "hire_date", "quota"]], plan_year, scenario.periods,
                              scenario.allocation.unit, month_weights, scenario.allocation.ramp)
    sim_input = reps.merge(quarters, on="rep_id", how="left")
    season = scenario.periods.seasonality
    quarter_weights = np.asarray(season, dtype=float) if isinstance(season, tuple) else company_quarter_weights(month_weights)
    try:
        noise = learn_quarter_noise(history, groups=roles, month_weights=month_weights)
    except Exception:  # noqa: BLE001 - too little history to learn it: use the documented default
        noise = DEFAULT_QUARTER_NOISE
    if not np.isfinite(noise):
        noise = DEFAULT_QUARTER_NOISE
    return simulate(sim_input, units, scenario.incentives, scenario.simulation, target,
                    quarter_weights=quarter_weights, quarter_noise=noise, executor=executor, org=org)


def reachable_target(scenario: Scenario, company: CompanyData, plan_year: int, reps: pd.DataFrame,
                     executor: Executor | None = None) -> tuple[float, TargetBasis]:
    """The company target, also when the scenario asks for it by reachability (reps_at_quota, p_company)."""
    from quotaopt.planning import _reachability as reachability

    cfg = scenario.target
    if cfg.reps_at_quota is None and cfg.p_company is None:
        return company_target(scenario, company, plan_year)
    cover = 1.0 + cfg.over_assignment
    if cfg.reps_at_quota is not None:
        total, expected = reachability.quota_total_for_share(reps, company.teams, scenario, plan_year,
                                                             cfg.reps_at_quota, executor=executor, org=company.org)
        target = total / cover
        basis: dict[str, Number | str | None] = {"kind": "reps_at_quota", "reps_at_quota": cfg.reps_at_quota,
                                                 "expected_at_quota": round(expected, 6)}
    else:
        units = company.teams.rename(columns={"team_id": "unit_id"})[["unit_id", "parent_id"]]
        target = reachability.target_for_p_company(reps, units, scenario, cfg.p_company or 0.0, company.org)
        basis = {"kind": "p_company", "p_company": cfg.p_company}
    try:
        base_year, base = growth_base(scenario, company, plan_year)
        basis.update(growth=growth_of(target, base_year, base, plan_year), base_year=base_year,
                     base_bookings=round(base, 2))
    except InputError:
        basis.update(growth=None, base_year=None, base_bookings=None)
    return target, TargetBasis.model_validate(basis)


def with_locks(reps: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Active reps with ``allocation.locks`` laid over reps.csv's ``locked_quota``.

    Raises
    ------
    InputError
        A lock names a rep that is not active, or an amount that is not a whole multiple
        of ``allocation.unit`` (one problem per lock, named by its key).
    """
    locks = scenario.allocation.locks
    if not locks:
        return reps
    label, unit = str(scenario.source or "scenario"), scenario.allocation.unit
    known = set(reps["rep_id"])
    problems = [Problem(label, f"no active rep {rep!r} to lock (expected a rep_id of reps.csv with status active)",
                        column=f"allocation.locks.{rep}") for rep in sorted(locks) if rep not in known]
    problems += [Problem(label, f"locked quota {value:.15g} is not a whole multiple of allocation.unit {unit:.15g}",
                         column=f"allocation.locks.{rep}")
                 for rep, value in sorted(locks.items()) if value is not None and abs(value / unit - round(value / unit)) > 1e-9]
    if problems:
        raise InputError(problems)
    fixed = reps["rep_id"].map(locks.get).astype(float)  # null unlocks: NaN
    locked = reps["locked_quota"].astype(float).where(~reps["rep_id"].isin(list(locks)), fixed)
    return reps.assign(locked_quota=locked)


def run_plan(inputs: Inputs, progress: Progress | None = None, executor: Executor | None = None,
             capacity_cache: CapacityCache | None = None) -> PlanResult:
    """Run the whole planning pipeline on validated inputs.

    Parameters
    ----------
    inputs : Inputs
        From :func:`quotaopt.io.load_inputs` (a scenario is required).
    progress : callable, optional
        Called with each stage name as it starts.
    executor : Executor, optional
        Where independent work runs (:func:`quotaopt.parallel.executor`: local processes
        for per-unit MILP solves and threads for the chunks of simulation draws, or a
        Dask cluster for both). Default: this process. Never changes the plan.
    capacity_cache : mutable mapping, optional
        Fitted capacities kept between calls on the same company (the workbench):
        the model is fitted once per data and ``capacity.*`` settings. Never changes the plan.

    Returns
    -------
    PlanResult
    """

    from quotaopt.allocation import allocate
    from quotaopt.assignment import capacity_on_new_books
    from quotaopt.periods import decompose

    scenario, company, plan_year = inputs.scenario, inputs.company, inputs.plan_year
    if scenario is None:
        raise InputError([Problem(str(company.folder), "plan needs a scenario file, not a data folder")])
    timings: dict[str, float] = {}
    executor = executor or Executor()
    history = company.bookings[company.bookings["date"].dt.year < plan_year]
    if len(scenario.measures) > 1:  # what the measures need of the data, before any work
        from quotaopt.measures.plan import check_measure_inputs

        check_measure_inputs(scenario, company, plan_year)

    with _stage(timings, "capacity", progress):
        # With assignment on: capacities before, the new books, capacities re-scored on them.
        capacity, capacity_info, books = capacity_on_new_books(
            scenario, company, plan_year,
            functools.partial(estimate_capacity, stored=inputs.model, cache=capacity_cache),
            executor=executor)
        if books is not None:
            company = replace(company, accounts=books.accounts)
            timings.update(books.timings)
        reps = with_locks(company.active_reps, scenario).merge(capacity, on="rep_id", how="left")

    with _stage(timings, "target", progress):
        target, basis = reachable_target(scenario, company, plan_year, reps, executor)
        company_total = target * (1.0 + scenario.target.over_assignment)

    with _stage(timings, "allocation", progress):
        try:
            alloc = allocate(reps, company.teams, company_total, scenario.allocation, plan_year,
                             executor=executor, org=company.org)
        except InfeasibleError as exc:
            exc.growth = growth_text(scenario, company, plan_year)
            raise
        reps = reps.merge(alloc.reps[["rep_id", "quota"]], on="rep_id")

    with _stage(timings, "periods", progress):
        weights = month_weights_of(company, history)
        deal_size = _average_deal_size(history, reps["rep_id"])
        periods = decompose(reps[["rep_id", "team_id", "role", "hire_date", "quota"]], plan_year, scenario.periods,
                            scenario.allocation.unit, weights, scenario.allocation.ramp, avg_deal_size=deal_size)

    with _stage(timings, "simulation", progress):
        sim = simulate_stage(scenario, reps, alloc.units, history, plan_year, target, weights, executor, company.org)

    unit = scenario.allocation.unit
    plan = _plan_table(reps, alloc.reps, sim.reps, unit, rep_names(company.active_reps, company.teams))
    units = _units_table(alloc.units, sim.units, unit, unit_names(company.teams))
    periods = _integral(periods, unit)
    measures = None
    if len(scenario.measures) > 1:  # revenue alone keeps the files it always had
        from quotaopt.measures.plan import plan_measures

        with _stage(timings, "measures", progress):
            measures = plan_measures(scenario, company, plan_year, reps, plan, list(dict.fromkeys(periods["period"])),
                                     weights, executor=executor)
    sections: dict[str, Any] = {
        "scenario": scenario.name,
        "company_target": round(target, 2),
        "target_basis": basis,
        "over_assignment_requested": scenario.target.over_assignment,
        "solver": alloc.solver.record(),
        "capacity": capacity_info,
        "allocation_notes": alloc.notes,
        "exceptions": [e.record() for e in [*(books.exceptions if books else []), *alloc.exceptions]],
        "allocation_strict": scenario.allocation.strict,
        "bookings_credit_notes": int((history["amount"] < 0).sum()),
        **({"measures": measures.summary} if measures is not None else {}),
        **({"assignment": books.summary} if books is not None else {}),
    }
    timings.update(alloc.solver.timings.record())
    return assemble(scenario, plan_year, plan, periods, units, outcome_of(sim, scenario), sections=sections,
                    target=target, distributions=distributions(sim), timings=timings,
                    measures=None if measures is None else measures.table,
                    measure_periods=None if measures is None else measures.periods,
                    assignments=None if books is None else books.moves, books=None if books is None else books.books,
                    comparable_last=comparable_last(reps, plan_year, len(scenario.allocation.ramp)))


def comparable_last(reps: pd.DataFrame, plan_year: int, ramp_quarters: int) -> frozenset[str]:
    """Reps whose last quota covers a full ramped year (the ones max_change compares with)."""
    from quotaopt.allocation.bounds import full_year_last

    full = full_year_last(pd.to_datetime(reps["hire_date"]), plan_year, ramp_quarters)
    return frozenset(reps.loc[full, "rep_id"].astype(str))



def _integral(periods: pd.DataFrame, unit: float) -> pd.DataFrame:
    """Period quotas as integers when the unit is whole and so are they, for clean files."""
    quota = periods["quota"].to_numpy(dtype=np.float64)
    if len(periods) and decimals(unit) == 0 and bool((quota == np.round(quota)).all()):
        return periods.assign(quota=quota.astype("int64"))
    return periods


def distributions(sim: Any) -> dict[str, np.ndarray]:
    """Per-draw arrays and the rep attainment histogram, for the report's charts."""
    out = dict(sim.draws)
    hist = sim.attainment_histogram
    if hist:
        out["rep_attainment_edges"] = hist["edges"]
        out["rep_attainment_counts"] = hist["counts"]
    return out


def _average_deal_size(history: pd.DataFrame, rep_ids: pd.Series) -> pd.Series:
    """Average positive deal size per rep over the history, the company's for reps without deals."""
    deals = history[history["amount"] > 0]
    per_rep = deals.groupby("rep_id")["amount"].mean()
    overall = float(deals["amount"].mean()) if len(deals) else 1.0
    return per_rep.reindex(rep_ids).fillna(overall).rename("avg_deal_size")
