"""Monte Carlo simulation: marginal fits, copula, determinism, known answers, calibration."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from quotaopt.errors import InputError
from quotaopt.incentives import (
    BLOCK,
    HIST_EDGES,
    QuantileCurve,
    block_rng,
    calibration_table,
    correlated_normals,
    payout,
    payout_periods,
    sample_bookings,
    simulate,
    split_quarters,
)
from quotaopt.parallel import LocalPool
from quotaopt.scenario import IncentivesConfig, SimulationConfig

# --- the marginal fit ------------------------------------------------------------------


@pytest.mark.parametrize(
    "q",
    [
        (80.0, 100.0, 160.0),  # right skew
        (40.0, 100.0, 120.0),  # left skew
        (70.0, 100.0, 130.0),  # symmetric: the normal limit
        (-50.0, 10.0, 200.0),  # P10 below zero
        (0.0, 5.0, 9.0),  # P10 exactly zero
        (1e6, 1e6 + 1e-3, 1e6 + 3e-3),  # tiny spread on a large median
    ],
)
def test_curve_hits_the_three_quantiles(q: tuple[float, float, float]) -> None:
    curve = QuantileCurve.fit([q[0]], [q[1]], [q[2]])
    got = curve.quantile([0.1, 0.5, 0.9])[:, 0]
    np.testing.assert_allclose(got, q, rtol=1e-9, atol=1e-9 * max(1.0, abs(q[1])))
    p = curve.prob_at_least(np.array(q)[:, None])[:, 0]
    # With P10 = 0 the floor at 0 holds the lower 10% as a point mass: P(X >= 0) = 1.
    np.testing.assert_allclose(p, [1.0 if q[0] == 0 else 0.9, 0.5, 0.1], atol=1e-9)


def test_curve_edge_cases() -> None:
    point = QuantileCurve.fit([5.0], [5.0], [5.0])
    assert point.quantile([0.01, 0.99])[:, 0].tolist() == [5.0, 5.0]
    assert point.prob_at_least([[4.9], [5.0], [5.1]])[:, 0].tolist() == [1.0, 1.0, 0.0]
    crossed = QuantileCurve.fit([120.0], [100.0], [80.0])  # sorted, not rejected
    np.testing.assert_allclose(crossed.quantile([0.1, 0.5, 0.9])[:, 0], [80, 100, 120])
    one_sided = QuantileCurve.fit([100.0], [100.0], [200.0])  # lower side widened to 1/20 of the upper
    np.testing.assert_allclose(one_sided.quantile([0.1, 0.5, 0.9])[:, 0], [95, 100, 200])
    floored = QuantileCurve.fit([1.0], [10.0], [100.0])
    draws = floored.ppf_z(np.linspace(-8, 8, 101)[:, None])
    assert draws.min() >= 0.0
    with pytest.raises(InputError, match="finite"):
        QuantileCurve.fit([1.0, np.nan], [2.0, 2.0], [3.0, 3.0], rep_ids=np.array(["a", "b"]))


def test_curve_mean_and_float32() -> None:
    curve = QuantileCurve.fit([60.0, 40.0], [100.0, 100.0], [180.0, 120.0])
    z = np.random.default_rng(0).standard_normal((400_000, 2))
    np.testing.assert_allclose(curve.mean(), curve.ppf_z(z).mean(axis=0), rtol=3e-3)
    z32 = z[:1000].astype(np.float32)
    out32 = curve.ppf_z(z32)
    assert out32.dtype == np.float32
    np.testing.assert_allclose(out32, curve.ppf_z(z[:1000]), rtol=1e-4)


# --- the copula and the quarter split --------------------------------------------------


def test_correlated_normals_have_the_requested_structure() -> None:
    codes = np.array([0, 0, 1, 1])
    z = correlated_normals(np.random.default_rng(1), 200_000, codes, 2, company=0.3, team=0.2, dtype=np.float64)
    c = np.corrcoef(z.T)
    np.testing.assert_allclose(np.diag(np.cov(z.T)), 1.0, atol=0.01)
    assert c[0, 1] == pytest.approx(0.5, abs=0.01) and c[2, 3] == pytest.approx(0.5, abs=0.01)
    assert c[0, 2] == pytest.approx(0.3, abs=0.01)
    with pytest.raises(ValueError):
        correlated_normals(np.random.default_rng(1), 10, codes, 2, company=0.8, team=0.3)
    x = sample_bookings(QuantileCurve.fit([80.0] * 4, [100.0] * 4, [130.0] * 4), codes, 0.3, 0.2,
                        np.random.default_rng(2), 50_000)
    assert x.shape == (50_000, 4) and np.median(x[:, 0]) == pytest.approx(100, rel=0.01)


def test_split_quarters_sums_to_the_year() -> None:
    rng = np.random.default_rng(3)
    yearly = rng.uniform(50, 150, (20_000, 3)).astype(np.float32)
    shares = np.array([[0.25] * 4, [0.1, 0.2, 0.3, 0.4], [0.0, 0.5, 0.5, 0.0]])
    q = split_quarters(yearly, shares, 0.3, rng)
    np.testing.assert_allclose(q.sum(axis=0), yearly, rtol=1e-5)
    np.testing.assert_allclose(q.sum(axis=1) / yearly.sum(axis=0), shares.T, atol=0.01)
    assert (q[0, :, 2] == 0).all()
    assert block_rng(7, 3).random() == block_rng(7, 3).random() != block_rng(7, 4).random()


# --- simulate ---------------------------------------------------------------------------


def company(n: int = 40, seed: int = 0, spread: float = 0.3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    teams = [f"T{i}" for i in range(4)]
    p50 = rng.lognormal(12, 0.4, n)
    reps = pd.DataFrame({
        "rep_id": [f"R{i:03d}" for i in range(n)],
        "team_id": [teams[i % 4] for i in range(n)],
        "role": ["ka" if i % 3 == 0 else "longtail" for i in range(n)],
        "quota": np.round(p50 * rng.uniform(0.8, 1.3, n), -2),
        "capacity_p10": p50 * (1 - spread),
        "capacity_p50": p50,
        "capacity_p90": p50 * (1 + 1.5 * spread),
    })
    q = reps.groupby("team_id")["quota"].sum()
    units = pd.DataFrame({
        "unit_id": ["CO", "EU", "US", *teams],
        "parent_id": [None, "CO", "CO", "EU", "EU", "US", "US"],
        "quota": [q.sum(), q["T0"] + q["T1"], q["T2"] + q["T3"], *q[teams]],
    })
    return reps, units


PLANS = IncentivesConfig.model_validate({
    "plans": [
        {"name": "ka", "applies_to": {"role": "ka"}, "kind": "bonus", "target_incentive": 60_000,
         "period": "quarter", "mode": "marginal", "cap": 3.0,
         "tiers": [{"from": 0, "to": 0.5, "rate": 0.5}, {"from": 0.5, "to": 1.0, "rate": 1.0},
                   {"from": 1.0, "to": 1.3, "rate": 1.5}, {"from": 1.3, "rate": 2.0}]},
        {"name": "lt", "kind": "commission", "mode": "retroactive", "threshold": 0.5,
         "tiers": [{"from": 0, "to": 1, "rate": 0.05}, {"from": 1, "rate": 0.08}]},
    ],
    "team_bonus": {"threshold": 1.0, "per_rep": 5000},
})


def run(reps: pd.DataFrame, units: pd.DataFrame, draws: int = 1000, seed: int = 7, **kw: Any) -> Any:
    cfg = SimulationConfig(draws=draws, seed=seed)
    return simulate(reps, units, kw.pop("plans", PLANS), cfg, kw.pop("target", float(units["quota"].iloc[0]) / 1.1),
                    **kw)


def test_result_shape_and_summary() -> None:
    reps, units = company()
    res = run(reps, units)
    assert list(res.reps.columns) == ["rep_id", "p_attain", "expected_payout", "expected_bookings"]
    assert list(res.reps["rep_id"]) == list(reps["rep_id"]) and list(res.units["unit_id"]) == list(units["unit_id"])
    s = res.summary
    assert s.payout_p10 <= s.payout_p50 <= s.payout_p90
    assert s.share_ge_100 + s.share_80_100 + s.share_lt_80 == pytest.approx(1.0)
    assert s.share_ge_100 == pytest.approx(res.reps["p_attain"].mean())
    assert s.expected_payout == pytest.approx(res.reps["expected_payout"].sum())
    assert s.cost_of_sales == pytest.approx(s.expected_payout / res.draws["company_bookings"].mean())
    assert res.attainment_histogram["counts"].sum() == 1000 * len(reps)
    assert len(res.attainment_histogram["edges"]) == len(HIST_EDGES)
    assert len(res.draws["total_payout"]) == 1000


def test_same_seed_same_result_for_any_chunk_or_worker_count() -> None:
    reps, units = company(n=37)  # an odd rep count: chunk rows do not align with SIMD lanes
    base = run(reps, units, draws=700)
    for kw in ({"chunk": BLOCK}, {"chunk": 3 * BLOCK}, {"chunk": 5000}, {"chunk": 2 * BLOCK, "executor": LocalPool(2)}):
        other = run(reps, units, draws=700, **kw)
        pd.testing.assert_frame_equal(base.reps, other.reps)
        pd.testing.assert_frame_equal(base.units, other.units)
        assert base.summary == other.summary
        np.testing.assert_array_equal(base.draws["total_payout"], other.draws["total_payout"])
    assert run(reps, units, draws=700, seed=8).summary != base.summary


def test_point_masses_give_exact_payouts() -> None:
    """With P10 = P50 = P90 and no quarter noise every draw is the same known year."""
    reps, units = company(n=12)
    sales = reps["capacity_p50"].round(-2)
    reps = reps.assign(capacity_p10=sales, capacity_p50=sales, capacity_p90=sales,
                       quota_q1=reps["quota"] * 0.1, quota_q2=reps["quota"] * 0.2,
                       quota_q3=reps["quota"] * 0.3, quota_q4=reps["quota"] * 0.4)
    res = run(reps, units, draws=128, quarter_noise=0.0)
    q, s = reps["quota"].to_numpy(), sales.to_numpy()
    np.testing.assert_array_equal(res.reps["p_attain"], (s >= q).astype(float))
    ka = reps["role"].eq("ka").to_numpy()
    qq = reps[["quota_q1", "quota_q2", "quota_q3", "quota_q4"]].to_numpy()
    expected = np.where(ka, payout_periods(PLANS.plans[0], qq, s[:, None] * qq / q[:, None]),
                        payout(PLANS.plans[1], q, s))
    team_att = pd.Series(s).groupby(reps["team_id"]).transform("sum") / reps["team_id"].map(
        units.set_index("unit_id")["quota"])
    expected += np.where(team_att >= 1.0, 5000.0, 0.0)
    np.testing.assert_allclose(res.reps["expected_payout"], expected, rtol=2e-6)
    unit_sales = {"CO": s.sum(), "EU": s[reps["team_id"].isin(["T0", "T1"])].sum(),
                  "US": s[reps["team_id"].isin(["T2", "T3"])].sum(),
                  **{t: s[reps["team_id"] == t].sum() for t in ["T0", "T1", "T2", "T3"]}}
    want = [float(unit_sales[u] >= qu) for u, qu in zip(units["unit_id"], units["quota"], strict=True)]
    np.testing.assert_array_equal(res.units["p_attain"], want)
    assert res.summary.payout_p10 == pytest.approx(res.summary.payout_p90)


def test_team_bonus_threshold_and_units_without_quota() -> None:
    reps, units = company(n=8)
    sales = reps["quota"] * np.where(np.arange(8) % 4 == 0, 0.7, 0.9)  # every team at 0.7..0.9 of quota
    reps = reps.assign(capacity_p10=sales, capacity_p50=sales, capacity_p90=sales)
    team_att = sales.groupby(reps["team_id"]).sum() / units.set_index("unit_id")["quota"]
    bonus = IncentivesConfig.model_validate({"team_bonus": {"threshold": 0.85, "per_rep": 1000}})
    res = run(reps, units, draws=64, plans=bonus)
    want = reps["team_id"].map(team_att).ge(0.85).to_numpy() * 1000.0
    assert want.sum() > 0 and (want == 0).any()
    np.testing.assert_allclose(res.reps["expected_payout"], want)
    no_quota = units.assign(quota=units["quota"].where(units["unit_id"] != "T1"))
    res = run(reps, no_quota, draws=64, plans=bonus)
    assert np.isnan(res.units.set_index("unit_id").loc["T1", "p_attain"])
    assert (res.reps.loc[reps["team_id"] == "T1", "expected_payout"] == 0).all()


def test_p_attain_matches_the_closed_form() -> None:
    reps, units = company(n=30, spread=0.4)
    res = run(reps, units, draws=20_000)
    curve = QuantileCurve.fit(reps["capacity_p10"], reps["capacity_p50"], reps["capacity_p90"])
    exact = curve.prob_at_least(reps["quota"].to_numpy())
    assert np.abs(res.reps["p_attain"] - exact).max() < 4 * np.sqrt(0.25 / 20_000)


def test_unknown_team_and_missing_columns() -> None:
    reps, units = company(n=8)
    with pytest.raises(InputError, match="not a unit"):
        run(reps.assign(team_id="NOPE"), units)
    with pytest.raises(ValueError, match="lacks columns"):
        run(reps.drop(columns="capacity_p90"), units)
    empty = run(reps, units, plans=IncentivesConfig())
    assert empty.summary.expected_payout == 0.0 and empty.reps["expected_payout"].eq(0).all()


def test_calibrated_against_a_synthetic_truth() -> None:
    """Predicted p_attain vs the share of reps reaching quota, per decile, within 5 points.

    The truth is ours: bookings = mu x company shock x team shock x Gamma noise (right
    skewed, not log-normal), over 40 independent years so the common shocks average out.
    The simulator only sees each rep's true P10/P50/P90 (estimated from 20,000 truth draws).
    """
    rng = np.random.default_rng(2024)
    n, years, teams = 500, 40, 50
    mu = rng.lognormal(13, 0.5, n)
    k = rng.uniform(3, 40, n)  # CV from 0.16 to 0.58
    team = np.arange(n) % teams

    def truth(m: int) -> np.ndarray:
        c = rng.lognormal(0, 0.07, (m, 1))
        t = rng.lognormal(0, 0.08, (m, teams))[:, team]
        return mu * c * t * rng.gamma(k, 1 / k, (m, n))

    q10, q50, q90 = np.quantile(truth(20_000), [0.1, 0.5, 0.9], axis=0)
    quota = q50 * rng.uniform(0.7, 1.4, n)
    reps = pd.DataFrame({"rep_id": [f"R{i}" for i in range(n)], "team_id": [f"T{t}" for t in team],
                         "quota": quota, "capacity_p10": q10, "capacity_p50": q50, "capacity_p90": q90})
    units = pd.DataFrame({"unit_id": [f"T{t}" for t in range(teams)], "parent_id": None, "quota": 0.0})
    res = run(reps, units, draws=4000, plans=IncentivesConfig(), target=1.0)
    observed = truth(years) >= quota
    table = calibration_table(np.tile(res.reps["p_attain"].to_numpy(), years), observed.ravel())
    assert table["reps"].sum() == n * years
    assert table["gap"].abs().max() <= 0.05, table.to_string()


def test_calibration_table_bins_by_prediction() -> None:
    p = np.linspace(0, 1, 1000)
    hit = np.random.default_rng(0).random(1000) < p
    table = calibration_table(p, hit, bins=10)
    assert list(table["band"]) == list(range(1, 11)) and (table["reps"] == 100).all()
    assert table["predicted"].is_monotonic_increasing
    assert table["gap"].abs().max() < 0.15


def test_quarter_quotas_default_and_seasonal_weights() -> None:
    reps, units = company(n=20)
    a = run(reps, units, draws=256, quarter_weights=np.array([0.1, 0.2, 0.3, 0.4]))
    b = run(reps, units, draws=256)
    assert a.summary != b.summary
    assert a.summary.p_company_target == b.summary.p_company_target  # the year is the same
    given = reps.assign(quota_q1=reps["quota"] * 0.1, quota_q2=reps["quota"] * 0.2,
                        quota_q3=reps["quota"] * 0.3, quota_q4=reps["quota"] * 0.4)
    c = run(given, units, draws=256)
    pd.testing.assert_series_equal(a.reps["p_attain"], c.reps["p_attain"])
