"""Stretch outranks max_change where a rep's two bands miss each other (or stops the plan, if asked)."""

from __future__ import annotations

import numpy as np
import pytest

from quotaopt.allocation.bounds import yield_to_stretch
from quotaopt.errors import InfeasibleError
from test_allocation_cases import ONE, PATHS, Case, rep, run

# a's last quota 200 asks for at least 180 (max_change 10%), but stretch <= 1.3 allows
# 130: a gets 130, the quota nearest last year's that stretch allows; b takes 230 - 130.
ABOVE = Case("max_change needs more than stretch allows", [rep("a", "T", 100, last=200), rep("b", "T", 100)], ONE,
             230, [130, 100], 0.0, config={"max_change": 0.1})
# a's last quota 50 allows at most 60 (20%), but stretch >= 0.8 needs 80: a gets 80; b 120.
BELOW = Case("max_change allows less than stretch needs", [rep("a", "T", 100, last=50), rep("b", "T", 100)], ONE,
             200, [80, 120], 0.0, config={"max_change": 0.2})


@pytest.mark.parametrize(("backend", "unit_solver"), PATHS, ids=lambda v: str(v))
@pytest.mark.parametrize("case", [ABOVE, BELOW], ids=lambda c: c.name)
def test_stretch_comes_first_and_is_reported(case: Case, backend: str, unit_solver: str) -> None:
    result = run(case, backend, unit_solver=unit_solver)
    np.testing.assert_array_equal(result.reps["quota"].to_numpy(), case.quotas)
    assert result.solver.status == "optimal"
    (note,) = result.notes
    assert note.startswith("rep a (team T): quota ")
    assert "beyond max_change" in note and "comes first" in note
    # b keeps its fair share; only a moved beyond max_change.
    assert result.reps["lower_bound"].iloc[0] == result.reps["upper_bound"].iloc[0] == case.quotas[0]
    # The constraint that set a's quota is the stretch edge, not the max_change it broke.
    assert result.reps["binding"].iloc[0] == ("stretch_max" if case is ABOVE else "stretch_min")


def test_nothing_is_reported_when_the_bands_overlap() -> None:
    case = Case("overlap", [rep("a", "T", 100, last=110), rep("b", "T", 100)], ONE, 220, [110, 110], 0.0,
                config={"max_change": 0.1})
    assert run(case, "highs").notes == []


@pytest.mark.parametrize("case", [ABOVE, BELOW], ids=lambda c: c.name)
def test_error_mode_stops_with_both_sides_named(case: Case) -> None:
    strict = Case(case.name, case.reps, case.teams, case.total, [], 0.0,
                  config={**case.config, "max_change_conflict": "error"})
    with pytest.raises(InfeasibleError) as info:
        run(strict, "highs")
    text = str(info.value)
    assert "rep a (team T)" in text and "max_change" in text and "stretch" in text
    assert info.value.exit_code == 3


def test_yield_to_stretch_widens_only_the_reps_that_miss() -> None:
    m_lo = np.array([180.0, 40.0, 90.0, -np.inf, 130.2, 129.5])
    m_hi = np.array([220.0, 60.0, 110.0, np.inf, 200.0, 200.0])
    s_lo = np.array([80.0, 80.5, 80.0, 80.0, 80.0, 80.0])
    s_hi = np.array([130.4, 130.0, 130.0, 130.0, 130.6, 130.6])
    lo, hi, moved = yield_to_stretch(m_lo, m_hi, s_lo, s_hi)
    # The fifth overlaps the stretch band by 0.4 units but shares no whole multiple with
    # it; the sixth shares 130.
    assert moved.tolist() == [True, True, False, False, True, False]
    # To the nearest whole multiple inside the stretch band.
    assert lo.tolist() == [130.0, 40.0, 90.0, -np.inf, 130.0, 129.5]
    assert hi.tolist() == [220.0, 81.0, 110.0, np.inf, 200.0, 200.0]
