"""Hand-solved allocation cases, each run on every backend (the cvxpy habit).

Every case writes out its expected quotas and its objective (the sum over units of
the largest deviation from the unit's fair level), worked by hand in the comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from quotaopt.allocation import allocate
from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.problem import Problem, SolveOptions
from quotaopt.errors import InfeasibleError, SolverError
from quotaopt.scenario import AllocationConfig

BACKENDS = ["highs", "cbc", "ortools"]
OLD = "2015-01-01"


def rep(rid: str, team: str, p50: float, *, role: str = "longtail", p10: float | None = None,
        p90: float | None = None, last: float = np.nan, locked: float = np.nan, fte: float = 1.0,
        hired: str = OLD) -> dict[str, Any]:
    return {"rep_id": rid, "team_id": team, "role": role, "fte": fte, "hire_date": pd.Timestamp(hired),
            "last_quota": last, "locked_quota": locked, "capacity_p10": p10 or 0.8 * p50,
            "capacity_p50": p50, "capacity_p90": p90 or 1.25 * p50}


def tree(*rows: tuple[str, str | None, float]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["team_id", "parent_id", "target"])


@dataclass
class Case:
    name: str
    reps: list[dict[str, Any]]
    teams: pd.DataFrame
    total: float
    quotas: list[float]  # in rep order
    objective: float
    config: dict[str, Any] = field(default_factory=dict)
    binding: list[str] | None = None
    units: dict[str, float] | None = None
    sort: bool = False  # ties: compare sorted quotas


ONE = tree(("T", None, np.nan))
CASES = [
    # 660 over capacities 600: stretch 1.1 for all.
    Case("proportional", [rep("a", "T", 100), rep("b", "T", 200), rep("c", "T", 300)], ONE, 660,
         [110, 220, 330], 0.0, binding=["fairness"] * 3),
    # 655 rounds to the nearest multiple of 10, 660; then as above.
    Case("company rounding", [rep("a", "T", 100), rep("b", "T", 200), rep("c", "T", 300)], ONE, 655,
         [110, 220, 330], 0.0, config={"unit": 10}),
    # a is locked at 150; the others share 380 - 150 = 230 at stretch 1.15.
    Case("locked", [rep("a", "T", 100, locked=150), rep("b", "T", 100), rep("c", "T", 100)], ONE, 380,
         [150, 115, 115], 0.0, config={"stretch": (0.5, 2.0)}, binding=["locked", "fairness", "fairness"]),
    # Fair stretch 1.2 would give a 120, but max_change caps a at 110; b takes the rest.
    Case("max_change cap", [rep("a", "T", 100, last=100), rep("b", "T", 100)], ONE, 240, [110, 130], 0.0,
         config={"stretch": (0.5, 2.0), "max_change": 0.1}, binding=["max_change", "fairness"]),
    # a's last quota 200 floors it at 180 (max_change 10%); b gets 300 - 180.
    Case("max_change floor", [rep("a", "T", 100, last=200), rep("b", "T", 100)], ONE, 300, [180, 120], 0.0,
         config={"stretch": (0.5, 2.0), "max_change": 0.1}, binding=["max_change", "fairness"]),
    # 4 units over three equal reps: one gets 2 (stretch 2 vs 4/3): largest deviation 2/3.
    Case("integer rounding", [rep("a", "T", 100), rep("b", "T", 100), rep("c", "T", 100)], ONE, 400,
         [100, 100, 200], 2 / 3, config={"unit": 100, "stretch": (0.5, 2.5)}, sort=True),
    # Shares by capacity: A (200) and B (200) get 220 each; stretch 1.1 everywhere.
    Case("two teams", [rep("a", "A", 100), rep("b", "A", 100), rep("c", "B", 200)],
         tree(("CO", None, np.nan), ("A", "CO", np.nan), ("B", "CO", np.nan)), 440, [110, 110, 220], 0.0,
         units={"CO": 440, "A": 220, "B": 220}),
    # A keeps its fixed 260; B gets 480 - 260 = 220.
    Case("fixed target", [rep("a", "A", 100), rep("b", "A", 100), rep("c", "B", 200)],
         tree(("CO", None, np.nan), ("A", "CO", 260.0), ("B", "CO", np.nan)), 480, [130, 130, 220], 0.0,
         units={"A": 260, "B": 220}),
    # Shares 220 / 440, but B's only rep may not pass 420 (max_change 5% of 400): B flexes
    # down to 420 (-4.5%), A up to 240 (+9.1%, inside flex 10%).
    Case("flex", [rep("a", "A", 100), rep("b", "A", 100), rep("c", "B", 400, last=400)],
         tree(("CO", None, np.nan), ("A", "CO", np.nan), ("B", "CO", np.nan)), 660, [120, 120, 420], 0.0,
         config={"flex": 0.1, "max_change": 0.05}, units={"A": 240, "B": 420},
         binding=["fairness", "fairness", "max_change"]),
    # n was hired on 2027-01-01: ramp (0.25 + 0.5 + 0.75 + 1) / 4 = 0.625, cap
    # 0.625 x 1.3 x 200 (median ka P50) = 162.5 -> 162; a and b share 600 - 162 = 438.
    Case("ramp", [rep("a", "T", 200, role="ka"), rep("b", "T", 200, role="ka"),
                  rep("n", "T", 200, role="ka", hired="2027-01-01")], ONE, 600, [219, 219, 162], 0.0,
         binding=["fairness", "fairness", "ramp"]),
    # Fair 100 / 300 gives ka 25% < 30%: ka must carry 0.3 x 400 = 120; deviation 0.2.
    Case("ka_share", [rep("k", "T", 100, role="ka"), rep("l", "T", 300)], ONE, 400, [120, 280], 0.2,
         config={"ka_share": (0.3, 0.75)}, binding=["ka_share", "ka_share"]),
    # Empty team E gets 0; A takes everything.
    Case("empty unit", [rep("a", "A", 100), rep("b", "A", 100)],
         tree(("CO", None, np.nan), ("A", "CO", np.nan), ("E", "CO", np.nan)), 200, [100, 100], 0.0,
         units={"E": 0, "A": 200}),
    # Equal chance: 100 e^(0.0744 z) + 100 e^(0.5409 z) = 220 at z = 0.302 -> 102.3 / 117.7;
    # at 102, a's chance is Phi(0.302) - Phi(0.266) = 1.35 points off the unit's level (b at 118:
    # 0.16), 1.5 points between the reps; 103 / 117 would leave 4 points between them.
    Case("chance", [rep("a", "T", 100, p10=100 / 1.1, p90=110), rep("b", "T", 100, p10=50, p90=200)], ONE,
         220, [102, 118], 0.0135, config={"fairness": "chance"}),
]


def run(case: Case, backend: str, decompose: bool = True, unit_solver: str = "exact") -> Any:
    cfg = {"unit": 1, "stretch": (0.8, 1.3), "flex": 0.05, **case.config,
           "solver": {"backend": backend, "mip_gap": 1e-6, "time_limit": 20}}
    return allocate(pd.DataFrame(case.reps), case.teams, case.total, AllocationConfig(**cfg), 2027,
                    decompose=decompose, unit_solver=unit_solver)  # type: ignore[arg-type]


# The exact unit solver once (the backend only solves stage A there), and every backend
# solving each unit as a MILP.
PATHS = [("highs", "exact"), *((b, "milp") for b in BACKENDS)]


@pytest.mark.parametrize(("backend", "unit_solver"), PATHS, ids=lambda v: str(v))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hand_solved(case: Case, backend: str, unit_solver: str) -> None:
    result = run(case, backend, unit_solver=unit_solver)
    quotas = result.reps["quota"].to_numpy()
    expected = np.array(case.quotas, dtype=float)
    if case.sort:
        quotas, expected = np.sort(quotas), np.sort(expected)
    np.testing.assert_array_equal(quotas, expected)
    assert result.solver.status == "optimal"
    assert result.solver.objective == pytest.approx(case.objective, abs=2e-3)
    assert quotas.sum() == result.company_total
    if case.binding is not None:
        assert result.reps["binding"].tolist() == case.binding
    if case.units is not None:
        got = dict(zip(result.units["unit_id"], result.units["quota"], strict=True))
        assert {k: got[k] for k in case.units} == case.units


@pytest.mark.parametrize("case", CASES[:10], ids=lambda c: c.name)
def test_hand_solved_monolithic(case: Case) -> None:
    result = run(case, "highs", decompose=False)
    quotas = result.reps["quota"].to_numpy()
    expected = np.array(case.quotas, dtype=float)
    if case.sort:
        quotas, expected = np.sort(quotas), np.sort(expected)
    np.testing.assert_array_equal(quotas, expected)


def test_chance_fairness_is_exact_enough() -> None:
    result = run(CASES[-1], "highs")
    assert result.solver.linearisation_error < 1e-3
    # The two chances differ by the stated objective, 1.5 points at most.
    assert result.solver.max_deviation < 0.016


def test_rounding_reports_both_totals() -> None:
    result = run(CASES[1], "highs")
    assert result.company_total_requested == 655
    assert result.company_total == 660


INFEASIBLE = Case("infeasible", [rep("r1", "TM0007", 7_769_231), rep("r2", "TM0008", 1_000_000)],
                  tree(("CO", None, np.nan), ("TM0007", "CO", 12_300_000.0), ("TM0008", "CO", np.nan)),
                  13_300_000, [], 0.0, config={"unit": 1000, "strict": True})


@pytest.mark.parametrize("backend", BACKENDS)
def test_infeasible_names_team_target_and_capacity(backend: str) -> None:
    with pytest.raises(InfeasibleError) as info:
        run(INFEASIBLE, backend)
    reasons = info.value.reasons
    assert "team TM0007: target 12.3M exceeds the most its reps can carry, 10.1M (stretch <= 1.3)" in reasons
    assert info.value.exit_code == 3
    # The short message: what works and the setting that would carry it.
    message = str(info.value)
    assert len(message) < 400
    assert "13.3M cannot be planned within the limits" in message and "stretch <= 1.59" in message


@pytest.mark.parametrize("backend", BACKENDS)
def test_elastic_explanation_when_prechecks_pass(backend: str) -> None:
    # Each team alone is fine, but ka_share >= 50% cannot hold in T: its ka rep can carry
    # at most 130 of at least 0.8 x (100 + 300) = 320.
    case = Case("ka", [rep("k", "T", 100, role="ka"), rep("l", "T", 300)], ONE, 400, [], 0.0,
                config={"ka_share": (0.5, 0.75), "strict": True})
    with pytest.raises(InfeasibleError) as info:
        run(case, backend)
    assert any("company T" in r and "ka_share >= 50%" in r for r in info.value.reasons)
    assert "ka_share >= 32%" in str(info.value)


def market_split(seed: int = 3, m: int = 4, n: int = 30) -> Problem:
    """Cornuejols-Dawande market split as slack minimisation: easy to find a solution, hard to prove."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, (m, n)).astype(float)
    rhs = np.floor(a.sum(1) / 2)
    A = sp.hstack([sp.csr_matrix(a), sp.eye(m), -sp.eye(m)]).tocsr()
    return Problem(c=np.concatenate([np.zeros(n), np.ones(2 * m)]), A=A, row_lo=rhs, row_hi=rhs,
                   col_lo=np.zeros(n + 2 * m), col_hi=np.concatenate([np.ones(n), np.full(2 * m, np.inf)]),
                   integer=np.concatenate([np.ones(n, bool), np.zeros(2 * m, bool)]))


@pytest.mark.parametrize("backend", BACKENDS)
def test_time_limited_solve_is_feasible_with_gap_never_optimal(backend: str) -> None:
    solution = get_backend(backend)(market_split(), SolveOptions(time_limit=0.5))
    assert solution.status == "feasible"
    assert solution.x is not None
    assert solution.bound < solution.objective
    assert solution.gap > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_reports_infeasible(backend: str) -> None:
    A = sp.csr_matrix(np.ones((1, 2)))
    p = Problem(c=np.ones(2), A=A, row_lo=np.array([10.0]), row_hi=np.array([10.0]), col_lo=np.zeros(2), col_hi=np.full(2, 3.0),
                integer=np.ones(2, bool))
    assert get_backend(backend)(p, SolveOptions()).status == "infeasible"


@pytest.mark.parametrize("where", ["stage A", "unit MILPs", "monolithic"])
def test_no_usable_solution_raises_solver_error(monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    from quotaopt.allocation import decompose, engine, monolithic
    from quotaopt.allocation.problem import Solution

    module = {"stage A": engine, "unit MILPs": decompose, "monolithic": monolithic}[where]
    monkeypatch.setattr(module, "get_backend", lambda name: lambda p, o, s=None: Solution("error", message="stub"))
    with pytest.raises(SolverError) as info:
        run(CASES[0], "highs", decompose=where != "monolithic", unit_solver="milp")
    assert info.value.exit_code == 4


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_solves_a_linear_program(backend: str) -> None:
    # No integer column: CBC hands it to CLP, whose log has no "Result -" line.
    A = sp.csr_matrix(np.ones((1, 2)))
    p = Problem(c=np.array([1.0, 2.0]), A=A, row_lo=np.array([3.0]), row_hi=np.array([np.inf]), col_lo=np.zeros(2),
                col_hi=np.full(2, 10.0), integer=np.zeros(2, bool))
    solution = get_backend(backend)(p, SolveOptions())
    assert solution.status == "optimal"
    assert solution.x is not None
    np.testing.assert_allclose(solution.x, [3.0, 0.0], atol=1e-9)
