"""Catalogue items and their versions: every version kept as full document plus verified patch."""
from __future__ import annotations

from items.errors import NotFound
from items.records import CatalogueItemRecord, CatalogueVersionRecord
from items.store.core import BATCH


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
