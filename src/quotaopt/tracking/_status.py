"""Tracking: plan to date, actual to date, pace and status colours of every rep and unit.

Rules (contract §5 ``track``):

- **Plan to date** sums a rep's period quotas from ``plan_periods.csv``: periods that end
  on or before the as-of date count whole; the period holding the as-of date counts
  the share of its working days (Monday-Friday, :mod:`quotaopt.calendar`) that
  have elapsed, the as-of day included. A rep hired inside a period has its working
  days counted from the hire date on (the plan gave it no quota before).
- **Actual to date** sums the actuals dated on or before the as-of date (later rows,
  e.g. from a file exported afterwards, are left out and counted in the metadata).
- **Pace** = actual / plan to date. It is rounded to 12 significant digits *before*
  it is compared with the thresholds, so that 85 / 100 (or 0.85 reached through
  floating-point arithmetic) is exactly 0.85: pace < ``red`` is red, pace >= ``green``
  is green, anything between is yellow.
- **Zero plan to date** (a new hire whose first quota period has not started): pace is
  empty; status is green when the actual is >= 0 and red when it is negative (credit
  notes only).
- **Calibration meeting**: a rep or unit that is red, or whose pace deviates from 1 by
  more than :data:`CALIBRATION_DEVIATION` (over-performance is a sign of a quota set too
  low, and is flagged too).

Units total the plan and the actuals of every rep below them (reps of the plan only;
actuals of reps without a quota are counted in the metadata, not in a unit).
"""

from __future__ import annotations

import datetime as dt
from typing import cast

import numpy as np
import pandas as pd
import scipy.sparse as sp

from quotaopt.calendar import day_index, hire_index, period_spans, year_days
from quotaopt.errors import InputError, Problem
from quotaopt.org_tree import OrgTree

#: A pace further than this from 1 (either side) calls for a calibration meeting.
CALIBRATION_DEVIATION = 0.15
#: Significant digits pace is rounded to before it meets the thresholds.
PACE_DIGITS = 12
STATUSES = ("green", "yellow", "red")
#: Column order of status.csv.
STATUS_COLUMNS = [
    "kind", "id", "name", "rep_id", "unit_id", "parent_id", "level", "role", "quota", "plan_to_date", "actual_to_date", "pace",
    "status", "deviation", "calibrate", "p_attain_year", "forecast_p10", "forecast_p50", "forecast_p90",
]

def elapsed_share(starts: np.ndarray, ends: np.ndarray, hire_idx: np.ndarray, as_of_idx: int,
                  cum: np.ndarray) -> np.ndarray:
    """Share of each period (columns) elapsed by the end of the as-of day, per rep (rows).

    Working days count from each rep's hire day; a period with no working day of the
    rep falls back to calendar days (its quota should be 0 then anyway).
    """
    stop = as_of_idx + 1
    first = np.maximum(starts[None, :], hire_idx[:, None])
    last = np.maximum(first, ends[None, :])
    upto = np.clip(np.full_like(first, stop), first, last)
    full = cum[last] - cum[first]
    done = cum[upto] - cum[first]
    calendar = np.divide(upto - first, last - first, out=(stop >= last).astype(float), where=last > first)
    return cast("np.ndarray", np.where(full > 0, done / np.where(full > 0, full, 1), calendar))


def plan_to_date(periods: pd.DataFrame, rep_ids: pd.Series, hire_dates: pd.Series, plan_year: int,
                 as_of: dt.date) -> tuple[np.ndarray, np.ndarray]:
    """Plan to date and the share of the year's working days elapsed, per rep.

    Parameters
    ----------
    periods : DataFrame
        ``rep_id, period, quota`` (plan_periods.csv).
    rep_ids, hire_dates : Series
        Reps in output order and their hire dates (NaT = employed all year).

    Returns
    -------
    (plan_td, workday_share) : tuple of ndarray
        ``workday_share`` is the rep's elapsed share of its working days in the year,
        the expected share of the year done for a rep without period quotas.
    """
    labels = sorted(pd.unique(periods["period"].astype("str")))
    starts, ends = period_spans(labels, plan_year)
    _, cum = year_days(plan_year)
    hires = hire_index(hire_dates, plan_year)
    as_idx = day_index(as_of, plan_year)
    share = elapsed_share(starts, ends, hires, as_idx, cum)
    wide = (periods.assign(rep_id=periods["rep_id"].astype("str"), period=periods["period"].astype("str"))
            .pivot_table(index="rep_id", columns="period", values="quota", aggfunc="sum", fill_value=0.0)
            .reindex(index=rep_ids.astype("str"), columns=labels, fill_value=0.0))
    plan_td = (wide.to_numpy(dtype=np.float64) * share).sum(axis=1)
    year = elapsed_share(np.array([0]), np.array([len(cum) - 1]), hires, as_idx, cum)[:, 0]
    return plan_td, year


def actual_to_date(actuals: pd.DataFrame, rep_ids: pd.Series, as_of: dt.date) -> tuple[np.ndarray, dict[str, float]]:
    """Actual bookings per rep dated on or before the as-of date, and what was left out.

    Returns
    -------
    (actual, ignored) : tuple
        ``ignored`` counts rows after the as-of date and rows/amount of reps without a quota.
    """
    dates = pd.to_datetime(actuals["date"])
    upto = actuals[dates <= pd.Timestamp(as_of)]
    ids = rep_ids.astype("str")
    per_rep = upto.groupby(upto["rep_id"].astype("str"))["amount"].sum()
    outside = upto[~upto["rep_id"].astype("str").isin(set(ids))]
    ignored = {
        "rows_after_as_of": int(len(actuals) - len(upto)),
        "rows_without_quota": int(len(outside)),
        "amount_without_quota": round(float(outside["amount"].sum()), 2),
    }
    return per_rep.reindex(ids, fill_value=0.0).to_numpy(dtype=np.float64), ignored


def round_significant(values: np.ndarray, digits: int = PACE_DIGITS) -> np.ndarray:
    """Round to ``digits`` significant digits (NaN and 0 stay as they are)."""
    x = np.asarray(values, dtype=np.float64)
    out = x.copy()
    ok = np.isfinite(x) & (x != 0)
    magnitude = np.floor(np.log10(np.abs(x[ok])))
    scale = 10.0 ** (digits - 1 - magnitude)
    out[ok] = np.round(x[ok] * scale) / scale
    return out


def pace_and_status(plan_td: np.ndarray, actual: np.ndarray, red: float, green: float) -> tuple[np.ndarray, np.ndarray]:
    """Pace (rounded to 12 significant digits) and status colour.

    Returns
    -------
    (pace, status) : tuple of ndarray
        Pace is NaN where the plan to date is 0 (such a rep is green when its actual
        is >= 0, red otherwise).
    """
    plan_td = np.asarray(plan_td, dtype=np.float64)
    actual = np.asarray(actual, dtype=np.float64)
    has_plan = plan_td > 0
    raw = np.divide(actual, plan_td, out=np.full(plan_td.shape, np.nan), where=has_plan)
    pace = round_significant(raw)
    status = np.where(pace < red, "red", np.where(pace >= green, "green", "yellow"))
    status = np.where(has_plan, status, np.where(actual >= 0, "green", "red"))
    return pace, status.astype(object)


def calibrate_flags(pace: np.ndarray, status: np.ndarray, deviation_limit: float = CALIBRATION_DEVIATION) -> np.ndarray:
    """True where a calibration meeting is due: red, or |pace - 1| beyond the limit."""
    dev = round_significant(np.abs(np.asarray(pace, dtype=np.float64) - 1.0))
    return cast("np.ndarray", (np.asarray(status) == "red") | (np.nan_to_num(dev, nan=0.0) > deviation_limit))


def unit_members(units: pd.DataFrame, rep_teams: pd.Series, org: OrgTree | None = None) -> sp.csr_matrix:
    """Sparse 0/1 matrix (reps x units.csv rows): 1 where the unit is the rep's team or above it.

    Sparse because a rep belongs to only its chain of units: totals of 10,000 reps over
    1,000 units stay cheap (``member.T @ values``). ``org`` is the tree of ``units``
    (:attr:`quotaopt.planning.StoredRun.org`) when the caller has it.

    Raises
    ------
    InputError
        A rep whose team is not a unit of the run.
    """
    org = OrgTree.from_table(units, "unit_id", source="units.csv") if org is None else org
    unknown = org.unknown(rep_teams.astype("str"))
    if unknown:
        raise InputError([Problem("plan.csv", f"team {unknown[0]!r} is not a unit in units.csv", column="team_id")])
    return org.membership(rep_teams.astype("str"), columns=units["unit_id"].astype("str"))


def _names(table: pd.DataFrame) -> np.ndarray:
    """The name column of plan.csv or units.csv ('' for runs written before names were)."""
    if "name" not in table.columns:
        return np.full(len(table), "", dtype=object)
    return table["name"].astype(object).where(table["name"].notna(), "").to_numpy()


def status_table(plan: pd.DataFrame, units: pd.DataFrame, plan_td: np.ndarray, actual: np.ndarray,
                 forecast_reps: pd.DataFrame, forecast_units: pd.DataFrame, red: float, green: float,
                 deviation_limit: float = CALIBRATION_DEVIATION, member: sp.csr_matrix | None = None) -> pd.DataFrame:
    """The rows of status.csv: every unit (tree order of units.csv), then every rep by id.

    Parameters
    ----------
    plan, units : DataFrame
        plan.csv and units.csv of the tracked run.
    plan_td, actual : ndarray
        Per rep of ``plan``, in its row order.
    forecast_reps, forecast_units : DataFrame
        ``p_attain_year, forecast_p10, forecast_p50, forecast_p90`` aligned with
        ``plan`` and ``units`` rows.
    member : sparse matrix, optional
        :func:`unit_members` of ``units`` and the plan's teams, when the caller has it.

    Returns
    -------
    DataFrame
        Columns :data:`STATUS_COLUMNS`, values rounded for stable bytes.
    """
    member = unit_members(units, plan["team_id"]) if member is None else member
    unit_plan = member.T @ plan_td
    unit_actual = member.T @ actual
    level = dict(zip(units["unit_id"].astype("str"), units["level"].astype(int), strict=True))
    unit_rows = pd.DataFrame({
        "kind": "unit", "id": units["unit_id"].astype("str").to_numpy(), "name": _names(units),
        "parent_id": units["parent_id"].astype(object).where(units["parent_id"].notna(), None).to_numpy(),
        "level": units["level"].astype(int).to_numpy(), "role": None,
        "quota": units["quota"].to_numpy(dtype=np.float64), "plan_to_date": unit_plan, "actual_to_date": unit_actual,
    })
    rep_rows = pd.DataFrame({
        "kind": "rep", "id": plan["rep_id"].astype("str").to_numpy(), "name": _names(plan),
        "parent_id": plan["team_id"].astype("str").to_numpy(),
        "level": [level[str(t)] + 1 for t in plan["team_id"]], "role": plan["role"].astype(object).to_numpy(),
        "quota": plan["quota"].to_numpy(dtype=np.float64), "plan_to_date": plan_td, "actual_to_date": actual,
    })
    fcols = ["p_attain_year", "forecast_p10", "forecast_p50", "forecast_p90"]
    unit_rows[fcols] = forecast_units[fcols].to_numpy()
    rep_rows[fcols] = forecast_reps[fcols].to_numpy()
    unit_rows = unit_rows.sort_values(["level", "id"], kind="stable")
    rep_rows = rep_rows.sort_values("id", kind="stable")
    out = pd.concat([unit_rows, rep_rows], ignore_index=True)
    pace, status = pace_and_status(out["plan_to_date"].to_numpy(), out["actual_to_date"].to_numpy(), red, green)
    out["pace"] = pace
    out["status"] = status
    out["deviation"] = round_significant(pace - 1.0)
    out["calibrate"] = calibrate_flags(pace, status, deviation_limit)
    for column in ("quota", "plan_to_date", "actual_to_date", "forecast_p10", "forecast_p50", "forecast_p90"):
        out[column] = out[column].astype(np.float64).round(2)
    # pace and deviation stay at 12 significant digits: the exact values the colours were set from.
    out["p_attain_year"] = out["p_attain_year"].astype(np.float64).round(4)
    out["level"] = out["level"].astype("int64")
    # Explicit id columns for spreadsheet filters: rep rows fill rep_id, unit rows unit_id.
    out["rep_id"] = out["id"].where(out["kind"] == "rep", "")
    out["unit_id"] = out["id"].where(out["kind"] == "unit", "")
    return out[STATUS_COLUMNS]
