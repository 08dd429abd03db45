"""Per-rep bookings distributions and correlated draws (the simulator's sampler).

**Marginal fit.** Each rep's yearly bookings ``X`` are fitted to its P10/P50/P90 by a
shifted log-normal quantile curve (the three-quantile Johnson S_L fit)::

    X = p50 + up * expm1(s * Z) / expm1(s * z90),   Z ~ N(0, 1), z90 = 1.2816
    up = p90 - p50,  down = p50 - p10,  s = ln(up / down) / z90

It hits all three quantiles exactly, is right-skewed when ``up > down``, left-skewed
when ``up < down``, and tends to the normal ``p50 + up * Z / z90`` as ``up -> down``
(used when ``|s|`` is tiny). Any signs are fine (P10 <= 0 included). Safety rules:
``up / down`` is clamped to ``[1/20, 20]`` by widening the narrower side (a one-sided
estimate would otherwise put all its mass on one side); a zero spread gives the point
mass ``p50``; quantiles out of order are sorted; when ``p10 >= 0`` draws are floored at
0 (a rep whose P10 is non-negative does not book a negative year; the floor moves no
quantile at or above P10).

**Dependence.** A Gaussian copula on the latent ``Z``::

    Z_i = sqrt(c) * company + sqrt(t) * team[team(i)] + sqrt(1 - c - t) * own_i

with ``c, t = simulation.correlation.company, .team``: the shares of the latent
variance that are common to the whole company and to the rep's team.

**Quarters.** A year is spread over quarters by each rep's seasonal shares times
independent log-normal noise (``exp(noise * e - noise^2 / 2)``, renormalised so the
quarters sum exactly to the year).

**Randomness.** Draws come in blocks of :data:`BLOCK` draws; block ``b`` uses its own
generator ``SeedSequence(seed, spawn_key=(b,))``, so results do not depend on how blocks
are grouped into chunks (or on worker count).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import ndtr, ndtri

from quotaopt.errors import InputError, Problem

Z90 = float(ndtri(0.9))
#: Draws per random block (the unit of reproducibility).
BLOCK = 64
#: Largest allowed ratio between the upper and lower half-spreads.
MAX_SKEW = 20.0
_TINY_SIGMA = 1e-6


@dataclass(frozen=True)
class QuantileCurve:
    """Fitted per-rep yearly bookings distributions (arrays of length reps).

    Attributes
    ----------
    median : ndarray
        P50.
    up : ndarray
        ``p90 - p50`` after clamping (0 for a point mass).
    sigma : ndarray
        Log-scale skew parameter ``s`` (0 means normal).
    floor : ndarray
        0 where ``p10 >= 0``, else ``-inf``.
    """

    median: np.ndarray
    up: np.ndarray
    sigma: np.ndarray
    floor: np.ndarray

    @classmethod
    def fit(cls, p10: npt.ArrayLike, p50: npt.ArrayLike, p90: npt.ArrayLike,
            rep_ids: npt.ArrayLike | None = None) -> QuantileCurve:
        """Fit the curve to each rep's P10/P50/P90.

        Raises
        ------
        InputError
            A quantile that is missing or not finite.
        """
        q = np.vstack([np.asarray(p10, float), np.asarray(p50, float), np.asarray(p90, float)])
        bad = ~np.isfinite(q).all(axis=0)
        if bad.any():
            ids = np.asarray(rep_ids)[bad] if rep_ids is not None else np.flatnonzero(bad)
            raise InputError([Problem("capacity", f"rep {r}: capacity P10/P50/P90 must be finite numbers")
                              for r in ids[:20]])
        lo, mid, hi = np.sort(q, axis=0)
        up, down = hi - mid, mid - lo
        scale = np.maximum(np.maximum(np.abs(mid), up + down), 1.0)
        point = (up + down) <= 1e-12 * scale
        up = np.maximum(up, down / MAX_SKEW)
        down = np.maximum(down, up / MAX_SKEW)
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.where(point, 0.0, np.log(up / down) / Z90)
        up = np.where(point, 0.0, up)
        floor = np.where(lo >= 0, 0.0, -np.inf)
        return cls(mid, up, sigma, floor)

    def __len__(self) -> int:
        return len(self.median)

    def ppf_z(self, z: np.ndarray, cols: slice | np.ndarray | None = None) -> np.ndarray:
        """Map standard-normal draws (..., reps) to bookings; float32 stays float32."""
        sel = slice(None) if cols is None else cols
        dt = np.dtype(np.float32) if z.dtype == np.float32 else np.dtype(np.float64)
        sigma = self.sigma[sel]
        small = np.abs(sigma) < _TINY_SIGMA
        safe = np.where(small, 1.0, sigma)
        # expm1(s z) / expm1(s z90), with the normal limit z / z90 where s ~ 0.
        scale = self.up[sel] * np.where(small, 1.0 / Z90, 1.0 / np.expm1(safe * Z90))
        x: np.ndarray = np.array(z, dtype=dt, copy=True)
        if not small.all():
            x *= safe.astype(dt)
            np.expm1(x, out=x)
            if small.any():
                x = np.where(small, z, x).astype(dt)
        x *= scale.astype(dt)
        x += self.median[sel].astype(dt)
        np.maximum(x, self.floor[sel].astype(dt), out=x)
        return x

    def quantile(self, p: npt.ArrayLike) -> np.ndarray:
        """Quantile(s) ``p`` of each rep: shape (len(p), reps) or (reps,) for a scalar."""
        p_arr = np.asarray(p, dtype=np.float64)
        z = np.asarray(ndtri(p_arr), dtype=np.float64)
        out = self.ppf_z(np.broadcast_to(z[..., None], (*z.shape, len(self))).copy())
        return out

    def prob_at_least(self, x: npt.ArrayLike) -> np.ndarray:
        """``P(X >= x)`` per rep, in closed form (``x`` broadcasts against reps)."""
        x = np.asarray(x, dtype=np.float64)
        up, s, mid = self.up, self.sigma, self.median
        small = np.abs(s) < _TINY_SIGMA
        with np.errstate(divide="ignore", invalid="ignore"):
            t = (x - mid) / up  # = expm1(s z) / expm1(s z90)
            arg = 1.0 + t * np.expm1(np.where(small, 1.0, s) * Z90)
            z_skew = np.log(np.where(arg > 0, arg, np.nan)) / np.where(small, 1.0, s)
            # Outside the support of a skewed curve: below its lower end if s>0, above its upper end if s<0.
            z_skew = np.where(arg > 0, z_skew, np.where(s > 0, -np.inf, np.inf))
            z = np.where(small, t * Z90, z_skew)
        point = up <= 0
        prob = np.where(point, (mid >= x).astype(float), 1.0 - ndtr(z))
        # The floor at 0 puts the mass below 0 on 0 itself.
        return np.where((self.floor == 0.0) & (x <= 0), 1.0, prob)

    def mean(self, nodes: int = 96) -> np.ndarray:
        """Expected yearly bookings per rep (Gauss-Hermite quadrature, floor included)."""
        z, w = np.polynomial.hermite_e.hermegauss(nodes)
        w = w / w.sum()
        return w @ self.ppf_z(np.repeat(z[:, None], len(self), axis=1))


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of draw block ``block`` (independent of chunking)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


def correlated_normals(
    rng: np.random.Generator,
    n_draws: int,
    team_codes: np.ndarray,
    n_teams: int,
    company: float,
    team: float,
    dtype: type = np.float32,
) -> np.ndarray:
    """Latent standard normals (draws x reps) with company and team shared shocks.

    ``company`` and ``team`` are the shares of each rep's latent variance that are
    common to all reps and to the rep's team; the rest is the rep's own.
    """
    if company < 0 or team < 0 or company + team > 1 + 1e-12:
        raise ValueError(f"correlation shares must be >= 0 and sum to <= 1, got {company}, {team}")
    n_reps = len(team_codes)
    z = rng.standard_normal((n_draws, n_reps), dtype=dtype)
    own = np.sqrt(max(0.0, 1.0 - company - team))
    if own != 1.0:
        z *= dtype(own)
    shared_c = rng.standard_normal(n_draws, dtype=dtype) * dtype(np.sqrt(company))
    shared_t = rng.standard_normal((n_draws, max(n_teams, 1)), dtype=dtype) * dtype(np.sqrt(team))
    z += shared_c[:, None]
    z += np.take(shared_t, team_codes, axis=1)
    return z


def sample_bookings(
    curve: QuantileCurve,
    team_codes: np.ndarray,
    company: float,
    team: float,
    rng: np.random.Generator,
    n_draws: int,
    dtype: type = np.float32,
) -> np.ndarray:
    """Correlated yearly bookings draws (draws x reps) from fitted marginals.

    Reusable by tracking: fit a :class:`QuantileCurve` to the remaining-period
    distribution and add the actuals to date.
    """
    codes = np.asarray(team_codes, dtype=np.int64)
    n_teams = int(codes.max()) + 1 if len(codes) else 1
    z = correlated_normals(rng, n_draws, codes, n_teams, company, team, dtype)
    return curve.ppf_z(z)


def split_quarters(
    yearly: np.ndarray, shares: np.ndarray, noise: float, rng: np.random.Generator
) -> np.ndarray:
    """Spread yearly draws (draws x reps) over quarters: returns (4, draws, reps).

    ``shares`` (reps x 4, rows summing to 1) are the expected quarter shares; each
    quarter is multiplied by mean-one log-normal noise of log-sd ``noise`` and the four
    are renormalised, so the quarters sum exactly to the year.
    """
    d, r = yearly.shape
    eps = rng.standard_normal((4, d, r), dtype=np.float32 if yearly.dtype == np.float32 else np.float64)
    return spread_quarters(yearly, shares, eps, noise)


def spread_quarters(yearly: np.ndarray, shares: np.ndarray, eps: np.ndarray, noise: float) -> np.ndarray:
    """:func:`split_quarters` with pre-drawn standard normals ``eps`` (4, draws, reps), reused in place."""
    dt = eps.dtype.type
    if noise > 0:
        eps *= dt(noise)
        eps -= dt(noise * noise / 2)
        np.exp(eps, out=eps)
    else:
        eps.fill(1.0)
    eps *= shares.T.astype(eps.dtype)[:, None, :]
    total = eps.sum(axis=0)
    np.divide(yearly, total, out=total, where=total > 0)
    eps *= total
    return eps


def calibration_table(predicted: npt.ArrayLike, hit: npt.ArrayLike, bins: int = 10) -> pd.DataFrame:
    """Reliability table: reps binned into deciles of predicted probability.

    Returns
    -------
    DataFrame
        ``band, reps, predicted, observed, gap`` (percentage points = 100 x gap).
    """
    p = np.asarray(predicted, dtype=np.float64)
    h = np.asarray(hit, dtype=np.float64)
    order = np.argsort(p, kind="stable")
    band = np.empty(len(p), dtype=np.int64)
    band[order] = np.arange(len(p)) * bins // max(len(p), 1)
    frame = pd.DataFrame({"band": band + 1, "p": p, "h": h})
    out = frame.groupby("band").agg(reps=("p", "size"), predicted=("p", "mean"), observed=("h", "mean"))
    out["gap"] = out["observed"] - out["predicted"]
    return out.reset_index()
