"""The ground truth of selling, and the deals it produces.

A rep's yearly run rate is ``base(role) x skill x seat factor (book, white space)
x market growth x fte``. Spread over the year by the role's month weights, cut by
the tenure ramp and the days employed, it gives the *capacity*: expected bookings
before luck. The year's company shock and the team's shock multiply it; deal counts
are then Poisson and deal sizes lognormal, and ~2.5% of deals are later partly or
fully refunded by a credit note. Deal sizes grow a little with skill and book
(elasticity 0.35), deal counts carry the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np

from quotaopt.datasets._calendar import BUSDAYS, Year
from quotaopt.datasets.books import Books
from quotaopt.datasets.org import Org, Staff

#: Run rate of an average, fully ramped, full-time rep with a median book.
BASE_RATE = {"ka": 2_500_000.0, "longtail": 750_000.0}
#: Mean deal size of an average rep, and the lognormal sigma of deal sizes.
DEAL_MEAN = {"ka": 60_000.0, "longtail": 12_000.0}
DEAL_SIGMA = {"ka": 0.9, "longtail": 0.8}
DEAL_SIZE_ELASTICITY = 0.35
COMPANY_SHOCK_SD, TEAM_SHOCK_SD = 0.07, 0.08
CREDIT_RATE, FULL_REFUND, PARTIAL_REFUND = 0.025, 0.3, (0.1, 0.9)
CREDIT_DELAY_BDAYS = (5, 60)
#: Deals land on accounts in proportion to potential ** this (small accounts still buy).
ACCOUNT_WEIGHT_POWER = 0.7
#: Gross deals are scaled up by 1 / NET so that expected *net* bookings equal capacity.
NET = 1.0 - CREDIT_RATE * (FULL_REFUND + (1.0 - FULL_REFUND) * sum(PARTIAL_REFUND) / 2.0)


@dataclass(frozen=True)
class Sales:
    """Truth and deals for every simulated year (index 0 = warm-up, last = plan year).

    Attributes
    ----------
    capacity, shocked : ndarray of shape (n_reps, n_years)
        Expected net bookings before and after the year's company and team shocks.
    employed : ndarray of bool, shape (n_reps, n_years)
        Rep worked at least one business day that year.
    booked : ndarray of shape (n_reps, n_years)
        Realised net bookings.
    company_shock : ndarray of shape (n_years,)
    team_shock : ndarray of shape (n_teams, n_years)
    deals : dict of ndarray
        ``year`` (index), ``date`` (datetime64[D]), ``rep``, ``account``, ``amount``
        (cents), ``seq`` (creation order, a stable tie-breaker, and each row's position),
        ``origin`` (the ``seq`` of the deal a credit note refunds; a deal's own).
    """

    capacity: np.ndarray
    shocked: np.ndarray
    employed: np.ndarray
    booked: np.ndarray
    company_shock: np.ndarray
    team_shock: np.ndarray
    deals: dict[str, np.ndarray]


def _pick_accounts(books: Books, seats: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One account per deal from the seat's book, weighted by potential ** ACCOUNT_WEIGHT_POWER."""
    cum = np.cumsum(books.acc_potential**ACCOUNT_WEIGHT_POWER)
    edges = np.concatenate([[0.0], cum])
    lo, hi = books.acc_start[seats], books.acc_start[seats + 1]
    target = edges[lo] + rng.random(len(seats)) * (edges[hi] - edges[lo])
    return cast("np.ndarray", np.clip(np.searchsorted(cum, target, side="right"), lo, hi - 1))


def _credit_notes(
    deals: dict[str, np.ndarray], cap: np.ndarray, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    """Refunds of ~CREDIT_RATE of the deals, 5-60 business days later, same rep and account.

    ``cap`` is each deal's last possible date (year end or the rep's last day).
    """
    hit = np.flatnonzero(rng.random(len(deals["amount"])) < CREDIT_RATE)
    share = np.where(rng.random(len(hit)) < FULL_REFUND, 1.0, rng.uniform(*PARTIAL_REFUND, len(hit)))
    delay = rng.integers(CREDIT_DELAY_BDAYS[0], CREDIT_DELAY_BDAYS[1] + 1, len(hit))
    date = np.minimum(np.busday_offset(deals["date"][hit], delay, roll="forward", busdaycal=BUSDAYS), cap[hit])
    out = {k: v[hit] for k, v in deals.items()}
    out["origin"] = hit  # the refunded deal, by position (made global once the deals have their seq)
    out["date"] = date
    out["amount"] = -np.maximum(np.round(deals["amount"][hit] * share, 2), 0.01)
    return out


def simulate(
    org: Org,
    staff: Staff,
    books: Books,
    years: list[Year],
    weights: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> Sales:
    """Capacities, shocks and deals of every rep in every year of ``years``.

    Parameters
    ----------
    years : list of Year
        Warm-up year, history years, plan year; market growth counts from ``years[1]``.
    weights : dict
        Month weights by role (``"ka"``, ``"longtail"``).
    """
    n_reps, n_years = len(staff.seat), len(years)
    ka = org.seat_ka[staff.seat]
    team = org.seat_team[staff.seat]
    base = np.where(ka, BASE_RATE["ka"], BASE_RATE["longtail"])
    deal_base = np.where(ka, DEAL_MEAN["ka"], DEAL_MEAN["longtail"])
    sigma = np.where(ka, DEAL_SIGMA["ka"], DEAL_SIGMA["longtail"])
    season = np.where(ka[:, None], weights["ka"][None, :], weights["longtail"][None, :])
    seat_factor = books.seat_factor[staff.seat]
    # Rounded as published in truth/, so the truth files reproduce capacity_with_shocks.
    company = np.round(np.exp(rng.normal(0.0, COMPANY_SHOCK_SD, n_years)), 6)
    team_shock = np.round(np.exp(rng.normal(0.0, TEAM_SHOCK_SD, (len(org.team_ids), n_years))), 6)

    capacity = np.zeros((n_reps, n_years))
    shocked = np.zeros((n_reps, n_years))
    employed = np.zeros((n_reps, n_years), dtype=bool)
    parts: list[dict[str, np.ndarray]] = []
    seq0 = 0
    for t, year in enumerate(years):
        idx = np.flatnonzero((staff.hire < year.end_excl) & (staff.end_excl > year.first))
        lo, nbd = year.windows(staff.hire[idx], staff.end_excl[idx])
        skill = np.exp(staff.log_skill[idx, t])
        growth = books.growth(t - 1)[staff.seat[idx]]
        rate = base[idx] * skill * seat_factor[idx] * growth * staff.fte[idx]
        monthly = rate[:, None] * season[idx] * year.ramp(staff.hire[idx]) * (nbd / year.bdays)
        capacity[idx, t] = monthly.sum(axis=1)
        shock = company[t] * team_shock[team[idx], t]
        shocked[idx, t] = capacity[idx, t] * shock
        employed[idx, t] = nbd.sum(axis=1) > 0

        deal_mean = deal_base[idx] * (skill * seat_factor[idx]) ** DEAL_SIZE_ELASTICITY
        lam = monthly * (shock / (deal_mean * NET))[:, None]
        counts = rng.poisson(lam).ravel()
        cell = np.repeat(np.arange(counts.size), counts)
        i = cell // 12
        offset = np.floor(rng.random(cell.size) * nbd.ravel()[cell]).astype(np.int64)
        s = sigma[idx][i]
        z = rng.standard_normal(cell.size)
        rep = idx[i]
        deals = {
            "date": np.busday_offset(lo.ravel()[cell], offset, roll="forward", busdaycal=BUSDAYS),
            "rep": rep,
            "account": _pick_accounts(books, staff.seat[rep], rng),
            "amount": np.maximum(np.round(deal_mean[i] * np.exp(s * z - s * s / 2.0), 2), 0.01),
        }
        last_day = np.minimum(staff.end_excl[rep], year.end_excl) - 1
        credits = _credit_notes(deals, np.busday_offset(last_day, 0, roll="backward", busdaycal=BUSDAYS), rng)
        for part in (deals, credits):
            n = len(part["amount"])
            part["year"] = np.full(n, t)
            part["seq"] = np.arange(seq0, seq0 + n)
            seq0 += n
            parts.append(part)
        deals["origin"] = deals["seq"]  # a deal is its own origin; a credit note names the deal it refunds
        credits["origin"] = deals["seq"][credits["origin"]]

    deals_all = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    flat = deals_all["rep"] * n_years + deals_all["year"]
    booked = np.bincount(flat, weights=deals_all["amount"], minlength=n_reps * n_years)
    booked = booked.reshape(n_reps, n_years)
    return Sales(capacity, shocked, employed, booked, company, team_shock, deals_all)
