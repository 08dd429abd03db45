"""``quotaopt analyze``: the history view of a scenario's data as one self-contained ``analysis.html``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from quotaopt.commands._runs import default_runs_root
from quotaopt.io import json_bytes, load_inputs, probe_writable, write_file_atomic


@dataclass(frozen=True)
class AnalysisOutcome:
    """What :func:`analyze` wrote, and the summary ``quotaopt analyze`` prints.

    Attributes
    ----------
    path : Path
        The page.
    tables : Path or None
        The JSON of the measure views, when asked for.
    summary : tuple of str
        One line per measure view that has data (product lines, new customers, repurchase rate).
    """

    path: Path
    tables: Path | None
    summary: tuple[str, ...]


def analyze(scenario: str | Path, out: str | Path | None = None, tables: str | Path | None = None) -> AnalysisOutcome:
    """Write the history view: bookings by period and unit, the 80% accounts, reps' growth, and by measure.

    Over the history before the plan year; by measure: product-line contribution by year and
    quarter, new customers and the repurchase rate by year and unit
    (:mod:`quotaopt.report.history_measures`). Written to ``out`` (a file), else
    ``runs/<scenario>/analysis.html`` beside the scenario; replaced atomically.

    Parameters
    ----------
    scenario : str or Path
        The scenario file.
    out : str or Path, optional
        The page to write.
    tables : str or Path, optional
        Also write the measure views' tables there as JSON (``analyze --json``).

    Returns
    -------
    AnalysisOutcome

    Examples
    --------
    >>> from quotaopt.commands import analyze
    >>> analyze("scenarios/example.yaml", out="/tmp/analysis.html").path.name  # doctest: +SKIP
    'analysis.html'
    """
    from quotaopt.report.history import history_views, render_analysis
    from quotaopt.report.history_measures import measure_summary, measure_tables

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    assert inputs.scenario is not None
    if out is not None:
        target = Path(out)
        probe_writable(target.parent, "--out")
    else:
        runs_root = default_runs_root(inputs)
        target = runs_root / inputs.scenario.name / "analysis.html"
        probe_writable(target.parent, str(runs_root))
    json_path = None if tables is None else Path(tables)
    if json_path is not None:
        probe_writable(json_path.parent, "--json")
    views = history_views(inputs.company, inputs.plan_year)
    assert views.measures is not None
    page = render_analysis(inputs.company, inputs.scenario.name, before=inputs.plan_year, views=views)
    write_file_atomic(target, page, parents=True)
    if json_path is not None:
        data = {"scenario": inputs.scenario.name, "plan_year": inputs.plan_year, **measure_tables(views.measures)}
        write_file_atomic(json_path, json_bytes(data), parents=True)
    return AnalysisOutcome(target, json_path, tuple(measure_summary(views.measures)))
