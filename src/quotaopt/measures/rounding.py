"""Whole numbers that add up: totals split by shares with the largest remainder method."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["split_by_largest_remainder"]


def split_by_largest_remainder(totals: npt.ArrayLike, shares: npt.ArrayLike) -> np.ndarray:
    """Split each row's whole ``total`` over its columns in proportion to ``shares``, exactly.

    Each cell gets the floor of its ideal part; the units left go one each to the cells
    with the largest remainders (ties: the earlier column), so every row sums to its total.

    Parameters
    ----------
    totals : array_like of int, shape (n,)
    shares : array_like, shape (n, k)
        Non-negative; a row of zeros splits evenly.

    Returns
    -------
    ndarray of int64, shape (n, k)

    Examples
    --------
    >>> split_by_largest_remainder([10, 7], [[0.5, 0.3, 0.2], [1, 1, 1]]).tolist()
    [[5, 3, 2], [3, 2, 2]]
    """
    t = np.asarray(totals, dtype=np.int64)
    w = np.asarray(shares, dtype=np.float64)
    n, k = w.shape
    row = w.sum(axis=1, keepdims=True)
    w = np.where(row > 0, w / np.where(row > 0, row, 1.0), 1.0 / k)
    ideal = t[:, None] * w
    out = np.floor(ideal).astype(np.int64)  # a hair under a whole part gets it back as the largest remainder
    left = t - out.sum(axis=1)
    # Rank cells by remainder, largest first, earlier column on a tie (stable sort of -remainder).
    rank = np.argsort(-(ideal - out), axis=1, kind="stable")
    take = np.arange(k)[None, :] < left[:, None]
    np.add.at(out, (np.repeat(np.arange(n), k)[take.ravel()], rank.ravel()[take.ravel()]), 1)
    return out
