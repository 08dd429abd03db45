"""Compare runs rep by rep: who moved, by how much, and what set their new quota.

Locking one rep's quota moves money between their teammates while every unit total
stays the same, so a comparison of unit totals shows nothing. ``compare --reps`` lists
every rep whose quota, stretch or chance of reaching quota changed between the first
run and any later one, with the deltas and the reason (the later run's ``binding``),
and every unit whose quota or chance changed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.planning import StoredRun

#: Changes smaller than this in stretch or chance (both written to 4 decimals) are no change.
TOLERANCE = 5e-5
#: The per-run fields compared for reps.
REP_FIELDS = ("quota", "stretch", "p_attain")
_NAME_COLUMNS = ("name", "team_id", "team_name")


@dataclass
class RepComparison:
    """What :func:`compare_reps` found.

    Attributes
    ----------
    labels : list of str
        One label per run, the first being the baseline.
    reps : DataFrame
        One row per rep that changed in any later run: rep_id, name, team_id,
        team_name, then ``<field>: <label>`` for every run and field (quota, stretch,
        p_attain, binding), then per later run ``delta quota: <label>``, ``delta
        stretch``, ``delta p_attain`` and ``reason: <label>``.
    units : DataFrame
        One row per unit whose quota or chance changed: unit_id, name, ``quota:
        <label>`` and ``p_attain: <label>`` per run, ``delta quota: <label>`` per later run.
    compared : int
        Reps seen in any run.
    """

    labels: list[str]
    reps: pd.DataFrame
    units: pd.DataFrame
    compared: int

    def long_table(self) -> pd.DataFrame:
        """Reps, then units, in one table with a ``section`` column (what ``--out x.csv`` writes)."""
        reps = self.reps.rename(columns={"rep_id": "id"}).assign(section="rep")
        units = self.units.rename(columns={"unit_id": "id"}).assign(section="unit")
        table = pd.concat([reps, units], ignore_index=True, sort=False)
        return table[["section", *[c for c in table.columns if c != "section"]]]


def _side(run: StoredRun, label: str) -> pd.DataFrame:
    plan = run.plan.copy()
    for column in _NAME_COLUMNS:
        if column not in plan:
            plan[column] = ""
    keep = ["rep_id", *_NAME_COLUMNS, *REP_FIELDS, "binding"]
    return plan[keep].set_index("rep_id").rename(columns={c: f"{c}: {label}" for c in (*REP_FIELDS, "binding")})


def _moved(a: pd.Series, b: pd.Series, tolerance: float) -> pd.Series:
    x, y = pd.to_numeric(a, errors="coerce"), pd.to_numeric(b, errors="coerce")
    both = x.notna() & y.notna()
    return (both & ((x - y).abs() > tolerance)) | (x.isna() != y.isna())


def compare_reps(runs: Sequence[StoredRun], labels: Sequence[str]) -> RepComparison:
    """Rep- and unit-level changes of each later run against the first.

    Parameters
    ----------
    runs : sequence of StoredRun
        The runs, read (:func:`quotaopt.io.read_run`); the first is the baseline.
    labels : sequence of str
        A label per run (unique).

    Returns
    -------
    RepComparison
    """
    labels = list(labels)
    sides = [_side(run, label) for run, label in zip(runs, labels, strict=True)]
    ids = sorted(set().union(*[set(s.index) for s in sides]))
    table = pd.DataFrame(index=pd.Index(ids, name="rep_id"))
    for column in _NAME_COLUMNS:  # names from the latest run that has the rep
        values = pd.Series("", index=table.index, dtype=object)
        for side in sides:
            found = side[column].reindex(table.index)
            values = found.where(found.notna() & (found.astype(str) != ""), values)
        table[column] = values.where(values.notna(), "")
    for side in sides:
        table = table.join(side.drop(columns=list(_NAME_COLUMNS)))
    base = labels[0]
    changed = pd.Series(False, index=table.index)
    for label in labels[1:]:
        moved = pd.Series(False, index=table.index)
        for field in REP_FIELDS:
            a, b = table[f"{field}: {base}"], table[f"{field}: {label}"]
            moved |= _moved(a, b, 0.0 if field == "quota" else TOLERANCE)
            table[f"delta {field}: {label}"] = (pd.to_numeric(b, errors="coerce")
                                                - pd.to_numeric(a, errors="coerce")).round(4)
        table[f"reason: {label}"] = [_reason(old, new) for old, new in
                                     zip(table[f"binding: {base}"], table[f"binding: {label}"], strict=True)]
        changed |= moved
    reps = table[changed].reset_index()
    return RepComparison(labels=labels, reps=reps, units=_units(runs, labels), compared=len(ids))


def _reason(old: object, new: object) -> str:
    """The later run's binding; where the rep is only in one run, say so."""
    if _blank(new):
        return "not in this run"
    if _blank(old):
        return f"{new} (new in this run)"
    return str(new) if str(new) == str(old) else f"{new} (was {old})"


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA


def _units(runs: Sequence[StoredRun], labels: list[str]) -> pd.DataFrame:
    frames = []
    for run, label in zip(runs, labels, strict=True):
        units = run.units.copy()
        if "name" not in units:
            units["name"] = units["unit_id"]
        frames.append(units.set_index("unit_id")[["name", "quota", "p_attain"]]
                      .rename(columns={"quota": f"quota: {label}", "p_attain": f"p_attain: {label}",
                                       "name": f"name: {label}"}))
    table = pd.concat(frames, axis=1)
    table.index.name = "unit_id"
    names = table[[f"name: {label}" for label in labels]].bfill(axis=1).iloc[:, 0]
    table = table.drop(columns=[f"name: {label}" for label in labels])
    table.insert(0, "name", names)
    base = labels[0]
    changed = pd.Series(False, index=table.index)
    for label in labels[1:]:
        a, b = table[f"quota: {base}"], table[f"quota: {label}"]
        table[f"delta quota: {label}"] = pd.to_numeric(b, errors="coerce") - pd.to_numeric(a, errors="coerce")
        changed |= _moved(a, b, 0.0) | _moved(table[f"p_attain: {base}"], table[f"p_attain: {label}"], TOLERANCE)
    return table[changed].sort_index().reset_index()
