"""A command's inputs read and checked at the edge: scenario, company data, plan year and stored model.

Everything a plan reads from disk is read here, before the pipeline starts: the
stages below get a :class:`~quotaopt.planning.Inputs` and never open a file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from quotaopt.capacity import TrainedModel
from quotaopt.company import CompanyData, check_plan_year
from quotaopt.errors import InputError, Problem
from quotaopt.io._company import load_company
from quotaopt.io._models import METADATA_FILE, load_trusted_model, resolve_model_dir
from quotaopt.io._readers import Reader
from quotaopt.io._scenario import load_scenario
from quotaopt.planning import Inputs
from quotaopt.scenario import Scenario


def _stored_model(scenario: Scenario, company: CompanyData, label: str, search: tuple[Path, ...]
                  ) -> tuple[TrainedModel | None, list[Problem]]:
    """The trained model a scenario names (``capacity.model: <folder>``), loaded and verified."""
    model = scenario.capacity.model
    if model == "given" and company.capacity is None:
        return None, [Problem(label, f"capacity.model is 'given' but capacity.csv is missing in {company.folder}",
                              column="capacity.model")]
    if model in ("given", "train"):
        return None, []
    model_dir = resolve_model_dir(scenario.base_dir, model, search)
    if not (model_dir / METADATA_FILE).exists():
        return None, [Problem(label, f"no trained model at {model_dir} (expected 'train', 'given' or a folder "
                              "written by quotaopt train)", column="capacity.model")]
    return load_trusted_model(model_dir), []  # validate refuses what plan would: a tampered or damaged model


def _check_teams(scenario: Scenario, company: CompanyData, label: str) -> list[Problem]:
    teams = set(company.teams["team_id"])
    problems = []
    for i, plan in enumerate(scenario.incentives.plans):
        team = plan.applies_to.team_id
        if team is not None and team not in teams:
            problems.append(Problem(label, f"unknown team (got {team!r}, expected a team_id from teams.csv)",
                                    column=f"incentives.plans[{i}].applies_to.team_id"))
    return problems


def load_inputs(path: str | Path, model_search: Sequence[str | Path] = (), reader: Reader = "arrow") -> Inputs:
    """Load a scenario file (or a bare data folder) and validate everything it names.

    Parameters
    ----------
    path : str or Path
        A scenario YAML file, or a company data folder.
    model_search : sequence of path
        Folders to look for ``capacity.model: <folder>`` in after the scenario's own
        folder (the commands pass the working directory).
    reader : {"arrow", "pandas"}
        The CSV and Parquet reader (:func:`~quotaopt.io.load_company`); pandas' is the
        reader of quotaopt 0.x, the benchmark's baseline.

    Returns
    -------
    Inputs
        With the stored model loaded when the scenario names one.

    Raises
    ------
    InputError
        Every problem found in the scenario and the data.

    Examples
    --------
    >>> from quotaopt import load_inputs
    >>> inputs = load_inputs("scenarios/example.yaml")
    >>> inputs.plan_year, len(inputs.company.active_reps)
    (2027, 60)
    """
    path = Path(path)
    if path.is_dir():
        company = load_company(path, reader=reader)
        return Inputs(scenario=None, company=company, plan_year=max(company.history_years) + 1)
    if not path.exists():
        raise InputError([Problem(str(path), "scenario file not found")])
    scenario = load_scenario(path)
    company = load_company(scenario.data_source, reader=reader)
    plan_year = scenario.plan_year or max(company.history_years) + 1
    label = str(path)
    check_plan_year(company, plan_year, label)
    model, problems = _stored_model(scenario, company, label, tuple(Path(p) for p in model_search))
    problems += _check_teams(scenario, company, label)
    if problems:
        raise InputError(problems)
    if scenario.capacity.model == "train":
        # What `plan` would refuse, `validate` says too (on the calendar plan would use).
        from quotaopt.capacity import capacity_calendar, too_little_history, training_years

        if not training_years(capacity_calendar(company, plan_year)[0], plan_year):
            raise InputError([too_little_history(plan_year)])
    return Inputs(scenario=scenario, company=company, plan_year=plan_year, model=model)
