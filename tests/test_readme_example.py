"""The worked example in the README, checked against the engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quotaopt.allocation import allocate
from quotaopt.errors import InfeasibleError
from quotaopt.scenario import AllocationConfig

TEAMS = pd.DataFrame({"team_id": ["CO", "T"], "parent_id": [None, "CO"], "target": [np.nan, np.nan]})


def _reps(locked: float = np.nan) -> pd.DataFrame:
    p50 = np.array([100_000.0, 200_000.0, 300_000.0])
    return pd.DataFrame({
        "rep_id": ["r1", "r2", "r3"], "team_id": "T", "role": "longtail", "fte": 1.0,
        "hire_date": pd.Timestamp("2015-01-01"), "last_quota": np.nan, "locked_quota": [locked, np.nan, np.nan],
        "capacity_p10": p50 * 0.8, "capacity_p50": p50, "capacity_p90": p50 * 1.2,
    })


def test_equal_stretch() -> None:
    result = allocate(_reps(), TEAMS, 660_000, AllocationConfig(), 2027)
    assert result.reps.set_index("rep_id")["quota"].to_dict() == {"r1": 110_000, "r2": 220_000, "r3": 330_000}


def test_locked_rep_and_the_rest_share_equally() -> None:
    result = allocate(_reps(locked=150_000), TEAMS, 660_000, AllocationConfig(), 2027)
    reps = result.reps.set_index("rep_id")
    assert reps["quota"].to_dict() == {"r1": 150_000, "r2": 204_000, "r3": 306_000}
    assert reps.loc["r1", "binding"] == "locked" and reps.loc["r2", "binding"] == "fairness"


def test_stretch_cap_gives_way_with_one_exception() -> None:
    result = allocate(_reps(), TEAMS, 660_000, AllocationConfig(stretch=(0.8, 1.0)), 2027)
    reps = result.reps.set_index("rep_id")
    assert reps["quota"].to_dict() == {"r1": 110_000, "r2": 220_000, "r3": 330_000}
    assert set(reps["binding"]) == {"stretch_max_relaxed"}
    [exception] = result.exceptions
    assert exception.message == "team T carries 660k, 60k over what its reps can at stretch 1: its reps go to stretch 1.1"
    assert exception.record() | {"message": ""} == {"unit": "T", "rep": None, "limit": "stretch_max", "allowed": 1.0,
                                                     "used": pytest.approx(1.1), "amount": 60_000.0, "reps": 3,
                                                     "message": ""}


def test_strict_stretch_cap_makes_it_infeasible_with_the_numbers() -> None:
    with pytest.raises(InfeasibleError) as info:
        allocate(_reps(), TEAMS, 660_000, AllocationConfig(stretch=(0.8, 1.0), strict=True), 2027)
    assert str(info.value) == ("infeasible: company CO: 660k cannot be planned within the limits; the most that "
                               "works is 600k. stretch <= 1.10 would carry 660k")
