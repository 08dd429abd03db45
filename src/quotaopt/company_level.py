"""The company level: a chain-linked index of bookings, its trend, and its forecast.

The capacity model separates *who* books from *how the whole company does*: a rep's
history is restated in index units (bookings / index of their year), the model
learns a rep's bookings relative to the company level, and the level of the plan
year is forecast here.

Why it is built this way:

* **Same reps, consecutive years.** Each link of the index is the growth of the
  same reps' bookings between two years, so hires, departures and the role mix do
  not move it; market growth and company-wide luck do.
* **Outliers left out.** A rep whose growth, or whose total in either year, is more
  than :data:`OUTLIER_Z` robust standard deviations from the median (a mega-deal, a
  typo) does not enter the link.
* **Established reps only** (employed since at least a year before the link):
  a rep in their first year is still ramping up, and counting that ramp-up as
  company growth would make the index outgrow the market trend it is carried
  forward with, biasing every forecast low. Ramp-up is a rep effect the model
  learns from tenure. With fewer than :data:`MIN_POOL` established reps the link
  uses every rep employed both years.
* **Training years use the realised level, the forecast year the forecast.** A
  model trained on bookings divided by a *forecast* level learns each training
  year's forecast error as a year effect, tied to whatever distinguishes that year
  (e.g. how many history years a row has), and replays the last training year's
  luck in the plan year. The realised level takes the year's luck out of the
  target; its forecast error is put back into the band instead.
* **The forecast mean-reverts.** The level of a year is forecast as the mean of
  the last (up to) three levels, each carried forward by the trend, so one lucky
  or unlucky year is not assumed to repeat.
* **A trend seen only in the company's own history is shrunk toward zero.** Fitted
  on two to four noisy levels and then extrapolated, the raw slope is the least
  reliable number in the forecast; it is weighted by how much of its variance is
  signal (empirical Bayes, see :func:`shrunk_slope`). Measured on 40 generated
  companies not used to choose it (``benchmarks/company_level.py``), the RMSE of the
  log level forecast fell from 0.177 to 0.103 with two known years, 0.125 to 0.113
  with three and 0.113 to 0.106 with four.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quotaopt.data import CompanyData
from quotaopt.rep_years import full_year_reps, last_booking_year, observed_years, yearly_bookings

#: Fewest established reps a link of the index is measured on before it falls back to every rep.
MIN_POOL = 10
#: Years averaged into the level forecast.
LEVEL_WINDOW = 3
#: Share of a team's yearly deviation treated as luck (measured: 1.0 beat 0.5 and 0).
TEAM_SHRINK = 1.0
#: Robust z-score of a rep's yearly log growth beyond which it is left out of the level's link.
OUTLIER_Z = 5.0
#: Prior of the trend shrinkage: spread of true yearly log growth between companies.
TREND_PRIOR_SD = 0.05
#: Prior year-to-year swing of a company's log level around its trend, and its weight
#: in degrees of freedom against the residuals actually seen.
LEVEL_NOISE_SD, LEVEL_NOISE_DOF = 0.07, 2


def _link_pool(company: CompanyData, year: int, last_year: pd.Series) -> pd.Index:
    """Reps whose bookings of ``year - 1`` and ``year`` measure the company's growth."""
    both = full_year_reps(company, year, last_year).intersection(full_year_reps(company, year - 1, last_year))
    hire = company.reps.set_index("rep_id")["hire_date"].reindex(both)
    established = both[(hire <= pd.Timestamp(year=year - 2, month=1, day=1)).to_numpy()]
    return established if len(established) >= MIN_POOL else both


def _extreme(values: pd.Series, index: pd.Index) -> np.ndarray:
    """Which of ``values`` lie more than OUTLIER_Z robust standard deviations from their median."""
    if len(values) < MIN_POOL:  # too few to tell an outlier from the spread
        return np.zeros(len(index), dtype=bool)
    spread = 1.4826 * float(np.median(np.abs(values - values.median())))
    if spread <= 0:
        return np.zeros(len(index), dtype=bool)
    return ((values - values.median()).abs() > OUTLIER_Z * spread).reindex(index, fill_value=False).to_numpy(copy=True)


def _without_outliers(pair: pd.DataFrame) -> pd.DataFrame:
    """The link pool less its outliers (robust z above :data:`OUTLIER_Z`).

    One mega-deal (or a typo) in one rep's year must not move the level of the whole
    company, and with it every other rep's capacity. A rep is left out when its growth
    between the two years, or its total in either year (on a log scale, among the reps
    who booked), is an outlier.
    """
    now, before = pair.iloc[:, 0], pair.iloc[:, 1]
    both = (now > 0) & (before > 0)
    drop = _extreme(pd.Series(np.log(now[both] / before[both])), pair.index)
    for total in (now, before):
        drop |= _extreme(pd.Series(np.log(total[total > 0])), pair.index)
    return pair[~drop]


def chain(company: CompanyData, yearly: pd.DataFrame) -> tuple[pd.Series, pd.DataFrame]:
    """Chain-linked company level per observed year, and each team's log level relative to it.

    Parameters
    ----------
    company : CompanyData
    yearly : DataFrame
        :func:`~quotaopt.rep_years.yearly_bookings` of ``company``.

    Returns
    -------
    index : Series
        Company level per observed year (first year = 1).
    team_level : DataFrame
        Rows team ids, columns observed years: the team's cumulative log growth minus
        the company's (0 in the first year).
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
            pool = _link_pool(company, y, last_year)
            pair = _without_outliers(totals.loc[totals.index.isin(pool), [y, y - 1]].fillna(0.0))
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

    See the module docstring for which reps each link is measured on.
    """
    return chain(company, yearly_bookings(company) if yearly is None else yearly)[0]


def trend_growth(company: CompanyData, index: pd.Series, as_of: int) -> float:
    """Expected yearly log growth of the company level, known before ``as_of``.

    The planners' market growth from territories.csv (potential-weighted) when
    present; else the least-squares slope of the log index over the observed years
    before ``as_of``, shrunk toward 0 by :func:`shrunk_slope` (0 with fewer than two).
    """
    terr = company.territories
    if terr is not None and terr["potential"].sum() > 0:
        g = float((terr["potential"] * terr["market_growth"]).sum() / terr["potential"].sum())
        return float(np.log1p(g))
    known = index[index.index < as_of]
    if len(known) < 2:
        return 0.0
    return float(np.clip(shrunk_slope(known.index.to_numpy(dtype="float64"), np.log(known.to_numpy())), -0.2, 0.3))


def shrunk_slope(years: np.ndarray, log_level: np.ndarray) -> float:
    """Least-squares slope of ``log_level`` on ``years``, shrunk toward 0 by its noise.

    The slope's sampling variance is ``s2 / sum((t - mean t)^2)``, with ``s2`` the
    level noise: the prior ``LEVEL_NOISE_SD ** 2`` worth ``LEVEL_NOISE_DOF`` degrees
    of freedom pooled with the residuals about the line. The slope is multiplied by
    ``tau2 / (tau2 + variance)`` with ``tau = TREND_PRIOR_SD``, so two years' slope
    counts for about a fifth and ten years' for nearly all of it.

    Parameters
    ----------
    years, log_level : ndarray
        At least two points.

    Returns
    -------
    float
    """
    spread = float(((years - years.mean()) ** 2).sum())
    if len(years) < 2 or spread <= 0:
        return 0.0
    fit = np.polyfit(years, log_level, 1)
    rss = float(((log_level - np.polyval(fit, years)) ** 2).sum())
    noise = (LEVEL_NOISE_DOF * LEVEL_NOISE_SD**2 + rss) / (LEVEL_NOISE_DOF + len(years) - 2)
    weight = TREND_PRIOR_SD**2 / (TREND_PRIOR_SD**2 + noise / spread)
    return float(weight * fit[0])


def level_factor(company: CompanyData, index: pd.Series, year: int, as_of: int | None = None) -> float:
    """Forecast of the company level of ``year`` over the level of ``year - 1``.

    The level of ``year`` is forecast as the mean of the last (up to) three levels
    known before ``as_of`` (default ``year``), each carried forward by the trend
    (:func:`trend_growth` as of ``as_of``): a year of unusual luck is not assumed to
    repeat.
    """
    cutoff = year if as_of is None else min(year, as_of)
    g = trend_growth(company, index, cutoff)
    before = index[(index.index < cutoff) & (index.index >= year - LEVEL_WINDOW)]
    if before.empty or year - 1 not in before.index:
        return float(np.exp(g))
    forecast = np.mean(np.log(before.to_numpy()) + g * (year - before.index.to_numpy()))
    return float(np.exp(forecast - np.log(index[year - 1])))


def realised_level(index: pd.Series, year: int) -> float | None:
    """The company level of ``year`` over ``year - 1`` as it happened (None if not observed)."""
    if year not in index.index or year - 1 not in index.index:
        return None
    return float(index[year] / index[year - 1])


def team_luck(rows: pd.DataFrame, years: list[int], team_level: pd.DataFrame) -> pd.DataFrame:
    """Per rep (rows of ``rows``) and history year: the team's luck that year, a multiplier.

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
