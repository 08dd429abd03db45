"""Incentive plans: known answers from public worked examples, semantics, and properties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from quotaopt.errors import InputError
from quotaopt.incentives import (
    PayoutCurve,
    explain_payout,
    find_plan,
    payout,
    payout_periods,
    plan_for_rep,
    team_bonus,
)
from quotaopt.scenario import IncentivePlan, TeamBonus


def plan(tiers: Sequence[tuple[float, float | None, float]], **kw: Any) -> IncentivePlan:
    """A plan from (from, to, rate) triples; ``to=None`` leaves the last band open."""
    bands = [{"from": lo, "to": hi, "rate": r} if hi is not None else {"from": lo, "rate": r} for lo, hi, r in tiers]
    return IncentivePlan.model_validate({"name": kw.pop("name", "p"), "tiers": bands, **kw})


# --- Known answers from public worked examples ---------------------------------------
# Tiers priced on sales amounts are written on attainment by taking the first tier edge
# as the quota (a = sales / quota), which leaves every band's currency width unchanged.


def test_sage_progressive_marginal_commission() -> None:
    # Sage HRMS, "About Progressive or Non-Progressive Calculation Sales": 10% on $0-5,000,
    # 15% on $5,000.01-7,500; sales $6,800 -> $770 (progressive).
    # https://help-hrms.na.sage.com/en-us/2017/web/Content/Payroll/AboutProgressiveandNonProgressiveCalculationSales.htm
    p = plan([(0, 1, 0.10), (1, 1.5, 0.15)], kind="commission", mode="marginal")
    assert payout(p, 5000, 6800) == pytest.approx(770.0)


def test_sage_non_progressive_retroactive_commission() -> None:
    # Same Sage page: non-progressive, the rate of the band reached applies to all sales:
    # $6,800 -> 15% x 6,800 = $1,020.
    # https://help-hrms.na.sage.com/en-us/2017/web/Content/Payroll/AboutProgressiveandNonProgressiveCalculationSales.htm
    p = plan([(0, 1, 0.10), (1, 1.5, 0.15)], kind="commission", mode="retroactive")
    assert payout(p, 5000, 6800) == pytest.approx(1020.0)


def test_referello_two_tier_accelerator() -> None:
    # Referello tiered commission calculator: 10% on the first $10,000, 20% above;
    # sales $15,000 -> $2,000. https://referello.com/tools/tiered-commission-calculator
    p = plan([(0, 1, 0.10), (1, None, 0.20)], kind="commission", mode="marginal")
    assert payout(p, 10_000, 15_000) == pytest.approx(2000.0)


def test_bonuspaycalc_blended_tiers() -> None:
    # BonusPayCalc, "Commission tiers, accelerators & caps": $0-100k at 5%, $100k-250k at
    # 7%, $250k+ at 9%; $180,000 -> $5,000 + $5,600 = $10,600.
    # https://bonuspaycalc.com/guides/commission-tiers-accelerators-caps.html
    p = plan([(0, 1, 0.05), (1, 2.5, 0.07), (2.5, None, 0.09)], kind="commission", mode="marginal")
    assert payout(p, 100_000, 180_000) == pytest.approx(10_600.0)


def test_mytime_three_tier_pay_cycles() -> None:
    # MyTime, "Tiered Commission by Revenue: Amount Above Earned Breakdown": 25% to $500,
    # 30% to $3,000, 40% above. $400 -> $100; $5,000 -> $1,675.00; $1,500 -> $424.98
    # (their tier edges are $499.99 / $2,999.99, hence 2 cents off the exact-edge $425).
    # https://help.mytime.com/hc/en-us/articles/360046956372-Tiered-Commission-by-Revenue-Amount-Above-Earned-Breakdown
    p = plan([(0, 1, 0.25), (1, 6, 0.30), (6, None, 0.40)], kind="commission", mode="marginal")
    got = payout(p, 500, [400, 5000, 1500])
    np.testing.assert_allclose(got, [100.0, 1675.0, 424.98], atol=0.03)


def test_revopsmasters_accelerated_bonus() -> None:
    # RevOps Masters, "Accelerators and decelerators": $500K quota, $100K variable,
    # 1.0x to 100%, 1.5x to 130%, 2.0x above; $650K (130%) -> $100,000 + $45,000 = $145,000.
    # https://revopsmasters.com/category/sales-compensation/accelerators-and-decelerators
    p = plan([(0, 1, 1.0), (1, 1.3, 1.5), (1.3, None, 2.0)], kind="bonus", target_incentive=100_000)
    assert payout(p, 500_000, 650_000) == pytest.approx(145_000.0)


def test_revopsmasters_threshold_decelerator() -> None:
    # Same page, threshold decelerator: 0.5x below 50%, 1.0x to 100%, 1.5x above; a rep
    # at 40% on a $100K variable target earns 40% x $100K x 0.5 = $20,000.
    # https://revopsmasters.com/category/sales-compensation/accelerators-and-decelerators
    for mode in ("marginal", "retroactive"):
        p = plan([(0, 0.5, 0.5), (0.5, 1, 1.0), (1, None, 1.5)], target_incentive=100_000, mode=mode)
        assert payout(p, 100, 40) == pytest.approx(20_000.0)


def test_trakitrak_decelerating_marginal_tiers() -> None:
    # TrakiTrak, "Commission system for stores": 21% to $25, 14% to $40, 11% to $100,
    # 6% above (rates fall with size). $37.5 -> $7.00; $136 -> 5.25 + 2.1 + 6.6 + 2.16 = $16.11.
    # https://help-stores.trakitrak.com/en/articles/8488621-commission-system-for-stores
    p = plan([(0, 1, 0.21), (1, 1.6, 0.14), (1.6, 4, 0.11), (4, None, 0.06)], kind="commission")
    np.testing.assert_allclose(payout(p, 25, [37.5, 136]), [7.00, 16.11], atol=1e-9)


def test_sparrowgenie_non_retroactive() -> None:
    # SparrowGenie, "Non-Retroactive Commission": 3% on the first $300,000, 5% to
    # $500,000, 7% above; $600,000 -> 9,000 + 10,000 + 7,000 = $26,000.
    # https://www.sparrowgenie.com/sales-commission-models/non-retroactive-commission
    p = plan([(0, 1, 0.03), (1, 5 / 3, 0.05), (5 / 3, None, 0.07)], kind="commission")
    assert payout(p, 300_000, 600_000) == pytest.approx(26_000.0)


def test_prowi_retroactive_decelerator() -> None:
    # Prowi glossary, "Decelerator": 10% commission, 0.5x below 80% of quota; $350,000 on
    # a $500,000 quota (70%) -> $350,000 x 10% x 0.5 = $17,500.
    # https://www.prowi.io/en/glossary/decelerator
    p = plan([(0, 0.8, 0.05), (0.8, None, 0.10)], kind="commission", mode="retroactive")
    assert payout(p, 500_000, 350_000) == pytest.approx(17_500.0)
    assert payout(p, 500_000, 500_000) == pytest.approx(50_000.0)


def test_salescommissionsexplained_zero_first_tier() -> None:
    # Sales Commissions Explained, "Free tiered commission calculator": 0% to $100, 5% to
    # $200, 7% to $500, 9% above. Deal #2 ($550 after a $30 deal) is split 70 at 0%, 100 at
    # 5%, 300 at 7%, 80 at 9% = $33.20. Their $1,000 line items (0 + 5 + 21 + 45) sum to $71;
    # the page's stated total of $76 is an addition slip, so we check the line items.
    # https://salescommissionsexplained.com/2021/09/01/free-tiered-commission-calculator/
    p = plan([(0, 1, 0.0), (1, 2, 0.05), (2, 5, 0.07), (5, None, 0.09)], kind="commission")
    assert payout(p, 100, 580) - payout(p, 100, 30) == pytest.approx(33.20)
    assert payout(p, 100, 1000) == pytest.approx(0 + 5 + 21 + 45)


def test_lawinsider_step_schedule() -> None:
    # Law Insider, "Calculation of Commissions" clause: quarterly commission as a % of the
    # quarter's base salary by attainment band (>80-90% -> 40%, >100-120% -> 60%), i.e. a
    # step plan; on a $30,000 quarterly base, 85% -> $12,000 and 110% -> $18,000.
    # https://lawinsider.com/clause/calculation-of-commissions
    edges = [0, 0.51, 0.61, 0.70, 0.80, 0.90, 1.00, 1.20, 1.40, 1.60, 1.80]
    rates = [0.10, 0.15, 0.20, 0.30, 0.40, 0.50, 0.60, 0.70, 0.80, 0.90, 1.00]
    tiers = [(lo, hi, r) for lo, hi, r in zip(edges, edges[1:] + [None], rates, strict=True)]  # type: ignore[operator]
    p = plan(tiers, mode="step", period="quarter", cap=2.0)
    np.testing.assert_allclose(payout(p, 100, [85, 110, 250], incentive=30_000), [12_000, 18_000, 30_000])


# --- "standard commission at 80%, +0.2x for every 5% above, a protective reduction below 70%"


def accelerator_80_plan(base_rate: float = 0.10, top: float = 1.5) -> IncentivePlan:
    """The rule as a retroactive commission plan (our reading, documented in the test).

    Below 70%: half rate (the protective reduction); 70% up to 85%: the standard rate
    (so 80% earns exactly standard); then +0.2x per full 5% above 80%; capped at ``top``.
    """
    tiers: list[tuple[float, float | None, float]] = [(0.0, 0.70, 0.5 * base_rate), (0.70, 0.85, base_rate)]
    k = 1
    while round(0.80 + 0.05 * k, 4) < top:
        lo, hi = round(0.80 + 0.05 * k, 4), round(0.80 + 0.05 * (k + 1), 4)
        tiers.append((lo, hi, round(base_rate * (1 + 0.2 * k), 6)))
        k += 1
    tiers.append((round(0.80 + 0.05 * k, 4), None, round(base_rate * (1 + 0.2 * k), 6)))
    return plan(tiers, kind="commission", mode="retroactive", cap=top, name="accel80")


@pytest.mark.parametrize(
    ("sales", "expected"),
    [
        (60_000, 0.05 * 60_000),  # protective reduction: half rate
        (75_000, 0.10 * 75_000),  # standard between 70% and 85%
        (80_000, 0.10 * 80_000),  # standard at 80%
        (85_000, 0.12 * 85_000),  # +0.2x for the first full 5% above 80%
        (92_000, 0.14 * 92_000),
        (100_000, 0.18 * 100_000),
        (149_000, 0.36 * 149_000),
        (200_000, 0.38 * 150_000),  # capped at 150%: rate and attainment stop there
    ],
)
def test_accelerator_80_rule(sales: float, expected: float) -> None:
    assert payout(accelerator_80_plan(), 100_000, sales) == pytest.approx(expected)


# --- Semantics the contract leaves open ----------------------------------------------


def test_tiers_starting_above_zero_pay_nothing_below() -> None:
    p = plan([(0.5, 1.0, 1.0), (1.0, None, 2.0)], target_incentive=1000)
    for mode in ("marginal", "retroactive", "step"):
        q = p.model_copy(update={"mode": mode})
        assert payout(q, 100, 40) == 0.0
    assert payout(p, 100, 80) == pytest.approx(1000 * 0.3)


def test_beyond_last_band() -> None:
    bands = [(0.0, 1.0, 1.0), (1.0, 1.5, 2.0)]
    marginal = plan(bands, target_incentive=100)
    retro = plan(bands, target_incentive=100, mode="retroactive")
    step = plan(bands, target_incentive=100, mode="step")
    assert payout(marginal, 100, 300) == pytest.approx(100 * (1.0 + 2.0 * 0.5))  # nothing beyond 1.5
    assert payout(retro, 100, 300) == pytest.approx(100 * 2.0 * 3.0)  # last band's rate keeps going
    assert payout(step, 100, 300) == pytest.approx(200.0)


def test_cap_threshold_and_zero_quota() -> None:
    p = plan([(0, 1, 1.0), (1, None, 2.0)], target_incentive=100, threshold=0.5, cap=1.2)
    assert payout(p, 100, 49.99) == 0.0
    assert payout(p, 100, 50) == pytest.approx(50.0)
    assert payout(p, 100, 120) == payout(p, 100, 500) == pytest.approx(100 + 2 * 20)
    assert payout(p, 0, 100) == 0.0
    assert payout(p, -5, 100) == 0.0
    assert payout(p, 100, -30) == 0.0
    # The threshold compares unclipped attainment even when the cap is below it.
    q = plan([(0, None, 1.0)], target_incentive=100, threshold=1.0, cap=0.8)
    assert payout(q, 100, 99) == 0.0 and payout(q, 100, 150) == pytest.approx(80.0)


def test_payout_is_vectorised_and_float32_curve_matches() -> None:
    p = plan([(0, 0.5, 0.5), (0.5, 1.0, 1.0), (1.0, 1.3, 1.5), (1.3, None, 2.0)], target_incentive=60_000, cap=3.0)
    q = np.full((3, 4), 100.0)
    s = np.linspace(0, 400, 12).reshape(3, 4)
    out = payout(p, q, s)
    assert out.shape == (3, 4)
    curve = PayoutCurve.from_plan(p)
    a32 = (s / q).astype(np.float32)
    np.testing.assert_allclose(curve(a32) * 60_000, out, rtol=1e-5)
    assert curve(a32).dtype == np.float32


def test_payout_periods_quarterly_bonus_uses_quota_shares() -> None:
    p = plan([(0, 1, 1.0), (1, None, 2.0)], target_incentive=40_000, period="quarter")
    quotas = np.array([[10, 30, 30, 30]], float)
    sales = np.array([[10, 15, 30, 45]], float)
    # B per quarter = 40,000 x (0.1, 0.3, 0.3, 0.3); attainment 1, 0.5, 1, 1.5.
    expected = 4000 * 1 + 12_000 * 0.5 + 12_000 * 1 + 12_000 * (1 + 2 * 0.5)
    assert payout_periods(p, quotas, sales)[0] == pytest.approx(expected)
    months = np.repeat(quotas / 3, 3, axis=1)
    assert payout_periods(p, months, np.repeat(sales / 3, 3, axis=1))[0] == pytest.approx(expected)
    annual = p.model_copy(update={"period": "year"})
    assert payout_periods(annual, quotas, sales)[0] == pytest.approx(40_000 * 1.0)
    comm = plan([(0, None, 0.1)], kind="commission", period="quarter")
    assert payout_periods(comm, quotas, sales)[0] == pytest.approx(0.1 * 100)
    with pytest.raises(ValueError):
        payout_periods(p, np.ones((1, 5)), np.ones((1, 5)))


def test_explain_matches_payout_and_renders() -> None:
    p = plan([(0, 0.5, 0.5), (0.5, 1.0, 1.0), (1.0, 1.3, 1.5), (1.3, None, 2.0)], target_incentive=60_000, cap=3.0)
    e = explain_payout(p, 100_000, 140_000)
    assert e.total == pytest.approx(float(payout(p, 100_000, 140_000)))
    assert sum(b.amount for b in e.bands) == pytest.approx(e.total)
    assert [round(b.counted, 6) for b in e.bands] == [0.5, 0.5, 0.3, 0.1]
    text = e.render()
    assert "total" in text and "130% - ..." in text and "84,000.00" in text
    retro = explain_payout(p.model_copy(update={"mode": "retroactive"}), 100, 120)
    assert [b.applies for b in retro.bands] == [False, False, True, False]
    assert retro.total == pytest.approx(60_000 * 1.5 * 1.2)
    below = explain_payout(p.model_copy(update={"threshold": 0.5}), 100, 30)
    assert below.total == 0.0 and below.below_threshold and "threshold" in below.render()


def test_plan_lookup_and_team_bonus() -> None:
    ka = plan([(0, None, 1.0)], name="ka", applies_to={"role": "ka"})
    t7 = plan([(0, None, 1.0)], name="t7", applies_to={"team_id": "T7"})
    anyone = plan([(0, None, 1.0)], name="all")
    plans = (ka, t7, anyone)
    assert plan_for_rep(plans, "ka", "T7") is ka
    assert plan_for_rep(plans, "longtail", "T7") is t7
    assert plan_for_rep(plans, "longtail", "T1") is anyone
    assert plan_for_rep((ka,), "longtail", "T1") is None
    assert find_plan(plans, "t7") is t7
    with pytest.raises(InputError, match="no incentive plan named"):
        find_plan(plans, "nope")
    np.testing.assert_allclose(team_bonus(TeamBonus(threshold=1.0, per_rep=5000), [0.99, 1.0, 1.4]), [0, 5000, 5000])


# --- Properties ----------------------------------------------------------------------


@st.composite
def plans(draw: st.DrawFn, modes: tuple[str, ...] = ("marginal", "retroactive")) -> IncentivePlan:
    n = draw(st.integers(1, 5))
    start = draw(st.sampled_from([0.0, 0.0, 0.3, 0.5]))
    widths = draw(st.lists(st.floats(0.05, 0.8), min_size=n, max_size=n))
    edges = np.round(start + np.concatenate([[0.0], np.cumsum(widths)]), 4)
    mode = draw(st.sampled_from(modes))
    rates = draw(st.lists(st.floats(0.0, 3.0), min_size=n, max_size=n))
    if mode != "marginal":
        rates = sorted(rates)  # accelerating: the case where retroactive pay must not fall
    open_end = draw(st.booleans())
    tiers = [(float(edges[i]), None if (open_end and i == n - 1) else float(edges[i + 1]), rates[i]) for i in range(n)]
    return plan(
        tiers,
        kind=draw(st.sampled_from(["bonus", "commission"])) if mode != "step" else "bonus",
        target_incentive=10_000,
        mode=mode,
        threshold=draw(st.sampled_from([0.0, 0.0, 0.4, 0.8])),
        cap=draw(st.sampled_from([None, 1.0, 1.5, 2.5])),
    )


@settings(max_examples=150, deadline=None)
@given(plans(), st.floats(1.0, 1e7))
def test_payout_never_decreases_as_sales_rise(p: IncentivePlan, quota: float) -> None:
    sales = np.linspace(-0.2, 4.0, 400) * quota
    out = payout(p, quota, sales)
    assert np.all(out >= 0)
    assert np.all(np.diff(out) >= -1e-9 * max(1.0, float(out.max())))


@settings(max_examples=150, deadline=None)
@given(plans(("marginal", "retroactive", "step")), st.floats(1.0, 1e7))
def test_zero_below_threshold_and_flat_above_cap(p: IncentivePlan, quota: float) -> None:
    if p.threshold > 0:
        below = np.linspace(0, p.threshold, 50, endpoint=False) * quota
        assert np.all(payout(p, quota, below) == 0.0)
    if p.cap is not None:
        above = np.linspace(p.cap, p.cap + 3, 50) * quota
        out = payout(p, quota, above)
        np.testing.assert_allclose(out, out[0], rtol=1e-9, atol=1e-9)
