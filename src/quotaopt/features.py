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
* Company-wide and team-wide luck is taken out of the history: a chain-linked
  company index (same reps, consecutive years) restates each past year at the
  level of ``t - 1`` (``rel*`` columns), and a team's deviation from its own
  average is removed too. The level expected for ``t`` (``level``) is the mean of
  the last three levels carried forward by the trend (territories' market growth,
  else the fitted growth of the index), so one lucky or unlucky year is not
  assumed to repeat. ``exposure = max(share, 1/12) x fte x level`` is what the
  capacity model divides the target by.
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

from quotaopt.data import CompanyData
from quotaopt.errors import InputError, Problem

#: Columns of :func:`rep_year_features` that are not model inputs.
NON_MODEL_COLUMNS = ("team_id", "year", "level", "attainment", "b1", "b2", "b3")

#: Columns that exist only with accounts.csv, and only with territories.csv too.
POOL_COLUMNS = ("n_ka", "n_lt", "pot_ka", "pot_lt", "n_accounts", "pot", "ka_share", "ka_pot_share",
                "booked_pot1", "penetration1")
TERRITORY_COLUMNS = ("terr_pot", "terr_pot_per_rep", "market_growth", "white_space")

_MIN_SHARE = 1.0 / 12.0  # annualising less than a month of work only amplifies noise
_LAGS = (1, 2, 3)
_LEVEL_WINDOW = 3  # years averaged into the level forecast


def _year_bounds(year: int) -> tuple[pd.Timestamp, pd.Timestamp]:
    return pd.Timestamp(year=year, month=1, day=1), pd.Timestamp(year=year + 1, month=1, day=1)


def employed_share(hire_date: pd.Series, year: int) -> pd.Series:
    """Fraction of calendar ``year`` after ``hire_date`` (0 if hired later, 1 if before)."""
    start, end = _year_bounds(year)
    begin = hire_date.where(hire_date > start, start)
    days = (end - begin).dt.days.astype("float64")
    return (days / (end - start).days).clip(0.0, 1.0)


def observed_years(company: CompanyData) -> list[int]:
    """Calendar years whose bookings run from January to December, ascending."""
    first = company.bookings["date"].min()
    if pd.isna(first):
        return []
    start = first.year if first.month == 1 else first.year + 1
    return list(range(int(start), company.last_complete_year() + 1))


def last_booking_year(company: CompanyData) -> pd.Series:
    """Year of each rep's last booking (reps without bookings are absent)."""
    b = company.bookings
    return b.groupby("rep_id")["date"].max().dt.year.astype("int64")


def yearly_bookings(company: CompanyData) -> pd.DataFrame:
    """Per rep and calendar year: total, positive deals, their sum, H2 total, accounts booked.

    Returns
    -------
    DataFrame
        Index ``(rep_id, year)``; columns ``total``, ``deals``, ``deal_sum``, ``h2``,
        ``accounts``.
    """
    b = company.bookings
    year = b["date"].dt.year.astype("int64")
    positive = b["amount"] > 0
    frame = pd.DataFrame({
        "rep_id": b["rep_id"].to_numpy(), "year": year.to_numpy(),
        "total": b["amount"].to_numpy(),
        "deals": positive.to_numpy().astype("float64"),
        "deal_sum": b["amount"].where(positive, 0.0).to_numpy(),
        "h2": b["amount"].where(b["date"].dt.month >= 7, 0.0).to_numpy(),
    })
    out = frame.groupby(["rep_id", "year"], sort=True).sum()
    if "account_id" in b.columns and b["account_id"].notna().any():
        accounts = b.loc[b["account_id"].notna(), ["rep_id", "account_id"]].assign(year=year)
        out["accounts"] = accounts.groupby(["rep_id", "year"])["account_id"].nunique().reindex(out.index)
        out["accounts"] = out["accounts"].fillna(0.0).astype("float64")
    else:
        out["accounts"] = np.nan
    return out


def _rows(company: CompanyData, year: int, last_year: pd.Series) -> pd.DataFrame:
    """Reps employed at some point in ``year`` who had not left before it."""
    reps = company.reps.set_index("rep_id")
    _, end = _year_bounds(year)
    hired = reps["hire_date"] < end
    departed = reps["status"] == "departed"
    # A departed rep is present up to the year of their last booking; one without
    # bookings cannot be placed in time at all.
    gone = departed & ~(last_year.reindex(reps.index) >= year).fillna(False).astype(bool)
    return reps.loc[hired & ~gone]


def full_year_reps(company: CompanyData, year: int, last_year: pd.Series) -> pd.Index:
    """Reps employed from January 1 to December 31 of ``year`` (as far as the data tell)."""
    reps = company.reps.set_index("rep_id")
    start, _ = _year_bounds(year)
    departed = reps["status"] == "departed"
    stayed = ~departed | (last_year.reindex(reps.index) > year).fillna(False).astype(bool)
    return reps.index[(reps["hire_date"] <= start) & stayed]


def _chain(company: CompanyData, yearly: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Chain-linked company level, and each team's log level relative to it.

    Each link is the growth of the same reps' bookings between consecutive years
    (reps employed all of both years), so hires, departures and the role mix do not
    move it; market growth and company-wide (or team-wide) luck do.
    """
    years = observed_years(company)
    last_year = last_booking_year(company)
    team_of = company.reps.set_index("rep_id")["team_id"]
    totals = yearly["total"].unstack("year") if len(yearly) else pd.DataFrame()
    level, out = 1.0, {}
    teams = pd.Index(sorted(team_of.unique()))
    rel = pd.Series(0.0, index=teams)
    team_out = {}
    for i, y in enumerate(years):
        if i > 0 and y - 1 == years[i - 1] and y in totals.columns and y - 1 in totals.columns:
            both = full_year_reps(company, y, last_year).intersection(full_year_reps(company, y - 1, last_year))
            pair = totals.loc[totals.index.isin(both), [y, y - 1]].fillna(0.0)
            now, before = pair.sum()
            link = float(now / before) if now > 0 and before > 0 else 1.0
            level *= link
            by_team = pair.groupby(team_of.reindex(pair.index).to_numpy()).sum()
            ok = (by_team[y] > 0) & (by_team[y - 1] > 0)
            step = np.log((by_team[y] / by_team[y - 1]).where(ok)) - np.log(link)
            rel = rel + step.reindex(teams).fillna(0.0)
        out[y] = level
        team_out[y] = rel
    return pd.Series(out, dtype="float64", name="index"), pd.DataFrame(team_out, index=teams)


def company_index(company: CompanyData, yearly: pd.DataFrame | None = None) -> pd.Series:
    """Chain-linked level of the company's bookings per observed year (first year = 1).

    Each link is the growth of the same reps' bookings between consecutive years
    (reps employed all of both years), so hires, departures and the role mix do not
    move it; market growth and company-wide luck do.
    """
    return _chain(company, yearly_bookings(company) if yearly is None else yearly)[0]


def trend_growth(company: CompanyData, index: pd.Series, as_of: int) -> float:
    """Expected yearly log growth of the company level, known before ``as_of``.

    The planners' market growth from territories.csv (potential-weighted) when
    present; else the least-squares slope of the log index over the observed years
    before ``as_of`` (0 with fewer than two). A model is trained and applied with the
    trend as of its plan year, so every training row sees the same trend.
    """
    terr = company.territories
    if terr is not None and terr["potential"].sum() > 0:
        g = float((terr["potential"] * terr["market_growth"]).sum() / terr["potential"].sum())
        return float(np.log1p(g))
    known = index[index.index < as_of]
    if len(known) < 2:
        return 0.0
    slope = np.polyfit(known.index.to_numpy(dtype="float64"), np.log(known.to_numpy()), 1)[0]
    return float(np.clip(slope, -0.2, 0.3))


def level_factor(company: CompanyData, index: pd.Series, year: int, as_of: int | None = None) -> float:
    """Expected company level of ``year`` over the level of ``year - 1``.

    The level of ``year`` is forecast as the mean of the last (up to) three observed
    levels, each carried forward by the trend (:func:`trend_growth` as of ``as_of``,
    default ``year``): a year of unusual luck is not assumed to repeat.
    """
    g = trend_growth(company, index, year if as_of is None else as_of)
    before = index[(index.index < year) & (index.index >= year - _LEVEL_WINDOW)]
    if before.empty or year - 1 not in index.index:
        return float(np.exp(g))
    forecast = np.mean(np.log(before.to_numpy()) + g * (year - before.index.to_numpy()))
    return float(np.exp(forecast - np.log(index[year - 1])))


#: Share of a team's yearly deviation treated as luck (measured: 1.0 beat 0.5 and 0).
TEAM_SHRINK = 1.0


def _team_luck(rows: pd.DataFrame, years: list[int], team_level: pd.DataFrame) -> pd.DataFrame:
    """Per rep and history year: the team's luck that year (a multiplier).

    A team's level relative to the company, minus its own average over the history
    years, is taken as that year's team-wide luck: a lasting team strength stays in
    the features, a good or bad year of the whole team does not.
    """
    if not years:
        return pd.DataFrame(index=rows.index)
    levels = team_level[years]
    dev = levels.sub(levels.mean(axis=1), axis=0)
    luck = pd.DataFrame(np.exp(TEAM_SHRINK * dev.to_numpy()), index=dev.index, columns=dev.columns)
    luck = luck.reindex(rows["team_id"].to_numpy()).fillna(1.0)
    luck.index = rows.index
    return luck


def _history(company: CompanyData, rows: pd.DataFrame, year: int, ctx: _Context) -> pd.DataFrame:
    """Bookings before ``year``: lags, annualised rates in last year's money, growth, deals.

    ``rel*`` columns restate a year's rate at the company level of ``year - 1``
    (rate x index[year - 1] / index[that year]) so that company-wide luck of one
    year does not look like a change in the rep.
    """
    yearly, index = ctx.yearly, ctx.index
    seen = set(observed_years(company))
    out = pd.DataFrame(index=rows.index)
    history_years = [y for y in sorted(seen) if y < year]
    totals = yearly["total"].unstack("year") if len(yearly) else pd.DataFrame(index=rows.index)
    base = float(index[year - 1]) if year - 1 in index.index else np.nan
    team_luck = _team_luck(rows, history_years, ctx.team_level)
    rels: dict[int, pd.Series] = {}
    employed = pd.Series(0.0, index=rows.index)
    for y in history_years:
        share = employed_share(rows["hire_date"], y)
        booked = totals[y].reindex(rows.index).fillna(0.0) if y in totals.columns else pd.Series(0.0, index=rows.index)
        rels[y] = (booked / share.clip(lower=_MIN_SHARE)).where(share > 0) * base / float(index[y]) / team_luck[y]
        employed += (share > 0).astype("float64")
    out["hist_years"] = employed
    for lag in _LAGS:
        y = year - lag
        share = employed_share(rows["hire_date"], y)
        if y in seen:
            booked = totals[y].reindex(rows.index).fillna(0.0) if y in totals.columns else pd.Series(0.0, index=rows.index)
            out[f"b{lag}"] = booked.where(share > 0)
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
    for name in ("deals", "deal_sum", "h2", "accounts"):
        values = yearly[name].xs(last, level="year") if last in seen and len(yearly) else pd.Series(dtype="float64")
        filled = values.reindex(rows.index).fillna(0.0) if last in seen else pd.Series(np.nan, index=rows.index)
        out[f"{name}1"] = filled.where(out["b1"].notna())
    out["avg_deal1"] = out["deal_sum1"] / out["deals1"].where(out["deals1"] > 0)
    # The second half of last year annualised, as booked (restating it like the rel
    # columns measured slightly worse): momentum into the new year.
    out["h2_rate1"] = (2.0 * out["h21"]).where(rows["hire_date"] < pd.Timestamp(year=last, month=7, day=1))
    out = out.drop(columns=["deal_sum1", "h21"])
    return out


def _peers(rows: pd.DataFrame, hist: pd.DataFrame) -> pd.Series:
    """Median last-year rate of established reps of the same team and role (else role)."""
    frame = pd.DataFrame({"team": rows["team_id"], "role": rows["role"], "rate": hist["rel1"]})
    frame["rate"] = frame["rate"].where(hist["share1"] >= 1.0)
    by_team = frame.groupby(["team", "role"])["rate"].transform("median")
    by_role = frame.groupby("role")["rate"].transform("median")
    return by_team.fillna(by_role)


def _pool(company: CompanyData, rows: pd.DataFrame) -> pd.DataFrame | None:
    """Accounts owned by each rep (a snapshot: accounts.csv has no dates)."""
    acc = company.accounts
    if acc is None:
        return None
    acc = acc.assign(potential=acc["potential"].fillna(0.0))
    ka = acc["tier"] == "ka"
    grouped = pd.DataFrame({
        "rep_id": acc["rep_id"], "n_ka": ka.astype("float64"), "n_lt": (~ka).astype("float64"),
        "pot_ka": acc["potential"].where(ka, 0.0), "pot_lt": acc["potential"].where(~ka, 0.0),
    }).groupby("rep_id").sum()
    out = grouped.reindex(rows.index).fillna(0.0)
    out["n_accounts"] = out["n_ka"] + out["n_lt"]
    out["pot"] = out["pot_ka"] + out["pot_lt"]
    out["ka_share"] = (out["n_ka"] / out["n_accounts"].where(out["n_accounts"] > 0)).fillna(0.0)
    out["ka_pot_share"] = (out["pot_ka"] / out["pot"].where(out["pot"] > 0)).fillna(0.0)
    # accounts.csv shows today's owners: a departed rep's book has moved on, so their
    # pool is unknown (NaN), not empty.
    gone = rows["status"] == "departed"
    out.loc[gone.to_numpy(), :] = np.nan
    return out


def _booked_pool(company: CompanyData, rows: pd.DataFrame, year: int) -> pd.Series | None:
    """Potential of the distinct accounts a rep booked on in ``year - 1``.

    Unlike the ownership snapshot this is dated, so it also describes departed reps.
    """
    acc, b = company.accounts, company.bookings
    if acc is None:
        return None
    if year - 1 not in observed_years(company):
        return pd.Series(np.nan, index=rows.index, name="booked_pot1")
    last = b.loc[(b["date"].dt.year == year - 1) & b["account_id"].notna(), ["rep_id", "account_id"]]
    pairs = last.drop_duplicates()
    potential = pairs["account_id"].map(acc.set_index("account_id")["potential"].fillna(0.0)).astype("float64")
    booked = potential.groupby(pairs["rep_id"].to_numpy()).sum()
    return booked.reindex(rows.index).fillna(0.0).rename("booked_pot1")


def _territory(company: CompanyData, rows: pd.DataFrame) -> pd.DataFrame | None:
    """Market potential per rep of the rep's main territory, and its growth.

    A rep's main territory is the one holding most of their account potential; its
    potential is shared among the reps whose main territory it is.
    """
    terr, acc = company.territories, company.accounts
    if terr is None or acc is None or acc["territory_id"].isna().all():
        return None
    acc = acc.loc[acc["territory_id"].notna()].assign(potential=lambda a: a["potential"].fillna(0.0) + 1e-9)
    weight = acc.groupby(["rep_id", "territory_id"])["potential"].sum().reset_index()
    weight = weight.sort_values(["rep_id", "potential", "territory_id"], ascending=[True, False, True])
    main = weight.drop_duplicates("rep_id").set_index("rep_id")["territory_id"]
    info = terr.set_index("territory_id")
    # Crowding counts every rep of the company, not only this year's rows.
    crowd = main.value_counts()
    out = pd.DataFrame(index=rows.index)
    main_here = main.reindex(rows.index)
    out["terr_pot"] = main_here.map(info["potential"]).astype("float64")
    out["terr_pot_per_rep"] = out["terr_pot"] / main_here.map(crowd).astype("float64")
    weight = weight.assign(growth=weight["territory_id"].map(info["market_growth"]).astype("float64"))
    weight["wg"] = weight["growth"] * weight["potential"]
    sums = weight.groupby("rep_id")[["wg", "potential"]].sum()
    out["market_growth"] = (sums["wg"] / sums["potential"]).reindex(rows.index)
    # White space: how much bigger the market is than the accounts mapped to it.
    mapped = acc.groupby("territory_id")["potential"].sum()
    ratio = info["potential"].reindex(mapped.index).clip(lower=1.0) / mapped.clip(lower=1.0)
    space = pd.Series(np.log(ratio.to_numpy(dtype="float64")), index=mapped.index)
    weight["ws"] = weight["territory_id"].map(space).astype("float64") * weight["potential"]
    out["white_space"] = (weight.groupby("rep_id")["ws"].sum() / sums["potential"]).reindex(rows.index)
    gone = (rows["status"] == "departed").to_numpy()
    out.loc[gone, :] = np.nan
    return out


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
        index, team_level = _chain(company, yearly)
        return cls(yearly, index, team_level, last_booking_year(company))


def rep_year_features(company: CompanyData, year: int, *, as_of: int | None = None,
                      context: _Context | None = None) -> pd.DataFrame:
    """Features known on January 1 of ``year`` for every rep employed during ``year``.

    Parameters
    ----------
    company : CompanyData
        Validated company data.
    year : int
        The year the features describe; only bookings dated before it are used.
    as_of : int, optional
        Year whose start bounds what the trend may know (default ``year``): training
        rows of a model for plan year P all use ``as_of=P``.

    Returns
    -------
    DataFrame
        Index ``rep_id``. Always: ``team_id``, ``year``, ``role_ka``, ``fte``,
        ``tenure`` (years at January 1, negative for hires during the year), ``share``
        (fraction of the year employed), ``level`` (expected company level of ``year``
        over ``year - 1``, see :func:`level_factor`), ``exposure`` (``max(share, 1/12)
        x fte x level``); history: ``b1..b3`` (bookings), ``share1..share3``,
        ``rel1..rel3`` (annualised, at last year's company level), ``rel_mean/min/max``,
        ``hist_years``, ``growth``, ``deals1``, ``avg_deal1``, ``accounts1``,
        ``h2_rate1``, ``peer_rel1``, ``attainment``; pool columns when accounts.csv
        exists; territory columns when territories.csv exists too. Missing history is
        NaN, not zero.
    """
    ctx = _Context.of(company) if context is None else context
    rows = _rows(company, year, ctx.last_year)
    start, _ = _year_bounds(year)
    out = pd.DataFrame(index=rows.index)
    out["team_id"] = rows["team_id"].astype("str")
    out["year"] = year
    out["role_ka"] = (rows["role"] == "ka").astype("float64")
    out["fte"] = rows["fte"].astype("float64")
    out["tenure"] = (start - rows["hire_date"]).dt.days.astype("float64") / 365.25
    out["share"] = employed_share(rows["hire_date"], year)
    out["level"] = level_factor(company, ctx.index, year, as_of)
    out["exposure"] = out["share"].clip(lower=_MIN_SHARE) * out["fte"] * out["level"]
    hist = _history(company, rows, year, ctx)
    out = out.join(hist)
    out["peer_rel1"] = _peers(rows, hist)
    quota_year = company.last_complete_year()
    quota = rows["last_quota"].where(rows["last_quota"] > 0)
    out["attainment"] = (out["b1"] / quota) if year - 1 == quota_year else np.nan
    for part in (_pool(company, rows), _booked_pool(company, rows, year), _territory(company, rows)):
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


def training_set(company: CompanyData, years: Iterable[int], as_of: int | None = None) -> tuple[pd.DataFrame, pd.Series]:
    """Rep-years as supervised pairs: features on January 1 of ``t`` -> bookings in ``t``.

    Parameters
    ----------
    company : CompanyData
        Validated company data.
    years : iterable of int
        Target years. Each must be observed (bookings January to December) and have
        at least one observed year before it, so history features mean something.
    as_of : int, optional
        Passed to :func:`rep_year_features`; default one past the last target year.
        A backtest scoring year Y passes ``as_of=Y`` so the trend cannot see Y.

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
        feats = rep_year_features(company, year, as_of=max(years) + 1 if as_of is None else as_of, context=ctx)
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
