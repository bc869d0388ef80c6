"""`govhall config`: print the effective settings, secrets masked."""
from __future__ import annotations

import json

from server.config import Settings

HELP = "print the effective settings (secrets masked)"


def configure(parser) -> None:
    pass


def run(args, settings: Settings) -> int:
    print(json.dumps(settings.describe(), ensure_ascii=False, indent=1))
    return 0
