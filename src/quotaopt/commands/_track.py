"""``quotaopt track RUN --actuals FILE --as-of DATE [--replan]``: read, assess, write.

:func:`quotaopt.tracking.assess` is the pure part (frames in, status and forecast out);
:func:`track` reads the run and the actuals, writes ``track-<as-of>/`` inside the run
folder atomically (built beside it, then renamed) and, with ``replan``, a new run whose
parent is the tracked one (:func:`quotaopt.tracking.replan` returns it, this writes it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from quotaopt.commands._runs import headline, package_versions, result_files, run_data
from quotaopt.data_source import DataSource, Dialect
from quotaopt.errors import InputError, Problem
from quotaopt.io import (
    WrittenRun,
    check_runs_root,
    csv_bytes,
    json_bytes,
    load_actuals,
    load_company,
    load_opportunities,
    probe_writable,
    read_run,
    replace_folder,
    sha256_bytes,
    sha256_file,
    write_run,
)
from quotaopt.planning import (
    PlanResult,
    ReplanRecord,
    StoredRun,
    Summary,
    apply_overrides,
    recorded_overrides,
)
from quotaopt.tracking import assess, parse_as_of, plan_year_of, run_scenario
from quotaopt.tracking.records import ActivitiesRead, FileRead, ReplanFacts, TrackRecord

#: What a status page says about a re-plan (from its change record).
REPLAN_FACTS = ("as_of", "frozen_periods", "reps", "reps_changed", "quota_moved", "exceptions", "recalibration",
                "ratchet")




@dataclass
class TrackOutcome:
    """What :func:`track` wrote."""

    run_path: Path
    track_path: Path
    status: pd.DataFrame
    meta: TrackRecord
    replan: WrittenRun | None = None
    replan_summary: Summary | None = None




def write_track_folder(run_path: Path, as_of: dt.date, files: dict[str, bytes]) -> Path:
    """Write ``track-<as-of>/`` atomically: build beside it, then rename (replacing an older one)."""
    return replace_folder(run_path / f"track-{as_of.isoformat()}", files)


def track(run_path: str | Path, actuals_path: str | Path, as_of: str | dt.date, replan: bool = False,
              draws: int | None = None, recalibrate: bool = False, growth: float | None = None,
              reason: str | None = None, opportunities_path: str | Path | None = None,
              horizon: str | int | None = None, activities_path: str | Path | None = None) -> TrackOutcome:
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
        Also write a new run whose parent is this one (:func:`quotaopt.tracking.replan`).
    draws : int, optional
        Monte Carlo draws for the unit forecasts (default ``simulation.draws``).
    recalibrate : bool
        Re-plan with the company target reset to the forecast P50, or to ``growth``
        over the last complete year (:func:`quotaopt.tracking.recalibrate`); implies ``replan``.
    growth : float, optional
        With ``recalibrate``: the growth instead of the forecast (0.18 = +18%).
    reason : str, optional
        Why the target changes; required with ``recalibrate`` (written to the audit log).
    opportunities_path : str or Path, optional
        opportunities.csv (or .parquet), contract §1: the quarter's and the year's forecast
        add the pipeline; status.html shows the funnel; ``stalled.csv`` and ``funnel.csv`` are written.
    horizon : str or int, optional
        ``30d``: answer p_attain_quarter for the last quarter ending within 30 days.
    activities_path : str or Path, optional
        activities.csv (or .parquet, .xlsx) of the plan year: ``status_activities.csv`` gives
        each rep's pace on every metric of the run's ``activities.metrics``.

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
    from quotaopt.commands._track_pipeline import pipeline_files
    from quotaopt.report.status_html import render_status_html
    from quotaopt.tracking import check_request
    from quotaopt.tracking.pipeline import parse_horizon

    check_request(recalibrate, growth, reason)
    horizon_days = parse_horizon(horizon)
    replan = replan or recalibrate
    run = read_run(run_path)
    plan_year = plan_year_of(run)
    day = parse_as_of(as_of, plan_year)
    probe_writable(run.path, str(run.path))
    if replan:
        check_runs_root(run.runs_root, str(run.runs_root))
    scenario = run_scenario(run)
    if not run.manifest.data_folder:
        raise InputError([Problem(str(run.path / "manifest.json"), "has no data_folder", column="data_folder")])
    data = run_data(run.manifest)  # the folder the run recorded, with the dialect it was read in
    source = DataSource(path=data) if isinstance(data, str) else DataSource.model_validate(data)
    # Quotas set by hand with `plan --overrides` stay locked in a re-plan of that run.
    company = apply_overrides(load_company(source), recorded_overrides(run.manifest))
    actuals_file = Path(actuals_path)
    # Actuals come from the same export as the history: the same dialect reads them.
    actuals = load_actuals(actuals_file, company, plan_year, dialect=Dialect(**{k: getattr(source, k)
                                                                                for k in Dialect.model_fields}))
    activities = None
    if activities_path is not None:
        from quotaopt.io import load_activities

        activities = load_activities(activities_path, company, plan_year,
                                     dialect=Dialect(**{k: getattr(source, k) for k in Dialect.model_fields}))
    opps = None
    if opportunities_path is not None:
        opps = load_opportunities(opportunities_path, company, [s.lower() for s in scenario.tracking.stages])
    result = assess(run, company, actuals, scenario, plan_year, day, draws, opps, horizon_days)
    # What only the command knows, beside the assessment's record: together they are track.json.
    facts: dict[str, object] = {}
    if opportunities_path is not None:
        facts["opportunities"] = FileRead(file=str(Path(opportunities_path).resolve()),
                                          sha256=sha256_file(Path(opportunities_path)),
                                          rows=0 if opps is None else len(opps))
    if run.manifest.replan is not None:  # tracking a re-plan: its page says so
        recorded = run.manifest.replan.record()
        facts["replan_of"] = ReplanFacts.model_validate({"run_id": run.manifest.parent_run,
                                                         **{k: recorded.get(k) for k in REPLAN_FACTS}})
    read = FileRead(file=str(actuals_file.resolve()), sha256=sha256_file(actuals_file), rows=len(actuals))
    facts["actuals"] = read
    written: WrittenRun | None = None
    replan_summary: Summary | None = None
    if replan:
        from quotaopt.tracking import RecalibrationRequest
        from quotaopt.tracking import replan as make_replan

        request = RecalibrationRequest(growth, str(reason)) if recalibrate else None
        new_result, change = make_replan(run, company, scenario, result, day, request)
        written = write_replan(run, new_result, change, read)
        replan_summary = new_result.summary
        made = change.record()
        facts["replan"] = ReplanFacts.model_validate({"run_id": written.run_id, "path": str(written.path),
                                                      **{k: made[k] for k in REPLAN_FACTS}})
    status_bytes = csv_bytes(result.status)
    outputs = {"status.csv": sha256_bytes(status_bytes)}
    extra = {}
    if run.measure_periods is not None and len(run.measure_periods):  # every measure beside revenue
        from quotaopt.tracking import hire_dates, measure_status

        history = company.bookings[company.bookings["date"].dt.year < plan_year]
        by_measure = measure_status(run.measure_periods, history, actuals, run.plan["rep_id"].astype(str),
                                    hire_dates(run.plan, company), plan_year, day, scenario.tracking.red,
                                    scenario.tracking.green)
        extra["status_measures.csv"] = csv_bytes(by_measure)
        outputs["status_measures.csv"] = sha256_bytes(extra["status_measures.csv"])
    if activities is not None:
        from quotaopt.tracking import activity_status, hire_dates

        by_metric = activity_status(activities, scenario.activities, run.plan["rep_id"].astype(str),
                                    run.plan["role"], hire_dates(run.plan, company), plan_year, day,
                                    scenario.tracking.red, scenario.tracking.green)
        extra["status_activities.csv"] = csv_bytes(by_metric)
        outputs["status_activities.csv"] = sha256_bytes(extra["status_activities.csv"])
        assert activities_path is not None
        named = activities["metric"].isin(list(scenario.activities.metrics))
        facts["activities"] = ActivitiesRead(file=str(Path(activities_path).resolve()),
                                             sha256=sha256_file(Path(activities_path)), rows=len(activities),
                                             rows_without_target=int((~named).sum()),
                                             status={c: int((by_metric["status"] == c).sum())
                                                     for c in ("green", "yellow", "red")})
    extra_html, extra_files, funnel = pipeline_files(result, run, opps, day)
    for name, data in extra_files.items():
        outputs[name] = sha256_bytes(data)
    quarter = result.meta.quarter if funnel is None else result.meta.quarter.model_copy(update={"funnel": funnel})
    meta = TrackRecord.model_validate({**dict(result.meta), "quarter": quarter, **facts, "outputs": outputs})
    files = {
        **extra,
        "status.csv": status_bytes,
        "status.html": render_status_html(result.status, meta.record(), extra_html),
        "track.json": json_bytes(meta),
        **extra_files,
    }
    path = write_track_folder(run.path, day, files)
    return TrackOutcome(run.path, path, result.status, meta, written, replan_summary)


def write_replan(run: StoredRun, result: PlanResult, record: ReplanRecord, actuals: FileRead) -> WrittenRun:
    """Write the re-plan as a new run folder beside its parent, linked in manifest and audit log."""
    change = record.record()
    manifest = {
        "scenario": run.manifest.scenario, "scenario_file": run.manifest.scenario_file,
        "data_folder": run.manifest.data_folder, "plan_year": result.plan_year,
        "inputs": {**(run.manifest.inputs or {}),
                   f"actuals/{Path(actuals.file).name}": actuals.sha256},
        "versions": package_versions(), "seed": run.manifest.seed, "timings_s": result.timings,
        "parent_run": run.run_id, "parent_path": str(run.path), "replan": change,
    }
    audit = {"headline": headline(result.summary),
             "replan": {k: change[k] for k in ("as_of", "frozen_periods", "reps_changed", "quota_moved",
                                               "largest_increases", "largest_decreases", "units_changed",
                                               "stretch_relaxed", "ratchet", "exceptions",
                                               "recalibration")}}
    if change.get("recalibration"):
        # A target change is a decision: old and new target and the reason, at the top of its line.
        audit["recalibration"] = change["recalibration"]
    return write_run(run.runs_root, result.name, result_files(result), manifest, audit=audit)
