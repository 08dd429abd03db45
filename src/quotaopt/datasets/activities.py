"""Process metrics of a synthetic company (``activities.csv``), correlated with results, with truth.

Each rep has one row per metric and month it worked (dated the last business day it
worked that month): ``visits`` (a count), ``conversion`` (the share of opportunities won,
in [0, 1]), ``collection_days`` (days to collect an invoice: lower is better) and
``satisfaction`` (a 1-5 score). All four move with what drives the rep's bookings --
``rel = skill x seat factor (book, white space) x the year's company and team shock`` --
and with the rep's own lasting habit ``u`` (one draw per rep and metric):

- visits in a month ~ Poisson(``VISITS[role] x rel ** 0.6 x exp(u) x fte x ramp x
  business days worked / business days``), so a rep who books more visits more, and a
  part month or a ramping rep visits less, as it books less;
- conversion = ``expit(logit(CONVERSION[role]) + 0.5 log rel + u)`` plus monthly noise;
- collection_days = ``COLLECTION_DAYS x rel ** -0.2 x exp(u)`` plus monthly noise (the
  better reps collect faster);
- satisfaction = ``SATISFACTION + 0.4 log rel + u`` plus monthly noise, within 1-5.

Drawn from a stream of their own after everything else, so no other file moves.
``truth/activity_levels`` has, per rep, year and metric, the expected value: the year's
expected visits, the level of a month for the other three (before the monthly noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import expit, logit

from quotaopt.datasets._calendar import BUSDAYS, Year
from quotaopt.datasets.books import Books
from quotaopt.datasets.org import Org, Staff
from quotaopt.datasets.sales import Sales
from quotaopt.datasets.tables import _coded, _iso

__all__ = ["METRICS", "ActivityRows", "activities_table", "levels_table", "simulate_activities"]

#: The metrics, in the order rows list them.
METRICS = ("visits", "conversion", "collection_days", "satisfaction")
#: Visits in a full business month of a ramped, full-time rep with ``rel`` 1.
VISITS = {"ka": 12.0, "longtail": 25.0}
#: Conversion of a rep with ``rel`` 1.
CONVERSION = {"ka": 0.25, "longtail": 0.35}
COLLECTION_DAYS, SATISFACTION = 45.0, 4.0
#: How each metric moves with log ``rel`` (visits and collection days as powers of rel).
ELASTICITY = {"visits": 0.6, "conversion": 0.5, "collection_days": -0.2, "satisfaction": 0.4}
#: Spread of the rep's own habit ``u`` (log scale for visits and collection days, logit for conversion).
REP_SD = {"visits": 0.15, "conversion": 0.2, "collection_days": 0.1, "satisfaction": 0.2}
#: Spread of a month's value around its level (visits are Poisson instead).
MONTH_SD = {"conversion": 0.03, "collection_days": 3.0, "satisfaction": 0.2}
#: Decimals each metric is published with.
DECIMALS = {"visits": 0, "conversion": 4, "collection_days": 1, "satisfaction": 2}


@dataclass(frozen=True)
class ActivityRows:
    """Every activity row of one year, and the truth behind them.

    Attributes
    ----------
    rep, metric : ndarray of int
        Rep index and index into :data:`METRICS`.
    date : ndarray of datetime64[D]
    value : ndarray of float
    levels : DataFrame
        rep (index), metric (index), expected: see the module.
    """

    rep: np.ndarray
    metric: np.ndarray
    date: np.ndarray
    value: np.ndarray
    levels: pd.DataFrame


def _year(org: Org, staff: Staff, books: Books, sales: Sales, year: Year, t: int, habit: np.ndarray,
          rng: np.random.Generator) -> ActivityRows:
    idx = np.flatnonzero(sales.employed[:, t])
    ka = org.seat_ka[staff.seat[idx]]
    lo, nbd = year.windows(staff.hire[idx], staff.end_excl[idx])
    shock = sales.company_shock[t] * sales.team_shock[org.seat_team[staff.seat[idx]], t]
    log_rel = staff.log_skill[idx, t] + np.log(books.seat_factor[staff.seat[idx]]) + np.log(shock)
    u = habit[idx]
    worked = nbd / year.bdays[None, :]
    visits_month = (np.where(ka, VISITS["ka"], VISITS["longtail"]) * np.exp(ELASTICITY["visits"] * log_rel + u[:, 0])
                    * staff.fte[idx])
    lam = visits_month[:, None] * year.ramp(staff.hire[idx]) * worked
    level = {
        "conversion": expit(logit(np.where(ka, CONVERSION["ka"], CONVERSION["longtail"]))
                            + ELASTICITY["conversion"] * log_rel + u[:, 1]),
        "collection_days": COLLECTION_DAYS * np.exp(ELASTICITY["collection_days"] * log_rel + u[:, 2]),
        "satisfaction": np.clip(SATISFACTION + ELASTICITY["satisfaction"] * log_rel + u[:, 3], 1.0, 5.0),
    }
    shape = lam.shape
    values = {"visits": rng.poisson(lam).astype(np.float64),
              "conversion": np.clip(level["conversion"][:, None] + MONTH_SD["conversion"] * rng.standard_normal(shape),
                                    0.0, 1.0),
              "collection_days": np.maximum(level["collection_days"][:, None]
                                            + MONTH_SD["collection_days"] * rng.standard_normal(shape), 1.0),
              "satisfaction": np.clip(level["satisfaction"][:, None]
                                      + MONTH_SD["satisfaction"] * rng.standard_normal(shape), 1.0, 5.0)}
    row, month = np.nonzero(nbd > 0)  # row-major: by rep, then month
    last = np.minimum(staff.end_excl[idx][row], year.starts[month + 1]) - 1
    date = np.busday_offset(last, 0, roll="backward", busdaycal=BUSDAYS)
    k = len(METRICS)
    expected = {"visits": lam.sum(axis=1), **level}
    levels = pd.DataFrame({"rep": np.repeat(idx, k), "metric": np.tile(np.arange(k), len(idx)),
                           "expected": np.column_stack([expected[m] for m in METRICS]).ravel()})
    return ActivityRows(
        rep=np.repeat(idx[row], k), metric=np.tile(np.arange(k), len(row)), date=np.repeat(date, k),
        value=np.column_stack([np.round(values[m][row, month], DECIMALS[m]) for m in METRICS]).ravel(),
        levels=levels)


def simulate_activities(org: Org, staff: Staff, books: Books, sales: Sales, years: list[Year],
                        rng: np.random.Generator) -> list[ActivityRows]:
    """The activity rows of every year after the warm-up (history years, then the plan year)."""
    habit = rng.standard_normal((len(staff.seat), len(METRICS))) * np.array([REP_SD[m] for m in METRICS])
    return [_year(org, staff, books, sales, year, t, habit, rng) for t, year in enumerate(years) if t > 0]


def activities_table(rows: list[ActivityRows], rep_ids: np.ndarray) -> pd.DataFrame:
    """``activities.csv`` rows (rep_id, date, metric, value) ordered by date, rep and metric."""
    rep = np.concatenate([r.rep for r in rows])
    metric = np.concatenate([r.metric for r in rows])
    date = np.concatenate([r.date for r in rows])
    value = np.concatenate([r.value for r in rows])
    day = (date - np.datetime64("1970-01-01", "D")).astype(np.int64)
    order = np.lexsort((metric, rep, day))
    return pd.DataFrame({"rep_id": _coded(rep[order], rep_ids), "date": _iso(date[order]),
                         "metric": _coded(metric[order], np.asarray(METRICS, dtype=object)),
                         "value": value[order]})


def levels_table(rows: list[ActivityRows], rep_ids: np.ndarray, years: list[int]) -> pd.DataFrame:
    """``truth/activity_levels``: rep_id, year, metric, expected for every rep-year worked."""
    parts = []
    for r, year in zip(rows, years, strict=True):
        expected = np.round(r.levels["expected"].to_numpy(dtype=np.float64), 4)
        parts.append(pd.DataFrame({"rep_id": rep_ids[r.levels["rep"].to_numpy()], "year": year,
                                   "metric": np.asarray(METRICS, dtype=object)[r.levels["metric"].to_numpy()],
                                   "expected": expected}))
    return pd.concat(parts, ignore_index=True)
