"""A period's forecast from closed bookings, the open pipeline and bookings not yet in it.

For each rep, over a period ending at a horizon date (the quarter, or the year):

``total = booked in the period so far + pipeline outcome + bookings not yet in the pipeline``

- **Pipeline outcome.** Each open opportunity closes won within the horizon with its learned
  chance ``p`` (:mod:`quotaopt.tracking.pipeline.conversion`) for its CRM amount times the
  learned won-over-CRM ratio ``a``, independently of the others: every draw decides every
  opportunity (one float32 uniform each), and the won amounts are summed per rep,
  so a rep's few large deals keep their lumpy sum (no normal or lognormal stand-in). The
  pipeline's draws are made for :data:`PIPELINE_BLOCKS` blocks and paired again with later
  level draws, so their cost is fixed however many draws the simulation asks for.
- **Not yet in the pipeline.** The rep's level posterior from the actuals
  (:mod:`quotaopt.tracking._forecast`) over the expected share of the year the horizon
  still holds, times the share of such bookings that come from opportunities created
  after the as-of date. These draws carry the company and team correlation of the
  existing Monte Carlo; units add their reps' draws.

A rep with no opportunity at all in the file (nothing to read) is forecast from its
bookings alone (its fresh share is 1 and its pipeline empty), so an empty file gives the
bookings-only forecast exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from quotaopt.incentives import BLOCK, block_rng
from quotaopt.tracking._forecast import QUANTILES, Posterior, draw_rest

#: Blocks of pipeline draws made per horizon; level draw block ``b`` pairs with pipeline block ``b mod`` this.
PIPELINE_BLOCKS = 4
#: Draws kept per rep for its quantiles (its chance counts every draw).
REP_QUANTILE_DRAWS = 2000
#: Draws x reps drawn at once per chunk.
_CHUNK_ELEMENTS = 1 << 20


@dataclass(frozen=True)
class OpenPipeline:
    """The open opportunities of a horizon: rep, chance to be won within it, and won amount.

    Attributes
    ----------
    rep : ndarray of int
        Plan position of each opportunity's rep.
    p : ndarray
        Chance it is won within the horizon.
    amount : ndarray
        Its amount if won (CRM amount x the learned won-over-CRM ratio).
    n_reps : int
    """

    rep: np.ndarray
    p: np.ndarray
    amount: np.ndarray
    n_reps: int

    @classmethod
    def empty(cls, n_reps: int) -> OpenPipeline:
        """No pipeline: nothing is won from it."""
        return cls(np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0), n_reps)

    @property
    def mean(self) -> np.ndarray:
        """Per rep: the expected won amount within the horizon.

        Examples
        --------
        >>> import numpy as np
        >>> OpenPipeline(np.array([0, 0]), np.array([0.5, 1.0]), np.array([10.0, 4.0]), 1).mean
        array([9.])
        """
        return np.bincount(self.rep, weights=self.p * self.amount, minlength=self.n_reps)

    def draw(self, rng: np.random.Generator, n_draws: int) -> np.ndarray:
        """Draws (draws x reps) of the won amounts: each opportunity won or not on its own chance.

        Exact (no moment matching): one uniform per opportunity and draw, the won amounts
        summed per rep in opportunity order, so a rep's few large deals keep their lumpy sum.
        A draw's uniforms are made row by row (the same stream as one draws x opportunities
        block, without holding it) and summed by ``bincount``: memory stays one row, and
        the sums come in the order a sparse (reps x opportunities) product adds them, so the
        draws are the same to the bit.

        Examples
        --------
        >>> import numpy as np
        >>> pipe = OpenPipeline(np.array([0, 0, 1]), np.array([1.0, 0.0, 1.0]), np.array([3.0, 5.0, 2.0]), 2)
        >>> pipe.draw(np.random.default_rng(0), 2)
        array([[3., 2.],
               [3., 2.]])
        """
        out = np.zeros((n_draws, self.n_reps))
        if len(self.p) == 0:
            return out
        p = self.p.astype(np.float32)
        amount = np.asarray(self.amount, dtype=np.float64)
        won_amount = np.empty(len(p))
        for row in range(n_draws):
            # amount x (0 or 1), exactly the terms of the sparse product; bincount adds them in order.
            np.multiply(amount, rng.random(len(p), dtype=np.float32) < p, out=won_amount)
            out[row] = np.bincount(self.rep, weights=won_amount, minlength=self.n_reps)
        return out


def pipeline_rng(seed: int, block: int) -> np.random.Generator:
    """The pipeline draws' generator of block ``block``: a stream apart from the levels' (chunk-free)."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block, 1))))


def _summary(hits: np.ndarray, draws: int, sample: np.ndarray) -> pd.DataFrame:
    q = np.quantile(sample, QUANTILES, axis=0) if len(sample) else np.full((3, len(hits)), np.nan)
    return pd.DataFrame({"p_attain": hits / draws if draws else np.full(len(hits), np.nan),
                         "p10": q[0], "p50": q[1], "p90": q[2]})


def period_forecast(post: Posterior, booked: np.ndarray, rest: np.ndarray, fresh: np.ndarray,
                    pipeline: OpenPipeline, member: sp.spmatrix | np.ndarray, rep_quota: np.ndarray,
                    unit_quota: np.ndarray, draws: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Chance of reaching each rep's and unit's period quota, and the period's P10/P50/P90.

    Parameters
    ----------
    post : Posterior
        Levels updated from the actuals (:func:`quotaopt.tracking.update`).
    booked : ndarray
        Per rep: booked inside the period up to the as-of date.
    rest : ndarray
        Per rep: expected share of the year's bookings between the as-of date and the horizon.
    fresh : ndarray
        Per rep: share of those from opportunities not yet created (1 = bookings only).
    pipeline : OpenPipeline
    member : sparse matrix or ndarray
        (reps x units) 0/1.
    rep_quota, unit_quota : ndarray
        The period's quotas.
    draws, seed : int
        Block ``b`` of :data:`~quotaopt.incentives.BLOCK` draws uses ``block_rng(seed, b)`` for the
        levels and the pipeline draws of block ``b mod`` :data:`PIPELINE_BLOCKS` (from
        :func:`pipeline_rng`): results never depend on chunking, and half a million open
        opportunities cost a fixed number of draws whatever ``draws`` is.

    Returns
    -------
    (reps, units) : tuple of DataFrame
        ``p_attain, p10, p50, p90`` in rep and unit order; a rep's chance counts every draw,
        its quantiles the first :data:`REP_QUANTILE_DRAWS` (memory stays reps x that).
    """
    booked = np.asarray(booked, dtype=np.float64)
    share = np.clip(np.asarray(rest, dtype=np.float64) * np.asarray(fresh, dtype=np.float64), 0.0, 1.0)
    weights_t = sp.csr_matrix(member, dtype=np.float64).T.tocsr()
    rep_quota = np.asarray(rep_quota, dtype=np.float64)
    unit_quota = np.asarray(unit_quota, dtype=np.float64)
    n = len(booked)
    n_blocks = -(-draws // BLOCK)
    pipe_blocks = [pipeline.draw(pipeline_rng(seed, b), BLOCK) for b in range(min(PIPELINE_BLOCKS, n_blocks))]
    rep_hits = np.zeros(n)
    rep_sample = np.empty((min(draws, REP_QUANTILE_DRAWS), n))
    unit_totals = np.empty((draws, weights_t.shape[0]))
    base_units = weights_t @ booked
    step = max(BLOCK, (_CHUNK_ELEMENTS // max(n, 1)) // BLOCK * BLOCK)
    for first in range(0, draws, step):
        last = min(draws, first + step)
        parts = []
        for blk in range(first // BLOCK, -(-last // BLOCK)):
            size = min(last, (blk + 1) * BLOCK) - blk * BLOCK
            parts.append(draw_rest(post, share, block_rng(seed, blk), size) + pipe_blocks[blk % PIPELINE_BLOCKS][:size])
        future = np.concatenate(parts)
        totals = booked[None, :] + future
        rep_hits += (totals >= rep_quota[None, :]).sum(axis=0)
        if first < len(rep_sample):
            keep = min(last, len(rep_sample)) - first
            rep_sample[first:first + keep] = totals[:keep]
        unit_totals[first:last] = base_units[None, :] + (weights_t @ future.T).T
    unit_hits = (unit_totals >= unit_quota[None, :]).sum(axis=0)
    return _summary(rep_hits, draws, rep_sample), _summary(unit_hits, draws, unit_totals)
