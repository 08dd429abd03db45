"""OrgTree: the unit tree walked once, checked on a small three-level tree worked out by hand.

    CO                      level 0
    ├── EU                  level 1
    │   ├── DE              level 2
    │   └── FR              level 2
    └── US                  level 1
        └── NY              level 2

The table lists the units out of order, so tree order (root first, breadth first,
siblings in table order) has to be built, not read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from quotaopt.errors import InputError
from quotaopt.org_tree import OrgTree

TEAMS = pd.DataFrame({"team_id": ["DE", "US", "CO", "NY", "EU", "FR"],
                      "parent_id": ["EU", "CO", None, "US", "CO", "EU"]})


@pytest.fixture
def tree() -> OrgTree:
    return OrgTree.from_table(TEAMS)


def test_tree_order_parent_level_rows(tree: OrgTree) -> None:
    # Root, then level 1 in table order (US before EU), then level 2 by parent then table order.
    assert tree.ids.tolist() == ["CO", "US", "EU", "NY", "DE", "FR"]
    assert tree.parent.tolist() == [-1, 0, 0, 1, 2, 2]
    assert tree.level.tolist() == [0, 1, 1, 2, 2, 2]
    assert tree.rows.tolist() == [2, 1, 4, 3, 0, 5]
    assert tree.n == 6


def test_children_ancestors_subtree(tree: OrgTree) -> None:
    assert [tree.ids[c].tolist() for c in tree.children] == [["US", "EU"], ["NY"], ["DE", "FR"], [], [], []]
    assert tree.has_children.tolist() == [True, True, True, False, False, False]
    assert tree.ids[tree.ancestors(5)].tolist() == ["FR", "EU", "CO"]
    assert tree.ids[tree.ancestors(0)].tolist() == ["CO"]
    assert tree.ids[tree.subtree(2)].tolist() == ["EU", "DE", "FR"]
    assert tree.ids[tree.subtree(0)].tolist() == tree.ids.tolist()
    assert tree.ids[tree.subtree(3)].tolist() == ["NY"]


def test_subtree_sums_per_unit_and_per_rep(tree: OrgTree) -> None:
    own = np.array([1.0, 2.0, 4.0, 8.0, 16.0, 32.0])  # CO US EU NY DE FR
    # CO = everything 63; US = 2 + 8; EU = 4 + 16 + 32; leaves keep their own.
    np.testing.assert_array_equal(tree.subtree_sum(own), [63.0, 10.0, 52.0, 8.0, 16.0, 32.0])
    by_id = tree.subtree_sum(pd.Series({"FR": 5.0, "US": 1.0}))  # units a Series lacks count 0
    assert by_id.to_dict() == {"CO": 6.0, "US": 1.0, "EU": 5.0, "NY": 0.0, "DE": 0.0, "FR": 5.0}
    reps = pd.Series([10.0, 20.0, 30.0, 40.0])
    teams = pd.Series(["DE", "NY", "DE", "FR"])
    got = tree.subtree_sum(reps, teams=teams)
    assert got.to_dict() == {"CO": 100.0, "US": 20.0, "EU": 80.0, "NY": 20.0, "DE": 40.0, "FR": 40.0}
    with pytest.raises(ValueError, match="XX"):
        tree.subtree_sum(reps, teams=pd.Series(["DE", "XX", "DE", "FR"]))


def test_membership_rows_are_each_reps_chain(tree: OrgTree) -> None:
    member = tree.membership(["DE", "NY", "CO"])
    assert member.shape == (3, 6)
    assert member.toarray().tolist() == [[1, 0, 1, 0, 1, 0],   # DE, EU, CO
                                         [1, 1, 0, 1, 0, 0],   # NY, US, CO
                                         [1, 0, 0, 0, 0, 0]]   # CO alone
    # Columns in another order: the same chains, relabelled.
    table_order = tree.membership(["DE", "NY", "CO"], columns=TEAMS["team_id"], dtype=np.float32)
    assert table_order.dtype == np.float32
    assert table_order.toarray().tolist() == [[1, 0, 1, 0, 1, 0],   # DE US CO NY EU FR
                                              [0, 1, 1, 1, 0, 0],
                                              [0, 0, 1, 0, 0, 0]]
    values = np.array([1.0, 2.0, 4.0])
    np.testing.assert_array_equal(member.T @ values, tree.subtree_sum(values, teams=np.array(["DE", "NY", "CO"])))
    assert tree.unknown(["DE", "ZZ", "AA", "ZZ"]) == ["AA", "ZZ"]
    assert tree.positions(["FR", "ZZ"]).tolist() == [5, -1]
    with pytest.raises(ValueError, match="ZZ"):
        tree.membership(["DE", "ZZ"])


def test_a_table_in_tree_order_keeps_it(tree: OrgTree) -> None:
    units = pd.DataFrame({"unit_id": tree.ids, "parent_id": [None, *tree.ids[tree.parent[1:]]]})
    again = OrgTree.from_table(units, "unit_id")
    assert again.ids.tolist() == tree.ids.tolist() and again.rows.tolist() == list(range(6))


@pytest.mark.parametrize(("teams", "message"), [
    (TEAMS.drop(columns="parent_id"), "missing column"),
    (pd.concat([TEAMS, TEAMS.iloc[[0]]]), "team_id 'DE' appears more than once"),
    (TEAMS.assign(parent_id=TEAMS["parent_id"].where(TEAMS["team_id"] != "US", None)),
     r"exactly one root \(empty parent_id\), found 2"),
    (TEAMS.assign(parent_id=TEAMS["parent_id"].replace("EU", "XX")), "parent_id 'XX' is not a team_id"),
    (pd.DataFrame({"team_id": ["CO", "A", "B"], "parent_id": [None, "B", "A"]}),
     "team 'A' is not connected to the root"),
])
def test_bad_tables_are_input_errors(teams: pd.DataFrame, message: str) -> None:
    with pytest.raises(InputError, match=message):
        OrgTree.from_table(teams)


def test_a_forest_when_asked() -> None:
    flat = pd.DataFrame({"unit_id": ["B", "A", "B1"], "parent_id": [None, None, "B"]})
    with pytest.raises(InputError, match="found 2"):
        OrgTree.from_table(flat, "unit_id")
    forest = OrgTree.from_table(flat, "unit_id", one_root=False)
    assert forest.ids.tolist() == ["B", "A", "B1"] and forest.parent.tolist() == [-1, -1, 0]
    assert forest.has_children.tolist() == [True, False, False]
    np.testing.assert_array_equal(forest.subtree_sum(np.array([1.0, 2.0, 4.0])), [5.0, 2.0, 4.0])
