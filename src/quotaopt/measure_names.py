"""The names of measures a scenario may plan or pay on, and what each one is.

A measure name is data the user writes (``measures: [revenue, "revenue:Devices",
new_customers]``), so it is parsed once here into a :class:`Measure` that says what
family it belongs to and how it is counted; every later stage reads that, not the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PLANNED_FAMILIES", "Measure", "parse_measure"]

Family = Literal["revenue", "revenue_line", "new_customers", "repurchase_rate", "deals", "activity"]
Unit = Literal["amount", "count", "rate", "metric"]

#: Families a scenario's ``measures:`` may plan (process metrics are tracked, not planned).
PLANNED_FAMILIES: tuple[Family, ...] = ("revenue", "revenue_line", "new_customers", "repurchase_rate", "deals")
_PLAIN: dict[str, tuple[Family, Unit]] = {
    "revenue": ("revenue", "amount"),
    "new_customers": ("new_customers", "count"),
    "repurchase_rate": ("repurchase_rate", "rate"),
    "deals": ("deals", "count"),
}
_PREFIXED: dict[str, tuple[Family, Unit]] = {
    "revenue": ("revenue_line", "amount"),
    "activity": ("activity", "metric"),
}


@dataclass(frozen=True)
class Measure:
    """A parsed measure name.

    Attributes
    ----------
    name : str
        As written (``revenue:Devices``).
    family : str
        ``revenue``, ``revenue_line``, ``new_customers``, ``repurchase_rate``, ``deals``
        or ``activity``.
    unit : str
        ``amount`` (currency), ``count`` (whole numbers), ``rate`` (in [0, 1]) or
        ``metric`` (a process metric as recorded).
    qualifier : str or None
        The product line of ``revenue:<line>``, the metric of ``activity:<metric>``.
    """

    name: str
    family: Family
    unit: Unit
    qualifier: str | None = None


def parse_measure(text: str) -> Measure:
    """Parse a measure name; a ``ValueError`` says what is known otherwise.

    Examples
    --------
    >>> parse_measure("revenue:Devices")
    Measure(name='revenue:Devices', family='revenue_line', unit='amount', qualifier='Devices')
    >>> parse_measure("new_customers").unit
    'count'
    """
    if text in _PLAIN:
        family, unit = _PLAIN[text]
        return Measure(text, family, unit)
    head, sep, tail = text.partition(":")
    if sep and head in _PREFIXED and tail.strip() == tail and tail:
        family, unit = _PREFIXED[head]
        return Measure(text, family, unit, tail)
    raise ValueError(
        f"unknown measure {text!r}: expected revenue, revenue:<product_line>, new_customers, "
        "repurchase_rate, deals or activity:<metric>"
    )
