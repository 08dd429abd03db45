"""The base of every summary.json section, and the sections more than one stage writes.

A stage that reports into summary.json (allocation's exceptions, a measure's plan, the
assignment) returns its section as a model built on :class:`Record`, and
:class:`quotaopt.planning.Summary` puts them together: the file is defined once, by
these models, and every stage result is typed.

Examples
--------
>>> TargetBasis(kind="growth", growth=0.1, base_year=2026).record()
{'kind': 'growth', 'growth': 0.1, 'base_year': 2026}
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

__all__ = ["LimitExceptionRecord", "Number", "Record", "TargetBasis"]

#: A number as it was made: ``int`` stays ``int`` and ``float`` stays ``float`` (same bytes).
Number = int | float


class Record(BaseModel):
    """Every section: unknown keys are refused, numbers keep their type, dumps show what was set."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    def record(self) -> dict[str, Any]:
        """JSON-ready content: the keys that were set, by their names in the file."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class TargetBasis(Record):
    """How a company target was set: ``kind`` and what it was set from."""

    kind: str
    growth: Number | None = None
    base_year: int | None = None
    base_bookings: Number | None = None
    base: Number | None = None
    absolute: Number | None = None
    reps_at_quota: Number | None = None
    expected_at_quota: Number | None = None
    p_company: Number | None = None
    from_target: Number | None = None
    reason: str | None = None
    as_of: str | None = None


class LimitExceptionRecord(Record):
    """One soft limit that gave way (:class:`quotaopt.allocation.LimitException`)."""

    unit: str
    rep: str | None
    limit: str
    allowed: Number
    used: Number
    amount: Number
    reps: int
    message: str
