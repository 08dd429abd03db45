"""The assignment MILP of each group, built in bulk and held as solver-independent arrays.

For a group (one pool's accounts of one tier and the reps eligible for them) with free
accounts a, reps r and candidate pairs (a, r) (the reps of the tier's class, plus the
account's own owner), in money divided by the group's mean account potential:

- ``x[a, r]`` binary, ``sum_r x[a, r] = 1`` for every free account;
- book ``P_r = fixed_r + sum_a v_a x[a, r]`` against the fair share ``t_r`` (fte x ramp share
  of the group's potential): ``e_r >= |P_r - t_r| - tau_r`` (``tau_r`` = :data:`BALANCED` x
  ``t_r``: closer counts as balanced) at weight :data:`W_IN`, and the band: ``o_r >= P_r -
  (1 + band) t_r``, ``u_r >= (1 - band) t_r - P_r`` at :data:`W_OUT` more;
- the same for the number of accounts within ``workload_band`` (``ow_r``, ``uw_r``), each
  account beyond it priced like the group's median account beyond the band;
- continuity: ``sum_{a owned by r} v_a x[a, r] >= (1 - max_moved) V_r`` (hard; staying
  put always meets it), and ``move_penalty x revenue_a + MOVE_FLOOR x v_a`` on each pair
  that takes an owned account from its owner;
- priority (weighted mode): ``weight x v_a x (1 - score_r)`` on each pair that gives an
  account without an active owner of tier ka to rep r (0 for the top seller).

Every cost is >= 0, so gaps are relative to a meaningful objective.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import pandas as pd

from quotaopt.allocation.problem import Builder, Problem
from quotaopt.assignment._inputs import OWNED, Prepared

#: A unit of potential off a fair share (beyond the balanced zone) costs 1.
W_IN = 1.0
#: Beyond the band it costs this much more.
W_OUT = 2.0
#: A book within this share of its fair share counts as balanced (no cost).
BALANCED = 0.02
#: An owned account moves only if it buys at least this share of its potential in balance,
#: so an account without revenue does not move for nothing.
MOVE_FLOOR = 0.01


@dataclass(frozen=True)
class Groups:
    """The models of a set of groups, in arrays with local numbering (see the module docstring).

    Money is scaled per group (``scale``). Balance reps ``b``, free accounts ``f``, pairs
    ``p`` (sorted by group, then account) and continuity rows ``c`` each carry their local
    group; ``p_slot`` is the pair's balance rep, or ``n_balance + guest`` for an owner who
    holds an account outside their own tier (no balance rows, continuity only).
    """

    gid: np.ndarray
    scale: np.ndarray
    b_rep: np.ndarray
    b_group: np.ndarray
    t: np.ndarray
    tau: np.ndarray
    band_lo: np.ndarray
    band_hi: np.ndarray
    fixed: np.ndarray
    n_lo: np.ndarray
    n_hi: np.ndarray
    n_fixed: np.ndarray
    w_work: np.ndarray
    guest_rep: np.ndarray
    guest_group: np.ndarray
    f_acc: np.ndarray
    f_group: np.ndarray
    v: np.ndarray
    p_f: np.ndarray
    p_slot: np.ndarray
    p_rep: np.ndarray
    p_move: np.ndarray
    p_prio: np.ndarray
    p_home: np.ndarray
    p_cont: np.ndarray
    c_group: np.ndarray
    c_rep: np.ndarray
    c_rhs: np.ndarray

    @property
    def n_groups(self) -> int:
        return int(self.gid.size)

    @property
    def n_balance(self) -> int:
        return int(self.b_rep.size)

    @property
    def n_slots(self) -> int:
        return int(self.b_rep.size + self.guest_rep.size)

    @property
    def slot_group(self) -> np.ndarray:
        return np.concatenate([self.b_group, self.guest_group])

    def take(self, groups: np.ndarray) -> Groups:
        """These local groups only, renumbered 0..len(groups)-1 in ascending order."""
        groups = np.sort(np.asarray(groups, dtype=np.int64))
        new = np.full(self.n_groups, -1, dtype=np.int64)
        new[groups] = np.arange(groups.size)
        keep = {"group": np.zeros(self.n_groups, dtype=bool), "balance": new[self.b_group] >= 0,
                "guest": new[self.guest_group] >= 0, "free": new[self.f_group] >= 0}
        keep["group"][groups] = True
        keep["pair"] = keep["free"][self.p_f]
        keep["cont"] = new[self.c_group] >= 0
        slots = np.concatenate([keep["balance"], keep["guest"]])
        slot_map = np.where(slots, np.cumsum(slots) - 1, -1)
        f_map = np.cumsum(keep["free"]) - 1
        c_map = np.where(keep["cont"], np.cumsum(keep["cont"]) - 1, -1)
        out = {f.name: getattr(self, f.name)[keep[_FAMILY[f.name]]] for f in fields(self)}
        if groups.size:
            out["gid"], out["scale"] = self.gid[groups], self.scale[groups]
        cont = out["p_cont"]
        out.update(b_group=new[out["b_group"]], guest_group=new[out["guest_group"]], f_group=new[out["f_group"]],
                   c_group=new[out["c_group"]], p_f=f_map[out["p_f"]], p_slot=slot_map[out["p_slot"]],
                   p_cont=_remap(cont, c_map))
        return Groups(**out)


def _remap(index: np.ndarray, mapping: np.ndarray) -> np.ndarray:
    """``mapping[index]`` where ``index >= 0``, -1 elsewhere (also when ``mapping`` is empty)."""
    out = np.full(index.shape, -1, dtype=np.int64)
    hit = index >= 0
    out[hit] = mapping[index[hit]]
    return out


#: Which index each field of :class:`Groups` runs over.
_FAMILY = {
    "gid": "group", "scale": "group", **{k: "balance" for k in ("b_rep", "b_group", "t", "tau", "band_lo", "band_hi",
                                                                "fixed", "n_lo", "n_hi", "n_fixed", "w_work")},
    "guest_rep": "guest", "guest_group": "guest", "f_acc": "free", "f_group": "free", "v": "free",
    **{k: "pair" for k in ("p_f", "p_slot", "p_rep", "p_move", "p_prio", "p_home", "p_cont")},
    "c_group": "cont", "c_rep": "cont", "c_rhs": "cont",
}


def _group_sums(group: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(group, weights=values, minlength=n)


def build_groups(prep: Prepared) -> Groups:
    """Every group with at least one free account, in group order (see :class:`Groups`)."""
    cfg = prep.config
    n_groups = 2 * prep.pool_ids.size
    a_group, r_group = prep.acc_group, prep.rep_group
    home, free = prep.acc_home, prep.acc_free
    home_class = np.where(home >= 0, prep.rep_ka[np.maximum(home, 0)], False)
    # An account fixed to an owner of the other class is no part of its tier's group.
    counted = ~(~free & (home >= 0) & (home_class != prep.acc_ka))
    total = _group_sums(a_group[counted], prep.acc_pot[counted], n_groups)
    count = _group_sums(a_group[counted], np.ones(int(counted.sum())), n_groups)
    weight = prep.rep_weight
    w_sum = _group_sums(r_group, weight, n_groups)
    size = _group_sums(r_group, np.ones(prep.n_reps), n_groups)
    share = np.where(w_sum[r_group] > 0, weight / np.where(w_sum[r_group] > 0, w_sum[r_group], 1.0),
                     1.0 / np.maximum(size[r_group], 1.0))
    in_class = (home >= 0) & (home_class == prep.acc_ka)
    fixed_here = ~free & in_class
    fixed = np.bincount(home[fixed_here], weights=prep.acc_pot[fixed_here], minlength=prep.n_reps)
    n_fixed = np.bincount(home[fixed_here], minlength=prep.n_reps).astype(float)

    active = np.unique(a_group[free])
    gmap = np.full(n_groups, -1, dtype=np.int64)
    gmap[active] = np.arange(active.size)
    pot_sum = _group_sums(a_group, prep.acc_pot, n_groups)
    n_all = np.bincount(a_group, minlength=n_groups)
    scale = np.where(pot_sum > 0, pot_sum / np.maximum(n_all, 1), 1.0)[active]
    median = (pd.Series(prep.acc_pot).groupby(a_group).median().reindex(active).to_numpy(dtype=float) / scale
              if active.size else np.zeros(0))

    # Balance reps: the reps of each active group's class.
    b_rep = np.flatnonzero(gmap[r_group] >= 0)
    b_rep = b_rep[np.argsort(gmap[r_group[b_rep]], kind="stable")]
    b_group = gmap[r_group[b_rep]]
    s = scale[b_group]
    t = share[b_rep] * total[r_group[b_rep]] / s
    band = cfg.band
    nt = share[b_rep] * count[r_group[b_rep]]
    wb = cfg.workload_band
    n_lo = (1.0 - wb) * nt if wb is not None else np.full(b_rep.size, -np.inf)
    n_hi = (1.0 + wb) * nt if wb is not None else np.full(b_rep.size, np.inf)

    # Free accounts and their candidates: the group's reps, and their own owner from the other class.
    f_acc = np.flatnonzero(free)
    f_acc = f_acc[np.argsort(gmap[a_group[f_acc]], kind="stable")]
    f_group = gmap[a_group[f_acc]]
    v = prep.acc_pot[f_acc] / scale[f_group]
    b_start = np.searchsorted(b_group, np.arange(active.size))
    b_count = np.bincount(b_group, minlength=active.size)
    per = b_count[f_group]
    p_f = np.repeat(np.arange(f_acc.size), per)
    offset = np.arange(p_f.size) - np.repeat(np.cumsum(per) - per, per)
    p_slot = b_start[f_group][p_f] + offset
    f_home = home[f_acc]
    guest = np.flatnonzero((f_home >= 0) & (home_class[f_acc] != prep.acc_ka[f_acc]))
    guest_keys = f_group[guest] * (prep.n_reps + 1) + f_home[guest]
    guest_unique, guest_index = np.unique(guest_keys, return_inverse=True)
    guest_rep = guest_unique % (prep.n_reps + 1)
    guest_group = guest_unique // (prep.n_reps + 1)
    p_f = np.concatenate([p_f, guest])
    p_slot = np.concatenate([p_slot, b_rep.size + guest_index])
    order = np.lexsort((p_slot, p_f))
    p_f, p_slot = p_f[order], p_slot[order]
    slot_rep = np.concatenate([b_rep, guest_rep])
    p_rep = slot_rep[p_slot]
    acc = f_acc[p_f]
    p_home = p_rep == home[acc]
    g_scale = scale[f_group[p_f]]
    owned = home[acc] >= 0
    p_move = np.where(owned & ~p_home, (cfg.move_penalty * prep.acc_rev[acc] + MOVE_FLOOR * prep.acc_pot[acc])
                      / g_scale, 0.0)
    orphan_key = (prep.acc_origin[acc] != OWNED) & prep.acc_ka[acc]
    p_prio = np.where(orphan_key, cfg.priority.weight * v[p_f] * (1.0 - prep.rep_score[p_rep]), 0.0)

    # Continuity: per (owner, group) with a free account of theirs, when max_moved < 1.
    c_keys = np.zeros(0, dtype=np.int64)
    c_rhs: np.ndarray = np.zeros(0)
    p_cont = np.full(p_f.size, -1, dtype=np.int64)
    if cfg.max_moved < 1.0 and owned.any():
        own = home >= 0
        keys_all = a_group[own] * (prep.n_reps + 1) + home[own]
        booked = np.unique(keys_all)
        book = np.bincount(np.searchsorted(booked, keys_all), weights=prep.acc_pot[own], minlength=booked.size)
        stay = own & ~free
        keep = np.bincount(np.searchsorted(booked, a_group[stay] * (prep.n_reps + 1) + home[stay]),
                           weights=prep.acc_pot[stay], minlength=booked.size)
        home_pairs = np.flatnonzero(p_home)
        key = a_group[acc[home_pairs]] * (prep.n_reps + 1) + home[acc[home_pairs]]
        c_keys, c_index = np.unique(key, return_inverse=True)
        j = np.searchsorted(booked, c_keys)
        c_rhs = ((1.0 - cfg.max_moved) * book[j] - keep[j])
        c_group_g = c_keys // (prep.n_reps + 1)
        c_rhs = c_rhs / scale[gmap[c_group_g]]
        p_cont[home_pairs] = c_index
        binding = c_rhs > 1e-12
        p_cont = _remap(p_cont, np.where(binding, np.cumsum(binding) - 1, -1))
        c_keys, c_rhs = c_keys[binding], c_rhs[binding]
    return Groups(
        gid=active, scale=scale, b_rep=b_rep, b_group=b_group, t=t, tau=BALANCED * t,
        band_lo=(1.0 - band) * t, band_hi=(1.0 + band) * t, fixed=fixed[b_rep] / s, n_lo=n_lo, n_hi=n_hi,
        n_fixed=n_fixed[b_rep], w_work=W_OUT * median[b_group], guest_rep=guest_rep, guest_group=guest_group,
        f_acc=f_acc, f_group=f_group, v=v, p_f=p_f, p_slot=p_slot, p_rep=p_rep, p_move=p_move, p_prio=p_prio,
        p_home=p_home, p_cont=p_cont, c_group=gmap[c_keys // (prep.n_reps + 1)],
        c_rep=c_keys % (prep.n_reps + 1), c_rhs=c_rhs)


def _define_large_account_cuts(b: Builder, gs: Groups, bal: np.ndarray, x: np.ndarray, slack: np.ndarray,
                               edge: np.ndarray) -> None:
    """``slack_r >= (floor_r + v_a - edge_r) x[a, r]`` for every account too large for rep r's room.

    ``floor_r`` is what r holds whatever happens: their fixed book, and for an account that is
    not theirs what continuity makes them keep of their own. Valid for every whole
    assignment (x = 0: slack >= 0; x = 1: ``P_r >= floor_r + v_a``) and stronger than the
    book row for fractional x: without it the relaxation splits an account larger than a
    fair share between reps and claims a balance no whole assignment reaches (measured: a
    bound of 0.003 against an optimum of 81.7 on a team with one such account; 32.7 with
    the fixed book alone, 80.9 with what continuity keeps).
    """
    rep = gs.p_slot[bal]
    k = _floor(gs, bal) + gs.v[gs.p_f[bal]] - edge[rep]
    big = np.flatnonzero(k > 1e-9)
    n = big.size
    b.add_rows("large_account", n, np.concatenate([np.arange(n), np.arange(n)]),
               np.concatenate([slack[rep[big]], x[bal[big]]]), np.concatenate([np.ones(n), -k[big]]),
               np.zeros(n), np.full(n, np.inf))


def _floor(gs: Groups, bal: np.ndarray) -> np.ndarray:
    """What the rep of each balance pair ``bal`` holds whatever happens, when they take its account.

    Their fixed book, and for an account that is not theirs what continuity makes them
    keep of their own.
    """
    rep = gs.p_slot[bal]
    keeps = np.zeros(gs.n_balance)
    key_b = gs.b_group * (gs.b_rep.max(initial=0) + 1) + gs.b_rep
    key_c = gs.c_group * (gs.b_rep.max(initial=0) + 1) + gs.c_rep
    hit = np.isin(key_b, key_c)
    order = np.argsort(key_c)
    keeps[hit] = gs.c_rhs[order][np.searchsorted(key_c[order], key_b[hit])]
    return np.asarray(gs.fixed[rep] + np.where(gs.p_home[bal], 0.0, keeps[rep]))


def _define_group_cuts(b: Builder, gs: Groups, bal: np.ndarray, x: np.ndarray, e: np.ndarray, o: np.ndarray,
                       u: np.ndarray) -> None:
    """Per large account: what its taker's excess leaves the others short of, summed over the group.

    Books of a group add up to at most its potential (an account that stays with a guest
    owner counts in no book), so whatever rep r's book holds beyond their fair share the
    others lack together. When rep r takes account a (``P_r >= floor_r + v_a``):

    - ``sum_s e_s >= max(k_r, 0) + max(k_r + 2 tau_r - sum_s tau_s, 0)``, ``k_r = floor_r +
      v_a - t_r - tau_r`` (r's own excess, and the others' shortfall beyond their zones);
    - ``sum_s (o_s + u_s) >= max(floor_r + v_a - hi_r, 0) + max(floor_r + v_a - T + sum_{s != r}
      lo_s, 0)`` (``T``: the group's potential; ``hi``/``lo``: the band).

    Exactly one pair of a is taken, so ``sum_s e_s >= sum_r K_r x[a, r]`` holds for every
    whole assignment (a guest's pair: 0). The per-rep cuts alone let the relaxation split
    such an account so that no rep is short: measured on a team of 3 reps with one new logo
    of twice a fair share, a bound of 54.1 against an optimum of 87.0.
    """
    if bal.size == 0:
        return
    rep = gs.p_slot[bal]
    group = gs.b_group[rep]
    held = _floor(gs, bal) + gs.v[gs.p_f[bal]]
    tau_sum = np.bincount(gs.b_group, weights=gs.tau, minlength=gs.n_groups)
    total = np.bincount(gs.b_group, weights=gs.t, minlength=gs.n_groups)
    lo_sum = np.bincount(gs.b_group, weights=gs.band_lo, minlength=gs.n_groups)
    k = held - gs.t[rep] - gs.tau[rep]
    k_e = np.maximum(k, 0.0) + np.maximum(k + 2.0 * gs.tau[rep] - tau_sum[group], 0.0)
    k_b = (np.maximum(held - gs.band_hi[rep], 0.0)
           + np.maximum(held - total[group] + lo_sum[group] - gs.band_lo[rep], 0.0))
    b_start = np.searchsorted(gs.b_group, np.arange(gs.n_groups + 1))
    for name, coef, slacks in (("group_balance", k_e, (e,)), ("group_band", k_b, (o, u))):
        big = coef > 1e-9
        accounts = np.unique(gs.p_f[bal[big]])
        if accounts.size == 0:
            continue
        row_of = np.full(gs.f_acc.size, -1, dtype=np.int64)
        row_of[accounts] = np.arange(accounts.size)
        hit = row_of[gs.p_f[bal]] >= 0
        g = gs.f_group[accounts]
        per = b_start[g + 1] - b_start[g]
        members = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per) + np.repeat(b_start[g], per)
        rows_s = np.repeat(np.arange(accounts.size), per)
        rows = [row_of[gs.p_f[bal[hit]]]] + [rows_s] * len(slacks)
        cols = [x[bal[hit]]] + [s[members] for s in slacks]
        vals = [-coef[hit]] + [np.ones(members.size)] * len(slacks)
        b.add_rows(name, int(accounts.size), np.concatenate(rows), np.concatenate(cols), np.concatenate(vals),
                   np.zeros(accounts.size), np.full(accounts.size, np.inf))


@dataclass(frozen=True)
class Columns:
    """Where each family of columns sits in a built :class:`Problem`, and each column's local group."""

    x: np.ndarray
    e: np.ndarray
    o: np.ndarray
    u: np.ndarray
    ow: np.ndarray
    uw: np.ndarray
    col_group: np.ndarray


def build_problem(gs: Groups, priority: bool) -> tuple[Problem, Columns]:
    """The block-diagonal MILP of every group in ``gs`` (one block per group).

    ``priority``: include the priority costs (weighted mode); without, the objective is
    balance and continuity only (the first stage of lexicographic mode).
    """
    b = Builder()
    nb, nf, npairs = gs.n_balance, int(gs.f_acc.size), int(gs.p_f.size)
    cost = gs.p_move + (gs.p_prio if priority else 0.0)
    x = b.add_vars("x", npairs, 0.0, 1.0, True, cost)
    e = b.add_vars("e", nb, 0.0, np.inf, False, W_IN)
    o = b.add_vars("o", nb, 0.0, np.inf, False, W_OUT)
    u = b.add_vars("u", nb, 0.0, np.inf, False, W_OUT)
    work = np.isfinite(gs.n_hi)
    ow = b.add_vars("ow", nb, 0.0, np.where(work, np.inf, 0.0), False, gs.w_work)
    uw = b.add_vars("uw", nb, 0.0, np.where(work, np.inf, 0.0), False, gs.w_work)
    b.add_rows("assign", nf, gs.p_f, x, 1.0, 1.0, 1.0)
    bal = np.flatnonzero(gs.p_slot < nb)
    rows_x, cols_x, vals_x = gs.p_slot[bal], x[bal], gs.v[gs.p_f[bal]]
    reps = np.arange(nb)

    def rows(name: str, slack: np.ndarray, sign: float, lo: np.ndarray, hi: np.ndarray, by_count: bool = False) -> None:
        vals = np.ones(bal.size) if by_count else vals_x
        b.add_rows(name, nb, np.concatenate([rows_x, reps]), np.concatenate([cols_x, slack]),
                   np.concatenate([vals, np.full(nb, sign)]), lo, hi)

    rows("balance_above", e, -1.0, np.full(nb, -np.inf), gs.t + gs.tau - gs.fixed)
    rows("balance_below", e, 1.0, gs.t - gs.tau - gs.fixed, np.full(nb, np.inf))
    rows("band_above", o, -1.0, np.full(nb, -np.inf), gs.band_hi - gs.fixed)
    rows("band_below", u, 1.0, gs.band_lo - gs.fixed, np.full(nb, np.inf))
    rows("work_above", ow, -1.0, np.full(nb, -np.inf), np.where(work, gs.n_hi - gs.n_fixed, np.inf), True)
    rows("work_below", uw, 1.0, np.where(work, gs.n_lo - gs.n_fixed, -np.inf), np.full(nb, np.inf), True)
    cont = np.flatnonzero(gs.p_cont >= 0)
    b.add_rows("continuity", int(gs.c_rhs.size), gs.p_cont[cont], x[cont], gs.v[gs.p_f[cont]], gs.c_rhs,
               np.full(gs.c_rhs.size, np.inf))
    _define_large_account_cuts(b, gs, bal, x, e, gs.t + gs.tau)
    _define_large_account_cuts(b, gs, bal, x, o, gs.band_hi)
    _define_group_cuts(b, gs, bal, x, e, o, u)
    problem = b.build()
    col_group = np.concatenate([gs.f_group[gs.p_f], *([gs.b_group] * 5)])
    return problem, Columns(x, e, o, u, ow, uw, col_group)


def start_point(gs: Groups, cols: Columns, n_vars: int, choice: np.ndarray) -> np.ndarray:
    """The columns of :func:`build_problem` at a whole assignment ``choice`` (one pair per free account).

    Slacks at their least: the point is feasible wherever ``choice`` keeps continuity (every
    cut holds at any whole assignment), and its objective is the exact cost of ``choice``.
    """
    slot = gs.p_slot[choice]
    bal = slot < gs.n_balance
    P = gs.fixed + np.bincount(slot[bal], weights=gs.v[bal], minlength=gs.n_balance)
    n = gs.n_fixed + np.bincount(slot[bal], minlength=gs.n_balance)
    work = np.isfinite(gs.n_hi)
    x = np.zeros(n_vars)
    x[cols.x[choice]] = 1.0
    x[cols.e] = np.maximum(np.abs(P - gs.t) - gs.tau, 0.0)
    x[cols.o] = np.maximum(P - gs.band_hi, 0.0)
    x[cols.u] = np.maximum(gs.band_lo - P, 0.0)
    x[cols.ow] = np.where(work, np.maximum(n - np.where(work, gs.n_hi, 0.0), 0.0), 0.0)
    x[cols.uw] = np.where(work, np.maximum(np.where(work, gs.n_lo, 0.0) - n, 0.0), 0.0)
    return x
