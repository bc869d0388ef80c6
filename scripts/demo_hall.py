"""The demonstration branch hall behind `govhall demo`: citizens, their cases through the life cycle, ratings.

`load(ctx, departments)` files about 150 cases of 40 demonstration citizens against published local items
over the last three months and moves them the way window staff and citizens would (DOMAIN.md §5): most
are accepted, worked through their steps, finished (a few refused, some late) and delivered, and most of
those rated — a few badly, which opens rectification tasks, two of them answered; the rest are still
submitted, accepted, in progress, waiting for a correction or suspended. Time runs through
`ctx.hall.clock`, so every date and due date is a real working day of China's calendar.

Each case has a fixed Idempotency-Key. A later run plans every case again, counts what is stored
(events, ratings, answers) and only performs what is missing, so a complete demo writes no case.

The citizens are fictitious: openids `demo-openid-001`…, ID numbers of 平顶山's region codes with
sequence `00x` and a valid check character, phones `1380000xxxx`.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass

from items import codes, model
from items import store as item_store
from items.scope import Actor
from scripts import demo_vocabulary as vocab
from wechat import store as hall_store

CITIZENS = 40
OPENID = "demo-openid-{:03d}"
CASE_KEY = "demo-case-{:03d}"  # the Idempotency-Key of demonstration case k
WINDOW_DAYS = 91  # cases are spread over the last three months
CHINA = dt.timedelta(hours=8)  # the hall's clock is naive UTC; office hours are China time
OPENING = dt.time(8, 30)
APPLICABLE = frozenset({"01", "04", "05", "07", "08", "09", "10", "20"})  # 02/03/06 are started by the state
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


def _blank_pdf() -> bytes:
    """A one-page blank PDF with a correct cross-reference table: every scanned material of the demo."""
    objects = (b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>")
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj %s endobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer << /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


PDF = _blank_pdf()


def _num(text: str) -> int:
    """A stable number for `text` (hash() is salted per process; the demo must not be)."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")


@dataclass(frozen=True)
class Citizen:
    """One fictitious applicant: the hall user of `openid` with the identity they apply with."""

    number: int
    name: str
    id_number: str
    phone: str
    address: str

    @property
    def openid(self) -> str:
        return OPENID.format(self.number)


def citizens() -> list[Citizen]:
    """The demonstration citizens, each with a valid (GB 11643) but fictitious ID number of a 平顶山 region."""
    regions = dict(vocab.COUNTIES)
    places = [vocab.CITY[0], *regions]
    out = []
    for n in range(1, CITIZENS + 1):
        rng = random.Random(_num(f"citizen:{n}"))
        region = places[n % len(places)]
        born = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(48 * 365))
        name = vocab.SURNAMES[n % len(vocab.SURNAMES)] + vocab.GIVEN_NAMES[(n * 7) % len(vocab.GIVEN_NAMES)]
        address = f"{vocab.CITY[1]}{regions.get(region, '')}{rng.choice(vocab.STREETS)}{rng.randint(1, 300)}号"
        out.append(Citizen(n, name, codes.make_id_number(f"{region}{born:%Y%m%d}00{n % 10}"),
                           f"1380000{n:04d}", address))
    return out


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


def offers(departments) -> list[Offer]:
    """Every published, in-use item of the demo's departments that citizens apply for online (depth ≥ III)."""
    keys = {dept.credit_code: dept.key for dept in departments}
    out = []
    for head in item_store.list_local(region_prefix="41", page=1, size=1_000_000)[0]:
        if head.published_version is None or head.status == "withdrawn" or head.org not in keys \
                or head.basic_code[2:4] not in APPLICABLE:
            continue
        doc = item_store.local_version(head.impl_code, head.published_version).document
        if doc.get("state", "in_use") != "in_use" or (doc.get("online_depth") or 0) < 3:
            continue
        limit = doc.get("promised_limit") or doc.get("legal_limit")  # what the hall counts: wechat/applications.py
        needed = tuple(m["id"] for m in doc.get("materials") or []
                       if m.get("necessity") == "required" and not m.get("e_license"))
        names = [p.get("name") for p in doc.get("process") or [] if p.get("name")]
        limit = {"value": limit["value"], "unit": limit.get("unit", "workday")} if limit else None
        out.append(Offer(head.impl_code, head.org, head.region_code, keys[head.org], limit, model.to_days(limit),
                         needed, tuple(names[1:-1]) or ("审查",)))
    return out


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


# --- the plan of one case ------------------------------------------------------------------------------

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
        else:
            self.local += dt.timedelta(minutes=self.rng.randint(10, 90))
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
        return moves + [Move(line.later(rng.choice((0, 1))), "act", "reject", rng.choice(vocab.REJECT_OPINIONS))]
    moves.append(Move(line.later(rng.choice((0, 0, 1))), "act", "accept"))
    accepted = line.day
    if fate == "accepted":
        return moves
    paused = []
    if fate == "corrected":
        moves.append(Move(line.later(1), "act", "request_correction", rng.choice(vocab.CORRECTION_OPINIONS)))
        left = line.day
        moves.append(Move(line.later(rng.randint(1, 3)), "act", "resume", "已补正，恢复办理"))
        paused.append((left, line.day))
    if fate in RUNNING or fate == "overdue":
        for name in offer.steps[:rng.randint(1, len(offer.steps))]:
            moves.append(_step(line.later(1), name, rng))
        if fate == "correction_requested":
            moves.append(Move(line.later(1), "act", "request_correction", rng.choice(vocab.CORRECTION_OPINIONS)))
        elif fate == "suspended":
            moves.append(Move(line.later(1), "act", "suspend", rng.choice(vocab.SUSPEND_OPINIONS)))
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
                      rng.choice(vocab.REFUSE_OPINIONS if refused else vocab.FINISH_OPINIONS),
                      result="refused" if refused else "approved"))
    if fate == "finished":
        return moves
    moves.append(Move(line.later(rng.choice((0, 0, 1, 2))), "act", "deliver", rng.choice(vocab.DELIVER_OPINIONS)))
    level = bad or (_pick(rng, GOOD_LEVELS) if rng.random() < RATED_SHARE else None)
    if level:
        moves.append(Move(line.citizen(rng.choice((0, 0, 1, 2, 3))), "rate", opinion=rng.choice(
            vocab.RATING_COMMENTS[level]), level=level))
    if bad and answered:
        moves.append(Move(line.later(rng.randint(1, 3)), "answer",
                          opinion=vocab.RECTIFICATION_ANSWERS[0 if fate == "late" else 1]))
        moves.append(Move(line.citizen(1), "rate", opinion=vocab.FOLLOW_UP_COMMENTS[0], level="satisfied"))
    return moves


def _step(at: dt.datetime, name: str, rng: random.Random) -> Move:
    return Move(at, "act", "step", step={"name": name, "action": "pass", "opinion": rng.choice(vocab.STEP_OPINIONS)})


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
    rng = random.Random(_num(f"start:{case}"))
    today = (now + CHINA).date()
    if fate in RUNNING or fate == "submitted":
        start = workdays_back(calendar, today, 1)
    elif fate == "overdue":
        start = workdays_back(calendar, today, 14)
    else:
        start = calendar.next_workday(today - dt.timedelta(days=rng.randint(8, WINDOW_DAYS - 3)))
    latest = now - dt.timedelta(minutes=30)
    while True:
        moves = plan(fate, offer, start, calendar, _num(f"case:{case}"), bad, answered)
        if moves[-1].at <= latest:
            return moves
        start = workdays_back(calendar, start, 1)


def fates() -> list[str]:
    """The fate of every demonstration case, in case order (deterministic)."""
    out = [fate for fate, count in FATES for _ in range(count)]
    random.Random(_num("fates")).shuffle(out)
    return out


def bad_ratings(order: list[str]) -> dict[int, tuple[str, bool]]:
    """Case index → (bad level, answered) for the demo's bad ratings (BAD_RATINGS)."""
    out: dict[int, tuple[str, bool]] = {}
    for fate, count, level in BAD_RATINGS:
        hits = [i for i, f in enumerate(order) if f == fate][:count]
        for rank, index in enumerate(hits):
            out[index] = (level, rank == 0)
    return out


# --- carrying the plans out ----------------------------------------------------------------------------

def load(ctx, departments) -> dict:
    """File and move the demonstration cases through ctx.hall → a summary of what exists and what changed.

    The hall's clock is set before every move and restored afterwards, also when a move fails. Raises
    what the hall's services raise for a move they refuse (a defect of the plan, never expected).
    """
    hall = ctx.hall
    every = offers(departments)
    if not every:
        return {"loaded": False, "reason": "no published item takes applications yet"}
    original = hall.clock
    now = original()
    people = citizens()
    users = {c.number: hall.ensure_hall_user(c.openid).id for c in people}
    order = fates()
    bad = bad_ratings(order)
    counts = {"created": 0, "moves": 0}
    try:
        for index, fate in enumerate(order):
            number = index + 1
            citizen = people[index % len(people)]
            offer = choose_offer(fate, random.Random(_num(f"offer:{number}")), every)
            level, answered = bad.get(index, (None, False))
            moves = schedule(fate, offer, number, hall.calendar, now, level, answered)
            created, performed = _carry_out(hall, number, citizen, users[citizen.number], offer, moves)
            counts["created"] += created
            counts["moves"] += performed
    finally:
        hall.clock = original
    return {"loaded": True, "citizens": len(people), "planned": len(order), **counts, **_tally(users.values())}


def _carry_out(hall, number: int, citizen: Citizen, user_id: int, offer: Offer, moves: list[Move]) -> tuple[int, int]:
    """Perform the moves of one case that are not stored yet → (cases created, moves performed)."""
    key = CASE_KEY.format(number)
    case = hall_store.case_by_idempotency_key(user_id, key)
    stored = {"submit": 0, "act": 0, "rate": 0, "answer": 0}
    floor = None
    if case is not None:
        events, ratings = hall_store.events_of(case.id), hall_store.ratings_of(case.id)
        stored = {"submit": 1, "act": len(events) - 1, "rate": len(ratings),
                  "answer": sum(r.status != "open" for r in hall_store.rectifications_of(case.id))}
        floor = max([e.at for e in events] + [r.at for r in ratings])
    case_no = case.case_no if case is not None else None
    performed = 0
    for move in moves:
        if stored[move.kind]:
            stored[move.kind] -= 1
            continue
        # a case resumed on a later day keeps its history in order
        at = move.at if floor is None else max(move.at, floor + dt.timedelta(minutes=1))
        floor = at
        hall.clock = lambda at=at: at
        if move.kind == "submit":
            case_no = _submit(hall, user_id, key, citizen, offer)
        elif move.kind == "act":
            hall.casework.act(offer.window(), case_no, move.action, move.opinion, move.result, move.step)
        elif move.kind == "rate":
            hall.ratings.rate(user_id, case_no, move.level, move.opinion)
        else:
            task = next(r for r in hall_store.rectifications_of(hall_store.get_case(case_no).id) if r.status == "open")
            hall.casework.answer_rectification(offer.window(), task.id, move.opinion)
        performed += 1
    return int(case is None), performed


def _submit(hall, user_id: int, key: str, citizen: Citizen, offer: Offer) -> str:
    materials = [{"material_id": material, "file_id": hall.uploads.save(user_id, PDF, "application/pdf")["file_id"]}
                 for material in offer.uploads]
    body = {"impl_code": offer.impl_code,
            "applicant": {"name": citizen.name, "id_number": citizen.id_number, "phone": citizen.phone},
            "form": {"contact_address": citizen.address}, "materials": materials}
    created, _ = hall.applications.submit(user_id, key, body)
    return created["case_no"]


def _tally(user_ids) -> dict:
    """What the demo citizens' cases look like now: cases by state, ratings by level, rectifications."""
    by_state: dict[str, int] = {}
    by_level: dict[str, int] = {}
    rectifications = {"open": 0, "answered": 0}
    total = 0
    for user_id in user_ids:
        cases, _ = hall_store.cases_of_user(user_id, 1, 1000)
        for case in cases:
            total += 1
            by_state[case.state] = by_state.get(case.state, 0) + 1
            for rating in hall_store.ratings_of(case.id):
                by_level[rating.level] = by_level.get(rating.level, 0) + 1
            for task in hall_store.rectifications_of(case.id):
                state = "open" if task.status == "open" else "answered"
                rectifications[state] += 1
    return {"cases": total, "by_state": dict(sorted(by_state.items())), "ratings": sum(by_level.values()),
            "ratings_by_level": dict(sorted(by_level.items())), "rectifications": rectifications}
