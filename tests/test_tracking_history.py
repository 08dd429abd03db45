"""What past years say about reading a year early: luck scale and shape shift, on histories with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import logit

from quotaopt.tracking import deal_noise, fit_history, split_points

SEASON = np.array([6, 7, 8, 8, 8, 9, 7, 6, 9, 9, 10, 13], dtype=float)
SEASON /= SEASON.sum()
AT = np.cumsum(SEASON.reshape(4, 3).sum(axis=1))[:3]  # expected share done at Q1, Q2, Q3 ends


def _monthly(level: np.ndarray, season: np.ndarray, years: range, noise: float, rng: np.random.Generator,
             ids: list[str]) -> pd.DataFrame:
    """One booking per rep and month: level x season x lognormal noise (a smooth series, no deals)."""
    rows = []
    for y in years:
        for m in range(12):
            amount = level * season[:, m] * np.exp(rng.normal(0.0, noise, len(ids)))
            rows.append(pd.DataFrame({"date": pd.Timestamp(y, m + 1, 15), "rep_id": ids, "amount": amount}))
    return pd.concat(rows, ignore_index=True)


def _deals(level: np.ndarray, years: range, rng: np.random.Generator, ids: list[str], size: float = 2e4
           ) -> pd.DataFrame:
    """Poisson deals with lognormal sizes on business days, seasonal: the forecast's own luck model."""
    rows = []
    for y in years:
        for m in range(12):
            lam = level * SEASON[m] / size
            n = rng.poisson(lam)
            rep = np.repeat(np.arange(len(ids)), n)
            day = rng.integers(1, 28, rep.size)
            amount = size * np.exp(rng.normal(-0.32, 0.8, rep.size))
            rows.append(pd.DataFrame({"date": pd.to_datetime({"year": y, "month": m + 1, "day": day}),
                                      "rep_id": np.asarray(ids)[rep], "amount": amount}))
    return pd.concat(rows, ignore_index=True)


def _fit(history: pd.DataFrame, ids: list[str], p50: np.ndarray, hires: pd.Series | None = None,
         ramp_quarters: int = 4):  # type: ignore[no-untyped-def]
    rep_ids, roles = pd.Series(ids), pd.Series(["ka"] * len(ids))
    size, kappa = deal_noise(history, rep_ids, roles, p50)
    hires = pd.Series([pd.NaT] * len(ids)) if hires is None else hires
    return fit_history(history, rep_ids, roles, hires, p50, size, kappa, {"ka": AT}, ramp_quarters)


def test_a_smooth_monthly_series_has_far_less_luck_than_twelve_deals_a_year() -> None:
    rng = np.random.default_rng(1)
    ids = [f"R{i}" for i in range(30)]
    level = rng.lognormal(np.log(1e6), 0.3, 30)
    history = _monthly(level, np.tile(SEASON, (30, 1)), range(2019, 2026), 0.03, rng, ids)
    fit = _fit(history, ids, level)
    assert fit.scale.max() < 0.1  # twelve "deals" a year would make the first months say little
    assert fit.by_role["ka"]["points"] == 30 * 7 * 3
    np.testing.assert_allclose(fit.shift, 0.0, atol=0.02)  # every rep runs on the plan's shape


def test_independent_deals_keep_the_compound_poisson_luck() -> None:
    rng = np.random.default_rng(2)
    ids = [f"R{i}" for i in range(150)]
    level = rng.lognormal(np.log(1e6), 0.2, 150)
    fit = _fit(_deals(level, range(2022, 2026), rng, ids), ids, level)
    assert 0.75 < fit.by_role["ka"]["scale"] < 1.33


def test_a_rep_whose_year_runs_early_reads_its_share_done_higher() -> None:
    rng = np.random.default_rng(3)
    ids = [f"R{i}" for i in range(20)]
    level = np.full(20, 1e6)
    early = np.roll(SEASON, -2)  # its high season comes two months sooner
    seasons = np.tile(SEASON, (20, 1))
    seasons[:5] = early
    fit = _fit(_monthly(level, seasons, range(2018, 2026), 0.03, rng, ids), ids, level)
    # The role's own mean stays (most reps run on the plan's shape); the five get their own.
    at_q2 = np.cumsum(early.reshape(4, 3).sum(axis=1))[1]
    done = fit.share_done(np.full(20, AT[1]))
    assert (done[:5] > AT[1] + 0.5 * (at_q2 - AT[1])).all()
    assert np.abs(done[5:] - AT[1]).max() < 0.5 * abs(at_q2 - AT[1])
    assert float(logit(done[0]) - logit(AT[1])) == pytest.approx(float(logit(at_q2) - logit(AT[1])), abs=0.1)
    # 0 and 1 stay: nothing done yet, or the year over.
    np.testing.assert_array_equal(fit.share_done(np.array([0.0] * 10 + [1.0] * 10)), [0.0] * 10 + [1.0] * 10)


def test_years_a_rep_was_still_ramping_are_left_out() -> None:
    history = pd.DataFrame({"date": pd.to_datetime([f"{y}-{m:02d}-15" for y in (2024, 2025, 2026) for m in range(1, 13)]
                                                   * 2),
                            "rep_id": ["OLD"] * 36 + ["NEW"] * 36, "amount": 100.0})
    hires = pd.Series(pd.to_datetime(["2015-01-01", "2024-06-01"]), index=["OLD", "NEW"])
    points = split_points(history, hires, ramp_quarters=4)
    assert sorted(set(points.loc[points["rep_id"] == "OLD", "year"])) == [2024, 2025, 2026]
    # Hired June 2024: ramping through May 2025, so only 2026 is a whole ramped year.
    assert sorted(set(points.loc[points["rep_id"] == "NEW", "year"])) == [2026]
    assert len(points) == 3 * (3 + 1)


def test_no_history_leaves_the_model_as_it_is() -> None:
    ids = ["R1", "R2"]
    fit = _fit(pd.DataFrame({"date": pd.to_datetime([]), "rep_id": [], "amount": []}), ids, np.array([1e6, 2e6]))
    np.testing.assert_array_equal(fit.scale, [1.0, 1.0])
    np.testing.assert_array_equal(fit.share_done(np.array([0.3, 0.6])), [0.3, 0.6])
