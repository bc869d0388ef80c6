"""`govhall migrate`, `govhall backup` and `govhall restore` (docs/operations.md)."""
from __future__ import annotations

import json

from server import cli
from server.config import Settings


def cmd_migrate(args, settings: Settings) -> int:
    from server import db as dbmod, migrations
    db = dbmod.open_database(settings.database_url, max_connections=2)
    dbmod.records.database.initialize(db)
    try:
        with db.connection_context():
            before = migrations.status(db)
        if args.check:
            print(json.dumps(before))
            return 0 if before["state"] == "current" else 1
        applied = migrations.migrate(db)
        with db.connection_context():
            after = migrations.status(db)
    finally:
        if hasattr(db, "close_all"):
            db.close_all()
        elif not db.is_closed():
            db.close()
    print(json.dumps({"from": before["current"], "to": after["current"], "applied": applied}))
    return 0


def cmd_backup(args, settings: Settings) -> int:
    from server import backup
    print(json.dumps(backup.backup(settings, args.dest), ensure_ascii=False))
    return 0


def cmd_restore(args, settings: Settings) -> int:
    from server import backup
    print(json.dumps(backup.restore(settings, args.source), ensure_ascii=False))
    return 0


def _configure_migrate(p) -> None:
    p.add_argument("--check", action="store_true", help="only report the schema version; exit 1 when not current")


def _configure_backup(p) -> None:
    p.add_argument("dest", help="a new folder for the backup (database, uploads, manifest.json)")


def _configure_restore(p) -> None:
    p.add_argument("source", help="a folder written by `govhall backup`")


cli.COMMANDS["migrate"] = ("bring the database schema to this release's version", _configure_migrate, cmd_migrate)
cli.COMMANDS["backup"] = ("copy the database and the uploads into a folder, online", _configure_backup, cmd_backup)
cli.COMMANDS["restore"] = ("replace the database and the uploads with a backup", _configure_restore, cmd_restore)
