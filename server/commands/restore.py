"""`govhall restore DIR`: replace the database and the uploads with a backup (docs/operations.md)."""
from __future__ import annotations

import json

from server.config import Settings

HELP = "replace the database and the uploads with a backup"


def configure(parser) -> None:
    parser.add_argument("source", help="a folder written by `govhall backup`")


def run(args, settings: Settings) -> int:
    from server import backup
    print(json.dumps(backup.restore(settings, args.source), ensure_ascii=False))
    return 0
