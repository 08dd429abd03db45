"""What the HTML and the Excel report share: colour bands, missing values, formats of summary keys."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

#: A chance of attainment at or above this is green.
GREEN_AT = 0.6
#: A chance of attainment at or above this (and below :data:`GREEN_AT`) is yellow; below it red.
YELLOW_AT = 0.4
#: Colours of the bands, shared by the page, the charts and the workbook.
BAND_COLOURS = {"green": "#16a34a", "yellow": "#eab308", "red": "#dc2626"}
#: Light fills of the same bands (table cells, workbook conditional formats).
BAND_FILLS = {"green": "#dcfce7", "yellow": "#fef9c3", "red": "#fee2e2"}

#: Summary keys (flattened with dots) that are shares or probabilities, shown as percentages.
PERCENT_KEYS = frozenset({
    "over_assignment", "over_assignment_requested", "p_company_target", "cost_of_sales",
    "reps_expected.ge_100", "reps_expected.80_100", "reps_expected.lt_80",
    "fairness.p_attain_min", "fairness.p_attain_max", "solver.gap",
    "target_basis.growth", "capacity.market_growth",
})
#: Summary keys that are amounts of money (or bookings), shown with thousands separators.
MONEY_KEYS = frozenset({
    "company_target", "total_quota", "expected_payout", "payout_p10", "payout_p50", "payout_p90",
    "target_basis.base_bookings", "capacity.total_p50",
})


#: Text that spreadsheets treat as the start of a formula.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text as stored in a cell: a leading apostrophe defuses formula-like text.

    Examples
    --------
    >>> safe_text("=1+1"), safe_text("plain")
    ("'=1+1", 'plain')
    """
    return "'" + value if value.startswith(FORMULA_LEADS) else value


def is_missing(value: Any) -> bool:
    """True for None, NaN and pandas' missing markers (anything not equal to itself)."""
    if value is None:
        return True
    try:
        return bool(value != value) or (isinstance(value, float) and math.isinf(value))
    except (TypeError, ValueError):
        return False


def attainment_band(p: Any) -> str | None:
    """The band of a chance of attainment: 'green', 'yellow', 'red', or None when unknown."""
    if is_missing(p):
        return None
    p = float(p)
    if p >= GREEN_AT:
        return "green"
    return "yellow" if p >= YELLOW_AT else "red"


def flatten(mapping: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Walk a nested summary dict as ``(dotted.key, value)`` pairs, in insertion order."""
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            if value:
                yield from flatten(value, name + ".")
            else:
                yield name, None
        else:
            yield name, value


def key_kind(key: str) -> str:
    """How a flattened summary value is shown: 'percent', 'money', 'stretch', 'integer' or 'plain'."""
    if key in PERCENT_KEYS:
        return "percent"
    if key in MONEY_KEYS:
        return "money"
    if key.startswith("fairness.stretch"):
        return "stretch"
    if key.startswith("binding_counts.") or key in {"reps", "units", "solver.n_solves", "simulation.draws",
                                                    "bookings_credit_notes"}:
        return "integer"
    return "plain"
