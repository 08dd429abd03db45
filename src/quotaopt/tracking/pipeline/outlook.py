"""The quarter (and, with a pipeline, the year) seen from the as-of date: what ``track`` adds to status.csv.

:func:`outlook` is pure: the tracked plan's level posterior, the actuals and (optionally)
the opportunities in; per rep and unit the quarter's quota, booked so far, the chance of
making it with P10/P50/P90, and the pipeline's weight and coverage out. With a pipeline it
also forecasts the year the same way (closed + pipeline + not yet in it), which replaces the
bookings-only p_attain_year and forecast columns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

from quotaopt.errors import InputError, Problem
from quotaopt.tracking._forecast import Posterior
from quotaopt.tracking.pipeline.conversion import Conversion, learn_conversion
from quotaopt.tracking.pipeline.forecast import OpenPipeline, period_forecast
from quotaopt.tracking.records import QuarterRecord

#: Columns ``track`` adds to status.csv (after the tracking columns), in order.
QUARTER_COLUMNS = ["quarter", "quarter_quota", "quarter_actual", "p_attain_quarter", "quarter_p10", "quarter_p50",
                   "quarter_p90", "pipeline_open", "pipeline_weighted", "pipeline_coverage"]
_QUARTER_ENDS = ((3, 31), (6, 30), (9, 30), (12, 31))


def parse_horizon(value: str | int | None) -> int | None:
    """``--horizon`` as whole days: ``30d``, ``30`` or ``4w`` (InputError naming ``--horizon``).

    Examples
    --------
    >>> parse_horizon("30d"), parse_horizon("2w"), parse_horizon(None)
    (30, 14, None)
    """
    if value is None:
        return None
    text = str(value).strip().lower()
    unit = 7 if text.endswith("w") else 1
    digits = text[:-1] if text[-1:] in ("d", "w") else text
    if not digits.isdigit() or int(digits) * unit > 366:
        raise InputError([Problem("--horizon", f"not a horizon (got {value!r}, expected days like 30d, up to 366d)",
                                  column="horizon")])
    return int(digits) * unit


def target_quarter(as_of: dt.date, horizon_days: int | None) -> tuple[str, dt.date, dt.date]:
    """The quarter to answer for: the one holding ``as_of``, or the last ending within the horizon.

    Returns
    -------
    (label, first_day, last_day)

    Raises
    ------
    InputError
        No quarter of the plan year ends within ``horizon_days`` of the as-of date.

    Examples
    --------
    >>> target_quarter(dt.date(2027, 3, 1), 30)
    ('2027-Q1', datetime.date(2027, 1, 1), datetime.date(2027, 3, 31))
    """
    ends = [dt.date(as_of.year, m, d) for m, d in _QUARTER_ENDS]
    if horizon_days is None:
        k = next(i for i, e in enumerate(ends) if as_of <= e)
    else:
        within = [i for i, e in enumerate(ends) if as_of <= e <= as_of + dt.timedelta(days=horizon_days)]
        if not within:
            nxt = next(e for e in ends if as_of <= e)
            raise InputError([Problem("--horizon", f"no quarter ends within {horizon_days} days of {as_of} (the next "
                                      f"ends {nxt}, {(nxt - as_of).days} days ahead); expected a longer horizon",
                                      column="horizon")])
        k = within[-1]
    start = dt.date(as_of.year, 3 * k + 1, 1)
    return f"{as_of.year}-Q{k + 1}", start, ends[k]


@dataclass
class Outlook:
    """What :func:`outlook` found.

    Attributes
    ----------
    reps, units : DataFrame
        :data:`QUARTER_COLUMNS` in plan and unit order.
    year_reps, year_units : DataFrame or None
        With a pipeline: ``p_attain_year, forecast_p10, forecast_p50, forecast_p90`` of the year.
    conversion : Conversion or None
    open_opps : DataFrame
        The open pipeline at the as-of date, plan reps only (for the funnel view), with ``p_quarter``.
    rows : DataFrame
        The opportunity rows up to the as-of date (``snapshot_date`` filled, ``oid`` codes).
    meta : QuarterRecord
        track.json's ``quarter``: the quarter, its days and, with a pipeline, what it held.
    """

    reps: pd.DataFrame
    units: pd.DataFrame
    meta: QuarterRecord
    year_reps: pd.DataFrame | None = None
    year_units: pd.DataFrame | None = None
    conversion: Conversion | None = None
    open_opps: pd.DataFrame = field(default_factory=pd.DataFrame)
    rows: pd.DataFrame = field(default_factory=pd.DataFrame)


def prepare_rows(opps: pd.DataFrame, as_of: pd.Timestamp) -> tuple[pd.DataFrame, int]:
    """Rows up to the as-of date (an undated row is a row of the as-of snapshot), and how many were later.

    The columns are taken as they are (no copy of a million-row frame when every row is kept).
    """
    snap = opps["snapshot_date"]
    filled = snap.fillna(as_of) if bool(snap.isna().any()) else snap
    keep = (filled <= as_of).to_numpy()
    columns = {c: (filled if c == "snapshot_date" else opps[c]).to_numpy() for c in opps.columns}
    if not keep.all():
        columns = {c: v[keep] for c, v in columns.items()}
    if "oid" not in columns:  # as with_codes gives them, without copying the frame again
        columns["oid"] = pd.factorize(columns["opportunity_id"])[0].astype(np.int64)
    return pd.DataFrame(columns, copy=False), int((~keep).sum())


def _frame(kind_quota: np.ndarray, booked: np.ndarray, fc: pd.DataFrame, label: str, open_amount: np.ndarray,
           weighted: np.ndarray | None) -> pd.DataFrame:
    remaining = kind_quota - booked
    coverage = np.full(len(booked), np.nan)
    if weighted is not None:
        coverage = np.divide(weighted, remaining, out=coverage, where=remaining > 0)
    return pd.DataFrame({
        "quarter": label, "quarter_quota": kind_quota, "quarter_actual": booked,
        "p_attain_quarter": fc["p_attain"].to_numpy(), "quarter_p10": fc["p10"].to_numpy(),
        "quarter_p50": fc["p50"].to_numpy(), "quarter_p90": fc["p90"].to_numpy(),
        "pipeline_open": open_amount if weighted is not None else np.full(len(booked), np.nan),
        "pipeline_weighted": weighted if weighted is not None else np.full(len(booked), np.nan),
        "pipeline_coverage": coverage,
    })


def _year_frame(fc: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"p_attain_year": fc["p_attain"].to_numpy(), "forecast_p10": fc["p10"].to_numpy(),
                         "forecast_p50": fc["p50"].to_numpy(), "forecast_p90": fc["p90"].to_numpy()})


def outlook(post: Posterior, plan: pd.DataFrame, member: sp.spmatrix, actuals: pd.DataFrame, actual_to_date: np.ndarray,
            as_of: dt.date, plan_at: Callable[[dt.date], np.ndarray], done_at: Callable[[dt.date], np.ndarray],
            draws: int, seed: int,
            opportunities: pd.DataFrame | None = None, role_of: pd.Series | None = None,
            stages: tuple[str, ...] = (), horizon_days: int | None = None) -> Outlook:
    """The quarter's chance per rep and unit; with opportunities, the pipeline's share of it and of the year.

    Parameters
    ----------
    post : Posterior
        Levels updated from the actuals.
    plan : DataFrame
        plan.csv (row order = the posterior's).
    member : sparse matrix
        (reps x units) 0/1 (:func:`quotaopt.tracking.unit_members`).
    actuals : DataFrame
        The plan year's bookings (``date, rep_id, amount``).
    actual_to_date : ndarray
        Per plan rep: booked to the as-of date in the year.
    as_of : date
    plan_at : callable
        Date -> per rep, the plan to date at the end of that day (:func:`quotaopt.tracking.plan_to_date`).
    done_at : callable
        Date -> per rep, the expected share of the year's bookings done by the end of that day, as
        the forecast reads it (the plan's shape shifted by the rep's history).
    draws, seed : int
    opportunities : DataFrame, optional
        From :func:`quotaopt.io.load_opportunities`.
    role_of : Series, optional
        Role per rep id of reps.csv (with ``opportunities``).
    stages : tuple of str
        ``tracking.stages``.
    horizon_days : int, optional
        ``--horizon``: answer for the last quarter ending within this many days.

    Returns
    -------
    Outlook
    """
    label, first, last = target_quarter(as_of, horizon_days)
    ids = plan["rep_id"].astype("str")
    n = len(ids)
    done_now = np.clip(done_at(as_of), 0.0, 1.0)
    done_last = np.clip(done_at(last), 0.0, 1.0)
    quota = plan["quota"].to_numpy(dtype=np.float64)
    # The quarter's quota: the plan's period quotas over its days (read as plan to date is).
    rep_q_quota = np.round(plan_at(last) - plan_at(first - dt.timedelta(days=1)), 2)
    dates = pd.to_datetime(actuals["date"])
    inside = actuals[(dates >= pd.Timestamp(first)) & (dates <= pd.Timestamp(as_of))]
    booked_q = (inside.groupby(inside["rep_id"].astype("str"))["amount"].sum().reindex(ids, fill_value=0.0)
                .to_numpy(dtype=np.float64))
    rest_q = np.clip(done_last - done_now, 0.0, 1.0)
    rest_y = np.clip(1.0 - done_now, 0.0, 1.0)
    unit_q_quota = member.T @ rep_q_quota
    h_q = float((last - as_of).days)
    h_y = float((dt.date(as_of.year, 12, 31) - as_of).days)
    meta: dict[str, object] = {"quarter": label, "first_day": first.isoformat(), "last_day": last.isoformat(),
                               "horizon_days": horizon_days, "days_left": int(h_q), "pipeline": None}
    pipeline: dict[str, object] = {}

    conversion = None
    open_now = rows = pd.DataFrame()
    pipe_q = pipe_y = None
    fresh_q = fresh_y = np.ones(n)
    if opportunities is not None and role_of is not None and len(opportunities):
        ts = pd.Timestamp(as_of)
        opps, later = prepare_rows(opportunities, ts)
        rows = opps
        roles = tuple(sorted(set(role_of.astype("str"))))
        conversion = learn_conversion(opps, role_of.astype("str"), roles, stages, ts)
        phase = float((target_quarter(as_of, None)[2] - as_of).days)  # days to the end of the as-of quarter
        pipeline = {"rows": int(len(opportunities)), "rows_after_as_of": later,
                    "snapshots": int(opps["snapshot_date"].nunique()),
                    "conversion": conversion.summary(h_q, phase)}
        if conversion.method != "none":
            latest = opps["snapshot_date"].max()
            pos = pd.Series(np.arange(n), index=ids)
            open_now = opps[(opps["snapshot_date"] == latest) & (opps["status"] == "open")
                            & opps["rep_id"].isin(pos.index)].reset_index(drop=True)
            rep = pos.reindex(open_now["rep_id"]).to_numpy(dtype=np.int64)
            code = {r: i for i, r in enumerate(roles)}
            role = open_now["rep_id"].map(role_of.astype("str")).map(code).to_numpy(dtype=np.int64)
            stage = open_now["stage_index"].to_numpy(dtype=np.int64)
            due = ((open_now["close_date"] - ts) / pd.Timedelta(days=1)).to_numpy(dtype=np.float64)
            amount = open_now["amount"].to_numpy(dtype=np.float64) * conversion.ratio[role, stage]
            p_q = conversion.win_probability(role, stage, due, h_q, phase_days=phase)
            p_y = conversion.win_probability(role, stage, due, h_y)
            open_now = open_now.assign(p_quarter=p_q, expected_won=p_q * amount, due_days=due)
            # Opportunities with no chance in the horizon cost draws and change nothing.
            pipe_q = OpenPipeline(rep[p_q > 0], p_q[p_q > 0], amount[p_q > 0], n)
            pipe_y = OpenPipeline(rep[p_y > 0], p_y[p_y > 0], amount[p_y > 0], n)
            in_crm = ids.isin(set(opps["rep_id"].astype("str"))).to_numpy()
            rep_role = plan["role"].astype("str").map(code).fillna(0).to_numpy(dtype=np.int64)
            fresh_q = np.where(in_crm, conversion.fresh_share(h_q)[rep_role], 1.0)
            fresh_y = np.where(in_crm, conversion.fresh_share(h_y)[rep_role], 1.0)
            pipeline.update({"open": int(len(open_now)), "open_amount": round(float(open_now["amount"].sum()), 2),
                             "reps_without_opportunities": int((~in_crm).sum())})
            due_in_q = (due <= h_q)
            open_q = np.bincount(rep, weights=open_now["amount"].to_numpy(dtype=np.float64) * due_in_q, minlength=n)

    empty = OpenPipeline.empty(n)
    reps_q, units_q = period_forecast(post, booked_q, rest_q, fresh_q, pipe_q or empty, member, rep_q_quota,
                                      unit_q_quota, draws, seed)
    weighted = None if pipe_q is None else pipe_q.mean
    open_amount = open_q if pipe_q is not None else np.zeros(n)
    out = Outlook(
        reps=_frame(rep_q_quota, booked_q, reps_q, label, open_amount, weighted),
        units=_frame(unit_q_quota, member.T @ booked_q, units_q, label, member.T @ open_amount,
                     None if weighted is None else member.T @ weighted),
        conversion=conversion, open_opps=open_now,
        meta=QuarterRecord.model_validate({**meta, "pipeline": pipeline or None}), rows=rows)
    if pipe_y is not None:
        reps_y, units_y = period_forecast(post, actual_to_date, rest_y, fresh_y, pipe_y, member, quota,
                                          member.T @ quota, draws, seed)
        out.year_reps, out.year_units = _year_frame(reps_y), _year_frame(units_y)
    return out

