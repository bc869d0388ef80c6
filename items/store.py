"""Queries and writes of items/records.py: every version kept as full document plus verified patch."""
from __future__ import annotations

import contextlib
import datetime as dt

import peewee as pw

from items.errors import Conflict, NotFound, Stale
from items.records import (AuditRecord, CatalogueItemRecord, CatalogueVersionRecord, LocalItemRecord,
                           LocalVersionRecord, OrgRecord, RegionRecord, UserRecord, database, utcnow)

BATCH = 500


@contextlib.contextmanager
def transaction():
    """One write transaction. On SQLite it takes the write lock at BEGIN (IMMEDIATE), so two
    writers queue on busy_timeout instead of one failing when it upgrades a read lock."""
    db = database.obj
    if isinstance(db, pw.SqliteDatabase):
        with db.atomic("IMMEDIATE") as txn:
            yield txn
    else:
        with db.atomic() as txn:
            yield txn


def is_postgres() -> bool:
    return isinstance(database.obj, pw.PostgresqlDatabase)


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


# --- catalogue ----------------------------------------------------------------------------------

def catalogue_head(basic_code: str) -> CatalogueItemRecord | None:
    return CatalogueItemRecord.get_or_none(CatalogueItemRecord.basic_code == basic_code)


def catalogue_heads(basic_codes: list[str]) -> dict[str, CatalogueItemRecord]:
    out = {}
    for start in range(0, len(basic_codes), BATCH):
        chunk = basic_codes[start:start + BATCH]
        for head in CatalogueItemRecord.select().where(CatalogueItemRecord.basic_code.in_(chunk)):
            out[head.basic_code] = head
    return out


def catalogue_documents(keys: list[tuple[str, int]]) -> dict[str, dict]:
    """The documents of (basic_code, version) pairs, keyed by basic code."""
    out = {}
    by_version: dict[int, list[str]] = {}
    for code, version in keys:
        by_version.setdefault(version, []).append(code)
    for version, codes_ in by_version.items():
        for start in range(0, len(codes_), BATCH):
            chunk = codes_[start:start + BATCH]
            query = (CatalogueVersionRecord.select(CatalogueVersionRecord.basic_code, CatalogueVersionRecord.document)
                     .where(CatalogueVersionRecord.basic_code.in_(chunk), CatalogueVersionRecord.version == version))
            for row in query:
                out[row.basic_code] = row.document
    return out


def catalogue_version(basic_code: str, version: int | None = None) -> CatalogueVersionRecord:
    """A catalogue version (the latest when `version` is None). Raises NotFound."""
    head = catalogue_head(basic_code)
    if head is None:
        raise NotFound(f"no catalogue item {basic_code}", code="catalogue_item_not_found",
                       details={"basic_code": basic_code})
    wanted = head.latest_version if version is None else version
    record = CatalogueVersionRecord.get_or_none(
        (CatalogueVersionRecord.basic_code == basic_code) & (CatalogueVersionRecord.version == wanted))
    if record is None:
        raise NotFound(f"catalogue item {basic_code} has no version {wanted}", code="version_not_found",
                       details={"basic_code": basic_code, "version": wanted, "latest": head.latest_version})
    return record


def catalogue_versions(basic_code: str) -> list[CatalogueVersionRecord]:
    query = (CatalogueVersionRecord
             .select(CatalogueVersionRecord.version, CatalogueVersionRecord.author,
                     CatalogueVersionRecord.created_at, CatalogueVersionRecord.message, CatalogueVersionRecord.patch)
             .where(CatalogueVersionRecord.basic_code == basic_code).order_by(CatalogueVersionRecord.version))
    return list(query)


def insert_catalogue_versions(rows: list[dict]) -> None:
    """Insert version rows and create or move their heads. Each row: basic_code, version, author,
    message, document, patch, created_at."""
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        CatalogueVersionRecord.insert_many(chunk).execute()
        heads = [{"basic_code": r["basic_code"], "name": r["document"]["name"], "item_type": r["document"]["item_type"],
                  "state": r["document"].get("state", "in_use"), "levels": ",".join(r["document"].get("levels", [])),
                  "latest_version": r["version"], "updated_at": r["created_at"]} for r in chunk]
        CatalogueItemRecord.insert_many(heads).on_conflict(
            conflict_target=[CatalogueItemRecord.basic_code],
            preserve=[CatalogueItemRecord.name, CatalogueItemRecord.item_type, CatalogueItemRecord.state,
                      CatalogueItemRecord.levels, CatalogueItemRecord.latest_version,
                      CatalogueItemRecord.updated_at]).execute()


def list_catalogue(q: str | None = None, item_type: str | None = None, state: str | None = None,
                   level: str | None = None, page: int = 1, size: int = 50) -> tuple[list[CatalogueItemRecord], int]:
    query = CatalogueItemRecord.select()
    if q:
        query = query.where(CatalogueItemRecord.name.contains(q) | CatalogueItemRecord.basic_code.startswith(q))
    if item_type:
        query = query.where(CatalogueItemRecord.item_type == item_type)
    if state:
        query = query.where(CatalogueItemRecord.state == state)
    if level:
        query = query.where(CatalogueItemRecord.levels.contains(level))
    total = query.count()
    rows = list(query.order_by(CatalogueItemRecord.basic_code).paginate(page, size))
    return rows, total


# --- local items ----------------------------------------------------------------------------------

def local_head(impl_code: str, for_update: bool = False) -> LocalItemRecord:
    """The head of a local item. Raises NotFound. `for_update` locks the row on PostgreSQL."""
    query = LocalItemRecord.select().where(LocalItemRecord.impl_code == impl_code)
    if for_update and is_postgres():
        query = query.for_update()
    head = query.first()
    if head is None:
        raise NotFound(f"no local item {impl_code}", code="item_not_found", details={"impl_code": impl_code})
    return head


def local_version(impl_code: str, version: int) -> LocalVersionRecord:
    record = LocalVersionRecord.get_or_none(
        (LocalVersionRecord.impl_code == impl_code) & (LocalVersionRecord.version == version))
    if record is None:
        raise NotFound(f"item {impl_code} has no version {version}", code="version_not_found",
                       details={"impl_code": impl_code, "version": version})
    return record


def local_versions(impl_code: str) -> list[LocalVersionRecord]:
    query = (LocalVersionRecord
             .select(LocalVersionRecord.version, LocalVersionRecord.author, LocalVersionRecord.created_at,
                     LocalVersionRecord.message, LocalVersionRecord.based_on_catalogue_version,
                     LocalVersionRecord.patch)
             .where(LocalVersionRecord.impl_code == impl_code).order_by(LocalVersionRecord.version))
    return list(query)


def local_exists(basic_code: str, org: str, level: str) -> bool:
    return LocalItemRecord.select().where(
        (LocalItemRecord.basic_code == basic_code) & (LocalItemRecord.org == org)
        & (LocalItemRecord.level == level)).exists()


def insert_local_item(head: dict, version_row: dict) -> LocalItemRecord:
    """Create a local item with its first version. Raises Conflict when the code exists."""
    try:
        with database.atomic():
            record = LocalItemRecord.create(**head)
            LocalVersionRecord.create(**version_row)
    except pw.IntegrityError as exc:
        raise Conflict(f"item {head['impl_code']} is already claimed", code="already_claimed",
                       details={"impl_code": head["impl_code"]}) from exc
    return record


def append_local_version(head: LocalItemRecord, expected_version: int | None, version_row: dict,
                         head_changes: dict) -> LocalItemRecord:
    """Write version N+1 of a local item and move its head, inside the caller's transaction.
    Raises Stale when `expected_version` is given and is not the latest."""
    if expected_version is not None and head.latest_version != expected_version:
        raise Stale(f"item {head.impl_code} is at version {head.latest_version}, not {expected_version}",
                    details={"current_version": head.latest_version, "if_match": expected_version})
    new_version = head.latest_version + 1
    LocalVersionRecord.create(**dict(version_row, impl_code=head.impl_code, version=new_version))
    changes = dict(head_changes, latest_version=new_version, updated_at=utcnow())
    updated = (LocalItemRecord.update(**changes)
               .where((LocalItemRecord.impl_code == head.impl_code)
                      & (LocalItemRecord.latest_version == head.latest_version)).execute())
    if updated != 1:  # another writer moved the head between our read and write
        raise Stale(f"item {head.impl_code} changed while saving", details={"if_match": expected_version})
    for key, value in changes.items():
        setattr(head, key, value)
    return head


def update_local_head(impl_code: str, **changes) -> None:
    changes["updated_at"] = utcnow()
    LocalItemRecord.update(**changes).where(LocalItemRecord.impl_code == impl_code).execute()


def list_local(org: str | None = None, region_prefix: str | None = None, status: str | None = None,
               basic_code: str | None = None, outdated: bool = False, orgs_in: list[str] | None = None,
               page: int = 1, size: int = 50) -> tuple[list[LocalItemRecord], int]:
    query = LocalItemRecord.select()
    if org:
        query = query.where(LocalItemRecord.org == org)
    if region_prefix:
        query = query.where(LocalItemRecord.region_code.startswith(region_prefix))
    if status:
        query = query.where(LocalItemRecord.status == status)
    if basic_code:
        query = query.where(LocalItemRecord.basic_code == basic_code)
    if outdated:
        query = (query.join(CatalogueItemRecord, on=(LocalItemRecord.basic_code == CatalogueItemRecord.basic_code))
                 .where(LocalItemRecord.based_on_catalogue_version < CatalogueItemRecord.latest_version))
    total = query.count()
    rows = list(query.order_by(LocalItemRecord.impl_code).paginate(page, size))
    return rows, total


# --- workflow ---------------------------------------------------------------------------------------
# Review transitions, the transition log, whole-history reads and claim coverage (items/workflow.py,
# items/local.py).

from items.records import WorkflowEventRecord  # noqa: E402 - kept with the block that uses it


def move_local_status(head: LocalItemRecord, expected_status: str, changes: dict) -> LocalItemRecord:
    """Move a local item's head out of `expected_status`, inside the caller's transaction.
    Raises Conflict when another writer changed the status or version first."""
    changes = dict(changes, updated_at=utcnow())
    updated = (LocalItemRecord.update(**changes)
               .where((LocalItemRecord.impl_code == head.impl_code)
                      & (LocalItemRecord.status == expected_status)
                      & (LocalItemRecord.latest_version == head.latest_version)).execute())
    if updated != 1:
        raise Conflict(f"item {head.impl_code} changed while moving it", code="status_changed",
                       details={"impl_code": head.impl_code, "expected_status": expected_status})
    for key, value in changes.items():
        setattr(head, key, value)
    return head


def insert_workflow_event(impl_code: str, version: int, action: str, from_status: str, to_status: str,
                          actor: str, comment: str = "", at: dt.datetime | None = None) -> WorkflowEventRecord:
    return WorkflowEventRecord.create(impl_code=impl_code, version=version, action=action,
                                      from_status=from_status, to_status=to_status, actor=actor,
                                      comment=comment or "", at=at or utcnow())


def workflow_events(impl_code: str) -> list[WorkflowEventRecord]:
    """The transition log of one item, oldest first."""
    return list(WorkflowEventRecord.select().where(WorkflowEventRecord.impl_code == impl_code)
                .order_by(WorkflowEventRecord.id))


def local_version_documents(impl_code: str, up_to: int | None = None) -> list[LocalVersionRecord]:
    """Every version of one item with its document and patch, oldest first (optionally up to `up_to`)."""
    query = LocalVersionRecord.select().where(LocalVersionRecord.impl_code == impl_code)
    if up_to is not None:
        query = query.where(LocalVersionRecord.version <= up_to)
    return list(query.order_by(LocalVersionRecord.version))


def catalogue_applying(level: str) -> list[CatalogueItemRecord]:
    """In-use catalogue items whose levels include `level` (认领率's denominator: DOMAIN.md §4)."""
    query = CatalogueItemRecord.select().where((CatalogueItemRecord.state == "in_use")
                                               & CatalogueItemRecord.levels.contains(level))
    return [r for r in query.order_by(CatalogueItemRecord.basic_code) if level in r.levels.split(",")]


def claimed_basic_codes(region_code: str, level: str) -> set[str]:
    """Basic codes some department of exactly `region_code` has claimed at `level`."""
    query = (LocalItemRecord.select(LocalItemRecord.basic_code).distinct()
             .where((LocalItemRecord.region_code == region_code) & (LocalItemRecord.level == level)))
    return {r.basic_code for r in query}


# --- statistics ---

from items.metrics import FACT_NAMES  # noqa: E402
from items.records import ItemFactsChangeRecord, ItemFactsRecord, ItemFactsTotalRecord  # noqa: E402

FACT_DIMENSIONS = ("region_code", "org", "level", "item_type", "service_objects")


def close_open_facts(impl_code: str, at: dt.datetime) -> dict | None:
    """End the current facts row of an item at `at` → that row's columns, or None when there was none.

    Raises Conflict (facts_out_of_order) when `at` lies before that row began: intervals never invert.
    """
    F = ItemFactsRecord
    current = F.select().where((F.impl_code == impl_code) & F.valid_to.is_null()).dicts().first()
    if current is None:
        return None
    if at < current["valid_from"]:
        raise Conflict(f"item {impl_code} was last published after {at.isoformat()}", code="facts_out_of_order",
                       details={"impl_code": impl_code, "at": at.isoformat(),
                                "current_from": current["valid_from"].isoformat()})
    F.update(valid_to=at).where(F.id == current["id"]).execute()
    return current


def _upsert(model, keys: dict, row: dict, sign: int) -> None:
    values = {**keys, **{d: row[d] for d in FACT_DIMENSIONS}, **{n: sign * row[n] for n in FACT_NAMES}}
    model.insert(values).on_conflict(
        conflict_target=[getattr(model, c) for c in (*keys, *FACT_DIMENSIONS)],
        update={getattr(model, n): getattr(model, n) + getattr(pw.EXCLUDED, n) for n in FACT_NAMES}).execute()


def add_to_totals(row: dict, sign: int, day: dt.date) -> None:
    """Add (sign 1) or subtract (sign −1) one facts row to the current totals of its combination and
    to the net changes of `day` and of its month."""
    _upsert(ItemFactsTotalRecord, {}, row, sign)
    _upsert(ItemFactsChangeRecord, {"kind": "m", "period": day.isoformat()[:7]}, row, sign)
    _upsert(ItemFactsChangeRecord, {"kind": "d", "period": day.isoformat()}, row, sign)


def rebuild_totals(day_of) -> int:
    """Recompute the current totals and the net changes from the facts rows; `day_of(datetime)` gives
    the day an instant falls on. Returns the number of current combinations."""
    F, T, C = ItemFactsRecord, ItemFactsTotalRecord, ItemFactsChangeRecord
    T.delete().execute()
    C.delete().execute()
    dims = [getattr(F, d) for d in FACT_DIMENSIONS]
    source = (F.select(*dims, *(pw.fn.SUM(getattr(F, n)) for n in FACT_NAMES))
              .where(F.valid_to.is_null()).group_by(*dims))
    T.insert_from(source, [*(getattr(T, d) for d in FACT_DIMENSIONS), *(getattr(T, n) for n in FACT_NAMES)]).execute()
    changes: dict[tuple, list[int]] = {}
    query = F.select(F.valid_from, F.valid_to, *dims, *(getattr(F, n) for n in FACT_NAMES)).tuples().iterator()
    for valid_from, valid_to, *rest in query:
        key, facts = tuple(rest[:len(FACT_DIMENSIONS)]), rest[len(FACT_DIMENSIONS):]
        for at, sign in ((valid_from, 1), (valid_to, -1)):
            if at is None:
                continue
            day = day_of(at).isoformat()
            for bucket in (("m", day[:7]), ("d", day)):
                sums = changes.setdefault((*bucket, *key), [0] * len(FACT_NAMES))
                for i, value in enumerate(facts):
                    sums[i] += sign * value
    columns = ("kind", "period", *FACT_DIMENSIONS, *FACT_NAMES)
    rows = [dict(zip(columns, (*key, *sums))) for key, sums in changes.items()]
    for start in range(0, len(rows), BATCH):
        C.insert_many(rows[start:start + BATCH]).execute()
    return T.select().count()


def change_sums(group_by: str, day: dt.date, **filters) -> list[dict]:
    """SUM of every fact per group as of the end of `day`: the net changes of the months before it
    and of its month's days up to it → [{key, <fact>: sum}] without groups that net to no item."""
    C = ItemFactsChangeRecord
    month = day.isoformat()[:7]
    column = getattr(C, "region_code" if group_by == "region" else group_by)
    when = (((C.kind == "m") & (C.period < month))
            | ((C.kind == "d") & (C.period >= month + "-01") & (C.period <= day.isoformat())))
    sums = [pw.fn.SUM(getattr(C, name)).alias(name) for name in FACT_NAMES]
    query = (C.select(column.alias("key"), *sums).where(when, *_where(C, None, **filters))
             .group_by(column).order_by(column))
    return [r for r in query.dicts() if r["items"]]


def insert_facts(rows: list[dict]) -> None:
    """Insert facts rows (columns of ItemFactsRecord) in batches."""
    for start in range(0, len(rows), BATCH):
        ItemFactsRecord.insert_many(rows[start:start + BATCH]).execute()


def _prefix_range(column, prefix: str):
    # A range instead of LIKE so the (region_code, …) index serves it on SQLite and PostgreSQL alike.
    return (column >= prefix) & (column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def _where(model, at: dt.datetime | None = None, region_prefix: str | None = None, org: str | None = None,
           item_type: str | None = None, level: str | None = None, service_object: str | None = None) -> list:
    conds = [_valid_at(at)] if model is ItemFactsRecord else []
    if region_prefix:
        conds.append(_prefix_range(model.region_code, region_prefix))
    if org:
        conds.append(model.org == org)
    if item_type:
        conds.append(model.item_type == item_type)
    if level:
        conds.append(model.level == level)
    if service_object:
        conds.append(model.service_objects.contains(f",{service_object},"))
    return conds


def _valid_at(at: dt.datetime | None):
    F = ItemFactsRecord
    if at is None:
        return F.valid_to.is_null()
    # valid at the instant `at` over half-open [valid_from, valid_to): valid_to ≥ at keeps an item that
    # was withdrawn exactly at `at` (the end of the day), valid_from < at drops one published at it.
    return (F.valid_from < at) & (F.valid_to.is_null() | (F.valid_to >= at))


def _facts_where(at: dt.datetime | None, **filters):
    conds = _where(ItemFactsRecord, at, **filters)
    out = conds[0]
    for cond in conds[1:]:
        out &= cond
    return out


def facts_sums(group_by: str, at: dt.datetime | None = None, *, from_rows: bool = False, **filters) -> list[dict]:
    """SUM of every fact per group ("region" groups by exact region code) → [{key, <fact>: sum}].

    Current figures (at None) come from the totals table unless `from_rows`; figures at an instant
    from the facts rows valid then.
    """
    model = ItemFactsTotalRecord if at is None and not from_rows else ItemFactsRecord
    column = getattr(model, "region_code" if group_by == "region" else group_by)
    sums = [pw.fn.SUM(getattr(model, name)).alias(name) for name in FACT_NAMES]
    conds = _where(model, at, **filters)
    if model is ItemFactsTotalRecord:
        conds.append(model.items != 0)   # combinations whose items were all withdrawn
    query = model.select(column.alias("key"), *sums).where(*conds)
    return list(query.group_by(column).order_by(column).dicts())


def facts_items(at: dt.datetime | None = None, **filters) -> list[dict]:
    """The facts rows of every item counted at `at` (current when None), ordered by implementation code."""
    F = ItemFactsRecord
    columns = [F.impl_code, F.version, F.name, F.org, F.region_code, F.level, F.item_type,
               *(getattr(F, name) for name in FACT_NAMES)]
    return list(F.select(*columns).where(_facts_where(at, **filters)).order_by(F.impl_code).dicts())


def facts_changes(before: dt.datetime, after: dt.datetime, **filters) -> tuple[list[dict], list[dict]]:
    """Rows counted at `before` but not at `after`, and rows counted at `after` but not at `before`."""
    F = ItemFactsRecord
    columns = [F.impl_code, F.version, F.name, F.org, F.region_code, F.level, F.item_type,
               *(getattr(F, name) for name in FACT_NAMES)]
    left = (_facts_where(before, **filters) & F.valid_to.is_null(False) & (F.valid_to < after))
    entered = (_facts_where(after, **filters) & (F.valid_from >= before))
    return (list(F.select(*columns).where(left).order_by(F.impl_code).dicts()),
            list(F.select(*columns).where(entered).order_by(F.impl_code).dicts()))


def org_names(credit_codes: list[str]) -> dict[str, OrgRecord]:
    """Organisations by credit code, for labels."""
    out = {}
    for start in range(0, len(credit_codes), BATCH):
        chunk = credit_codes[start:start + BATCH]
        for org in OrgRecord.select().where(OrgRecord.credit_code.in_(chunk)):
            out[org.credit_code] = org
    return out


def regions_under(prefix: str | None) -> list[RegionRecord]:
    """Registered regions whose code starts with `prefix` (all when None), by code."""
    query = RegionRecord.select().order_by(RegionRecord.code)
    if prefix:
        query = query.where(_prefix_range(RegionRecord.code, prefix))
    return list(query)


def catalogue_in_use_levels() -> dict[str, list[str]]:
    """basic code → levels of every in-use catalogue item (the denominator of the claim rate)."""
    query = (CatalogueItemRecord.select(CatalogueItemRecord.basic_code, CatalogueItemRecord.levels)
             .where(CatalogueItemRecord.state == "in_use"))
    return {r.basic_code: [p for p in r.levels.split(",") if p] for r in query}


def claimed_codes(region_prefix: str | None) -> list[tuple[str, str, str]]:
    """Distinct (region_code, level, basic_code) of local items in any status: claiming is the act counted."""
    L = LocalItemRecord
    query = L.select(L.region_code, L.level, L.basic_code).distinct()
    if region_prefix:
        query = query.where(_prefix_range(L.region_code, region_prefix))
    return list(query.tuples())


def published_without_facts() -> list[tuple[LocalItemRecord, LocalVersionRecord]]:
    """Published local items that have no current facts row, with their published version."""
    F, L, V = ItemFactsRecord, LocalItemRecord, LocalVersionRecord
    has_facts = F.select(F.impl_code).where(F.valid_to.is_null())
    heads = list(L.select().where((L.status == "published") & L.published_version.is_null(False)
                                  & L.impl_code.not_in(has_facts)))
    return [(h, local_version(h.impl_code, h.published_version)) for h in heads]


# --- rebase ---
# Batched reads and writes of the bulk rebase, impact preview and bulk conformance (items/rebase.py).

def rebase_batch(basic_code: str, below_version: int | None, region_prefix: str | None = None,
                 org: str | None = None, after: str = "", limit: int = BATCH) -> list[tuple]:
    """Local items of `basic_code` (based on a catalogue version below `below_version` when given),
    after implementation code `after`, in code order → [(impl_code, latest_version,
    based_on_catalogue_version, status, org, region_code, document of the latest version)].

    One query per batch (keyset paging on the primary key), so 10,000 items cost 20 queries."""
    L, V = LocalItemRecord, LocalVersionRecord
    query = (L.select(L.impl_code, L.latest_version, L.based_on_catalogue_version, L.status, L.org,
                      L.region_code, V.document)
             .join(V, on=((V.impl_code == L.impl_code) & (V.version == L.latest_version)))
             .where((L.basic_code == basic_code) & (L.impl_code > after)))
    if below_version is not None:
        query = query.where(L.based_on_catalogue_version < below_version)
    if region_prefix:
        query = query.where(L.region_code.startswith(region_prefix))
    if org:
        query = query.where(L.org == org)
    return list(query.order_by(L.impl_code).limit(limit).tuples())


def count_local_of(basic_code: str, below_version: int | None, region_prefix: str | None = None,
                   org: str | None = None) -> int:
    """How many local items `rebase_batch` would walk through."""
    L = LocalItemRecord
    query = L.select().where(L.basic_code == basic_code)
    if below_version is not None:
        query = query.where(L.based_on_catalogue_version < below_version)
    if region_prefix:
        query = query.where(L.region_code.startswith(region_prefix))
    if org:
        query = query.where(L.org == org)
    return query.count()


def lock_local_versions(impl_codes: list[str]) -> dict[str, tuple[int, str]]:
    """impl_code → (latest_version, status) of these heads, locked FOR UPDATE on PostgreSQL (SQLite's
    IMMEDIATE transaction already holds the write lock). Call inside transaction()."""
    L = LocalItemRecord
    out = {}
    for start in range(0, len(impl_codes), BATCH):
        query = (L.select(L.impl_code, L.latest_version, L.status)
                 .where(L.impl_code.in_(impl_codes[start:start + BATCH])))
        if is_postgres():
            query = query.for_update()
        for code, version, status in query.tuples():
            out[code] = (version, status)
    return out


def append_rebased_versions(rows: list[dict], based_on: int, name: str, audit_rows: list[dict]) -> None:
    """Insert version rows (each at its head's latest_version + 1), then move those heads one version
    on, onto catalogue version `based_on` and its `name`, as drafts; and their audit entries. Call
    inside transaction() after lock_local_versions confirmed each head is still at the rows' version."""
    L = LocalItemRecord
    now = utcnow()
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        LocalVersionRecord.insert_many(chunk).execute()
        (L.update(latest_version=L.latest_version + 1, based_on_catalogue_version=based_on, name=name,
                  status="draft", updated_at=now)
         .where(L.impl_code.in_([r["impl_code"] for r in chunk])).execute())
    for start in range(0, len(audit_rows), BATCH):
        AuditRecord.insert_many(audit_rows[start:start + BATCH]).execute()
