"""The knobs of the page and how they become scenario overrides.

A page's state is a :class:`Settings`: knob values and locked quotas. It travels whole
with every request (the server keeps no per-browser state), is checked here with one
clear message per bad value, and becomes the overrides deep-merged over the scenario
file, exactly as a child scenario with ``extends`` would give them, so a version saved
from the page is re-planned by ``quotaopt plan`` from those overrides alone.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from quotaopt.errors import InputError, Problem
from quotaopt.scenario import Scenario

KnobKind = Literal["number", "percent", "pair", "choice"]
#: A knob's value: a number, a choice, a low-high pair, or None (no such limit).
KnobValue = float | str | list[float] | None
#: The scenario keys the page sets, by section (``target.growth``, ``allocation.locks`` ...):
#: a fragment of the scenario file, deep-merged over it.
ScenarioOverrides = dict[str, dict[str, KnobValue | dict[str, float | None]]]


@dataclass(frozen=True)
class Knob:
    """One control: the scenario key it sets, how it is shown and its allowed range."""

    name: str
    label: str
    path: tuple[str, ...]
    kind: KnobKind
    low: float | None = None
    high: float | None = None
    step: float | None = None
    choices: tuple[str, ...] = ()
    help: str = ""


#: Every knob of the page, in display order (``percent`` knobs are fractions shown as %).
KNOBS: tuple[Knob, ...] = (
    Knob("growth", "Target growth", ("target", "growth"), "percent", -0.5, 2.0, 0.005,
         help="over the last complete year's bookings"),
    Knob("company", "Target amount", ("target", "company"), "number", 0.0, 1e15, 1000.0,
         help="an absolute company number; empty: grow instead"),
    Knob("over_assignment", "Over-assignment", ("target", "over_assignment"), "percent", 0.0, 1.0, 0.005,
         help="rep quotas add up to target x (1 + this)"),
    Knob("market_growth", "Market growth", ("market", "growth"), "percent", -0.5, 2.0, 0.005,
         help="moves every rep's capacity"),
    Knob("stretch", "Stretch band", ("allocation", "stretch"), "pair", 0.0, 5.0, 0.01,
         help="quota / capacity P50, low and high"),
    Knob("flex", "Flex", ("allocation", "flex"), "percent", 0.0, 1.0, 0.005,
         help="a unit's total may move this much from its share"),
    Knob("ka_share", "KA share", ("allocation", "ka_share"), "pair", 0.0, 1.0, 0.01,
         help="share of a unit's quota on its ka reps; empty: none"),
    Knob("max_change", "Max change", ("allocation", "max_change"), "percent", 0.0, 10.0, 0.01,
         help="year-on-year change limit; empty: none"),
    Knob("fairness", "Fairness", ("allocation", "fairness"), "choice", choices=("stretch", "chance"),
         help="equal stretch or equal chance of reaching quota"),
    Knob("seasonality", "Seasonality", ("periods", "seasonality"), "choice", choices=("learned", "flat"),
         help="month weights learned from bookings, or flat"),
)
BY_NAME = {k.name: k for k in KNOBS}
#: Knobs that may be empty (None): the scenario then has no such limit / uses growth.
OPTIONAL = frozenset({"growth", "company", "ka_share", "max_change"})
#: The ways a scenario may set its target (it takes exactly one).
TARGET_KINDS = ("company", "growth", "reps_at_quota", "p_company")


@dataclass(frozen=True)
class Settings:
    """A page's planning state: knob values (scenario units) and locked quotas by rep."""

    knobs: dict[str, KnobValue] = field(default_factory=dict)
    locks: dict[str, float | None] = field(default_factory=dict)

    def key(self) -> str:
        """A stable text for caching and comparing states."""
        return json.dumps({"knobs": self.knobs, "locks": self.locks}, sort_keys=True)


def _get(raw: dict[str, Any], path: tuple[str, ...]) -> Any:
    value: Any = raw
    for part in path:
        value = value.get(part) if isinstance(value, dict) else None
    return value


def knob_values(scenario: Scenario) -> dict[str, KnobValue]:
    """The scenario's own value of every knob (what the page starts from)."""
    raw = scenario.resolved()
    values = {k.name: _get(raw, k.path) for k in KNOBS}
    for name in ("stretch", "ka_share"):
        if values[name] is not None:
            values[name] = [float(v) for v in values[name]]
    if all(getattr(scenario.target, k) is None for k in TARGET_KINDS):
        values["growth"] = 0.0  # the documented default
    if isinstance(values["seasonality"], list):
        values["seasonality"] = "learned"  # explicit quarter weights are kept unless the knob is moved
    return values


def _number(knob: Knob, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError(f"expected a number, got {str(value)[:40]!r}") from None
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    if knob.low is not None and number < knob.low or knob.high is not None and number > knob.high:
        raise ValueError(f"expected {knob.low:g} to {knob.high:g}, got {number:g}")
    return number


def _check(knob: Knob, value: Any) -> KnobValue:
    if value is None or value == "":
        if knob.name in OPTIONAL:
            return None
        raise ValueError("a value is needed")
    if knob.kind == "choice":
        if value not in knob.choices:
            raise ValueError(f"expected one of {', '.join(knob.choices)}, got {str(value)[:40]!r}")
        return str(value)
    if knob.kind == "pair":
        if not isinstance(value, list | tuple) or len(value) != 2:
            raise ValueError("expected two numbers, low and high")
        low, high = (_number(knob, v) for v in value)
        if low > high:
            raise ValueError(f"low {low:g} is above high {high:g}")
        return [low, high]
    return _number(knob, value)


def parse_settings(payload: Any, locks_unit: float) -> Settings:
    """Check a request's ``{"knobs": {...}, "locks": {...}}``; one problem per bad value.

    Raises
    ------
    InputError
        An unknown knob, a value out of range, a lock that is not a whole multiple of
        ``locks_unit`` (``allocation.unit``).
    """
    if not isinstance(payload, dict):
        raise InputError([Problem("settings", "expected a JSON object with knobs and locks")])
    knobs_in, locks_in = payload.get("knobs") or {}, payload.get("locks") or {}
    problems: list[Problem] = []
    if not isinstance(knobs_in, dict) or not isinstance(locks_in, dict):
        raise InputError([Problem("settings", "knobs and locks must be objects")])
    knobs: dict[str, KnobValue] = {}
    for name, value in knobs_in.items():
        knob = BY_NAME.get(str(name))
        if knob is None:
            problems.append(Problem("settings", f"unknown knob {str(name)[:40]!r}", column="knobs"))
            continue
        try:
            knobs[knob.name] = _check(knob, value)
        except ValueError as exc:
            problems.append(Problem("settings", f"{knob.label}: {exc}", column=knob.name))
    if knobs.get("company") is not None:
        knobs["growth"] = None  # an amount replaces growth (the scenario takes one of them)
    elif "growth" in knobs and "company" in knobs and knobs["growth"] is None:
        problems.append(Problem("settings", "give a target growth or a target amount", column="growth"))
    locks: dict[str, float | None] = {}
    for rep, value in locks_in.items():
        rep = str(rep)[:64]
        if value is None:
            locks[rep] = None
            continue
        try:
            amount = _number(Knob("lock", "lock", (), "number", 0.0, 1e15), value)
        except ValueError as exc:
            problems.append(Problem("settings", f"locked quota of {rep}: {exc}", column="locks"))
            continue
        if abs(amount / locks_unit - round(amount / locks_unit)) > 1e-9:
            problems.append(Problem("settings", f"locked quota of {rep}: {amount:,.2f} is not a whole multiple of "
                                    f"the unit {locks_unit:,.2f}", column="locks"))
            continue
        locks[rep] = amount
    if problems:
        raise InputError(problems)
    return Settings(knobs=knobs, locks=locks)


def overrides(settings: Settings, base: Scenario) -> ScenarioOverrides:
    """The scenario overrides for ``settings``: only knobs that differ from ``base``, and the locks."""
    start = knob_values(base)
    out: ScenarioOverrides = {}
    for name, value in settings.knobs.items():
        if value == start.get(name):
            continue
        section, key = BY_NAME[name].path  # every knob sets a key of one section
        out.setdefault(section, {})[key] = value
    target = out.get("target", {})
    chosen = "company" if target.get("company") is not None else "growth" if target.get("growth") is not None else None
    if chosen is not None:  # the scenario takes one way to the target: the knob's replaces the file's
        for key in TARGET_KINDS:
            if key != chosen and getattr(base.target, key) is not None:
                target[key] = None
    if settings.locks:
        out.setdefault("allocation", {})["locks"] = dict(sorted(settings.locks.items()))
    return out
