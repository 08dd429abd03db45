"""The coefficient rule as one parametric curve (contract §2, ``mode: coefficient``).

Many plans say it in words: "80% attainment earns the standard rate, each further 5%
adds 0.2x, below 70% a protective reduction". Written as bands that is one band per
step, listed by hand and wrong the day someone changes the step; here it is six numbers
(:class:`~quotaopt.scenario.CoefficientRule`):

``coefficient(a) = base_rate + increment x floor((a - base) / step)`` for ``a >= floor``,
``below_floor`` for ``a < floor``, and never below 0. Above ``base`` each *whole* step
adds ``increment`` (92% is two steps above 80%, not 2.4); below ``base`` each step begun
takes one away (75% and 79% are both one step down). ``a`` is first clipped at the plan's
``cap``; below ``threshold`` nothing is paid, and negative attainment earns nothing.

A bonus plan pays ``B x coefficient(a)``; a commission plan pays the coefficient as its
rate on sales, ``quota x coefficient(a) x min(a, cap)``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quotaopt.scenario import CoefficientRule

__all__ = ["STEP_TOLERANCE", "CoefficientCurve", "step_bands"]

#: Attainments are ratios of money: (0.7 - 0.8) / 0.05 is -2.0000000000000004 in floats,
#: which must count as two steps, not three.
STEP_TOLERANCE = 1e-9


@dataclass(frozen=True)
class CoefficientCurve:
    """The coefficient rule compiled: ``payout = B x curve(attainment)``.

    Examples
    --------
    >>> from quotaopt.scenario import CoefficientRule
    >>> curve = CoefficientCurve(CoefficientRule(below_floor=0.3))
    >>> [round(float(c), 4) for c in curve([0.65, 0.70, 0.80, 0.92, 1.20])]
    [0.3, 0.6, 1.0, 1.4, 2.6]
    """

    rule: CoefficientRule
    cap: float = float("inf")
    threshold: float = 0.0
    times_attainment: bool = False

    def steps(self, attainment: npt.ArrayLike) -> np.ndarray:
        """Whole steps from ``base`` (negative below it) at the clipped attainment."""
        a = np.minimum(np.asarray(attainment, dtype=np.float64), self.cap)
        return np.floor((a - self.rule.base) / self.rule.step + STEP_TOLERANCE)

    def coefficient(self, attainment: npt.ArrayLike) -> np.ndarray:
        """The coefficient itself (before threshold and the commission's sales factor)."""
        a = np.minimum(np.asarray(attainment, dtype=np.float64), self.cap)
        rule = self.rule
        c = rule.base_rate + rule.increment * self.steps(a)
        c = np.where(a < rule.floor - STEP_TOLERANCE, rule.below_floor, c)
        return np.maximum(c, 0.0)

    def __call__(self, attainment: npt.ArrayLike) -> np.ndarray:
        """Evaluate; float32 input gives float32 output (the simulator relies on it)."""
        raw = np.asarray(attainment)
        a = raw.astype(np.float64)
        out = self.coefficient(a)
        if self.times_attainment:
            out = out * np.minimum(a, self.cap)
        out = np.where((a < 0) | (a < self.threshold), 0.0, out)
        return out.astype(np.float32) if raw.dtype == np.float32 else out


#: Most step bands an explanation lists; a longer run keeps its first and last ones.
MAX_EXPLAINED_STEPS = 30


def step_bands(curve: CoefficientCurve, attainment: float) -> tuple[list[tuple[float, float, float]], int]:
    """The bands an explanation lists up to the one holding ``attainment``, and how many it left out.

    Each band is ``(start, end, coefficient)``: ``[0, floor)`` at ``below_floor`` (when
    ``floor > 0``), then one band per step from ``floor`` up to the band holding the
    clipped attainment (at least up to ``base``).
    """
    rule = curve.rule
    top = float(np.nan_to_num(np.minimum(attainment, curve.cap), nan=0.0, posinf=rule.base))
    first = int(np.floor((rule.floor - rule.base) / rule.step + STEP_TOLERANCE))
    last = max(int(curve.steps(max(top, rule.base))), 0)
    ks = list(range(first, last + 1))
    hidden = 0
    if len(ks) > MAX_EXPLAINED_STEPS:
        half = MAX_EXPLAINED_STEPS // 2
        hidden = len(ks) - 2 * half
        ks = ks[:half] + ks[-half:]
    rows = [(0.0, rule.floor, rule.below_floor)] if rule.floor > 0 else []
    for k in ks:
        lo, hi = max(rule.floor, rule.base + k * rule.step), rule.base + (k + 1) * rule.step
        if hi > rule.floor + STEP_TOLERANCE:
            rows.append((lo, hi, max(0.0, rule.base_rate + rule.increment * k)))
    return rows, hidden
