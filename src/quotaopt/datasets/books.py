"""Accounts and territories: what each seat can sell into, and how big the market is.

Account potentials are lognormal with a large spread, and key-account books hold
fewer but much larger accounts, so about a fifth of the accounts carry four fifths
of the potential. A territory's market is its accounts' potential times a
"white space" multiplier (prospects not yet accounts); more white space helps a
rep a little, which is the territory signal a capacity model can learn.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from quotaopt.datasets.org import Org

#: Accounts per seat, [low, high] inclusive, by role.
ACCOUNTS_KA, ACCOUNTS_LONGTAIL = (10, 20), (20, 40)
#: Lognormal (median, sigma) of one account's annual potential, by tier.
POTENTIAL_KA, POTENTIAL_LONGTAIL = (450_000.0, 1.3), (60_000.0, 1.4)
#: Territory market = accounts' potential x lognormal white space (median, sigma).
WHITE_SPACE = (1.8, 0.35)
GROWTH_MEAN, GROWTH_SD, GROWTH_RANGE = 0.05, 0.04, (-0.03, 0.15)
#: Elasticities of a rep's run rate to book size and to territory white space.
BOOK_ELASTICITY, WHITE_SPACE_ELASTICITY = 0.5, 0.3


@dataclass(frozen=True)
class Books:
    """Accounts (grouped by seat, in id order) and territories (grouped by team).

    Attributes
    ----------
    acc_seat, acc_territory : ndarray of int
    acc_potential : ndarray of float
        Whole currency units.
    acc_start : ndarray of int, shape (n_seats + 1,)
        Seat s owns accounts ``acc_start[s]:acc_start[s + 1]``.
    terr_team : ndarray of int
    terr_potential, terr_growth : ndarray of float
        Market size (rounded to 1000) and yearly market growth (4 decimals).
    seat_factor : ndarray of float
        Book-size and white-space multiplier of each seat's run rate.
    median_book : dict
        Median seat book potential by role (``ka``, ``longtail``): what ``seat_factor`` is relative to.
    """

    acc_seat: np.ndarray
    acc_territory: np.ndarray
    acc_potential: np.ndarray
    acc_start: np.ndarray
    terr_team: np.ndarray
    terr_potential: np.ndarray
    terr_growth: np.ndarray
    seat_factor: np.ndarray
    median_book: dict[str, float]

    def growth(self, years_since_start: int) -> np.ndarray:
        """Per seat: potential-weighted market growth factor after that many years."""
        factor = (1.0 + self.terr_growth[self.acc_territory]) ** years_since_start
        return cast("np.ndarray", _per_seat(self, self.acc_potential * factor) / _per_seat(self, self.acc_potential))


def _per_seat(books: Books, values: np.ndarray) -> np.ndarray:
    return np.bincount(books.acc_seat, weights=values, minlength=len(books.acc_start) - 1)


def _lognormal(rng: np.random.Generator, median: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(len(median)))


def build_books(org: Org, rng: np.random.Generator) -> Books:
    """Draw each seat's accounts and each team's 1-3 territories."""
    n_seats, n_teams = len(org.seat_team), len(org.team_ids)
    ka = org.seat_ka
    n_acc = np.where(
        ka,
        rng.integers(ACCOUNTS_KA[0], ACCOUNTS_KA[1] + 1, n_seats),
        rng.integers(ACCOUNTS_LONGTAIL[0], ACCOUNTS_LONGTAIL[1] + 1, n_seats),
    )
    acc_start = np.concatenate([[0], np.cumsum(n_acc)])
    acc_seat = np.repeat(np.arange(n_seats), n_acc)
    acc_ka = ka[acc_seat]
    median = np.where(acc_ka, POTENTIAL_KA[0], POTENTIAL_LONGTAIL[0])
    sigma = np.where(acc_ka, POTENTIAL_KA[1], POTENTIAL_LONGTAIL[1])
    potential = np.maximum(np.round(_lognormal(rng, median, sigma)), 1000.0)

    # Territories: 1-3 per team, numbered team by team. Seats are grouped by team, so
    # accounts are too; each team's first accounts go one per territory so that no
    # territory is left without accounts, the rest are spread at random.
    n_terr = rng.integers(1, 4, n_teams)
    terr_start = np.cumsum(n_terr) - n_terr
    terr_team = np.repeat(np.arange(n_teams), n_terr)
    acc_team = org.seat_team[acc_seat]
    team_first_acc = np.searchsorted(acc_team, np.arange(n_teams), side="left")
    rank = np.arange(len(acc_seat)) - team_first_acc[acc_team]
    k = n_terr[acc_team]
    local = np.where(rank < k, rank, np.floor(rng.random(len(acc_seat)) * k).astype(np.int64))
    acc_territory = terr_start[acc_team] + np.minimum(local, k - 1)

    acc_sum = np.bincount(acc_territory, weights=potential, minlength=len(terr_team))
    white = _lognormal(rng, np.full(len(terr_team), WHITE_SPACE[0]), np.full(len(terr_team), WHITE_SPACE[1]))
    terr_potential = np.round(acc_sum * np.maximum(white, 1.0) / 1000.0) * 1000.0
    growth = np.round(np.clip(rng.normal(GROWTH_MEAN, GROWTH_SD, len(terr_team)), *GROWTH_RANGE), 4)
    return _books(org, acc_seat, acc_territory, potential, acc_start, terr_team, terr_potential, growth)


def _ws_rel(acc_territory: np.ndarray, potential: np.ndarray, terr_potential: np.ndarray) -> np.ndarray:
    """Per territory: log white space (market over accounts' potential) relative to the median territory."""
    acc_sum = np.bincount(acc_territory, weights=potential, minlength=len(terr_potential))
    ws = np.log(terr_potential / np.maximum(acc_sum, 1.0))
    return np.asarray(ws - np.median(ws))


def white_space_rel(books: Books) -> np.ndarray:
    """:func:`_ws_rel` of a company's books (what each account's territory adds to a seat's run rate)."""
    return _ws_rel(books.acc_territory, books.acc_potential, books.terr_potential)


def unbalance(books: Books, org: Org, spread: float, rng: np.random.Generator) -> Books:
    """Re-deal each team's accounts of each tier among its seats of that role, unevenly.

    Each seat gets one account, then the rest go to seats with probability proportional
    to a lognormal weight of log-sd ``spread``: the same accounts and territories, books
    of very different sizes (the case the assignment stage exists for). Accounts stay
    grouped by seat, in their original order within a seat.
    """
    n_seats = len(org.seat_team)
    seat = books.acc_seat.copy()
    weight = np.exp(spread * rng.standard_normal(n_seats))
    group = org.seat_team * 2 + org.seat_ka  # a team's ka seats, its longtail seats
    acc_group = group[books.acc_seat]
    for g in np.unique(acc_group):
        accounts = np.flatnonzero(acc_group == g)
        seats = np.flatnonzero(group == g)
        order = rng.permutation(accounts)
        first, rest = order[: len(seats)], order[len(seats):]
        seat[first] = seats[: len(first)]
        p = weight[seats] / weight[seats].sum()
        seat[rest] = seats[rng.choice(len(seats), size=len(rest), p=p)]
    order = np.lexsort((np.arange(len(seat)), seat))
    acc_seat = seat[order]
    acc_start = np.concatenate([[0], np.cumsum(np.bincount(acc_seat, minlength=n_seats))])
    return _books(org, acc_seat, books.acc_territory[order], books.acc_potential[order], acc_start, books.terr_team,
                  books.terr_potential, books.terr_growth)


def _books(org: Org, acc_seat: np.ndarray, acc_territory: np.ndarray, potential: np.ndarray, acc_start: np.ndarray,
           terr_team: np.ndarray, terr_potential: np.ndarray, growth: np.ndarray) -> Books:
    """The :class:`Books` of these accounts, with each seat's run-rate multiplier from its book."""
    n_seats = len(org.seat_team)
    ka = org.seat_ka
    # Seat multiplier from the *published* numbers, so a model reading the files can learn it.
    book = np.bincount(acc_seat, weights=potential, minlength=n_seats)
    book_rel = np.ones(n_seats)
    median_book = {"ka": float("nan"), "longtail": float("nan")}
    for role in (True, False):
        mask = ka == role
        if mask.any():
            median_book["ka" if role else "longtail"] = float(np.median(book[mask]))
            book_rel[mask] = book[mask] / np.median(book[mask])
    ws_rel = _ws_rel(acc_territory, potential, terr_potential)
    seat_ws = np.bincount(acc_seat, weights=potential * ws_rel[acc_territory], minlength=n_seats) / book
    seat_factor = book_rel**BOOK_ELASTICITY * np.exp(WHITE_SPACE_ELASTICITY * seat_ws)
    return Books(
        acc_seat=acc_seat,
        acc_territory=acc_territory,
        acc_potential=potential,
        acc_start=acc_start,
        terr_team=terr_team,
        terr_potential=terr_potential,
        terr_growth=growth,
        seat_factor=seat_factor,
        median_book=median_book,
    )


@dataclass(frozen=True)
class NewLogos:
    """Accounts nobody owns yet (published with an empty rep_id and no bookings).

    Attributes
    ----------
    team : ndarray of int
        The team whose territory each lies in.
    ka : ndarray of bool
        Key-account tier.
    potential : ndarray of float
    territory : ndarray of int
    """

    team: np.ndarray
    ka: np.ndarray
    potential: np.ndarray
    territory: np.ndarray


def new_logos(books: Books, org: Org, share: float, rng: np.random.Generator) -> NewLogos:
    """About ``share`` x each team's account count of new accounts in its territories.

    Tiers follow the team's mix of accounts and potentials are drawn as the seats' are,
    so a new key account is as large as an owned one.
    """
    n_teams = len(org.team_ids)
    acc_team = org.seat_team[books.acc_seat]
    per_team = np.bincount(acc_team, minlength=n_teams)
    ka_mix = np.bincount(acc_team, weights=org.seat_ka[books.acc_seat].astype(float), minlength=n_teams)
    count = np.round(share * per_team).astype(np.int64)
    team = np.repeat(np.arange(n_teams), count)
    ka = rng.random(len(team)) < (ka_mix / np.maximum(per_team, 1))[team]
    median = np.where(ka, POTENTIAL_KA[0], POTENTIAL_LONGTAIL[0])
    sigma = np.where(ka, POTENTIAL_KA[1], POTENTIAL_LONGTAIL[1])
    potential = np.maximum(np.round(_lognormal(rng, median, sigma)), 1000.0)
    n_terr = np.bincount(books.terr_team, minlength=n_teams)
    first_terr = np.cumsum(n_terr) - n_terr
    territory = first_terr[team] + np.floor(rng.random(len(team)) * n_terr[team]).astype(np.int64)
    return NewLogos(team=team, ka=ka, potential=potential, territory=territory)
