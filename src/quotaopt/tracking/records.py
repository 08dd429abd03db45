"""track.json, defined in one place: what :func:`quotaopt.tracking.assess` found and what ``track`` read and wrote.

:class:`AssessmentRecord` is what the assessment knows (as-of date, thresholds, the forecast's
settings, colour counts, the quarter); ``quotaopt track`` adds what only the command knows
(the files it read, the re-plan it wrote, the hashes of its outputs) as a
:class:`TrackRecord`. Like summary.json's sections (:class:`quotaopt.records.Record`),
unknown keys are refused, numbers keep their type, and a key nobody set is not written.

Examples
--------
>>> FileRead(file="actuals.csv", sha256="ab", rows=3).record()
{'file': 'actuals.csv', 'sha256': 'ab', 'rows': 3}
"""

from __future__ import annotations

from quotaopt.planning._summary import Ratchet, Recalibration
from quotaopt.records import Number, Record

__all__ = [
    "ActivitiesRead", "AssessmentRecord", "ConversionSummary", "Correlation", "FileRead", "ForecastSettings",
    "FunnelRecord", "IgnoredActuals", "PipelineRead", "QuarterRecord", "ReplanFacts", "SharedVariance",
    "StageRates", "Thresholds", "TrackRecord",
]


class StageRates(Record):
    """One stage's learned chances (all roles): ever won, and won within the horizon by due bucket."""

    examples: int | None = None
    p_win_ever: float
    p_win_in_horizon_by_due_bucket: list[float] | None = None


class ConversionSummary(Record):
    """What the pipeline's past taught (:meth:`quotaopt.tracking.pipeline.Conversion.summary`)."""

    method: str
    examples: int
    by_stage: dict[str, StageRates] | None = None
    due_bucket_edges_days: list[float] | None = None
    median_days_to_win: float | None = None
    amount_ratio_by_stage: dict[str, float] | None = None
    fresh_share: dict[str, float] | None = None


class PipelineRead(Record):
    """The CRM pipeline as the quarter's forecast read it."""

    rows: int
    rows_after_as_of: int
    snapshots: int
    conversion: ConversionSummary
    open: int | None = None
    open_amount: Number | None = None
    reps_without_opportunities: int | None = None


class FunnelRecord(Record):
    """The funnel view's basis, each stage's usual days and how many opportunities stall."""

    basis: str
    usual_days_in_stage: dict[str, float]
    stalled: int


class QuarterRecord(Record):
    """The quarter answered for (``--horizon``), and with a pipeline what it held."""

    quarter: str
    first_day: str
    last_day: str
    horizon_days: int | None
    days_left: int
    pipeline: PipelineRead | None
    funnel: FunnelRecord | None = None


class Thresholds(Record):
    """Pace below ``red`` is red, at or above ``green`` green; calibration beyond the deviation."""

    red: Number
    green: Number
    calibration_deviation: Number


class Correlation(Record):
    """The scenario's shares of shared (company, team) variance."""

    company: Number
    team: Number


class SharedVariance(Record):
    """The shared shocks' variances in log units, and where the team's came from."""

    company_var: Number
    team_var: Number
    team_from: str
    #: What past years said (:meth:`quotaopt.tracking._shared.TeamShare.as_dict`), when they did.
    history: dict[str, Number] | None = None


class ForecastSettings(Record):
    """How the conditional forecast was made."""

    method: str
    draws: int
    seed: int
    #: Per role: what past years say about reading a year early (deal-luck scale, shape shift).
    history: dict[str, dict[str, Number]]
    correlation: Correlation
    shared: SharedVariance


class IgnoredActuals(Record):
    """Actuals rows the status left out: after the as-of date, or of reps without a quota."""

    rows_after_as_of: int
    rows_without_quota: int
    amount_without_quota: Number


class AssessmentRecord(Record):
    """What :func:`quotaopt.tracking.assess` found, as track.json records it."""

    as_of: str
    plan_year: int
    run_id: str
    thresholds: Thresholds
    forecast: ForecastSettings
    #: ``unit`` and ``rep`` -> colour -> how many.
    counts: dict[str, dict[str, int]]
    calibrate: int
    ignored_actuals: IgnoredActuals
    split: str
    quarter: QuarterRecord


class FileRead(Record):
    """A file ``track`` read: where, its SHA-256 and rows."""

    file: str
    sha256: str
    rows: int


class ActivitiesRead(FileRead):
    """activities.csv as read, and the colours of its metrics."""

    rows_without_target: int
    status: dict[str, int]


class ReplanFacts(Record):
    """What a status page says about a re-plan (a run's ``replan`` change record, in part).

    Every key may be missing: the facts of a re-plan made by an older quotaopt are shown as
    its manifest has them.
    """

    run_id: str | None = None
    path: str | None = None
    as_of: str | None = None
    frozen_periods: list[str] | None = None
    reps: int | None = None
    reps_changed: int | None = None
    quota_moved: Number | None = None
    exceptions: int | None = None
    recalibration: Recalibration | None = None
    ratchet: Ratchet | None = None


class TrackRecord(AssessmentRecord):
    """track.json: the assessment and what ``quotaopt track`` read and wrote."""

    opportunities: FileRead | None = None
    #: The run tracked is a re-plan: its parent and what it changed.
    replan_of: ReplanFacts | None = None
    actuals: FileRead
    #: The re-plan this tracking wrote (``--replan``).
    replan: ReplanFacts | None = None
    #: Output file name -> SHA-256.
    outputs: dict[str, str]
    activities: ActivitiesRead | None = None
