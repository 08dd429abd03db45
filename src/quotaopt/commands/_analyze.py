"""``quotaopt analyze``: the history view of a scenario's data as one self-contained ``analysis.html``."""

from __future__ import annotations

from pathlib import Path

from quotaopt.commands._runs import default_runs_root
from quotaopt.io import load_inputs, probe_writable, write_file_atomic


def analyze(scenario: str | Path, out: str | Path | None = None) -> Path:
    """Write the history view: bookings by quarter and month, by region and unit, the 80% accounts, reps' growth.

    Over the history before the plan year. Written to ``out`` (a file), else
    ``runs/<scenario>/analysis.html`` beside the scenario; replaced atomically.

    Returns
    -------
    Path
        The page written.

    Examples
    --------
    >>> from quotaopt.commands import analyze
    >>> analyze("scenarios/example.yaml", out="/tmp/analysis.html").name  # doctest: +SKIP
    'analysis.html'
    """
    from quotaopt.report.history import render_analysis

    inputs = load_inputs(scenario, model_search=(Path.cwd(),))
    assert inputs.scenario is not None
    if out is not None:
        target = Path(out)
        probe_writable(target.parent, "--out")
    else:
        runs_root = default_runs_root(inputs)
        target = runs_root / inputs.scenario.name / "analysis.html"
        probe_writable(target.parent, str(runs_root))
    write_file_atomic(target, render_analysis(inputs.company, inputs.scenario.name, before=inputs.plan_year),
                      parents=True)
    return target
