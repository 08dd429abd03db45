"""The assignment model's cuts and start points, checked at whole assignments."""

from __future__ import annotations

import tempfile
from dataclasses import replace

import numpy as np
import pytest
from tests.test_assignment_cases import company

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.problem import SolveOptions
from quotaopt.assignment._inputs import prepare
from quotaopt.assignment._model import build_groups, build_problem, start_point
from quotaopt.assignment._search import objective
from quotaopt.datasets import generate_company
from quotaopt.io import load_company
from quotaopt.scenario import AllocationConfig, AssignmentConfig


def groups_of(data: object, **config: object):  # type: ignore[no-untyped-def]
    prep = prepare(data, 2027, AssignmentConfig(mode="rebalance", **config), AllocationConfig())  # type: ignore[arg-type]
    return build_groups(prep)


@pytest.fixture(scope="module")
def generated():  # type: ignore[no-untyped-def]
    folder = generate_company(tempfile.mkdtemp(), n_reps=40, seed=3, unowned=0.2, imbalance=1.0)
    return groups_of(load_company(folder), max_moved=0.3)


def test_every_whole_assignment_that_keeps_continuity_meets_every_row(generated) -> None:  # type: ignore[no-untyped-def]
    # Owned accounts stay (continuity holds), accounts without an owner go anywhere at random:
    # the start point must satisfy every row, the cuts included, and cost what the search says.
    rng = np.random.default_rng(0)
    for g in range(generated.n_groups):
        part = generated.take(np.array([g]))
        problem, cols = build_problem(part, True)
        cost = part.p_move + part.p_prio
        for _ in range(5):
            key = rng.random(part.p_f.size) + 2.0 * part.p_home
            order = np.lexsort((-key, part.p_f))
            choice = order[np.flatnonzero(np.r_[True, np.diff(part.p_f[order]) != 0])]
            x = start_point(part, cols, problem.n_vars, choice)
            ax = problem.A @ x
            assert (ax >= problem.row_lo - 1e-7).all() and (ax <= problem.row_hi + 1e-7).all()
            assert problem.objective_value(x) == pytest.approx(float(objective(part, choice, cost)[0]), abs=1e-7)


def test_the_relaxation_sees_a_new_logo_larger_than_a_fair_share() -> None:
    # Three reps of 10 each and one new logo of 60: whoever takes it holds 70 of a fair share
    # of 30 (40 over, the band's edge is 36); the others hold 10 each, 20 under a share of 30.
    # Without the group cut the relaxation split the logo three ways and saw almost no cost.
    reps = [(r, "T", "ka", "active") for r in "abc"]
    accounts = [(f"{r}{i}", r, "ka", 5) for r in "abc" for i in range(2)] + [("new", None, "ka", 60)]
    part = groups_of(company(reps, accounts), max_moved=0.0)
    g = int(np.flatnonzero(np.bincount(part.f_group) > 0)[0])
    problem, _ = build_problem(part.take(np.array([g])), True)
    solve = get_backend("highs")
    lp = solve(replace(problem, integer=np.zeros(problem.n_vars, dtype=bool)), SolveOptions(lp_algorithm="simplex"))
    milp = solve(problem, SolveOptions(mip_gap=0.0))
    assert lp.objective <= milp.objective + 1e-7
    assert lp.objective >= 0.99 * milp.objective


def test_a_start_never_changes_the_optimum_and_must_fit(generated) -> None:  # type: ignore[no-untyped-def]
    solve = get_backend("highs")
    part = generated.take(np.array([0]))
    problem, cols = build_problem(part, True)
    order = np.lexsort((-part.p_home.astype(float), part.p_f))
    stay = order[np.flatnonzero(np.r_[True, np.diff(part.p_f[order]) != 0])]
    started = replace(problem, start=start_point(part, cols, problem.n_vars, stay))
    options = SolveOptions(mip_gap=0.0, time_limit=30.0)
    # Both within HiGHS's own tolerances of the one optimum.
    assert solve(started, options).objective == pytest.approx(solve(problem, options).objective, rel=1e-4)
    with pytest.raises(ValueError, match="start has length"):
        replace(problem, start=np.zeros(problem.n_vars + 1))
