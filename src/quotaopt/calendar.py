"""The plan year's calendar, in one place: working days, period labels and tenure.

- **Working days** are Monday to Friday, without public holidays (contract §2
  ``periods``): weeks split months by them, tracking counts plan to date by them, a
  re-plan spreads a rep without quota by them.
- **Period labels** are ``2027-Q1``, ``2027-03`` or ``2027-W09``. ISO weeks of the plan
  year; the few plan-year days ISO gives to the neighbouring year (Fri 1 Jan 2027 is
  2026-W53) fold into the plan year's first or last week, so every label carries the
  plan year.
- **Tenure** is counted two ways, each where the contract uses it: in calendar months
  from the hire month (how periods shape a new hire's year) and in full quarters at a
  quarter's first day (how the allocation sizes a new hire's quota); the ``ramp``
  gives the share of a full quota by quarter of tenure.

The synthetic companies of :mod:`quotaopt.datasets` book on a business calendar *with*
holidays (their own ``BUSDAYS``): that is the generator's world, not the plan's rule.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.errors import InputError, Problem

__all__ = [
    "SPLITS", "PlanCalendar", "day_index", "full_quarters", "hire_index", "month_tenure", "period_labels",
    "period_of", "period_spans", "ramp_share", "split_of", "year_days",
]

#: Period splits, coarsest first, with the form of their labels.
SPLITS = (("quarter", re.compile(r"^\d{4}-Q[1-4]$")), ("month", re.compile(r"^\d{4}-\d{2}$")),
          ("week", re.compile(r"^\d{4}-W\d{2}$")))


def year_days(year: int) -> tuple[np.ndarray, np.ndarray]:
    """Days of ``year`` and the working-day count before each (``cum[i]`` = working days < day i).

    Examples
    --------
    >>> days, cum = year_days(2027)
    >>> len(days), int(cum[-1])  # 2027 has 261 weekdays
    (365, 261)
    """
    days = np.arange(np.datetime64(f"{year}-01-01"), np.datetime64(f"{year + 1}-01-01"))
    cum = np.concatenate([[0], np.cumsum(np.is_busday(days))]).astype(np.int64)
    return days, cum


@dataclass(frozen=True)
class PlanCalendar:
    """Working-day structure of one plan year (all arrays indexed by day of year)."""

    year: int
    days: np.ndarray  # datetime64[D]
    cum: np.ndarray  # cum[i] = working days strictly before day i (len days + 1)
    month_start: np.ndarray  # (12,) first day index of each month
    month_end: np.ndarray  # (12,) one past the last day index
    week_labels: tuple[str, ...]
    piece_month: np.ndarray  # (pieces,) month 0..11 of each month-week piece
    piece_week: np.ndarray  # (pieces,) week index
    piece_start: np.ndarray
    piece_end: np.ndarray
    day_week: np.ndarray  # (days,) week index of each day

    @classmethod
    def build(cls, year: int) -> PlanCalendar:
        """The calendar of ``year`` (built once per year and process: it is immutable)."""
        return _plan_calendar(year)

    def workdays_from(self, start: np.ndarray, end: np.ndarray, hire_idx: np.ndarray) -> np.ndarray:
        """Working days in ``[start, end)`` on or after each rep's hire day (reps x spans)."""
        first = np.maximum(start[None, :], hire_idx[:, None])
        return np.clip(self.cum[end][None, :] - self.cum[np.minimum(first, len(self.days))], 0, None)


@functools.lru_cache(maxsize=8)
def _plan_calendar(year: int) -> PlanCalendar:
    days, cum = year_days(year)
    months = days.astype("datetime64[M]").astype(int) % 12
    month_start = np.searchsorted(months, np.arange(12), side="left")
    month_end = np.searchsorted(months, np.arange(12), side="right")
    last_week = dt.date(year, 12, 28).isocalendar()[1]
    iso = [d.isocalendar() for d in days.astype(dt.date)]
    week_no = np.array([1 if y < year else last_week if y > year else w for y, w, _ in iso])
    day_week = week_no - 1
    labels = tuple(f"{year}-W{w:02d}" for w in range(1, last_week + 1))
    # A piece is a maximal run of days sharing (month, week): contiguous by construction.
    key = months * 100 + day_week
    cut = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate([[0], cut])
    ends = np.concatenate([cut, [len(days)]])
    for array in (days, cum, month_start, month_end, months, day_week, starts, ends):
        array.flags.writeable = False  # shared by every caller of the cache
    return PlanCalendar(year, days, cum, month_start, month_end, labels, months[starts], day_week[starts],
                        starts, ends, day_week)


def period_labels(plan_year: int, split: str) -> list[str]:
    """All period labels of a plan year at ``split`` (``quarter``, ``month`` or ``week``).

    Examples
    --------
    >>> period_labels(2027, "quarter")
    ['2027-Q1', '2027-Q2', '2027-Q3', '2027-Q4']
    >>> period_labels(2027, "week")[:2], len(period_labels(2027, "week"))
    (['2027-W01', '2027-W02'], 52)
    """
    if split == "quarter":
        return [f"{plan_year}-Q{q}" for q in range(1, 5)]
    if split == "month":
        return [f"{plan_year}-{m:02d}" for m in range(1, 13)]
    return list(PlanCalendar.build(plan_year).week_labels)


def period_of(dates: pd.Series | pd.DatetimeIndex, plan_year: int, split: str) -> np.ndarray:
    """The period label of each date inside the plan year (weeks folded as in the plan).

    Dates outside the plan year get ``None``.

    Examples
    --------
    >>> list(period_of(pd.Series(pd.to_datetime(["2027-01-01", "2027-12-31", "2026-12-31"])), 2027, "week"))
    ['2027-W01', '2027-W52', None]
    """
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    inside = np.asarray(d.year == plan_year)
    out = np.full(len(d), None, dtype=object)
    if split == "quarter":
        out[inside] = [f"{plan_year}-Q{q}" for q in d.quarter[inside]]
    elif split == "month":
        out[inside] = [f"{plan_year}-{m:02d}" for m in d.month[inside]]
    else:
        cal = PlanCalendar.build(plan_year)
        labels = np.array(cal.week_labels, dtype=object)
        out[inside] = labels[cal.day_week[np.asarray(d.day_of_year[inside]) - 1]]
    return out


def split_of(labels: pd.Series | list[str]) -> str:
    """The period split (``quarter``, ``month`` or ``week``) that labels like ``2027-03`` belong to.

    Raises
    ------
    InputError
        Labels of no known form, or of more than one form.

    Examples
    --------
    >>> split_of(["2027-01", "2027-02"])
    'month'
    """
    found = set()
    for label in pd.unique(pd.Series(labels, dtype="str")):
        kind = next((name for name, pattern in SPLITS if pattern.match(label)), None)
        if kind is None:
            raise InputError([Problem("plan_periods.csv", f"period label {label!r} is not a quarter, month or week "
                                      "(expected e.g. 2027-Q1, 2027-03 or 2027-W09)", column="period")])
        found.add(kind)
    if len(found) != 1:
        raise InputError([Problem("plan_periods.csv", f"periods mix splits {sorted(found)} (expected one)",
                                  column="period")])
    return found.pop()


def period_spans(labels: list[str], plan_year: int) -> tuple[np.ndarray, np.ndarray]:
    """First day and one-past-last day (day-of-year indices, 0-based) of each period label.

    Weeks fold exactly as in the plan (:func:`period_of`).

    Raises
    ------
    InputError
        A label that is not a period of the plan year.

    Examples
    --------
    >>> starts, ends = period_spans(["2027-Q1", "2027-Q2"], 2027)
    >>> starts.tolist(), ends.tolist()
    ([0, 90], [90, 181])
    """
    days, _ = year_days(plan_year)
    split = split_of(labels)
    day_label = pd.Series(period_of(pd.DatetimeIndex(days), plan_year, split), dtype="str")
    first = day_label.groupby(day_label).apply(lambda s: s.index.min())
    last = day_label.groupby(day_label).apply(lambda s: s.index.max())
    unknown = [lab for lab in labels if lab not in first.index]
    if unknown:
        raise InputError([Problem("plan_periods.csv", f"period {unknown[0]!r} is not in the plan year {plan_year}",
                                  column="period")])
    starts = first.reindex(labels).to_numpy(dtype=np.int64)
    ends = last.reindex(labels).to_numpy(dtype=np.int64) + 1
    return starts, ends


def day_index(value: dt.date | pd.Timestamp | np.datetime64, plan_year: int) -> int:
    """0-based day of the plan year (may fall outside ``[0, 365]`` for other years).

    Examples
    --------
    >>> day_index(dt.date(2027, 2, 1), 2027)
    31
    """
    day = np.datetime64(pd.Timestamp(value).date(), "D")
    return int((day - np.datetime64(f"{plan_year}-01-01")).astype(np.int64))


def hire_index(hire_dates: pd.Series, plan_year: int) -> np.ndarray:
    """First day of employment as a plan-year day index, clipped to ``[0, days in year]``."""
    n_days = len(year_days(plan_year)[0])
    hire = pd.to_datetime(hire_dates)
    start = np.datetime64(f"{plan_year}-01-01")
    offset = (hire.to_numpy(dtype="datetime64[D]") - start).astype(np.int64)
    offset = np.where(hire.isna().to_numpy(), 0, offset)
    return np.clip(offset, 0, n_days).astype(np.int64)


def ramp_share(quarters: np.ndarray, ramp: Sequence[float] | np.ndarray, after: float | None = None) -> np.ndarray:
    """``ramp[k]`` for each number ``k`` of quarters of tenure (negative counts as 0).

    Beyond the list a rep is ramped: ``after`` when given (the allocation sizes a ramped
    rep at 1.0), else the list's last share held (the generator; periods, whose shape is
    relative anyway).

    Examples
    --------
    >>> ramp_share(np.array([-1, 0, 3, 9]), (0.25, 0.5, 0.75, 1.0)).tolist()
    [0.25, 0.25, 1.0, 1.0]
    >>> ramp_share(np.array([0, 2]), (0.5,), after=1.0).tolist()
    [0.5, 1.0]
    """
    table = np.asarray(ramp, dtype=np.float64) if len(ramp) else np.ones(1)
    k = np.maximum(np.asarray(quarters, dtype=np.int64), 0)
    share = table[np.minimum(k, len(table) - 1)]
    return share if after is None else np.where(k < len(table), share, after)


def month_tenure(hire: pd.Series, plan_year: int) -> np.ndarray:
    """Calendar months of tenure in each month of the plan year (reps x 12), counted from the hire month.

    Negative before the hire month; a rep without a hire date is not handled here
    (callers treat it as ramped).
    """
    valid = hire.notna().to_numpy()
    hy = np.where(valid, hire.dt.year.fillna(0).to_numpy(), 0).astype(np.int64)
    hm = np.where(valid, hire.dt.month.fillna(1).to_numpy(), 1).astype(np.int64)
    return (plan_year - hy)[:, None] * 12 + (np.arange(1, 13)[None, :] - hm[:, None])


def full_quarters(year: np.ndarray, month: np.ndarray, day: np.ndarray, on_year: int, on_month: int) -> np.ndarray:
    """Full quarters of tenure on the first day of ``on_month`` of ``on_year`` (negative before the hire).

    Examples
    --------
    >>> full_quarters(np.array([2026.0]), np.array([4.0]), np.array([15.0]), 2027, 1).tolist()  # 8.5 months
    [2.0]
    """
    months = (on_year - year) * 12 + (on_month - month) - (day > 1)
    return np.floor(months / 3)
