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
    """

    acc_seat: np.ndarray
    acc_territory: np.ndarray
    acc_potential: np.ndarray
    acc_start: np.ndarray
    terr_team: np.ndarray
    terr_potential: np.ndarray
    terr_growth: np.ndarray
    seat_factor: np.ndarray

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

    # Seat multiplier from the *published* numbers, so a model reading the files can learn it.
    book = np.bincount(acc_seat, weights=potential, minlength=n_seats)
    book_rel = np.ones(n_seats)
    for role in (True, False):
        mask = ka == role
        if mask.any():
            book_rel[mask] = book[mask] / np.median(book[mask])
    ws = np.log(terr_potential / np.maximum(acc_sum, 1.0))
    ws_rel = ws - np.median(ws)
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
    )
