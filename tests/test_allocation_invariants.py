"""Invariants of every plan (hypothesis), backend agreement, and the pieces around the solver."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from quotaopt.allocation import allocate, p_attain
from quotaopt.allocation.bounds import ramp_factor
from quotaopt.allocation.problem import Problem
from quotaopt.allocation.synthetic import make_company
from quotaopt.errors import InfeasibleError, InputError
from quotaopt.scenario import AllocationConfig


def config(backend: str = "highs", **kw: object) -> AllocationConfig:
    base: dict[str, object] = {"unit": 1000, "stretch": (0.6, 1.6), "flex": 0.2,
                               "solver": {"backend": backend, "mip_gap": 1e-4, "time_limit": 20}}
    base.update(kw)
    return AllocationConfig(**base)  # type: ignore[arg-type]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(3, 60), seed=st.integers(0, 10_000), locked=st.sampled_from([0.0, 0.1]),
       fixed=st.sampled_from([0.0, 0.3]), odd=st.integers(0, 999), max_change=st.sampled_from([None, 0.5]),
       fairness=st.sampled_from(["stretch", "chance"]))
def test_plan_invariants(n: int, seed: int, locked: float, fixed: float, odd: int, max_change: float | None,
                         fairness: str) -> None:
    reps, teams, total = make_company(n, seed, team_size=6, locked_frac=locked, fixed_frac=fixed)
    total += odd  # not a multiple of unit: rounding must not break a sum
    cfg = config(max_change=max_change, fairness=fairness)
    try:
        result = allocate(reps, teams, total, cfg, 2027)
    except InfeasibleError as exc:
        # A tiny random company can be infeasible (e.g. 3 new hires of 11, capped by their
        # ramp): then it must say why, and it says nothing about the invariants of a plan.
        assert exc.exit_code == 3 and str(exc)
        reject()
    r, u = result.reps, result.units
    unit = cfg.unit
    # Whole multiples of unit, summing exactly to the rounded company total.
    assert np.all(r["quota"] % unit == 0)
    # Half a unit rounds up (the engine's rule), not to even as Python's round() does.
    assert result.company_total == np.floor(total / unit + 0.5) * unit
    assert r["quota"].sum() == result.company_total
    # Every unit's quota is exactly its reps plus its child units.
    direct = r.groupby("team_id")["quota"].sum()
    kids = u.groupby("parent_id")["quota"].sum()
    for row in u.itertuples():
        assert row.quota == direct.get(row.unit_id, 0.0) + kids.get(row.unit_id, 0.0)
    # Fixed targets kept; every rep inside its bounds; locked quotas untouched.
    fixed_units = u[u["target"].notna() & (u["level"] > 0)]
    np.testing.assert_array_equal(fixed_units["quota"], np.round(fixed_units["target"] / unit) * unit)
    assert np.all((r["quota"] >= r["lower_bound"]) & (r["quota"] <= r["upper_bound"]))
    is_locked = reps["locked_quota"].notna().to_numpy()
    np.testing.assert_array_equal(r["quota"].to_numpy()[is_locked], reps["locked_quota"].to_numpy()[is_locked])
    assert set(r["binding"]) <= {"stretch_max", "stretch_min", "max_change", "locked", "ramp", "ka_share", "fairness"}
    assert result.solver.status in ("optimal", "feasible")


@pytest.mark.parametrize("n", [100, pytest.param(1000, marks=pytest.mark.slow)])
def test_backends_agree_within_gap(n: int) -> None:
    reps, teams, total = make_company(n, seed=11, locked_frac=0.02, fixed_frac=0.1)
    exact = allocate(reps, teams, total, config(max_change=0.3), 2027)
    objectives = {}
    for backend in ("highs", "cbc", "ortools"):
        # Every unit as a MILP through the backend (stage A too), against the exact unit solver.
        result = allocate(reps, teams, total, config(backend, max_change=0.3), 2027, unit_solver="milp")
        assert result.solver.status == "optimal"
        assert result.reps["quota"].sum() == result.company_total
        objectives[backend] = result.solver.objective
    # Each backend is optimal within mip_gap per unit; the exact solver is the optimum.
    for value in objectives.values():
        assert exact.solver.objective - 1e-9 <= value <= exact.solver.objective * (1 + 1e-3) + 1e-9, objectives


def test_parallel_and_custom_map_match_serial() -> None:
    reps, teams, total = make_company(120, seed=5)
    serial = allocate(reps, teams, total, config(), 2027)
    calls: list[int] = []

    def recording_map(func, items):  # type: ignore[no-untyped-def]
        calls.append(len(items))
        return [func(item) for item in items]

    custom = allocate(reps, teams, total, config(), 2027, map_fn=recording_map, chunk_reps=30)
    pooled = allocate(reps, teams, total, config(), 2027, workers=2, chunk_reps=30)
    assert calls and calls[0] > 1
    np.testing.assert_array_equal(serial.reps["quota"], custom.reps["quota"])
    np.testing.assert_array_equal(serial.reps["quota"], pooled.reps["quota"])


def test_monolithic_keeps_every_invariant() -> None:
    reps, teams, total = make_company(24, seed=2, team_size=8)
    result = allocate(reps, teams, total, config(solver={"time_limit": 3, "mip_gap": 1e-3}), 2027,
                      decompose=False)
    assert result.reps["quota"].sum() == result.company_total
    assert result.solver.mode == "monolithic"
    assert result.solver.status in ("optimal", "feasible")


def test_ramp_factor_by_quarter() -> None:
    hired = pd.Series(pd.to_datetime(["2020-01-01", "2027-01-01", "2026-10-15", "2027-05-01", "2028-01-01"]))
    r = ramp_factor(hired, 2027, (0.25, 0.5, 0.75, 1.0))
    # 2026-10-15: Q1 0 full quarters (2.5 months) .25, Q2 1 .5, Q3 2 .75, Q4 3 1.0.
    # 2027-05-01: absent on Apr 1 (0), Jul 1 0 quarters .25, Oct 1 1 quarter .5.
    np.testing.assert_allclose(r, [1.0, 0.625, 0.625, 0.1875, 0.0])


def test_problem_rejects_nan_and_inf() -> None:
    import scipy.sparse as sp

    ok = {"c": [1.0], "A": sp.csr_matrix(np.ones((1, 1))), "row_lo": [0.0], "row_hi": [1.0],
          "col_lo": [0.0], "col_hi": [np.inf], "integer": [True]}
    Problem(**ok)  # type: ignore[arg-type]
    for key, bad in (("c", [np.nan]), ("c", [np.inf]), ("row_lo", [np.nan]), ("col_lo", [np.inf]),
                     ("A", sp.csr_matrix(np.full((1, 1), np.inf)))):
        with pytest.raises(ValueError):
            Problem(**{**ok, key: bad})  # type: ignore[arg-type]


def test_bad_input_is_an_input_error() -> None:
    reps, teams, total = make_company(10, seed=1)
    reps.loc[0, "capacity_p50"] = np.nan
    with pytest.raises(InputError, match="capacity_p50"):
        allocate(reps, teams, total, config(), 2027)
    reps, teams, total = make_company(10, seed=1)
    reps.loc[0, "locked_quota"] = 1234.0
    with pytest.raises(InputError, match="whole multiple"):
        allocate(reps, teams, total, config(), 2027)


def test_p_attain_matches_the_three_quantiles() -> None:
    np.testing.assert_allclose(p_attain([80, 100, 130], [80, 80, 80], [100, 100, 100], [130, 130, 130]),
                               np.array([0.9, 0.5, 0.1]), atol=1e-6)
