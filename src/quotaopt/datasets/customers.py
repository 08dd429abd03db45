"""New customers and churn in a synthetic company: accounts that start buying and accounts that stop.

Without it every account of a seat's book may buy in every year, so the only "new
customers" a history shows are accounts that happened not to buy in its first year.
With a yearly ``churn`` rate each account has an active life instead:

- at the warm-up year a share ``1 / (1 + PROSPECT_MARGIN x churn x T)`` of each seat's
  book is active (``T`` = the years after it: history and plan year); the rest are
  prospects, half as many again as the churn of ``T`` years is expected to need (a
  seat's churn is random, and a seat out of prospects shrinks);
- every later year each active account stops buying for good with probability
  ``churn``, and the seat acquires as many of its prospects (drawn at random) as it
  lost, while it has prospects, so a book's active size stays steady;
- each seat's account of largest potential is active throughout, so every seat can sell.

The deals stay exactly what they are without churn -- count, date, rep, amount -- and only
the account each lands on is drawn again, among the seat's accounts active that year
(weighted like :func:`quotaopt.datasets.sales._pick_accounts`); a credit note keeps the
account of the deal it refunds. So revenue, capacities and every truth file about them do
not move, and ``truth/account_life`` says exactly which accounts bought when they could.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.datasets.books import Books
from quotaopt.datasets.org import Staff
from quotaopt.datasets.sales import ACCOUNT_WEIGHT_POWER

__all__ = ["MAX_CHURN", "PROSPECT_MARGIN", "AccountLives", "initial_active_share", "account_life_table", "account_lives", "repick_accounts"]

#: Highest yearly churn the generator takes.
MAX_CHURN = 0.5
#: Prospects per expected lost account over the years simulated.
PROSPECT_MARGIN = 1.5


@dataclass(frozen=True)
class AccountLives:
    """Each book account's active years, as year indices (0 = warm-up year), both ends inclusive.

    Attributes
    ----------
    start : ndarray of int
        First active year; -1 for a prospect never acquired.
    end : ndarray of int
        Last active year; ``n_years - 1`` while still active at the plan year's end.
    n_years : int
    """

    start: np.ndarray
    end: np.ndarray
    n_years: int

    def active(self, t: int) -> np.ndarray:
        """Accounts active in year index ``t``."""
        return np.asarray((self.start >= 0) & (self.start <= t) & (self.end >= t))


def _anchors(books: Books) -> np.ndarray:
    """Each seat's account of largest potential (the first in id order on a tie)."""
    # Accounts are grouped by seat in id order: seat s holds acc_start[s]:acc_start[s + 1],
    # which is also where its accounts sit in this order (seat, then largest potential first).
    order = np.lexsort((np.arange(len(books.acc_seat)), -books.acc_potential, books.acc_seat))
    starts = books.acc_start[:-1][np.diff(books.acc_start) > 0]
    anchors = np.zeros(len(books.acc_seat), dtype=bool)
    anchors[order[starts]] = True
    return anchors


def _rank_within(group: np.ndarray, key: np.ndarray) -> np.ndarray:
    """0-based rank of each element by ``key`` within its ``group``."""
    order = np.lexsort((key, group))
    g = group[order]
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    first = np.repeat(starts, np.diff(np.r_[starts, len(g)]))
    rank = np.empty(len(group), dtype=np.int64)
    rank[order] = np.arange(len(group)) - first
    return rank


def initial_active_share(churn: float, n_years: int) -> float:
    """Share of a book active at the warm-up year (the rest are prospects)."""
    return 1.0 / (1.0 + PROSPECT_MARGIN * churn * (n_years - 1))


def account_lives(books: Books, n_years: int, churn: float, rng: np.random.Generator) -> AccountLives:
    """Draw every book account's active life (see the module).

    Parameters
    ----------
    books : Books
    n_years : int
        Simulated years: warm-up, history, plan year.
    churn : float
        Yearly probability that an active account stops buying, 0 to :data:`MAX_CHURN`.
    rng : Generator
        A stream of its own (nothing else draws from it).
    """
    if not 0.0 <= churn <= MAX_CHURN:
        raise ValueError(f"churn must be in [0, {MAX_CHURN}], got {churn}")
    n = len(books.acc_seat)
    seats = len(books.acc_start) - 1
    anchor = _anchors(books)
    later = n_years - 1
    prospect = (rng.random(n) >= initial_active_share(churn, n_years)) & ~anchor
    start = np.where(prospect, -1, 0).astype(np.int64)
    end = np.full(n, later, dtype=np.int64)
    for t in range(1, n_years):
        active = (start >= 0) & (start <= t - 1) & (end >= t - 1)
        stop = active & ~anchor & (rng.random(n) < churn)
        end[stop] = t - 1
        lost = np.bincount(books.acc_seat[stop], minlength=seats)
        waiting = np.flatnonzero(start < 0)
        rank = _rank_within(books.acc_seat[waiting], rng.random(len(waiting)))
        start[waiting[rank < lost[books.acc_seat[waiting]]]] = t
    return AccountLives(start, end, n_years)


def repick_accounts(deals: dict[str, np.ndarray], books: Books, staff: Staff, lives: AccountLives,
                    rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The deals with each one's account drawn among its seat's accounts active that year.

    Credit notes take the account of the deal they refund (``origin``); nothing else changes.
    """
    account = deals["account"].copy()
    is_deal = deals["origin"] == deals["seq"]
    seats = staff.seat[deals["rep"]]
    power = books.acc_potential ** ACCOUNT_WEIGHT_POWER
    for t in np.unique(deals["year"]):
        rows = np.flatnonzero(is_deal & (deals["year"] == t))
        cum = np.cumsum(np.where(lives.active(int(t)), power, 0.0))
        edges = np.concatenate([[0.0], cum])
        lo, hi = books.acc_start[seats[rows]], books.acc_start[seats[rows] + 1]
        target = edges[lo] + rng.random(len(rows)) * (edges[hi] - edges[lo])
        account[rows] = np.clip(np.searchsorted(cum, target, side="right"), lo, hi - 1)
    position = np.searchsorted(deals["seq"], deals["origin"])  # seq is each row's position, ascending
    account[~is_deal] = account[position[~is_deal]]
    return {**deals, "account": account}


def account_life_table(lives: AccountLives, account_ids: np.ndarray, years: list[int]) -> pd.DataFrame:
    """``truth/account_life``: account_id, start_year, end_year of every account of a seat's book.

    ``years`` are the calendar years of year indices 0.. (warm-up, history, plan year).
    ``start_year`` is the warm-up year for an account active from the start (it may have
    bought before the history) and empty for a prospect never acquired; ``end_year`` is
    empty while the account is still active at the plan year's end.
    """
    calendar = np.asarray(years, dtype=np.int64)
    start = pd.array(np.where(lives.start >= 0, calendar[np.maximum(lives.start, 0)], 0), dtype="Int64")
    start[lives.start < 0] = pd.NA
    end = pd.array(calendar[lives.end], dtype="Int64")
    end[(lives.end >= lives.n_years - 1) | (lives.start < 0)] = pd.NA
    return pd.DataFrame({"account_id": account_ids[: len(lives.start)], "start_year": start, "end_year": end})
