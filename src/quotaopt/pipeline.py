"""One library call per CLI command: load and check inputs, then run the stages.

The stages themselves live in their own modules; this module only wires them in the
order of the data flow (files -> validate -> capacity -> allocation -> periods ->
simulation -> run folder).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from quotaopt.data import CompanyData, check_plan_year, load_company
from quotaopt.errors import InputError, Problem, QuotaOptError
from quotaopt.fsguard import require_regular_file
from quotaopt.scenario import Scenario, load_scenario


@dataclass
class Inputs:
    """A validated scenario with its company data and resolved plan year."""

    scenario: Scenario | None
    company: CompanyData
    plan_year: int


def resolve_model_dir(scenario_dir: Path, model: str) -> Path:
    """A trained model folder named in a scenario: relative to the scenario file, else to the cwd."""
    for base in (scenario_dir, Path.cwd()):
        candidate = (base / model).resolve()
        if (candidate / "metadata.json").exists():
            return candidate
    return (scenario_dir / model).resolve()


def load_trusted_model(model_dir: Path) -> tuple[Any, dict[str, Any]]:
    """A trained model folder loaded and verified (hash, trust list), or an :class:`InputError`.

    :func:`quotaopt.model_store.load_model` checks the hash and the trusted types; a file
    that matches its hash but is damaged inside (re-hashed after corruption) fails in
    the unpacker, which is the file's fault, not ours: exit 2 naming it. Loaded once per
    file version and process, so ``validate`` and ``plan`` can both check it cheaply.
    """
    model_file = model_dir / "model.skops"
    for path in (model_dir / "metadata.json", model_file):
        require_regular_file(path)
    stamp = tuple((f.stat().st_mtime_ns, f.stat().st_size) for f in (model_dir / "metadata.json", model_file)
                  if f.exists())
    return _load_model_cached(model_dir.resolve(), stamp)


@functools.lru_cache(maxsize=4)
def _load_model_cached(model_dir: Path, stamp: tuple[tuple[int, int], ...]) -> tuple[Any, dict[str, Any]]:
    from quotaopt.model_store import load_model

    try:
        return load_model(model_dir)
    except QuotaOptError:
        raise
    except Exception as exc:  # noqa: BLE001 - a damaged file, whatever the unpacker says about it
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise InputError([Problem(str(model_dir / "model.skops"), f"cannot be loaded ({type(exc).__name__}: "
                                  f"{first}): the file is damaged; train the model again")]) from None


def _check_consistency(scenario: Scenario, company: CompanyData, label: str) -> None:
    """Cross-checks between the scenario and the data it points at."""
    problems: list[Problem] = []
    model = scenario.capacity.model
    if model == "given" and company.capacity is None:
        problems.append(Problem(label, f"capacity.model is 'given' but capacity.csv is missing in {company.folder}",
                                column="capacity.model"))
    elif model not in ("given", "train"):
        model_dir = resolve_model_dir(scenario.base_dir, model)
        if not (model_dir / "metadata.json").exists():
            problems.append(Problem(label, f"no trained model at {model_dir} (expected 'train', 'given' or a folder "
                                    "written by quotaopt train)", column="capacity.model"))
        else:
            load_trusted_model(model_dir)  # validate refuses what plan would: a tampered or damaged model
    teams = set(company.teams["team_id"])
    for i, plan in enumerate(scenario.incentives.plans):
        team = plan.applies_to.team_id
        if team is not None and team not in teams:
            problems.append(Problem(label, f"unknown team (got {team!r}, expected a team_id from teams.csv)",
                                    column=f"incentives.plans[{i}].applies_to.team_id"))
    if problems:
        raise InputError(problems)


def load_inputs(path: str | Path) -> Inputs:
    """Load a scenario file (or a bare data folder) and validate everything it names.

    Parameters
    ----------
    path : str or Path
        A scenario YAML file, or a company data folder.

    Raises
    ------
    InputError
        Every problem found in the scenario and the data.
    """
    path = Path(path)
    if path.is_dir():
        company = load_company(path)
        return Inputs(scenario=None, company=company, plan_year=max(company.history_years) + 1)
    if not path.exists():
        raise InputError([Problem(str(path), "scenario file not found")])
    scenario = load_scenario(path)
    company = load_company(scenario.data_dir)
    plan_year = scenario.plan_year or max(company.history_years) + 1
    check_plan_year(company, plan_year, str(path))
    _check_consistency(scenario, company, str(path))
    if scenario.capacity.model == "train":
        # What `plan` would refuse, `validate` says too (on the calendar plan would use).
        from quotaopt.capacity import capacity_calendar, too_little_history, training_years

        if not training_years(capacity_calendar(company, plan_year)[0], plan_year):
            raise InputError([too_little_history(plan_year)])
    return Inputs(scenario=scenario, company=company, plan_year=plan_year)
