"""Turn the simulated company into the contract's tables (pure: no disk access).

Floats are rounded to the precision they are published at (cents for money) so
the writers' shortest round-trip formatting is stable byte for byte. Rows come out
in a fixed order: units top-down, reps and accounts by id, deals by date, rep and
creation order.
"""

from __future__ import annotations

from typing import cast

import numpy as np
import pandas as pd

from quotaopt.datasets._calendar import Year
from quotaopt.datasets.books import Books
from quotaopt.datasets.org import Org, Staff, make_ids
from quotaopt.datasets.sales import Sales

BOOKING_COLUMNS = ["date", "rep_id", "amount", "account_id"]


class Ids:
    """Fixed-width string ids of reps, accounts and territories."""

    def __init__(self, staff: Staff, books: Books):
        self.rep = make_ids("RP", len(staff.seat), 6)
        self.account = make_ids("AC", len(books.acc_seat), 7)
        self.territory = make_ids("TR", len(books.terr_team), 5)


def _coded(codes: np.ndarray, labels: np.ndarray) -> pd.Categorical:
    """Labels by integer code without materialising millions of strings (writers expand them)."""
    return pd.Categorical.from_codes(codes, categories=pd.Index(labels, dtype=object))


def _iso(dates: np.ndarray) -> pd.Categorical:
    """ISO strings of datetime64[D] values, coded over the days spanned (ordered like dates)."""
    first = dates.min() if len(dates) else np.datetime64("2000-01-01", "D")
    span = np.arange(first, (dates.max() if len(dates) else first) + 1)
    table = np.datetime_as_string(span, unit="D").astype(object)
    return _coded((dates - first).astype(np.int64), table)


def until(frame: pd.DataFrame, iso_date: str) -> pd.DataFrame:
    """Rows of a bookings table dated on or before ``iso_date``."""
    dates = frame["date"].array
    assert isinstance(dates, pd.Categorical)
    keep = (dates.categories.to_numpy(dtype=object) <= iso_date)[dates.codes]
    return cast("pd.DataFrame", frame[keep].reset_index(drop=True))


def teams_table(org: Org) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "team_id": org.unit_ids,
            "parent_id": org.unit_parents,
            "name": org.unit_names,
            "target": np.full(len(org.unit_ids), np.nan),
        }
    )


def reps_table(org: Org, staff: Staff, ids: Ids, last_quota: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "rep_id": ids.rep,
            "team_id": np.array(org.team_ids, dtype=object)[org.seat_team[staff.seat]],
            "role": np.where(org.seat_ka[staff.seat], "ka", "longtail").astype(object),
            "hire_date": _iso(staff.hire),
            "fte": np.round(staff.fte, 2),
            "status": np.where(staff.departed, "departed", "active").astype(object),
            "name": staff.name,
            "last_quota": pd.Series(last_quota).astype("Int64"),  # whole thousands; NA = none
            "locked_quota": np.full(len(staff.seat), np.nan),
        }
    )


def accounts_table(org: Org, staff: Staff, books: Books, ids: Ids) -> pd.DataFrame:
    owner = staff.occupant[books.acc_seat]
    return pd.DataFrame(
        {
            "account_id": ids.account,
            "rep_id": _coded(owner, ids.rep),
            "tier": np.where(org.seat_ka[books.acc_seat], "ka", "longtail").astype(object),
            "potential": books.acc_potential,
            "territory_id": ids.territory[books.acc_territory],
        }
    )


def territories_table(books: Books, ids: Ids) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "territory_id": ids.territory,
            "potential": books.terr_potential,
            "market_growth": books.terr_growth,
        }
    )


def bookings_table(sales: Sales, ids: Ids, year_index: int, lines: np.ndarray | None = None) -> pd.DataFrame:
    """Deals of one simulated year, ordered by date, rep and creation order (with product_line if ``lines``)."""
    d = sales.deals
    rows = np.flatnonzero(d["year"] == year_index)  # ascending, so in creation (seq) order
    day = (d["date"][rows] - np.datetime64("1970-01-01", "D")).astype(np.int64)
    key = day * len(ids.rep) + d["rep"][rows]
    rows = rows[np.argsort(key, kind="stable")]  # stable: ties keep creation order
    frame = pd.DataFrame(
        {
            "date": _iso(d["date"][rows]),
            "rep_id": _coded(d["rep"][rows], ids.rep),
            "amount": d["amount"][rows],
            "account_id": _coded(d["account"][rows], ids.account),
        }
    )
    if lines is not None:
        frame["product_line"] = lines[rows]
    return frame


def capacity_table(sales: Sales, ids: Ids, years: list[Year]) -> pd.DataFrame:
    """Truth per rep and year (history and plan year), for the years the rep worked."""
    employed = sales.employed[:, 1:]
    rep, t = np.nonzero(employed)  # row-major: by rep, then year
    t = t + 1
    return pd.DataFrame(
        {
            "rep_id": _coded(rep, ids.rep),
            "year": np.array([y.year for y in years])[t],
            "capacity": np.round(sales.capacity[rep, t], 2),
            "capacity_with_shocks": np.round(sales.shocked[rep, t], 2),
        }
    )


def team_shocks_table(org: Org, sales: Sales, years: list[Year]) -> pd.DataFrame:
    n_teams, n_years = sales.team_shock.shape
    team, t = np.divmod(np.arange(n_teams * (n_years - 1)), n_years - 1)
    t = t + 1
    return pd.DataFrame(
        {
            "team_id": np.array(org.team_ids, dtype=object)[team],
            "year": np.array([y.year for y in years])[t],
            "shock": sales.team_shock[team, t],
        }
    )


def seasonality_table(base: np.ndarray, by_role: dict[str, np.ndarray]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": np.arange(1, 13),
            "weight": base,
            "weight_ka": by_role["ka"],
            "weight_longtail": by_role["longtail"],
        }
    )
