"""The limits of a re-plan: no ratchet on reps ahead of pace, and what gives way when the rest cannot be carried.

**No ratchet** (``replan.ratchet: none``, the default). A rep at or ahead of pace (actual
>= plan to date, pace rounded as the status colours are) never gets a higher remaining
quota than its plan had: its parent remaining quota becomes a ceiling the allocation
honours (the ``max_quota`` column of :func:`quotaopt.allocation.allocate`, a hard cap that
outranks stretch and max_change floors). Raising the quota of the reps who deliver, to
cover for the ones who do not, is the ratchet that teaches a sales force to sandbag.
``ratchet: allow`` drops the ceiling.

**What cannot be carried.** A company behind plan that keeps its annual target asks its
reps for more than their remaining capacity at ``stretch`` allows. The allocation's
elastic mode answers that as it does for any plan: soft limits give way, least money
first, and each one that did is an exception in business words
(``AllocationResult.exceptions``). Only hard limits (locked quotas, fixed unit targets,
the ratchet ceiling, ramp caps, whole multiples of ``unit``) can still make a re-plan
infeasible (exit 3), as can ``allocation.strict``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quotaopt.scenario import AllocationConfig
from quotaopt.tracking import _status as tracking


def ahead_of_pace(plan_to_date: np.ndarray, actual: np.ndarray) -> np.ndarray:
    """True for reps with a plan to date whose actual reaches it (pace >= 1, rounded as the colours are)."""
    pace, _ = tracking.pace_and_status(plan_to_date, actual, red=1.0, green=1.0)
    return np.nan_to_num(pace, nan=0.0) >= 1.0


def ratchet_ceiling(remaining: np.ndarray, ahead: np.ndarray, ratchet: str) -> np.ndarray:
    """The ``max_quota`` of each rep's remaining part: its parent remaining quota where ahead (NaN = none)."""
    if ratchet == "allow":
        return np.full(len(remaining), np.nan)
    return np.where(ahead, np.maximum(remaining, 0.0), np.nan)


def carry(reps_in: pd.DataFrame, teams_in: pd.DataFrame, total: float, config: AllocationConfig,
          plan_year: int) -> tuple[Any, list[dict[str, Any]]]:
    """Allocate the rest of the year; the allocation's soft limits give way where they must.

    Returns
    -------
    (alloc, exceptions) : tuple
        The :class:`~quotaopt.allocation.AllocationResult` and its exception records.

    Raises
    ------
    InfeasibleError
        No plan at the hard limits, or ``allocation.strict`` is set and a soft limit cannot hold.
    """
    from quotaopt.allocation import allocate

    alloc = allocate(reps_in, teams_in, total, config, plan_year)
    return alloc, [e.record() for e in alloc.exceptions]
