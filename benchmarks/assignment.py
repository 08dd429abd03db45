"""Assignment benchmark: what rebalancing the books buys under the generator's truth, and how fast.

    .venv/bin/python benchmarks/assignment.py                          # quality over 5 seeds, speed at 10,000
    .venv/bin/python benchmarks/assignment.py --speed-reps 0           # quality only
    .venv/bin/python benchmarks/assignment.py --seeds 1 --reps 100 --speed-reps 1000

Quality (``--seeds``, ``--reps`` seats each, new logos, vacant seats and uneven books):
for each seed the books are assigned in ``unowned_only`` and ``rebalance`` mode, and
printed against accounts.csv's own books:

- ``spread``: mean |book / fair share - 1| over reps (fair share: fte x ramp share of the
  unit's potential of their tier), before and after;
- ``spread/cap``: the spread of book potential per unit of capacity P50 (before: the
  model's on accounts.csv's books; after: re-scored on the new books, what quotas read);
- ``spread/rate``: the same per unit of the truth's own capacity of each rep (rate x fte:
  what they sell on a median book), one yardstick before and after;
- ``moved max``: the largest share of a rep's book (per tier) moved to others, against
  ``max_moved``;
- ``truth gain``: the plan year's expected bookings under the generator's truth
  (:func:`quotaopt.datasets.book_capacity`: every rep's rate on the book they hold;
  accounts of a departed owner or none are worked by nobody) with the new books against
  accounts.csv's, in percent; mean, sd, min and max over the seeds.

Speed (``--speed-reps``): one company of that many seats; the assignment alone (wall and
CPU seconds, status and gap), then the whole ``plan`` (in process, ``--workers``) without
and with assignment, in the same run, and their ratio. The machine is shared: CPU
seconds (this process and its reaped workers) travel better than wall seconds.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from quotaopt.parallel import executor as parallel_executor
from quotaopt.parallel import shutdown_pools

if TYPE_CHECKING:
    from quotaopt.company import CompanyData

# The rest of quotaopt is imported where it is used: every spawned worker imports this
# module again (as __mp_main__), and at the top it cost each one 1.1 CPU s more to start
# than a worker of the `quotaopt` command, which this benchmark is to measure.

SCENARIO = """\
name: bench
data: data/
plan_year: 2027
allocation: {{unit: 1000}}
simulation: {{draws: {draws}, seed: 7}}
"""


def cpu_seconds() -> float:
    own, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def needed_pools(company: CompanyData) -> tuple[str, ...]:
    """Units whose key accounts to pool (``ka_pools``) so every team's key accounts have a taker.

    The generator leaves some teams without an active key-account rep (vacant seats); the
    assignment refuses those (exit 3, naming the unit above that would do): pool their
    key accounts there (the long tail stays with each team).
    """
    active = company.active_reps
    parent = company.teams.set_index("team_id")["parent_id"].to_dict()
    classes = active.groupby("team_id")["role"].agg(set).to_dict()

    def subtree(unit: str) -> set[str]:
        below, grown = {unit}, True
        while grown:
            more = below | {u for u, p in parent.items() if p in below}
            grown, below = more != below, more
        return below

    out: set[str] = set()
    for team in sorted(set(company.reps["team_id"])):
        if "ka" in classes.get(team, set()):
            continue
        node = parent.get(team)
        while isinstance(node, str):
            roles: set[str] = set().union(*(classes.get(u, set()) for u in subtree(node)))
            if "ka" in roles:
                out.add(node)
                break
            node = parent.get(node)
    # A pool inside another pool is the outer one.
    return tuple(sorted(u for u in out if not any(u in subtree(o) and u != o for o in out)))


def moved_max(result: object, company: CompanyData) -> float:
    """The largest share of a rep's book of one tier that went to others."""
    acc = company.accounts
    assert acc is not None
    new = result.accounts.set_index("account_id")["rep_id"]  # type: ignore[attr-defined]
    old = acc.set_index("account_id")["rep_id"]
    active = set(company.active_reps["rep_id"])
    frame = pd.DataFrame({"old": old, "new": new.reindex(old.index), "pot": acc.set_index("account_id")["potential"]
                          .fillna(0.0), "tier": acc.set_index("account_id")["tier"]})
    frame = frame[frame["old"].isin(active)]
    book = frame.groupby(["old", "tier"])["pot"].sum()
    gone = frame[frame["old"] != frame["new"]].groupby(["old", "tier"])["pot"].sum()
    share = (gone / book.reindex(gone.index)).fillna(0.0)
    return float(share.max()) if len(share) else 0.0


def quality(seeds: list[int], n_reps: int, tmp: Path) -> None:
    from quotaopt.assignment import capacity_on_new_books, per_capacity_spread
    from quotaopt.datasets import book_capacity, generate_company
    from quotaopt.io import load_company
    from quotaopt.planning import estimate_capacity
    from quotaopt.scenario import Scenario

    print(f"## Quality: {n_reps} seats, unowned 0.1, vacant 0.1, imbalance 0.8; max_moved 0.2, band 0.2\n")
    print("| seed | mode | ka_pools | spread before | after | spread/cap before | after | spread/rate before | after "
          "| moved max | truth before | truth after | truth gain | status, gap | s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    gains: dict[str, list[float]] = {"unowned_only": [], "rebalance": []}
    for seed in seeds:
        folder = generate_company(tmp / f"q{seed}", n_reps=n_reps, seed=seed, unowned=0.1, vacant=0.1,
                                  imbalance=0.8)
        company = load_company(folder)
        pools = needed_pools(company)
        assert company.accounts is not None
        owners = company.accounts.set_index("account_id")["rep_id"]
        truth_before = float(book_capacity(folder, owners).sum())
        rate = pd.read_csv(folder / "truth" / "rep_rate.csv", dtype={"rep_id": str}).set_index("rep_id")["rate"]
        for mode in ("unowned_only", "rebalance"):
            scenario = Scenario(name="q", data=str(folder), plan_year=2027,
                                assignment={"mode": mode, "ka_pools": pools})
            start = time.perf_counter()
            _, _, result = capacity_on_new_books(scenario, company, 2027, estimate_capacity)
            seconds = time.perf_counter() - start
            assert result is not None
            s = result.summary.record()
            # The truth's own yardstick: each rep's rate (what they sell on a median book).
            fte = company.active_reps.set_index("rep_id")["fte"]
            yard = result.books.assign(capacity_p50_before=result.books["rep_id"].map(rate * fte).to_numpy(float))
            yard["capacity_p50_after"] = yard["capacity_p50_before"]
            truth_after = float(book_capacity(folder, result.accounts.set_index("account_id")["rep_id"]).sum())
            gain = truth_after / truth_before - 1.0
            gains[mode].append(gain)
            solver = s["solver"]
            print(f"| {seed} | {mode} | {','.join(pools) or '-'} | {s['balance_spread']['before']:.3f} | "
                  f"{s['balance_spread']['after']:.3f} | {s['capacity_spread']['before']:.3f} | "
                  f"{s['capacity_spread']['after']:.3f} | {per_capacity_spread(yard, after=False):.3f} | "
                  f"{per_capacity_spread(yard, after=True):.3f} | {moved_max(result, company):.3f} | "
                  f"{truth_before / 1e6:,.1f}M | {truth_after / 1e6:,.1f}M | {gain:+.2%} | "
                  f"{solver['status']}, {solver['gap']:.2%} | {seconds:.1f} |")
    print()
    for mode, values in gains.items():
        sd = statistics.stdev(values) if len(values) > 1 else 0.0
        print(f"truth gain, {mode}: mean {statistics.mean(values):+.2%}, sd {sd:.2%}, "
              f"min {min(values):+.2%}, max {max(values):+.2%} over {len(values)} seeds")
    print()


def speed(n_reps: int, workers: int, draws: int, tmp: Path, vacant: float = 0.0) -> None:
    from quotaopt.assignment import assign_accounts
    from quotaopt.datasets import generate_company
    from quotaopt.io import load_company, load_inputs
    from quotaopt.planning import run_plan
    from quotaopt.scenario import AllocationConfig, AssignmentConfig

    root = tmp / "speed"
    start = time.perf_counter()
    folder = generate_company(root / "data", n_reps=n_reps, seed=11, unowned=0.1, vacant=vacant, imbalance=0.8)
    company = load_company(folder)
    assert company.accounts is not None
    pools = needed_pools(company)
    print(f"## Speed: {len(company.active_reps):,} active reps, {len(company.accounts):,} accounts, "
          f"ka_pools {list(pools)}, workers {workers} (generated in {time.perf_counter() - start:.0f} s)\n")
    print("| run | wall s | CPU s | status | gap | detail |")
    print("|---|---|---|---|---|---|")
    for mode in ("rebalance",):
        c0, t0 = cpu_seconds(), time.perf_counter()
        result = assign_accounts(company, 2027, AssignmentConfig(mode=mode, ka_pools=pools), AllocationConfig(),
                                 executor=parallel_executor(workers))
        shutdown_pools()
        wall, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        figures = result.summary.record()
        s = figures["solver"]
        detail = (f"{figures['decisions']:,} decisions, {figures['accounts_moved']:,} moved, "
                  f"{s['n_solves']} solves; prepare {result.timings['assignment_prepare']:.1f} s, solve "
                  f"{result.timings['assignment_solve']:.1f} s, verify {result.timings['assignment_verify']:.1f} s")
        print(f"| assignment {mode} | {wall:.1f} | {cpu:.1f} | {s['status']} | {s['gap']:.2%} | {detail} |")
        groups = s["groups"]
        per_unit = (f"\nper unit (pool x tier): {groups['count']:,} groups, {groups['within_gap']:,} within "
                    f"mip_gap {s['mip_gap']:.0%}; worst {groups['worst_gap']:.2%} ({groups['worst_unit']})\n")
    walls, cpus = {}, {}
    pool_text = f"[{', '.join(pools)}]"
    for label, block in (("plan without assignment", ""),
                         ("plan with assignment (rebalance)", f"assignment: {{mode: rebalance, ka_pools: {pool_text}}}\n")):
        (root / "bench.yaml").write_text(SCENARIO.format(draws=draws) + block)
        c0, t0 = cpu_seconds(), time.perf_counter()
        res = run_plan(load_inputs(root / "bench.yaml"), executor=parallel_executor(workers))
        shutdown_pools()
        walls[label] = wall = time.perf_counter() - t0
        cpus[label] = cpu = cpu_seconds() - c0
        stages = ", ".join(f"{k} {v:.1f}" for k, v in res.timings.items() if not k.startswith(("solver", "assign")))
        solver = res.summary.solver
        status, gap = ("-", 0.0) if solver is None else (solver.status, solver.gap or 0.0)
        print(f"| {label} | {wall:.1f} | {cpu:.1f} | {status} | {gap:.2%} | {stages} |")
    ratio = walls["plan with assignment (rebalance)"] / walls["plan without assignment"]
    cpu_ratio = cpus["plan with assignment (rebalance)"] / cpus["plan without assignment"]
    print(f"\nplan with / without assignment: {ratio:.2f}x wall, {cpu_ratio:.2f}x CPU\n{per_unit}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    parser.add_argument("--reps", type=int, default=300, help="Seats per quality company.")
    parser.add_argument("--speed-reps", type=int, default=10_000, help="Seats of the speed company (0: skip).")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--draws", type=int, default=1000, help="Simulation draws of the speed plans.")
    parser.add_argument("--vacant", type=float, default=0.0,
                        help="Vacant seats of the speed company (> 0 pools key accounts by region: slow, see docs).")
    args = parser.parse_args()
    np.seterr(all="ignore")
    with tempfile.TemporaryDirectory() as tmp:
        if args.seeds:
            quality(args.seeds, args.reps, Path(tmp))
        if args.speed_reps:
            speed(args.speed_reps, args.workers, args.draws, Path(tmp), args.vacant)


if __name__ == "__main__":
    main()
