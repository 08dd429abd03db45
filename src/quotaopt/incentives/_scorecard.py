"""Scorecard plans (contract §2, ``components``): one incentive weighed over several measures.

``payout = B x sum over components of weight x gate x curve(attainment of its measure)``,
with ``B`` the period's target incentive (as for a bonus plan). Each component has its own
curve (bands in any mode, or the coefficient rule), threshold and cap; a gate (``revenue >=
80%``) switches its component off when the gated measure falls short. Weights sum to 1
(validated), so a rep at the base of every curve earns ``B``.

The Monte Carlo (:mod:`quotaopt.incentives._simulate`) draws revenue only. Until the other measures
have their own draws it reads every component's attainment as the rep's revenue attainment
in that draw (the measures moving together, fully through the rep's shock), which
:func:`plan_curve` packs into one curve of attainment.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from quotaopt.errors import InputError, Problem
from quotaopt.incentives._coefficient import CoefficientCurve
from quotaopt.incentives._payout import BandRow, PayoutCurve, band_rows, curve_of
from quotaopt.scenario import Component, IncentivePlan

__all__ = [
    "ComponentExplanation", "ScorecardCurve", "ScorecardExplanation", "explain_scorecard", "plan_curve",
    "read_attainments", "scorecard_payout",
]

Curve = PayoutCurve | CoefficientCurve


@dataclass(frozen=True)
class _Compiled:
    spec: Component
    curve: Curve

    def gate_open(self, attainment: Mapping[str, npt.ArrayLike]) -> np.ndarray | bool:
        gate = self.spec.gate
        return True if gate is None else np.asarray(attainment[gate.measure]) >= gate.min


@dataclass(frozen=True)
class ScorecardCurve:
    """A scorecard compiled: ``payout = B x curve``, the weighted sum of its components.

    Examples
    --------
    >>> from quotaopt.scenario import IncentivePlan
    >>> plan = IncentivePlan.model_validate({"name": "s", "target_incentive": 1000, "components": [
    ...     {"measure": "revenue", "weight": 0.6, "tiers": [{"from": 0, "rate": 1}]},
    ...     {"measure": "activity:visits", "weight": 0.4, "mode": "step",
    ...      "tiers": [{"from": 0, "to": 1, "rate": 0}, {"from": 1, "rate": 1}],
    ...      "gate": {"measure": "revenue", "min": 0.8}}]})
    >>> round(float(ScorecardCurve.from_plan(plan).evaluate({"revenue": 0.9, "activity:visits": 1.2})), 6)
    0.94
    """

    parts: tuple[_Compiled, ...]

    @classmethod
    def from_plan(cls, plan: IncentivePlan) -> ScorecardCurve:
        """Compile a plan with ``components``."""
        if not plan.components:
            raise ValueError(f"plan {plan.name!r} has no components")
        return cls(tuple(_Compiled(c, curve_of(c)) for c in plan.components))

    @property
    def measures(self) -> tuple[str, ...]:
        """Every measure the payout reads: the components' and their gates'."""
        seen: dict[str, None] = {}
        for part in self.parts:
            seen[part.spec.measure] = None
            if part.spec.gate is not None:
                seen[part.spec.gate.measure] = None
        return tuple(seen)

    def components(self, attainment: Mapping[str, npt.ArrayLike]) -> dict[str, np.ndarray]:
        """Each component's share of ``B``: ``weight x gate x curve``, keyed by measure."""
        missing = [m for m in self.measures if m not in attainment]
        if missing:
            raise KeyError(f"attainment of {missing} is needed")
        att = {m: np.asarray(attainment[m], dtype=np.float64) for m in self.measures}
        return {p.spec.measure: p.spec.weight * np.where(p.gate_open(att), p.curve(att[p.spec.measure]), 0.0)
                for p in self.parts}

    def evaluate(self, attainment: Mapping[str, npt.ArrayLike]) -> np.ndarray:
        """The weighted sum over components (``payout / B``)."""
        parts = list(self.components(attainment).values())
        return np.asarray(np.sum(np.broadcast_arrays(*parts), axis=0))

    def __call__(self, attainment: npt.ArrayLike) -> np.ndarray:
        """Every measure at this one attainment (the simulator's reading); float32 stays float32."""
        raw = np.asarray(attainment)
        out = self.evaluate(dict.fromkeys(self.measures, raw))
        return out.astype(np.float32) if raw.dtype == np.float32 else out


def plan_curve(plan: IncentivePlan) -> Curve | ScorecardCurve:
    """The curve a plan pays on one attainment: its own, or its scorecard's (see the module)."""
    if plan.components:
        return ScorecardCurve.from_plan(plan)
    return curve_of(plan, plan.kind == "commission")


def _incentive(plan: IncentivePlan, incentive: npt.ArrayLike | None) -> np.ndarray:
    if incentive is not None:
        return np.asarray(incentive, dtype=np.float64)
    return np.asarray(plan.target_incentive * (0.25 if plan.period == "quarter" else 1.0))


def scorecard_payout(
    plan: IncentivePlan, attainment: Mapping[str, npt.ArrayLike], incentive: npt.ArrayLike | None = None
) -> np.ndarray:
    """Payout of a scorecard plan for one measurement period.

    Parameters
    ----------
    plan : IncentivePlan
        A plan with ``components``.
    attainment : mapping of str to array_like
        Attainment (actual / target) of every measure the plan reads, components and gates.
    incentive : array_like, optional
        ``B``: the period's target incentive. Default ``target_incentive``, a quarter of it
        for quarterly plans.

    Returns
    -------
    ndarray
        ``B x sum of weight x gate x curve(attainment)``.
    """
    return np.asarray(_incentive(plan, incentive) * ScorecardCurve.from_plan(plan).evaluate(attainment))


@dataclass(frozen=True)
class ComponentExplanation:
    """One component of an explained scorecard payout."""

    measure: str
    weight: float
    mode: str
    attainment: float
    gate: str | None
    gate_open: bool
    bands: tuple[BandRow, ...]
    amount: float
    notes: tuple[str, ...]


@dataclass(frozen=True)
class ScorecardExplanation:
    """A scorecard payout explained component by component, band by band."""

    plan: str
    period: str
    base: float
    components: tuple[ComponentExplanation, ...]
    total: float

    def render(self) -> str:
        """Plain text: a block per component, then the total."""
        lines = [f"plan {self.plan}: scorecard bonus, measured per {self.period}",
                 f"B (incentive) {self.base:,.2f}", ""]
        for c in self.components:
            lines.append(f"component {c.measure}: weight {c.weight:.0%}, {c.mode}, attainment {c.attainment:.2%}"
                         f", pays {c.amount:,.2f}")
            if c.gate is not None:
                lines.append(f"  gate {c.gate}: {'met' if c.gate_open else 'not met, nothing is paid'}")
            counted_fmt = "{:.0f}" if c.mode in ("step", "coefficient") else "{:.2%}"
            lines.append(f"  {'band':<16}{'rate':>10}{'counted':>12}{'amount':>16}")
            for row in c.bands:
                end = "..." if row.end is None else f"{row.end:.0%}"
                mark = " *" if row.applies else ""
                lines.append(f"  {f'{row.start:.0%} - {end}':<16}{row.rate:>10.4g}"
                             f"{counted_fmt.format(row.counted):>12}{row.amount:>16,.2f}{mark}")
            lines.extend(f"  note: {n}" for n in c.notes)
        lines.append(f"{'total':<40}{self.total:>16,.2f}")
        return "\n".join(lines)


def explain_scorecard(
    plan: IncentivePlan, attainment: Mapping[str, float], incentive: float | None = None
) -> ScorecardExplanation:
    """Explain a scorecard payout; the total equals :func:`scorecard_payout`.

    Parameters
    ----------
    plan : IncentivePlan
        A plan with ``components``.
    attainment : mapping of str to float
        Attainment of every measure the plan reads.
    incentive : float, optional
        ``B`` (see :func:`scorecard_payout`).
    """
    curve = ScorecardCurve.from_plan(plan)
    base = float(_incentive(plan, incentive))
    att = {m: float(attainment[m]) for m in curve.measures}
    amounts = curve.components(att)
    out = []
    for part in curve.parts:
        spec, a = part.spec, att[part.spec.measure]
        gate_open = bool(part.gate_open(att))
        gate = None if spec.gate is None else f"{spec.gate.measure} >= {spec.gate.min:.0%}"
        clipped = min(a, part.curve.cap)
        below = not gate_open or a < part.curve.threshold or a < 0
        notes: list[str] = []
        if a < part.curve.threshold:
            notes.append(f"attainment {a:.1%} is below the threshold {part.curve.threshold:.1%}: nothing is paid")
        if np.isfinite(part.curve.cap) and a > part.curve.cap:
            notes.append(f"attainment capped at {part.curve.cap:.1%}")
        rows = band_rows(spec, part.curve, clipped, base * spec.weight, below, notes)
        out.append(ComponentExplanation(spec.measure, spec.weight, spec.mode, a, gate, gate_open, tuple(rows),
                                        base * float(amounts[spec.measure]), tuple(notes)))
    total = float(scorecard_payout(plan, att, incentive=base))
    return ScorecardExplanation(plan.name, plan.period, base, tuple(out), total)


def read_attainments(
    plan: IncentivePlan, pairs: Sequence[str], quota: float | None = None, sales: float | None = None
) -> dict[str, float]:
    """The attainments ``quotaopt payout`` was given: ``MEASURE=A`` pairs, revenue from quota and sales.

    Raises
    ------
    InputError
        A pair that is not ``MEASURE=number``, a measure the plan does not read, one it
        reads but was not given (naming ``--attainment``).

    Examples
    --------
    >>> from quotaopt.scenario import IncentivePlan
    >>> plan = IncentivePlan.model_validate({"name": "s", "components": [
    ...     {"measure": "revenue", "weight": 1.0, "tiers": [{"from": 0, "rate": 1}]}]})
    >>> read_attainments(plan, [], quota=200.0, sales=150.0)
    {'revenue': 0.75}
    """
    def bad(message: str) -> InputError:
        return InputError([Problem("payout", message, column="--attainment")])

    needed = ScorecardCurve.from_plan(plan).measures
    out: dict[str, float] = {}
    if (quota is None) != (sales is None):
        raise bad("give both --quota and --sales (revenue attainment = sales / quota), or neither")
    if quota is not None and sales is not None:
        out["revenue"] = sales / quota if quota > 0 else 0.0
    for pair in pairs:
        measure, sep, text = pair.partition("=")
        try:
            value = float(text) if sep else float("nan")
        except ValueError:
            value = float("nan")
        if not np.isfinite(value):
            raise bad(f"expected MEASURE=attainment (e.g. activity:visits=1.1), got {pair[:60]!r}")
        if measure not in needed:
            raise bad(f"plan {plan.name!r} does not read {measure[:60]!r} (it reads {list(needed)})")
        out[measure] = value
    missing = [m for m in needed if m not in out]
    if missing:
        raise bad(f"plan {plan.name!r} needs the attainment of {missing} (give MEASURE=A"
                  + (", or --quota and --sales for revenue)" if "revenue" in missing else ")"))
    return out
