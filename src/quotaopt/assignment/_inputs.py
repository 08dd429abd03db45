"""The company as the assignment reads it: active reps, accounts, pools and groups, as arrays.

A *pool* is a planning unit (the unit a rep hangs on), or a unit named in
``assignment.pools`` with its whole subtree (``assignment.ka_pools``: for key accounts
and the reps eligible for them only). Within a pool, accounts of each tier form a
*group* with the reps eligible for that tier: key (tier ka) accounts go to reps who meet
``assignment.eligibility.ka``, long-tail accounts to the others. Groups share nothing
(``max_moved`` holds per tier of a rep's book), so each is its own model.

Everything a hard rule makes impossible is found here, before any solve: an account no
rep of its pool may take is :class:`~quotaopt.errors.InfeasibleError` naming a pool
that has one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from quotaopt.allocation.bounds import ramp_factor
from quotaopt.allocation.explain import amount
from quotaopt.company import CompanyData
from quotaopt.errors import InfeasibleError, InputError, Problem
from quotaopt.org_tree import OrgTree
from quotaopt.scenario import AllocationConfig, AssignmentConfig

#: Why an account is without an active owner (``origin``): 0 owned by an active rep.
OWNED, UNOWNED, DEPARTED, LEAVE = 0, 1, 2, 3


@dataclass(frozen=True)
class Prepared:
    """Reps, accounts and groups of one company, in arrays (reps: active only, reps.csv order).

    Attributes
    ----------
    config : AssignmentConfig
    pool_ids : ndarray of str
        Pool p's unit id.
    rep_ids, rep_team : ndarray of str
    rep_pool : ndarray of int
    rep_ka : ndarray of bool
        Eligible for key accounts (the rep's *class*).
    rep_weight : ndarray of float
        fte x ramp share of the plan year: what a fair share is proportional to.
    rep_score : ndarray of float
        Priority in [0, 1] among the key-account reps of the pool (1 = top seller).
    acc_ids : ndarray of str
    acc_pool : ndarray of int
    acc_ka : ndarray of bool
        Tier ka.
    acc_pot, acc_rev : ndarray of float
        Potential (empty = 0) and the last twelve months' net bookings (>= 0).
    acc_home : ndarray of int
        Index of the active owner among the reps, -1 without one.
    acc_origin : ndarray of int8
        :data:`OWNED`, :data:`UNOWNED`, :data:`DEPARTED` or :data:`LEAVE`.
    acc_from : ndarray of object
        rep_id in accounts.csv (None when empty).
    acc_locked : ndarray of bool
        ``assign_lock`` on an account of an active owner: it stays.
    lock_dropped : ndarray of bool
        ``assign_lock`` on an account whose owner departed or is on leave: it cannot stay.
    acc_free : ndarray of bool
        The account is a decision: unlocked, and without an active owner or in rebalance mode.
    """

    config: AssignmentConfig
    pool_ids: np.ndarray
    rep_ids: np.ndarray
    rep_team: np.ndarray
    rep_pool: np.ndarray
    rep_ka: np.ndarray
    rep_weight: np.ndarray
    rep_score: np.ndarray
    acc_ids: np.ndarray
    acc_pool: np.ndarray
    acc_ka: np.ndarray
    acc_pot: np.ndarray
    acc_rev: np.ndarray
    acc_home: np.ndarray
    acc_origin: np.ndarray
    acc_from: np.ndarray
    acc_locked: np.ndarray
    lock_dropped: np.ndarray
    acc_free: np.ndarray

    @property
    def n_reps(self) -> int:
        return int(self.rep_ids.size)

    @property
    def n_accounts(self) -> int:
        return int(self.acc_ids.size)

    @property
    def rep_group(self) -> np.ndarray:
        """Group of each rep: pool x 2 + class (1 = key accounts)."""
        return np.asarray(self.rep_pool * 2 + self.rep_ka)

    @property
    def acc_group(self) -> np.ndarray:
        """Group of each account: pool x 2 + tier (1 = ka)."""
        return np.asarray(self.acc_pool * 2 + self.acc_ka)

    def group_name(self, group: int) -> str:
        """'team TM0003 (key accounts)' for messages."""
        tier = "key accounts" if group % 2 else "long-tail accounts"
        return f"{_noun(str(self.pool_ids[group // 2]))} ({tier})"


def _noun(unit: str) -> str:
    return f"team {unit}"


def _pools(org: OrgTree, named: tuple[str, ...], label: str,
           key: str = "assignment.pools") -> tuple[dict[str, str], np.ndarray]:
    """Each unit's pool unit: the topmost named ancestor (or itself), else the unit itself."""
    unknown = [u for u in named if org.positions([u])[0] < 0]
    if unknown:
        raise InputError([Problem(label, f"unknown unit {u!r} (expected a team_id of teams.csv)", column=key)
                          for u in unknown])
    chosen = set(named)
    pool_of: dict[str, str] = {}
    for pos in np.argsort(org.rows, kind="stable").tolist():  # teams.csv's row order: the pools' order
        unit = str(org.ids[pos])
        above = [str(u) for u in org.ids[org.ancestors(pos)] if str(u) in chosen]
        pool_of[unit] = above[-1] if above else unit
    return pool_of, np.array(list(dict.fromkeys(pool_of.values())), dtype=object)


def _last_twelve_months(company: CompanyData, plan_year: int) -> pd.DataFrame:
    """Bookings of the twelve months up to the last booking before the plan year."""
    history = company.bookings[company.bookings["date"].dt.year < plan_year]
    if history.empty:
        return pd.DataFrame(history)
    last = history["date"].max()
    return pd.DataFrame(history[history["date"] > last - pd.DateOffset(years=1)])


def _eligible(reps: pd.DataFrame, cfg: AssignmentConfig, plan_year: int, label: str) -> np.ndarray:
    rules = cfg.eligibility
    ok = np.ones(len(reps), dtype=bool)
    if "role" in rules.ka:
        ok &= (reps["role"] == "ka").to_numpy()
    if "tenure" in rules.ka:
        start = pd.Timestamp(year=plan_year, month=1, day=1)
        years = (start - pd.to_datetime(reps["hire_date"])).dt.days.to_numpy(dtype=float) / 365.25
        ok &= np.nan_to_num(years, nan=np.inf) >= rules.min_tenure_years
    if "seniority" in rules.ka:
        if "seniority" not in reps.columns:
            raise InputError([Problem("reps.csv", "assignment.eligibility.ka names seniority but reps.csv has no "
                                      "seniority column", row=1, column="seniority")])
        ok &= np.nan_to_num(reps["seniority"].to_numpy(dtype=float), nan=-np.inf) >= float(rules.min_seniority or 0.0)
    return ok


def _scores(reps: pd.DataFrame, company: CompanyData, plan_year: int, cfg: AssignmentConfig,
            capacity: pd.DataFrame | None, groups: np.ndarray) -> np.ndarray:
    """Priority in [0, 1] per rep, ranked within its group: 1 for the top seller, 0 for the last."""
    if cfg.priority.by == "capacity" and capacity is not None:
        value = reps["rep_id"].map(capacity.set_index("rep_id")["capacity_p50"]).to_numpy(dtype=float)
    else:
        booked = _last_twelve_months(company, plan_year).groupby("rep_id")["amount"].sum()
        last = reps["last_quota"].to_numpy(dtype=float)
        sold = reps["rep_id"].map(booked).fillna(0.0).to_numpy(dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            value = np.where(last > 0, sold / last, np.nan)
    value = np.nan_to_num(value, nan=-np.inf)
    frame = pd.DataFrame({"g": groups, "v": value})
    # Equal values share a rank; reps without a record rank last.
    rank = frame.groupby("g")["v"].rank(method="min", ascending=False).to_numpy() - 1.0
    size = frame.groupby("g")["v"].transform("size").to_numpy(dtype=float)
    return np.where(size > 1, 1.0 - rank / np.maximum(size - 1.0, 1.0), 1.0)


def _territory_team(accounts: pd.DataFrame, owner_team: pd.Series) -> pd.Series:
    """Per territory: the unit whose owners hold most of its potential (first unit on a tie)."""
    owned = accounts.assign(team=owner_team, pot=accounts["potential"].fillna(0.0))
    owned = owned[owned["team"].notna() & owned["territory_id"].notna()]
    if owned.empty:
        return pd.Series(dtype=object)
    weight = owned.groupby(["territory_id", "team"], sort=True)["pot"].sum().reset_index()
    weight = weight.sort_values(["territory_id", "pot", "team"], ascending=[True, False, True], kind="stable")
    return weight.drop_duplicates("territory_id").set_index("territory_id")["team"]


def prepare(company: CompanyData, plan_year: int, cfg: AssignmentConfig, allocation: AllocationConfig,
            capacity: pd.DataFrame | None = None, label: str = "scenario") -> Prepared:
    """Read a company for the assignment.

    Parameters
    ----------
    company : CompanyData
        Needs accounts.csv.
    plan_year : int
    cfg : AssignmentConfig
    allocation : AllocationConfig
        Its ``ramp`` makes a new hire's fair share smaller, as it makes their quota.
    capacity : DataFrame, optional
        rep_id, capacity_p50: for ``priority.by: capacity``.
    label : str
        Where the scenario came from, for messages.

    Raises
    ------
    InputError
        No accounts.csv, an unknown pool unit, a seniority rule without the column, an
        account without owner whose unit cannot be found.
    InfeasibleError
        An account that no rep of its pool may take.
    """
    if company.accounts is None:
        raise InputError([Problem(label, "assignment needs accounts.csv in the data folder", column="assignment.mode")])
    pool_of, pool_ids = _pools(company.org, cfg.pools, label)
    # Key accounts (and the reps who may take them) may share a wider pool than the long tail.
    ka_pool_of, ka_pool_ids = _pools(company.org, (*cfg.pools, *cfg.ka_pools), label, "assignment.ka_pools")
    pool_ids = np.array(list(dict.fromkeys([*pool_ids, *ka_pool_ids])), dtype=object)
    pool_index = {u: i for i, u in enumerate(pool_ids)}
    reps = company.active_reps
    all_reps = company.reps.set_index("rep_id")
    rep_team = reps["team_id"].astype(str).to_numpy(dtype=object)
    rep_ka = _eligible(reps, cfg, plan_year, label)
    rep_pool = np.array([pool_index[(ka_pool_of if ka else pool_of)[t]] for t, ka in zip(rep_team, rep_ka, strict=True)],
                        dtype=np.int64)
    weight = reps["fte"].to_numpy(dtype=float) * ramp_factor(reps["hire_date"], plan_year, allocation.ramp)
    score = _scores(reps, company, plan_year, cfg, capacity, rep_pool * 2 + rep_ka)

    acc = company.accounts
    owner = acc["rep_id"].where(acc["rep_id"].notna(), None)
    owner_status = owner.map(all_reps["status"])
    owner_team = owner.map(all_reps["team_id"])
    team = owner_team.astype(object)
    if "team_id" in acc.columns:
        team = team.where(team.notna(), acc["team_id"].astype(object))
    team = team.where(team.notna(), acc["territory_id"].map(_territory_team(acc, owner_team)).astype(object))
    lost = np.flatnonzero(team.isna().to_numpy())
    if lost.size:
        name = next((f for f in company.files if f.startswith("accounts.")), "accounts.csv")
        first_row = 1 if name.endswith(".parquet") else 2
        raise InputError([Problem(name, f"account {acc['account_id'].iloc[i]!r} has no owner, no team_id and no "
                                  "territory_id whose unit is known: give its team_id (the unit it belongs to)",
                                  row=int(i) + first_row, column="team_id") for i in lost[:20]])
    acc_ka = (acc["tier"] == "ka").to_numpy()
    acc_pool = np.array([pool_index[(ka_pool_of if ka else pool_of)[str(t)]] for t, ka in zip(team, acc_ka, strict=True)],
                        dtype=np.int64)
    origin = np.select([owner.isna().to_numpy(), (owner_status == "departed").to_numpy(),
                        (owner_status == "leave").to_numpy()], [UNOWNED, DEPARTED, LEAVE], OWNED).astype(np.int8)
    home = pd.Index(reps["rep_id"].astype(str)).get_indexer(pd.Index(owner.fillna("").astype(str)))
    home = np.where(origin == OWNED, home, -1)
    revenue = _last_twelve_months(company, plan_year).groupby("account_id")["amount"].sum()
    rev = acc["account_id"].map(revenue).fillna(0.0).to_numpy(dtype=float)
    lock = acc["assign_lock"].to_numpy(dtype=bool) if "assign_lock" in acc.columns else np.zeros(len(acc), bool)
    locked = lock & (home >= 0)
    free = ~locked & ((origin != OWNED) | (cfg.mode == "rebalance"))
    free &= ~_immovable(home, acc["tier"].eq("ka").to_numpy(), acc["potential"].fillna(0.0).to_numpy(float),
                        cfg.max_moved, len(reps))
    prep = Prepared(
        config=cfg, pool_ids=pool_ids, rep_ids=reps["rep_id"].astype(str).to_numpy(dtype=object), rep_team=rep_team,
        rep_pool=rep_pool, rep_ka=rep_ka, rep_weight=weight, rep_score=score,
        acc_ids=acc["account_id"].astype(str).to_numpy(dtype=object), acc_pool=acc_pool,
        acc_ka=acc_ka, acc_pot=acc["potential"].fillna(0.0).to_numpy(dtype=float),
        acc_rev=np.maximum(rev, 0.0), acc_home=home.astype(np.int64), acc_origin=origin,
        acc_from=owner.to_numpy(dtype=object), acc_locked=locked, lock_dropped=lock & (home < 0), acc_free=free)
    _check_takers(prep, company.org, pool_of)
    return prep


def _immovable(home: np.ndarray, ka: np.ndarray, pot: np.ndarray, max_moved: float, n_reps: int) -> np.ndarray:
    """Owned accounts larger than what their owner may give away of that tier: they cannot move.

    Fixing them before the solve is a valid deduction (moving one alone breaks continuity)
    that the relaxation does not make: it would split such an account.
    """
    own = home >= 0
    key = np.where(own, home * 2 + ka, 0)
    book = np.bincount(key[own], weights=pot[own], minlength=2 * n_reps)
    return own & (pot > max_moved * book[key] + 1e-9 * np.maximum(book[key], 1.0))


def _check_takers(prep: Prepared, org: OrgTree, pool_of: dict[str, str]) -> None:
    """Every free account needs a rep of its pool of the matching class (or its own owner)."""
    n_groups = 2 * len(prep.pool_ids)
    takers = np.bincount(prep.rep_group, minlength=n_groups)
    orphan = prep.acc_free & (takers[prep.acc_group] == 0) & (prep.acc_home < 0)
    if not orphan.any():
        return
    reasons = []
    for g in np.unique(prep.acc_group[orphan]):
        mask = orphan & (prep.acc_group == g)
        pool = str(prep.pool_ids[g // 2])
        tier = "key" if g % 2 else "long-tail"
        rule = ("eligible for key accounts (assignment.eligibility.ka: [" + ", ".join(prep.config.eligibility.ka) + "])"
                if g % 2 else "for long-tail accounts (one not eligible for key accounts)")
        wider = _wider_pool(prep, pool, org, bool(g % 2))
        fix = (f"assignment.{'ka_pools' if g % 2 else 'pools'}: [{wider}] would let its reps take them" if wider else
               "no unit above it has one either: make a rep eligible")
        reasons.append(f"{_noun(pool)}: {int(mask.sum())} {tier} account(s) without an active owner "
                       f"({_money(float(prep.acc_pot[mask].sum()))} of potential) and no active rep {rule}; {fix}")
    raise InfeasibleError(reasons, message=reasons[0] + (f" (and {len(reasons) - 1} more unit(s))" if len(reasons) > 1
                                                         else ""))


def _wider_pool(prep: Prepared, pool: str, org: OrgTree, ka: bool) -> str | None:
    """The nearest unit above ``pool`` whose subtree has an active rep of that class."""
    for unit in org.ancestors(int(org.positions([pool])[0]))[1:].tolist():
        below = org.ids[org.subtree(unit)].tolist()
        if ((prep.rep_ka == ka) & np.isin(prep.rep_team, below)).any():
            return str(org.ids[unit])
    return None


def _money(value: float) -> str:
    return amount(value)
