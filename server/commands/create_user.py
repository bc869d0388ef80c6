"""`govhall create-user NAME --role ROLE`: create or update a staff account (password never on the command line)."""
from __future__ import annotations

import getpass
import os
import sys

from server.commands.running import open_context
from server.config import Settings

HELP = "create or update a staff account"


def configure(parser) -> None:
    parser.add_argument("username")
    parser.add_argument("--role", required=True,
                        choices=["province_admin", "editor", "reviewer", "reform_office", "window_staff"])
    parser.add_argument("--org", help="credit code of the department (editor, window_staff)")
    parser.add_argument("--region", help="GB/T 2260 region code (reviewer, reform_office)")


def run(args, settings: Settings) -> int:
    password = settings_password(args)
    ctx = open_context(settings)
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
