"""The plan of each demonstration case (scripts/demo_hall.py): its fate, the items it suits, its moves in time.

Pure: a plan is a list of Moves in naive UTC laid on China's working days by the hall's WorkCalendar, so
a case planned on time finishes on or before the due date the hall itself will compute (DOMAIN.md §5),
and a late one after it. Everything is deterministic for a case number and the day it is planned on.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

from items.clock import CHINA_OFFSET
from items.scope import Actor
from scripts import demo_paperwork as paperwork

WINDOW_DAYS = 91  # cases are spread over the last three months
CHINA = CHINA_OFFSET  # the hall's clock is naive UTC; office hours are China time
OPENING = dt.time(8, 30)
WINDOW_DEPARTMENT = "scjg"  # the demo's window accounts sit there: most open cases go there to be worked on
# Where the cases end up. `corrected` went through 补齐补正 before being delivered; `late` finished after
# its due date; `overdue` is still in progress past it; `finished` is decided but not yet delivered.
FATES = (("submitted", 6), ("accepted", 5), ("in_progress", 8), ("overdue", 1), ("correction_requested", 1),
         ("suspended", 1), ("rejected", 3), ("finished", 4), ("refused", 6), ("late", 10), ("corrected", 8),
         ("delivered", 97))
RUNNING = frozenset({"accepted", "in_progress", "correction_requested", "suspended"})
RATED_SHARE = 0.8
GOOD_LEVELS = (("very_satisfied", 60), ("satisfied", 30), ("basic", 10))
# The bad ratings (差评) of the demo: (fate, how many, level); the first of each kind is answered.
BAD_RATINGS = (("late", 2, "dissatisfied"), ("refused", 2, "very_dissatisfied"))


def num(text: str) -> int:
    """A stable number for `text` (hash() is salted per process; the demo must not be)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Offer:
    """A published local item the hall takes applications for, with what a case plan needs of its guide."""

    impl_code: str
    org: str
    region_code: str
    department: str  # the department's domain key (gaj, scjg …)
    limit: dict | None  # the promised (else legal) limit {value, unit}; None when the guide has none
    days: float | None  # that limit in days (items/model.py to_days)
    uploads: tuple[str, ...]  # ids of the required materials an applicant brings (not from e-licences)
    steps: tuple[str, ...]  # the process steps between acceptance and the decision

    def window(self) -> Actor:
        """Return the window staff member of the item's department who handles its cases."""
        return Actor(username=f"window-{self.region_code}-{self.department}", role="window_staff", org=self.org,
                     region=self.region_code)


def fits(fate: str, offer: Offer) -> bool:
    """Return True when `offer` suits a case of `fate`: its time limit leaves room for what the fate plans."""
    if fate in ("late", "overdue"):  # late against a short promise, so the case still fits the window
        return offer.limit is not None and offer.limit["unit"] == "workday" and 1 <= offer.limit["value"] <= 10
    if fate == "corrected":  # a correction requested the day after acceptance still leaves working days
        return offer.days is None or offer.days >= 3
    if fate in RUNNING:  # still running and not yet late
        return offer.days is None or offer.days >= 5
    return True


def choose_offer(fate: str, rng: random.Random, every: list[Offer]) -> Offer:
    """An item for a case: a department first (so cases spread over departments), then one of its items."""
    fitting = [o for o in every if fits(fate, o)] or every
    if fate in RUNNING or fate == "overdue":
        windows = [o for o in fitting if o.department == WINDOW_DEPARTMENT]
        if windows and rng.random() < 0.7:
            fitting = windows
    orgs = sorted({o.org for o in fitting})
    org = rng.choice(orgs)
    return rng.choice([o for o in fitting if o.org == org])


@dataclass(frozen=True)
class Move:
    """One thing that happens to a case at `at` (naive UTC): submit, a staff act, a rating or an answer."""

    at: dt.datetime
    kind: str  # submit | act | rate | answer
    action: str = ""
    opinion: str = ""
    result: str | None = None
    step: dict | None = None
    level: str | None = None


class _Timeline:
    """China-time moments of one case, always moving forward; staff work in office hours on working days."""

    def __init__(self, calendar, rng: random.Random, day: dt.date):
        self.calendar, self.rng = calendar, rng
        self.local = dt.datetime.combine(day, OPENING) + dt.timedelta(minutes=rng.randrange(420))

    @property
    def day(self) -> dt.date:
        return self.local.date()

    def at(self) -> dt.datetime:
        return self.local - CHINA

    def later(self, workdays: int = 0) -> dt.datetime:
        """Move `workdays` working days on (some time in office hours), or a little later the same day."""
        if workdays > 0:
            day = self.calendar.add_workdays(self.day, workdays)
            self.local = dt.datetime.combine(day, OPENING) + dt.timedelta(minutes=self.rng.randrange(480))
        else:  # after five, moves follow closely: a busy day's moves never spill into the next day
            minutes = self.rng.randint(10, 90) if self.local.hour < 17 else self.rng.randint(1, 5)
            self.local += dt.timedelta(minutes=minutes)
        return self.at()

    def citizen(self, days: int) -> dt.datetime:
        """Move `days` calendar days on for the applicant, who also rates in the evening and at weekends."""
        if days > 0:
            self.local = dt.datetime.combine(self.day + dt.timedelta(days=days), dt.time(8)) \
                + dt.timedelta(minutes=self.rng.randrange(14 * 60))
        else:
            self.local += dt.timedelta(minutes=self.rng.randint(30, 240))
        return self.at()


def plan(fate: str, offer: Offer, start: dt.date, calendar, seed: int, bad: str | None = None,
         answered: bool = False) -> list[Move]:
    """The moves of one case of `fate` submitted on `start` → [Move], deterministic for a seed.

    Due dates are the calendar's own (working days from the day after acceptance, paused days skipped),
    so a case planned on time finishes on or before the date the hall will compute.
    """
    rng = random.Random(seed)
    line = _Timeline(calendar, rng, start)
    moves = [Move(line.at(), "submit")]
    if fate == "submitted":
        return moves
    if fate == "rejected":
        return moves + [Move(line.later(rng.choice((0, 1))), "act", "reject", rng.choice(paperwork.REJECT_OPINIONS))]
    moves.append(Move(line.later(rng.choice((0, 0, 1))), "act", "accept"))
    accepted = line.day
    if fate == "accepted":
        return moves
    paused = []
    if fate == "corrected":
        moves.append(Move(line.later(1), "act", "request_correction", rng.choice(paperwork.CORRECTION_OPINIONS)))
        left = line.day
        moves.append(Move(line.later(rng.randint(1, 3)), "act", "resume", "已补正，恢复办理"))
        paused.append((left, line.day))
    if fate in RUNNING or fate == "overdue":
        for name in offer.steps[:rng.randint(1, len(offer.steps))]:
            moves.append(_step(line.later(1), name, rng))
        if fate == "correction_requested":
            moves.append(Move(line.later(1), "act", "request_correction", rng.choice(paperwork.CORRECTION_OPINIONS)))
        elif fate == "suspended":
            moves.append(Move(line.later(1), "act", "suspend", rng.choice(paperwork.SUSPEND_OPINIONS)))
        return moves
    due = calendar.due_date(accepted, offer.limit, paused) if offer.limit else None
    if fate == "late":
        finish = calendar.add_workdays(due, rng.randint(1, 3))
    elif due is not None:
        finish = min(due, calendar.add_workdays(line.day, rng.randint(0, 6)))
    else:
        finish = calendar.add_workdays(line.day, rng.randint(1, 5))
    for index, name in enumerate(offer.steps):
        remaining = max(0, calendar.workdays_between(line.day, finish))
        moves.append(_step(line.later(rng.randint(0, remaining // (len(offer.steps) - index + 1))), name, rng))
    refused = fate == "refused"
    moves.append(Move(line.later(max(0, calendar.workdays_between(line.day, finish))), "act", "finish",
                      rng.choice(paperwork.REFUSE_OPINIONS if refused else paperwork.FINISH_OPINIONS),
                      result="refused" if refused else "approved"))
    if fate == "finished":
        return moves
    moves.append(Move(line.later(rng.choice((0, 0, 1, 2))), "act", "deliver", rng.choice(paperwork.DELIVER_OPINIONS)))
    level = bad or (_pick(rng, GOOD_LEVELS) if rng.random() < RATED_SHARE else None)
    if level:
        moves.append(Move(line.citizen(rng.choice((0, 0, 1, 2, 3))), "rate", opinion=rng.choice(
            paperwork.RATING_COMMENTS[level]), level=level))
    if bad and answered:
        moves.append(Move(line.later(rng.randint(1, 3)), "answer",
                          opinion=paperwork.RECTIFICATION_ANSWERS[0 if fate == "late" else 1]))
        moves.append(Move(line.citizen(1), "rate", opinion=paperwork.FOLLOW_UP_COMMENTS[0], level="satisfied"))
    return moves


def _step(at: dt.datetime, name: str, rng: random.Random) -> Move:
    return Move(at, "act", "step", step={"name": name, "action": "pass", "opinion": rng.choice(paperwork.STEP_OPINIONS)})


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def workdays_back(calendar, day: dt.date, n: int) -> dt.date:
    """Return the n-th working day before `day`."""
    while n > 0:
        day -= dt.timedelta(days=1)
        if calendar.is_workday(day):
            n -= 1
    return day


def schedule(fate: str, offer: Offer, case: int, calendar, now: dt.datetime, bad: str | None,
             answered: bool) -> list[Move]:
    """The plan of demonstration case `case`, started as late as it can be while every move lies before
    `now` (naive UTC): running cases are recent, finished ones spread over the last WINDOW_DAYS days."""
    rng = random.Random(num(f"start:{case}"))
    today = (now + CHINA).date()
    if fate in RUNNING or fate == "submitted":
        start = workdays_back(calendar, today, 1)
    elif fate == "overdue":
        start = workdays_back(calendar, today, 14)
    else:
        start = calendar.next_workday(today - dt.timedelta(days=rng.randint(8, WINDOW_DAYS - 3)))
    latest = now - dt.timedelta(minutes=30)
    while True:
        moves = plan(fate, offer, start, calendar, num(f"case:{case}"), bad, answered)
        if moves[-1].at <= latest:
            return moves
        start = workdays_back(calendar, start, 1)


def fates() -> list[str]:
    """The fate of every demonstration case, in case order (deterministic)."""
    out = [fate for fate, count in FATES for _ in range(count)]
    random.Random(num("fates")).shuffle(out)
    return out


def bad_ratings(order: list[str]) -> dict[int, tuple[str, bool]]:
    """Case index → (bad level, answered) for the demo's bad ratings (BAD_RATINGS)."""
    out: dict[int, tuple[str, bool]] = {}
    for fate, count, level in BAD_RATINGS:
        hits = [i for i, f in enumerate(order) if f == fate][:count]
        for rank, index in enumerate(hits):
            out[index] = (level, rank == 0)
    return out
