"""Planning before the year closes: the history re-dated so its last twelve months form a year.

Quotas for a year are set in the autumn before it, when the current year's bookings
run only to, say, August. The capacity model learns from calendar years (features at
the end of one, bookings in the next), so it cannot use eight months of a year, and
the last complete year is then two years before the plan. Rather than leave out the
freshest eight months, the capacity stage shifts every date forward by the missing
months (``September 2025 - August 2026`` becomes ``2026``): the last twelve months
become the last complete year, the usual trailing-twelve-months view. The predicted
year then runs the same months earlier than the plan year, so predictions are carried
forward by the company level's forecast growth over those months.

Only the capacity estimate sees the shifted dates; targets, seasonality, periods and
allocation read the calendar as it is. A booked month is taken as complete (data run
to its last booking); the history's last month counts in full.

Hire dates move with the bookings, so tenure stays in step with the history, except
for reps hired after the last booking: they have no history to stay in step with, and
keep their own date (at the earliest the day the shifted history ends), so their share
of the plan year is their real one.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from quotaopt.company import CompanyData


def capacity_calendar(company: CompanyData, plan_year: int) -> tuple[CompanyData, int]:
    """The company as the capacity model sees it for ``plan_year``, and the months it was shifted.

    ``(company, 0)`` when the year before the plan is complete; see :func:`months_short`.
    """
    short = months_short(company, plan_year)
    return shifted(company, short), short


def carry_forward(seen: CompanyData, plan_year: int, months: int) -> float:
    """Factor taking a prediction of the shifted year to the plan year: the level's forecast growth over ``months``."""
    if months <= 0:
        return 1.0
    from quotaopt.capacity._level import chain, forecast_level, planners_growth
    from quotaopt.capacity._panel import build_panel

    level = forecast_level(chain(build_panel(seen)), plan_year, planners_growth(seen.territories))
    return 1.0 if level is None else float(np.exp(level.growth * months / 12.0))


def months_short(company: CompanyData, plan_year: int) -> int:
    """Months missing from the year before ``plan_year`` (0 when it is complete or absent).

    Non-zero only when the bookings end inside ``plan_year - 1`` (before December) and
    ``plan_year - 2`` is complete: then the capacity stage plans on a shifted calendar.
    """
    dates = company.bookings["date"]
    if dates.empty:
        return 0
    last = dates.max()
    if last.year != plan_year - 1 or last.month == 12 or company.last_complete_year() != plan_year - 2:
        return 0
    return 12 - int(last.month)


def shifted(company: CompanyData, months: int) -> CompanyData:
    """``company`` with every booking, and the hire date of every rep hired by the last
    booking, moved ``months`` later (see the module docstring)."""
    if months <= 0:
        return company
    offset = pd.DateOffset(months=months)
    last = company.bookings["date"].max()
    end = pd.Timestamp(year=last.year + 1, month=1, day=1)  # where the shifted history ends
    hire = company.reps["hire_date"]
    moved = hire + offset
    later = hire.where(hire > end, end)  # hired after the history: their own date, from its end
    new_hire = moved.where(hire.isna() | (hire <= last), later)
    return dataclasses.replace(company, bookings=company.bookings.assign(date=company.bookings["date"] + offset),
                               reps=company.reps.assign(hire_date=new_hire))
