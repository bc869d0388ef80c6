"""Staff accounts, regions, organisations and the append-only audit log."""
from __future__ import annotations

import datetime as dt

from items.records import AuditRecord, LocalItemRecord, OrgRecord, RegionRecord, UserRecord


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


def find_regions(parent: str | None = None, level: str | None = None, within: str | None = None,
                 q: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[RegionRecord], int]:
    """One page of regions by code, filtered; `within` is a code prefix (see items.scope.region_prefix)."""
    query = RegionRecord.select()
    if parent:
        query = query.where(RegionRecord.parent == parent)
    if level:
        query = query.where(RegionRecord.level == level)
    if within:
        query = query.where(RegionRecord.code.startswith(within))
    if q:
        query = query.where(RegionRecord.name.contains(q) | RegionRecord.code.startswith(q))
    return list(query.order_by(RegionRecord.code).limit(limit).offset(offset)), query.count()


def find_orgs(within: str | None = None, region: str | None = None, level: str | None = None,
              q: str | None = None, limit: int = 50, offset: int = 0) -> tuple[list[OrgRecord], int]:
    """One page of departments by credit code, filtered; `within` is a region code prefix."""
    query = OrgRecord.select()
    if region:
        query = query.where(OrgRecord.region_code == region)
    if within:
        query = query.where(OrgRecord.region_code.startswith(within))
    if level:
        query = query.where(OrgRecord.level == level)
    if q:
        query = query.where(OrgRecord.name.contains(q) | OrgRecord.credit_code.startswith(q.upper()))
    return list(query.order_by(OrgRecord.credit_code).limit(limit).offset(offset)), query.count()


def orgs_named(name: str, region_code: str) -> list[str]:
    """Credit codes of the departments called `name` in one region."""
    return [r.credit_code for r in OrgRecord.select(OrgRecord.credit_code)
            .where((OrgRecord.name == name) & (OrgRecord.region_code == region_code))]


def all_orgs() -> list[OrgRecord]:
    return list(OrgRecord.select())


def delete_region(code: str) -> None:
    RegionRecord.delete().where(RegionRecord.code == code).execute()


def delete_org(credit_code: str) -> None:
    OrgRecord.delete().where(OrgRecord.credit_code == credit_code).execute()


def region_references(code: str) -> dict[str, int]:
    """What still refers to a region: child regions, departments, staff and local items (counts > 0 only)."""
    counts = {
        "regions": RegionRecord.select().where(RegionRecord.parent == code).count(),
        "departments": OrgRecord.select().where(OrgRecord.region_code == code).count(),
        "users": UserRecord.select().where(UserRecord.region == code).count(),
        "local_items": LocalItemRecord.select().where(LocalItemRecord.region_code == code).count(),
    }
    return {k: v for k, v in counts.items() if v}


def org_references(credit_code: str) -> dict[str, int]:
    """What still refers to a department: staff and local items (counts > 0 only)."""
    counts = {
        "users": UserRecord.select().where(UserRecord.org == credit_code).count(),
        "local_items": LocalItemRecord.select().where(LocalItemRecord.org == credit_code).count(),
    }
    return {k: v for k, v in counts.items() if v}


# --- staff accounts ------------------------------------------------------------------------------

def create_user(username: str, password_hash: str, role: str, org: str | None, region: str | None) -> UserRecord:
    return UserRecord.create(username=username, password_hash=password_hash, role=role, org=org, region=region)


def update_user(user: UserRecord, **fields) -> None:
    """Write `fields` (role, org, region, active, password_hash) of one account."""
    UserRecord.update(**fields).where(UserRecord.id == user.id).execute()


def find_users(role: str | None = None, org: str | None = None, within: str | None = None,
               disabled: bool | None = None, q: str | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[UserRecord], int]:
    """One page of staff accounts by username, filtered; `within` is a region code prefix."""
    query = UserRecord.select()
    if role:
        query = query.where(UserRecord.role == role)
    if org:
        query = query.where(UserRecord.org == org)
    if within:
        query = query.where(UserRecord.region.startswith(within))
    if disabled is not None:
        query = query.where(UserRecord.active == (not disabled))
    if q:
        query = query.where(UserRecord.username.contains(q))
    return list(query.order_by(UserRecord.username).limit(limit).offset(offset)), query.count()


def active_admins() -> int:
    return UserRecord.select().where((UserRecord.role == "province_admin") & UserRecord.active).count()


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
