"""Side-by-side comparison of runs: headline figures and per-unit quotas."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from quotaopt.errors import InputError, Problem
from quotaopt.io import probe_writable, read_run, write_file_atomic
from quotaopt.planning import StoredRun

#: Headline rows of a comparison: (label, getter over summary.json).
HEADLINE_ROWS: list[tuple[str, tuple[str, ...]]] = [
    ("company_target", ("company_target",)),
    ("total_quota", ("total_quota",)),
    ("over_assignment", ("over_assignment",)),
    ("p_company_target", ("p_company_target",)),
    ("expected_payout", ("expected_payout",)),
    ("payout_p10", ("payout_p10",)),
    ("payout_p90", ("payout_p90",)),
    ("cost_of_sales", ("cost_of_sales",)),
    ("share_reps_ge_100", ("reps_expected", "ge_100")),
    ("share_reps_lt_80", ("reps_expected", "lt_80")),
    ("stretch_spread", ("fairness", "stretch_spread")),
    ("capacity_p50_total", ("capacity", "total_p50")),
    ("solver_status", ("solver", "status")),
    ("solver_gap", ("solver", "gap")),
]


def _get(summary: dict, path: tuple[str, ...]) -> object:
    value: object = summary
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _labels(runs: Sequence[StoredRun]) -> list[str]:
    """Column labels: scenario name, made unique with the run id where names repeat."""
    names = [str(r.summary.get("scenario", r.path.parent.name)) for r in runs]
    return [f"{n} ({r.run_id})" if names.count(n) > 1 else n for n, r in zip(names, runs, strict=True)]


def compare(paths: Sequence[str | Path], out: str | Path | None = None) -> pd.DataFrame:
    """A table of headline figures and unit quotas, one column per run.

    Parameters
    ----------
    paths : sequence of path
        Run folders (at least two).
    out : path, optional
        Also write the table there as CSV (its folder is checked before any run is read).

    Returns
    -------
    DataFrame
        Index ``section`` (headline / unit) and ``item``; one column per run, plus, for
        numeric rows, the change of each later run against the first (``delta: <label>``).
    """
    if out is not None:
        probe_writable(Path(out).parent, "--out")
    if len(paths) < 2:
        raise InputError([Problem("compare", f"needs at least two runs, got {len(paths)}")])
    seen: dict[Path, str] = {}
    for p in paths:
        where = Path(p).resolve()
        if where in seen:
            raise InputError([Problem("compare", f"the same run is given twice ({seen[where]} and {p}); compare "
                                      "needs different runs")])
        seen[where] = str(p)
    runs = [read_run(p) for p in paths]
    labels = _labels(runs)
    rows: dict[tuple[str, str], list[object]] = {}
    for label, path in HEADLINE_ROWS:
        rows[("headline", label)] = [_get(r.summary, path) for r in runs]
    units = sorted(set().union(*[set(r.units["unit_id"]) for r in runs]))
    for unit in units:
        values: list[object] = []
        for r in runs:
            match = r.units.loc[r.units["unit_id"] == unit, "quota"]
            values.append(match.iloc[0].item() if len(match) else None)
        rows[("unit_quota", unit)] = values
    table = pd.DataFrame.from_dict(rows, orient="index", columns=labels)
    table.index = pd.MultiIndex.from_tuples(table.index, names=["section", "item"])
    first = labels[0]
    for label in labels[1:]:
        a = pd.to_numeric(table[first], errors="coerce")
        b = pd.to_numeric(table[label], errors="coerce")
        table[f"delta: {label}"] = b - a
    if out is not None:
        write_file_atomic(Path(out), table.to_csv(lineterminator="\n").encode("utf-8"), parents=True)
    return table
