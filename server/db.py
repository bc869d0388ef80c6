"""The database: built from settings, bound to the records' proxy, its schema migrated or checked at start."""
from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import unquote, urlsplit

import peewee as pw
from playhouse.pool import PooledPostgresqlDatabase

from guides import search_index
from items import records
from wechat import records as hall_records

logger = logging.getLogger(__name__)
# What a query raises when the database is down or unreachable (counted by the metrics).
UNAVAILABLE = (pw.OperationalError, pw.InterfaceError)


# Storage modules of the other packages; each exposes MODELS and may add schema peewee cannot express.
STORAGE_MODULES = (search_index, hall_records)


def storage_modules() -> list:
    """The storage modules whose tables and extra schema the migrations create."""
    return list(STORAGE_MODULES)


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


def connect(url: str, max_connections: int = 16, migrate: bool = True) -> pw.Database:
    """Open the database and bind the records to it; then run missing migrations, or with
    `migrate=False` only check the schema (raises migrations.SchemaMismatch when it is not current)."""
    from server import migrations
    db = open_database(url, max_connections)
    records.database.initialize(db)
    if migrate:
        migrations.migrate(db)
    else:
        with db.connection_context():
            migrations.check(db)
    return db
