"""Whole assignments from the LP relaxation: rounding, then moves and swaps that lower the cost.

The relaxation of a group's MILP is tight (its bound is within a fraction of an account of
the optimum) but its vertex splits a few accounts between reps. Rounding each split account
to its owner when the owner holds part of it (so continuity still holds) and otherwise to
the rep holding most of it gives a feasible assignment; a best-improvement local search
(move one account, or swap two between reps) then removes most of what rounding cost. The
result is checked against the relaxation's bound: where it is within the MIP gap it is
kept, otherwise the group is solved as a MILP by the backend (:mod:`._solve`).
"""

from __future__ import annotations

import numpy as np

from quotaopt.assignment._model import W_IN, W_OUT, Groups

_EPS = 1e-9
#: Most improving steps per group (a group rarely needs more than a few per rep).
MAX_STEPS = 400


def rep_cost(gs: Groups, P: np.ndarray, n: np.ndarray, idx: np.ndarray | slice = slice(None)) -> np.ndarray:
    """Balance and workload cost of balance reps ``idx`` holding potential ``P`` and ``n`` accounts."""
    t, tau = gs.t[idx], gs.tau[idx]
    with np.errstate(invalid="ignore"):
        cost = (W_IN * np.maximum(np.abs(P - t) - tau, 0.0)
                + W_OUT * (np.maximum(P - gs.band_hi[idx], 0.0) + np.maximum(gs.band_lo[idx] - P, 0.0))
                + gs.w_work[idx] * (np.maximum(n - gs.n_hi[idx], 0.0) + np.maximum(gs.n_lo[idx] - n, 0.0)))
    return np.asarray(np.nan_to_num(cost, nan=0.0))


def books(gs: Groups, choice: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Potential and count per balance rep under ``choice`` (one pair per free account)."""
    slot = gs.p_slot[choice]
    bal = slot < gs.n_balance
    P = gs.fixed + np.bincount(slot[bal], weights=gs.v[bal], minlength=gs.n_balance)
    n = gs.n_fixed + np.bincount(slot[bal], minlength=gs.n_balance)
    return P, n


def objective(gs: Groups, choice: np.ndarray, pair_cost: np.ndarray) -> np.ndarray:
    """Each group's exact MILP objective under ``choice``."""
    P, n = books(gs, choice)
    by_rep = np.bincount(gs.b_group, weights=rep_cost(gs, P, n), minlength=gs.n_groups)
    return by_rep + np.bincount(gs.f_group, weights=pair_cost[choice], minlength=gs.n_groups)


def round_relaxation(gs: Groups, x: np.ndarray) -> np.ndarray:
    """One pair per free account from fractional ``x``: the owner's where it holds any, else the largest."""
    key = x + 2.0 * (gs.p_home & (x > 1e-6))
    order = np.lexsort((-key, gs.p_f))  # by account, best key first (pairs are grouped by account)
    first = np.flatnonzero(np.r_[True, np.diff(gs.p_f[order]) != 0])
    return order[first]


def repair(gs: Groups, x: np.ndarray, choice: np.ndarray, pair_cost: np.ndarray) -> np.ndarray:
    """Re-place every account the relaxation split, largest of its group first, greedily.

    Rounding each split account to its owner or its largest part shifts books by up to half
    an account each, blindly. Here every split account goes, in turn from the largest of
    its group, to the rep among those the relaxation gave part of it to whose cost rises
    least given the books so far. The k-th account of every group is placed at once
    (groups share no rep), so the loop runs over ranks, not accounts. Continuity holds: an
    account leaves its owner only while what the owner keeps (counting the split accounts
    not yet placed as staying, as rounding left them) stays above the row's floor.
    """
    split = x[choice] < 1.0 - 1e-6
    if not split.any():
        return choice
    choice = choice.copy()
    slot = gs.p_slot[choice]
    counted = ~split & (slot < gs.n_balance)
    P = gs.fixed + np.bincount(slot[counted], weights=gs.v[counted], minlength=gs.n_balance).astype(float)
    n = gs.n_fixed + np.bincount(slot[counted], minlength=gs.n_balance).astype(float)
    held = gs.p_cont[choice] >= 0
    kept = np.bincount(gs.p_cont[choice][held], weights=gs.v[held], minlength=gs.c_rhs.size).astype(float)
    f = np.flatnonzero(split)
    f = f[np.lexsort((-gs.v[f], gs.f_group[f]))]
    rank = np.arange(f.size) - np.searchsorted(gs.f_group[f], gs.f_group[f])
    rank_of = np.full(gs.f_acc.size, -1)
    rank_of[f] = rank
    pair_rank = rank_of[gs.p_f]
    support = (x > 1e-6) | gs.p_home
    for k in range(int(rank.max()) + 1):
        pairs = np.flatnonzero(support & (pair_rank == k))
        if pairs.size == 0:  # a group whose relaxation failed: its accounts stay as they are
            continue
        acc = gs.p_f[pairs]
        s, v = gs.p_slot[pairs], gs.v[acc]
        bal = s < gs.n_balance
        rise = pair_cost[pairs].copy()
        sb = s[bal]
        rise[bal] += rep_cost(gs, P[sb] + v[bal], n[sb] + 1.0, sb) - rep_cost(gs, P[sb], n[sb], sb)
        # Leaving an owner who rounding kept it with: only while the owner keeps enough.
        was = choice[acc]
        row = gs.p_cont[was]
        leaves = (row >= 0) & (pairs != was)
        short = np.zeros(pairs.size, dtype=bool)
        short[leaves] = kept[row[leaves]] - v[leaves] < gs.c_rhs[row[leaves]] - 1e-9
        rise[short] = np.inf
        order = np.lexsort((rise, acc))
        best = order[np.r_[True, np.diff(acc[order]) != 0]]
        chosen, a = pairs[best], acc[best]
        moved = chosen != choice[a]
        out_row = gs.p_cont[choice[a]]
        lost = moved & (out_row >= 0)
        kept[out_row[lost]] -= gs.v[a[lost]]
        in_row = gs.p_cont[chosen]
        won = moved & (in_row >= 0)
        kept[in_row[won]] += gs.v[a[won]]
        choice[a] = chosen
        cs = gs.p_slot[chosen]
        into = cs < gs.n_balance
        P[cs[into]] += gs.v[a[into]]
        n[cs[into]] += 1.0
    return choice


def _starts(values: np.ndarray, n: int) -> np.ndarray:
    return np.searchsorted(values, np.arange(n + 1))


def improve(gs: Groups, choice: np.ndarray, pair_cost: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Local search on ``groups`` (local ids): best single move or swap while it lowers the cost.

    Continuity rows are kept: an account leaves its owner only while the owner keeps
    enough. Returns the improved choice (a new array).
    """
    choice = choice.copy()
    f_start = _starts(gs.f_group, gs.n_groups)
    p_start = np.searchsorted(gs.p_f, f_start)
    held = gs.p_cont[choice] >= 0
    kept = np.bincount(gs.p_cont[choice][held], weights=gs.v[gs.p_f[choice]][held], minlength=gs.c_rhs.size)
    for g in groups:
        f0, f1 = int(f_start[g]), int(f_start[g + 1])
        if f1 > f0:
            _Group(gs, choice, pair_cost, kept, int(p_start[g]), int(p_start[g + 1]), f0, f1).run()
    return choice


class _Group:
    """One group's search state: the current pair of each account, books per slot, kept per owner row.

    Each local slot carries its own cost parameters (a guest's make its cost 0 at any
    book), so a slot's cost is one expression over arrays, with no mask per call; swaps of
    accounts a (rows) with those b of one costly rep (columns) are scored as one matrix,
    and continuity is checked only on the few moves and swaps that would improve. The arithmetic is that
    of :func:`rep_cost`, term by term, so the search takes the same steps.
    """

    def __init__(self, gs: Groups, choice: np.ndarray, pair_cost: np.ndarray, kept: np.ndarray, p0: int, p1: int,
                 f0: int, f1: int) -> None:
        self.gs, self.choice, self.kept, self.p0, self.f0, self.f1 = gs, choice, kept, p0, f0, f1
        self.p_f = gs.p_f[p0:p1] - f0
        slot = gs.p_slot[p0:p1]
        self.cost = pair_cost[p0:p1]
        self.cont = gs.p_cont[p0:p1]
        self.v = gs.v[f0:f1]
        # Local slots: the group's balance reps, then its guests (owners from the other class: no balance cost).
        slots = np.unique(slot)
        self.local = np.searchsorted(slots, slot)
        self.is_bal = slots < gs.n_balance
        rep = np.where(self.is_bal, slots, 0)
        bal = self.is_bal

        def param(values: np.ndarray, guest: float) -> np.ndarray:
            return np.where(bal, values[rep], guest)

        inf = np.inf
        self.t, self.tau = param(gs.t, 0.0), param(gs.tau, inf)
        self.hi, self.lo = param(gs.band_hi, inf), param(gs.band_lo, -inf)
        self.w, self.n_hi, self.n_lo = param(gs.w_work, 0.0), param(gs.n_hi, inf), param(gs.n_lo, -inf)
        self.cur = choice[f0:f1] - p0
        n_slots = slots.size
        self.P = np.where(bal, gs.fixed[rep], 0.0)
        self.n = np.where(bal, gs.n_fixed[rep], 0.0)
        s = self.local[self.cur]
        np.add.at(self.P, s, np.where(bal[s], self.v, 0.0))
        np.add.at(self.n, s, np.where(bal[s], 1.0, 0.0))
        self.table = np.full((f1 - f0, n_slots), -1, dtype=np.int64)  # pair of (account, slot)
        self.table[self.p_f, self.local] = np.arange(self.p_f.size)

    def slot_cost(self, s: np.ndarray, P: np.ndarray, n: np.ndarray) -> np.ndarray:
        """The cost of slots ``s`` (any shape, broadcast with ``P`` and ``n``) holding ``P`` and ``n``."""
        with np.errstate(invalid="ignore"):
            return np.asarray(W_IN * np.maximum(np.abs(P - self.t[s]) - self.tau[s], 0.0)
                              + W_OUT * (np.maximum(P - self.hi[s], 0.0) + np.maximum(self.lo[s] - P, 0.0))
                              + self.w[s] * (np.maximum(n - self.n_hi[s], 0.0) + np.maximum(self.n_lo[s] - n, 0.0)))

    def run(self) -> None:
        slots = np.arange(self.P.size)
        for _ in range(MAX_STEPS):
            base = self.slot_cost(slots, self.P, self.n)
            if not (self._move(base) or self._swap(base)):
                break
        self.choice[self.f0:self.f1] = self.cur + self.p0

    def _apply(self, pair: int) -> None:
        account = int(self.p_f[pair])
        old = int(self.cur[account])
        for p, sign in ((old, -1.0), (pair, 1.0)):
            s = self.local[p]
            if self.is_bal[s]:
                self.P[s] += sign * self.v[account]
                self.n[s] += sign
            if self.cont[p] >= 0:
                self.kept[self.cont[p]] += sign * self.v[account]
        self.cur[account] = pair

    def _holds(self, row: np.ndarray, change: np.ndarray) -> np.ndarray:
        """Continuity row ``row`` (-1: none) still holds after ``change`` to what its owner keeps."""
        out = row < 0
        has = ~out
        if has.any():
            r = row[has]
            out[has] = self.kept[r] + change[has] >= self.gs.c_rhs[r] - _EPS
        return out

    def _move(self, base: np.ndarray) -> bool:
        """The best single move of one account to another slot, if it lowers the cost."""
        old = self.cur[self.p_f]
        s1, s2 = self.local[old], self.local
        va = self.v[self.p_f]
        b1, b2 = self.is_bal[s1].astype(float), self.is_bal[s2].astype(float)
        delta = (self.slot_cost(s1, self.P[s1] - b1 * va, self.n[s1] - b1) - base[s1]
                 + self.slot_cost(s2, self.P[s2] + b2 * va, self.n[s2] + b2) - base[s2] + self.cost - self.cost[old])
        # Continuity only where the move would pay: the rest cannot be the best either way.
        cand = np.flatnonzero((delta < -_EPS) & (s1 != s2))
        if cand.size == 0:
            return False
        cand = cand[self._holds(self.cont[old[cand]], -va[cand])]
        if cand.size == 0:
            return False
        self._apply(int(cand[np.argmin(delta[cand])]))
        return True

    def _swap(self, base: np.ndarray) -> bool:
        """The best swap of an account of the costliest rep that has one with another rep (counts stay).

        Reps are tried from the costliest down and the first that has an improving swap
        takes its best: a full scan of every pair of accounts per step cost 5x more time
        (measured: 6.1 of 7.2 s of the search at 1,000 reps) for the same end result.
        """
        slot_of = self.local[self.cur]
        a_idx = np.flatnonzero(self.is_bal[slot_of])
        for hot in np.argsort(-base, kind="stable"):
            if not base[hot] > _EPS:  # a swap can only help where a rep has a cost
                return False
            b_idx = a_idx[slot_of[a_idx] == hot]
            if b_idx.size and self._swap_with(base, slot_of, a_idx, b_idx):
                return True
        return False

    def _swap_with(self, base: np.ndarray, slot_of: np.ndarray, a_idx: np.ndarray, b_idx: np.ndarray) -> bool:
        """The best improving swap of an account in ``a_idx`` (rows, slot ``s1``) with one in ``b_idx`` (columns).

        Scored as one matrix, row by row as the search always broke ties; continuity is
        checked on the improving swaps only (the others cannot be taken either way).
        """
        A, B = a_idx, b_idx
        s1, s2 = slot_of[A][:, None], slot_of[B][None, :]
        pa, pb = self.table[A[:, None], s2], self.table[B[None, :], s1]
        va, vb = self.v[A][:, None], self.v[B][None, :]
        delta = (self.slot_cost(s1, self.P[s1] - va + vb, self.n[s1]) - base[s1]
                 + self.slot_cost(s2, self.P[s2] + va - vb, self.n[s2]) - base[s2]
                 + self.cost[pa] + self.cost[pb] - self.cost[self.cur[A]][:, None] - self.cost[self.cur[B]][None, :])
        delta[(s1 == s2) | (pa < 0) | (pb < 0)] = np.inf
        cand = np.flatnonzero(delta < -_EPS)  # in row-major order, the order argmin breaks ties in
        if cand.size == 0:
            return False
        i, j = np.divmod(cand, B.size)
        a, b = A[i], B[j]
        oa, ob, qa, qb = self.cur[a], self.cur[b], pa[i, j], pb[i, j]
        wa, wb = self.v[a], self.v[b]
        cont = self.cont
        holds = np.ones(cand.size, dtype=bool)
        for row in (cont[oa], cont[ob]):  # rows that lose an account; what comes back counts
            change = (np.where(cont[qa] == row, wa, 0.0) + np.where(cont[qb] == row, wb, 0.0)
                      - np.where(cont[oa] == row, wa, 0.0) - np.where(cont[ob] == row, wb, 0.0))
            holds &= self._holds(row, change)
        k = np.flatnonzero(holds)
        if k.size == 0:
            return False
        best = int(k[np.argmin(delta.flat[cand[k]])])
        self._apply(int(qa[best]))
        self._apply(int(qb[best]))
        return True
