"""The plan's books stage: capacities before, the assignment, capacities re-scored on the new books.

The capacity model is fitted once, on the books of accounts.csv; the assignment reads
its capacities (``priority.by: capacity``), and the same model then predicts each rep's
capacity on the book they will hold, which the quota MILP reads. The estimator is passed
in (``planning.estimate_capacity``), so this module does not import the planner.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from quotaopt.assignment._assign import AssignmentResult, assign_accounts
from quotaopt.assignment._tables import per_capacity_spread
from quotaopt.assignment.records import AssignmentSummary
from quotaopt.capacity.records import CapacitySummary
from quotaopt.company import CompanyData
from quotaopt.parallel import Executor
from quotaopt.scenario import Scenario


class Estimator(Protocol):
    def __call__(self, scenario: Scenario, company: CompanyData, plan_year: int,
                 rebook: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> tuple[pd.DataFrame, CapacitySummary]:
        ...


def capacity_on_new_books(scenario: Scenario, company: CompanyData, plan_year: int, estimate: Estimator,
                          executor: Executor | None = None
                          ) -> tuple[pd.DataFrame, CapacitySummary, AssignmentResult | None]:
    """Capacities for the quota MILP, and the assignment that set the books (None when ``mode: off``).

    Parameters
    ----------
    scenario : Scenario
    company : CompanyData
    plan_year : int
    estimate : callable
        ``estimate(scenario, company, plan_year, rebook=None) -> (capacity, info)``; with
        ``rebook`` it calls ``rebook(capacity_before)`` for the new accounts and returns
        the capacities on them.
    executor : Executor, optional
        Where the assignment's groups are solved (never changes the result).

    Returns
    -------
    capacity : DataFrame
        rep_id, capacity_p10/p50/p90 on the books reps will hold.
    info : CapacitySummary
        The capacity block of summary.json.
    assignment : AssignmentResult or None
        With the Books table's capacity columns and the summary's capacity spreads filled.
    """
    if scenario.assignment.mode == "off":
        capacity, info = estimate(scenario, company, plan_year)
        return capacity, info, None
    held: dict[str, Any] = {}

    def rebook(before: pd.DataFrame) -> pd.DataFrame:
        held["before"] = before.copy()
        held["result"] = assign_accounts(company, plan_year, scenario.assignment, scenario.allocation,
                                         capacity=before[["rep_id", "capacity_p50"]], executor=executor,
                                         label=str(scenario.source or "scenario"))
        accounts: pd.DataFrame = held["result"].accounts
        return accounts

    capacity, info = estimate(scenario, company, plan_year, rebook=rebook)
    result: AssignmentResult = held["result"]
    _fill_capacity(result, held["before"], capacity, bool(info.rescored_on_new_books))
    return capacity, info, result


def _fill_capacity(result: AssignmentResult, before: pd.DataFrame, after: pd.DataFrame, rescored: bool) -> None:
    books = result.books
    for when, frame in (("before", before), ("after", after)):
        p50 = frame.set_index("rep_id")["capacity_p50"]
        books[f"capacity_p50_{when}"] = books["rep_id"].map(p50).to_numpy(dtype=float)
    result.summary = AssignmentSummary.model_validate({
        **result.summary.record(), "capacity_rescored": rescored,
        "capacity_p50": {"before": float(np.nansum(books["capacity_p50_before"])),
                         "after": float(np.nansum(books["capacity_p50_after"]))},
        "capacity_spread": {"before": per_capacity_spread(books, after=False),
                            "after": per_capacity_spread(books, after=True)}})
