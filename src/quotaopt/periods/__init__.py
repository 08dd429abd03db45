"""Periods: the annual quota over quarters, months and ISO weeks, and the seasonality it follows.

- :func:`decompose` -- each rep's quota over the plan year's periods, rounded to whole
  units by largest remainder so every level sums exactly to the one above;
- :func:`quarter_quotas` -- the quarter sums of any such split, for the simulator;
- :func:`learn_month_weights`, :func:`learn_quarter_noise` -- seasonality learned from
  bookings, shrunk toward flat by its own noise; :func:`seasonality_backtest` scores it;
- :func:`quarter_weights`, :func:`company_quarter_weights`, :func:`average_deal_size`.

The calendar the split follows (working days, labels, tenure) is :mod:`quotaopt.calendar`.
"""

from quotaopt.periods._seasonality import (
    ALL,
    DEFAULT_SHRINK,
    MONTHS,
    average_deal_size,
    company_quarter_weights,
    learn_month_weights,
    learn_quarter_noise,
    quarter_weights,
    seasonality_backtest,
)
from quotaopt.periods._split import PERIOD_ORDER, decompose, quarter_quotas

__all__ = [
    "ALL", "DEFAULT_SHRINK", "MONTHS", "PERIOD_ORDER", "average_deal_size", "company_quarter_weights", "decompose",
    "learn_month_weights", "learn_quarter_noise", "quarter_quotas", "quarter_weights", "seasonality_backtest",
]
