"""Incentives: payout curves, the bookings a rep may book, and the Monte Carlo of a plan year.

- :func:`payout`, :func:`payout_periods`, :func:`explain_payout`, :class:`PayoutCurve`,
  :func:`plan_for_rep`, :func:`find_plan`, :func:`team_bonus` -- the payout plans of
  contract §2, band by band;
- :class:`QuantileCurve` and the correlated draws of :mod:`._sampling` -- a rep's
  bookings from its P10/P50/P90 with company and team shocks;
- :func:`scorecard_payout`, :func:`explain_scorecard`, :class:`ScorecardCurve` -- plans with
  weighted ``components`` (:mod:`._scorecard`), and :class:`CoefficientCurve`, the coefficient
  rule (``mode: coefficient``, :mod:`._coefficient`);
- :func:`simulate` -- attainment and payouts over ``simulation.draws`` years, in
  chunks that any executor may run (:class:`SimulationResult`).
"""

from quotaopt.incentives._coefficient import CoefficientCurve
from quotaopt.incentives._payout import (
    BandRow,
    PayoutCurve,
    PayoutExplanation,
    explain_payout,
    find_plan,
    payout,
    payout_periods,
    plan_for_rep,
    render_explanation,
    team_bonus,
)
from quotaopt.incentives._sampling import (
    BLOCK,
    MAX_SKEW,
    Z90,
    QuantileCurve,
    block_rng,
    calibration_table,
    correlated_normals,
    sample_bookings,
    split_quarters,
    spread_quarters,
)
from quotaopt.incentives._scorecard import (
    ScorecardCurve,
    ScorecardExplanation,
    explain_scorecard,
    plan_curve,
    read_attainments,
    scorecard_payout,
)
from quotaopt.incentives._simulate import (
    DEFAULT_QUARTER_NOISE,
    HIST_EDGES,
    QUARTER_COLUMNS,
    SimulationFigures,
    SimulationResult,
    company_bookings,
    simulate,
)

__all__ = [
    "CoefficientCurve", "ScorecardCurve", "ScorecardExplanation", "explain_scorecard", "plan_curve",
    "read_attainments", "scorecard_payout",
    "BLOCK", "DEFAULT_QUARTER_NOISE", "HIST_EDGES", "MAX_SKEW", "QUARTER_COLUMNS", "Z90", "BandRow", "PayoutCurve",
    "PayoutExplanation", "QuantileCurve", "SimulationFigures", "SimulationResult", "block_rng", "calibration_table", "company_bookings",
    "correlated_normals", "explain_payout", "find_plan", "payout", "payout_periods", "plan_for_rep",
    "render_explanation", "sample_bookings", "simulate", "split_quarters", "spread_quarters", "team_bonus",
]
