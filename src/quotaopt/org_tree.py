"""The unit tree of a company, built once: parent, level, children, members, subtree sums.

Allocation (unit totals, verification), the simulation (a unit's bookings are those of
every rep below it), tracking (plan and actuals to date per unit) and the assignment's
pools all walk the same tree; :class:`OrgTree` is that walk written once. Units are held
in *tree order*: the root first, then breadth first with siblings in the order of the
table, so every parent comes before its children and a sum over subtrees is one pass
from the deepest level up. A table already in tree order (``units.csv``) keeps its order.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import overload

import numpy as np
import pandas as pd
import scipy.sparse as sp

from quotaopt.errors import InputError, Problem

__all__ = ["OrgTree", "is_empty"]


def is_empty(value: object) -> bool:
    """True for a missing parent: None, NaN, NA, NaT or blank text."""
    return value is None or (isinstance(value, float) and np.isnan(value)) or (
        isinstance(value, str) and value.strip() == ""
    ) or value is pd.NA or value is pd.NaT


@dataclass(frozen=True, eq=False)
class OrgTree:
    """The unit tree in tree order (every parent before its children, the root at 0).

    Built with ``one_root=False`` it may be a forest: every root (parent -1) comes first.

    Attributes
    ----------
    ids : ndarray
        Unit ids (object array of str), tree order.
    parent : ndarray
        Position of each unit's parent (int64), -1 for the root.
    level : ndarray
        Depth of each unit (int64), the root 0.
    rows : ndarray
        Each unit's row in the table it was built from (int64).

    Examples
    --------
    A company ``CO`` with regions ``N`` and ``S``; ``N`` has teams ``N1`` and ``N2``:

    >>> import pandas as pd
    >>> teams = pd.DataFrame({"team_id": ["N1", "CO", "S", "N", "N2"],
    ...                       "parent_id": ["N", None, "CO", "CO", "N"]})
    >>> tree = OrgTree.from_table(teams)
    >>> tree.ids.tolist(), tree.level.tolist()
    (['CO', 'S', 'N', 'N1', 'N2'], [0, 1, 1, 2, 2])
    >>> tree.ids[tree.children[2]].tolist()
    ['N1', 'N2']

    Reps' bookings summed over each unit's subtree (the company gets everyone's):

    >>> tree.subtree_sum(pd.Series([5.0, 1.0, 2.0]), teams=pd.Series(["N1", "S", "N1"])).to_dict()
    {'CO': 8.0, 'S': 1.0, 'N': 7.0, 'N1': 7.0, 'N2': 0.0}
    """

    ids: np.ndarray
    parent: np.ndarray
    level: np.ndarray
    rows: np.ndarray

    @classmethod
    def from_table(cls, table: pd.DataFrame, id_column: str = "team_id", parent_column: str = "parent_id",
                   source: str = "teams.csv", one_root: bool = True) -> OrgTree:
        """Validate a unit table (teams.csv, units.csv) and order it root first.

        Parameters
        ----------
        table : DataFrame
            One row per unit with ``id_column`` and ``parent_column`` (empty on the root).
        id_column, parent_column : str
            The columns naming a unit and its parent.
        source : str
            The file named in errors.
        one_root : bool
            Require exactly one root (a company); False accepts a forest (teams without a
            company above them, as the simulation may be given), roots first in table order.

        Raises
        ------
        InputError
            Missing columns, duplicate ids, not exactly one root (no root at all with
            ``one_root=False``), unknown parents or cycles.
        """
        missing = [c for c in (id_column, parent_column) if c not in table.columns]
        if missing:
            raise InputError([Problem(source, f"missing column(s) {missing}")])
        noun = id_column.removesuffix("_id")
        ids = table[id_column].astype(str).to_numpy(dtype=object)
        index = pd.Index(ids)
        dup = index[index.duplicated()].unique().tolist()
        if dup:
            raise InputError([Problem(source, f"{id_column} {dup[0]!r} appears more than once", column=id_column)])
        parents = [None if is_empty(p) else str(p) for p in table[parent_column].tolist()]
        roots = [i for i, p in enumerate(parents) if p is None]
        if len(roots) != 1 and (one_root or not roots):
            raise InputError([Problem(source, f"expected exactly one root (empty {parent_column}), found {len(roots)}",
                                      column=parent_column)])
        position = {uid: i for i, uid in enumerate(ids)}
        unknown = [p for p in parents if p is not None and p not in position]
        if unknown:
            raise InputError([Problem(source, f"{parent_column} {unknown[0]!r} is not a {id_column}",
                                      column=parent_column)])
        children: dict[int, list[int]] = {i: [] for i in range(len(ids))}
        for i, p in enumerate(parents):
            if p is not None:
                children[position[p]].append(i)
        order, level_of = list(roots), dict.fromkeys(roots, 0)
        for i in order:  # breadth first; appending while iterating walks the whole tree
            for c in children[i]:
                level_of[c] = level_of[i] + 1
                order.append(c)
        if len(order) != len(ids):
            cyc = sorted(set(range(len(ids))) - set(order))[0]
            raise InputError([Problem(source, f"{noun} {ids[cyc]!r} is not connected to the root "
                                      f"(a cycle in {parent_column})", column=parent_column)])
        new_index = {old: new for new, old in enumerate(order)}
        parent = np.array([-1 if parents[o] is None else new_index[position[parents[o]]] for o in order],
                          dtype=np.int64)
        return cls(ids[order], parent, np.array([level_of[o] for o in order], dtype=np.int64),
                   np.array(order, dtype=np.int64))

    @property
    def n(self) -> int:
        """Number of units."""
        return int(self.ids.size)

    @cached_property
    def _position(self) -> dict[str, int]:
        return {str(u): i for i, u in enumerate(self.ids)}

    def positions(self, ids: Iterable[object]) -> np.ndarray:
        """Tree position of each id (int64), -1 where it is not a unit."""
        pos = self._position
        return np.array([pos.get(str(u), -1) for u in ids], dtype=np.int64)

    def unknown(self, ids: Iterable[object]) -> list[str]:
        """The ids that are not units of the tree, sorted and each once."""
        pos = self._position
        return sorted({str(u) for u in ids} - pos.keys())

    @cached_property
    def children(self) -> tuple[np.ndarray, ...]:
        """Positions of each unit's children, in tree order."""
        kids: list[list[int]] = [[] for _ in range(self.n)]
        for i, p in enumerate(self.parent.tolist()):
            if p >= 0:
                kids[p].append(i)
        return tuple(np.array(k, dtype=np.int64) for k in kids)

    @cached_property
    def has_children(self) -> np.ndarray:
        """True for units with at least one child unit."""
        return np.bincount(self.parent[self.parent >= 0], minlength=self.n) > 0

    def ancestors(self, unit: int) -> np.ndarray:
        """Positions from ``unit`` itself up to the root."""
        chain = [unit]
        while self.parent[chain[-1]] >= 0:
            chain.append(int(self.parent[chain[-1]]))
        return np.array(chain, dtype=np.int64)

    def subtree(self, unit: int) -> np.ndarray:
        """Positions of ``unit`` and every unit below it, in tree order."""
        inside = np.zeros(self.n, dtype=bool)
        inside[unit] = True
        for i in range(unit + 1, self.n):  # tree order: a parent is decided before its children
            inside[i] = inside[self.parent[i]]
        return np.flatnonzero(inside)

    def membership(self, rep_teams: Iterable[object], columns: Iterable[object] | None = None,
                   dtype: type[np.floating] = np.float64) -> sp.csr_matrix:
        """Sparse 0/1 matrix (reps x units): 1 where the unit is the rep's team or above it.

        The members of each unit, so ``membership(...).T @ values`` sums per-rep values
        over every unit's subtree. Sparse because a rep belongs to only its chain of units.

        Parameters
        ----------
        rep_teams : iterable of str
            Each rep's unit; every one must be a unit (see :meth:`unknown`).
        columns : iterable of str, optional
            Unit ids giving the column order (default: tree order).
        dtype : numpy float type
            Of the ones.
        """
        named = [str(t) for t in rep_teams]
        team = self.positions(named)
        if (team < 0).any():
            raise ValueError(f"rep team(s) {self.unknown(named)} are not units of the tree")
        chains = [self.ancestors(int(u)) for u in range(self.n)]
        rows = np.repeat(np.arange(team.size), [chains[u].size for u in team.tolist()])
        cols = np.concatenate([chains[u] for u in team.tolist()]) if team.size else np.zeros(0, np.int64)
        if columns is not None:
            col_of = np.full(self.n, -1, dtype=np.int64)
            where = self.positions(columns)
            col_of[where] = np.arange(where.size)
            cols = col_of[cols]
        return sp.csr_matrix((np.ones(rows.size, dtype), (rows, cols)), shape=(team.size, self.n))

    @overload
    def subtree_sum(self, values: pd.Series, teams: pd.Series | None = None) -> pd.Series: ...

    @overload
    def subtree_sum(self, values: np.ndarray, teams: np.ndarray | None = None) -> np.ndarray: ...

    def subtree_sum(self, values: np.ndarray | pd.Series,
                    teams: np.ndarray | pd.Series | None = None) -> np.ndarray | pd.Series:
        """Sum ``values`` over each unit's subtree, vectorised by level.

        Parameters
        ----------
        values : ndarray or Series
            Per unit (an array in tree order, or a Series indexed by unit id; units it lacks
            count 0), or, with ``teams``, per rep.
        teams : ndarray or Series, optional
            Each rep's unit, aligned with ``values`` by position.

        Returns
        -------
        ndarray or Series
            Per unit in tree order (a Series indexed by unit id when ``values`` is one).
        """
        series = isinstance(values, pd.Series)
        if teams is not None:
            pos = self.positions(teams)
            if (pos < 0).any():
                raise ValueError(f"teams {self.unknown(np.asarray(teams).tolist())} are not units of the tree")
            own = np.bincount(pos, weights=np.asarray(values, dtype=float), minlength=self.n)
        elif isinstance(values, pd.Series):
            own = values.reindex(self.ids, fill_value=0).to_numpy()
        else:
            own = np.asarray(values)
        total = np.array(own, copy=True)
        for lvl in range(int(self.level.max()), 0, -1):
            idx = np.flatnonzero(self.level == lvl)
            np.add.at(total, self.parent[idx], total[idx])
        return pd.Series(total, index=pd.Index(self.ids, name="unit_id")) if series else total
