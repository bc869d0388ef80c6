"""`govhall import-catalogue FILE`: load a .json, .csv or .xlsx catalogue file (docs/import-format.md)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from server.commands.running import ProgressBar, open_context, system_actor
from server.config import Settings

HELP = "import a .json, .csv or .xlsx catalogue file"


def configure(parser) -> None:
    parser.add_argument("file")
    parser.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    parser.add_argument("--message", help="version message")


def run(args, settings: Settings) -> int:
    path = Path(args.file)
    data = path.read_bytes()
    ctx = open_context(settings)
    bar = ProgressBar("import")
    try:
        report = ctx.catalogue.import_file(data, path.name, system_actor(), dry_run=args.dry_run,
                                           message=args.message or "", progress=bar.update)
    finally:
        bar.close()
        ctx.close()
    for row in report["errors"][:200]:
        for error in row["errors"]:
            print(f"row {row['row']}: {error['field']}: {error['rule']}: {error['message']}", file=sys.stderr)
    if len(report["errors"]) > 200:
        print(f"… and {len(report['errors']) - 200} more bad rows", file=sys.stderr)
    summary = {k: report[k] for k in ("format", "rows", "created", "updated", "unchanged", "dry_run", "written")}
    summary["bad_rows"] = len(report["errors"])
    summary["rows_with_warnings"] = len(report["warnings"])
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if report["errors"] else 0
