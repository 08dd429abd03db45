"""``assignment.strict: true``: a band that cannot hold stops the plan, naming the band that would.

For each group that breaks the band, one more MILP per group finds the tightest band its
reps can all be held in (min beta with ``|P_r - t_r| <= beta t_r``, continuity and
eligibility as set). A time-limited solve gives a band that holds, perhaps not the
tightest; the message says which.
"""

from __future__ import annotations

import numpy as np

from quotaopt.allocation.backends import get_backend
from quotaopt.allocation.exceptions import LimitException
from quotaopt.allocation.problem import Builder, SolveOptions
from quotaopt.assignment._inputs import Prepared
from quotaopt.assignment._model import Groups
from quotaopt.assignment._verify import Balance
from quotaopt.errors import InfeasibleError


def tightest_band(gs: Groups, backend: str, options: SolveOptions) -> tuple[float, bool]:
    """The least band every balance rep of ``gs`` (one group) can be held in, and whether it is proven."""
    b = Builder()
    nb, npairs = gs.n_balance, int(gs.p_f.size)
    x = b.add_vars("x", npairs, 0.0, 1.0, True, 0.0)
    beta = b.add_vars("beta", 1, 0.0, np.inf, False, 1.0)
    b.add_rows("assign", int(gs.f_acc.size), gs.p_f, x, 1.0, 1.0, 1.0)
    bal = np.flatnonzero(gs.p_slot < nb)
    rows = np.concatenate([gs.p_slot[bal], np.arange(nb)])
    cols = np.concatenate([x[bal], np.full(nb, beta[0])])
    v = gs.v[gs.p_f[bal]]
    b.add_rows("above", nb, rows, cols, np.concatenate([v, -gs.t]), np.full(nb, -np.inf), gs.t - gs.fixed)
    b.add_rows("below", nb, rows, cols, np.concatenate([v, gs.t]), gs.t - gs.fixed, np.full(nb, np.inf))
    cont = np.flatnonzero(gs.p_cont >= 0)
    b.add_rows("continuity", int(gs.c_rhs.size), gs.p_cont[cont], x[cont], gs.v[gs.p_f[cont]], gs.c_rhs,
               np.full(gs.c_rhs.size, np.inf))
    solution = get_backend(backend)(b.build(), options)
    if not solution.usable or solution.x is None:
        return float("inf"), False
    return float(np.ceil(solution.x[beta[0]] * 100.0 - 1e-6) / 100.0), solution.status == "optimal"


def needed_bands(prep: Prepared, bal: Balance, gs: Groups) -> dict[str, tuple[float, bool]]:
    """Per pool whose books break the band: the tightest band that holds there, and whether it is proven."""
    cfg = prep.config
    ratio = bal.ratio(after=True)
    dev = np.abs(np.nan_to_num(ratio, nan=1.0) - 1.0)
    options = SolveOptions(time_limit=cfg.solver.time_limit, mip_gap=cfg.solver.mip_gap, threads=cfg.solver.threads)
    local = {int(g): i for i, g in enumerate(gs.gid)}
    out: dict[str, tuple[float, bool]] = {}
    for g in np.unique(prep.rep_group[dev > cfg.band + 1e-9]):
        if int(g) in local:
            need = tightest_band(gs.take(np.array([local[int(g)]])), cfg.solver.backend, options)
        else:  # nothing in this group may move: its books are what they are
            need = (float(np.ceil(dev[prep.rep_group == g].max() * 100.0 - 1e-6) / 100.0), True)
        unit = str(prep.pool_ids[g // 2])
        if need[0] > out.get(unit, (-1.0, True))[0]:
            out[unit] = need
    return out


def refuse(found: list[LimitException], bands: dict[str, tuple[float, bool]], band: float) -> InfeasibleError:
    """The exit-3 error of a strict assignment whose limits cannot all hold."""
    first = found[0]
    if first.limit == "assign_lock":
        text = f"{first.message.split(':')[0]}: unlock it (assign_lock) or give it an active owner"
        return InfeasibleError([e.message for e in found], message=text)
    need = max((v for v, _ in bands.values()), default=float("inf"))
    unit = max(bands, key=lambda u: bands[u][0]) if bands else first.unit
    proven = all(p for _, p in bands.values())
    what = "the tightest band that holds" if proven else "a band that holds"
    text = (f"team {unit}: books cannot all be held within +-{band:.0%} of their fair share; {what} everywhere "
            f"is +-{need:.0%} (assignment.band: {need:g}), or set assignment.strict: false to list exceptions")
    return InfeasibleError([e.message for e in found], message=text)
