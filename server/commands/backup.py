"""`govhall backup DIR`: copy the database and the uploads into a new folder, online (docs/operations.md)."""
from __future__ import annotations

import json

from server.config import Settings

HELP = "copy the database and the uploads into a folder, online"


def configure(parser) -> None:
    parser.add_argument("dest", help="a new folder for the backup (database, uploads, manifest.json)")


def run(args, settings: Settings) -> int:
    from server import backup
    print(json.dumps(backup.backup(settings, args.dest), ensure_ascii=False))
    return 0
