"""Quotas set by hand in plan.xlsx's Overrides sheet, fed back as locked quotas.

The workbook of a run lists every rep on its **Overrides** sheet with an empty
``new_quota`` column. Sales ops type the quotas they want to hold; ``quotaopt plan
SCENARIO --overrides edited.xlsx`` reads the filled cells (:func:`quotaopt.io.read_overrides`,
each checked like ``locked_quota``, with sheet and cell in every message) and plans with
them as locked quotas: honoured exactly, the rest of the team shared around them.

This module holds what the writer and the reader agree on, and the one pure step:
laying the overrides over the company's reps.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from quotaopt.company import CompanyData
from quotaopt.planning._result import Manifest

__all__ = ["ID_HEADER", "OVERRIDES_SHEET", "QUOTA_HEADER", "Overrides", "apply_overrides", "recorded_overrides"]

#: The sheet of plan.xlsx that is read back.
OVERRIDES_SHEET = "Overrides"
#: Header of the column that names the rep.
ID_HEADER = "rep_id"
#: Header of the editable column: a filled cell is a locked quota.
QUOTA_HEADER = "new_quota"


@dataclass(frozen=True)
class Overrides:
    """The filled ``new_quota`` cells of one workbook.

    Attributes
    ----------
    file : str
        The workbook as given.
    sha256 : str
        SHA-256 of its bytes (recorded in the manifest).
    quotas : dict
        rep_id -> quota, in the workbook's row order.
    cells : dict
        rep_id -> the cell it was read from (``Overrides!J5``).
    """

    file: str
    sha256: str
    quotas: dict[str, float] = field(default_factory=dict)
    cells: dict[str, str] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What the manifest keeps: enough to plan the same run again without the file."""
        return {"file": self.file, "sha256": self.sha256, "sheet": OVERRIDES_SHEET,
                "quotas": dict(sorted(self.quotas.items())), "cells": dict(sorted(self.cells.items()))}


def apply_overrides(company: CompanyData, quotas: Mapping[str, float]) -> CompanyData:
    """The company with ``quotas`` as its reps' ``locked_quota`` (over any lock reps.csv had).

    Examples
    --------
    >>> from pathlib import Path
    >>> reps = pd.DataFrame({"rep_id": ["R1", "R2"], "locked_quota": [float("nan"), 5000.0]})
    >>> company = CompanyData(Path("."), pd.DataFrame(), reps, pd.DataFrame())
    >>> apply_overrides(company, {"R1": 7000.0}).reps["locked_quota"].tolist()
    [7000.0, 5000.0]
    """
    if not quotas:
        return company
    reps = company.reps.copy()
    given = reps["rep_id"].astype(str).map(dict(quotas))
    current = reps["locked_quota"] if "locked_quota" in reps else pd.Series(float("nan"), index=reps.index)
    reps["locked_quota"] = given.where(given.notna(), current).astype(float)
    return dataclasses.replace(company, reps=reps)


def recorded_overrides(manifest: Manifest) -> dict[str, float]:
    """The override quotas a run's manifest recorded (none for a run planned without ``--overrides``).

    Re-plans and re-simulations of that run lay them over the company again, so the
    quotas set by hand stay locked for the rest of the year.
    """
    record = manifest.overrides
    return {} if record is None else {str(k): float(v) for k, v in record.quotas.items()}
