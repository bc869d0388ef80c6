"""`govhall import-directory FILE [--dry-run]`: load regions and departments from a .csv or .xlsx file."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from server.commands.running import ProgressBar, open_context

HELP = "import regions and departments from a .csv or .xlsx file (all rows or none)"
LISTED = 200  # problems listed one per line on stderr; the summary always counts them all


def configure(parser) -> None:
    parser.add_argument("file", help="a .csv (one kind) or .xlsx (a sheet per kind) file; see docs/api.md")
    parser.add_argument("--dry-run", action="store_true", help="check every row and report; write nothing")
    parser.add_argument("--as", dest="username", default="system",
                        help="the name the audit entry carries (default: system)")


def run(args, settings) -> int:
    """Check and (unless --dry-run) write the file with a progress bar; print each bad row on stderr and
    a JSON summary on stdout. Returns 1 when any row is bad (nothing was written), else 0."""
    from items.scope import Actor

    path = Path(args.file)
    data = path.read_bytes()
    ctx = open_context(settings)
    bar = ProgressBar("import")
    try:
        report = ctx.directory_import.import_file(data, path.name, Actor(username=args.username, role="province_admin"),
                                                  dry_run=args.dry_run, progress=bar.update)
    finally:
        bar.close()
        ctx.close()
    for error in report["errors"][:LISTED]:
        where = f"{error['sheet']} " if error["sheet"] else ""
        print(f"{where}row {error['row']}: {error['field']}: {error['rule']}: {error['message']}", file=sys.stderr)
    if len(report["errors"]) > LISTED:
        print(f"… and {len(report['errors']) - LISTED} more problems", file=sys.stderr)
    summary = {k: report[k] for k in ("format", "regions", "departments", "dry_run", "written")}
    summary["problems"] = len(report["errors"])
    print(json.dumps(summary, ensure_ascii=False))
    return 1 if report["errors"] else 0
