"""Staff accounts, regions, organisations and the append-only audit log."""
from __future__ import annotations

import datetime as dt

from items.records import AuditRecord, OrgRecord, RegionRecord, UserRecord


# --- accounts, regions, organisations ---------------------------------------------------------

def get_user(username: str) -> UserRecord | None:
    return UserRecord.get_or_none(UserRecord.username == username)


def save_user(username, password_hash, role, org, region) -> UserRecord:
    user = get_user(username)
    if user is None:
        return UserRecord.create(username=username, password_hash=password_hash, role=role, org=org, region=region)
    user.password_hash, user.role, user.org, user.region, user.active = password_hash, role, org, region, True
    user.save()
    return user


def set_password_hash(user: UserRecord, password_hash: str) -> None:
    UserRecord.update(password_hash=password_hash).where(UserRecord.id == user.id).execute()


def get_org(credit_code: str) -> OrgRecord | None:
    return OrgRecord.get_or_none(OrgRecord.credit_code == credit_code)


def get_region(code: str) -> RegionRecord | None:
    return RegionRecord.get_or_none(RegionRecord.code == code)


def ensure_region(code: str, name: str, parent: str | None, level: str) -> None:
    RegionRecord.insert(code=code, name=name, parent=parent, level=level).on_conflict(
        conflict_target=[RegionRecord.code],
        update={RegionRecord.name: name, RegionRecord.parent: parent, RegionRecord.level: level}).execute()


def ensure_org(credit_code: str, name: str, region_code: str, level: str) -> None:
    OrgRecord.insert(credit_code=credit_code, name=name, region_code=region_code, level=level).on_conflict(
        conflict_target=[OrgRecord.credit_code],
        update={OrgRecord.name: name, OrgRecord.region_code: region_code, OrgRecord.level: level}).execute()


def list_orgs(region_prefix: str | None = None) -> list[OrgRecord]:
    query = OrgRecord.select().order_by(OrgRecord.credit_code)
    if region_prefix:
        query = query.where(OrgRecord.region_code.startswith(region_prefix))
    return list(query)


def list_regions() -> list[RegionRecord]:
    return list(RegionRecord.select().order_by(RegionRecord.code))


def audit(actor: str, action: str, target: str, remote_ip: str = "", details: dict | None = None) -> None:
    AuditRecord.create(actor=actor, action=action, target=target, remote_ip=remote_ip or "",
                       details=details or {})


def audit_entries(target: str | None = None, actor: str | None = None, action: str | None = None,
                  since: dt.datetime | None = None, limit: int = 100, offset: int = 0) -> tuple[list[dict], int]:
    query = AuditRecord.select()
    if target:
        query = query.where(AuditRecord.target == target)
    if actor:
        query = query.where(AuditRecord.actor == actor)
    if action:
        query = query.where(AuditRecord.action == action)
    if since:
        query = query.where(AuditRecord.at >= since)
    total = query.count()
    rows = query.order_by(AuditRecord.id.desc()).limit(limit).offset(offset)
    return [{"id": r.id, "at": r.at.isoformat() + "Z", "actor": r.actor, "action": r.action,
             "target": r.target, "remote_ip": r.remote_ip, "details": r.details} for r in rows], total
