"""Exceptions: every soft limit a plan breaks, how far, in business words.

Found from the final quotas against the scenario's own limits (not from the model), so
they say exactly what the plan does: a unit total outside its flex band, a ka share
outside ka_share, reps above (below) their stretch or max_change limits. Rep limits are
reported per pool (a unit's own reps): "team TM0507 carries 12.4M, 0.1M over what its
reps can at stretch 1.3: its reps go to stretch 1.31". Money beyond a rep's stretch
edge counts as stretch; money beyond its max_change limit but inside its stretch edge
counts as max_change (the two never count the same money twice).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from quotaopt.allocation.elastic import Layers
from quotaopt.allocation.explain import amount
from quotaopt.allocation.inputs import Prepared
from quotaopt.allocation.targets import Pools, Shares

_TOL = 1e-7


@dataclass(frozen=True)
class LimitException:
    """One soft limit the plan breaks.

    Attributes
    ----------
    unit : str or None
        The unit whose total, ka share or reps break the limit.
    rep : str or None
        The rep, for a limit broken by one rep alone (no whole multiple of ``unit`` fits).
    limit : str
        ``flex``, ``ka_share``, ``stretch_max``, ``stretch_min``, ``max_change``.
    allowed : float
        The limit as set, in its own terms: stretch 1.3, flex 0.05, ka_share 0.3, max_change 0.3.
    used : float
        What the plan uses, in the same terms: stretch 1.31, flex -0.058 (below the share),
        ka share 0.25, change +0.42 (the largest among the reps).
    amount : float
        Money beyond the limit (currency).
    reps : int
        Reps whose quota is beyond it (0 for flex and ka_share).
    message : str
        The same in business words.
    """

    unit: str | None
    rep: str | None
    limit: str
    allowed: float
    used: float
    amount: float
    reps: int
    message: str

    def record(self) -> dict[str, object]:
        """As a plain dict (summary.json)."""
        return asdict(self)


def _ratio(value: float, limit: float) -> str:
    """``value`` with enough decimals to differ from ``limit`` (1.305 vs 1.3 -> '1.305')."""
    for digits in (2, 3, 4, 6):
        if round(value, digits) != round(limit, digits):
            return f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return f"{value:g}"


def _noun(prep: Prepared, u: int) -> str:
    return f"company {prep.tree.ids[u]}" if u == 0 else f"team {prep.tree.ids[u]}"


def find_exceptions(prep: Prepared, pool: Pools, share: Shares, lay: Layers, q: np.ndarray,
                    widened: np.ndarray | None = None) -> list[LimitException]:
    """Every soft limit the quotas ``q`` (scaled units) break, largest amount first.

    Parameters
    ----------
    prep, pool, share, lay
        The problem at the scenario's limits (after :func:`widen_conflicts`) and its layers.
    q : ndarray of int64
    widened : ndarray of int, optional
        Reps whose own limits admitted no whole multiple of ``unit`` (reported one by one).
    """
    unit, tree, cfg = prep.unit, prep.tree, prep.config
    n = tree.n
    found: list[LimitException] = []
    direct = np.bincount(prep.rep_unit, weights=q.astype(float), minlength=n)
    totals = tree.subtree_sum(direct)
    has_children = share.has_children

    fixed = np.isfinite(tree.fixed)
    fixed[0] = True
    for u in map(int, np.flatnonzero(~fixed & ((totals < share.lo - 0.5) | (totals > share.hi + 0.5)))):
        below = totals[u] < share.lo[u]
        gap = (share.lo[u] - totals[u]) if below else (totals[u] - share.hi[u])
        used = totals[u] / share.unit[u] - 1.0 if share.unit[u] > 0 else float("inf")
        rest = "the rest goes to other units" if below else "taken from other units"
        text = (f"{_noun(prep, u)} carries {amount(totals[u] * unit)}, {abs(used):.1%} {'below' if below else 'above'} "
                f"its top-down share {amount(share.unit[u] * unit)}, beyond flex {cfg.flex:.0%} by "
                f"{amount(gap * unit)} ({rest})")
        found.append(LimitException(str(tree.ids[u]), None, "flex", cfg.flex, used, gap * unit, 0, text))
    inner = has_children & (pool.n_reps > 0)
    for u in map(int, np.flatnonzero(inner & ((direct < share.pool_lo - 0.5) | (direct > share.pool_hi + 0.5)))):
        below = direct[u] < share.pool_lo[u]
        gap = (share.pool_lo[u] - direct[u]) if below else (direct[u] - share.pool_hi[u])
        used = direct[u] / share.pool[u] - 1.0 if share.pool[u] > 0 else float("inf")
        text = (f"{_noun(prep, u)}'s own reps carry {amount(direct[u] * unit)}, {abs(used):.1%} "
                f"{'below' if below else 'above'} their top-down share {amount(share.pool[u] * unit)}, beyond flex "
                f"{cfg.flex:.0%} by {amount(gap * unit)}")
        found.append(LimitException(str(tree.ids[u]), None, "flex", cfg.flex, used, gap * unit, 0, text))

    if cfg.ka_share is not None:
        lo, hi = cfg.ka_share
        ka = np.bincount(prep.rep_unit, weights=np.where(prep.ka, q, 0).astype(float), minlength=n)
        frac = np.divide(ka, direct, out=np.zeros(n), where=direct > 0)
        short = np.maximum(lo * direct - ka, 0.0)
        over = np.maximum(ka - hi * direct, 0.0)
        for u in map(int, np.flatnonzero(pool.mixed & ((short > _TOL * np.maximum(direct, 1)) |
                                                       (over > _TOL * np.maximum(direct, 1))))):
            below = short[u] > over[u]
            gap = short[u] if below else over[u]
            bound = lo if below else hi
            text = (f"{_noun(prep, u)}: its ka reps carry {frac[u]:.1%} of its reps' quota, "
                    f"{'below' if below else 'above'} ka_share {'>=' if below else '<='} {bound:.0%} "
                    f"(by {amount(gap * unit)})")
            found.append(LimitException(str(tree.ids[u]), None, "ka_share", bound, float(frac[u]), gap * unit, 0,
                                        text))

    found += _rep_limits(prep, lay, q, direct, has_children, widened)
    found.sort(key=lambda e: (-e.amount, e.unit or "", e.rep or "", e.limit))
    return found


def _rep_limits(prep: Prepared, lay: Layers, q: np.ndarray, direct: np.ndarray, has_children: np.ndarray,
                widened: np.ndarray | None) -> list[LimitException]:
    """Stretch and max_change, per pool (and one by one for reps that fit no whole multiple)."""
    unit, tree, cfg = prep.unit, prep.tree, prep.config
    n = tree.n
    free = ~prep.is_locked
    alone = np.zeros(prep.n_reps, dtype=bool)
    if widened is not None:
        alone[widened] = True
    pooled = free & ~alone
    p = prep.p50
    last = np.nan_to_num(prep.last_ref, nan=0.0)
    m = cfg.max_change
    # Upwards: max_change inside the stretch edge, stretch beyond it; the same downwards.
    mc_up = np.where(pooled, np.maximum(0, np.minimum(q, lay.hi_mc) - lay.hi0), 0)
    s_up = np.where(pooled, np.maximum(0, q - lay.hi_mc), 0)
    mc_dn = np.where(pooled, np.maximum(0, lay.lo0 - np.maximum(q, lay.lo_mc)), 0)
    s_dn = np.where(pooled, np.maximum(0, lay.lo_mc - q), 0)
    out: list[LimitException] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        change = np.where(last > 0, q / np.where(last > 0, last, 1.0) - 1.0, np.nan)
    stretch = q / p
    n_free = np.bincount(prep.rep_unit, weights=pooled.astype(float), minlength=n)
    specs = ((s_up, "stretch_max", cfg.stretch[1], True), (mc_up, "max_change", m, True),
             (s_dn, "stretch_min", cfg.stretch[0], False), (mc_dn, "max_change", m, False))
    for money, limit, allowed, upward in specs:
        hit = money > 0
        if not hit.any():
            continue
        total = np.bincount(prep.rep_unit, weights=money.astype(float), minlength=n)
        count = np.bincount(prep.rep_unit, weights=hit.astype(float), minlength=n)
        values = stretch if limit != "max_change" else change
        worst = np.full(n, -np.inf if upward else np.inf)
        (np.maximum if upward else np.minimum).at(worst, prep.rep_unit[hit], values[hit])
        for u in map(int, np.flatnonzero(total > 0)):
            k = int(round(count[u]))
            every = k == int(round(n_free[u]))
            who = ("its rep" if k == 1 else "its reps") if every else f"{k} of its reps"
            go = "goes" if k == 1 else "go"
            carry = f"{_noun(prep, u)}{chr(39) + 's own reps carry' if has_children[u] else ' carries'}"
            gap = amount(total[u] * unit)
            if limit == "max_change":
                assert allowed is not None
                text = (f"{_noun(prep, u)}: {who} {go} {'beyond' if upward else 'below'} max_change {allowed:.0%} "
                        f"(to {worst[u]:+.0%} on last quota), {gap} {'over' if upward else 'under'} what it allows")
            elif upward:
                assert allowed is not None
                text = (f"{carry} {amount(direct[u] * unit)}, {gap} over what its reps can at stretch "
                        f"{allowed:g}: {who} {go} to stretch {_ratio(worst[u], allowed)}")
            else:
                assert allowed is not None
                text = (f"{carry} {amount(direct[u] * unit)}, {gap} under what its reps must at stretch "
                        f"{allowed:g}: {who} {go} down to stretch {_ratio(worst[u], allowed)}")
            out.append(LimitException(str(tree.ids[u]), None, limit, float(allowed or 0.0), float(worst[u]),
                                      float(total[u] * unit), k, text))
    for i in map(int, np.flatnonzero(alone & free)):
        s_lo, s_hi = cfg.stretch
        up = q[i] > s_hi * p[i]
        allowed = s_hi if up else s_lo
        edge = s_hi * p[i] if up else s_lo * p[i]
        text = (f"rep {prep.rep_ids[i]} (team {tree.ids[prep.rep_unit[i]]}): no whole multiple of {amount(unit)} "
                f"lies within stretch {s_lo:g}-{s_hi:g} of its P50 {amount(p[i] * unit)}: quota "
                f"{amount(q[i] * unit)}, stretch {_ratio(stretch[i], allowed)}")
        out.append(LimitException(str(tree.ids[prep.rep_unit[i]]), str(prep.rep_ids[i]),
                                  "stretch_max" if up else "stretch_min", allowed, float(stretch[i]),
                                  float(abs(q[i] - edge) * unit), 1, text))
    return out
