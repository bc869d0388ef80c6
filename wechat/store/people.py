"""Citizens of the branch hall, their uploads, and the audit of what staff read about them."""
from __future__ import annotations

from items import store as item_store
from items.clock import utcnow
from items.errors import NotFound
from wechat.records import HallUserRecord, UploadRecord


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


# --- the audit of what staff read about applicants ----------------------------------------------------

def audit(actor: str, action: str, case_no: str, remote_ip: str, details: dict) -> None:
    """Append an audit row for a case inside the caller's transaction (items' one append-only log)."""
    item_store.audit(actor, action, case_no, remote_ip, details)


def audit_entries(action: str, page: int, size: int) -> tuple[list[dict], int]:
    return item_store.audit_entries(action=action, limit=size, offset=(page - 1) * size)
