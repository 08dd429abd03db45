"""What a team's reps share: learned from past years, and the same log shock for every rep."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quotaopt.tracking import team_share, update


def _history(team_sd: float, seed: int, teams: int = 60, size: int = 8, years: range = range(2022, 2027)
             ) -> tuple[pd.DataFrame, pd.Series, pd.Series, pd.Series]:
    """Monthly bookings: rep skill (a random walk) x a fresh team shock each year x monthly noise."""
    rng = np.random.default_rng(seed)
    n = teams * size
    ids = pd.Series([f"R{i:04d}" for i in range(n)])
    team = np.repeat(np.arange(teams), size)
    skill = rng.normal(0.0, 0.4, n)
    rows = []
    for y in years:
        skill = skill + rng.normal(0.0, 0.1, n)
        level = 1e6 * np.exp(skill + rng.normal(0.0, team_sd, teams)[team])
        for m in range(12):
            amount = level / 12 * np.exp(rng.normal(0.0, 0.2, n))
            rows.append(pd.DataFrame({"date": pd.Timestamp(y, m + 1, 15), "rep_id": ids, "amount": amount}))
    return (pd.concat(rows, ignore_index=True), ids, pd.Series([f"T{t:02d}" for t in team]),
            pd.Series([pd.NaT] * n))


@pytest.mark.parametrize("team_sd", [0.0, 0.1, 0.2])
def test_team_variance_is_learned_from_the_years_growth(team_sd: float) -> None:
    got = [team_share(*_history(team_sd, seed)) for seed in range(3)]
    assert all(g is not None for g in got)
    estimate = np.mean([g.team_var for g in got if g is not None])
    # Fresh shocks each year: a year-on-year change carries twice their variance.
    assert estimate == pytest.approx(2 * team_sd**2, abs=0.006)
    assert got[0] is not None and got[0].year_pairs == 4 and got[0].teams == 4 * 60


def test_one_whole_year_or_too_few_teams_tells_nothing() -> None:
    history, ids, teams, hires = _history(0.1, 1, years=range(2026, 2027))
    assert team_share(history, ids, teams, hires) is None
    history, ids, teams, hires = _history(0.1, 1, teams=3)
    assert team_share(history, ids, teams, hires) is None


def test_a_company_shock_moves_narrow_and_wide_bands_alike() -> None:
    # 400 reps at 90% of pace halfway through; the last two have not started (nothing to read)
    # and differ only in the width of their capacity band.
    n = 400
    cap = np.array([[8e5, 1e6, 1.25e6]] * n)
    cap[-1] = [5e5, 1e6, 2e6]
    done = np.full(n, 0.5)
    done[-2:] = 0.0
    booked = np.where(done > 0, 0.45e6, 0.0)
    args = (np.full(n, 2e4), np.full(n, 0.02), np.arange(n) % 40, 0.02, 0.0)
    prior = update(cap, booked, np.zeros(n), *args)
    post = update(cap, booked, done, *args)
    shift = post.mean[-2:] - prior.mean[-2:]
    assert shift[0] < -0.05
    assert shift[1] == pytest.approx(shift[0], rel=1e-9)


def test_a_few_teams_are_shrunk_toward_the_fallback_and_many_are_not() -> None:
    few = team_share(*_history(0.2, 4, teams=6, size=4, years=range(2025, 2027)), toward=0.01)
    many = team_share(*_history(0.2, 4), toward=0.01)
    assert few is not None and many is not None
    assert few.weight < 0.9 and few.team_var == pytest.approx(0.01 + few.weight * (few.raw - 0.01))
    assert many.weight > 0.97 and many.se < 0.01
