"""The Books section: each rep's book before and after the assignment, and what moved.

Shown only when the plan ran with ``assignment.mode`` other than off (the result then
carries the Books table and assignments.csv). Large plans list the reps whose book
changed most; the full data is in plan.xlsx (Books, Assignments) and assignments.csv.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from quotaopt.planning import PlanResult
from quotaopt.report._markup import fmt, note, table, td

#: Section id and navigation label (after Exceptions).
BOOKS_SECTION = ("books", "Books")
#: Most reps listed: those whose book changed most.
BOOK_TABLE_CAP = 200

_COLUMNS = [("rep_id", "text", "Rep"), ("unit", "text", "Unit"), ("key_accounts", "text", "Key accounts"),
            ("fair_share", "money", "Fair share"), ("potential_before", "money", "Book before"),
            ("potential_after", "money", "Book after"), ("accounts_before", "integer", "Accounts before"),
            ("accounts_after", "integer", "Accounts after"), ("moved_out", "money", "Moved out"),
            ("moved_in", "money", "Moved in"), ("capacity_p50_before", "money", "Capacity P50 before"),
            ("capacity_p50_after", "money", "Capacity P50 after")]


def _facts(a: dict[str, Any]) -> str:
    spread, cap = a.get("balance_spread") or {}, a.get("capacity_spread") or {}
    within = a.get("within_band") or {}
    items = [
        ("Mode", escape(str(a.get("mode")))),
        ("Accounts assigned (no active owner)", f"{fmt(a.get('accounts_assigned'), 'integer')} "
                                               f"({fmt(a.get('potential_assigned'), 'compact')} of potential)"),
        ("Accounts moved between active reps", f"{fmt(a.get('accounts_moved'), 'integer')} "
                                               f"({fmt(a.get('potential_moved'), 'compact')} of potential)"),
        ("Balance spread (mean |book / fair share - 1|)",
         f"{fmt(spread.get('before'), 'percent')} before, {fmt(spread.get('after'), 'percent')} after"),
        ("Spread of potential per unit of capacity",
         f"{fmt(cap.get('before'), 'percent')} before, {fmt(cap.get('after'), 'percent')} after"),
        (f"Reps within +-{fmt(a.get('band'), 'percent')} of their fair share",
         f"{fmt(within.get('before'), 'percent')} before, {fmt(within.get('after'), 'percent')} after"),
    ]
    facts = "".join(f"<div><dt>{k}</dt><dd>{v}</dd></div>" for k, v in items)
    return f'<dl class="facts">{facts}</dl>'


def books_html(result: PlanResult) -> str:
    """The Books section body (trusted markup; user text escaped)."""
    books = result.books
    a = result.summary.record().get("assignment") or {}
    if books is None or books.empty:
        return note("No books: the plan has no reps.")
    change = (books["moved_out"] + books["moved_in"]).abs()
    shown = books.assign(_change=change).sort_values(["_change", "rep_id"], ascending=[False, True], kind="stable")
    cap_note = ""
    if len(shown) > BOOK_TABLE_CAP:
        shown = shown.head(BOOK_TABLE_CAP)
        cap_note = note(f"The {BOOK_TABLE_CAP} reps whose book changed most of {len(books):,}; every rep is in "
                        "plan.xlsx (Books) and every moved account in assignments.csv.")
    rows = ["<tr>" + "".join(td("yes" if (key == "key_accounts" and row[key]) else
                                ("no" if key == "key_accounts" else row[key]), kind)
                             for key, kind, _ in _COLUMNS) + "</tr>" for _, row in shown.iterrows()]
    intro = note("Accounts were assigned before quotas were set (assignment in the scenario): accounts without "
                 "an active owner always, and in rebalance mode others, within max_moved of each rep's book. "
                 "Quotas are set on the books after, with capacities re-scored on them.")
    return intro + _facts(a) + _moves(result) + cap_note + table([h for _, _, h in _COLUMNS], rows)


def _moves(result: PlanResult) -> str:
    moves = result.assignments
    if moves is None or moves.empty:
        return note("No account changed owner.")
    counts = moves.groupby("reason", sort=True).agg(accounts=("account_id", "size"), potential=("potential", "sum"))
    rows = [f"<tr>{td(str(reason))}{td(int(r.accounts), 'integer')}{td(float(r.potential), 'money')}</tr>"
            for reason, r in counts.iterrows()]
    return table(["Reason", "Accounts", "Potential"], rows, sortable=False)


def books_sheets(result: PlanResult) -> list[tuple[str, pd.DataFrame]]:
    """The workbook sheets of the books: (name, frame), empty without an assignment."""
    if result.books is None:
        return []
    moves = result.assignments if result.assignments is not None else pd.DataFrame()
    return [("Books", result.books), ("Assignments", moves)]
