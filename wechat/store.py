"""Every database query and write of the branch hall (wechat/records.py)."""
from __future__ import annotations

import datetime as dt

import peewee as pw

from items import store as item_store
from items.errors import Conflict, NotFound
from items.clock import CHINA_OFFSET, utcnow
from items.records import database
from items.store import is_postgres, transaction  # noqa: F401 - one write transaction for the hall too
from wechat.records import (CaseEventRecord, CaseRecord, CaseSerialRecord, ConsentRecord, CorrectionRecord,
                            HallUserRecord, HolidayYearRecord, OutboxRecord, RatingRecord, RectificationRecord,
                            StepRecord, UploadRecord)


class DuplicateCase(Conflict):
    """Another request with the same idempotency key stored its case first."""


# --- hall users and uploads ------------------------------------------------------------------------

def ensure_hall_user(openid: str, unionid: str | None = None) -> HallUserRecord:
    """Return the hall user of `openid`, creating it on first sight."""
    HallUserRecord.insert(openid=openid, unionid=unionid, created_at=utcnow()).on_conflict_ignore().execute()
    user = HallUserRecord.get(HallUserRecord.openid == openid)
    if unionid and user.unionid != unionid:
        HallUserRecord.update(unionid=unionid).where(HallUserRecord.id == user.id).execute()
        user.unionid = unionid
    return user


def hall_user(user_id: int) -> HallUserRecord:
    """Return a hall user. Raises NotFound."""
    user = HallUserRecord.get_or_none(HallUserRecord.id == user_id)
    if user is None:
        raise NotFound("no such hall user", code="hall_user_not_found", details={"user_id": user_id})
    return user


def insert_upload(file_id: str, sha256: str, size: int, content_type: str, owner_id: int) -> UploadRecord:
    return UploadRecord.create(file_id=file_id, sha256=sha256, size=size, content_type=content_type,
                               owner=owner_id, created_at=utcnow())


def uploads_of(owner_id: int, file_ids: list[str]) -> dict[str, UploadRecord]:
    """The owner's uploads among `file_ids`, by file id; other users' files are simply absent."""
    if not file_ids:
        return {}
    query = UploadRecord.select().where((UploadRecord.owner == owner_id) & UploadRecord.file_id.in_(file_ids))
    return {row.file_id: row for row in query}


# --- cases -------------------------------------------------------------------------------------------

def next_case_serial(impl_code: str, day: str) -> int:
    """Return the next serial of `impl_code` on `day` (yyyyMMdd), inside the caller's transaction.

    One upsert that returns the new value: it locks the counter row on PostgreSQL, so concurrent
    submits queue on it instead of colliding (SQLite ≥ 3.35 and PostgreSQL both have RETURNING).
    """
    cursor = (CaseSerialRecord.insert(impl_code=impl_code, day=day, last=1)
              .on_conflict(conflict_target=[CaseSerialRecord.impl_code, CaseSerialRecord.day],
                           update={CaseSerialRecord.last: CaseSerialRecord.last + 1})
              .returning(CaseSerialRecord.last).execute())
    return next(iter(cursor)).last


def case_by_idempotency_key(user_id: int, key: str) -> CaseRecord | None:
    return CaseRecord.get_or_none((CaseRecord.user == user_id) & (CaseRecord.idempotency_key == key))


def insert_case(row: dict) -> CaseRecord:
    """Insert a case inside the caller's transaction.

    Raises DuplicateCase on a unique violation; the transaction is then lost (PostgreSQL aborts it),
    so the caller looks the earlier case up after leaving it.
    """
    try:
        return CaseRecord.create(**row)
    except pw.IntegrityError as exc:
        raise DuplicateCase("an application with this Idempotency-Key exists", code="duplicate_case",
                            details={}) from exc


def get_case(case_no: str, for_update: bool = False) -> CaseRecord:
    """Return a case. Raises NotFound (case_not_found). `for_update` locks the row on PostgreSQL."""
    query = CaseRecord.select().where(CaseRecord.case_no == case_no)
    if for_update and is_postgres():
        query = query.for_update()
    case = query.first()
    if case is None:
        raise NotFound("no such case", code="case_not_found", details={"case_no": case_no})
    return case


def find_case(case_no: str) -> CaseRecord | None:
    return CaseRecord.get_or_none(CaseRecord.case_no == case_no)


def update_case(case: CaseRecord, expected_state: str, changes: dict) -> CaseRecord:
    """Move a case out of `expected_state` inside the caller's transaction.

    Raises Conflict (case_changed) when another writer moved it first.
    """
    changes = dict(changes, updated_at=utcnow())
    updated = (CaseRecord.update(**changes)
               .where((CaseRecord.id == case.id) & (CaseRecord.state == expected_state)).execute())
    if updated != 1:
        raise Conflict("the case changed while saving; reload it", code="case_changed",
                       details={"case_no": case.case_no, "expected_state": expected_state})
    for key, value in changes.items():
        setattr(case, key, value)
    return case


def cases_of_user(user_id: int, page: int, size: int) -> tuple[list[CaseRecord], int]:
    query = CaseRecord.select().where(CaseRecord.user == user_id)
    total = query.count()
    return list(query.order_by(CaseRecord.id.desc()).paginate(page, size)), total


def list_cases(org: str, states: tuple[str, ...] | None = None, due_before: dt.date | None = None,
               due_from: dt.date | None = None, due_to: dt.date | None = None,
               page: int = 1, size: int = 50, *, due_after: dt.date | None = None, impl_code: str | None = None,
               submitted_from: dt.datetime | None = None, submitted_to: dt.datetime | None = None,
               case_no_prefix: str | None = None) -> tuple[list[CaseRecord], int]:
    """Cases of one org, newest first; `due_before` keeps due dates before it, `due_from..due_to` within,
    `due_after` after it; submitted in [submitted_from, submitted_to) (naive UTC); case numbers by prefix."""
    query = CaseRecord.select().where(CaseRecord.org == org)
    if due_after is not None:
        query = query.where(CaseRecord.due_date > due_after)
    if impl_code:
        query = query.where(CaseRecord.impl_code == impl_code)
    if submitted_from is not None:
        query = query.where(CaseRecord.submitted_at >= submitted_from)
    if submitted_to is not None:
        query = query.where(CaseRecord.submitted_at < submitted_to)
    if case_no_prefix:
        query = query.where(CaseRecord.case_no.startswith(case_no_prefix))
    if states:
        query = query.where(CaseRecord.state.in_(list(states)))
    if due_before is not None:
        query = query.where(CaseRecord.due_date < due_before)
    if due_from is not None:
        query = query.where(CaseRecord.due_date >= due_from)
    if due_to is not None:
        query = query.where(CaseRecord.due_date <= due_to)
    total = query.count()
    return list(query.order_by(CaseRecord.id.desc()).paginate(page, size)), total


# --- history, steps, corrections --------------------------------------------------------------------

def insert_event(case: CaseRecord, from_state: str | None, to_state: str, action: str, actor: str,
                 opinion: str, at: dt.datetime, day: dt.date) -> CaseEventRecord:
    return CaseEventRecord.create(case=case.id, from_state=from_state, to_state=to_state, action=action,
                                  actor=actor, opinion=opinion or "", at=at, day=day)


def events_of(case_id: int) -> list[CaseEventRecord]:
    return list(CaseEventRecord.select().where(CaseEventRecord.case == case_id).order_by(CaseEventRecord.id))


def steps_of(case_id: int) -> list[StepRecord]:
    return list(StepRecord.select().where(StepRecord.case == case_id).order_by(StepRecord.seq))


def insert_step(case_id: int, seq: int, name: str, action: str, handler: str, opinion: str,
                start: dt.datetime, end: dt.datetime | None) -> StepRecord:
    return StepRecord.create(case=case_id, seq=seq, name=name, action=action, handler=handler,
                             opinion=opinion or "", start=start, end=end)


def corrections_of(case_id: int) -> list[CorrectionRecord]:
    return list(CorrectionRecord.select().where(CorrectionRecord.case == case_id).order_by(CorrectionRecord.id))


def insert_correction(case_id: int, opinion: str, requested_by: str, at: dt.datetime,
                      materials: list[str] | None = None) -> CorrectionRecord:
    return CorrectionRecord.create(case=case_id, opinion=opinion, requested_by=requested_by, requested_at=at,
                                   materials=list(materials or []))


def resolve_corrections(case_id: int, at: dt.datetime) -> None:
    CorrectionRecord.update(resolved_at=at).where(
        (CorrectionRecord.case == case_id) & CorrectionRecord.resolved_at.is_null()).execute()


# --- ratings and rectifications ----------------------------------------------------------------------

def ratings_of(case_id: int) -> list[RatingRecord]:
    return list(RatingRecord.select().where(RatingRecord.case == case_id).order_by(RatingRecord.id))


def insert_rating(case_id: int, level: str, comment: str, kind: str, at: dt.datetime) -> RatingRecord:
    """Insert a rating. Raises Conflict (rating_closed) when a concurrent request stored this kind first."""
    try:
        with database.atomic():
            return RatingRecord.create(case=case_id, level=level, comment=comment, kind=kind, at=at)
    except pw.IntegrityError as exc:
        raise Conflict("this case already has that rating", code="rating_closed", details={"kind": kind}) from exc


def insert_rectification(rating: RatingRecord, case: CaseRecord, due_date: dt.date) -> RectificationRecord:
    return RectificationRecord.create(rating=rating.id, case=case.id, org=case.org, due_date=due_date,
                                      status="open", created_at=utcnow())


def rectifications_of_org(org: str, status: str | None) -> list[tuple]:
    """(rectification, rating, case) of one org, earliest due first; all statuses when `status` is None."""
    query = (RectificationRecord.select(RectificationRecord, RatingRecord, CaseRecord)
             .join(RatingRecord, on=(RectificationRecord.rating == RatingRecord.id))
             .switch(RectificationRecord).join(CaseRecord, on=(RectificationRecord.case == CaseRecord.id))
             .where(RectificationRecord.org == org))
    if status:
        query = query.where(RectificationRecord.status == status)
    return [(r, r.rating, r.case) for r in query.order_by(RectificationRecord.due_date, RectificationRecord.id)]


def rectifications_of(case_id: int) -> list[RectificationRecord]:
    return list(RectificationRecord.select().where(RectificationRecord.case == case_id)
                .order_by(RectificationRecord.id))


def rectification(rectification_id: int, for_update: bool = False) -> RectificationRecord:
    """Return a rectification task. Raises NotFound (rectification_not_found)."""
    query = RectificationRecord.select().where(RectificationRecord.id == rectification_id)
    if for_update and is_postgres():
        query = query.for_update()
    record = query.first()
    if record is None:
        raise NotFound("no such rectification task", code="rectification_not_found",
                       details={"id": rectification_id})
    return record


def answer_rectification(record: RectificationRecord, answer: str, by: str, at: dt.datetime) -> None:
    RectificationRecord.update(status="answered", answer=answer, answered_by=by, answered_at=at).where(
        RectificationRecord.id == record.id).execute()
    record.status, record.answer, record.answered_by, record.answered_at = "answered", answer, by, at


# --- outbox and consent ------------------------------------------------------------------------------

def queue_message(kind: str, dedupe_key: str, user_id: int | None, openid: str, template: str,
                  payload: dict, at: dt.datetime) -> None:
    """Queue a message inside the caller's transaction; a second call with the same dedupe key is a no-op."""
    OutboxRecord.insert(kind=kind, dedupe_key=dedupe_key, user=user_id, openid=openid, template=template,
                        payload=payload, created_at=at, next_attempt_at=at).on_conflict_ignore().execute()


def outbox_for(openid: str | None = None, dedupe_prefix: str | None = None) -> list[OutboxRecord]:
    """Queued messages, oldest first, filtered by recipient or by dedupe-key prefix (a case number)."""
    query = OutboxRecord.select()
    if openid is not None:
        query = query.where(OutboxRecord.openid == openid)
    if dedupe_prefix is not None:
        query = query.where(OutboxRecord.dedupe_key.startswith(dedupe_prefix))
    return list(query.order_by(OutboxRecord.id))


def due_messages(now: dt.datetime, limit: int = 100) -> list[OutboxRecord]:
    """Unsent messages whose next attempt is due, oldest first (for the sending worker)."""
    return list(OutboxRecord.select().where(OutboxRecord.sent_at.is_null() & (OutboxRecord.next_attempt_at <= now))
                .order_by(OutboxRecord.id).limit(limit))


def add_consent(user_id: int, template_id: str, count: int = 1) -> int:
    """Add `count` consents of a user for a template; return the new count."""
    ConsentRecord.insert(user=user_id, template_id=template_id, count=0).on_conflict_ignore().execute()
    where = (ConsentRecord.user == user_id) & (ConsentRecord.template_id == template_id)
    ConsentRecord.update(count=ConsentRecord.count + count, updated_at=utcnow()).where(where).execute()
    return ConsentRecord.get(where).count


def consent_count(user_id: int, template_id: str) -> int:
    record = ConsentRecord.get_or_none((ConsentRecord.user == user_id) & (ConsentRecord.template_id == template_id))
    return record.count if record else 0


# --- outbox and login ---------------------------------------------------------------------------------
# The sending worker (wechat/outbox.py) claims a due row by compare-and-set on `attempts`: the claim moves
# next_attempt_at to the end of a lease, and only the holder of that attempt number may settle or
# reschedule the row. Safe with any number of workers, on SQLite and PostgreSQL alike.

def claim_message(message_id: int, seen_attempts: int, now: dt.datetime, lease_until: dt.datetime) -> bool:
    """Claim a pending, due row whose attempts is still `seen_attempts`; True when this caller got it."""
    return OutboxRecord.update(attempts=OutboxRecord.attempts + 1, next_attempt_at=lease_until).where(
        (OutboxRecord.id == message_id) & OutboxRecord.sent_at.is_null()
        & (OutboxRecord.attempts == seen_attempts) & (OutboxRecord.next_attempt_at <= now)).execute() == 1


def settle_message(message_id: int, attempt: int, at: dt.datetime, note: str = "") -> bool:
    """Mark a claimed row done at `at` (sent, or skipped with `note` saying why); False when the claim was lost."""
    return OutboxRecord.update(sent_at=at, last_error=note).where(
        (OutboxRecord.id == message_id) & OutboxRecord.sent_at.is_null()
        & (OutboxRecord.attempts == attempt)).execute() == 1


def reschedule_message(message_id: int, attempt: int, next_attempt_at: dt.datetime, error: str) -> bool:
    """Put a claimed row back for another attempt at `next_attempt_at`; False when the claim was lost."""
    return OutboxRecord.update(next_attempt_at=next_attempt_at, last_error=error).where(
        (OutboxRecord.id == message_id) & OutboxRecord.sent_at.is_null()
        & (OutboxRecord.attempts == attempt)).execute() == 1


def take_consent(user_id: int, template_id: str) -> bool:
    """Use one consent of a user for a template; False (and nothing changed) when none is left."""
    return ConsentRecord.update(count=ConsentRecord.count - 1, updated_at=utcnow()).where(
        (ConsentRecord.user == user_id) & (ConsentRecord.template_id == template_id)
        & (ConsentRecord.count > 0)).execute() == 1


def clear_consent(user_id: int, template_id: str) -> None:
    """Set a user's consent count for a template to 0 (WeChat said none is left)."""
    ConsentRecord.update(count=0, updated_at=utcnow()).where(
        (ConsentRecord.user == user_id) & (ConsentRecord.template_id == template_id)).execute()


def pending_message_count(now: dt.datetime | None = None) -> int:
    """Unsent rows; only those due by `now` when given."""
    query = OutboxRecord.select().where(OutboxRecord.sent_at.is_null())
    if now is not None:
        query = query.where(OutboxRecord.next_attempt_at <= now)
    return query.count()


# --- case figures for the statistics -----------------------------------------------------------------



def case_counts(region_prefix: str | None, since: dt.datetime | None, until: dt.datetime | None) -> dict:
    """Counts behind 按期办结率, 满意率 and 差评整改 for cases of a region in (since, until] (naive UTC).

    A case is on time when its China-time finishing day is not after its due date (the promised date
    moved by paused days). Ratings count the applicant's first rating of each case in the window.
    """
    cases = CaseRecord.select(CaseRecord.finished_at, CaseRecord.due_date, CaseRecord.promised_date).where(
        CaseRecord.finished_at.is_null(False))
    ratings = (RatingRecord.select(RatingRecord.id, RatingRecord.level).join(CaseRecord)
               .where(RatingRecord.kind == "first"))
    if region_prefix:
        cases = cases.where(CaseRecord.region_code.startswith(region_prefix))
        ratings = ratings.where(CaseRecord.region_code.startswith(region_prefix))
    if since:
        cases = cases.where(CaseRecord.finished_at > since)
        ratings = ratings.where(RatingRecord.at > since)
    if until:
        cases = cases.where(CaseRecord.finished_at <= until)
        ratings = ratings.where(RatingRecord.at <= until)
    finished = on_time = 0
    for case in cases:
        finished += 1
        due = case.due_date or case.promised_date
        if due is None or (case.finished_at + CHINA_OFFSET).date() <= due:
            on_time += 1
    by_level: dict[str, int] = {}
    rating_ids = []
    for rating in ratings:
        by_level[rating.level] = by_level.get(rating.level, 0) + 1
        rating_ids.append(rating.id)
    rectified = 0
    for start in range(0, len(rating_ids), 500):
        rectified += (RectificationRecord.select()
                      .where(RectificationRecord.rating.in_(rating_ids[start:start + 500]),
                             RectificationRecord.status.in_(("answered", "closed"))).count())
    return {"finished": finished, "finished_on_time": on_time, "ratings_by_level": by_level,
            "bad_rectified": rectified}


# --- the audit of what staff read about applicants ----------------------------------------------------

def audit(actor: str, action: str, case_no: str, remote_ip: str, details: dict) -> None:
    """Append an audit row for a case inside the caller's transaction (items' one append-only log)."""
    item_store.audit(actor, action, case_no, remote_ip, details)


def audit_entries(action: str, page: int, size: int) -> tuple[list[dict], int]:
    return item_store.audit_entries(action=action, limit=size, offset=(page - 1) * size)


# --- the official holiday calendar ---------------------------------------------------------------

def holiday_years() -> dict[int, HolidayYearRecord]:
    """Every stored year of the official holiday calendar, by year."""
    return {row.year: row for row in HolidayYearRecord.select()}


def holiday_year(year: int) -> HolidayYearRecord | None:
    return HolidayYearRecord.get_or_none(HolidayYearRecord.year == year)


def save_holiday_year(year: int, holidays: list[str], workdays: list[str], source: str,
                      loaded_by: str) -> tuple[HolidayYearRecord, bool]:
    """Create or replace a year inside the caller's transaction; return (row, created)."""
    row = holiday_year(year)
    created = row is None
    row = row or HolidayYearRecord(year=year)
    row.holidays, row.workdays, row.source = holidays, workdays, source
    row.loaded_by, row.loaded_at = loaded_by, utcnow()
    row.save()
    return row, created
