"""Tracking: where a plan stands during its year, what it will likely reach, and the re-plan.

- :func:`plan_to_date`, :func:`actual_to_date`, :func:`status_table` -- pace and
  red/yellow/green by working days (:mod:`._status`);
- :func:`update`, :func:`rep_forecast`, :func:`unit_forecast` -- the chance of still
  making the year given the actuals so far (:mod:`._forecast`), read through what past
  years say about a year's first months (:func:`fit_history`) and about what a team's
  reps share (:func:`team_share`);
- :func:`assess` -- all of it for a run at an as-of date (:class:`Assessment`);
- :func:`replan` -- the remaining periods re-optimised; past periods stay. It returns
  the new plan and its change record: ``quotaopt track --replan``
  (:func:`quotaopt.commands.track`) writes them. :func:`recalibrate` resets the target.

Nothing here reads or writes a file.
"""

from quotaopt.tracking._activities import (
    ACTIVITY_STATUS_COLUMNS,
    activity_attainment,
    activity_status,
)
from quotaopt.tracking._assess import (
    Assessment,
    assess,
    hire_dates,
    parse_as_of,
    plan_year_of,
    quarter_end_shares,
    run_scenario,
)
from quotaopt.tracking._forecast import (
    DEFAULT_DEALS,
    MIN_EXPECTED_DEALS,
    MIN_LEVEL_SHARE,
    QUANTILES,
    Posterior,
    deal_noise,
    draw_rest,
    level_variance,
    luck_var,
    rep_forecast,
    unit_forecast,
    update,
)
from quotaopt.tracking._history import CLIP, MIN_POINTS, HistoryFit, fit_history, split_points
from quotaopt.tracking._limits import ahead_of_pace, carry, ratchet_ceiling
from quotaopt.tracking._measures import MEASURE_STATUS_COLUMNS, measure_status
from quotaopt.tracking._recalibrate import Recalibration, check_request, new_target, recalibrate
from quotaopt.tracking._replan import (
    RecalibrationRequest,
    frozen_labels,
    replan,
    split_remaining,
    verify_replan,
)
from quotaopt.tracking._shared import MIN_TEAMS, TeamShare, team_share
from quotaopt.tracking._status import (
    CALIBRATION_DEVIATION,
    PACE_DIGITS,
    STATUS_COLUMNS,
    STATUSES,
    actual_to_date,
    calibrate_flags,
    elapsed_share,
    pace_and_status,
    plan_to_date,
    round_significant,
    status_table,
    unit_members,
)

__all__ = [
    "ACTIVITY_STATUS_COLUMNS", "activity_attainment", "activity_status",
    "MEASURE_STATUS_COLUMNS", "measure_status",
    "CALIBRATION_DEVIATION", "CLIP", "DEFAULT_DEALS", "MIN_EXPECTED_DEALS", "MIN_LEVEL_SHARE", "MIN_POINTS",
    "MIN_TEAMS", "PACE_DIGITS", "QUANTILES", "STATUSES", "STATUS_COLUMNS", "Assessment", "HistoryFit", "Posterior", "TeamShare",
    "Recalibration", "RecalibrationRequest", "actual_to_date", "ahead_of_pace", "assess", "calibrate_flags", "carry",
    "check_request", "deal_noise", "draw_rest", "elapsed_share", "fit_history", "frozen_labels", "hire_dates",
    "level_variance", "luck_var", "new_target", "pace_and_status", "parse_as_of", "plan_to_date", "plan_year_of", "quarter_end_shares",
    "ratchet_ceiling", "recalibrate", "rep_forecast", "replan", "round_significant", "run_scenario",
    "split_points", "split_remaining", "status_table", "team_share", "unit_forecast", "unit_members", "update", "verify_replan",
]
