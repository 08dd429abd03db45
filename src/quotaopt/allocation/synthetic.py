"""In-memory synthetic companies for allocation tests and benchmarks (no disk).

A random three-level tree (company -> regions -> teams of about ``team_size`` reps)
with capacities drawn from a seeded numpy Generator. Not the project's data generator
(``quotaopt.datasets``): this one only makes the frames :func:`allocate` takes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quotaopt.allocation.bounds import ramp_factor


def make_company(n_reps: int, seed: int = 0, *, team_size: int = 12, plan_year: int = 2027,
                 new_hire_frac: float = 0.08, locked_frac: float = 0.0, fixed_frac: float = 0.0,
                 stretch: float = 1.05) -> tuple[pd.DataFrame, pd.DataFrame, float]:
    """Reps, teams and a company total (sum of P50 x ``stretch``) for ``n_reps`` reps.

    Parameters
    ----------
    n_reps : int
    seed : int
    team_size : int
        Mean reps per team (sizes vary from about half to one and a half of it).
    new_hire_frac, locked_frac, fixed_frac : float
        Shares of reps hired in the last year, of reps with a locked quota, and of teams
        with a fixed target (set to their capacity x ``stretch``). Reps hired during the
        year before ``plan_year`` have a ramped last quota (their share of that year).

    Returns
    -------
    reps, teams : DataFrame
    company_total : float
    """
    rng = np.random.default_rng(seed)
    n_teams = max(1, int(np.ceil(n_reps / team_size)))
    n_regions = max(1, int(round(np.sqrt(n_teams) / 2)))
    team_ids = np.array([f"TM{i:05d}" for i in range(n_teams)], dtype=object)
    region_ids = np.array([f"RG{i:03d}" for i in range(n_regions)], dtype=object)
    teams = pd.DataFrame({
        "team_id": ["CO", *region_ids, *team_ids],
        "parent_id": [None, *(["CO"] * n_regions), *region_ids[rng.integers(0, n_regions, n_teams)]],
        "target": np.nan,
    })
    weights = rng.uniform(0.5, 1.5, n_teams)
    team_of = np.concatenate([np.arange(n_teams), rng.choice(n_teams, n_reps - n_teams, p=weights / weights.sum())]
                             ) if n_reps >= n_teams else np.arange(n_reps)
    team_of = np.sort(team_of)
    ka = rng.random(n_reps) < 0.3
    fte = np.where(rng.random(n_reps) < 0.9, 1.0, rng.choice([0.5, 0.6, 0.8], n_reps))
    years_ago = rng.uniform(1.2, 12.0, n_reps)
    new = rng.random(n_reps) < new_hire_frac
    years_ago = np.where(new, rng.uniform(-0.3, 1.0, n_reps), years_ago)
    hire = pd.Timestamp(f"{plan_year}-01-01") - pd.to_timedelta(np.round(years_ago * 365.25), unit="D")
    ramp = ramp_factor(pd.Series(hire), plan_year, (0.25, 0.5, 0.75, 1.0))
    base = np.where(ka, 900_000.0, 350_000.0) * np.exp(rng.normal(0.0, 0.3, n_reps))
    p50 = np.round(base * fte * np.maximum(ramp, 0.25), -2)
    s_lo, s_hi = rng.uniform(0.12, 0.3, n_reps), rng.uniform(0.15, 0.45, n_reps)
    p10 = np.round(p50 * np.exp(-1.2816 * s_lo), -2)
    p90 = np.round(p50 * np.exp(1.2816 * s_hi), -2)
    # Last year's quota was set under last year's ramp: a rep hired during it carries a
    # ramped share (as in `quotaopt generate` data), and a rep absent last year none.
    ramp_last = ramp_factor(pd.Series(hire), plan_year - 1, (0.25, 0.5, 0.75, 1.0))
    last = np.where(ramp_last > 0, np.round(base * fte * ramp_last * rng.uniform(0.85, 1.15, n_reps), -3), np.nan)
    locked = np.where(rng.random(n_reps) < locked_frac, np.round(p50 * stretch, -3), np.nan)
    reps = pd.DataFrame({
        "rep_id": [f"R{i:06d}" for i in range(n_reps)], "team_id": team_ids[team_of],
        "role": np.where(ka, "ka", "longtail"), "fte": fte, "hire_date": hire,
        "last_quota": last, "locked_quota": locked,
        "capacity_p10": p10, "capacity_p50": p50, "capacity_p90": p90,
    })
    cap_team = np.bincount(team_of, weights=p50, minlength=n_teams)
    fixed = rng.random(n_teams) < fixed_frac
    targets = np.where(fixed, np.round(cap_team * stretch, -3), np.nan)
    teams.loc[teams.index[1 + n_regions:], "target"] = targets
    return reps, teams, float(p50.sum() * stretch)
