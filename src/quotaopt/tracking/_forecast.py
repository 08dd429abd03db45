"""The chance of making the year given the actuals so far: a Bayesian update, then correlated draws.

**Model.** A rep's yearly bookings are ``Y = L x e``: ``L`` is its performance level
for the year (what it would book on average, shocks of the year included) and ``e``
the luck of individual deals (mean one). Over a share ``f`` of the year (in expected
bookings, i.e. following the plan's seasonal and ramp shape) it books
``L x f x e_f`` with ``log e_f ~ N(-v(f)/2, v(f))`` and ``v(f) = log(1 + kappa / f)``:
the variance of a compound-Poisson sum of about ``f x L / deal size`` deals,
``kappa = (1 + CV^2 of deal sizes) x deal size / P50``, both learned from the history.

**Prior.** The plan's capacity band is the predictive distribution of ``Y``; read as a
log-normal it has log-variance ``sigma^2 = ((log P90 - log P10) / 2 z90)^2``. The level
takes what deal luck does not explain: ``tau^2 = max(sigma^2 - v(1), 0.2 sigma^2)``,
``log L ~ N(log P50 + v(1)/2, tau^2)``. Levels share a company and a team shock, the same
log amount for every rep they touch (a market that falls 5% takes 5% off every rep, whatever
the width of its band): ``log L_i - mean = s_C G + s_T H_team + O_i`` with ``G, H ~ N(0, 1)``
and ``O_i ~ N(0, max(tau_i^2 - s_C^2 - s_T^2, MIN_LEVEL_SHARE tau_i^2))``. ``s_T^2`` is what
the company's past years show teams share (:mod:`quotaopt.tracking._shared`), ``s_C^2`` the
``simulation.correlation.company`` share of the reps' mean ``tau^2`` (one company gives one
shock a year: too few to learn from; the year's actuals read it quickly anyway).

**Update.** The booked amount to date ``A`` over the expected share done ``u`` is a noisy
reading of the level: ``y = log(A / u) + v(u)/2 - mean = (log L - mean) + N(0, v(u))``
(``A`` below half an average deal counts as half a deal, so a rep with nothing or only
credit notes booked still reads as a low level, not minus infinity). A rep expected to
have closed fewer than :data:`MIN_EXPECTED_DEALS` deals so far gives no reading at all:
there the log-normal stand-in for a mostly-zero compound-Poisson sum is biased upwards
(half a deal over a week of the year reads as a level many times the plan), and
summed over every rep that bias would move the company's forecast by multiples. The
forecast is then the plan's own until the year has told something. The posterior of
the shared factors ``(G, H)`` is Gaussian (precision ``I + sum a a' / w``, ``a = (s_C, s_T)``), and
given them each rep's own factor has a closed-form normal posterior. Every rep's
pace therefore informs its team's and the company's factor, and through them every
other rep: a team that is behind pulls its members' forecasts down.

**Forecast.** The rest of the year books ``L x r x e_r`` with ``r = 1 - u``. Per rep,
``log`` of that is exactly normal (the posterior of ``log L`` is Gaussian), so a rep's
``P(A + R >= quota)`` and its forecast quantiles are closed-form; units add their reps'
correlated draws (shared factors drawn from their posterior, one block generator per
:data:`~quotaopt.incentives.BLOCK` draws, so results never depend on chunking).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.linalg import cho_factor, cho_solve, solve_triangular
from scipy.special import ndtr, ndtri

from quotaopt.incentives import BLOCK, Z90, block_rng

#: Smallest share of the predictive log-variance left to the level (the rest is deal luck).
MIN_LEVEL_SHARE = 0.2
#: Fewest deals a rep must be expected to have closed by the as-of date for its pace to count.
MIN_EXPECTED_DEALS = 3.0
#: Expected deals per year assumed for a rep when the history has no deal at all.
DEFAULT_DEALS = 50.0
_MIN_KAPPA = 1e-6
_MIN_VAR = 1e-10
#: Draws x reps processed at once while drawing unit totals.
_CHUNK_ELEMENTS = 1 << 19
QUANTILES = (0.1, 0.5, 0.9)


def deal_noise(history: pd.DataFrame, rep_ids: pd.Series, roles: pd.Series, p50: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average deal size and ``kappa`` (deal-luck variance coefficient) per rep.

    Parameters
    ----------
    history : DataFrame
        Bookings before the plan year (``rep_id, amount``).
    rep_ids, roles : Series
        The reps (in output order) and their roles.
    p50 : ndarray
        Annual capacity P50 per rep.

    Returns
    -------
    (deal_size, kappa) : tuple of ndarray
        A rep without deals takes its role's median deal size, else everyone's; the
        within-rep CV^2 of deal sizes is pooled by role.
    """
    ids = rep_ids.astype("str").to_numpy()
    role = roles.astype("str").to_numpy()
    deals = history[history["amount"] > 0]
    rep_of = deals["rep_id"].astype("str")
    mean = deals.groupby(rep_of)["amount"].mean()
    size = pd.Series(ids).map(mean).to_numpy(dtype=np.float64)
    frame = pd.DataFrame({"role": role, "size": size})
    by_role = frame.groupby("role")["size"].transform("median").to_numpy(dtype=np.float64)
    overall = float(np.nanmedian(size)) if np.isfinite(size).any() else np.nan
    size = np.where(np.isfinite(size), size, np.where(np.isfinite(by_role), by_role, overall))
    size = np.where(np.isfinite(size) & (size > 0), size, np.asarray(p50, dtype=np.float64) / DEFAULT_DEALS)
    # Within-rep spread of deal sizes (relative to the rep's own mean), pooled by role.
    known_role = dict(zip(ids, role, strict=True))
    rel = deals["amount"].to_numpy(dtype=np.float64) / rep_of.map(mean).to_numpy(dtype=np.float64)
    rel_role = rep_of.map(known_role)
    cv2_role = pd.Series(rel).groupby(rel_role.to_numpy()).var(ddof=0)
    overall_cv2 = float(np.var(rel)) if len(rel) else 1.0
    cv2 = pd.Series(role).map(cv2_role).fillna(overall_cv2).to_numpy(dtype=np.float64)
    kappa = (1.0 + cv2) * size / np.maximum(np.asarray(p50, dtype=np.float64), 1e-9)
    return size, np.maximum(kappa, _MIN_KAPPA)


def luck_var(kappa: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Log-variance of deal luck over an expected share ``fraction`` of the year (inf at 0)."""
    f = np.asarray(fraction, dtype=np.float64)
    with np.errstate(divide="ignore"):
        return np.where(f > 0, np.log1p(kappa / np.where(f > 0, f, 1.0)), np.inf)


@dataclass(frozen=True)
class Posterior:
    """Posterior of each rep's log level, and what is needed to draw it jointly.

    Attributes
    ----------
    mean, var : ndarray
        Posterior mean and variance of ``log L`` per rep.
    kappa : ndarray
        Deal-luck coefficient per rep.
    prior_mean, tau, own, lam, y : ndarray
        Prior mean of ``log L``, level sd, own-factor sd, weight of the
        rep's own reading (0 without one) and the reading itself.
    team : ndarray
        Team code per rep (index of its factor after the company factor).
    shared_mean : ndarray
        Posterior mean of ``(G, H_1..H_K)``.
    shared_chol : ndarray
        Lower Cholesky factor of the shared factors' posterior precision.
    company_sd, team_sd : float
        Log-level sd of the company and the team shock (``s_C``, ``s_T``).
    """

    mean: np.ndarray
    var: np.ndarray
    kappa: np.ndarray
    prior_mean: np.ndarray
    tau: np.ndarray
    own: np.ndarray
    lam: np.ndarray
    y: np.ndarray
    team: np.ndarray
    shared_mean: np.ndarray
    shared_chol: np.ndarray
    company_sd: float
    team_sd: float

    def lognormal(self, fraction: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(M, S)``: bookings over a future share ``fraction`` of the year are ``exp(N(M, S^2))``.

        ``M`` is ``-inf`` where ``fraction`` is 0 (nothing left to book).
        """
        f = np.asarray(fraction, dtype=np.float64)
        v = luck_var(self.kappa, f)
        with np.errstate(divide="ignore", invalid="ignore"):
            m = np.where(f > 0, self.mean + np.log(np.where(f > 0, f, 1.0)) - v / 2.0, -np.inf)
            s = np.where(f > 0, np.sqrt(self.var + np.where(np.isfinite(v), v, 0.0)), 0.0)
        return m, s

    def quantiles(self, fraction: np.ndarray, probs: tuple[float, ...] = QUANTILES) -> np.ndarray:
        """Quantiles (len(probs) x reps) of bookings over a future share of the year."""
        m, s = self.lognormal(fraction)
        z = ndtri(np.asarray(probs, dtype=np.float64))[:, None]
        with np.errstate(over="ignore"):
            return np.where(np.isfinite(m)[None, :], np.exp(m[None, :] + z * s[None, :]), 0.0)

    def prob_at_least(self, fraction: np.ndarray, needed: np.ndarray) -> np.ndarray:
        """``P(bookings over the future share >= needed)`` per rep (1 where needed <= 0)."""
        m, s = self.lognormal(fraction)
        need = np.asarray(needed, dtype=np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (np.log(np.where(need > 0, need, 1.0)) - m) / np.where(s > 0, s, 1.0)
            tail = np.where(s > 0, 1.0 - ndtr(z), (m >= np.log(np.where(need > 0, need, 1.0))).astype(float))
        return np.where(need <= 0, 1.0, np.where(np.isfinite(m), tail, 0.0))


def level_variance(capacity: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """``tau^2`` per rep: the part of the capacity band's log-variance that deal luck does not explain.

    Parameters
    ----------
    capacity : ndarray
        (reps, 3) annual P10, P50, P90.
    kappa : ndarray
        Deal-luck coefficient per rep (:func:`deal_noise`).
    """
    cap = np.asarray(capacity, dtype=np.float64)
    p50 = np.maximum(cap[:, 1], 1e-9)
    p10 = np.clip(cap[:, 0], 1e-3 * p50, p50)
    p90 = np.maximum(cap[:, 2], p50)
    sigma2 = ((np.log(p90) - np.log(p10)) / (2.0 * Z90)) ** 2
    v1 = luck_var(kappa, np.ones_like(p50))
    return cast("np.ndarray", np.maximum(np.maximum(sigma2 - v1, MIN_LEVEL_SHARE * sigma2), _MIN_VAR))


def update(capacity: np.ndarray, actual: np.ndarray, done: np.ndarray, deal_size: np.ndarray, kappa: np.ndarray,
           team_codes: np.ndarray, company_var: float, team_var: float) -> Posterior:
    """Bayesian update of every rep's level from its actuals to date.

    Parameters
    ----------
    capacity : ndarray
        (reps, 3) annual P10, P50, P90.
    actual : ndarray
        Booked to date.
    done : ndarray
        Expected share of the year's bookings that falls before the as-of date (0..1).
    deal_size, kappa : ndarray
        From :func:`deal_noise`.
    team_codes : ndarray
        0..K-1, the rep's team.
    company_var, team_var : float
        Log-variance of the company and the team shock (``s_C^2``, ``s_T^2``), the same for
        every rep; each rep's own factor takes the rest of its ``tau^2`` (at least
        :data:`MIN_LEVEL_SHARE` of it).

    Returns
    -------
    Posterior
    """
    cap = np.asarray(capacity, dtype=np.float64)
    p50 = np.maximum(cap[:, 1], 1e-9)
    tau2 = level_variance(cap, kappa)
    tau = np.sqrt(tau2)
    prior_mean = np.log(p50) + luck_var(kappa, np.ones_like(p50)) / 2.0
    sc, st = np.sqrt(max(company_var, 0.0)), np.sqrt(max(team_var, 0.0))
    own2 = np.maximum(tau2 - sc**2 - st**2, MIN_LEVEL_SHARE * tau2)

    u = np.clip(np.asarray(done, dtype=np.float64), 0.0, 1.0)
    # Chosen from what was expected, never from what was booked, so it biases nothing.
    expected_deals = u * p50 / np.maximum(np.asarray(deal_size, dtype=np.float64), 1e-9)
    observed = (u > 1e-9) & (expected_deals >= MIN_EXPECTED_DEALS)
    d = luck_var(kappa, u)
    booked = np.maximum(np.asarray(actual, dtype=np.float64), 0.5 * deal_size)
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.where(observed, np.log(booked / np.where(observed, u, 1.0)) + d / 2.0 - prior_mean, 0.0)
    w = np.where(observed, own2 + d, np.inf)  # variance of a reading given the shared factors

    codes = np.asarray(team_codes, dtype=np.int64)
    k = int(codes.max()) + 1 if len(codes) else 0
    gain = np.where(observed, 1.0 / w, 0.0)
    lift = np.where(observed, y / w, 0.0)
    per_team = np.bincount(codes, weights=gain, minlength=k)
    precision = np.eye(k + 1)
    precision[0, 0] += sc * sc * gain.sum()
    precision[0, 1:] += sc * st * per_team
    precision[1:, 0] += sc * st * per_team
    precision[np.arange(1, k + 1), np.arange(1, k + 1)] += st * st * per_team
    rhs = np.concatenate([[sc * lift.sum()], st * np.bincount(codes, weights=lift, minlength=k)])
    chol = cho_factor(precision, lower=True)
    shared_mean = cho_solve(chol, rhs)
    shared_cov = cho_solve(chol, np.eye(k + 1))

    # Own factor given the shared ones: its reading's weight is own2 / (own2 + d).
    lam = np.where(observed, own2 / np.where(observed, own2 + d, 1.0), 0.0)
    own_post = np.where(observed, own2 * d / np.where(observed, own2 + d, 1.0), own2)
    a_mean = sc * shared_mean[0] + st * shared_mean[1 + codes]
    a_var = (sc * sc * shared_cov[0, 0] + 2.0 * sc * st * shared_cov[0, 1 + codes]
             + st * st * shared_cov[1 + codes, 1 + codes])
    mean = prior_mean + (1.0 - lam) * a_mean + lam * y
    var = (1.0 - lam) ** 2 * a_var + own_post
    return Posterior(mean, var, np.asarray(kappa, dtype=np.float64), prior_mean, tau, np.sqrt(own2), lam, y, codes,
                     shared_mean, np.tril(chol[0]), float(sc), float(st))


def rep_forecast(post: Posterior, actual: np.ndarray, done: np.ndarray, quota: np.ndarray) -> pd.DataFrame:
    """Closed-form chance of making the year and forecast quantiles per rep.

    Returns
    -------
    DataFrame
        ``p_attain_year, forecast_p10, forecast_p50, forecast_p90`` in rep order.
    """
    actual = np.asarray(actual, dtype=np.float64)
    rest = np.clip(1.0 - np.asarray(done, dtype=np.float64), 0.0, 1.0)
    need = np.asarray(quota, dtype=np.float64) - actual
    q = post.quantiles(rest)
    return pd.DataFrame({
        "p_attain_year": post.prob_at_least(rest, need),
        "forecast_p10": actual + q[0], "forecast_p50": actual + q[1], "forecast_p90": actual + q[2],
    })


def draw_rest(post: Posterior, rest: np.ndarray, rng: np.random.Generator, n_draws: int) -> np.ndarray:
    """Correlated draws (draws x reps) of what each rep books over the share ``rest`` still ahead."""
    n, k1 = len(post.mean), len(post.shared_mean)
    xi = rng.standard_normal((k1, n_draws))
    own_noise = rng.standard_normal((n_draws, n))
    luck = rng.standard_normal((n_draws, n))
    shared = post.shared_mean[:, None] + solve_triangular(post.shared_chol.T, xi, lower=False)
    common = post.company_sd * shared[0][:, None] + post.team_sd * shared[1 + post.team].T
    # Given the shared factors, the own factor's posterior sd is own x sqrt(1 - lam).
    own_sd = post.own * np.sqrt(1.0 - post.lam)
    log_level = post.prior_mean + (1.0 - post.lam) * common + post.lam * post.y + own_sd * own_noise
    v = luck_var(post.kappa, rest)
    has = rest > 0
    v_ok = np.where(has, v, 0.0)
    with np.errstate(divide="ignore"):
        log_r = np.where(has, np.log(np.where(has, rest, 1.0)), 0.0)
    out = np.exp(log_level + log_r - v_ok / 2.0 + np.sqrt(v_ok) * luck)
    return np.where(has, out, 0.0)


def unit_forecast(post: Posterior, actual: np.ndarray, done: np.ndarray, member: sp.spmatrix | np.ndarray,
                  unit_quota: np.ndarray,
                  draws: int, seed: int) -> pd.DataFrame:
    """Chance that each unit's total reaches its quota, and forecast quantiles, by Monte Carlo.

    Parameters
    ----------
    member : sparse matrix or ndarray
        (reps x units) 0/1, 1 where the unit is the rep's team or above it.
    draws, seed : int
        Number of draws and the seed; block ``b`` of :data:`BLOCK` draws uses
        :func:`quotaopt.incentives.block_rng` ``(seed, b)``.

    Returns
    -------
    DataFrame
        ``p_attain_year, forecast_p10, forecast_p50, forecast_p90`` in unit order.
    """
    actual = np.asarray(actual, dtype=np.float64)
    rest = np.clip(1.0 - np.asarray(done, dtype=np.float64), 0.0, 1.0)
    weights = sp.csr_matrix(member, dtype=np.float64)
    weights_t = weights.T.tocsr()
    base = weights_t @ actual
    n = len(actual)
    totals = np.empty((draws, weights.shape[1]))
    step = max(BLOCK, (_CHUNK_ELEMENTS // max(n, 1)) // BLOCK * BLOCK)
    for first in range(0, draws, step):
        last = min(draws, first + step)
        parts = [draw_rest(post, rest, block_rng(seed, blk), min(last, (blk + 1) * BLOCK) - blk * BLOCK)
                 for blk in range(first // BLOCK, -(-last // BLOCK))]
        totals[first:last] = base[None, :] + (weights_t @ np.concatenate(parts).T).T
    quota = np.asarray(unit_quota, dtype=np.float64)
    q = np.quantile(totals, QUANTILES, axis=0) if draws else np.full((3, len(quota)), np.nan)
    return pd.DataFrame({
        "p_attain_year": (totals >= quota[None, :]).mean(axis=0) if draws else np.full(len(quota), np.nan),
        "forecast_p10": q[0], "forecast_p50": q[1], "forecast_p90": q[2],
    })
