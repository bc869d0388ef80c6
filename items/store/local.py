"""Local items, their versions, review transitions and the batched reads and writes of rebases."""
from __future__ import annotations

import datetime as dt

import peewee as pw

from items import rules
from items.errors import Conflict, NotFound, Stale
from items.records import (AuditRecord, CatalogueItemRecord, LocalItemRecord, LocalVersionRecord,
                           WorkflowEventRecord, database, utcnow)
from items.store.core import BATCH, is_postgres, one_row


# --- local items ----------------------------------------------------------------------------------

def local_head(impl_code: str, for_update: bool = False) -> LocalItemRecord:
    """The head of a local item. Raises NotFound. `for_update` locks the row on PostgreSQL."""
    return one_row(LocalItemRecord.select().where(LocalItemRecord.impl_code == impl_code), for_update,
                   NotFound(f"no local item {impl_code}", code="item_not_found", details={"impl_code": impl_code}))


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


def rule_counts(document) -> tuple[int, int]:
    """(errors, warnings) of items/rules.py on a local item's document: what a version row stores."""
    findings = rules.validate(document, "local")
    return len(rules.errors_of(findings)), len(rules.warnings_of(findings))


def with_rule_counts(version_row: dict) -> dict:
    """The version row with its document's rule counts, filled in once as it is written."""
    errors, warnings = rule_counts(version_row["document"])
    return dict(version_row, rule_errors=errors, rule_warnings=warnings)


def local_exists(basic_code: str, org: str, level: str) -> bool:
    return LocalItemRecord.select().where(
        (LocalItemRecord.basic_code == basic_code) & (LocalItemRecord.org == org)
        & (LocalItemRecord.level == level)).exists()


def insert_local_item(head: dict, version_row: dict) -> LocalItemRecord:
    """Create a local item with its first version. Raises Conflict when the code exists."""
    try:
        with database.atomic():
            record = LocalItemRecord.create(**head)
            LocalVersionRecord.create(**with_rule_counts(version_row))
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
    LocalVersionRecord.create(**with_rule_counts(dict(version_row, impl_code=head.impl_code, version=new_version)))
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


def last_events(impl_codes: list[str], action: str) -> dict[str, WorkflowEventRecord]:
    """The latest `action` event of each item, for queues (who submitted, when)."""
    out: dict[str, WorkflowEventRecord] = {}
    for start in range(0, len(impl_codes), BATCH):
        chunk = impl_codes[start:start + BATCH]
        query = (WorkflowEventRecord.select().where(WorkflowEventRecord.impl_code.in_(chunk)
                                                   & (WorkflowEventRecord.action == action))
                 .order_by(WorkflowEventRecord.at))
        for record in query:
            out[record.impl_code] = record
    return out


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


def claimed_basic_codes(region_code: str, level: str, org: str | None = None) -> set[str]:
    """Basic codes some department of exactly `region_code` (or only `org` when given) has claimed at `level`."""
    query = (LocalItemRecord.select(LocalItemRecord.basic_code).distinct()
             .where((LocalItemRecord.region_code == region_code) & (LocalItemRecord.level == level)))
    if org:
        query = query.where(LocalItemRecord.org == org)
    return {r.basic_code for r in query}


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
             .where(L.impl_code > after))
    query = _of_catalogue_item(query, basic_code, below_version, region_prefix, org)
    return list(query.order_by(L.impl_code).limit(limit).tuples())


def count_local_of(basic_code: str, below_version: int | None, region_prefix: str | None = None,
                   org: str | None = None) -> int:
    """How many local items `rebase_batch` would walk through."""
    return _of_catalogue_item(LocalItemRecord.select(), basic_code, below_version, region_prefix, org).count()


def _of_catalogue_item(query, basic_code: str, below_version: int | None, region_prefix: str | None,
                       org: str | None):
    """Narrow a local-item query to one catalogue item's claims (older than `below_version`, in a region, of an org)."""
    L = LocalItemRecord
    query = query.where(L.basic_code == basic_code)
    if below_version is not None:
        query = query.where(L.based_on_catalogue_version < below_version)
    if region_prefix:
        query = query.where(L.region_code.startswith(region_prefix))
    if org:
        query = query.where(L.org == org)
    return query


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
        LocalVersionRecord.insert_many([with_rule_counts(r) for r in chunk]).execute()
        (L.update(latest_version=L.latest_version + 1, based_on_catalogue_version=based_on, name=name,
                  status="draft", updated_at=now)
         .where(L.impl_code.in_([r["impl_code"] for r in chunk])).execute())
    for start in range(0, len(audit_rows), BATCH):
        AuditRecord.insert_many(audit_rows[start:start + BATCH]).execute()


# --- the editor's worklist ----------------------------------------------------------------------

def latest_documents(impl_codes: list[str]) -> dict[str, dict]:
    """impl_code → the document of its latest version, in one query (one page of a worklist)."""
    if not impl_codes:
        return {}
    L, V = LocalItemRecord, LocalVersionRecord
    query = (V.select(V.impl_code, V.document)
             .join(L, on=((V.impl_code == L.impl_code) & (V.version == L.latest_version)))
             .where(L.impl_code.in_(impl_codes)))
    return {code: document for code, document in query.tuples()}


def latest_rule_counts(impl_codes: list[str]) -> dict[str, tuple[int, int]]:
    """impl_code → (errors, warnings) stored with its latest version, in one query; a version written
    before the counts were stored (NULL) is counted here from its document."""
    if not impl_codes:
        return {}
    L, V = LocalItemRecord, LocalVersionRecord
    query = (V.select(V.impl_code, V.rule_errors, V.rule_warnings)
             .join(L, on=((V.impl_code == L.impl_code) & (V.version == L.latest_version)))
             .where(L.impl_code.in_(impl_codes)))
    out = {code: (errors, warnings) for code, errors, warnings in query.tuples()}
    missing = [code for code, counts in out.items() if None in counts]
    for code, document in latest_documents(missing).items():
        out[code] = rule_counts(document)
    return out


def catalogue_latest_versions(basic_codes: list[str]) -> dict[str, int]:
    """basic_code → latest catalogue version, in one query."""
    if not basic_codes:
        return {}
    C = CatalogueItemRecord
    query = C.select(C.basic_code, C.latest_version).where(C.basic_code.in_(sorted(set(basic_codes))))
    return {code: version for code, version in query.tuples()}
