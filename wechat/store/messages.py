"""The outbox of subscription messages and the consents that allow them."""
from __future__ import annotations

import datetime as dt

from items.clock import utcnow
from wechat.records import ConsentRecord, OutboxRecord


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
