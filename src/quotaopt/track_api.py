"""``quotaopt track RUN --actuals FILE --as-of DATE [--replan]``: one library call.

:func:`assess` is the pure part (frames in, status and forecast out); :func:`track_run`
reads the run and the actuals, writes ``track-<as-of>/`` inside the run folder
atomically (built beside it, then renamed) and, with ``replan``, a new run whose
parent is the tracked one (:mod:`quotaopt.replan`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from quotaopt import tracking
from quotaopt.company import CompanyData, parse_date_in_year
from quotaopt.errors import InputError, Problem
from quotaopt.io import (
    WrittenRun,
    check_runs_root,
    csv_bytes,
    json_bytes,
    load_actuals,
    load_company,
    probe_writable,
    read_run,
    replace_folder,
    sha256_bytes,
    sha256_file,
)
from quotaopt.result import StoredRun
from quotaopt.scenario import Scenario, validate_scenario
from quotaopt.tracking_forecast import Posterior, deal_noise, rep_forecast, unit_forecast, update
from quotaopt.tracking_history import fit_history

#: What a status page says about a re-plan (from its change record).
REPLAN_FACTS = ("as_of", "frozen_periods", "reps", "reps_changed", "quota_moved", "exceptions", "recalibration",
                "ratchet")


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
        rep's year runs differently: :mod:`quotaopt.tracking_history`).
    meta : dict
        As-of date, thresholds, method settings and the actuals left out.
    """

    status: pd.DataFrame
    posterior: Posterior
    actual: np.ndarray
    plan_to_date: np.ndarray
    done: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrackOutcome:
    """What :func:`track_run` wrote."""

    run_path: Path
    track_path: Path
    status: pd.DataFrame
    meta: dict[str, Any]
    replan: WrittenRun | None = None


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
           as_of: dt.date, draws: int | None = None) -> Assessment:
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

    Returns
    -------
    Assessment
    """
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
    post = update(capacity, actual, done, deal_size, kappa, codes, corr.company, corr.team)
    reps_fc = rep_forecast(post, actual, done, quota)
    member = tracking.unit_members(run.units, plan["team_id"])
    n_draws = int(draws if draws is not None else scenario.simulation.draws)
    units_fc = unit_forecast(post, actual, done, member, run.units["quota"].to_numpy(dtype=np.float64),
                             n_draws, scenario.simulation.seed)
    cfg = scenario.tracking
    status = tracking.status_table(plan, run.units, plan_td, actual, reps_fc, units_fc, cfg.red, cfg.green)
    counts = {kind: {s: int(((status["kind"] == kind) & (status["status"] == s)).sum()) for s in tracking.STATUSES}
              for kind in ("unit", "rep")}
    meta = {
        "as_of": as_of.isoformat(), "plan_year": plan_year, "run_id": run.run_id,
        "thresholds": {"red": cfg.red, "green": cfg.green, "calibration_deviation": tracking.CALIBRATION_DEVIATION},
        "forecast": {"method": "bayesian level update + correlated draws (quotaopt.tracking_forecast)",
                     "draws": n_draws, "seed": scenario.simulation.seed,
                     "history": {role: {k: round(v, 6) for k, v in got.items()} for role, got in fit.by_role.items()},
                     "correlation": {"company": corr.company, "team": corr.team}},
        "counts": counts, "calibrate": int(status["calibrate"].sum()), "ignored_actuals": ignored,
        "split": tracking.split_of(run.periods["period"]),
    }
    return Assessment(status, post, actual, plan_td, done, meta)


def run_scenario(run: StoredRun) -> Scenario:
    """The resolved scenario recorded in the run's manifest (what the plan was made with)."""
    raw = run.manifest.get("scenario")
    if not isinstance(raw, dict):
        raise InputError([Problem(str(run.path / "manifest.json"), "has no resolved scenario", column="scenario")])
    source = run.manifest.get("scenario_file")
    base = Path(source).parent if source else run.path
    return validate_scenario(raw, label=str(run.path / "manifest.json"), base_dir=base)


def _plan_year(run: StoredRun) -> int:
    year = run.manifest.get("plan_year", run.summary.get("plan_year"))
    if not isinstance(year, int):
        raise InputError([Problem(str(run.path / "manifest.json"), "has no plan_year", column="plan_year")])
    return year


def write_track_folder(run_path: Path, as_of: dt.date, files: dict[str, bytes]) -> Path:
    """Write ``track-<as-of>/`` atomically: build beside it, then rename (replacing an older one)."""
    return replace_folder(run_path / f"track-{as_of.isoformat()}", files)


def track_run(run_path: str | Path, actuals_path: str | Path, as_of: str | dt.date, replan: bool = False,
              draws: int | None = None, recalibrate: bool = False, growth: float | None = None,
              reason: str | None = None) -> TrackOutcome:
    """Track a run against actuals at a date; optionally re-plan the rest of the year.

    Parameters
    ----------
    run_path : str or Path
        The run folder to track.
    actuals_path : str or Path
        actuals.csv (or .parquet): bookings columns, dates inside the plan year.
    as_of : str or date
        The as-of date (inside the plan year).
    replan : bool
        Also write a new run whose parent is this one (:func:`quotaopt.replan.replan`).
    draws : int, optional
        Monte Carlo draws for the unit forecasts (default ``simulation.draws``).
    recalibrate : bool
        Re-plan with the company target reset to the forecast P50, or to ``growth``
        over the last complete year (:mod:`quotaopt.recalibrate`); implies ``replan``.
    growth : float, optional
        With ``recalibrate``: the growth instead of the forecast (0.18 = +18%).
    reason : str, optional
        Why the target changes; required with ``recalibrate`` (written to the audit log).

    Returns
    -------
    TrackOutcome

    Raises
    ------
    InputError
        Bad run folder, actuals (unknown reps, dates outside the plan year, non-numeric
        amounts: with file and row), as-of date, or recalibration options; nothing is written.
    InfeasibleError, SolverError
        From the re-plan's allocation; nothing is written.
    """
    from quotaopt.overrides import apply_overrides, recorded_overrides
    from quotaopt.recalibrate import check_request
    from quotaopt.report.status_html import render_status_html

    check_request(recalibrate, growth, reason)
    replan = replan or recalibrate
    run = read_run(run_path)
    plan_year = _plan_year(run)
    day = parse_as_of(as_of, plan_year)
    probe_writable(run.path, str(run.path))
    if replan:
        check_runs_root(run.runs_root, str(run.runs_root))
    scenario = run_scenario(run)
    folder = run.manifest.get("data_folder")
    if not folder:
        raise InputError([Problem(str(run.path / "manifest.json"), "has no data_folder", column="data_folder")])
    # Quotas set by hand with `plan --overrides` stay locked in a re-plan of that run.
    company = apply_overrides(load_company(folder), recorded_overrides(run.manifest))
    actuals_file = Path(actuals_path)
    actuals = load_actuals(actuals_file, company, plan_year)
    result = assess(run, company, actuals, scenario, plan_year, day, draws)
    if isinstance(run.manifest.get("replan"), dict):  # tracking a re-plan: its page says so
        result.meta["replan_of"] = {"run_id": run.manifest.get("parent_run"),
                                    **{k: run.manifest["replan"].get(k) for k in REPLAN_FACTS}}
    result.meta["actuals"] = {"file": str(actuals_file.resolve()), "sha256": sha256_file(actuals_file),
                              "rows": len(actuals)}
    written = None
    if replan:
        from quotaopt.replan import RecalibrationRequest, write_replan
        from quotaopt.replan import replan as make_replan

        request = RecalibrationRequest(growth, str(reason)) if recalibrate else None
        new_result, change = make_replan(run, company, scenario, result, day, request)
        written = write_replan(run, new_result, change, result.meta)
        result.meta["replan"] = {"run_id": written.run_id, "path": str(written.path),
                                 **{k: change[k] for k in REPLAN_FACTS}}
    status_bytes = csv_bytes(result.status)
    result.meta["outputs"] = {"status.csv": sha256_bytes(status_bytes)}
    files = {
        "status.csv": status_bytes,
        "status.html": render_status_html(result.status, result.meta),
        "track.json": json_bytes(result.meta),
    }
    path = write_track_folder(run.path, day, files)
    return TrackOutcome(run.path, path, result.status, result.meta, written)
