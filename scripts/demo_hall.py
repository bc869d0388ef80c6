"""The demonstration branch hall behind `govhall demo`: citizens, their cases through the life cycle, ratings.

`load(ctx, departments)` files about 150 cases of 40 demonstration citizens against published local items
over the last three months and moves them the way window staff and citizens would (DOMAIN.md §5): most
are accepted, worked through their steps, finished (a few refused, some late) and delivered, and most of
those rated — a few badly, which opens rectification tasks, two of them answered; the rest are still
submitted, accepted, in progress, waiting for a correction or suspended. Time runs through
`ctx.hall.clock`, so every date and due date is a real working day of China's calendar.

The plans are scripts/demo_plan.py's. Each case has a fixed Idempotency-Key. A later run plans every case again, counts what is stored
(events, ratings, answers) and only performs what is missing, so a complete demo writes no case.

The citizens are fictitious: openids `demo-openid-001`…, ID numbers of 平顶山's region codes with
sequence `00x` and a valid check character, phones `1380000xxxx`.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import random
from dataclasses import dataclass

from items import codes, model
from items import store as item_store
from scripts import demo_paperwork as paperwork
from scripts import demo_vocabulary as vocab
from scripts.demo_plan import Move, Offer, bad_ratings, choose_offer, fates, num, schedule
from wechat import store as hall_store

logger = logging.getLogger(__name__)

CITIZENS = 40
OPENID = "demo-openid-{:03d}"
CASE_KEY = "demo-case-{:03d}"  # the Idempotency-Key of demonstration case k
APPLICABLE = frozenset({"01", "04", "05", "07", "08", "09", "10", "20"})  # 02/03/06 are started by the state
QUIET_LOGGERS = ("wechat.applications", "wechat.casework", "wechat.ratings")


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
        rng = random.Random(num(f"citizen:{n}"))
        region = places[n % len(places)]
        born = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(48 * 365))
        name = paperwork.SURNAMES[n % len(paperwork.SURNAMES)] + paperwork.GIVEN_NAMES[(n * 7) % len(paperwork.GIVEN_NAMES)]
        address = f"{vocab.CITY[1]}{regions.get(region, '')}{rng.choice(paperwork.STREETS)}{rng.randint(1, 300)}号"
        out.append(Citizen(n, name, codes.make_id_number(f"{region}{born:%Y%m%d}00{n % 10}"),
                           f"1380000{n:04d}", address))
    return out


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
    logger.info("demonstration cases: %s planned for %s citizens", len(order), len(people))
    try:
        with _quiet():
            for index, fate in enumerate(order):
                number = index + 1
                citizen = people[index % len(people)]
                offer = choose_offer(fate, random.Random(num(f"offer:{number}")), every)
                level, answered = bad.get(index, (None, False))
                moves = schedule(fate, offer, number, hall.calendar, now, level, answered)
                created, performed = _carry_out(hall, number, citizen, users[citizen.number], offer, moves)
                counts["created"] += created
                counts["moves"] += performed
    finally:
        hall.clock = original
    summary = {"loaded": True, "citizens": len(people), "planned": len(order), **counts, **_tally(users.values())}
    logger.info("demonstration cases: %s created, %s moves performed, %s cases and %s ratings stored",
                counts["created"], counts["moves"], summary["cases"], summary["ratings"])
    return summary


@contextlib.contextmanager
def _quiet():
    """Keep the hall's one-line-per-move INFO logs out of a bulk load (they would drown the progress bar)."""
    loggers = [logging.getLogger(name) for name in QUIET_LOGGERS]
    levels = [each.level for each in loggers]
    for each in loggers:
        each.setLevel(max(each.getEffectiveLevel(), logging.WARNING))
    try:
        yield
    finally:
        for each, level in zip(loggers, levels):
            each.setLevel(level)


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
            hall.casework.perform(offer.window(), case_no, move.action, move.opinion, move.result, move.step)
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
