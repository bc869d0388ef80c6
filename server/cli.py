"""The `govhall` command: serve, create-user, import-catalogue, demo, config (CONTRACT.md §1)."""
from __future__ import annotations

import argparse
import dataclasses
import getpass
import json
import logging
import os
import sys
from pathlib import Path

from items.errors import DomainError
from server.config import Settings, check_dev_wechat

logger = logging.getLogger("govhall")


def _setup_logging(verbose: bool = False, log_format: str = "text") -> None:
    from server.logs import setup_logging
    setup_logging(log_format, verbose)


def _context(settings: Settings):
    from server.app import Context
    return Context(settings)


def _system_actor():
    from items.scope import Actor
    return Actor(username="system", role="province_admin")


def cmd_serve(args, settings: Settings) -> int:
    from server import serving
    return serving.serve(args, settings)


def cmd_create_user(args, settings: Settings) -> int:
    password = settings_password(args)
    ctx = _context(settings)
    try:
        actor = ctx.accounts.create_user(args.username, password, args.role, args.org, args.region)
    finally:
        ctx.close()
    print(f"user {actor.username} ({actor.role}) saved")
    return 0


def settings_password(args) -> str:
    password = os.environ.get("GOVHALL_PASSWORD")
    if password:
        return password
    if not sys.stdin.isatty():
        raise SystemExit("set GOVHALL_PASSWORD or run interactively to type the password")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise SystemExit("the passwords differ")
    return first


def cmd_import_catalogue(args, settings: Settings) -> int:
    path = Path(args.file)
    data = path.read_bytes()
    ctx = _context(settings)
    bar = ProgressBar("import")
    try:
        report = ctx.catalogue.import_file(data, path.name, _system_actor(), dry_run=args.dry_run,
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


def cmd_demo(args, settings: Settings) -> int:
    from scripts import demo
    ctx = _context(settings)
    try:
        summary = demo.load(ctx, progress=ProgressBar("demo").update)
    finally:
        ctx.close()
    print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


def cmd_config(args, settings: Settings) -> int:
    print(json.dumps(settings.describe(), ensure_ascii=False, indent=1))
    return 0


class ProgressBar:
    """A one-line progress display on stderr for long imports and rebases."""

    def __init__(self, label: str):
        self.label = label
        self.shown = False
        self.tty = sys.stderr.isatty()
        self.last = -1

    def update(self, done: int, total: int) -> None:
        percent = int(100 * done / total) if total else 100
        if percent == self.last:
            return
        self.last = percent
        filled = percent // 4
        line = f"{self.label} [{'#' * filled}{'.' * (25 - filled)}] {done}/{total} {percent}%"
        if self.tty:
            sys.stderr.write("\r" + line)
        elif percent % 10 == 0:
            sys.stderr.write(line + "\n")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown and self.tty:
            sys.stderr.write("\n")


COMMANDS = {}


def build_parser() -> argparse.ArgumentParser:
    import scripts.directory_cli  # noqa: F401
    import scripts.rebase_cli  # noqa: F401
    import scripts.stats_cli  # noqa: F401
    import server.ops_cli  # noqa: F401 - migrate, backup, restore
    from server.serving import add_arguments as add_serving_arguments
    parser = argparse.ArgumentParser(prog="govhall", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8888)
    p.add_argument("--xheaders", action="store_true", help="trust X-Forwarded-For from a reverse proxy")
    p.add_argument("--no-workers", action="store_true", help="do not run background workers in this process")
    add_serving_arguments(p)
    p.add_argument("--dev-wechat", action="store_true",
                   help="sign citizens in locally with codes dev:<name> (embedded default only)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("create-user", help="create or update a staff account")
    p.add_argument("username")
    p.add_argument("--role", required=True,
                   choices=["province_admin", "editor", "reviewer", "reform_office", "window_staff"])
    p.add_argument("--org", help="credit code of the department (editor, window_staff)")
    p.add_argument("--region", help="GB/T 2260 region code (reviewer, reform_office)")
    p.set_defaults(func=cmd_create_user)

    p = sub.add_parser("import-catalogue", help="import a .json, .csv or .xlsx catalogue file")
    p.add_argument("file")
    p.add_argument("--dry-run", action="store_true", help="report what would change; write nothing")
    p.add_argument("--message", help="version message")
    p.set_defaults(func=cmd_import_catalogue)

    p = sub.add_parser("demo", help="load the demonstration province (idempotent)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("config", help="print the effective settings (secrets masked)")
    p.set_defaults(func=cmd_config)

    for name, (help_text, configure, func) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        configure(p)
        p.set_defaults(func=func)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if getattr(args, "dev_wechat", False) and not settings.wechat_dev:
            check_dev_wechat(os.environ)
            settings = dataclasses.replace(settings, wechat_dev=True)
    except ValueError as exc:  # a configuration mistake: one clear line, no traceback
        print(f"error: configuration: {exc}", file=sys.stderr)
        return 2
    _setup_logging(args.verbose, settings.log_format)
    from server.migrations import SchemaMismatch
    try:
        return args.func(args, settings)
    except SchemaMismatch as exc:
        print(f"error: schema_{exc.state}: {exc}", file=sys.stderr)
        return 3
    except DomainError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        if exc.details:
            print(json.dumps(exc.details, ensure_ascii=False, indent=1, default=str), file=sys.stderr)
        return 2


if __name__ == "__main__":
    # Run the importable module's main, so commands registered into server.cli.COMMANDS are seen.
    from server import cli
    sys.exit(cli.main())
