"""Shared fixtures: a tiny hand-written company whose every number is known."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

TEAMS = """\
team_id,parent_id,name,target
CO,,Company,
EU,CO,Europe,
US,CO,Americas,
"""

REPS = """\
rep_id,team_id,role,hire_date,fte,status,name,last_quota,locked_quota
A1,EU,ka,2019-03-01,1,active,Ann,500000,
A2,EU,longtail,2020-06-15,1,active,Bob,200000,
B1,US,ka,2018-01-10,0.8,active,Cid,450000,
B2,US,longtail,2021-09-01,1,active,Dee,180000,
B3,US,longtail,2022-02-01,1,departed,Eve,,
"""

ACCOUNTS = """\
account_id,rep_id,tier,potential,territory_id
K1,A1,ka,900000,T1
K2,B1,ka,800000,T2
L1,A2,longtail,150000,T1
L2,B2,longtail,120000,T2
"""

TERRITORIES = """\
territory_id,potential,market_growth
T1,5000000,0.05
T2,4000000,0.08
"""


def _bookings() -> str:
    rows = ["date,rep_id,amount,account_id"]
    amounts = {"A1": ("K1", 40000), "A2": ("L1", 15000), "B1": ("K2", 35000), "B2": ("L2", 14000), "B3": ("L2", 9000)}
    for year in (2025, 2026):
        for month in range(1, 13):
            for rep, (account, amount) in amounts.items():
                if rep == "B3" and year == 2026:
                    continue
                rows.append(f"{year}-{month:02d}-15,{rep},{amount + 100 * month},{account}")
    rows.append("2026-11-20,A1,-2500,K1")
    return "\n".join(rows) + "\n"


SCENARIO = textwrap.dedent("""\
    name: tiny
    data: data/
    plan_year: 2027
    target:
      growth: 0.10
      over_assignment: 0.05
    allocation:
      unit: 1000
      stretch: [0.8, 1.3]
    incentives:
      plans:
        - name: all
          kind: bonus
          target_incentive: 10000
          tiers:
            - {from: 0.0, to: 1.0, rate: 1.0}
            - {from: 1.0, rate: 2.0}
    simulation:
      draws: 500
      seed: 3
    """)


def write_tiny_company(folder: Path) -> Path:
    """Write the tiny company and its scenario; return the scenario path."""
    data = folder / "data"
    data.mkdir(parents=True, exist_ok=True)
    (data / "teams.csv").write_text(TEAMS)
    (data / "reps.csv").write_text(REPS)
    (data / "bookings.csv").write_text(_bookings())
    (data / "accounts.csv").write_text(ACCOUNTS)
    (data / "territories.csv").write_text(TERRITORIES)
    scenario = folder / "tiny.yaml"
    scenario.write_text(SCENARIO)
    return scenario


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Scenario path of a freshly written tiny company."""
    return write_tiny_company(tmp_path)
