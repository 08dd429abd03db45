"""Product lines in a synthetic company: each with its own growth and seasonality, with truth.

A deal's product line is drawn after the deal exists, so revenue -- capacities, deals,
shocks, every other truth file -- is exactly what it is without lines. Rep ``r`` sells
line ``l`` in month ``m`` of year ``t`` with probability proportional to

``affinity[r, l] x growth[l] ** t x season[l, m]``

``affinity`` is the rep's own lasting mix (Dirichlet around the company mix, so reps
differ and their history says how); ``growth`` moves the mix year by year (a line
growing faster takes share from the others in every book); ``season`` gives each line
its own months. ``truth/line_mix`` is each rep's expected share of each line per year
(the seasonality averaged out).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["LineTruth", "assign_lines", "line_mix_table"]

#: Line names, in order (a company with k lines uses the first k).
LINE_NAMES = ("Devices", "Services", "Software", "Support", "Training", "Cloud")
#: How closely a rep's own mix follows the company's (Dirichlet concentration x company mix).
AFFINITY_CONCENTRATION = 6.0
#: Relative yearly growth of each line: a log-normal spread around 1.
GROWTH_SD = 0.12
#: Amplitude of each line's own seasonality (a cosine with a random peak month).
SEASON_AMPLITUDE = 0.35


@dataclass(frozen=True)
class LineTruth:
    """The hidden truth of the lines."""

    names: tuple[str, ...]
    company_mix: np.ndarray  # (lines,)
    affinity: np.ndarray  # (reps, lines), rows sum to 1
    growth: np.ndarray  # (lines,), relative yearly growth
    season: np.ndarray  # (lines, 12), each row averages 1

    def mix(self, t: int, month: np.ndarray | None = None) -> np.ndarray:
        """Each rep's line probabilities in year index ``t`` (a month's, or the year's average)."""
        season = self.season[:, month].T if month is not None else np.ones((1, len(self.names)))
        weights = self.affinity * self.growth[None, :] ** t * season
        return np.asarray(weights / weights.sum(axis=1, keepdims=True))


def assign_lines(deals: dict[str, np.ndarray], n_reps: int, n_lines: int,
                 rng: np.random.Generator) -> tuple[np.ndarray, LineTruth]:
    """A product line (index into :data:`LINE_NAMES`) for every deal, and the truth behind it.

    Credit notes are drawn like deals; a refund of a line is then a refund on that line's mix.
    """
    if not 1 <= n_lines <= len(LINE_NAMES):
        raise ValueError(f"n_lines must be 1 to {len(LINE_NAMES)}, got {n_lines}")
    company = rng.dirichlet(np.full(n_lines, 4.0))
    affinity = rng.dirichlet(AFFINITY_CONCENTRATION * n_lines * company, size=n_reps)
    growth = np.exp(rng.normal(0.0, GROWTH_SD, n_lines))
    peak = rng.integers(0, 12, n_lines)
    months = np.arange(12)
    season = 1.0 + SEASON_AMPLITUDE * np.cos(2 * np.pi * (months[None, :] - peak[:, None]) / 12)
    truth = LineTruth(LINE_NAMES[:n_lines], company, affinity, growth, season / season.mean(axis=1, keepdims=True))
    month = (deals["date"].astype("datetime64[M]").astype(np.int64) % 12).astype(np.int64)
    weights = affinity[deals["rep"]] * growth[None, :] ** deals["year"][:, None] * truth.season[:, month].T
    cum = np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)
    line = (rng.random(len(month))[:, None] > cum).sum(axis=1)
    return np.minimum(line, n_lines - 1), truth


def line_mix_table(truth: LineTruth, rep_ids: np.ndarray, employed: np.ndarray, years: list[int]) -> pd.DataFrame:
    """``truth/line_mix``: rep_id, year, product_line, share (the year's expected mix) for every rep-year worked.

    ``years`` are the calendar years of year indices 1.. (history and plan year).
    """
    rows = []
    for t, year in enumerate(years, start=1):
        worked = np.flatnonzero(employed[:, t])
        mix = truth.mix(t)[worked]
        for k, name in enumerate(truth.names):
            rows.append(pd.DataFrame({"rep_id": rep_ids[worked], "year": year, "product_line": name,
                                      "share": np.round(mix[:, k], 6)}))
    return pd.concat(rows, ignore_index=True).sort_values(["rep_id", "year", "product_line"], kind="stable")
