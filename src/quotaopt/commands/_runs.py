"""What every command that writes a run folder shares: its files, manifest and audit headline.

A run folder is written by :func:`quotaopt.io.write_run` (staged beside its final name,
then renamed); this module only decides what goes in it.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from quotaopt.errors import InputError, Problem
from quotaopt.io import WrittenRun, csv_bytes, json_bytes, load_company, sha256_file, write_run
from quotaopt.planning import Inputs, Manifest, PlanResult, StoredRun, Summary

if TYPE_CHECKING:
    import pandas as pd

_VERSIONED = ("quotaopt", "numpy", "pandas", "scipy", "scikit-learn", "pydantic", "highspy", "pulp",
              "ortools", "xlsxwriter", "matplotlib")

def package_versions() -> dict[str, str | None]:
    """Versions of Python and the packages a run depends on (for the manifest)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _VERSIONED:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions

def input_hashes(inputs: Inputs) -> dict[str, str]:
    """SHA-256 of every input file: the data files and the scenario with its extends chain."""
    hashes = {f"data/{name}": digest for name, digest in sorted(inputs.company.files.items())}
    if inputs.scenario is not None:
        for path in inputs.scenario.sources:
            hashes[f"scenario/{path.name}"] = sha256_file(path)
    return hashes

def default_runs_root(inputs: Inputs) -> Path:
    """``runs/`` beside the scenario file."""
    assert inputs.scenario is not None
    return inputs.scenario.base_dir / "runs"

def result_files(result: PlanResult) -> dict[str, bytes | Callable[[], bytes]]:
    """The files of a run folder, in writing order (reports rendered lazily while staging)."""
    from quotaopt.report import render_html, render_xlsx

    books = {} if result.assignments is None else {"assignments.csv": csv_bytes(result.assignments)}
    return {
        "plan.csv": csv_bytes(result.plan),
        "plan_periods.csv": csv_bytes(_periods_file(result)),
        "units.csv": csv_bytes(result.units),
        **({"plan_measures.csv": csv_bytes(result.measures)} if result.measures is not None else {}),
        **books,
        "summary.json": json_bytes(result.summary.record()),
        "report.html": lambda: render_html(result),
        "plan.xlsx": lambda: render_xlsx(result),
    }

def _periods_file(result: PlanResult) -> pd.DataFrame:
    """plan_periods.csv: revenue's periods, with every other measure's when more are planned."""
    if result.measure_periods is None:
        return result.periods
    from quotaopt.measures.plan import periods_with_measures

    return periods_with_measures(result.periods, result.measure_periods)


def headline(summary: Summary) -> dict[str, Any]:
    """The figures the audit log and the terminal show for a run."""
    return {"company_target": summary.company_target, "total_quota": summary.total_quota,
            "over_assignment": summary.over_assignment, "p_company_target": summary.p_company_target,
            "expected_payout": summary.expected_payout, "cost_of_sales": summary.cost_of_sales,
            "solver_status": None if summary.solver is None else summary.solver.status}

def write_result(
    result: PlanResult,
    inputs: Inputs,
    runs_root: Path,
    parent_run: str | None = None,
    extra_manifest: dict[str, Any] | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> WrittenRun:
    """Write a PlanResult as a run folder with its manifest and audit line."""
    assert inputs.scenario is not None
    manifest = {
        "scenario": inputs.scenario.resolved(),
        "scenario_file": str(inputs.scenario.source),
        "data_folder": str(inputs.company.folder.resolve()) if inputs.company.reads.kind != "database"
        else inputs.company.source,
        "data_read": inputs.company.reads,
        "plan_year": inputs.plan_year,
        "inputs": input_hashes(inputs),
        "versions": package_versions(),
        "seed": inputs.scenario.simulation.seed,
        "timings_s": result.timings,
        "parent_run": parent_run,
        **(extra_manifest or {}),
    }
    return write_run(runs_root, inputs.scenario.name, result_files(result), manifest,
                     audit={"headline": headline(result.summary)}, on_stage=on_stage)

def run_data(manifest: Manifest) -> Any:
    """The ``data`` key a run was planned from, its folder or workbook as the manifest recorded it.

    A data mapping keeps its dialect (and a database its URL, whose password, if one was
    written in it, was never recorded: the server's PGPASSWORD or ~/.pgpass supplies it).
    """
    data = (manifest.scenario or {}).get("data")
    if isinstance(data, dict):
        return {**data, "path": manifest.data_folder} if data.get("path") else data
    return manifest.data_folder


def inputs_of_run(run: StoredRun, overrides: dict[str, Any] | None = None) -> Inputs:
    """Rebuild a run's inputs from its manifest; refuse data that changed since the run.

    Raises
    ------
    InputError
        When a data file's SHA-256 differs from the one the run recorded.
    """
    from quotaopt.planning import apply_overrides, recorded_overrides
    from quotaopt.scenario import deep_merge, validate_scenario

    manifest = run.manifest
    if manifest.scenario is None or manifest.scenario_file is None or manifest.plan_year is None:
        raise InputError([Problem(f"{run.path}/manifest.json", "has no resolved scenario, scenario file or plan year "
                                  "(expected a run folder written by quotaopt plan)", column="scenario")])
    raw = deep_merge(manifest.scenario, {"data": run_data(manifest), **(overrides or {})})
    source = Path(manifest.scenario_file)
    scenario = validate_scenario(raw, label=f"{run.path}/manifest.json", base_dir=source.parent)
    scenario = scenario.model_copy(update={"source": source, "sources": ()})
    company = load_company(scenario.data_source)
    recorded = {k.removeprefix("data/"): v for k, v in (manifest.inputs or {}).items() if k.startswith("data/")}
    changed = sorted(name for name, digest in company.files.items() if recorded.get(name) != digest)
    if changed:
        raise InputError([Problem(str(company.folder / name), f"changed since run {run.run_id} (SHA-256 differs "
                                  "from its manifest); plan again instead") for name in changed])
    # Quotas set by hand with `plan --overrides` stay locked in whatever is made from this run.
    company = apply_overrides(company, recorded_overrides(manifest))
    return Inputs(scenario=scenario, company=company, plan_year=int(manifest.plan_year))
