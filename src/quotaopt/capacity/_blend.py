"""Weights of the rep-part candidates, from their held-out error in money.

Given each candidate's held-out prediction of every validation row (in money), the
weights are the point of the simplex (non-negative, summing to 1) with the least total
absolute error -- exactly the backtest's WAPE, so the biggest rep counts as much as
their money and the smallest as little. It is a small linear programme, solved with
HiGHS through scipy. The weights are then shrunk toward persistence by
``n / (n + SHRINK_ROWS)`` with ``n`` held-out rows, so a 15-rep company keeps most of
"same as last year" and a 1,000-rep one follows its record.
"""

from __future__ import annotations

from typing import cast

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

#: Pseudo-rows of persistence the weights are shrunk toward.
SHRINK_ROWS = 50.0
#: Most validation rows the programme reads (a data-keyed sample beyond): four weights
#: are pinned down by a few thousand rows, and the programme grows with them.
MAX_ROWS = 3_000


def least_absolute_weights(predictions: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """Simplex weights minimising ``sum |actual - predictions @ w|``.

    Parameters
    ----------
    predictions : ndarray of shape (n, c)
        Each candidate's prediction of each row.
    actual : ndarray of shape (n,)

    Returns
    -------
    ndarray of shape (c,)
        Non-negative, summing to 1 (rounded to 1e-6 so that refits stay stable).

    Examples
    --------
    >>> P = np.array([[1.0, 3.0], [2.0, 4.0], [3.0, 5.0]])
    >>> least_absolute_weights(P, np.array([2.0, 3.0, 4.0])).tolist()
    [0.5, 0.5]
    """
    n, c = predictions.shape
    if c == 1:
        return np.ones(1)
    scale = float(np.abs(actual).mean()) or 1.0
    P, y = predictions / scale, actual / scale
    # The standard form of L1 regression: P w + r_plus - r_minus = y, all >= 0, sum w = 1;
    # its interior-point solve is several times faster here than the simplex.
    eye = sparse.identity(n, format="csr")
    equal = sparse.vstack([sparse.hstack([sparse.csr_matrix(P), eye, -eye]),
                           sparse.hstack([sparse.csr_matrix(np.ones((1, c))), sparse.csr_matrix((1, 2 * n))])])
    cost = np.concatenate([np.zeros(c), np.ones(2 * n)])
    res = linprog(cost, A_eq=equal, b_eq=np.concatenate([y, [1.0]]), bounds=(0, None), method="highs-ipm")
    if res.status != 0 or res.x is None:
        return np.full(c, 1.0 / c)
    w = np.clip(res.x[:c], 0.0, None)
    w = np.round(w / w.sum(), 6)
    return cast("np.ndarray", w / w.sum())


def shrink_toward(weights: np.ndarray, anchor: int, rows: int) -> np.ndarray:
    """``weights`` pulled toward the candidate at position ``anchor`` (see the module docstring)."""
    keep = rows / (rows + SHRINK_ROWS)
    out = keep * weights
    out[anchor] += 1.0 - keep
    return out


def sample(keys: np.ndarray, limit: int = MAX_ROWS) -> np.ndarray:
    """Positions of at most ``limit`` rows, picked by their data keys (independent of row order)."""
    if len(keys) <= limit:
        return np.arange(len(keys))
    order = np.argsort(keys, kind="stable")
    return np.sort(order[:limit])
