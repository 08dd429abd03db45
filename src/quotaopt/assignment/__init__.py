"""Assignment: accounts to reps by one MILP per planning unit, before quotas are set.

See docs/assignment.md for the formulation. :func:`assign_accounts` returns the new
owners (what the capacity model re-scores reps on), assignments.csv, the Books table and
the summary figures; its modules are private.
"""

from quotaopt.assignment._assign import AssignmentResult, assign_accounts
from quotaopt.assignment._stage import capacity_on_new_books
from quotaopt.assignment._tables import BOOK_COLUMNS, MOVE_COLUMNS, REASONS, per_capacity_spread

__all__ = ["BOOK_COLUMNS", "MOVE_COLUMNS", "REASONS", "AssignmentResult", "assign_accounts", "capacity_on_new_books", "per_capacity_spread"]
