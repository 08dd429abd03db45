"""The company level: a chain-linked index of bookings, and its forecast for a coming year.

The capacity model separates *who* books from *how the whole company does*: a rep's
history is restated in index units (bookings / the company level of their year), the
rep part is learned in those units, and the level of the forecast year comes from here.

The index, and why it is built this way:

* **Same reps, consecutive years.** Each link is the growth of the same reps' bookings
  between two years, so hires, departures and the role mix do not move it.
* **Established reps only** (employed since at least a year before the link), when
  there are :data:`MIN_POOL` of them: a first-year rep's ramp-up is a rep effect, not
  company growth.
* **Outliers left out.** A rep whose growth, or whose total in either year, lies more
  than :data:`OUTLIER_Z` robust standard deviations from the median (a mega-deal, a
  typo) does not enter the link.

The forecast is a **weighted combination of candidate forecasts** of the next year's
log growth, because no single rule holds across companies: real levels keep their
momentum for years and then turn (a housing bust, a recession), generated ones jump
around a trend. The candidates (:func:`candidates`): no change (``random_walk``), last
year's growth (``last_growth``) and half of it (``damped_growth``), the mean growth of
the history (``drift``), the mean of the last three levels carried forward by a trend --
the planners' growth where given, else the history's slope shrunk toward zero by its
noise (``reversion``: a lucky or unlucky year is not assumed to repeat) --, the growth of the latest half year (``run_rate``), the planners'
``market_growth`` from territories.csv (``planners``, only where that column is given:
a missing column means unknown, never 0%), and statsforecast's AutoETS on the level
series (``auto_ets``, once it has enough years). Each is scored by a rolling origin over
the company's own past years: forecast year ``s`` from the years before ``s``, compare
with what happened -- and, because a company has few past years, over each team's own
level series too (the company's growth plus the team's step; at most
:data:`MAX_TEAM_SERIES` teams, each counting as one more series of the same kind: which
rule suits this company's levels shows in its teams as well; AutoETS, costly per series,
is scored on the company alone). A candidate's weight is the likelihood of its record,
``mse ** -(n / 2)`` for ``n`` errors (Bayesian model averaging with normal errors), its
mean squared error shrunk toward :data:`PRIOR_SD` by :data:`PRIOR_WEIGHT` pseudo-errors,
one ``n`` (the largest record's) for every candidate and the power capped at
:data:`TEMPER`, because the errors of teams and of neighbouring years are far from
independent. Before the record is read, the freshest growth (``run_rate``, else
``last_growth``) holds :data:`MOMENTUM_PRIOR_ODDS` against each other candidate: real
levels keep their momentum, and a handful of steady years should not hand the forecast to
the long-run mean on the eve of a turn. A company with two known years and no teams
follows its momentum; one whose teams have a long record trusts that record. The same rolling-origin
errors of the combination (on the company's own level) give the spread of the level's
error, which widens every rep's band.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import cast

import numpy as np
import pandas as pd

from quotaopt.capacity._calendar import ns, year_bounds
from quotaopt.capacity._panel import RepPanel

#: Fewest established reps a link of the index is measured on before it falls back to every rep.
MIN_POOL = 10
#: Robust z-score beyond which a rep is left out of the index's link.
OUTLIER_Z = 5.0
#: Years averaged by the ``reversion`` candidate; most past growths averaged by ``drift``.
REVERSION_WINDOW, DRIFT_WINDOW = 3, 10
#: Prior error (log growth) of every candidate, and its weight in pseudo-years.
PRIOR_SD, PRIOR_WEIGHT = 0.05, 1.0
#: Prior of the ``reversion`` trend's shrinkage: spread of true yearly log growth between
#: companies; prior swing of the log level around its trend and its degrees of freedom.
TREND_PRIOR_SD, LEVEL_NOISE_SD, LEVEL_NOISE_DOF = 0.05, 0.07, 2
#: Most past years a rolling origin scores (older years say little about the next one).
MAX_ORIGINS = 15
#: Fewest known levels before AutoETS is asked (it refuses tiny series).
ETS_MIN_LEVELS = 5
#: Most teams whose own level series add to the candidates' record (spread evenly over the teams).
MAX_TEAM_SERIES = 200
#: Largest power of a candidate's likelihood: half its record's size, capped, because the
#: errors of one company's teams and of neighbouring years are far from independent.
TEMPER = 3.0
#: Prior odds of the freshest growth (``run_rate``, else ``last_growth`` where the half year carries no
#: news) against each other candidate, before the record is read. Real company levels keep their
#: momentum for years (benchmarks/real_data.py: alone it is the best candidate on the real panels), and a
#: few past years with steady growth favour ``drift`` by chance; a record that clearly says otherwise (the
#: generator's independent yearly shocks, read over hundreds of team series) still outweighs it.
MOMENTUM_PRIOR_ODDS = 10.0
#: Log growth of a forecast is kept within this range (a level cannot collapse or explode in a year).
GROWTH_RANGE = (-1.0, 1.0)


@dataclass(frozen=True)
class ChainIndex:
    """The company's chain-linked level per observed year.

    Attributes
    ----------
    years : ndarray of int
        The panel's observed years.
    log_level : ndarray
        Log of the index (0 in the first year; a year after a hole repeats the level).
    growth : ndarray
        Log growth into each year (NaN where the year before is not observed).
    h2_growth : ndarray
        Log growth of the second half-year over the previous year's second half, same reps.
    team_step : ndarray of shape (teams, years)
        Each team's log growth into the year minus the company's (NaN when unknown).
    team_h2_step : ndarray of shape (teams, years), optional
        The same for the second half-year's growth (None: not measured).
    """

    years: np.ndarray
    log_level: np.ndarray
    growth: np.ndarray
    h2_growth: np.ndarray
    team_step: np.ndarray
    team_h2_step: np.ndarray | None = None

    @cached_property
    def team_record(self) -> TeamRecord:
        """The candidates' record over the teams' own level series (built once, on first use)."""
        return TeamRecord(self)

    def level(self, year: int) -> float:
        """The index of an observed ``year`` (1 in the first year)."""
        j = int(np.searchsorted(self.years, year))
        if j >= len(self.years) or int(self.years[j]) != year:
            raise KeyError(year)
        return float(np.exp(self.log_level[j]))

    def realised_growth(self, year: int) -> float | None:
        """Log growth into ``year`` as it happened (None when not measured)."""
        j = int(np.searchsorted(self.years, year))
        if j >= len(self.years) or int(self.years[j]) != year or not np.isfinite(self.growth[j]):
            return None
        return float(self.growth[j])


def _extreme(values: np.ndarray) -> np.ndarray:
    """Which ``values`` lie more than OUTLIER_Z robust standard deviations from their median."""
    out = np.zeros(len(values), dtype=bool)
    ok = np.isfinite(values)
    if ok.sum() < MIN_POOL:  # too few to tell an outlier from the spread
        return out
    middle = np.median(values[ok])
    spread = 1.4826 * float(np.median(np.abs(values[ok] - middle)))
    if spread > 0:
        out[ok] = np.abs(values[ok] - middle) > OUTLIER_Z * spread
    return out


def _link_pool(panel: RepPanel, year: int) -> np.ndarray:
    """Reps whose bookings of ``year - 1`` and ``year`` measure the company's growth, less outliers."""
    both = panel.full_year(year) & panel.full_year(year - 1)
    start, _ = year_bounds(year - 2)
    established = both & (panel.hire <= ns(start))
    pool = established if established.sum() >= MIN_POOL else both
    now, before = panel.booked(year), panel.booked(year - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = np.where(pool & (now > 0) & (before > 0), np.log(now / before), np.nan)
        drop = _extreme(growth)
        for total in (now, before):
            drop |= _extreme(np.where(pool & (total > 0), np.log(np.where(total > 0, total, 1.0)), np.nan))
    return cast("np.ndarray", pool & ~drop)


def _team_step(teams: np.ndarray, now: np.ndarray, before: np.ndarray, company: float, n_teams: int) -> np.ndarray:
    """Each team's log growth from ``before`` to ``now`` (sums of its reps) minus the company's (NaN: unknown)."""
    t_now = np.bincount(teams, weights=now, minlength=n_teams)
    t_before = np.bincount(teams, weights=before, minlength=n_teams)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((t_now > 0) & (t_before > 0), np.log(t_now / t_before) - company, np.nan)


def chain(panel: RepPanel) -> ChainIndex:
    """The :class:`ChainIndex` of a panel (see the module docstring)."""
    years = panel.years
    k = len(years)
    growth, h2_growth = np.full(k, np.nan), np.full(k, np.nan)
    team_step = np.full((len(panel.team_ids), k), np.nan)
    team_h2_step = np.full((len(panel.team_ids), k), np.nan)
    log_level = np.zeros(k)
    for j in range(1, k):
        log_level[j] = log_level[j - 1]
        if years[j] - 1 != years[j - 1]:
            continue
        pool = _link_pool(panel, int(years[j]))
        now, before = panel.total[pool, j].sum(), panel.total[pool, j - 1].sum()
        if not (now > 0 and before > 0):
            continue
        growth[j] = float(np.log(now / before))
        log_level[j] += growth[j]
        h_now, h_before = panel.h2[pool, j].sum(), panel.h2[pool, j - 1].sum()
        if h_now > 0 and h_before > 0:
            h2_growth[j] = float(np.log(h_now / h_before))
        teams = panel.team[pool]
        team_step[:, j] = _team_step(teams, panel.total[pool, j], panel.total[pool, j - 1], growth[j],
                                     len(panel.team_ids))
        if np.isfinite(h2_growth[j]):
            team_h2_step[:, j] = _team_step(teams, panel.h2[pool, j], panel.h2[pool, j - 1], h2_growth[j],
                                            len(panel.team_ids))
    return ChainIndex(years=years, log_level=log_level, growth=growth, h2_growth=h2_growth, team_step=team_step,
                      team_h2_step=team_h2_step)


def planners_growth(territories: pd.DataFrame | None) -> float | None:
    """Potential-weighted ``market_growth`` of territories.csv as log growth; None when not given."""
    if territories is None or "market_growth" not in territories.columns:
        return None
    given = territories.loc[territories["market_growth"].notna()]
    weight = given["potential"].clip(lower=0.0)
    if given.empty or weight.sum() <= 0:
        return None
    return float(np.log1p((weight * given["market_growth"]).sum() / weight.sum()))


def _auto_ets(log_levels: np.ndarray) -> float | None:
    """statsforecast's AutoETS one year ahead on the level series, as log growth (None if it declines)."""
    if len(log_levels) < ETS_MIN_LEVELS:
        return None
    from statsforecast.models import AutoETS

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mean = float(AutoETS(model="ZZN").forecast(y=np.exp(log_levels), h=1)["mean"][0])
    except (NotImplementedError, ValueError, ZeroDivisionError, np.linalg.LinAlgError):
        return None
    return float(np.log(mean) - log_levels[-1]) if np.isfinite(mean) and mean > 0 else None


def shrunk_slope(years: np.ndarray, log_level: np.ndarray) -> float:
    """Least-squares slope of ``log_level`` on ``years``, shrunk toward 0 by its noise (empirical Bayes).

    The slope's sampling variance is ``s2 / sum((t - mean t)^2)``, with ``s2`` the level
    noise: the prior ``LEVEL_NOISE_SD ** 2`` worth ``LEVEL_NOISE_DOF`` degrees of freedom
    pooled with the residuals about the line. The slope is multiplied by
    ``tau2 / (tau2 + variance)`` with ``tau = TREND_PRIOR_SD``: two years' slope counts
    for about a fifth, ten years' for nearly all of it.

    Examples
    --------
    >>> round(shrunk_slope(np.arange(10.0), 0.05 * np.arange(10.0)), 4)
    0.0498
    """
    spread = float(((years - years.mean()) ** 2).sum()) if len(years) else 0.0
    if len(years) < 2 or spread <= 0:
        return 0.0
    fit = np.polyfit(years, log_level, 1)
    rss = float(((log_level - np.polyval(fit, years)) ** 2).sum())
    noise = (LEVEL_NOISE_DOF * LEVEL_NOISE_SD**2 + rss) / (LEVEL_NOISE_DOF + len(years) - 2)
    weight = TREND_PRIOR_SD**2 / (TREND_PRIOR_SD**2 + noise / spread)
    return float(weight * fit[0])


def candidates(index: ChainIndex, year: int, planners: float | None = None, ets: bool = True) -> dict[str, float]:
    """Candidate forecasts of the log growth of the level into ``year``, from the years before it.

    Empty when ``year - 1`` is not observed (nothing to carry forward).

    Examples
    --------
    >>> idx = ChainIndex(np.array([2020, 2021, 2022]), np.log([1.0, 1.1, 1.21]),
    ...                  np.array([np.nan, np.log(1.1), np.log(1.1)]), np.full(3, np.nan), np.zeros((1, 3)))
    >>> {k: round(v, 4) for k, v in candidates(idx, 2023, ets=False).items()}
    {'random_walk': 0.0, 'last_growth': 0.0953, 'damped_growth': 0.0477, 'drift': 0.0953, 'reversion': 0.02}
    """
    years = index.years
    before = years < year
    if not (before.any() and int(years[before][-1]) == year - 1):
        return {}
    levels = index.log_level[before]
    growth = index.growth[before]
    known = growth[np.isfinite(growth)][-DRIFT_WINDOW:]
    out = {"random_walk": 0.0}
    if np.isfinite(growth[-1]):
        out["last_growth"] = float(growth[-1])
        out["damped_growth"] = 0.5 * float(growth[-1])
    if len(known):
        out["drift"] = float(known.mean())
    recent = levels[-REVERSION_WINDOW:]
    ahead = year - years[before][-REVERSION_WINDOW:]
    trend = planners if planners is not None else shrunk_slope(years[before][-DRIFT_WINDOW:].astype("float64"),
                                                               levels[-DRIFT_WINDOW:])
    out["reversion"] = float(np.mean(recent + trend * ahead) - levels[-1])
    h2 = index.h2_growth[before][-1]
    if np.isfinite(h2) and abs(h2 - growth[-1]) > 1e-9:  # evenly spread years carry no half-year news
        out["run_rate"] = float(h2)
    if planners is not None:
        out["planners"] = float(planners)
    if ets:
        forecast = _auto_ets(levels)
        if forecast is not None:
            out["auto_ets"] = forecast
    return {k: float(np.clip(v, *GROWTH_RANGE)) for k, v in out.items()}


@dataclass(frozen=True)
class LevelForecast:
    """The combined forecast of the level's log growth into one year, with its record.

    Attributes
    ----------
    year : int
    growth : float
        Combined log growth over the year before.
    sd : float
        Spread of the combination's error (log), from its rolling-origin record shrunk
        toward :data:`PRIOR_SD`.
    candidates, weights : dict
        Every candidate's forecast and weight (weights sum to 1).
    errors : dict
        Candidate -> {origin year: forecast minus realised log growth}.
    """

    year: int
    growth: float
    sd: float
    candidates: dict[str, float]
    weights: dict[str, float]
    errors: dict[str, dict[int, float]] = field(default_factory=dict)

    def record(self) -> dict[str, object]:
        """JSON-ready summary (rounded, so summaries stay byte-stable)."""
        favoured = momentum_candidate(self.candidates)
        return {"year": self.year, "growth": round(self.growth, 6), "error_sd": round(self.sd, 6),
                "candidates": {k: round(v, 6) for k, v in sorted(self.candidates.items())},
                "weights": {k: round(v, 6) for k, v in sorted(self.weights.items())},
                "prior_odds": {} if favoured is None else {favoured: MOMENTUM_PRIOR_ODDS},
                "origins": sorted({int(y) for e in self.errors.values() for y in e})}


def team_indexes(index: ChainIndex) -> list[ChainIndex]:
    """Each team's own level series: the company's growth plus the team's step (module docstring).

    At most :data:`MAX_TEAM_SERIES`, spread evenly over the teams; a year after a hole
    repeats the level, as in the company's index.

    Examples
    --------
    >>> idx = ChainIndex(np.array([2020, 2021]), np.log([1.0, 1.1]), np.array([np.nan, np.log(1.1)]),
    ...                  np.full(2, np.nan), np.array([[np.nan, 0.05], [np.nan, np.nan]]))
    >>> [round(float(t.growth[1]), 4) for t in team_indexes(idx)]
    [0.1453]
    """
    teams = index.team_step.shape[0]
    if teams == 0:
        return []
    picks = np.unique(np.linspace(0, teams - 1, min(teams, MAX_TEAM_SERIES)).round().astype("int64"))
    out = []
    for t in picks:
        growth = index.growth + index.team_step[t]
        if not np.isfinite(growth).any():
            continue
        h2 = (index.h2_growth + index.team_h2_step[t] if index.team_h2_step is not None
              else np.full(len(growth), np.nan))
        log_level = np.cumsum(np.where(np.isfinite(growth), growth, 0.0))
        out.append(ChainIndex(years=index.years, log_level=log_level, growth=growth, h2_growth=h2,
                              team_step=np.zeros((0, len(growth)))))
    return out


def _errors(index: ChainIndex, ets: bool, before: int | None = None) -> dict[str, dict[int, float]]:
    """Candidate -> {origin: forecast minus realised log growth}.

    With ``before``: the last :data:`MAX_ORIGINS` origins before it; without: every origin.
    """
    origins = [int(s) for s, g in zip(index.years, index.growth, strict=True) if np.isfinite(g)]
    if before is not None:
        origins = [s for s in origins if s < before][-MAX_ORIGINS:]
    errors: dict[str, dict[int, float]] = {}
    for s in origins:
        realised = index.realised_growth(s)
        assert realised is not None
        for name, value in candidates(index, s, None, ets=ets).items():
            errors.setdefault(name, {})[s] = value - realised
    return errors


class TeamRecord:
    """The candidates' errors over every team's own level series, by origin (computed once per index)."""

    def __init__(self, index: ChainIndex) -> None:
        by_name: dict[str, tuple[list[int], list[float]]] = {}
        for team in team_indexes(index):
            for name, errs in _errors(team, ets=False).items():
                years, values = by_name.setdefault(name, ([], []))
                years.extend(errs)
                values.extend(errs.values())
        self.origins = {k: np.asarray(v[0], dtype="int64") for k, v in by_name.items()}
        self.squares = {k: np.asarray(v[1], dtype="float64") ** 2 for k, v in by_name.items()}

    def before(self, name: str, year: int) -> tuple[int, float]:
        """How many team errors of ``name`` were made in the :data:`MAX_ORIGINS` years before ``year``, and their
        sum of squares (the window the company's own record is read over)."""
        if name not in self.origins:
            return 0, 0.0
        mine = (self.origins[name] < year) & (self.origins[name] >= year - MAX_ORIGINS)
        return int(mine.sum()), float(self.squares[name][mine].sum())


def momentum_candidate(cands: dict[str, float]) -> str | None:
    """The candidate carrying the freshest growth: ``run_rate``, else ``last_growth`` (None: neither).

    Examples
    --------
    >>> momentum_candidate({"random_walk": 0.0, "last_growth": 0.02, "run_rate": 0.01})
    'run_rate'
    >>> momentum_candidate({"random_walk": 0.0, "last_growth": 0.02})
    'last_growth'
    """
    return next((name for name in ("run_rate", "last_growth") if name in cands), None)


def _weights(cands: dict[str, float], errors: dict[str, dict[int, float]],
             teams: TeamRecord | None = None, year: int | None = None) -> dict[str, float]:
    """Each candidate's tempered likelihood from its record, normalised (module docstring).

    One power for every candidate -- half the largest record's size, capped at
    :data:`TEMPER` --, so a candidate with a shorter record (AutoETS, scored on the
    company alone, or one that needs more years) is judged by the same yardstick, its
    mean squared error simply nearer the prior. The freshest growth
    (:func:`momentum_candidate`) starts with :data:`MOMENTUM_PRIOR_ODDS`.
    """
    records = {}
    for name in cands:
        e = np.asarray(list(errors.get(name, {}).values()), dtype="float64")
        n, sse = len(e), float((e**2).sum())
        if teams is not None and year is not None:
            n_team, sse_team = teams.before(name, year)
            n, sse = n + n_team, sse + sse_team
        records[name] = (n, (PRIOR_WEIGHT * PRIOR_SD**2 + sse) / (PRIOR_WEIGHT + n))
    power = min(TEMPER, 0.5 * (PRIOR_WEIGHT + max(n for n, _ in records.values())))
    log_w = {name: -power * float(np.log(mse)) for name, (_, mse) in records.items()}
    favoured = momentum_candidate(cands)
    if favoured is not None:
        log_w[favoured] += float(np.log(MOMENTUM_PRIOR_ODDS))
    top = max(log_w.values())
    w = {k: float(np.exp(v - top)) for k, v in log_w.items()}
    total = sum(w.values())
    return {k: v / total for k, v in w.items()}


def forecast_level(index: ChainIndex, year: int, planners: float | None = None,
                   teams: TeamRecord | None = None) -> LevelForecast | None:
    """Combine the :func:`candidates` for ``year`` by their rolling-origin record (module docstring).

    None when ``year - 1`` is not observed. The planners' growth is known for the plan
    year only, so it has no record: it enters with the prior error. ``teams``: the
    record over the teams' own series (built from ``index`` when not given).
    """
    cands = candidates(index, year, planners)
    if not cands:
        return None
    teams = index.team_record if teams is None else teams
    errors = _errors(index, ets=True, before=year)
    combined_errors = []
    for s in sorted({y for errs in errors.values() for y in errs}):
        past = candidates(index, s, None)
        realised = index.realised_growth(s)
        assert realised is not None
        # The combination as it would have been made at s, from the record before s.
        record = {n: {y: e for y, e in errs.items() if y < s} for n, errs in errors.items()}
        w = _weights(past, record, teams, s)
        combined_errors.append(sum(w[n] * past[n] for n in past) - realised)
    weights = _weights(cands, errors, teams, year)
    growth = float(sum(weights[n] * cands[n] for n in cands))
    e = np.asarray(combined_errors, dtype="float64")
    sd = float(np.sqrt((PRIOR_WEIGHT * PRIOR_SD**2 + (e**2).sum()) / (PRIOR_WEIGHT + len(e))))
    return LevelForecast(year=year, growth=growth, sd=sd, candidates=cands, weights=weights, errors=errors)
