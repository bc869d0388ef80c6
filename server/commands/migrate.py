"""`govhall migrate [--check]`: bring the database schema to this release's version (docs/operations.md)."""
from __future__ import annotations

import json

from server.config import Settings

HELP = "bring the database schema to this release's version"


def configure(parser) -> None:
    parser.add_argument("--check", action="store_true",
                        help="only report the schema version; exit 1 when not current")


def run(args, settings: Settings) -> int:
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
