"""The database: built from settings, bound to the records' proxy, tables created or upgraded at start."""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

import peewee as pw
from playhouse.migrate import SchemaMigrator, migrate
from playhouse.pool import PooledPostgresqlDatabase

from guides import search_index
from items import records
from wechat import records as hall_records

logger = logging.getLogger(__name__)


# Storage modules of the other packages; each exposes MODELS and may add schema peewee cannot express.
STORAGE_MODULES = (search_index, hall_records)


def all_models() -> list[type[pw.Model]]:
    """Every table of every package, in creation order."""
    models = list(records.MODELS)
    for module in STORAGE_MODULES:
        models += list(getattr(module, "MODELS", []))
    return models


def open_database(url: str, max_connections: int = 16) -> pw.Database:
    """A peewee database for `sqlite:///path` or `postgresql://user:pass@host:port/db`."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        path = url[len("sqlite:///"):] if url.startswith("sqlite:///") else parts.path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # WAL lets readers run beside the one writer; busy_timeout makes writers queue, not fail.
        return pw.SqliteDatabase(path, pragmas={
            "journal_mode": "wal", "busy_timeout": 30000, "synchronous": "normal",
            "foreign_keys": 1, "cache_size": -64000,
        }, check_same_thread=False)
    if parts.scheme in ("postgresql", "postgres"):
        return PooledPostgresqlDatabase(
            parts.path.lstrip("/"), user=unquote(parts.username or "") or None,
            password=unquote(parts.password or "") or None, host=parts.hostname or "localhost",
            port=parts.port or 5432, max_connections=max_connections, stale_timeout=300,
            timeout=30)
    raise ValueError(f"unsupported database URL scheme {parts.scheme!r}: use sqlite:/// or postgresql://")


def connect(url: str, max_connections: int = 16) -> pw.Database:
    """Open the database, bind the records to it and create or upgrade the tables."""
    db = open_database(url, max_connections)
    records.database.initialize(db)
    upgrade_schema(db)
    return db


def upgrade_schema(db: pw.Database) -> None:
    """Create missing tables and indexes and add columns that newer code declares."""
    models = all_models()
    with db.connection_context():
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
        for module in STORAGE_MODULES:
            create = getattr(module, "create_search_schema", None) or getattr(module, "create_schema", None)
            if create is not None:
                create(db)
