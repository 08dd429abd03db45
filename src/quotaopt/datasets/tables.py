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
from quotaopt.datasets.books import (
    BOOK_ELASTICITY,
    WHITE_SPACE_ELASTICITY,
    Books,
    NewLogos,
    white_space_rel,
)
from quotaopt.datasets.org import Org, Staff, make_ids
from quotaopt.datasets.sales import Sales

BOOKING_COLUMNS = ["date", "rep_id", "amount", "account_id"]


class Ids:
    """Fixed-width string ids of reps, accounts and territories."""

    def __init__(self, staff: Staff, books: Books, new_accounts: int = 0):
        self.rep = make_ids("RP", len(staff.seat), 6)
        self.account = make_ids("AC", len(books.acc_seat) + new_accounts, 7)
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


def accounts_table(org: Org, staff: Staff, books: Books, ids: Ids, logos: NewLogos | None = None) -> pd.DataFrame:
    """accounts.csv: every seat's accounts under the seat's current rep, then the new logos without an owner."""
    owner = staff.occupant[books.acc_seat]
    tier = np.where(org.seat_ka[books.acc_seat], "ka", "longtail").astype(object)
    potential, territory = books.acc_potential, books.acc_territory
    if logos is not None and len(logos.team):
        owner = np.concatenate([owner, np.full(len(logos.team), -1)])  # -1: an empty rep_id
        tier = np.concatenate([tier, np.where(logos.ka, "ka", "longtail").astype(object)])
        potential = np.concatenate([potential, logos.potential])
        territory = np.concatenate([territory, logos.territory])
    return pd.DataFrame(
        {
            "account_id": ids.account,
            "rep_id": _coded(owner, ids.rep),
            "tier": tier,
            "potential": potential,
            "territory_id": ids.territory[territory],
        }
    )


def account_value_table(books: Books, logos: NewLogos | None, ids: Ids, growth_years: int) -> pd.DataFrame:
    """truth/account_value: what each account adds to its holder's plan-year run rate.

    ``white_space`` is the log white space of its territory relative to the median one,
    ``growth`` its territory's market growth factor in the plan year; the potential is
    the one published (the generator's potentials are the truth).
    """
    ws = white_space_rel(books)
    territory, potential = books.acc_territory, books.acc_potential
    if logos is not None and len(logos.team):
        territory = np.concatenate([territory, logos.territory])
        potential = np.concatenate([potential, logos.potential])
    return pd.DataFrame(
        {
            "account_id": ids.account,
            "potential": potential,
            "white_space": np.round(ws[territory], 6),
            "growth": np.round((1.0 + books.terr_growth[territory]) ** growth_years, 6),
        }
    )


def rep_rate_table(org: Org, staff: Staff, books: Books, sales: Sales, ids: Ids, growth_years: int) -> pd.DataFrame:
    """truth/rep_rate: each plan-year rep's capacity per unit of book factor (see :func:`book_factor`)."""
    plan = sales.capacity[:, -1]
    rep = np.flatnonzero(sales.employed[:, -1])
    seat = staff.seat[rep]
    factor = books.seat_factor[seat] * books.growth(growth_years)[seat]
    return pd.DataFrame(
        {
            "rep_id": _coded(rep, ids.rep),
            "role": np.where(org.seat_ka[seat], "ka", "longtail").astype(object),
            "rate": np.round(plan[rep] / factor, 2),
        }
    )


def book_factor(potential: np.ndarray, white_space: np.ndarray, growth: np.ndarray, holder: np.ndarray,
                n_holders: int, median_book: np.ndarray) -> np.ndarray:
    """The truth's multiplier of each holder's run rate from the book they hold.

    ``(book / median book of the role) ** BOOK_ELASTICITY x exp(WHITE_SPACE_ELASTICITY x
    potential-weighted white space) x potential-weighted market growth``; 0 for an empty book.
    ``holder`` indexes 0..n_holders-1 (-1: held by nobody), ``median_book`` is per holder.
    """
    held = holder >= 0
    sums = [np.bincount(holder[held], weights=w[held], minlength=n_holders)
            for w in (potential, potential * white_space, potential * growth)]
    book, ws, grown = sums
    with np.errstate(invalid="ignore", divide="ignore"):
        factor = ((book / median_book) ** BOOK_ELASTICITY * np.exp(WHITE_SPACE_ELASTICITY * ws / book)
                  * grown / book)
    return np.where(book > 0, factor, 0.0)


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
