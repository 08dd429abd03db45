"""Money in whole units: the supported range and one way to write amounts out.

Quotas are whole multiples of ``allocation.unit``. Internally they are counted in
units (integers); they become currency only when written, here, so every output shows
the same exact value: whole numbers when the unit is whole (``1000`` -> ``25000``),
else rounded to the unit's decimals (``0.01`` -> ``1234.56``, never ``1234.5600000001``).
Sums are taken over the integer counts, so a file's quotas add up exactly to its total.

Supported: a unit that is a whole number of cents, from :data:`MIN_UNIT` to
:data:`MAX_UNIT`, and at most :data:`MAX_UNITS` units in the company total (so counts
stay exact integers in float64 and solver coefficients stay sane); amounts and their
totals within :data:`MAX_AMOUNT`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: Largest amount (and total of amounts) accepted anywhere: far above any company, far
#: below where sums of floats lose whole currency units (2**53 is about 9e15).
MAX_AMOUNT = 1e15
#: The finest unit: one cent.
MIN_UNIT = 0.01
#: The coarsest unit.
MAX_UNIT = 1e9
#: Most units a company total may hold (a 10-billion total in cents).
MAX_UNITS = 1e12


def is_whole_cents(value: float) -> bool:
    """Whether ``value`` is a whole number of cents (0.01, 0.25, 1, 1000 ... but not 0.015).

    Examples
    --------
    >>> is_whole_cents(0.05), is_whole_cents(1000.0), is_whole_cents(0.015)
    (True, True, False)
    """
    cents = value * 100.0
    return bool(np.isfinite(cents)) and abs(cents - round(cents)) <= 1e-9 * max(1.0, abs(cents))


def decimals(unit: float) -> int:
    """Decimals a multiple of ``unit`` needs (0 for a whole unit, 1 or 2 for cents).

    Examples
    --------
    >>> decimals(1000.0), decimals(0.5), decimals(0.01)
    (0, 1, 2)
    """
    cents = int(round(unit * 100.0))
    return 0 if cents % 100 == 0 else 1 if cents % 10 == 0 else 2


def count_units(amount: npt.ArrayLike, unit: float) -> np.ndarray:
    """Amounts that are whole multiples of ``unit`` as integer counts (exact despite float noise).

    Examples
    --------
    >>> count_units([1234.56, 0.3], 0.01).tolist()
    [123456, 30]
    """
    return np.rint(np.asarray(amount, dtype=np.float64) / unit).astype(np.int64)


def split_whole(amount: npt.ArrayLike, unit: float) -> tuple[np.ndarray, np.ndarray]:
    """Each amount as whole units plus what is left over (0 for a whole multiple, despite float noise).

    ``amount / unit`` carries float noise of a few parts in 1e16 of its size; within
    that a value counts as a whole multiple, else it is floored.

    Examples
    --------
    >>> counts, rest = split_whole([1234.56, 10.5], 1.0)
    >>> counts.tolist(), rest.tolist()
    ([1234, 10], [0.56, 0.5])
    >>> split_whole([0.3], 0.1)[0].tolist()
    [3]
    """
    a = np.asarray(amount, dtype=np.float64)
    ratio = a / unit
    counted = np.rint(ratio)
    whole = np.abs(ratio - counted) <= 1e-9 + 1e-14 * np.abs(ratio)
    counts = np.where(whole, counted, np.floor(ratio)).astype(np.int64)
    rest = np.where(whole, 0.0, a - counts * unit)
    return counts, np.round(rest, 10)


def amounts(count: npt.ArrayLike, unit: float) -> np.ndarray:
    """Integer unit counts as the currency amounts every output writes.

    Returns int64 for a whole unit, else float64 rounded to the unit's decimals.

    Examples
    --------
    >>> amounts([25, 3], 1000.0).tolist()
    [25000, 3000]
    >>> amounts([123456, 30], 0.01).tolist()
    [1234.56, 0.3]
    """
    k = np.asarray(count, dtype=np.int64)
    if decimals(unit) == 0:
        return k * np.int64(round(unit))
    cents = k * np.int64(round(unit * 100.0))  # exact integer cents, then one rounding
    return np.round(cents / 100.0, decimals(unit))


def amount(count: int, unit: float) -> int | float:
    """One unit count as an amount (an int for a whole unit): :func:`amounts` for a scalar."""
    value = amounts([count], unit)[0]
    return int(value) if decimals(unit) == 0 else float(value)
