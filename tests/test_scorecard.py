"""Scorecard plans and the coefficient rule: hand-solved payouts, explanations, bad values, simulation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from quotaopt.cli import main
from quotaopt.errors import InputError
from quotaopt.incentives import (
    CoefficientCurve,
    ScorecardCurve,
    explain_payout,
    explain_scorecard,
    payout,
    read_attainments,
    scorecard_payout,
    simulate,
)
from quotaopt.scenario import (
    CoefficientRule,
    IncentivePlan,
    IncentivesConfig,
    SimulationConfig,
    validate_scenario,
)
from test_simulate import company

# --- the coefficient rule ---------------------------------------------------------------
# The method's rule: 80% earns the standard rate 1.0, each further whole 5% adds 0.2, each
# 5% begun below 80% takes 0.2 away, and below 70% a protective rate of 0.3 applies.
COEFFICIENT = {"base": 0.8, "base_rate": 1.0, "step": 0.05, "increment": 0.2, "floor": 0.7, "below_floor": 0.3}


@pytest.mark.parametrize(("attainment", "by_hand"), [
    (0.65, 0.3),  # below the 70% floor: the protective rate
    (0.70, 1.0 - 2 * 0.2),  # (70 - 80) / 5 = -2 steps: 0.6
    (0.80, 1.0),  # the base
    (0.92, 1.0 + 2 * 0.2),  # 12 points above = 2 whole steps (not 2.4): 1.4
    (1.20, 1.0 + 8 * 0.2),  # 40 points above = 8 steps: 2.6
])
def test_coefficient_rule_by_hand(attainment: float, by_hand: float) -> None:
    plan = IncentivePlan.model_validate({"name": "c", "target_incentive": 10_000, "mode": "coefficient",
                                         "coefficient": COEFFICIENT})
    sales = attainment * 1_000_000
    assert payout(plan, 1_000_000, sales) == pytest.approx(10_000 * by_hand, abs=1e-6)
    expl = explain_payout(plan, 1_000_000, sales)
    assert expl.total == pytest.approx(10_000 * by_hand, abs=1e-6)
    assert [round(b.rate, 9) for b in expl.bands if b.applies] == [round(by_hand, 9)]


def test_coefficient_rule_edges_cap_threshold_and_commission() -> None:
    curve = CoefficientCurve(CoefficientRule(**COEFFICIENT), cap=1.0, threshold=0.5)
    # 0.79 and 0.75 are one step begun below 80%; 0.7499 is two; the cap holds 1.5 at 100% (4 steps).
    got = curve(np.array([0.4, 0.5, 0.6999, 0.7499, 0.75, 0.79, 1.5, -0.1]))
    np.testing.assert_allclose(got, [0.0, 0.3, 0.3, 0.6, 0.8, 0.8, 1.8, 0.0])
    assert curve(np.array([0.92], dtype=np.float32)).dtype == np.float32
    # Commission: the coefficient is the rate on sales. 92% of a 1,000 quota at 5% + 2 steps x 1%.
    commission = IncentivePlan.model_validate({"name": "k", "kind": "commission", "mode": "coefficient",
                                               "coefficient": {"base_rate": 0.05, "increment": 0.01}})
    assert payout(commission, 1000, 920) == pytest.approx(920 * 0.07)


# --- a four-component scorecard with a gate ---------------------------------------------

GATE = {"measure": "revenue", "min": 0.8}
SCORECARD: dict[str, Any] = {
    "name": "field", "kind": "bonus", "target_incentive": 40_000,
    "components": [
        {"measure": "activity:visits", "weight": 0.2, "mode": "marginal", "cap": 1.5, "gate": GATE,
         "tiers": [{"from": 0, "to": 1, "rate": 1.0}, {"from": 1, "rate": 1.5}]},
        {"measure": "activity:conversion", "weight": 0.3, "mode": "coefficient", "gate": GATE},
        {"measure": "activity:collection_days", "weight": 0.2, "mode": "step", "gate": GATE,
         "tiers": [{"from": 0, "to": 0.9, "rate": 0}, {"from": 0.9, "to": 1.1, "rate": 1.0},
                   {"from": 1.1, "rate": 1.2}]},
        {"measure": "activity:satisfaction", "weight": 0.3, "mode": "retroactive", "threshold": 0.6, "gate": GATE,
         "tiers": [{"from": 0, "to": 1, "rate": 0.5}, {"from": 1, "rate": 1.0}]},
    ],
}
ATTAINMENT = {"revenue": 0.85, "activity:visits": 1.2, "activity:conversion": 0.92,
              "activity:collection_days": 1.0, "activity:satisfaction": 0.95}


def test_four_component_scorecard_worked_example() -> None:
    # B = 40,000. Revenue 85% >= 80%: the gate is open for every component.
    # visits 120%, marginal:   1.0 x 100% + 1.5 x 20%  = 1.3    x 0.2 = 0.26   -> 10,400
    # conversion 92%, coefficient (defaults, 0 below 70%): 1.0 + 2 x 0.2 = 1.4 x 0.3 = 0.42 -> 16,800
    # collection 100%, step:   band [90%, 110%) rate 1.0          x 0.2 = 0.20   ->  8,000
    # satisfaction 95%, retroactive: 0.5 x 95% = 0.475            x 0.3 = 0.1425 ->  5,700
    # total 40,000 x 1.0225 = 40,900
    plan = IncentivePlan.model_validate(SCORECARD)
    assert float(scorecard_payout(plan, ATTAINMENT)) == pytest.approx(40_900)
    expl = explain_scorecard(plan, ATTAINMENT)
    assert [round(c.amount, 6) for c in expl.components] == [10_400, 16_800, 8_000, 5_700]
    assert expl.total == pytest.approx(40_900)
    visits = expl.components[0]
    assert [(b.start, round(b.counted, 9), round(b.amount, 6)) for b in visits.bands] == [
        (0.0, 1.0, 8_000.0), (1.0, 0.2, 2_400.0)]
    text = expl.render()
    assert "gate revenue >= 80%: met" in text and "40,900.00" in text
    # Satisfaction under its 60% threshold pays nothing; the rest stays: 40,900 - 5,700.
    low = {**ATTAINMENT, "activity:satisfaction": 0.55}
    assert float(scorecard_payout(plan, low)) == pytest.approx(35_200)
    # Revenue at 79%: the gate shuts every component.
    shut = {**ATTAINMENT, "revenue": 0.79}
    assert float(scorecard_payout(plan, shut)) == 0.0
    assert "not met" in explain_scorecard(plan, shut).render()
    # Vectorised over reps; a quarterly plan's default B is a quarter.
    many = {m: np.array([v, v]) for m, v in ATTAINMENT.items()} | {"revenue": np.array([0.85, 0.5])}
    np.testing.assert_allclose(scorecard_payout(plan, many), [40_900, 0])
    quarterly = IncentivePlan.model_validate({**SCORECARD, "period": "quarter"})
    assert float(scorecard_payout(quarterly, ATTAINMENT)) == pytest.approx(40_900 / 4)


def _scenario(tmp_path: Path, plan: dict[str, Any], **extra: Any) -> Path:
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"name": "s", "incentives": {"plans": [plan]}, **extra}))
    return path


def test_payout_command_explains_each_component(tmp_path: Path) -> None:
    path = _scenario(tmp_path, SCORECARD)
    args = ["payout", str(path), "--plan", "field", "--quota", "100", "--sales", "85"]
    pairs = [f"--attainment={m}={v}" for m, v in ATTAINMENT.items() if m != "revenue"]
    result = CliRunner().invoke(main, args + pairs)
    assert result.exit_code == 0, result.output
    assert "component activity:conversion: weight 30%, coefficient" in result.output
    assert result.output.strip().splitlines()[-1].endswith("40,900.00")
    missing = CliRunner().invoke(main, args + pairs[:2])
    assert missing.exit_code == 2 and "--attainment" in missing.output and "satisfaction" in missing.output
    for bad in ("activity:visits", "activity:visits=abc", "activity:nope=1"):
        result = CliRunner().invoke(main, [*args, *pairs, "--attainment", bad])
        assert result.exit_code == 2 and "--attainment" in result.output, result.output
    with pytest.raises(InputError, match="needs the attainment of \\['revenue'\\]"):
        read_attainments(IncentivePlan.model_validate(SCORECARD), [p.removeprefix("--attainment=") for p in pairs])


@pytest.mark.parametrize(("change", "key", "says"), [
    (lambda p: p["components"][0].update(weight=0.3), "incentives.plans[0].components",
     "weights must sum to 1, got 1.1"),
    (lambda p: p["components"][1].update(measure="activity:visits"), "incentives.plans[0].components",
     "repeated"),
    (lambda p: p["components"][1].update(measure="margin"), "incentives.plans[0].components[1].measure",
     "unknown measure 'margin'"),
    (lambda p: p["components"][1].update(measure="revenue:Devices"),
     "incentives.plans[0].components[1].measure", "not planned"),
    (lambda p: p["components"][2]["gate"].update(measure="new_customers"),
     "incentives.plans[0].components[2].gate.measure", "not planned"),
    (lambda p: p.update(kind="commission"), "incentives.plans[0]", "components are for bonus plans"),
    (lambda p: p.update(cap=2.0), "incentives.plans[0]", "per component"),
    (lambda p: p["components"][1].update(tiers=[{"from": 0, "rate": 1}]),
     "incentives.plans[0].components[1]", "not tiers"),
    (lambda p: p["components"][0].update(mode="step", tiers=[]), "incentives.plans[0].components[0]",
     "needs tiers"),
    (lambda p: p["components"][1].update(coefficient={"floor": 0.9}),
     "incentives.plans[0].components[1].coefficient", "floor 0.9 is above base 0.8"),
])
def test_bad_scorecards_are_exit_2_naming_the_key(tmp_path: Path, change: Any, key: str, says: str) -> None:
    plan = json.loads(json.dumps(SCORECARD))  # a deep copy: the gate dict is shared
    change(plan)
    result = CliRunner().invoke(main, ["validate", str(_scenario(tmp_path, plan))])
    assert result.exit_code == 2, result.output
    line = result.output.strip()
    assert len(line.splitlines()) == 1 and f":{key}: " in line and says in line, line


def test_measures_key_is_checked() -> None:
    assert validate_scenario({}).measures == ("revenue",)
    for measures, says in ((["new_customers"], "must include revenue"), (["revenue", "revenue"], "repeated"),
                           (["revenue", "activity:visits"], "process metric"), (["revenue", "x"], "unknown")):
        with pytest.raises(InputError, match=says) as err:
            validate_scenario({"measures": measures})
        assert ":measures: " in str(err.value)


# --- in the Monte Carlo ----------------------------------------------------------------


def test_simulation_reads_every_component_at_the_revenue_attainment() -> None:
    reps, units = company()
    tiers = [{"from": 0, "to": 1, "rate": 1.0}, {"from": 1, "rate": 1.5}]
    plain = IncentivesConfig.model_validate({"plans": [
        {"name": "p", "target_incentive": 10_000, "tiers": tiers}]})
    card = IncentivesConfig.model_validate({"plans": [{"name": "p", "target_incentive": 10_000, "components": [
        {"measure": "revenue", "weight": 0.5, "tiers": tiers},
        {"measure": "activity:visits", "weight": 0.5, "tiers": tiers, "gate": {"min": 0.0}}]}]})
    cfg = SimulationConfig(draws=400, seed=3)
    a = simulate(reps, units, plain, cfg, 1e6)
    b = simulate(reps, units, card, cfg, 1e6)
    np.testing.assert_allclose(b.reps["expected_payout"], a.reps["expected_payout"], rtol=1e-5)
    # The cost of each component: half each here, adding up to the plan's expected payout, whatever the chunking.
    cost = b.summary.component_cost["p"]
    assert set(cost) == {"revenue", "activity:visits"}
    assert cost["revenue"] == pytest.approx(cost["activity:visits"], rel=1e-6)
    assert sum(cost.values()) == pytest.approx(b.summary.expected_payout, rel=1e-5)
    assert simulate(reps, units, card, cfg, 1e6, chunk=64).summary.component_cost == b.summary.component_cost
    assert a.summary.component_cost is None
    quarterly = IncentivesConfig.model_validate({"plans": [{**card.plans[0].model_dump(by_alias=True),
                                                           "period": "quarter"}]})
    q = simulate(reps, units, quarterly, cfg, 1e6)
    assert sum(q.summary.component_cost["p"].values()) == pytest.approx(q.summary.expected_payout, rel=1e-5)
    assert b.summary.p_company_target == a.summary.p_company_target
    # A coefficient plan in the simulation pays what payout() says at each draw's attainment.
    coeff = IncentivesConfig.model_validate({"plans": [{"name": "c", "target_incentive": 10_000,
                                                        "mode": "coefficient", "coefficient": COEFFICIENT}]})
    c = simulate(reps, units, coeff, cfg, 1e6)
    assert (c.reps["expected_payout"] > 0).all()
    curve = ScorecardCurve.from_plan(IncentivePlan.model_validate(SCORECARD))
    assert curve(np.array([0.85], dtype=np.float32)).dtype == np.float32
