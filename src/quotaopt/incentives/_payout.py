"""Incentive plans (contract §2): payout curves, team bonus, and a band-by-band explanation.

With ``a = sales / quota`` over the measurement period, ``B = quota`` for commission
plans and the period's share of ``target_incentive`` for bonus plans:

- ``marginal``: ``B x sum over bands of rate x |[0, min(a, cap)) & [from, to)|``
- ``retroactive``: ``B x rate(band holding min(a, cap)) x min(a, cap)``
- ``step`` (bonus only): ``B x rate(band holding min(a, cap))``
- ``a < threshold`` pays 0.

Choices where the contract is silent (all deliberate, all tested):

- Tiers may start above 0: attainment below the first band's ``from`` earns nothing.
- Retroactive and step: attainment at or above the last band's ``to`` keeps the last
  band's rate. Marginal: nothing is earned beyond the last band's ``to``.
- The cap applies to attainment, in every mode (so the band is looked up at
  ``min(a, cap)``, and payout is flat above the cap).
- The threshold compares the unclipped attainment.
- A period with ``quota <= 0`` pays 0; negative sales (credit notes) pay 0, never less.
- A bonus plan measured per quarter pays each quarter ``target_incentive x`` that
  quarter's share of the annual quota (:func:`payout_periods`); a single quarter given on
  its own (:func:`payout`, :func:`explain_payout`) gets a quarter, 1/4.
- The team bonus is measured on the year, on the rep's own unit (``team_id``), whose
  bookings include every rep below it.

Payout never decreases as sales rise for marginal plans, and for retroactive plans
whose rates do not decrease from band to band; decelerated retroactive and step plans
can drop at a band edge by design.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from quotaopt.errors import InputError, Problem
from quotaopt.scenario import IncentivePlan, TeamBonus

FloatArray = npt.NDArray[np.floating]


@dataclass(frozen=True)
class PayoutCurve:
    """A plan compiled to arrays: ``payout = B x curve(attainment)``.

    Attributes
    ----------
    lo, hi : ndarray
        Band starts and ends (``inf`` for an open last band).
    rates : ndarray
        Band rates.
    mode : str
        ``marginal``, ``retroactive`` or ``step``.
    cap, threshold : float
        Attainment cap (``inf`` when unset) and threshold.
    """

    lo: np.ndarray
    hi: np.ndarray
    rates: np.ndarray
    mode: str
    cap: float
    threshold: float

    @classmethod
    def from_plan(cls, plan: IncentivePlan) -> PayoutCurve:
        """Compile an :class:`~quotaopt.scenario.IncentivePlan`."""
        lo = np.array([t.from_ for t in plan.tiers], dtype=np.float64)
        hi = np.array([np.inf if t.to is None else t.to for t in plan.tiers], dtype=np.float64)
        rates = np.array([t.rate for t in plan.tiers], dtype=np.float64)
        cap = np.inf if plan.cap is None else float(plan.cap)
        return cls(lo, hi, rates, plan.mode, cap, float(plan.threshold))

    def __call__(self, attainment: npt.ArrayLike) -> np.ndarray:
        """Evaluate the curve; float32 input stays float32 (the simulator relies on it)."""
        a = np.asarray(attainment)
        shape = a.shape
        a = a.reshape(-1) if a.dtype == np.float32 else a.astype(np.float64).reshape(-1)
        dt = a.dtype.type
        clipped = np.minimum(a, dt(self.cap)) if np.isfinite(self.cap) else a
        if self.mode == "marginal":
            out = np.zeros_like(clipped)
            tmp = np.empty_like(clipped)
            for lo, hi, rate in zip(self.lo, self.hi, self.rates, strict=True):
                if rate == 0.0:
                    continue
                np.subtract(clipped, dt(lo), out=tmp)
                np.clip(tmp, dt(0.0), dt(hi - lo), out=tmp)
                tmp *= dt(rate)
                out += tmp
        else:
            # Bands tile [lo[0], inf) without gaps (validated), so the rate at x is the sum of
            # the rate steps at every band start <= x (comparisons beat searchsorted here).
            out = np.zeros_like(clipped)
            prev = 0.0
            for lo, rate in zip(self.lo, self.rates, strict=True):
                if rate != prev:
                    out += dt(rate - prev) * (clipped >= dt(lo))
                prev = rate
            if self.mode == "retroactive":
                out *= clipped
        # Payout is never negative (negative attainment earns nothing in any mode).
        np.maximum(out, dt(0.0), out=out)
        if self.threshold > 0.0:
            out[a < dt(self.threshold)] = 0.0
        return out.reshape(shape)


def _base(plan: IncentivePlan, quota: np.ndarray, incentive: npt.ArrayLike | None) -> np.ndarray:
    if plan.kind == "commission":
        return quota
    if incentive is not None:
        return np.asarray(incentive, dtype=np.float64)
    share = 0.25 if plan.period == "quarter" else 1.0
    return np.asarray(plan.target_incentive * share, dtype=np.float64)


def payout(
    plan: IncentivePlan,
    quota: npt.ArrayLike,
    sales: npt.ArrayLike,
    incentive: npt.ArrayLike | None = None,
) -> np.ndarray:
    """Payout for one measurement period, vectorised over broadcastable arrays.

    Parameters
    ----------
    plan : IncentivePlan
        The plan.
    quota, sales : array_like
        Quota and sales of the period (same currency).
    incentive : array_like, optional
        ``B`` for bonus plans: the period's share of ``target_incentive``. Default:
        ``target_incentive`` for annual plans, a quarter of it for quarterly plans.
        Ignored for commission plans (``B = quota``).

    Returns
    -------
    ndarray
        Payout in currency, 0 where ``quota <= 0``.
    """
    q = np.asarray(quota, dtype=np.float64)
    s = np.asarray(sales, dtype=np.float64)
    positive = q > 0
    a = np.divide(s, q, out=np.zeros(np.broadcast(q, s).shape), where=positive)
    out = _base(plan, q, incentive) * PayoutCurve.from_plan(plan)(a)
    return np.where(positive, out, 0.0)


def payout_periods(plan: IncentivePlan, quotas: npt.ArrayLike, sales: npt.ArrayLike) -> np.ndarray:
    """Total annual payout per rep from per-period quotas and sales.

    Parameters
    ----------
    plan : IncentivePlan
        The plan.
    quotas, sales : array_like, shape (reps, periods)
        4 quarters or 12 months, in calendar order. Annual plans sum them; quarterly
        plans measure each quarter (months are summed to quarters first).

    Returns
    -------
    ndarray, shape (reps,)
        The year's payout. For quarterly bonus plans each quarter's ``B`` is
        ``target_incentive x quarter quota / annual quota``.
    """
    q = np.atleast_2d(np.asarray(quotas, dtype=np.float64))
    s = np.atleast_2d(np.asarray(sales, dtype=np.float64))
    if q.shape != s.shape or q.shape[1] not in (4, 12):
        raise ValueError(f"quotas and sales must both be (reps, 4) or (reps, 12), got {q.shape} and {s.shape}")
    if q.shape[1] == 12:
        q = q.reshape(len(q), 4, 3).sum(axis=2)
        s = s.reshape(len(s), 4, 3).sum(axis=2)
    if plan.period == "year":
        annual = q.sum(axis=1)
        return payout(plan, annual, s.sum(axis=1), incentive=plan.target_incentive)
    total = q.sum(axis=1, keepdims=True)
    share = np.divide(q, total, out=np.zeros_like(q), where=total > 0)
    return payout(plan, q, s, incentive=plan.target_incentive * share).sum(axis=1)


def plan_for_rep(plans: Sequence[IncentivePlan], role: str, team_id: str) -> IncentivePlan | None:
    """The first plan whose ``applies_to`` matches the rep (unset keys match everyone)."""
    for plan in plans:
        rule = plan.applies_to
        if (rule.role is None or rule.role == role) and (rule.team_id is None or rule.team_id == team_id):
            return plan
    return None


def find_plan(plans: Sequence[IncentivePlan], name: str, label: str = "scenario") -> IncentivePlan:
    """The plan called ``name``; an :class:`InputError` naming the known plans otherwise."""
    for plan in plans:
        if plan.name == name:
            return plan
    known = ", ".join(p.name for p in plans) or "none defined"
    raise InputError([Problem(label, f"no incentive plan named {name!r} (known: {known})", column="--plan")])


def team_bonus(config: TeamBonus, unit_attainment: npt.ArrayLike) -> np.ndarray:
    """Team bonus per rep: ``per_rep`` where the unit's annual attainment reaches the threshold."""
    att = np.asarray(unit_attainment, dtype=np.float64)
    return np.where(att >= config.threshold, config.per_rep, 0.0)


@dataclass(frozen=True)
class BandRow:
    """One band of an explained payout."""

    start: float
    end: float | None
    rate: float
    counted: float  # attainment counted in this band (marginal) or the multiplier used
    amount: float
    applies: bool


@dataclass(frozen=True)
class PayoutExplanation:
    """A payout explained band by band (for ``quotaopt payout``)."""

    plan: str
    kind: str
    mode: str
    period: str
    quota: float
    sales: float
    attainment: float
    base: float
    threshold: float
    cap: float | None
    below_threshold: bool
    bands: tuple[BandRow, ...]
    total: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    def render(self) -> str:
        """Plain-text table, one line per band, then the total."""
        return render_explanation(self)


def explain_payout(
    plan: IncentivePlan, quota: float, sales: float, incentive: float | None = None
) -> PayoutExplanation:
    """Explain one payout band by band; the total equals :func:`payout`.

    Parameters
    ----------
    plan : IncentivePlan
        The plan.
    quota, sales : float
        One measurement period.
    incentive : float, optional
        ``B`` for bonus plans (see :func:`payout`).

    Returns
    -------
    PayoutExplanation
    """
    q, s = float(quota), float(sales)
    curve = PayoutCurve.from_plan(plan)
    base = float(_base(plan, np.asarray(q), incentive))
    a = s / q if q > 0 else 0.0
    clipped = min(a, curve.cap)
    below = q <= 0 or a < curve.threshold or a < 0
    notes: list[str] = []
    if plan.kind == "bonus" and plan.period == "quarter" and incentive is None:
        notes.append("quarterly plan: B is a quarter of the annual target incentive")
    if q <= 0:
        notes.append("quota <= 0: nothing is paid")
    elif a < curve.threshold:
        notes.append(f"attainment {a:.1%} is below the threshold {curve.threshold:.1%}: nothing is paid")
    if np.isfinite(curve.cap) and a > curve.cap:
        notes.append(f"attainment capped at {curve.cap:.1%}")
    holding = int(np.searchsorted(curve.lo, clipped, side="right")) - 1
    rows = []
    for i, (lo, hi, rate) in enumerate(zip(curve.lo, curve.hi, curve.rates, strict=True)):
        if plan.mode == "marginal":
            counted = max(0.0, min(clipped, hi) - lo)
            applies = counted > 0
        else:
            applies = i == holding and clipped >= 0
            counted = (clipped if plan.mode == "retroactive" else 1.0) if applies else 0.0
        amount = 0.0 if below else base * rate * counted
        rows.append(BandRow(float(lo), None if np.isinf(hi) else float(hi), float(rate), counted, amount,
                            applies and not below))
    if plan.mode == "marginal" and np.isfinite(curve.hi[-1]) and clipped > curve.hi[-1]:
        notes.append(f"nothing is earned above the last band's end {curve.hi[-1]:.1%}")
    total = float(payout(plan, q, s, incentive=incentive))
    return PayoutExplanation(plan.name, plan.kind, plan.mode, plan.period, q, s, a, base, curve.threshold,
                             plan.cap, below, tuple(rows), total, tuple(notes))


def render_explanation(expl: PayoutExplanation) -> str:
    """Render a :class:`PayoutExplanation` as aligned plain text."""
    base_name = "quota" if expl.kind == "commission" else "incentive"
    head = [
        f"plan {expl.plan}: {expl.kind}, {expl.mode}, measured per {expl.period}",
        f"quota {expl.quota:,.2f}  sales {expl.sales:,.2f}  attainment {expl.attainment:.2%}",
        f"B ({base_name}) {expl.base:,.2f}  threshold {expl.threshold:.0%}"
        + (f"  cap {expl.cap:.0%}" if expl.cap is not None else ""),
        "",
        f"{'band':<16}{'rate':>10}{'counted':>12}{'amount':>16}",
    ]
    counted_fmt = "{:.2%}" if expl.mode != "step" else "{:.0f}"
    for row in expl.bands:
        end = "..." if row.end is None else f"{row.end:.0%}"
        band = f"{row.start:.0%} - {end}"
        mark = " *" if row.applies else ""
        head.append(f"{band:<16}{row.rate:>10.4g}{counted_fmt.format(row.counted):>12}{row.amount:>16,.2f}{mark}")
    head.append(f"{'total':<38}{expl.total:>16,.2f}")
    head.extend(f"note: {n}" for n in expl.notes)
    return "\n".join(head)
