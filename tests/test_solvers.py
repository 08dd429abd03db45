"""The backend registry: every declared backend runs, reports what it declares, and the scenario checks names."""

from __future__ import annotations

import math

import pytest

from quotaopt import solvers
from quotaopt.allocation import allocate
from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.synthetic import make_company
from quotaopt.scenario import AllocationConfig, SolverConfig


@pytest.mark.parametrize("name", sorted(solvers.BACKENDS))
def test_every_backend_runs_and_reports_what_it_declares(name: str) -> None:
    info = solvers.BACKENDS[name]
    assert info.is_available() and callable(get_backend(name))
    reps, teams, total = make_company(40, seed=3)
    config = AllocationConfig(unit=1000, flex=0.2, solver=SolverConfig(backend=name))
    result = allocate(reps, teams, total, config, 2027, unit_solver="milp")
    assert result.solver.backend == name and result.solver.status == "optimal"
    assert result.solver.termination  # the backend's own words, kept beside our status
    assert math.isfinite(result.solver.bound) is info.dual_bound


def test_the_scenario_refuses_an_unknown_backend() -> None:
    with pytest.raises(ValueError, match="unknown solver backend 'gurobi'; expected one of cbc, highs, ortools"):
        SolverConfig(backend="gurobi")
    with pytest.raises(ValueError, match="unknown solver backend"):
        get_backend("gurobi")


def test_a_backend_without_its_package_is_refused_naming_the_installed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    missing = solvers.BackendInfo("fake", "quotaopt.allocation.backends.highs", "no_such_package_here", True, "none")
    monkeypatch.setitem(solvers.BACKENDS, "fake", missing)
    with pytest.raises(ValueError, match="needs the Python package 'no_such_package_here'.*installed: cbc, highs"):
        SolverConfig(backend="fake")
