"""Migration 1: the schema of the release before versioned migrations (tables from the models, search schema).

Applied to an empty database it creates everything; applied to a database that release made it adds
only what is missing, so the data stays as it was.
"""
from __future__ import annotations

import logging

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate

logger = logging.getLogger(__name__)


def apply(db: pw.Database) -> None:
    from server import db as dbmod  # the model list lives with the database wiring
    models = dbmod.all_models()
    db.create_tables(models, safe=True)
    migrator = SchemaMigrator.from_database(db)
    for model in models:
        table = model._meta.table_name
        existing = {c.name for c in db.get_columns(table)}
        for field in model._meta.sorted_fields:
            if field.column_name not in existing:
                logger.info("adding column %s.%s", table, field.column_name)
                if not field.null and field.default is None:
                    field.null = True  # an added column cannot be NOT NULL without a default
                migrate(migrator.add_column(table, field.column_name, field))
    for module in dbmod.storage_modules():
        create = getattr(module, "create_search_schema", None) or getattr(module, "create_schema", None)
        if create is not None:
            create(db)
