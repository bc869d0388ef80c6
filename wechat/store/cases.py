"""Cases: their numbers, rows and state changes, history events, handling steps and corrections."""
from __future__ import annotations

import datetime as dt

import peewee as pw

from items.clock import utcnow
from items.errors import Conflict, NotFound
from items.store import one_row
from wechat.records import CaseEventRecord, CaseRecord, CaseSerialRecord, CorrectionRecord, StepRecord


class DuplicateCase(Conflict):
    """Another request with the same idempotency key stored its case first."""


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
    return one_row(CaseRecord.select().where(CaseRecord.case_no == case_no), for_update,
                   NotFound("no such case", code="case_not_found", details={"case_no": case_no}))


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
