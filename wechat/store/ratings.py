"""Ratings of finished cases and the rectifications a bad rating opens."""
from __future__ import annotations

import datetime as dt

import peewee as pw

from items.clock import utcnow
from items.errors import Conflict, NotFound
from items.records import database
from items.store import one_row
from wechat.records import CaseRecord, RatingRecord, RectificationRecord


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
    return one_row(RectificationRecord.select().where(RectificationRecord.id == rectification_id), for_update,
                   NotFound("no such rectification task", code="rectification_not_found",
                            details={"id": rectification_id}))


def answer_rectification(record: RectificationRecord, answer: str, by: str, at: dt.datetime) -> None:
    RectificationRecord.update(status="answered", answer=answer, answered_by=by, answered_at=at).where(
        RectificationRecord.id == record.id).execute()
    record.status, record.answer, record.answered_by, record.answered_at = "answered", answer, by, at
