"""Soft limits that give way: hand-solved elastic cases on every backend, and the strict model.

Each case works out by hand which soft limit gives, by how much, and the quotas that
result (unit 1, stretch [0.8, 1.3], flex 5% unless the case says otherwise). The
family order (flex, ka_share, max_change, stretch) only breaks ties in money.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotaopt.allocation import allocate, engine
from quotaopt.allocation.inputs import prepare
from quotaopt.allocation.synthetic import make_company
from quotaopt.allocation.targets import pools, shares
from quotaopt.errors import InfeasibleError
from quotaopt.parallel import Executor
from quotaopt.scenario import AllocationConfig
from test_allocation_cases import ONE, PATHS, rep, tree


@dataclass
class Elastic:
    name: str
    reps: list[dict[str, Any]]
    teams: pd.DataFrame
    total: float
    quotas: list[float]
    # (unit, limit, allowed, used, amount) of every exception, largest amount first.
    exceptions: list[tuple[str, str, float, float, float]]
    config: dict[str, Any] = field(default_factory=dict)
    binding: list[str] | None = None
    words: str = ""  # part of the first exception's message


TWO = tree(("CO", None, np.nan), ("A", "CO", np.nan), ("C", "CO", np.nan))
CASES = [
    # A's only rep may not pass 1.2 x 170 = 204 (max_change 20%), below A's band [209, 231]
    # around its share 220. Flex gives 5 (A at 204), C takes the 16 A leaves inside its
    # band (1100 -> 1116 of [1045, 1155]); max_change giving 5 would cost 5 x 1.02.
    Elastic("one team short", [rep("a", "A", 200, last=170), rep("c", "C", 1000)], TWO, 1320, [204, 1116],
            [("A", "flex", 0.05, 204 / 220 - 1, 5.0)], config={"max_change": 0.2},
            binding=["max_change", "fairness"], words="team A carries 204, 7.3% below its top-down share 220"),
    # ka_share >= 50% needs the ka rep to carry 200 of 400, but it can carry 130 (1.3 x 100):
    # ka_share gives 70 (cheaper than 70 of stretch), the ka rep sits at its cap, l takes 270.
    Elastic("ka_share cannot hold", [rep("k", "T", 100, role="ka"), rep("l", "T", 300)], ONE, 400, [130, 270],
            [("T", "ka_share", 0.5, 130 / 400, 70.0)], config={"ka_share": (0.5, 0.75)},
            binding=["stretch_max", "ka_share_relaxed"], words="its ka reps carry 32.5% of its reps' quota"),
    # Both reps are held at 110 by max_change 10% of last quota 100; the company needs 240.
    # max_change gives first (their stretch edge is 130): both go to +20%, 20 over 220.
    Elastic("max_change conflict", [rep("a", "T", 100, last=100), rep("b", "T", 100, last=100)], ONE, 240,
            [120, 120], [("T", "max_change", 0.1, 0.2, 20.0)], config={"max_change": 0.1},
            binding=["max_change_relaxed"] * 2, words="its reps go beyond max_change 10% (to +20% on last quota)"),
    # Shares 220, 220, 1100 (bands [209, 231], [1045, 1155]); A can carry 204, B 208 (max_change
    # 20% of 170 and 173.4): flex gives 5 and 1, C takes 1540 - 412 = 1128 inside its band.
    Elastic("two teams short", [rep("a", "A", 200, last=170), rep("b", "B", 200, last=173.4),
                                rep("c", "C", 1000)],
            tree(("CO", None, np.nan), ("A", "CO", np.nan), ("B", "CO", np.nan), ("C", "CO", np.nan)), 1540,
            [204, 208, 1128], [("A", "flex", 0.05, 204 / 220 - 1, 5.0), ("B", "flex", 0.05, 208 / 220 - 1, 1.0)],
            config={"max_change": 0.2}),
    # a is locked at 250 of a company of 300: b must take 50, below its stretch floor 80.
    Elastic("locked quota forces a relaxation", [rep("a", "T", 100, locked=250), rep("b", "T", 100)], ONE, 300,
            [250, 50], [("T", "stretch_min", 0.8, 0.5, 30.0)], binding=["locked", "stretch_min_relaxed"],
            words="company T carries 300, 30 under what its reps must at stretch 0.8: its rep goes down to stretch 0.5"),
    # 600 over capacities 400, at most 520 at stretch 1.3: stretch gives 80, spread evenly
    # (shares 300 and 300): every rep goes to stretch 1.5.
    Elastic("company total beyond every limit", [rep("a1", "A", 100), rep("a2", "A", 100), rep("c", "C", 200)],
            TWO, 600, [150, 150, 300], [("A", "stretch_max", 1.3, 1.5, 40.0), ("C", "stretch_max", 1.3, 1.5, 40.0)],
            binding=["stretch_max_relaxed"] * 3,
            words="team A carries 300, 40 over what its reps can at stretch 1.3: its reps go to stretch 1.5"),
]


def run(case: Elastic, backend: str, unit_solver: str = "exact", **extra: Any) -> Any:
    cfg = {"unit": 1, "stretch": (0.8, 1.3), "flex": 0.05, **case.config, **extra,
           "solver": {"backend": backend, "mip_gap": 1e-6, "time_limit": 20}}
    return allocate(pd.DataFrame(case.reps), case.teams, case.total, AllocationConfig(**cfg), 2027,
                    unit_solver=unit_solver)  # type: ignore[arg-type]


@pytest.mark.parametrize(("backend", "unit_solver"), PATHS, ids=lambda v: str(v))
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hand_solved_elastic(case: Elastic, backend: str, unit_solver: str) -> None:
    result = run(case, backend, unit_solver)
    np.testing.assert_array_equal(result.reps["quota"].to_numpy(), np.array(case.quotas, dtype=float))
    got = [(e.unit, e.limit, e.allowed, e.used, e.amount) for e in result.exceptions]
    assert len(got) == len(case.exceptions), [e.message for e in result.exceptions]
    for (unit, limit, allowed, used, money), want in zip(got, case.exceptions, strict=True):
        assert (unit, limit) == want[:2]
        assert allowed == pytest.approx(want[2]) and used == pytest.approx(want[3], abs=1e-9)
        assert money == pytest.approx(want[4])
    if case.binding is not None:
        assert result.reps["binding"].tolist() == case.binding
    assert case.words in result.exceptions[0].message
    assert result.solver.status == "optimal"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_strict_stops_where_elastic_gives_way(case: Elastic) -> None:
    with pytest.raises(InfeasibleError) as info:
        run(case, "highs", strict=True)
    assert info.value.exit_code == 3 and len(str(info.value)) < 400


def test_strict_names_the_largest_total_and_the_setting() -> None:
    case = CASES[-1]  # 600 asked, at most 520 at stretch 1.3; stretch 1.5 would carry it
    with pytest.raises(InfeasibleError) as info:
        run(case, "highs", strict=True)
    d = info.value.diagnosis
    assert d.largest == 520 and d.asked == 600
    assert d.settings == ["stretch <= 1.50"]
    assert str(info.value) == ("infeasible: company CO: 600 cannot be planned within the limits; the most that works "
                               "is 520. stretch <= 1.50 would carry 600")
    assert set(d.details["unit_id"]) == {"CO", "A", "C"}


def test_beyond_the_hard_limits_is_infeasible_with_what_would_work() -> None:
    # Every rep locked: nothing soft can give, 300 asked of 200 locked.
    reps = [rep("a", "T", 100, locked=100), rep("b", "T", 100, locked=100)]
    case = Elastic("hard", reps, ONE, 300, [], [])
    with pytest.raises(InfeasibleError) as info:
        run(case, "highs")
    assert info.value.diagnosis.largest == 200
    assert "the most that works is 200" in str(info.value)


def company(n: int, seed: int, growth: float) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    reps, teams, total = make_company(n, seed, team_size=5, locked_frac=0.1, fixed_frac=0.2)
    return reps, teams, total * growth


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 40), seed=st.integers(0, 10_000), growth=st.floats(0.8, 1.4),
       max_change=st.sampled_from([None, 0.2]), ka_share=st.sampled_from([None, (0.2, 0.8)]),
       flex=st.sampled_from([0.0, 0.05, 0.2]))
def test_elastic_equals_strict_whenever_strict_is_feasible(n: int, seed: int, growth: float, max_change: float | None,
                                                           ka_share: tuple[float, float] | None, flex: float) -> None:
    reps, teams, total = company(n, seed, growth)
    base = {"unit": 1000, "stretch": (0.8, 1.3), "flex": flex, "max_change": max_change, "ka_share": ka_share}
    try:
        strict = allocate(reps, teams, total, AllocationConfig(**base, strict=True), 2027)  # type: ignore[arg-type]
    except InfeasibleError:
        # Strict fails: an elastic plan exists only by giving way, and says where; or none
        # exists at the hard limits (fixed targets against locked quotas) and it says so too.
        try:
            elastic = allocate(reps, teams, total, AllocationConfig(**base), 2027)  # type: ignore[arg-type]
        except InfeasibleError as exc:
            assert exc.diagnosis is not None and len(str(exc)) < 400
            return
        assert elastic.exceptions
        assert elastic.reps["quota"].sum() == elastic.company_total
        return
    elastic = allocate(reps, teams, total, AllocationConfig(**base), 2027)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(elastic.reps, strict.reps)
    pd.testing.assert_frame_equal(elastic.units, strict.units)
    assert elastic.exceptions == [] and strict.exceptions == []


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 40), seed=st.integers(0, 10_000), growth=st.floats(0.9, 1.2))
def test_elastic_model_gives_nothing_where_nothing_must_give(n: int, seed: int, growth: float) -> None:
    """The elastic model itself (the fast path bypassed) on a strictly feasible company."""
    reps, teams, total = company(n, seed, growth)
    cfg = AllocationConfig(unit=1000, stretch=(0.8, 1.3), flex=0.05, strict=True)
    try:
        strict = allocate(reps, teams, total, cfg, 2027)
    except InfeasibleError:
        return
    prep = prepare(reps, teams, total, cfg, 2027)
    pool = pools(prep)
    solve = engine._Solve("highs", engine._options(cfg), True, Executor(), None, "exact")
    elastic = engine._elastic(prep, pool, shares(prep, pool), solve, 0.0)
    assert elastic.exceptions == []
    assert elastic.solver.elastic == {}
    np.testing.assert_array_equal(elastic.units["quota"], strict.units["quota"])
    np.testing.assert_array_equal(elastic.reps["quota"], strict.reps["quota"])


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_hand_solved_elastic_monolithic(case: Elastic) -> None:
    cfg = {"unit": 1, "stretch": (0.8, 1.3), "flex": 0.05, **case.config,
           "solver": {"backend": "highs", "mip_gap": 1e-6, "time_limit": 20}}
    result = allocate(pd.DataFrame(case.reps), case.teams, case.total, AllocationConfig(**cfg), 2027,
                      decompose=False)
    assert result.reps["quota"].tolist() == case.quotas
    assert [(e.unit, e.limit) for e in result.exceptions] == [w[:2] for w in case.exceptions]


def test_a_pool_relaxed_max_change_that_still_misses_a_rep_s_stretch_band_verifies(tmp_path: Any) -> None:
    """Regression: a pool's max_change relaxed to 41% while one rep's 40% had already given
    way to stretch (last 992, stretch floor 1,867): verify read the relaxed value as binding
    and refused a valid plan with exit 4 (generated 1,000 reps, seed 11, growth 17%)."""
    from pathlib import Path

    from click.testing import CliRunner

    from quotaopt.cli import main
    from quotaopt.datasets import generate_company

    root = Path(tmp_path)
    generate_company(root / "co", n_reps=1000, years=3, seed=11)
    example = (Path(__file__).parents[1] / "scenarios" / "example.yaml").read_text()
    lines = example.splitlines()
    lines = ["data: co" if line.startswith("data:") else line for line in lines]
    lines = [line.replace("growth: 0.12 ", "growth: 0.17 ", 1) for line in lines]
    assert any("growth: 0.17" in line for line in lines)
    (root / "s.yaml").write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(main, ["plan", str(root / "s.yaml"), "--out", str(root / "runs"), "--workers", "1"])
    assert result.exit_code == 0, result.output
    (run,) = [p for p in (root / "runs" / "example").iterdir() if p.is_dir()]
    plan = pd.read_csv(run / "plan.csv", dtype={"rep_id": str})
    rep_row = plan.set_index("rep_id").loc["RP001106"]
    assert rep_row["quota"] >= 0.75 * rep_row["capacity_p50"] - 1000  # the stretch floor held, in whole units
