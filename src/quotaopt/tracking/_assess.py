"""Where a plan stands at an as-of date: frames in, status and forecast out (no disk access).

:func:`assess` joins plan to date and actuals (:mod:`._status`), the conditional
forecast (:mod:`._forecast`) and what past years say about reading a year early
(:mod:`._history`). ``quotaopt track`` (:func:`quotaopt.commands.track`) reads the
run and the actuals and writes what this returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quotaopt.calendar import split_of
from quotaopt.company import CompanyData, parse_date_in_year
from quotaopt.errors import InputError, Problem
from quotaopt.planning import StoredRun
from quotaopt.scenario import Scenario, validate_scenario
from quotaopt.tracking import _status as tracking
from quotaopt.tracking._forecast import (
    Posterior,
    deal_noise,
    level_variance,
    rep_forecast,
    unit_forecast,
    update,
)
from quotaopt.tracking._history import fit_history
from quotaopt.tracking._shared import team_share
from quotaopt.tracking.records import AssessmentRecord

if TYPE_CHECKING:  # the pipeline is imported where assess needs it
    from quotaopt.tracking.pipeline.outlook import Outlook


@dataclass
class Assessment:
    """Where every rep and unit stands at the as-of date.

    Attributes
    ----------
    status : DataFrame
        The rows of status.csv (:data:`quotaopt.tracking.STATUS_COLUMNS`).
    posterior : Posterior
        Each plan rep's updated level (plan.csv row order), for forecasts and re-plans.
    actual, plan_to_date, done : ndarray
        Per plan rep: booked to date, plan to date, and the expected share of the year done as
        the forecast reads it (the plan's period shape, shifted where past years show the
        rep's year runs differently: :mod:`quotaopt.tracking._history`).
    meta : AssessmentRecord
        As-of date, thresholds, method settings and the actuals left out (track.json).
    outlook : Outlook, optional
        The quarter and the pipeline (:mod:`quotaopt.tracking.pipeline.outlook`).
    """

    status: pd.DataFrame
    posterior: Posterior
    actual: np.ndarray
    plan_to_date: np.ndarray
    done: np.ndarray
    meta: AssessmentRecord
    outlook: Outlook


def parse_as_of(value: str | dt.date, plan_year: int) -> dt.date:
    """The as-of date, which must lie inside the plan year (InputError naming ``--as-of``)."""
    return parse_date_in_year(value, plan_year, "--as-of", "date")


def hire_dates(plan: pd.DataFrame, company: CompanyData) -> pd.Series:
    """Hire date of every plan rep from the company's reps.csv.

    Raises
    ------
    InputError
        A rep of the plan that reps.csv no longer has.
    """
    known = company.reps.set_index(company.reps["rep_id"].astype("str"))["hire_date"]
    ids = plan["rep_id"].astype("str")
    missing = ids[~ids.isin(known.index)]
    if len(missing):
        raise InputError([Problem("reps.csv", f"rep {missing.iloc[0]!r} of the tracked plan is not in {company.folder}",
                                  column="rep_id")])
    return known.reindex(ids).reset_index(drop=True)


def quarter_end_shares(periods: pd.DataFrame, plan: pd.DataFrame, hires: pd.Series,
                       plan_year: int) -> dict[str, np.ndarray]:
    """Per role: the plan's expected share of the year done at the end of Q1, Q2 and Q3.

    The median over the role's reps employed all year with a quota (a new hire's ramp
    is no shape for a whole past year); the forecast reads actuals against this shape.
    """
    quota = plan["quota"].to_numpy(dtype=np.float64)
    hired = pd.to_datetime(hires)
    whole = (hired.isna() | (hired < pd.Timestamp(plan_year, 1, 1))).to_numpy() & (quota > 0)
    shares = np.column_stack([
        tracking.plan_to_date(periods, plan["rep_id"], hires, plan_year, dt.date(plan_year, 3 * k, 30 + (k == 1)))[0]
        for k in (1, 2, 3)]) / np.where(quota > 0, quota, 1.0)[:, None]
    roles = plan["role"].astype("str").to_numpy()
    return {str(r): np.median(shares[whole & (roles == r)], axis=0) for r in sorted(set(roles[whole]))}


def assess(run: StoredRun, company: CompanyData, actuals: pd.DataFrame, scenario: Scenario, plan_year: int,
           as_of: dt.date, draws: int | None = None, opportunities: pd.DataFrame | None = None,
           horizon_days: int | None = None) -> Assessment:
    """Plan to date, actuals, pace, colours and the conditional forecast (no disk access).

    Parameters
    ----------
    run : StoredRun
        The tracked run (plan, units, periods).
    company : CompanyData
        Its data folder (hire dates, history for deal sizes).
    actuals : DataFrame
        From :func:`quotaopt.io.load_actuals`.
    scenario : Scenario
        The run's resolved scenario (tracking thresholds, correlation, seed).
    plan_year : int
    as_of : date
    draws : int, optional
        Monte Carlo draws for units (default ``simulation.draws``).
    opportunities : DataFrame, optional
        From :func:`quotaopt.io.load_opportunities`: the quarter's and the year's forecast add
        the pipeline (:mod:`quotaopt.tracking.pipeline`).
    horizon_days : int, optional
        Answer for the last quarter ending within this many days (default: the current one).

    Returns
    -------
    Assessment
    """
    from quotaopt.tracking.pipeline import add_quarter_columns, outlook
    plan = run.plan.reset_index(drop=True)
    hires = hire_dates(plan, company)
    plan_td, workday_share = tracking.plan_to_date(run.periods, plan["rep_id"], hires, plan_year, as_of)
    actual, ignored = tracking.actual_to_date(actuals, plan["rep_id"], as_of)
    quota = plan["quota"].to_numpy(dtype=np.float64)
    # The plan's period shape (seasonality, ramp) is the expected shape of bookings.
    done = np.where(quota > 0, np.divide(plan_td, quota, out=np.zeros_like(quota), where=quota > 0), workday_share)
    capacity = plan[["capacity_p10", "capacity_p50", "capacity_p90"]].to_numpy(dtype=np.float64)
    history = company.bookings[company.bookings["date"].dt.year < plan_year]
    deal_size, kappa = deal_noise(history, plan["rep_id"], plan["role"], capacity[:, 1])
    fit = fit_history(history, plan["rep_id"], plan["role"], hires, capacity[:, 1], deal_size, kappa,
                      quarter_end_shares(run.periods, plan, hires, plan_year), len(scenario.allocation.ramp))
    deal_size, kappa = deal_size * fit.scale, kappa * fit.scale
    # What past years say about this rep's shape: the share done as the forecast reads it.
    done = fit.share_done(done)
    codes, _ = pd.factorize(plan["team_id"].astype("str"))
    corr = scenario.simulation.correlation
    # Shared shocks in log units, the same for every rep: the team's learned from past years
    # (quotaopt.tracking._shared), the company's and a history too short for teams from the
    # correlation shares of the reps' mean level variance.
    mean_tau2 = float(np.mean(level_variance(capacity, kappa))) if len(capacity) else 0.0
    company_var, fallback = corr.company * mean_tau2, corr.team * mean_tau2
    learned = team_share(history, plan["rep_id"], plan["team_id"], hires, len(scenario.allocation.ramp), fallback)
    team_var = learned.team_var if learned is not None else fallback
    post = update(capacity, actual, done, deal_size, kappa, codes, company_var, team_var)
    reps_fc = rep_forecast(post, actual, done, quota)
    member = tracking.unit_members(run.units, plan["team_id"], run.org)
    n_draws = int(draws if draws is not None else scenario.simulation.draws)
    units_fc = unit_forecast(post, actual, done, member, run.units["quota"].to_numpy(dtype=np.float64),
                             n_draws, scenario.simulation.seed)
    def plan_at(day: dt.date) -> np.ndarray:
        return tracking.plan_to_date(run.periods, plan["rep_id"], hires, plan_year, day)[0]

    def done_at(day: dt.date) -> np.ndarray:
        share = np.divide(plan_at(day), quota, out=np.zeros_like(quota), where=quota > 0)
        return fit.share_done(np.where(quota > 0, share, tracking.plan_to_date(
            run.periods, plan["rep_id"], hires, plan_year, day)[1]))

    cfg = scenario.tracking
    role_of = company.reps.set_index(company.reps["rep_id"].astype("str"))["role"]
    view = outlook(post, plan, member, actuals, actual, as_of, plan_at, done_at, n_draws, scenario.simulation.seed,
                   opportunities, role_of, tuple(s.lower() for s in cfg.stages), horizon_days)
    if view.year_reps is not None and view.year_units is not None:  # the pipeline forecasts the year too
        reps_fc, units_fc = view.year_reps, view.year_units
    status = tracking.status_table(plan, run.units, plan_td, actual, reps_fc, units_fc, cfg.red, cfg.green,
                                   member=member)
    status = add_quarter_columns(status, plan, run.units, view)
    counts = {kind: {s: int(((status["kind"] == kind) & (status["status"] == s)).sum()) for s in tracking.STATUSES}
              for kind in ("unit", "rep")}
    meta = AssessmentRecord.model_validate({
        "as_of": as_of.isoformat(), "plan_year": plan_year, "run_id": run.run_id,
        "thresholds": {"red": cfg.red, "green": cfg.green, "calibration_deviation": tracking.CALIBRATION_DEVIATION},
        # The method's name as track.json has always recorded it (the module is tracking._forecast now).
        "forecast": {"method": "bayesian level update + correlated draws (quotaopt.tracking_forecast)",
                     "draws": n_draws, "seed": scenario.simulation.seed,
                     "history": {role: {k: round(v, 6) for k, v in got.items()} for role, got in fit.by_role.items()},
                     "correlation": {"company": corr.company, "team": corr.team},
                     "shared": {"company_var": round(company_var, 6), "team_var": round(team_var, 6),
                                "team_from": "history" if learned is not None else "simulation.correlation.team",
                                **({"history": learned.as_dict()} if learned is not None else {})}},
        "counts": counts, "calibrate": int(status["calibrate"].sum()), "ignored_actuals": ignored,
        "split": split_of(run.periods["period"]),
        "quarter": view.meta,
    })
    return Assessment(status, post, actual, plan_td, done, meta, view)


def run_scenario(run: StoredRun) -> Scenario:
    """The resolved scenario recorded in the run's manifest (what the plan was made with)."""
    raw = run.manifest.scenario
    if raw is None:
        raise InputError([Problem(str(run.path / "manifest.json"), "has no resolved scenario", column="scenario")])
    source = run.manifest.scenario_file
    base = Path(source).parent if source else run.path
    return validate_scenario(raw, label=str(run.path / "manifest.json"), base_dir=base)


def plan_year_of(run: StoredRun) -> int:
    # A key the manifest lacks falls back to the summary's; a key set to null is refused.
    year = run.manifest.plan_year if "plan_year" in run.manifest.model_fields_set else run.summary.plan_year
    if not isinstance(year, int):
        raise InputError([Problem(str(run.path / "manifest.json"), "has no plan_year", column="plan_year")])
    return year
