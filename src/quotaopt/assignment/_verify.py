"""Every assigned account re-checked from the solution, against the raw inputs (not the model).

After the solve, from :class:`~quotaopt.assignment._inputs.Prepared` and the owner of each
account only: every account has exactly one owner, an active rep of its own pool;
eligibility (a key account goes to a rep eligible for key accounts, unless it stays with
its own owner); locks (a locked account stays); accounts that were no decision stay; and
continuity (no rep gives away more than ``max_moved`` of a tier of their book). Any break
is :class:`~quotaopt.errors.SolverError` (exit 4) naming it. Balance is measured here too
(:class:`Balance`): what the band allows is a soft limit, reported as exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quotaopt.assignment._inputs import Prepared
from quotaopt.errors import SolverError

_TOL = 1e-6


@dataclass(frozen=True)
class Balance:
    """Each rep's book against their fair share, before and after (money, and account counts).

    ``target`` is the fair share of the potential of the rep's tier in their pool (fte x
    ramp share); ``held`` the potential of that tier they hold (before: accounts.csv; after:
    the assignment); ``count_*`` the same in accounts.
    """

    target: np.ndarray
    held_before: np.ndarray
    held_after: np.ndarray
    count_target: np.ndarray
    count_before: np.ndarray
    count_after: np.ndarray
    book_before: np.ndarray  # all tiers (what max_moved is a share of)
    moved_out: np.ndarray
    moved_in: np.ndarray

    def ratio(self, after: bool) -> np.ndarray:
        """Held / fair share per rep (NaN where the share is 0)."""
        held = self.held_after if after else self.held_before
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(self.target > 0, held / self.target, np.nan)


def measure(prep: Prepared, owner: np.ndarray) -> Balance:
    """The :class:`Balance` of ``owner`` (an active rep index per account)."""
    n = prep.n_reps
    n_groups = 2 * prep.pool_ids.size
    home = prep.acc_home
    before_owner = np.where(home >= 0, home, -1)
    fixed_out = ~prep.acc_free & (home >= 0) & (prep.rep_ka[np.maximum(home, 0)] != prep.acc_ka)
    counted = ~fixed_out
    total = np.bincount(prep.acc_group[counted], weights=prep.acc_pot[counted], minlength=n_groups)
    count = np.bincount(prep.acc_group[counted], minlength=n_groups).astype(float)
    weight = prep.rep_weight
    group = prep.rep_group
    w_sum = np.bincount(group, weights=weight, minlength=n_groups)
    size = np.bincount(group, minlength=n_groups).astype(float)
    share = np.where(w_sum[group] > 0, weight / np.where(w_sum[group] > 0, w_sum[group], 1.0),
                     1.0 / np.maximum(size[group], 1.0))

    def held(by: np.ndarray, values: np.ndarray) -> np.ndarray:
        ok = (by >= 0) & (prep.rep_ka[np.maximum(by, 0)] == prep.acc_ka)
        return np.bincount(by[ok], weights=values[ok], minlength=n)

    moved = (before_owner >= 0) & (owner != before_owner)
    arrived = owner != before_owner
    return Balance(
        target=share * total[group], held_before=held(before_owner, prep.acc_pot), held_after=held(owner, prep.acc_pot),
        count_target=share * count[group], count_before=held(before_owner, np.ones(prep.n_accounts)),
        count_after=held(owner, np.ones(prep.n_accounts)),
        book_before=np.bincount(before_owner[before_owner >= 0], weights=prep.acc_pot[before_owner >= 0], minlength=n),
        moved_out=np.bincount(before_owner[moved], weights=prep.acc_pot[moved], minlength=n),
        moved_in=np.bincount(owner[arrived], weights=prep.acc_pot[arrived], minlength=n))


def verify(prep: Prepared, owner: np.ndarray) -> None:
    """Raise :class:`SolverError` when ``owner`` breaks a hard rule (see the module docstring)."""
    problems: list[str] = []
    ids = prep.acc_ids
    bad = (owner < 0) | (owner >= prep.n_reps)
    if bad.any():
        problems.append(f"account {ids[np.flatnonzero(bad)[0]]} has no active owner")
    own = np.where(bad, 0, owner)
    checks = [
        ((prep.rep_pool[own] != prep.acc_pool) & (own != prep.acc_home), "goes to a rep outside its pool"),
        ((prep.rep_ka[own] != prep.acc_ka) & (own != prep.acc_home), "goes to a rep not eligible for its tier"),
        (prep.acc_locked & (own != prep.acc_home), "is locked but moved"),
        (~prep.acc_free & (own != prep.acc_home), "was no decision but moved"),
    ]
    for mask, text in checks:
        hit = np.flatnonzero(mask & ~bad)
        if hit.size:
            problems.append(f"account {ids[hit[0]]} {text} ({hit.size} account(s))")
    cfg = prep.config
    home = prep.acc_home
    if cfg.max_moved < 1.0:
        has = home >= 0
        keys = home[has] * 2 + prep.acc_ka[has]
        book = np.bincount(keys, weights=prep.acc_pot[has], minlength=2 * prep.n_reps)
        gone = has & (own != home)
        away = np.bincount(home[gone] * 2 + prep.acc_ka[gone], weights=prep.acc_pot[gone], minlength=2 * prep.n_reps)
        over = np.flatnonzero(away > cfg.max_moved * book + _TOL * np.maximum(book, 1.0))
        if over.size:
            r = over[0] // 2
            problems.append(f"rep {prep.rep_ids[r]} gives away {away[over[0]]:,.0f} of a {book[over[0]]:,.0f} book, "
                            f"above max_moved {cfg.max_moved:g} ({over.size} rep-tier(s))")
    if problems:
        raise SolverError("the assignment breaks its own rules: " + "; ".join(problems[:5]))
