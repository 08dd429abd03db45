"""The org of the synthetic company: the unit tree, the seats, and who sits in them.

A *seat* is a position on a team with a fixed role and a fixed book of accounts.
Reps come and go; a departing rep's seat (and so its book) passes to the hire who
replaces them, which is how "departed reps' accounts are reassigned" in the data.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from quotaopt.datasets._calendar import BUSDAYS, FAR_FUTURE, Year, random_bdays, year_start

REGION_NAMES = (
    "North", "South", "East", "West", "Central", "Coastal", "Mountain", "Metro",
)
FIRST_NAMES = (
    "Ava", "Ben", "Chloe", "David", "Elena", "Felix", "Grace", "Hugo", "Isla", "Jonas",
    "Kira", "Liam", "Maya", "Noah", "Olivia", "Paul", "Quinn", "Rosa", "Sam", "Tara",
    "Umar", "Vera", "Will", "Xenia", "Yusuf", "Zoe", "Amir", "Bianca", "Carlos", "Dana",
    "Emil", "Fatima", "Gustav", "Hana", "Ivan", "Julia", "Karl", "Lena", "Marco", "Nora",
)
LAST_NAMES = (
    "Adams", "Berg", "Costa", "Dubois", "Evans", "Fischer", "Garcia", "Hansen", "Ito",
    "Jensen", "Kowalski", "Lopez", "Meyer", "Novak", "Okafor", "Petrov", "Quist", "Rossi",
    "Schmidt", "Tanaka", "Urban", "Varga", "Weber", "Xu", "Young", "Zimmer", "Ahmed",
    "Bauer", "Cohen", "Dias", "Eriksen", "Ferreira", "Gross", "Horvat", "Iqbal", "Jung",
)

TEAM_MIN, TEAM_MAX = 6, 15
KA_SHARE = (0.18, 0.32)  # per-team share of key-account seats, ~25% overall

#: Log-skill: sd across reps, and year-to-year persistence (AR(1) coefficient).
SKILL_SD, SKILL_RHO = 0.35, 0.9
ATTRITION = 0.12  # yearly departure probability of an average-skill rep
#: Departures lean on weak performers: probability x exp(-ATTRITION_SKILL x log-skill).
ATTRITION_SKILL = 0.8


@dataclass(frozen=True)
class Org:
    """The unit tree and the seats on its leaf teams.

    Attributes
    ----------
    unit_ids, unit_parents, unit_names : list of str
        Rows of teams.csv: the root, the regions, then the teams.
    team_ids : list of str
        Leaf teams; ``seat_team`` indexes into it.
    seat_team : ndarray of int
    seat_ka : ndarray of bool
    """

    unit_ids: list[str]
    unit_parents: list[str]
    unit_names: list[str]
    team_ids: list[str]
    seat_team: np.ndarray
    seat_ka: np.ndarray


def make_ids(prefix: str, n: int, width: int) -> np.ndarray:
    """``prefix`` + zero-padded 1..n, widening past ``width`` only when n needs it."""
    width = max(width, len(str(n)))
    return np.array([f"{prefix}{i:0{width}d}" for i in range(1, n + 1)], dtype=object)


def _team_sizes(n_reps: int, rng: np.random.Generator) -> np.ndarray:
    """Team sizes in [TEAM_MIN, TEAM_MAX] summing to n_reps (one smaller team if n is tiny)."""
    if n_reps <= TEAM_MAX:
        return np.array([n_reps])
    n_teams = int(np.clip(round(n_reps / 10.5), -(-n_reps // TEAM_MAX), n_reps // TEAM_MIN))
    sizes = rng.integers(TEAM_MIN, TEAM_MAX + 1, n_teams)
    diff = n_reps - int(sizes.sum())
    while diff != 0:  # move random teams one seat at a time, within bounds, until the sum fits
        step = 1 if diff > 0 else -1
        movable = np.flatnonzero(sizes < TEAM_MAX if step > 0 else sizes > TEAM_MIN)
        pick = rng.choice(movable, size=min(abs(diff), len(movable)), replace=False)
        sizes[pick] += step
        diff -= step * len(pick)
    return sizes


def build_org(n_reps: int, rng: np.random.Generator) -> Org:
    """Company -> 3-8 regions -> teams of 6-15 seats, about a quarter of them key-account.

    The number of regions grows with the number of teams (3 for a 60-rep company,
    8 from ~20 teams on); with fewer than 3 teams each team gets its own region.
    """
    sizes = _team_sizes(n_reps, rng)
    n_teams = len(sizes)
    n_regions = int(min(n_teams, np.clip(round(n_teams / 2.5), 3, 8)))
    # Contiguous blocks of teams per region, each region at least one team.
    cuts = np.sort(rng.choice(np.arange(1, n_teams), size=n_regions - 1, replace=False))
    team_region = np.searchsorted(cuts, np.arange(n_teams), side="right")

    region_ids = list(make_ids("RG", n_regions, 2))
    team_ids = list(make_ids("TM", n_teams, 4))
    region_names = [REGION_NAMES[i] for i in rng.permutation(len(REGION_NAMES))[:n_regions]]
    first_team = np.searchsorted(team_region, team_region, side="left")
    team_names = [
        f"{region_names[r]} Team {k + 1}"
        for r, k in zip(team_region, np.arange(n_teams) - first_team, strict=True)
    ]
    unit_ids = ["CO", *region_ids, *team_ids]
    unit_parents = ["", *(["CO"] * n_regions), *[region_ids[r] for r in team_region]]
    unit_names = ["Company", *[f"Region {n}" for n in region_names], *team_names]

    seat_team = np.repeat(np.arange(n_teams), sizes)
    n_ka = np.rint(sizes * rng.uniform(*KA_SHARE, n_teams)).astype(np.int64)
    n_ka = np.clip(n_ka, 1 if n_reps > 1 else 0, np.maximum(sizes - 1, 0))
    first_seat = np.cumsum(sizes) - sizes
    seat_ka = (np.arange(n_reps) - first_seat[seat_team]) < n_ka[seat_team]
    return Org(unit_ids, unit_parents, unit_names, team_ids, seat_team, seat_ka)


@dataclass
class Staff:
    """Everyone who held a seat, in id order (initial staff first, then hires by date).

    Attributes
    ----------
    seat : ndarray of int
    hire : ndarray of datetime64[D]
    end_excl : ndarray of datetime64[D]
        Day after the last working day; ``FAR_FUTURE`` for reps still employed.
    fte : ndarray of float
    log_skill : ndarray of shape (n_reps, n_years)
        Latent skill per simulated year (AR(1) around 0); meaningless outside tenure.
    name : ndarray of str
    occupant : ndarray of int
        Rep holding each seat at the start of the plan year.
    """

    seat: np.ndarray
    hire: np.ndarray
    end_excl: np.ndarray
    fte: np.ndarray
    log_skill: np.ndarray
    name: np.ndarray
    occupant: np.ndarray

    @property
    def departed(self) -> np.ndarray:
        return self.end_excl < FAR_FUTURE


def _new_reps(rng: np.random.Generator, n: int, n_years: int) -> dict[str, np.ndarray]:
    """Per-rep draws that do not depend on the seat: fte, skill path, name."""
    fte = np.where(rng.random(n) < 0.08, rng.choice([0.5, 0.6, 0.7, 0.8], n), 1.0)
    innov = rng.normal(0.0, SKILL_SD, (n, n_years))
    skill = np.empty((n, n_years))
    skill[:, 0] = innov[:, 0]
    keep = np.sqrt(1.0 - SKILL_RHO**2)  # keeps the AR(1) stationary at sd SKILL_SD
    for t in range(1, n_years):
        skill[:, t] = SKILL_RHO * skill[:, t - 1] + keep * innov[:, t]
    first = rng.integers(0, len(FIRST_NAMES), n)
    last = rng.integers(0, len(LAST_NAMES), n)
    name = np.array([f"{FIRST_NAMES[a]} {LAST_NAMES[b]}" for a, b in zip(first, last, strict=True)], dtype=object)
    return {"fte": fte, "log_skill": skill, "name": name}


def staff_seats(org: Org, first_year: int, n_history: int, rng: np.random.Generator) -> Staff:
    """Fill the seats in ``first_year`` (a warm-up year), then run attrition through history.

    Each history year, the rep in a seat since before 1 January leaves with probability
    about ``ATTRITION`` (higher for weak reps), on a random business day, and is replaced
    10-80 days later, so some replacements start in the next year. The last history year
    always has at least two departures and one replacement starting early in the plan
    year, so every generated company shows those cases. Nobody leaves in the plan year.
    """
    n_seats = len(org.seat_team)
    n_years = n_history + 2  # warm-up, history, plan
    hist_start = year_start(first_year + 1)
    # Tenure at the start of history: mostly years, ~15% hired within the warm-up year.
    days_before = np.clip(30 + rng.exponential(2000.0, n_seats), 30, 9000).astype(np.int64)
    hire0 = np.busday_offset(hist_start - days_before, 0, roll="backward", busdaycal=BUSDAYS)
    batches = [{"seat": np.arange(n_seats), "hire": hire0, **_new_reps(rng, n_seats, n_years)}]
    occupant = np.arange(n_seats)
    end_excl: list[np.datetime64] = [FAR_FUTURE] * n_seats
    hires: list[np.datetime64] = list(hire0)
    skill = batches[0]["log_skill"]
    n_total = n_seats

    for t in range(1, n_history + 1):
        year = Year.of(first_year + t)
        cur = occupant
        eligible = np.array(hires, dtype="datetime64[D]")[cur] < year.first
        hazard = np.clip(ATTRITION * np.exp(-ATTRITION_SKILL * skill[cur, t]), 0.03, 0.4)
        leave = eligible & (rng.random(n_seats) < hazard)
        last_year = t == n_history
        if last_year and n_seats >= 4 and leave.sum() < 2:
            spare = np.flatnonzero(eligible & ~leave)
            leave[rng.permutation(spare)[: 2 - int(leave.sum())]] = True
        seats = np.flatnonzero(leave)
        if len(seats) == 0:
            continue
        dep = random_bdays(rng, np.full(len(seats), year.first), np.full(len(seats), year.end_excl))
        gap = rng.integers(10, 81, len(seats))
        new_hire = np.busday_offset(dep + gap, 0, roll="forward", busdaycal=BUSDAYS)
        if last_year and not (new_hire >= year.end_excl).any():
            # Guarantee a hire with a plan-year start date: a December leaver, early-Q1 start.
            dec = np.full(1, year.starts[11])
            dep[0] = random_bdays(rng, dec, np.full(1, year.end_excl))[0]
            new_hire[0] = np.busday_offset(year.end_excl + rng.integers(2, 60), 0, roll="forward", busdaycal=BUSDAYS)
        order = np.lexsort((seats, new_hire))  # ids follow hire date, ties by seat
        seats, dep, new_hire = seats[order], dep[order], new_hire[order]
        for rep, d in zip(cur[seats], dep, strict=True):
            end_excl[rep] = d + 1
        batch = {"seat": seats, "hire": new_hire, **_new_reps(rng, len(seats), n_years)}
        batches.append(batch)
        new_ids = np.arange(n_total, n_total + len(seats))
        occupant = occupant.copy()
        occupant[seats] = new_ids
        n_total += len(seats)
        end_excl.extend([FAR_FUTURE] * len(seats))
        hires.extend(new_hire)
        skill = np.vstack([skill, batch["log_skill"]])

    def cat(key: str) -> np.ndarray:
        return np.concatenate([b[key] for b in batches])

    return Staff(
        seat=cat("seat"),
        hire=cat("hire").astype("datetime64[D]"),
        end_excl=np.array(end_excl, dtype="datetime64[D]"),
        fte=cat("fte"),
        log_skill=skill,
        name=cat("name"),
        occupant=occupant,
    )


def leave_vacant(staff: Staff, share: float, last_year: Year, rng: np.random.Generator) -> Staff:
    """About ``share`` of the seats lose their rep during the last history year and stay empty.

    The rep leaves on a random business day of that year; nobody replaces them, so their
    accounts still name them in accounts.csv (a departed owner) and nobody sells to them
    in the plan year. Only seats whose rep was hired before that year are chosen.
    """
    hired = staff.hire[staff.occupant]
    open_seats = np.flatnonzero((hired < last_year.first) & (staff.end_excl[staff.occupant] == FAR_FUTURE))
    count = min(len(open_seats), max(1, int(round(share * len(staff.occupant)))))
    seats = np.sort(rng.choice(open_seats, size=count, replace=False))
    leaving = staff.occupant[seats]
    day = random_bdays(rng, np.full(count, last_year.first), np.full(count, last_year.end_excl))
    end_excl = staff.end_excl.copy()
    end_excl[leaving] = day + 1
    return replace(staff, end_excl=end_excl)
