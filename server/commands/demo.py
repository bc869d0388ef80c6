"""`govhall demo`: load the demonstration province (idempotent)."""
from __future__ import annotations

import json

from server.commands.running import ProgressBar, open_context
from server.config import Settings

HELP = "load the demonstration province (idempotent)"


def configure(parser) -> None:
    pass


def run(args, settings: Settings) -> int:
    from scripts import demo as demo_data
    ctx = open_context(settings)
    try:
        summary = demo_data.load(ctx, progress=ProgressBar("demo").update)
    finally:
        ctx.close()
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0
