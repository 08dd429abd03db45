"""Product-line quotas: each rep's revenue quota split over its lines, exactly.

A rep's line shares for the plan year come from its own recent mix (the last two years,
the last counting double), shrunk toward the company's mix by a pseudo-amount so a rep
with little history is not planned on a few deals, then tilted by each line's company
growth in the last year (a line growing faster takes more of every rep's mix). That is
what beats "last year's split" when lines grow at different speeds
(``benchmarks/capacity.py`` prints the backtest). Line capacities are the rep's revenue
capacities times its shares; quotas split the revenue quota's whole units by largest
remainder, so a rep's lines add up to its revenue quota to the cent.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["SHRINK", "LineShares", "forecast_line_shares", "last_year_shares"]

#: The company mix weighs like this share of a median rep's two-year bookings.
SHRINK = 0.25
#: A line's yearly growth read from the company is held within these factors (a line that
#: was launched or stopped last year says little about its next one).
GROWTH_LIMITS = (0.33, 3.0)


@dataclass(frozen=True)
class LineShares:
    """Each rep's forecast share of each line (rows sum to 1) and what went into it."""

    rep_ids: np.ndarray
    lines: tuple[str, ...]
    shares: np.ndarray  # (reps, lines)
    company_mix: np.ndarray  # (lines,)
    line_growth: np.ndarray  # (lines,)


def _years(amounts: pd.DataFrame, plan_year: int) -> list[int]:
    return sorted({int(y) for y in amounts.index.get_level_values("year") if y < plan_year})


def _year_table(amounts: pd.DataFrame, year: int, rep_ids: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    years = amounts.index.get_level_values("year")
    rows = amounts[years == year].droplevel("year")
    table = rows.reindex(index=rep_ids, columns=list(lines), fill_value=0.0).fillna(0.0)
    return np.asarray(np.clip(table.to_numpy(dtype=np.float64), 0.0, None))  # credit notes do not make a mix negative


def forecast_line_shares(amounts: pd.DataFrame, rep_ids: Sequence[str] | np.ndarray, plan_year: int,
                         lines: Sequence[str]) -> LineShares:
    """Forecast every rep's line mix for ``plan_year`` (see the module).

    Parameters
    ----------
    amounts : DataFrame
        From :func:`quotaopt.measures.history.line_amounts`.
    rep_ids : sequence of str
    plan_year : int
    lines : sequence of str
        The product lines to plan, in output order.
    """
    ids = np.asarray(rep_ids, dtype=object)
    years = _years(amounts, plan_year)
    last = _year_table(amounts, years[-1], ids, lines) if years else np.zeros((len(ids), len(lines)))
    prev = _year_table(amounts, years[-2], ids, lines) if len(years) > 1 else np.zeros_like(last)
    recent = 2.0 * last + prev
    company = recent.sum(axis=0)
    mix = company / company.sum() if company.sum() > 0 else np.full(len(lines), 1.0 / len(lines))
    totals = recent.sum(axis=1)
    pseudo = SHRINK * float(np.median(totals[totals > 0])) if (totals > 0).any() else 1.0
    shares = (recent + pseudo * mix) / (totals + pseudo)[:, None]
    if len(years) > 1 and (prev.sum(axis=0) > 0).all():
        growth = np.clip(last.sum(axis=0) / prev.sum(axis=0), *GROWTH_LIMITS)
        # Relative growth: only the difference between lines moves a mix.
        growth = growth / (last.sum() / prev.sum()) if prev.sum() > 0 else growth
    else:
        growth = np.ones(len(lines))
    tilted = shares * growth[None, :] ** (plan_year - years[-1] if years else 1)
    tilted /= tilted.sum(axis=1, keepdims=True)
    return LineShares(ids, tuple(lines), tilted, mix, growth)


def last_year_shares(amounts: pd.DataFrame, rep_ids: Sequence[str] | np.ndarray, plan_year: int,
                     lines: Sequence[str]) -> np.ndarray:
    """The baseline: each rep's own mix of the last year (the company's where it booked nothing)."""
    ids = np.asarray(rep_ids, dtype=object)
    years = _years(amounts, plan_year)
    last = _year_table(amounts, years[-1], ids, lines) if years else np.zeros((len(ids), len(lines)))
    company = last.sum(axis=0)
    mix = company / company.sum() if company.sum() > 0 else np.full(len(lines), 1.0 / len(lines))
    total = last.sum(axis=1, keepdims=True)
    return np.where(total > 0, last / np.where(total > 0, total, 1.0), mix[None, :])
