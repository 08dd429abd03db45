"""summary.json's ``measures`` section: what each measure beside revenue planned.

Examples
--------
>>> LineMeasure(total_quota=600, company_mix=0.6, line_growth=0.05).record()
{'total_quota': 600, 'company_mix': 0.6, 'line_growth': 0.05}
"""

from __future__ import annotations

from quotaopt.records import LimitExceptionRecord, Number, Record, TargetBasis

__all__ = ["CountMeasure", "LineMeasure", "MeasureSummary", "RateMeasure"]


class LineMeasure(Record):
    """A product line's revenue quota (``revenue:<line>``)."""

    total_quota: Number
    company_mix: float
    line_growth: float


class CountMeasure(Record):
    """A count measure (``new_customers``, ``deals``)."""

    company_target: Number
    target_basis: TargetBasis
    total_quota: int
    capacity_p50: Number
    exceptions: list[LimitExceptionRecord]
    solver_status: str


class RateMeasure(Record):
    """A rate measure (``repurchase_rate``)."""

    company_target: Number
    target_basis: TargetBasis
    company_expected: Number
    prior_strength: Number
    shift: Number


#: One planned measure beside revenue.
MeasureSummary = LineMeasure | CountMeasure | RateMeasure


