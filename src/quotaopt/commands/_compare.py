"""Side-by-side comparison of runs: headline figures and per-unit quotas; with ``--reps``, rep by rep."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from quotaopt.commands._compare_reps import RepComparison, compare_reps
from quotaopt.errors import InputError, Problem
from quotaopt.io import probe_writable, read_run, resolve_run_path, write_file_atomic
from quotaopt.planning import StoredRun, Summary

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


def _get(summary: Summary, path: tuple[str, ...]) -> object:
    value: object = summary.record()
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _labels(runs: Sequence[StoredRun]) -> list[str]:
    """Column labels: scenario name, made unique with the run id where names repeat."""
    names = [r.summary.scenario for r in runs]
    return [f"{n} ({r.run_id})" if names.count(n) > 1 else n for n, r in zip(names, runs, strict=True)]


def compare(paths: Sequence[str | Path], out: str | Path | None = None) -> pd.DataFrame:
    """A table of headline figures and unit quotas, one column per run.

    Parameters
    ----------
    paths : sequence of path
        Run folders (at least two; a ``latest`` file stands for the run it names).
    out : path, optional
        Also write the table there: CSV, or a workbook when the name ends in ``.xlsx``
        (its folder is checked before any run is read).

    Returns
    -------
    DataFrame
        Index ``section`` (headline / measure / unit_quota) and ``item``; ``name`` (a unit's name), one
        column per run, plus, for numeric rows, the change of each later run against the
        first (``delta: <label>``).

    Examples
    --------
    (``example`` is the shipped ``scenarios/example.yaml``, ``runs`` an empty folder.)

    >>> import quotaopt as qo
    >>> _, first = qo.plan(example, out=runs)
    >>> _, second = qo.simulate(first.path, draws=500)
    >>> table = qo.compare([first.path, second.path])
    >>> table.index.get_level_values("section").unique().tolist(), len(table.columns)
    (['headline', 'unit_quota'], 4)
    """
    _check_out(out)
    table = compare_tables(*load_runs(paths))
    if out is not None:
        _write(Path(out), table, None)
    return table


def compare_by_rep(paths: Sequence[str | Path], out: str | Path | None = None) -> tuple[pd.DataFrame, RepComparison]:
    """``compare --reps``: the headline table and every rep and unit that changed.

    Parameters
    ----------
    paths : sequence of path
        Run folders (at least two); the first is the baseline.
    out : path, optional
        Also write the changes: CSV (reps, then units, with a ``section`` column), or a
        workbook with Headline, Reps and Units sheets when the name ends in ``.xlsx``.

    Returns
    -------
    (DataFrame, RepComparison)

    Examples
    --------
    >>> from quotaopt.commands import compare_by_rep  # doctest: +SKIP
    >>> table, moved = compare_by_rep(["runs/example/20270101T000000-ab12cd34", "runs/example/latest"])  # doctest: +SKIP
    >>> moved.reps[["rep_id", "name"]]  # doctest: +SKIP
    """
    _check_out(out)
    runs, labels = load_runs(paths)
    table, reps = compare_tables(runs, labels), compare_reps(runs, labels)
    if out is not None:
        _write(Path(out), table, reps)
    return table, reps


def _check_out(out: str | Path | None) -> None:
    if out is not None:
        probe_writable(Path(out).parent, "--out")


def _write(out: Path, table: pd.DataFrame, reps: RepComparison | None) -> None:
    if out.suffix.lower() == ".xlsx":
        from quotaopt.report.excel import render_tables_xlsx

        sheets = {"Headline": table.reset_index()}
        if reps is not None:
            sheets |= {"Reps": reps.reps, "Units": reps.units}
        data = render_tables_xlsx(sheets, title="quotaopt compare")
    elif reps is not None:
        data = reps.long_table().to_csv(index=False, lineterminator="\n").encode("utf-8")
    else:
        data = table.to_csv(lineterminator="\n").encode("utf-8")
    write_file_atomic(out, data, parents=True)


def load_runs(paths: Sequence[str | Path]) -> tuple[list[StoredRun], list[str]]:
    """Read the runs to compare (at least two, each once) and label them.

    Raises
    ------
    InputError
        Fewer than two runs, the same run twice, or a folder that is not a complete run.
    """
    if len(paths) < 2:
        raise InputError([Problem("compare", f"needs at least two runs, got {len(paths)}")])
    paths = [resolve_run_path(p) for p in paths]  # `latest` counts as the run it names
    seen: dict[Path, str] = {}
    for p in paths:
        where = Path(p).resolve()
        if where in seen:
            raise InputError([Problem("compare", f"the same run is given twice ({seen[where]} and {p}); compare "
                                      "needs different runs")])
        seen[where] = str(p)
    runs = [read_run(p) for p in paths]
    return runs, _labels(runs)


def compare_tables(runs: Sequence[StoredRun], labels: Sequence[str]) -> pd.DataFrame:
    """The headline and unit-quota table of :func:`compare` over runs already read."""
    rows: dict[tuple[str, str], list[object]] = {}
    for label, path in HEADLINE_ROWS:
        rows[("headline", label)] = [_get(r.summary, path) for r in runs]
    # Measures beside revenue (runs that plan them): each one's total quota, and company target where it has one.
    measures = list(dict.fromkeys(m for r in runs for m in (r.summary.measures or {})))
    for measure in measures:
        for key in ("total_quota", "company_target"):
            per_run = [_get(r.summary, ("measures", measure, key)) for r in runs]
            if any(v is not None for v in per_run):
                rows[("measure", f"{measure} {key}")] = per_run
    units = sorted(set().union(*[set(r.units["unit_id"]) for r in runs]))
    for unit in units:
        values: list[object] = []
        for r in runs:
            match = r.units.loc[r.units["unit_id"] == unit, "quota"]
            values.append(match.iloc[0].item() if len(match) else None)
        rows[("unit_quota", unit)] = values
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(labels))
    table.index = pd.MultiIndex.from_tuples(table.index, names=["section", "item"])
    names: dict[str, str] = {}
    for r in runs:  # a unit's name from the latest run that has one
        if "name" in r.units:
            names.update({str(u): str(n) for u, n in zip(r.units["unit_id"], r.units["name"], strict=True)
                          if isinstance(n, str) and n})
    table.insert(0, "name", [names.get(str(item), "") if section == "unit_quota" else ""
                             for section, item in table.index])
    first = labels[0]
    for label in labels[1:]:
        a = pd.to_numeric(table[first], errors="coerce")
        b = pd.to_numeric(table[label], errors="coerce")
        table[f"delta: {label}"] = b - a
    return table
