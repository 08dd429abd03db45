"""Calendar pieces of the generator: month grid, business days, seasonality, ramp.

Everything works on ``datetime64[D]`` arrays so a whole population of reps is
handled in one numpy call; numpy's business-day functions (Mon-Fri, no holidays)
stand in for a real sales calendar.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from quotaopt.calendar import ramp_share

#: New-hire productivity by quarter of tenure (the contract's default ramp).
RAMP = np.array([0.25, 0.5, 0.75, 1.0])

#: Monthly share of a year's bookings: quarter-end pushes (Mar, Jun, Sep), a big
#: December and a slow January, as B2B sales usually look. Q1 0.205, Q4 0.335.
MONTH_TEMPLATE = np.array(
    [0.055, 0.065, 0.085, 0.070, 0.075, 0.095, 0.065, 0.060, 0.095, 0.080, 0.095, 0.160]
)

#: Exponent applied to the company weights per role: key-account deals bunch more
#: at quarter and year ends than long-tail deals do.
ROLE_TILT = {"ka": 1.15, "longtail": 0.95}

#: Business days: Monday-Friday minus New Year's Day and 24-26 and 31 December, when
#: (almost) nothing is booked. One calendar object shared by every business-day call.
BUSDAYS = np.busdaycalendar(
    holidays=np.array(
        [f"{y:04d}-{md}" for y in range(1800, 2301) for md in ("01-01", "12-24", "12-25", "12-26", "12-31")],
        dtype="datetime64[D]",
    )
)

#: A date after any plan year, used as the (exclusive) end of a rep still employed.
FAR_FUTURE = np.datetime64("9000-01-01", "D")


def _rounded_weights(raw: np.ndarray) -> np.ndarray:
    """Normalise to 1 and round to 6 decimals, the largest weight absorbing the rounding."""
    w = np.round(raw / raw.sum(), 6)
    top = int(np.argmax(w))
    w[top] = round(1.0 - (w.sum() - w[top]), 6)
    return w


def seasonality(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Company month weights (a mild seeded variation of the template) and per-role weights.

    Returns
    -------
    base : ndarray of shape (12,)
        Company weights, rounded to 6 decimals, summing to 1.
    by_role : dict
        ``{"ka": weights, "longtail": weights}``, each summing to 1.
    """
    base = _rounded_weights(MONTH_TEMPLATE * np.exp(rng.normal(0.0, 0.04, 12)))
    by_role = {role: _rounded_weights(base**tilt) for role, tilt in ROLE_TILT.items()}
    return base, by_role


def year_start(year: int) -> np.datetime64:
    """1 January of ``year`` as ``datetime64[D]``."""
    return np.datetime64(f"{year:04d}-01-01", "D")


def month_index(dates: np.ndarray) -> np.ndarray:
    """Months since 1970-01 of each date (so differences are whole months)."""
    return dates.astype("datetime64[M]").astype(np.int64)


@dataclass(frozen=True)
class Year:
    """The twelve months of one calendar year.

    Attributes
    ----------
    year : int
    starts : ndarray of datetime64[D], shape (13,)
        First day of each month and 1 January of the next year.
    bdays : ndarray of int, shape (12,)
        Business days in each month.
    """

    year: int
    starts: np.ndarray
    bdays: np.ndarray

    @classmethod
    def of(cls, year: int) -> Year:
        """Build the month grid of ``year``."""
        months = np.arange(f"{year:04d}-01", f"{year + 1:04d}-02", dtype="datetime64[M]")
        starts = months.astype("datetime64[D]")
        return cls(year, starts, np.busday_count(starts[:-1], starts[1:], busdaycal=BUSDAYS))

    @property
    def first(self) -> np.datetime64:
        return self.starts[0]

    @property
    def end_excl(self) -> np.datetime64:
        return self.starts[-1]

    def windows(self, start: np.ndarray, end_excl: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each rep's employed window inside each month.

        Parameters
        ----------
        start, end_excl : ndarray of datetime64[D], shape (n,)
            Hire date and the day after the last working day.

        Returns
        -------
        lo : ndarray of datetime64[D], shape (n, 12)
            First employed day in the month (may be a weekend).
        n_bdays : ndarray of int, shape (n, 12)
            Business days employed in the month (0 when not employed).
        """
        lo = np.maximum(start[:, None], self.starts[None, :-1])
        hi = np.minimum(end_excl[:, None], self.starts[None, 1:])
        hi = np.maximum(hi, lo)
        return lo, np.busday_count(lo, hi, busdaycal=BUSDAYS)

    def ramp(self, hire: np.ndarray) -> np.ndarray:
        """Ramp factor per rep and month from whole months of tenure, shape (n, 12)."""
        months = month_index(self.starts[:-1])
        tenure = months[None, :] - month_index(hire)[:, None]
        return ramp_share(tenure // 3, RAMP)


def random_bdays(rng: np.random.Generator, lo: np.ndarray, hi_excl: np.ndarray) -> np.ndarray:
    """A uniformly drawn business day in ``[lo, hi_excl)`` per element.

    Where the range holds no business day, the first business day on or after
    ``lo`` is returned.
    """
    n = np.busday_count(lo, hi_excl, busdaycal=BUSDAYS)
    k = np.floor(rng.random(len(lo)) * np.maximum(n, 1)).astype(np.int64)
    return np.busday_offset(lo, k, roll="forward", busdaycal=BUSDAYS)
