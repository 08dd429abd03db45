"""One row per rep and year, known on January 1: the rep's anchor and what may move them from it.

A rep's capacity starts from their own recent bookings -- the **anchor** -- and the
learned part only models the *change* from there, so a model that knows nothing says
"same as last year", the forecast that is hardest to beat on real data. Conventions:

* Money is in **index units**: a year's bookings, annualised for a part-year rep
  (divided by the share of the year employed, at least :data:`MIN_SHARE`) and per FTE,
  divided by the company level of that year (:mod:`quotaopt.capacity._level`). A
  rep-year's *base* is ``exposure x level x anchor`` with ``exposure = max(share,
  1/12) x fte``; its target is bookings / base (1 = same as the anchor).
* **The anchor** is last year's rate when the rep worked at least :data:`ANCHOR_SHARE`
  of it and booked; else their latest such earlier year; else the median rate of
  established peers of the same team and role (then role, then everyone).
  ``source`` says which (0, 1, 2).
* Every feature is relative to the anchor or to the typical rep of its year, so rows of
  different years and companies of any size share one scale: past rates
  (``lr1..lr3``, ``lmean``, ``lmin``, ``lmax``), the rep's and the team's momentum, the
  second half of last year annualised (``h2``), size against peers, deals and deal
  size, book headroom (potential over the anchor's money) and the territory.
* Unknown is NaN, never zero: an unobserved year, no accounts file, a departed rep's
  book (accounts.csv is a snapshot of today's owners).
* How much of a team's deviation from the company is luck is not assumed: the team's
  last two steps and its distance from its own recent average are features, and the
  held-out record decides what they are worth.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd

from quotaopt.capacity._calendar import ns, year_bounds
from quotaopt.capacity._level import ChainIndex
from quotaopt.capacity._panel import RepPanel
from quotaopt.capacity._pool import Pools

#: Annualising less than a month of work only amplifies noise.
MIN_SHARE = 1.0 / 12.0
#: Share of a year a rep must have worked for it to anchor them.
ANCHOR_SHARE = 0.25
#: History years the features read.
LAGS = (1, 2, 3)

#: Feature columns by where they come from (pool and territory ones exist only with those files).
CORE_COLUMNS = ("source", "share", "share1", "tenure", "fte", "ka", "hist_years", "lr1", "lr2", "lr3", "lmean",
                "lmin", "lmax", "momentum", "last_zero", "h2", "team_step1", "team_step2", "team_dev", "peer",
                "size", "deals1", "avg_deal1", "accounts1")
POOL_COLUMNS = ("n_accounts", "headroom", "ka_share", "ka_pot_share", "booked_share1")
TERRITORY_COLUMNS = ("terr_headroom", "market_growth", "white_space")


@dataclass(frozen=True)
class YearRows:
    """The reps of one year as rows: features, anchor and (for a known year) the target.

    Attributes
    ----------
    year : int
    rows : ndarray of int
        Positions in the panel.
    X : DataFrame
        Features (columns of :data:`CORE_COLUMNS`, then pool and territory ones).
    exposure, anchor : ndarray
        ``max(share, 1/12) x fte``, and the anchor rate in index units (> 0).
    base_level : float
        Company level of the year before (index units -> money).
    y : ndarray or None
        Bookings of the year (0 when none); None for a year not observed.
    """

    year: int
    rows: np.ndarray
    X: pd.DataFrame
    exposure: np.ndarray
    anchor: np.ndarray
    base_level: float
    y: np.ndarray | None

    def base(self, log_growth: float) -> np.ndarray:
        """Money the anchor stands for in this year, at a level ``exp(log_growth)`` over the last."""
        return cast("np.ndarray", self.exposure * self.anchor * self.base_level * float(np.exp(log_growth)))

    def take(self, mask: np.ndarray) -> YearRows:
        """The rows where ``mask`` holds."""
        return YearRows(self.year, self.rows[mask], self.X.loc[mask].reset_index(drop=True), self.exposure[mask],
                        self.anchor[mask], self.base_level, None if self.y is None else self.y[mask])


def _log_ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((num > 0) & (den > 0), np.log(np.where(num > 0, num, 1.0) / np.where(den > 0, den, 1.0)),
                        np.nan)


def _typical(values: np.ndarray, full: np.ndarray) -> np.ndarray:
    """Log of ``values`` over their median among full-year reps (scale-free per year)."""
    pick = full & np.isfinite(values) & (values > 0)
    middle = float(np.median(values[pick])) if pick.any() else np.nan
    return _log_ratio(values, np.full(len(values), middle))


def _group_median(values: np.ndarray, keys: list[np.ndarray]) -> np.ndarray:
    """Median of finite ``values`` per group of ``keys`` (NaN where the group has none)."""
    frame = pd.DataFrame({f"k{i}": k for i, k in enumerate(keys)})
    frame["v"] = values
    return frame.groupby([f"k{i}" for i in range(len(keys))])["v"].transform("median").to_numpy()


def _rates(panel: RepPanel, index: ChainIndex, rows: np.ndarray, year: int) -> tuple[np.ndarray, np.ndarray]:
    """Index-unit rate of each row in an observed ``year`` (NaN when not employed), and the share worked."""
    j = panel.col(year)
    share = panel.share(year)[rows]
    if j is None:
        return np.full(len(rows), np.nan), share
    money = panel.total[rows, j] / np.maximum(share, MIN_SHARE) / panel.fte[rows]
    return np.where(share > 0, money / index.level(year), np.nan), share


def _anchor(rel: dict[int, np.ndarray], shares: dict[int, np.ndarray], peer: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    anchor = np.full(len(peer), np.nan)
    source = np.full(len(peer), 2.0)
    for lag in LAGS:
        ok = np.isnan(anchor) & (shares[lag] >= ANCHOR_SHARE) & (rel[lag] > 0)
        anchor[ok] = rel[lag][ok]
        source[ok] = 0.0 if lag == 1 else 1.0
    fallback = float(np.nanmedian(peer)) if np.isfinite(peer).any() else 1.0
    peers = np.where(np.isfinite(peer) & (peer > 0), peer, fallback if fallback > 0 else 1.0)
    return np.where(np.isnan(anchor), peers, anchor), source


def year_rows(panel: RepPanel, index: ChainIndex, pools: Pools, year: int, rows: np.ndarray | None = None) -> YearRows:
    """Features of ``year`` for ``rows`` (default: every rep employed in it), known on its January 1.

    Parameters
    ----------
    panel, index, pools
        The company's panel, chain index and books.
    year : int
        The year the rows describe; only bookings dated before it are read.
    rows : ndarray of int, optional
        Panel positions to describe.

    Returns
    -------
    YearRows
    """
    if rows is None:
        rows = np.flatnonzero(panel.employed(year) & (panel.share(year) > 0))
    start, _ = year_bounds(year)
    before = panel.years[panel.years < year]
    base_level = index.level(int(before[-1])) if len(before) else 1.0
    share = panel.share(year)[rows]
    fte = panel.fte[rows]
    rel, shares = {}, {}
    for lag in LAGS:
        rel[lag], shares[lag] = _rates(panel, index, rows, year - lag)
    full1 = shares[1] >= 1.0
    team, ka = panel.team[rows], panel.ka[rows]
    established = np.where(full1 & np.isfinite(rel[1]), rel[1], np.nan)
    peer = _group_median(established, [team, ka])
    peer = np.where(np.isfinite(peer), peer, _group_median(established, [ka]))
    anchor, source = _anchor(rel, shares, peer)

    X = pd.DataFrame({"source": source, "share": share, "share1": shares[1],
                      "tenure": (start.value - panel.hire[rows].astype("int64")) / (86_400e9 * 365.25),
                      "fte": fte, "ka": ka})
    X["hist_years"] = sum((np.isfinite(rel[lag])).astype("float64") for lag in LAGS)
    for lag in LAGS:
        X[f"lr{lag}"] = _log_ratio(rel[lag], anchor)
    stack = np.column_stack([np.where(rel[lag] > 0, rel[lag], np.nan) for lag in LAGS])
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows: no history, NaN is the answer
        X["lmean"] = _log_ratio(np.nanmean(stack, axis=1), anchor)
        X["lmin"] = _log_ratio(np.nanmin(stack, axis=1), anchor)
        X["lmax"] = _log_ratio(np.nanmax(stack, axis=1), anchor)
    X["momentum"] = _log_ratio(rel[1], rel[2])
    X["last_zero"] = ((shares[1] >= ANCHOR_SHARE) & (rel[1] <= 0)).astype("float64")
    j1 = panel.col(year - 1)
    if j1 is not None:
        whole_h2 = panel.hire[rows] < ns(pd.Timestamp(year=year - 1, month=7, day=1))
        h2_rate = np.where(whole_h2, 2.0 * panel.h2[rows, j1] / fte / index.level(year - 1), np.nan)
        X["h2"] = _log_ratio(h2_rate, anchor)
    else:
        X["h2"] = np.nan
    X["team_step1"], X["team_step2"], X["team_dev"] = _team(panel, index, team, year)
    X["peer"] = _log_ratio(peer, anchor)
    own = source < 2
    X["size"] = _log_ratio(anchor, np.full(len(rows), np.median(anchor[own]) if own.any() else np.nan))
    if j1 is not None:
        deals = panel.deals[rows, j1]
        X["deals1"] = _typical(np.where(shares[1] > 0, deals, np.nan), full1)
        with np.errstate(invalid="ignore", divide="ignore"):
            X["avg_deal1"] = _typical(np.where(deals > 0, panel.deal_sum[rows, j1] / np.where(deals > 0, deals, 1), np.nan),
                                      full1)
        X["accounts1"] = _typical(np.where(shares[1] > 0, panel.accounts[rows, j1], np.nan), full1)
    else:
        X["deals1"] = X["avg_deal1"] = X["accounts1"] = np.nan
    money_then = anchor * base_level * fte  # the anchor in last year's money
    if pools.owned is not None:
        owned = pools.owned.iloc[rows].reset_index(drop=True)
        X["n_accounts"] = owned["n_accounts"].to_numpy()
        X["headroom"] = _log_ratio(owned["pot"].to_numpy(), money_then)
        X["ka_share"] = owned["ka_share"].to_numpy()
        X["ka_pot_share"] = owned["ka_pot_share"].to_numpy()
        booked = pools.booked_pot[rows, j1] if (pools.booked_pot is not None and j1 is not None) else np.nan
        with np.errstate(invalid="ignore", divide="ignore"):
            X["booked_share1"] = np.where(owned["pot"].to_numpy() > 0, booked / owned["pot"].to_numpy(), np.nan)
    if pools.territory is not None:
        terr = pools.territory.iloc[rows].reset_index(drop=True)
        X["terr_headroom"] = _log_ratio(terr["terr_pot_per_rep"].to_numpy(), money_then)
        X["market_growth"] = terr["market_growth"].to_numpy()
        X["white_space"] = terr["white_space"].to_numpy()
    j = panel.col(year)
    y = panel.total[rows, j].copy() if j is not None else None
    return YearRows(year=year, rows=rows, X=X, exposure=np.maximum(share, MIN_SHARE) * fte, anchor=anchor,
                    base_level=base_level, y=y)


def _team(panel: RepPanel, index: ChainIndex, team: np.ndarray, year: int) -> tuple[np.ndarray, ...]:
    """Each row's team: its last two steps against the company, and its distance from its recent average."""
    steps = []
    for lag in (1, 2):
        j = panel.col(year - lag)
        steps.append(index.team_step[team, j] if j is not None else np.full(len(team), np.nan))
    cols = [c for c in (panel.col(year - lag) for lag in LAGS) if c is not None]
    if len(cols) >= 2:
        cum = np.nancumsum(np.nan_to_num(index.team_step[:, sorted(cols)]), axis=1)
        dev = cum[:, -1] - cum.mean(axis=1)
        return steps[0], steps[1], dev[team]
    return steps[0], steps[1], np.full(len(team), np.nan)


def training_rows(panel: RepPanel, index: ChainIndex, pools: Pools, year: int) -> YearRows:
    """The rows of an observed ``year`` usable as training examples.

    A departed rep's last booking year is left out: no departure date exists, so that
    year is probably partial.
    """
    part = year_rows(panel, index, pools, year)
    partial = panel.departed[part.rows] & (panel.last_year[part.rows] == year)
    return part.take(~partial)


def feature_columns(frame: pd.DataFrame) -> list[str]:
    """The feature columns present, in a fixed order."""
    return [c for c in CORE_COLUMNS + POOL_COLUMNS + TERRITORY_COLUMNS if c in frame.columns]
