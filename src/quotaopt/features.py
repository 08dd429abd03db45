"""Features per rep and year for the capacity model: pure functions over validated data.

One row describes a rep as known on January 1 of year ``t``: only bookings dated
before that day are used, so a row for ``t`` can be paired with the bookings of
``t`` as a training example without leaking the answer.

Conventions (why they are so):

* A year is *observed* when the bookings cover it from January to December; an
  unobserved year gives missing history, never zero, because zero means "booked
  nothing" while missing means "we do not know".
* ``departed`` reps have no departure date in the contract. The year of their last
  booking is probably partial, so :func:`training_set` never uses it as a target,
  and rows for later years are not built (the rep had left).
* A rep hired during year ``t`` is employed for part of it: ``share`` (fraction
  of the year employed) and ``tenure`` (negative when hired after January 1) let
  the model learn the ramp.
* Money is in *index units*: a past year's annualised bookings are divided by the
  company level of that year (:mod:`quotaopt.company_level`; ``rel*`` columns), so
  the company's growth and luck do not look like changes in the rep, and rows of
  different years share one scale (trees cannot extrapolate a money scale that
  drifts upwards year after year). A team's deviation from its own average is
  removed too. ``exposure = max(share, 1/12) x fte x base_level x level`` turns
  index units back into money: ``base_level`` is the index of ``t - 1`` and
  ``level`` the company level of ``t`` over ``t - 1`` -- realised for a year
  before ``as_of`` (a training year), forecast otherwise (``level_forecast``).
  Deal counts and sizes are taken relative to the typical rep of their year, for
  the same reason.
* A plan-year row gets no more history than the last training year had
  (:func:`history_depth`): in a short panel the depth of history stands for the
  calendar year, and a model would extrapolate it.
* ``accounts.csv`` and ``territories.csv`` are optional: without them their
  columns are simply absent (the model is then fitted on what exists).
* ``attainment`` (bookings of ``t - 1`` over ``last_quota``) is built only for the
  year after the last complete year, the one ``last_quota`` refers to. It is kept
  for reporting but is not a model input: ``reps.csv`` holds one quota per rep, so
  no training year could have it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.account_features import booked_pool, pool_features, territory_features
from quotaopt.company_level import (
    TEAM_SHRINK,
    chain,
    company_index,
    level_factor,
    realised_level,
    team_luck,
    trend_growth,
)
from quotaopt.data import CompanyData
from quotaopt.errors import InputError, Problem
from quotaopt.rep_years import (
    employed_reps,
    employed_share,
    full_year_reps,
    last_booking_year,
    observed_years,
    year_bounds,
    yearly_bookings,
)

__all__ = [
    "NON_MODEL_COLUMNS", "POOL_COLUMNS", "TEAM_SHRINK", "TERRITORY_COLUMNS", "company_index", "employed_share",
    "full_year_reps", "history_depth", "last_booking_year", "level_factor", "model_columns", "observed_years",
    "rep_year_features", "training_set", "trend_growth", "yearly_bookings",
]

#: Columns of :func:`rep_year_features` that are not model inputs.
NON_MODEL_COLUMNS = ("team_id", "year", "level", "level_forecast", "base_level", "attainment", "b1", "b2", "b3")

#: Columns that exist only with accounts.csv, and only with territories.csv too.
POOL_COLUMNS = ("n_ka", "n_lt", "pot_ka", "pot_lt", "n_accounts", "pot", "ka_share", "ka_pot_share",
                "booked_pot1", "penetration1")
TERRITORY_COLUMNS = ("terr_pot", "terr_pot_per_rep", "market_growth", "white_space")

_MIN_SHARE = 1.0 / 12.0  # annualising less than a month of work only amplifies noise
_LAGS = (1, 2, 3)


@dataclass(frozen=True)
class _Context:
    """Company-wide pieces shared by every year's features (computed once)."""

    yearly: pd.DataFrame
    index: pd.Series
    team_level: pd.DataFrame
    last_year: pd.Series

    @classmethod
    def of(cls, company: CompanyData) -> _Context:
        yearly = yearly_bookings(company)
        index, team_level = chain(company, yearly)
        return cls(yearly, index, team_level, last_booking_year(company))


def _booked(totals: pd.DataFrame, rows: pd.DataFrame, year: int) -> pd.Series:
    """Total bookings of ``year`` per rep of ``rows`` (0 when none)."""
    if year in totals.columns:
        return totals[year].reindex(rows.index).fillna(0.0)
    return pd.Series(0.0, index=rows.index)


def _typical(values: pd.Series, full_year: pd.Series) -> pd.Series:
    """``values`` over their median among reps employed all of last year (scale-free per year)."""
    middle = values.where(full_year & (values > 0)).median()
    return values / middle if np.isfinite(middle) and middle > 0 else values * np.nan


def _history(company: CompanyData, rows: pd.DataFrame, year: int, ctx: _Context, depth: int) -> pd.DataFrame:
    """Bookings of the last ``depth`` observed years before ``year``: lags, rates, growth, deals."""
    yearly, index = ctx.yearly, ctx.index
    seen = set(observed_years(company))
    out = pd.DataFrame(index=rows.index)
    history_years = [y for y in sorted(seen) if y < year][-depth:]
    totals = yearly["total"].unstack("year") if len(yearly) else pd.DataFrame(index=rows.index)
    luck = team_luck(rows, history_years, ctx.team_level)
    rels: dict[int, pd.Series] = {}
    employed = pd.Series(0.0, index=rows.index)
    for y in history_years:
        share = employed_share(rows["hire_date"], y)
        rate = (_booked(totals, rows, y) / share.clip(lower=_MIN_SHARE)).where(share > 0)
        rels[y] = rate / float(index[y]) / luck[y]
        employed += (share > 0).astype("float64")
    out["hist_years"] = employed
    for lag in _LAGS:
        y = year - lag
        share = employed_share(rows["hire_date"], y)
        if y in history_years:
            out[f"b{lag}"] = _booked(totals, rows, y).where(share > 0)
            out[f"share{lag}"] = share
        else:
            out[f"b{lag}"] = np.nan
            out[f"share{lag}"] = np.nan
        out[f"rel{lag}"] = rels.get(y, pd.Series(np.nan, index=rows.index))
    every = pd.DataFrame(rels) if rels else pd.DataFrame(index=rows.index)
    out["rel_mean"] = every.mean(axis=1) if rels else np.nan
    out["rel_min"] = every.min(axis=1) if rels else np.nan
    out["rel_max"] = every.max(axis=1) if rels else np.nan
    out["growth"] = (out["rel1"] / out["rel2"].where(out["rel2"] > 0) - 1.0).clip(-1.0, 5.0)
    last = year - 1
    known = last in history_years
    # An observed year can hold no bookings at all (a gap in the data): zero deals, not unknown.
    booked_last = known and len(yearly) > 0 and last in yearly.index.unique("year")
    for name in ("deals", "deal_sum", "h2", "accounts"):
        values = yearly[name].xs(last, level="year") if booked_last else pd.Series(dtype="float64")
        filled = values.reindex(rows.index).fillna(0.0) if known else pd.Series(np.nan, index=rows.index)
        out[f"{name}1"] = filled.where(out["b1"].notna())
    # Counts and deal sizes grow with the company too, and which of the two carries
    # the growth differs between companies: each is taken relative to the typical
    # full-year rep of the same year, which is scale-free whichever it is.
    full_year = out["share1"] >= 1.0
    out["avg_deal1"] = _typical(out["deal_sum1"] / out["deals1"].where(out["deals1"] > 0), full_year)
    out["deals1"] = _typical(out["deals1"], full_year)
    out["accounts1"] = _typical(out["accounts1"], full_year)
    # The second half of last year annualised (momentum into the new year), in index
    # units like the rates but without the team-luck correction (measured slightly worse).
    unit = float(index[last]) if known else np.nan
    out["h2_rate1"] = (2.0 * out["h21"]).where(rows["hire_date"] < pd.Timestamp(year=last, month=7, day=1)) / unit
    out = out.drop(columns=["deal_sum1", "h21"])
    return out


def _peers(rows: pd.DataFrame, hist: pd.DataFrame) -> pd.Series:
    """Median last-year rate of established reps of the same team and role (else role)."""
    frame = pd.DataFrame({"team": rows["team_id"], "role": rows["role"], "rate": hist["rel1"]})
    frame["rate"] = frame["rate"].where(hist["share1"] >= 1.0)
    by_team = frame.groupby(["team", "role"])["rate"].transform("median")
    by_role = frame.groupby("role")["rate"].transform("median")
    return by_team.fillna(by_role)


def _levels(company: CompanyData, index: pd.Series, year: int, as_of: int | None) -> tuple[float, float, float]:
    """``base_level``, ``level`` and ``level_forecast`` of the rows of ``year`` (see the module docstring)."""
    known = index[index.index < year]
    base = float(known.iloc[-1]) if len(known) else 1.0
    forecast = level_factor(company, index, year, year if as_of is None else as_of)
    realised = realised_level(index, year) if as_of is not None and year < as_of else None
    return base, (forecast if realised is None else realised), forecast


def history_depth(company: CompanyData, as_of: int) -> int:
    """History years a model for ``as_of`` learns from: what its last training year had.

    A plan-year row must not have more history than any training row: in a short
    panel the depth of history is the calendar year in disguise, and a model (the
    linear part above all) would extrapolate it.
    """
    return max(1, len([y for y in observed_years(company) if y < as_of]) - 1)


def rep_year_features(company: CompanyData, year: int, *, as_of: int | None = None, depth: int | None = None,
                      context: _Context | None = None) -> pd.DataFrame:
    """Features known on January 1 of ``year`` for every rep employed during ``year``.

    Parameters
    ----------
    company : CompanyData
        Validated company data.
    year : int
        The year the features describe; only bookings dated before it are used.
    as_of : int, optional
        The first year whose bookings are unknown (default ``year``). A ``year``
        before it is a training year: its realised company level is used (``level``)
        and ``level_forecast`` is what was forecast for it on its January 1. For
        ``year >= as_of`` both are the forecast made with the years before ``as_of``.
    depth : int, optional
        Most history years used (default :func:`history_depth` as of ``as_of``).

    Returns
    -------
    DataFrame
        Index ``rep_id``. Always: ``team_id``, ``year``, ``role_ka``, ``fte``,
        ``tenure`` (years at January 1, negative for hires during the year), ``share``
        (fraction of the year employed), ``base_level`` (company index of ``year - 1``),
        ``level`` and ``level_forecast`` (company level of ``year`` over ``year - 1``,
        see :func:`~quotaopt.company_level.level_factor`), ``exposure`` (``max(share,
        1/12) x fte x base_level x level``); history: ``b1..b3`` (bookings, money),
        ``share1..share3``, ``rel1..rel3`` (annualised, index units), ``rel_mean/min/max``,
        ``hist_years``, ``growth``, ``deals1``, ``avg_deal1``, ``accounts1``,
        ``h2_rate1``, ``peer_rel1``, ``attainment``; pool columns when accounts.csv
        exists; territory columns when territories.csv exists too. Missing history is
        NaN, not zero.
    """
    ctx = _Context.of(company) if context is None else context
    rows = employed_reps(company, year, ctx.last_year)
    start, _ = year_bounds(year)
    out = pd.DataFrame(index=rows.index)
    out["team_id"] = rows["team_id"].astype("str")
    out["year"] = year
    out["role_ka"] = (rows["role"] == "ka").astype("float64")
    out["fte"] = rows["fte"].astype("float64")
    out["tenure"] = (start - rows["hire_date"]).dt.days.astype("float64") / 365.25
    out["share"] = employed_share(rows["hire_date"], year)
    out["base_level"], out["level"], out["level_forecast"] = _levels(company, ctx.index, year, as_of)
    out["exposure"] = out["share"].clip(lower=_MIN_SHARE) * out["fte"] * out["base_level"] * out["level"]
    cutoff = year if as_of is None else as_of
    hist = _history(company, rows, year, ctx, history_depth(company, cutoff) if depth is None else depth)
    out = out.join(hist)
    out["peer_rel1"] = _peers(rows, hist)
    quota_year = company.last_complete_year()
    quota = rows["last_quota"].where(rows["last_quota"] > 0)
    out["attainment"] = (out["b1"] / quota) if year - 1 == quota_year else np.nan
    for part in (pool_features(company, rows), booked_pool(company, rows, year), territory_features(company, rows)):
        if part is not None:
            out = out.join(part)
    if "booked_pot1" in out.columns:
        out["booked_pot1"] = out["booked_pot1"].where(out["b1"].notna())
    if "pot" in out.columns:
        out["penetration1"] = out["rel1"] / out["pot"].where(out["pot"] > 0)
    out.index.name = "rep_id"
    return out


def model_columns(frame: pd.DataFrame) -> list[str]:
    """The numeric feature columns the capacity model reads, in frame order."""
    return [c for c in frame.columns if c not in NON_MODEL_COLUMNS]


def training_set(company: CompanyData, years: Iterable[int], as_of: int | None = None,
                 depth: int | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Rep-years as supervised pairs: features on January 1 of ``t`` -> bookings in ``t``.

    Parameters
    ----------
    company : CompanyData
        Validated company data.
    years : iterable of int
        Target years. Each must be observed (bookings January to December) and have
        at least one observed year before it, so history features mean something.
    as_of : int, optional
        Passed to :func:`rep_year_features`; default one past the last target year,
        so every row has its realised company level. A backtest scoring year Y asks
        for ``[Y]`` with ``as_of=Y``: the level of Y is then forecast, as it would be
        for a plan year.
    depth : int, optional
        Passed to :func:`rep_year_features` (most history years used).

    Returns
    -------
    X : DataFrame
        :func:`rep_year_features` rows stacked over ``years`` (index ``rep_id``, not
        unique; column ``year`` tells them apart).
    y : Series
        Bookings of the rep in that year (0 when nothing was booked; may be negative).
        The year of a departed rep's last booking is left out (probably partial).

    Raises
    ------
    InputError
        A year outside the observed history.
    """
    seen = observed_years(company)
    years = sorted(set(int(y) for y in years))
    bad = [y for y in years if y not in seen or y - 1 not in seen]
    if bad:
        span = f"{seen[0]}-{seen[-1]}" if seen else "none"
        raise InputError([Problem("bookings.csv", f"cannot train on year(s) {bad}: a target year needs full "
                                  f"bookings for it and the year before (observed years: {span})")])
    ctx = _Context.of(company)
    yearly, last_year = ctx.yearly, ctx.last_year
    departed = set(company.reps.loc[company.reps["status"] == "departed", "rep_id"])
    frames, targets = [], []
    for year in years:
        feats = rep_year_features(company, year, as_of=max(years) + 1 if as_of is None else as_of, depth=depth,
                                  context=ctx)
        partial = feats.index.isin(list(departed)) & (last_year.reindex(feats.index).to_numpy() == year)
        feats = feats.loc[~partial]
        totals = yearly["total"].xs(year, level="year") if year in yearly.index.get_level_values("year") else None
        target = totals.reindex(feats.index).fillna(0.0) if totals is not None else pd.Series(0.0, index=feats.index)
        frames.append(feats)
        targets.append(target)
    if not frames:
        return pd.DataFrame(), pd.Series(dtype="float64")
    X = pd.concat(frames)
    y = pd.concat(targets).rename("bookings")
    y.index = X.index
    return X, y
