"""Last year's quotas, set the way companies usually set them (not from the truth).

A rep who worked all of the year before got that year's bookings plus 10%; a newer
rep got the median of their team's (same-role) quotas times their ramp share of the
year. Both roundings to 1000. Because last year's bookings hold last year's luck,
attainment against these quotas is uneven, as it is in real companies.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from quotaopt.datasets._calendar import Year
from quotaopt.datasets.org import Org, Staff
from quotaopt.datasets.sales import Sales

UPLIFT = 1.10
ROUND_TO = 1000.0


def _round(values: np.ndarray) -> np.ndarray:
    return np.round(values / ROUND_TO) * ROUND_TO


def last_quotas(org: Org, staff: Staff, sales: Sales, years: list[Year]) -> np.ndarray:
    """Quota in the last history year for every rep still employed, NaN for the others.

    Parameters
    ----------
    years : list of Year
        Warm-up, history and plan years, as simulated; the last history year is
        ``years[-2]`` and its previous year ``years[-3]`` (the warm-up year when
        there is one year of history).

    Returns
    -------
    ndarray of float
        NaN for departed reps and for reps hired in the plan year (they had no quota).
    """
    last, prev = len(years) - 2, len(years) - 3
    year = years[last]
    full_prev = staff.hire < years[prev].first
    in_last = sales.employed[:, last]
    quota = np.full(len(staff.seat), np.nan)

    veteran = full_prev & in_last
    quota[veteran] = _round(np.maximum(sales.booked[veteran, prev], 0.0) * UPLIFT)

    newer = ~full_prev & in_last
    if newer.any():
        team = org.seat_team[staff.seat]
        ka = org.seat_ka[staff.seat]
        vets = pd.DataFrame({"team": team[veteran], "ka": ka[veteran], "q": quota[veteran]})
        new = pd.DataFrame({"team": team[newer], "ka": ka[newer]})
        by_role = vets.groupby(["team", "ka"])["q"].median().rename("m_role")
        by_team = vets.groupby("team")["q"].median().rename("m_team")
        by_company = vets.groupby("ka")["q"].median().rename("m_company")
        new = new.join(by_role, on=["team", "ka"]).join(by_team, on="team").join(by_company, on="ka")
        median = new["m_role"].fillna(new["m_team"]).fillna(new["m_company"]).fillna(0.0)
        _, nbd = year.windows(staff.hire[newer], staff.end_excl[newer])
        share = (year.ramp(staff.hire[newer]) * nbd / year.bdays).mean(axis=1)
        quota[newer] = _round(median.to_numpy() * share)

    quota[staff.departed] = np.nan
    return quota
