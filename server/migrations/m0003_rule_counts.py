"""Migration 3: rule finding counts stored with each local item version (the editor's worklist reads them).

Adds `rule_errors` and `rule_warnings` to local versions when missing and fills every row that has none
from its document with the same rule engine the writes use (items/store/local.py `rule_counts`).
"""
from __future__ import annotations

import logging

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

logger = logging.getLogger(__name__)
BATCH = 500


def apply(db: pw.Database) -> None:
    from items.records import LocalVersionRecord as V
    from items.store.local import rule_counts
    table = V._meta.table_name
    existing = {c.name for c in db.get_columns(table)}
    migrator = SchemaMigrator.from_database(db)
    for name in ("rule_errors", "rule_warnings"):
        if name not in existing:
            migrate(migrator.add_column(table, name, pw.IntegerField(null=True)))
    with V.bind_ctx(db):
        filled, last = 0, 0
        while True:  # keyset paging on the id: a province's versions never sit in memory at once
            rows = list(V.select(V.id, V.document).where((V.id > last) & V.rule_errors.is_null())
                        .order_by(V.id).limit(BATCH).tuples())
            if not rows:
                break
            for row_id, document in rows:
                errors, warnings = rule_counts(document)
                V.update(rule_errors=errors, rule_warnings=warnings).where(V.id == row_id).execute()
            filled += len(rows)
            last = rows[-1][0]
    logger.info("rule counts stored for %d local versions", filled)
