"""Runs by name: ``<runs>/<scenario>/latest`` and the list of runs with their headline figures.

A run id is long (``20271201T101500-3f9a1c2e``) and nobody should copy it by hand.
Each run that lands rewrites ``latest`` beside it: a small text file holding the run
id, replaced atomically (a reader sees the old id or the new one), so
``quotaopt track runs/example/latest ...`` works on every platform, links or not.
Wherever a command takes a run folder, a ``latest`` file stands for the run it names.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd

from quotaopt.errors import InputError, Problem
from quotaopt.io._atomic import write_file_atomic

#: The file beside a scenario's runs that names its newest run.
LATEST = "latest"
#: Columns of :func:`list_runs`.
RUN_LIST_COLUMNS = ["scenario", "run_id", "created_utc", "kind", "parent_run", "company_target", "total_quota",
                    "p_company_target", "expected_payout", "cost_of_sales", "solver_status", "latest"]


def write_latest(scenario_folder: Path, run_id: str) -> Path:
    """Point ``<scenario_folder>/latest`` at ``run_id`` (atomically); return the file."""
    target = scenario_folder / LATEST
    write_file_atomic(target, (run_id + "\n").encode("utf-8"))
    return target


def resolve_run_path(path: str | Path) -> Path:
    """The run folder ``path`` stands for: itself, or the run a ``latest`` file names.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "20270101T000000-abcdef12").mkdir()
    >>> _ = write_latest(root, "20270101T000000-abcdef12")
    >>> resolve_run_path(root / "latest").name
    '20270101T000000-abcdef12'

    Raises
    ------
    InputError
        A ``latest`` file that names no run folder beside it.
    """
    path = Path(path)
    if path.name != LATEST or not path.is_file():
        return path
    run_id = path.read_text(encoding="utf-8", errors="replace").strip()
    if not run_id or run_id in (".", "..") or "/" in run_id or "\\" in run_id or "\n" in run_id:
        raise InputError([Problem(str(path), f"does not name a run (got {run_id[:60]!r}); expected one run id")])
    target = path.parent / run_id
    if not target.is_dir():
        raise InputError([Problem(str(path), f"names run {run_id}, but {target} is not there")])
    return target


def _kind(manifest: dict[str, Any]) -> str:
    if isinstance(manifest.get("replan"), dict):
        return "replan"
    derived = manifest.get("derived_from")
    if isinstance(derived, dict) and derived.get("action"):
        return str(derived["action"])
    return "plan"


def list_runs(runs_root: str | Path, scenario: str | None = None) -> pd.DataFrame:
    """Every run folder under a runs folder, with its headline figures, oldest first per scenario.

    Parameters
    ----------
    runs_root : str or Path
        The runs folder (``runs/``: one folder per scenario, one per run inside).
    scenario : str, optional
        Only this scenario's runs.

    Returns
    -------
    DataFrame
        Columns :data:`RUN_LIST_COLUMNS`; ``latest`` is true for the run its scenario's
        ``latest`` file names.

    Raises
    ------
    InputError
        ``runs_root`` is not a folder, or ``scenario`` has no runs there.
    """
    root = Path(runs_root)
    if not root.is_dir():
        raise InputError([Problem(str(root), "not a runs folder (it does not exist or is not a folder)")])
    rows = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if scenario is not None and folder.name != scenario:
            continue
        latest_file = folder / LATEST
        latest = latest_file.read_text(encoding="utf-8", errors="replace").strip() if latest_file.is_file() else None
        for run in sorted(p for p in folder.iterdir() if p.is_dir() and (p / "manifest.json").is_file()):
            try:
                manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # not a run quotaopt wrote whole; read_run names the problem when it is used
            headline = (manifest.get("audit") or {}).get("headline") or {}
            rows.append({"scenario": folder.name, "run_id": run.name, "created_utc": manifest.get("created_utc"),
                         "kind": _kind(manifest), "parent_run": manifest.get("parent_run"),
                         **{k: headline.get(k) for k in RUN_LIST_COLUMNS[5:10]},
                         "solver_status": headline.get("solver_status"), "latest": run.name == latest})
    if scenario is not None and not rows:
        raise InputError([Problem(str(root / scenario), f"no runs of scenario {scenario!r} here")])
    table = pd.DataFrame(rows, columns=RUN_LIST_COLUMNS)
    return table.sort_values(["scenario", "created_utc", "run_id"], kind="stable").reset_index(drop=True)
