"""Monte Carlo attainment and payouts for a plan (contract §4 ``summary.json``, ``plan.csv``).

Each draw is one possible plan year: every rep's yearly bookings come from its fitted
P10/P50/P90 curve with company and team shocks (:mod:`quotaopt.incentives._sampling`); quarterly
plans see the year spread over quarters by seasonality with within-year noise; each
rep is paid under its plan (:mod:`quotaopt.incentives`), plus the team bonus of its
unit. Units total the bookings of every rep below them.

Work is vectorised (float32 draws, float64 accumulators) and done ``chunk`` draws at a
time, so memory stays bounded whatever ``simulation.draws`` is. Draws are generated in
blocks of :data:`~quotaopt.incentives.BLOCK` with one generator per block, and per-block
sums are accumulated in block order: the result is identical for any ``chunk``.

Per-rep quarter quotas can be given as columns ``quota_q1..quota_q4`` (see
:func:`quotaopt.periods.quarter_quotas`); otherwise the annual quota is split by
``quarter_weights`` (flat when unset). Expected quarter sales follow ``quarter_weights``
when given (zeroed in quarters where the rep has no quota, i.e. before its hire date),
else each rep's quarter quota shares. Within-year noise: ``quarter_noise`` (see
:func:`quotaopt.periods.learn_quarter_noise` to learn it from history); quarter
noise is independent across reps (shared shocks act on the year).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import scipy.sparse as sp

from quotaopt.errors import InputError, Problem
from quotaopt.incentives._payout import plan_for_rep
from quotaopt.incentives._sampling import (
    BLOCK,
    QuantileCurve,
    block_rng,
    correlated_normals,
    spread_quarters,
)
from quotaopt.incentives._scorecard import ScorecardCurve, plan_curve
from quotaopt.ordering import data_order
from quotaopt.org_tree import OrgTree
from quotaopt.parallel import Executor
from quotaopt.scenario import IncentivesConfig, SimulationConfig

QUARTER_COLUMNS = ("quota_q1", "quota_q2", "quota_q3", "quota_q4")
#: What orders reps within a team before draws are handed out (quotaopt.ordering).
SIM_ORDER = ("quota", "capacity_p50", "capacity_p10", "capacity_p90", "role", "hire_date", *QUARTER_COLUMNS)
#: Default log-sd of quarter shares around their seasonal expectation.
DEFAULT_QUARTER_NOISE = 0.25
#: Rep attainment histogram bins: 0 to 3 by 0.05 (last bin holds everything above).
HIST_STEP = 0.05
HIST_EDGES = np.round(np.arange(0.0, 3.0 + HIST_STEP / 2, HIST_STEP), 2)
#: Target draws x reps per chunk (float32 arrays of ~2 MB stay in cache).
_CHUNK_ELEMENTS = 1 << 19
#: Most tasks the draws are split into for a cluster (each carries the whole setup).
MAX_TASKS = 16


@dataclass(frozen=True)
class SimulationFigures:
    """The company-level figures of a Monte Carlo run.

    Attributes
    ----------
    p_company_target : float
        Share of draws in which the company books at least its target.
    expected_payout, payout_p10, payout_p50, payout_p90 : float
        Total payout per year: its mean and quantiles over the draws.
    expected_bookings : float
    cost_of_sales : float
        Expected payout / expected bookings (NaN without bookings).
    share_ge_100, share_80_100, share_lt_80 : float
        Expected share of reps at >= 100%, 80-100% and < 80% of quota.
    draws, seed : int
    component_cost : dict or None
        Scorecard plans only: plan -> component measure -> expected payout per year.
    """

    p_company_target: float
    expected_payout: float
    payout_p10: float
    payout_p50: float
    payout_p90: float
    expected_bookings: float
    cost_of_sales: float
    share_ge_100: float
    share_80_100: float
    share_lt_80: float
    draws: int
    seed: int
    component_cost: dict[str, dict[str, float]] | None = None


@dataclass
class SimulationResult:
    """What :func:`simulate` returns.

    Attributes
    ----------
    reps : DataFrame
        ``rep_id, p_attain, expected_payout, expected_bookings`` in input order.
    units : DataFrame
        ``unit_id, p_attain`` in input order.
    summary : SimulationFigures
        The company-level figures (chance of the target, payouts, shares of reps).
    draws : dict of ndarray
        Per-draw ``company_bookings``, ``company_attainment`` (vs the target) and
        ``total_payout`` (empty when ``keep_draws`` is False).
    attainment_histogram : dict
        ``edges`` and ``counts`` of rep attainment over all reps and draws.
    """

    reps: pd.DataFrame
    units: pd.DataFrame
    summary: SimulationFigures
    draws: dict[str, np.ndarray] = field(default_factory=dict)
    attainment_histogram: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class _Group:
    """Reps paid under one plan: a contiguous slice of the sorted reps."""

    start: int
    stop: int
    curve: Callable[[np.ndarray], np.ndarray]  # payout / B at an attainment (quotaopt.incentives._scorecard.plan_curve)
    quarterly: bool
    base: np.ndarray  # (n,) annual or (4, n) quarterly B, float32
    inv_quota: np.ndarray  # same shape, 1/quota or 0
    plan: str = ""


def _quarters(reps: pd.DataFrame, quota: np.ndarray, quarter_weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Quarter quotas and expected sales shares (reps x 4 each, shares summing to 1)."""
    n = len(reps)
    if quarter_weights is None:
        w = None
    else:
        w = np.broadcast_to(np.asarray(quarter_weights, dtype=np.float64), (n, 4))
        w = w / np.where(w.sum(axis=1, keepdims=True) > 0, w.sum(axis=1, keepdims=True), 1.0)
    if all(c in reps for c in QUARTER_COLUMNS):
        qq = reps[list(QUARTER_COLUMNS)].to_numpy(dtype=np.float64)
    else:
        qq = quota[:, None] * (w if w is not None else np.full((n, 4), 0.25))
    if w is not None:
        # Seasonal sales shape, but nothing in quarters without quota (before a hire date).
        shaped = np.where(qq > 0, w, 0.0)
        tot = shaped.sum(axis=1, keepdims=True)
        return qq, np.where(tot > 0, shaped / np.where(tot > 0, tot, 1.0), w)
    tot = qq.sum(axis=1, keepdims=True)
    return qq, np.where(tot > 0, qq / np.where(tot > 0, tot, 1.0), 0.25)


@dataclass
class _Setup:
    """Everything a chunk needs, in the sorted rep order (quarterly plans first)."""

    n: int
    curve: QuantileCurve
    codes: np.ndarray
    n_teams: int
    groups: list[_Group]
    n_quarterly: int
    shares_q: np.ndarray
    quota32: np.ndarray
    quota80: np.ndarray
    hist_scale: np.ndarray
    valid: np.ndarray
    member_t: sp.csr_matrix
    unit_quota: np.ndarray
    team_unit: np.ndarray
    team_size: np.ndarray
    bonus_per_rep: float
    bonus_bar: np.ndarray  # bookings a team needs for its team bonus (inf: none possible)
    seed: int
    company: float
    team: float
    quarter_noise: float


@dataclass
class _Partial:
    """One chunk's contribution (merged in chunk order)."""

    first: int
    company: np.ndarray
    total_pay: np.ndarray
    hit: np.ndarray
    hit80: np.ndarray
    unit_hit: np.ndarray
    team_hit: np.ndarray
    hist: np.ndarray
    block_pay: list[np.ndarray]
    # Scorecard plans: per block, (plan, measure) -> the block's payout of that component.
    block_components: list[dict[tuple[str, str], float]] = field(default_factory=list)


def _prepare(
    reps: pd.DataFrame,
    units: pd.DataFrame,
    plans: IncentivesConfig,
    config: SimulationConfig,
    quarter_weights: np.ndarray | None,
    quarter_noise: float,
    org: OrgTree | None = None,
) -> tuple[_Setup, np.ndarray]:
    """Sort reps, fit curves, compile plans and the unit tree; returns the setup and sort order."""
    missing = [c for c in ("rep_id", "team_id", "quota", "capacity_p10", "capacity_p50", "capacity_p90")
               if c not in reps]
    if missing:
        raise ValueError(f"reps frame lacks columns {missing}")
    n = len(reps)
    roles = reps["role"].astype(str) if "role" in reps else pd.Series([""] * n)
    teams = reps["team_id"].astype(str).to_numpy()
    n_plans = len(plans.plans)
    plan_idx = np.array([
        next((i for i, p in enumerate(plans.plans) if p is plan), -1)
        for plan in (plan_for_rep(plans.plans, r, t) for r, t in zip(roles, teams, strict=True))
    ], dtype=np.int64)
    quarterly = np.array([p.period == "quarter" for p in plans.plans] + [False])
    # Quarterly plans first (their reps share one block of quarter noise), then annual, then none.
    group_key = np.where(plan_idx < 0, 2 * n_plans, plan_idx + np.where(quarterly[plan_idx], 0, n_plans))
    # Draws are handed out by position: teams numbered by id and reps ordered by their data
    # within a team (quotaopt.ordering), so row order and other reps' names never move a rep's draws.
    team_codes, team_names = pd.factorize(teams, sort=True)
    within = np.empty(n, dtype=np.int64)
    within[data_order(reps, SIM_ORDER, "rep_id")] = np.arange(n)
    order = np.lexsort((within, team_codes, group_key))
    r = reps.iloc[order].reset_index(drop=True)
    quota = r["quota"].to_numpy(dtype=np.float64)
    curve = QuantileCurve.fit(r["capacity_p10"], r["capacity_p50"], r["capacity_p90"], r["rep_id"].to_numpy())
    qq, shares = _quarters(r, quota, quarter_weights)
    keys = group_key[order]
    groups: list[_Group] = []
    for key in np.unique(keys):
        if key >= 2 * n_plans:
            continue
        plan = plans.plans[int(key % n_plans)]
        lo, hi = int(np.searchsorted(keys, key, "left")), int(np.searchsorted(keys, key, "right"))
        if plan.period == "quarter":
            qs = qq[lo:hi].T
            tot = qs.sum(axis=0, keepdims=True)
            base = qs if plan.kind == "commission" else plan.target_incentive * np.divide(
                qs, tot, out=np.zeros_like(qs), where=tot > 0)
        else:
            qs = quota[lo:hi]
            base = qs if plan.kind == "commission" else np.full(hi - lo, plan.target_incentive)
        inv = np.divide(1.0, qs, out=np.zeros_like(qs), where=qs > 0)
        base = np.where(qs > 0, base, 0.0)
        groups.append(_Group(lo, hi, plan_curve(plan), plan.period == "quarter",
                             base.astype(np.float32), inv.astype(np.float32), plan.name))
    n_quarterly = max([g.stop for g in groups if g.quarterly], default=0)

    # A forest is fine here: a unit's bookings are those of the reps below it, company or not.
    org = OrgTree.from_table(units, "unit_id", source="units", one_root=False) if org is None else org
    unit_ids = units["unit_id"].astype(str).tolist()
    unknown = org.unknown(teams)
    if unknown:
        raise InputError([Problem("plan", f"rep team {t!r} is not a unit of the tree") for t in unknown[:20]])
    # Columns in the order of ``units`` (its rows are the result's units).
    member = org.membership(r["team_id"].astype(str), columns=unit_ids, dtype=np.float32)
    codes = team_codes[order]
    valid = quota > 0
    unit_pos = {u: i for i, u in enumerate(unit_ids)}
    team_unit = np.array([unit_pos[t] for t in team_names], dtype=np.int64)
    unit_quota = units["quota"].to_numpy(dtype=np.float64)
    # A team without a positive quota has no attainment, so no team bonus.
    team_quota = np.nan_to_num(unit_quota[team_unit], nan=0.0)
    setup = _Setup(
        n=n, curve=curve, codes=codes, n_teams=len(team_names), groups=groups, n_quarterly=n_quarterly,
        shares_q=shares[:n_quarterly], quota32=quota.astype(np.float32),
        quota80=(0.8 * quota).astype(np.float32),
        hist_scale=np.divide(1.0 / HIST_STEP, quota, out=np.zeros_like(quota), where=valid).astype(np.float32),
        valid=valid, member_t=member.T.tocsr(), unit_quota=unit_quota,
        team_unit=team_unit, bonus_bar=np.where(team_quota > 0, plans.team_bonus.threshold * team_quota, np.inf),
        team_size=np.bincount(codes, minlength=len(team_names)),
        bonus_per_rep=float(plans.team_bonus.per_rep) if n else 0.0,
        seed=config.seed, company=config.correlation.company, team=config.correlation.team,
        quarter_noise=quarter_noise,
    )
    return setup, order


def _blocks(first: int, last: int) -> list[tuple[int, int, int]]:
    """(block id, start, end) of each random block in [first, last), offsets relative to first."""
    return [(blk, blk * BLOCK - first, min(last, (blk + 1) * BLOCK) - first)
            for blk in range(first // BLOCK, -(-last // BLOCK))]


def _bookings(st: _Setup, first: int, last: int, quarters: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Yearly bookings of draws [first, last) (draws x reps) and the quarter noise of quarterly plans."""
    b, n = last - first, st.n
    x = np.empty((b, n), np.float32)
    noise = np.empty((4, b, st.n_quarterly), np.float32) if st.n_quarterly and quarters else None
    for blk, s, e in _blocks(first, last):
        rng = block_rng(st.seed, blk)
        x[s:e] = correlated_normals(rng, e - s, st.codes, st.n_teams, st.company, st.team)
        if noise is not None:
            noise[:, s:e] = rng.standard_normal((4, e - s, st.n_quarterly), dtype=np.float32)
    return st.curve.ppf_z(x), noise


def company_bookings(reps: pd.DataFrame, units: pd.DataFrame, plans: IncentivesConfig,
                     config: SimulationConfig, org: OrgTree | None = None) -> np.ndarray:
    """Company bookings per draw: the very draws :func:`simulate` would make, without payouts.

    Bookings do not depend on quotas, so this is what a plan's P(company target met) is
    measured on, whatever the quotas; ``reps`` must be in the order :func:`simulate`
    will get them (its ``quota`` column, if any, is not used).

    Parameters
    ----------
    reps : DataFrame
        ``rep_id, team_id, role, capacity_p10, capacity_p50, capacity_p90``.
    units : DataFrame
        ``unit_id, parent_id``: the unit tree.
    plans, config, org
        As for :func:`simulate`.

    Returns
    -------
    ndarray
        ``config.draws`` company totals.
    """
    units = units.assign(quota=np.nan)
    st, _ = _prepare(reps.assign(quota=reps["capacity_p50"]), units, plans, config, None, DEFAULT_QUARTER_NOISE,
                     org)
    step = max(BLOCK, -(-(_CHUNK_ELEMENTS // max(st.n, 1)) // BLOCK) * BLOCK)
    out = np.empty(config.draws)
    for first in range(0, config.draws, step):
        last = min(config.draws, first + step)
        x, _ = _bookings(st, first, last, quarters=False)
        out[first:last] = x.sum(axis=1, dtype=np.float64)
    return out


def _run_chunk(st: _Setup, first: int, last: int) -> _Partial:
    b, n = last - first, st.n
    x, noise = _bookings(st, first, last)
    blocks = _blocks(first, last)

    unit_tot = np.asarray(st.member_t @ x.T).T
    unit_ok = st.unit_quota[None, :] <= unit_tot
    # Attainment histogram in bins of 0.05 (reps with a quota only; the last bin is open).
    att = x * st.hist_scale if st.valid.all() else x[:, st.valid] * st.hist_scale[st.valid]
    np.clip(att, np.float32(0.0), np.float32(len(HIST_EDGES) - 1), out=att)
    hist = np.bincount(att.astype(np.int32).ravel(), minlength=len(HIST_EDGES))
    del att

    pay = np.zeros((b, n), np.float32)
    sales_q = spread_quarters(x[:, :st.n_quarterly], st.shares_q, noise, st.quarter_noise) \
        if noise is not None else None
    for g in st.groups:
        sl = slice(g.start, g.stop)
        if g.quarterly and sales_q is not None:
            for k in range(4):
                part = g.curve(sales_q[k][:, sl] * g.inv_quota[k])
                part *= g.base[k]
                pay[:, sl] += part
        else:
            pay[:, sl] = g.curve(x[:, sl] * g.inv_quota) * g.base
    components = _component_sums(st, x, sales_q, blocks)
    total = pay.sum(axis=1, dtype=np.float64)
    team_hit = np.zeros(st.n_teams, np.int64)
    if st.bonus_per_rep > 0:
        ok_team = st.bonus_bar[None, :] <= unit_tot[:, st.team_unit]
        team_hit = ok_team.sum(axis=0)
        total += st.bonus_per_rep * (ok_team @ st.team_size)
    return _Partial(
        first=first, company=x.sum(axis=1, dtype=np.float64), total_pay=total,
        hit=(x >= st.quota32).sum(axis=0), hit80=(x >= st.quota80).sum(axis=0),
        unit_hit=unit_ok.sum(axis=0), team_hit=team_hit, hist=hist,
        block_pay=[pay[s:e].sum(axis=0, dtype=np.float64) for _, s, e in blocks],
        block_components=components,
    )


def _component_sums(st: _Setup, x: np.ndarray, sales_q: np.ndarray | None,
                    blocks: list[tuple[int, int, int]]) -> list[dict[tuple[str, str], float]]:
    """What each scorecard component paid in each block of draws (every measure at revenue's attainment)."""
    cards = [g for g in st.groups if isinstance(g.curve, ScorecardCurve)]
    out: list[dict[tuple[str, str], float]] = [{} for _ in blocks]
    for g in cards:
        assert isinstance(g.curve, ScorecardCurve)
        sl = slice(g.start, g.stop)
        periods = [(sales_q[k][:, sl] * g.inv_quota[k], g.base[k]) for k in range(4)] \
            if g.quarterly and sales_q is not None else [(x[:, sl] * g.inv_quota, g.base)]
        for att, base in periods:
            parts = g.curve.components(dict.fromkeys(g.curve.measures, att))
            for measure, share in parts.items():
                paid = share * base
                for i, (_, s, e) in enumerate(blocks):
                    key = (g.plan, measure)
                    out[i][key] = out[i].get(key, 0.0) + float(paid[s:e].sum(dtype=np.float64))
    return out


def run_chunks(task: tuple[_Setup, list[tuple[int, int]]]) -> list[_Partial]:
    """Run several chunks of draws: one task for a process pool or a Dask worker."""
    st, spans = task
    return [_run_chunk(st, first, last) for first, last in spans]


def simulate(
    reps: pd.DataFrame,
    units: pd.DataFrame,
    plans: IncentivesConfig,
    config: SimulationConfig,
    company_target: float,
    quarter_weights: np.ndarray | None = None,
    chunk: int | None = None,
    quarter_noise: float = DEFAULT_QUARTER_NOISE,
    keep_draws: bool = True,
    executor: Executor | None = None,
    org: OrgTree | None = None,
) -> SimulationResult:
    """Simulate the plan year ``config.draws`` times.

    Parameters
    ----------
    reps : DataFrame
        ``rep_id, team_id, role, quota, capacity_p10, capacity_p50, capacity_p90``,
        optionally ``quota_q1..quota_q4``.
    units : DataFrame
        ``unit_id, parent_id, quota``: the unit tree; a unit's bookings are those of
        every rep below it.
    plans : IncentivesConfig
        Plans (first match per rep) and the team bonus.
    config : SimulationConfig
        ``draws``, ``seed`` and ``correlation``.
    company_target : float
        The company number, for P(company target met).
    quarter_weights : array_like, optional
        Seasonal quarter shares of bookings, (4,) or (reps, 4).
    chunk : int, optional
        Draws processed at once (rounded up to a multiple of the block size). The
        default keeps working arrays near 2 MB (cache-friendly). Never changes results.
    quarter_noise : float
        Log-sd of quarter shares around their expectation.
    keep_draws : bool
        Keep per-draw company totals (for charts).
    executor : Executor, optional
        Where chunks run (:mod:`quotaopt.parallel`): local threads (numpy releases the
        GIL), or a cluster's workers in groups of chunks. Default: this process, in
        order. Never changes results.
    org : OrgTree, optional
        The tree of ``units`` when the caller has built it already (built here otherwise).

    Returns
    -------
    SimulationResult
    """
    st, order = _prepare(reps, units, plans, config, quarter_weights, quarter_noise, org)
    n, draws = st.n, config.draws
    step = chunk if chunk is not None else _CHUNK_ELEMENTS // max(n, 1)
    step = max(BLOCK, -(-step // BLOCK) * BLOCK)
    hit = np.zeros(n, np.int64)
    hit80 = np.zeros(n, np.int64)
    pay_sum = np.zeros(n)
    unit_hit = np.zeros(len(units), np.int64)
    team_hit = np.zeros(st.n_teams, np.int64)
    hist = np.zeros(len(HIST_EDGES), np.int64)
    company = np.empty(draws)
    total_pay = np.empty(draws)
    spans = [(f, min(draws, f + step)) for f in range(0, draws, step)]
    component_pay: dict[tuple[str, str], float] = {}

    def merge(part: _Partial) -> None:
        nonlocal hit, hit80, unit_hit, team_hit, hist
        last = part.first + len(part.company)
        company[part.first:last] = part.company
        total_pay[part.first:last] = part.total_pay
        hit += part.hit
        hit80 += part.hit80
        unit_hit += part.unit_hit
        team_hit += part.team_hit
        hist += part.hist
        for block_sum in part.block_pay:  # block order: identical sums for any chunking
            pay_sum[:] += block_sum
        for block in part.block_components:
            for key, value in block.items():
                component_pay[key] = component_pay.get(key, 0.0) + value

    run = executor or Executor()
    if run.remote and len(spans) > 1:
        # A few contiguous groups of chunks per task: the setup travels once per task.
        size = -(-len(spans) // min(len(spans), MAX_TASKS))
        tasks = [(st, spans[i:i + size]) for i in range(0, len(spans), size)]
        for parts in run.map(run_chunks, tasks):
            for part in parts:
                merge(part)
    else:
        for part in run.map_threads(lambda span: _run_chunk(st, *span), spans):
            merge(part)
    result = _result(reps, units, st, order, config, company_target, keep_draws,
                     hit, hit80, pay_sum, unit_hit, team_hit, hist, company, total_pay)
    if component_pay:
        plans_cost: dict[str, dict[str, float]] = {}
        for (plan, measure), value in component_pay.items():
            plans_cost.setdefault(plan, {})[measure] = value / draws
        result.summary = replace(result.summary, component_cost=plans_cost)
    return result


def _result(
    reps: pd.DataFrame, units: pd.DataFrame, st: _Setup, order: np.ndarray, config: SimulationConfig,
    company_target: float, keep_draws: bool, hit: np.ndarray, hit80: np.ndarray, pay_sum: np.ndarray,
    unit_hit: np.ndarray, team_hit: np.ndarray, hist: np.ndarray, company: np.ndarray,
    total_pay: np.ndarray,
) -> SimulationResult:
    draws, n = config.draws, st.n
    exp_pay = pay_sum / draws + st.bonus_per_rep * team_hit[st.codes] / draws
    inverse = np.empty(n, np.int64)
    inverse[order] = np.arange(n)
    rep_out = pd.DataFrame({
        "rep_id": reps["rep_id"].to_numpy(),
        "p_attain": (hit / draws)[inverse],
        "expected_payout": exp_pay[inverse],
        "expected_bookings": st.curve.mean()[inverse] if n else np.zeros(0),
    })
    # A unit without a quota has no chance to report (NaN), not 0.
    unit_p = np.where(np.isnan(st.unit_quota), np.nan, unit_hit / draws)
    unit_out = pd.DataFrame({"unit_id": units["unit_id"].to_numpy(), "p_attain": unit_p})
    n_valid = max(int(st.valid.sum()), 1)
    ge100 = float(hit[st.valid].sum() / (draws * n_valid))
    ge80 = float(hit80[st.valid].sum() / (draws * n_valid))
    mean_bookings = float(company.mean())
    mean_pay = float(total_pay.mean())
    summary = SimulationFigures(
        p_company_target=float(np.mean(company >= company_target)),
        expected_payout=mean_pay,
        payout_p10=float(np.quantile(total_pay, 0.1)),
        payout_p50=float(np.quantile(total_pay, 0.5)),
        payout_p90=float(np.quantile(total_pay, 0.9)),
        expected_bookings=mean_bookings,
        cost_of_sales=mean_pay / mean_bookings if mean_bookings > 0 else float("nan"),
        share_ge_100=ge100,
        share_80_100=ge80 - ge100,
        share_lt_80=1.0 - ge80,
        draws=int(draws),
        seed=int(config.seed),
    )
    kept: dict[str, np.ndarray] = {}
    if keep_draws:
        att = company / company_target if company_target > 0 else np.full(draws, np.nan)
        kept = {"company_bookings": company, "company_attainment": att, "total_payout": total_pay}
    return SimulationResult(rep_out, unit_out, summary, kept, {"edges": HIST_EDGES.copy(), "counts": hist})
