"""The assignment's outputs: assignments.csv, the Books table per rep, and the summary figures."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from quotaopt.assignment._inputs import DEPARTED, LEAVE, OWNED, UNOWNED, Prepared
from quotaopt.assignment._verify import Balance
from quotaopt.assignment.records import AssignmentSummary

#: Column order of assignments.csv (contract §4).
MOVE_COLUMNS = ["account_id", "from", "to", "reason", "unit", "tier", "potential", "revenue"]
#: Column order of the Books table (report and workbook).
BOOK_COLUMNS = ["rep_id", "team_id", "unit", "key_accounts", "fair_share", "potential_before", "potential_after",
                "accounts_before", "accounts_after", "moved_out", "moved_in", "capacity_p50_before",
                "capacity_p50_after"]
#: Why an account is in assignments.csv.
REASONS = ("unowned", "priority", "departed owner", "owner on leave", "balance")


def reasons(prep: Prepared, owner: np.ndarray) -> np.ndarray:
    """The reason of every account whose owner changes ('' for the others).

    unowned: an empty rep_id; priority: an empty rep_id on a key account, placed among two or
    more eligible reps by rank; departed owner / owner on leave: the owner is no longer
    active; balance: moved from an active owner.
    """
    n_groups = 2 * prep.pool_ids.size
    takers = np.bincount(prep.rep_group, minlength=n_groups)[prep.acc_group]
    ranked = prep.acc_ka & (takers > 1) & (prep.config.priority.weight > 0 or prep.config.priority.mode ==
                                           "lexicographic")
    out = np.select(
        [prep.acc_origin == UNOWNED, prep.acc_origin == DEPARTED, prep.acc_origin == LEAVE],
        [np.where(ranked, "priority", "unowned"), "departed owner", "owner on leave"], "balance").astype(object)
    moved = (prep.acc_origin != OWNED) | (owner != prep.acc_home)
    return np.where(moved, out, "")


def moves_table(prep: Prepared, owner: np.ndarray, why: np.ndarray) -> pd.DataFrame:
    """assignments.csv: one row per account that gets a new owner, in accounts.csv order."""
    rows = np.flatnonzero(why != "")
    return pd.DataFrame({
        "account_id": prep.acc_ids[rows],
        "from": pd.Series(prep.acc_from[rows], dtype=object).fillna(""),
        "to": prep.rep_ids[owner[rows]],
        "reason": why[rows],
        "unit": prep.pool_ids[prep.acc_pool[rows]],
        "tier": np.where(prep.acc_ka[rows], "ka", "longtail"),
        "potential": np.round(prep.acc_pot[rows], 2),
        "revenue": np.round(prep.acc_rev[rows], 2),
    }, columns=MOVE_COLUMNS)


def books_table(prep: Prepared, bal: Balance) -> pd.DataFrame:
    """Per active rep: fair share, book and accounts before and after, what moved out and in."""
    return pd.DataFrame({
        "rep_id": prep.rep_ids, "team_id": prep.rep_team, "unit": prep.pool_ids[prep.rep_pool],
        "key_accounts": prep.rep_ka, "fair_share": np.round(bal.target, 2),
        "potential_before": np.round(bal.held_before, 2), "potential_after": np.round(bal.held_after, 2),
        "accounts_before": bal.count_before.astype(np.int64), "accounts_after": bal.count_after.astype(np.int64),
        "moved_out": np.round(bal.moved_out, 2), "moved_in": np.round(bal.moved_in, 2),
        "capacity_p50_before": np.nan, "capacity_p50_after": np.nan,
    }, columns=BOOK_COLUMNS)


def spread(held: np.ndarray, target: np.ndarray) -> float:
    """Mean |held / fair share - 1| over reps with a fair share: 0 = every book exactly fair."""
    ok = target > 0
    return float(np.abs(held[ok] / target[ok] - 1.0).mean()) if ok.any() else 0.0


def per_capacity_spread(books: pd.DataFrame, after: bool) -> float | None:
    """Mean |(potential / capacity P50) / (the same for the rep's unit and class) - 1|.

    The spread of book potential per unit of capacity: 0 when every rep's book is the same
    multiple of what they can sell. Before: accounts.csv's books and the capacities on
    them; after: the new books and the capacities re-scored on them (what the quota MILP
    reads). None without capacities.
    """
    when = "after" if after else "before"
    pot, cap = books[f"potential_{when}"].to_numpy(float), books[f"capacity_p50_{when}"].to_numpy(float)
    ok = np.isfinite(cap) & (cap > 0)
    if not ok.any():
        return None
    frame = pd.DataFrame({"g": books["unit"].astype(str) + books["key_accounts"].astype(str), "pot": pot,
                          "cap": cap})[ok]
    ratio = frame.groupby("g")["pot"].transform("sum") / frame.groupby("g")["cap"].transform("sum")
    rel = (frame["pot"] / frame["cap"]) / ratio.where(ratio > 0)
    return float(np.abs(rel.dropna() - 1.0).mean()) if rel.notna().any() else None


def figures(prep: Prepared, bal: Balance, moves: pd.DataFrame, n_exceptions: int,
            solver: dict[str, Any]) -> AssignmentSummary:
    """The summary.json ``assignment`` block (capacity spreads added once capacities are re-scored)."""
    cfg = prep.config
    ratio_before, ratio_after = bal.ratio(False), bal.ratio(True)
    ok = bal.target > 0

    def within(ratio: np.ndarray) -> float:
        return float((np.abs(ratio[ok] - 1.0) <= cfg.band + 1e-9).mean()) if ok.any() else 1.0

    def worst(ratio: np.ndarray) -> float:
        return float(np.abs(ratio[ok] - 1.0).max()) if ok.any() else 0.0

    moved = moves[moves["reason"] == "balance"]
    assigned = moves[moves["reason"] != "balance"]
    by_reason = {r: {"accounts": int((moves["reason"] == r).sum()),
                     "potential": float(moves.loc[moves["reason"] == r, "potential"].sum())} for r in REASONS}
    return AssignmentSummary.model_validate({
        "mode": cfg.mode, "band": cfg.band, "max_moved": cfg.max_moved, "pools": int(prep.pool_ids.size),
        "accounts": prep.n_accounts, "decisions": int(prep.acc_free.sum()),
        "accounts_moved": len(moved), "potential_moved": float(moved["potential"].sum()),
        "revenue_moved": float(moved["revenue"].sum()),
        "accounts_assigned": len(assigned), "potential_assigned": float(assigned["potential"].sum()),
        "by_reason": by_reason,
        "balance_spread": {"before": spread(bal.held_before, bal.target), "after": spread(bal.held_after, bal.target)},
        "balance_worst": {"before": worst(ratio_before), "after": worst(ratio_after)},
        "within_band": {"before": within(ratio_before), "after": within(ratio_after)},
        "exceptions": n_exceptions, "solver": solver,
    })
