"""The in-memory result of a planning run: what the run folder and the reports show."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import JsonValue

from quotaopt.company import DataRead
from quotaopt.org_tree import OrgTree
from quotaopt.planning._summary import Recalibration, ReplanRecord, Summary
from quotaopt.records import Number, Record

#: Column order of plan.csv (contract §4); ``manager`` follows ``team_name`` when the data has one
#: (:func:`quotaopt.names.name_columns`).
PLAN_COLUMNS = [
    "rep_id", "name", "team_id", "team_name", "role", "capacity_p10", "capacity_p50", "capacity_p90", "quota",
    "stretch", "last_quota", "change", "p_attain", "expected_payout", "binding",
]
#: Column order of units.csv (contract §4).
UNIT_COLUMNS = ["unit_id", "name", "parent_id", "level", "quota", "capacity_p50", "p_attain"]


@dataclass
class PlanResult:
    """Everything a plan produced, before it is written.

    Attributes
    ----------
    name : str
        Scenario name.
    plan_year : int
    plan : DataFrame
        One row per active rep, columns :data:`PLAN_COLUMNS` (``change`` is the relative
        change against ``last_quota``: quota / last_quota - 1, empty without a last quota).
    periods : DataFrame
        rep_id, period, quota[, deals, touches].
    units : DataFrame
        Columns :data:`UNIT_COLUMNS`, every unit of the tree.
    summary : Summary
        The content of summary.json (deterministic: no timings, no run id), built by
        :func:`quotaopt.planning.assemble`.
    distributions : dict of ndarray
        Per-draw arrays for charts: ``company_bookings`` (total bookings per draw),
        ``total_payout`` (per draw), ``rep_attainment`` (a sample of rep attainments).
    timings : dict
        Seconds per stage; go to manifest.json only.
    measures : DataFrame or None
        plan_measures.csv (rep_id, measure, quota, capacity_p50, p_attain, binding) when the
        scenario plans more than revenue; None otherwise (and no file is written).
    measure_periods : DataFrame or None
        The other measures' periods (rep_id, measure, period, quota); ``periods`` stays
        revenue's, and plan_periods.csv then holds both with a ``measure`` column.
    assignments : DataFrame or None
        assignments.csv (``assignment.mode`` other than off): accounts with a new owner.
    books : DataFrame or None
        The Books table: each rep's book before and after the assignment.
    comparable_last : frozenset of str, optional
        Reps whose ``last_quota`` covers a full ramped year (only against those is a
        change in per cent meaningful; the report shows it for them alone). None: unknown.
    """

    name: str
    plan_year: int
    plan: pd.DataFrame
    periods: pd.DataFrame
    units: pd.DataFrame
    summary: Summary
    distributions: dict[str, np.ndarray] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    measures: pd.DataFrame | None = None
    measure_periods: pd.DataFrame | None = None
    assignments: pd.DataFrame | None = None
    books: pd.DataFrame | None = None
    comparable_last: frozenset[str] | None = None


def round_floats(value: Any, digits: int = 6) -> Any:
    """Round every float in a nested structure, so summary.json is stable across platforms."""
    if isinstance(value, Record):
        return round_floats(value.record(), digits)
    if isinstance(value, dict):
        return {k: round_floats(v, digits) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [round_floats(v, digits) for v in value]
    if isinstance(value, float | np.floating):
        return None if not np.isfinite(value) else round(float(value), digits)
    if isinstance(value, np.integer):
        return int(value)
    return value


class OverridesRead(Record):
    """An edited plan.xlsx the run was planned with (``plan --overrides``): enough to plan it again."""

    file: str
    sha256: str
    sheet: str
    quotas: dict[str, Number]
    cells: dict[str, str]


class DerivedFrom(Record):
    """The run a ``simulate`` child was made from, and what it changed."""

    run: str
    action: str
    draws: int | None
    seed: int | None


class WorkbenchSave(Record):
    """A version saved from the workbench: its name, the knobs' scenario overrides, who saved it."""

    version: str
    #: The scenario keys the knobs set (a fragment of the scenario file, deep-merged over it).
    overrides: dict[str, JsonValue]
    saved_by: str | None


class AuditFacts(Record):
    """What the run's audit line adds to who, when and which inputs: its headline figures, a re-plan's change."""

    #: The figures the audit log and the terminal show (:func:`quotaopt.commands.headline`).
    headline: dict[str, Number | str | None] | None = None
    #: A re-plan's change record, the parts the audit log keeps (:class:`ReplanRecord` keys).
    replan: dict[str, JsonValue] | None = None
    recalibration: Recalibration | None = None


class Manifest(Record):
    """manifest.json: what a run was made from and of, defined in one place.

    The commands say what the run was planned from, :func:`quotaopt.io.write_run` adds the
    run id, when and by whom, and the outputs' hashes; every key is optional, so a run
    written by an older quotaopt (or by hand, in a test) reads back as it is.

    Examples
    --------
    >>> Manifest.model_validate({"plan_year": 2027, "inputs": {}, "run_id": "r1"}).record()
    {'plan_year': 2027, 'inputs': {}, 'run_id': 'r1'}
    """

    #: The resolved scenario as planned (read back by :func:`quotaopt.scenario.validate_scenario`).
    scenario: dict[str, JsonValue] | None = None
    scenario_file: str | None = None
    scenario_name: str | None = None
    #: The data folder or workbook (for a database: where it was, its password hidden).
    data_folder: str | None = None
    data_read: DataRead | None = None
    plan_year: int | None = None
    #: ``data/<file>``, ``scenario/<file>``, ``overrides/<file>``, ``actuals/<file>`` -> SHA-256.
    inputs: dict[str, str | None] | None = None
    versions: dict[str, str | None] | None = None
    seed: int | None = None
    timings_s: dict[str, Number] | None = None
    parent_run: str | None = None
    parent_path: str | None = None
    replan: ReplanRecord | None = None
    overrides: OverridesRead | None = None
    derived_from: DerivedFrom | None = None
    workbench: WorkbenchSave | None = None
    run_id: str | None = None
    created_utc: str | None = None
    created_by: str | None = None
    #: File name -> SHA-256 of every output of the run folder.
    outputs: dict[str, str] | None = None
    audit: AuditFacts | None = None


@dataclass
class StoredRun:
    """A run folder as :func:`quotaopt.io.read_run` read it back: its tables, summary and manifest."""

    path: Path
    manifest: Manifest
    summary: Summary
    plan: pd.DataFrame
    units: pd.DataFrame
    periods: pd.DataFrame
    #: plan_periods.csv's rows of the measures beside revenue (rep_id, measure, period, quota), or None.
    measure_periods: pd.DataFrame | None = None

    @property
    def run_id(self) -> str:
        return self.manifest.run_id or self.path.name

    @cached_property
    def org(self) -> OrgTree:
        """The unit tree of units.csv, built once for every stage that walks it (tracking, simulation)."""
        return OrgTree.from_table(self.units, "unit_id", source=str(self.path / "units.csv"))

    @property
    def runs_root(self) -> Path:
        """The runs folder this run lives in (``<root>/<scenario>/<run id>``)."""
        return self.path.parent.parent

