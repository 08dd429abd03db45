"""Forecast errors shared by every backtest (capacity, company level, seasonality)."""

from __future__ import annotations

import numpy as np

__all__ = ["wape"]


def wape(pred: np.ndarray, actual: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |p - y| / sum |y| (NaN when every y is 0).

    Examples
    --------
    >>> wape(np.array([110.0, 90.0]), np.array([100.0, 100.0]))
    0.1
    """
    denom = float(np.abs(actual).sum())
    return float(np.abs(pred - actual).sum() / denom) if denom > 0 else float("nan")
