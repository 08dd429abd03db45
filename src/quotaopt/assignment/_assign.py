"""``assign_accounts``: read, build, solve per group, verify, explain, tabulate."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from quotaopt.allocation.decompose import Stats
from quotaopt.allocation.exceptions import LimitException
from quotaopt.allocation.problem import SolveOptions, relative_gap
from quotaopt.assignment._exceptions import band_exceptions, lock_exceptions
from quotaopt.assignment._inputs import Prepared, prepare
from quotaopt.assignment._model import Groups, build_groups
from quotaopt.assignment._solve import CHUNK_PAIRS, ChunkResult, Task, solve_chunk
from quotaopt.assignment._strict import needed_bands, refuse
from quotaopt.assignment._tables import books_table, figures, moves_table, reasons
from quotaopt.assignment._verify import measure, verify
from quotaopt.assignment.records import AssignmentSummary
from quotaopt.company import CompanyData
from quotaopt.parallel import Executor
from quotaopt.scenario import AllocationConfig, AssignmentConfig


@dataclass
class AssignmentResult:
    """The books reps will hold, and what changed.

    Attributes
    ----------
    accounts : DataFrame
        accounts.csv with ``rep_id`` set to the new owner of every account (what the
        capacity model re-scores the reps on).
    moves : DataFrame
        assignments.csv: one row per account with a new owner (:data:`MOVE_COLUMNS`).
    books : DataFrame
        One row per active rep (:data:`BOOK_COLUMNS`); the capacity columns are filled by
        the caller once capacities are re-scored.
    summary : AssignmentSummary
        The ``assignment`` block of summary.json.
    exceptions : list of LimitException
        Soft limits that gave way (band, workload, locks that could not hold).
    timings : dict
        Seconds per step (for the manifest).
    """

    accounts: pd.DataFrame
    moves: pd.DataFrame
    books: pd.DataFrame
    summary: AssignmentSummary
    exceptions: list[LimitException] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def _chunks(gs: Groups) -> list[np.ndarray]:
    """Consecutive groups of about CHUNK_PAIRS candidate pairs."""
    if gs.n_groups == 0:
        return []
    pairs = np.bincount(gs.f_group[gs.p_f], minlength=gs.n_groups)
    cut = (np.cumsum(pairs) - 1) // CHUNK_PAIRS
    parts = np.split(np.arange(gs.n_groups), np.flatnonzero(np.diff(cut)) + 1)
    return parts


#: Rounds of MILPs over the groups with the largest gaps (each round in parallel).
MILP_ROUNDS = 3


def solve_groups(prep: Prepared, executor: Executor | None = None
                 ) -> tuple[np.ndarray, Stats, Groups, dict[str, Any]]:
    """The owner (active rep index) of every account, the solver figures, the groups solved, how they ended.

    Heuristics per chunk first; then, while the whole assignment is beyond ``mip_gap``,
    MILPs for the groups with the largest gaps in money, enough of them to close twice
    the excess, at most :data:`MILP_ROUNDS` rounds.
    """
    cfg = prep.config
    gs = build_groups(prep)
    options = SolveOptions(time_limit=cfg.solver.time_limit, mip_gap=cfg.solver.mip_gap, threads=cfg.solver.threads)
    lexicographic = cfg.priority.mode == "lexicographic"
    mapper = (executor or Executor()).map
    value, bound = np.zeros(gs.n_groups), np.zeros(gs.n_groups)
    owner = prep.acc_home.copy()
    stats = Stats()

    def run(parts: list[Groups], milp: bool) -> None:
        tasks = [Task(part, cfg.solver.backend, options, lexicographic, milp, owner[part.f_acc] if milp else None)
                 for part in parts]
        # Largest first, one task at a time: the last task a worker takes is a small one,
        # so neither waits on the other's long tail. Each group's result depends on its
        # task alone, and results are merged in group order whatever order they ran in.
        order = sorted(range(len(tasks)), key=lambda i: (-int(tasks[i].groups.p_f.size), i))
        ran = mapper(solve_chunk, [tasks[i] for i in order], chunksize=1) if tasks else []
        results: dict[int, ChunkResult] = dict(zip(order, ran, strict=True))
        for i in range(len(tasks)):
            res = results[i]
            local = np.searchsorted(gs.gid, res.gid)
            better = res.objective < value[local] if milp else np.ones(local.size, dtype=bool)
            keep = better[res.f_group]
            owner[res.f_acc[keep]] = res.rep[keep]
            value[local[better]] = res.objective[better]
            bound[local] = np.maximum(bound[local], res.bound)
            stats.time_s += res.stats.time_s
            stats.build_s += res.stats.build_s
            stats.n_solves += res.stats.n_solves
            stats.n_vars += res.stats.n_vars
            stats.n_rows += res.stats.n_rows
            stats.messages += [m for m in res.stats.messages if m not in stats.messages][:5]

    run([gs.take(chunk) for chunk in _chunks(gs)], milp=False)
    tried = np.zeros(gs.n_groups, dtype=bool)
    for _ in range(MILP_ROUNDS):
        total, proven = float(value.sum()), float(bound.sum())
        excess = (total - proven) - options.mip_gap * total
        if relative_gap(total, proven) <= options.mip_gap or excess <= 0:
            break
        gap = np.where(tried, 0.0, value - bound)
        # Most gap per candidate pair first: small groups with a large gap solve fast, while
        # MILPs of thousands of pairs mostly end on the time limit.
        pairs = np.bincount(gs.f_group[gs.p_f], minlength=gs.n_groups)
        order = np.lexsort((np.arange(gs.n_groups), -gap / np.maximum(pairs, 1)))
        take = order[: int(np.searchsorted(np.cumsum(gap[order]), 1.5 * excess)) + 1]
        take = np.sort(take[gap[take] > 0])
        if take.size == 0:
            break
        tried[take] = True
        # One task per MILP (each its own solve, up to the time limit): the round's few
        # hundred MILPs spread over the workers; in one chunk they ran on one.
        chosen = gs.take(take)
        run([chosen.take(np.array([g])) for g in range(chosen.n_groups)], milp=True)
    stats.objective, stats.bound = float(value.sum()), float(bound.sum())
    stats.status = "optimal" if stats.gap <= options.mip_gap + 1e-12 else "feasible"
    return owner, stats, gs, _group_record(prep, gs, value, bound, options.mip_gap)


def _group_record(prep: Prepared, gs: Groups, value: np.ndarray, bound: np.ndarray, mip_gap: float) -> dict[str, Any]:
    """How the groups (pool x tier) ended: how many, how many within ``mip_gap``, the worst."""
    gaps = np.array([relative_gap(float(v), float(b)) if v - b > 1e-6 else 0.0 for v, b in zip(value, bound, strict=True)])
    worst = int(np.argmax(gaps)) if gaps.size else -1
    unit = prep.group_name(int(gs.gid[worst])) if worst >= 0 else None
    return {"count": int(gaps.size), "within_gap": int((gaps <= mip_gap + 1e-12).sum()),
            "worst_gap": float(gaps.max()) if gaps.size else 0.0, "worst_unit": unit}


def _solver_record(stats: Stats, backend: str, mip_gap: float, groups: dict[str, Any]) -> dict[str, Any]:
    return {"backend": backend, "status": stats.status, "objective": stats.objective, "bound": stats.bound,
            "gap": stats.gap, "mip_gap": mip_gap, "n_solves": stats.n_solves, "n_vars": stats.n_vars,
            "groups": groups}


def assign_accounts(company: CompanyData, plan_year: int, config: AssignmentConfig, allocation: AllocationConfig,
                    capacity: pd.DataFrame | None = None, executor: Executor | None = None,
                    label: str = "scenario") -> AssignmentResult:
    """Assign accounts to reps by one MILP per group (see docs/assignment.md).

    Parameters
    ----------
    company : CompanyData
        With accounts.csv; its owners are the books before.
    plan_year : int
    config : AssignmentConfig
        ``assignment`` of the scenario (``mode`` other than ``off``).
    allocation : AllocationConfig
        Its ``ramp`` makes a new hire's fair share smaller.
    capacity : DataFrame, optional
        rep_id, capacity_p50 before the assignment (``priority.by: capacity``).
    executor : Executor, optional
        Where the groups' solves run (:mod:`quotaopt.parallel`; never changes the result).
    label : str
        The scenario file, for messages.

    Returns
    -------
    AssignmentResult

    Raises
    ------
    InputError
        No accounts.csv, an unknown pool, a seniority rule without the column.
    InfeasibleError
        An account no rep of its pool may take; with ``strict: true``, a band or lock
        that cannot hold (naming the band that would).
    SolverError
        The solution breaks a hard rule when re-checked, or a backend failed.

    Examples
    --------
    >>> import tempfile
    >>> from quotaopt.io import load_company
    >>> from quotaopt.datasets import generate_company
    >>> from quotaopt.scenario import AllocationConfig, AssignmentConfig
    >>> company = load_company(generate_company(tempfile.mkdtemp(), n_reps=30, seed=1, unowned=0.1))
    >>> result = assign_accounts(company, 2027, AssignmentConfig(mode="unowned_only"), AllocationConfig())
    >>> int(result.accounts["rep_id"].isna().sum())
    0
    >>> sorted(set(result.moves["reason"]))
    ['priority', 'unowned']
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    prep = prepare(company, plan_year, config, allocation, capacity=capacity, label=label)
    timings["assignment_prepare"] = time.perf_counter() - start
    start = time.perf_counter()
    owner, stats, gs, groups = solve_groups(prep, executor)
    timings["assignment_solve"] = time.perf_counter() - start
    start = time.perf_counter()
    verify(prep, owner)
    bal = measure(prep, owner)
    found = lock_exceptions(prep, owner) + band_exceptions(prep, bal)
    if config.strict and found:
        raise refuse(found, needed_bands(prep, bal, gs), config.band)
    why = reasons(prep, owner)
    moves = moves_table(prep, owner, why)
    accounts = company.accounts.copy() if company.accounts is not None else pd.DataFrame()
    accounts["rep_id"] = prep.rep_ids[owner]
    summary = figures(prep, bal, moves, len(found), _solver_record(stats, config.solver.backend, config.solver.mip_gap,
                                                                      groups))
    timings["assignment_verify"] = time.perf_counter() - start
    return AssignmentResult(accounts=accounts, moves=moves, books=books_table(prep, bal), summary=summary,
                            exceptions=found, timings=timings)
