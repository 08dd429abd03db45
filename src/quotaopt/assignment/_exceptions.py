"""What gave way in an assignment, in business words (the allocation's exception records).

Found from the final owners against the scenario's own limits: per group (one pool's
reps of one class), the reps whose book is outside ``band`` of their fair share, or whose
number of accounts is outside ``workload_band``; and every ``assign_lock`` that could not
hold because the owner departed or is on leave. Each says why, as far as the inputs tell:
``mode: unowned_only`` leaves owned accounts where they are, ``max_moved`` keeps a rep
from giving more, or accounts cannot be split finer.
"""

from __future__ import annotations

import numpy as np

from quotaopt.allocation.exceptions import LimitException
from quotaopt.allocation.explain import amount
from quotaopt.assignment._inputs import DEPARTED, Prepared
from quotaopt.assignment._verify import Balance

_TOL = 1e-9


def _why(prep: Prepared, bal: Balance, reps: np.ndarray, above: np.ndarray, was_out: np.ndarray) -> str:
    cfg = prep.config
    group = prep.rep_group[reps[0]]
    movable = (prep.acc_group == group) & (prep.acc_home >= 0) & ~prep.acc_locked & ~prep.acc_free
    if cfg.mode == "unowned_only" and was_out.any() and movable.any():
        return "mode unowned_only moves only accounts without an active owner (rebalance would move others)"
    givers = reps[above]
    if cfg.mode == "rebalance" and cfg.max_moved < 1.0 and givers.size:
        book = bal.book_before[givers]
        used = (book > 0) & (bal.moved_out[givers] >= 0.5 * cfg.max_moved * book)
        if used.any():
            return f"max_moved {cfg.max_moved:.0%} keeps them from giving more"
    largest = float(prep.acc_pot[prep.acc_group == group].max(initial=0.0))
    return f"whole accounts cannot be split to fit (the largest is {amount(largest)})"


def band_exceptions(prep: Prepared, bal: Balance) -> list[LimitException]:
    """Per group, the reps outside ``band`` of their fair share (potential) and ``workload_band`` (count)."""
    cfg = prep.config
    found: list[LimitException] = []
    specs = [("assignment_band", cfg.band, bal.target, bal.held_after, bal.held_before)]
    if cfg.workload_band is not None:
        specs.append(("assignment_workload", cfg.workload_band, bal.count_target, bal.count_after, bal.count_before))
    group = prep.rep_group
    for limit, band, target, after, before in specs:
        with np.errstate(invalid="ignore", divide="ignore"):
            dev = np.where(target > 0, after / np.where(target > 0, target, 1.0) - 1.0, 0.0)
            dev0 = np.where(target > 0, before / np.where(target > 0, target, 1.0) - 1.0, 0.0)
        out = np.abs(dev) > band + _TOL
        beyond = np.maximum(np.abs(after - target) - band * target, 0.0)
        for g in np.unique(group[out]):
            reps = np.flatnonzero(out & (group == g))
            worst = reps[np.argmax(np.abs(dev[reps]))]
            above = dev[reps] > 0
            why = _why(prep, bal, reps, above, np.abs(dev0[reps]) > band + _TOL)
            if limit == "assignment_band":
                money = float(beyond[reps].sum())
                text = (f"{prep.group_name(int(g))}: {reps.size} rep(s)' books stay outside +-{band:.0%} of their fair "
                        f"share (up to {dev[worst]:+.0%}, {amount(money)} of potential beyond the band): {why}")
            else:
                money = 0.0
                text = (f"{prep.group_name(int(g))}: {reps.size} rep(s) hold a number of accounts outside "
                        f"+-{band:.0%} of their fair share (up to {dev[worst]:+.0%}, "
                        f"{beyond[reps].sum():.0f} account(s) beyond): {why}")
            rep = str(prep.rep_ids[reps[0]]) if reps.size == 1 else None
            found.append(LimitException(str(prep.pool_ids[g // 2]), rep, limit, band, round(float(dev[worst]), 6),
                                        round(money, 2), int(reps.size), text))
    return found


def lock_exceptions(prep: Prepared, owner: np.ndarray) -> list[LimitException]:
    """Every ``assign_lock`` on an account whose owner departed or is on leave."""
    found = []
    for a in np.flatnonzero(prep.lock_dropped):
        gone = "has departed" if prep.acc_origin[a] == DEPARTED else "is on leave"
        text = (f"account {prep.acc_ids[a]} is locked to rep {prep.acc_from[a]}, who {gone}: the lock cannot hold, "
                f"it goes to rep {prep.rep_ids[owner[a]]}")
        found.append(LimitException(str(prep.pool_ids[prep.acc_pool[a]]), str(prep.acc_from[a]), "assign_lock", 1.0,
                                    0.0, round(float(prep.acc_pot[a]), 2), 0, text))
    return found
