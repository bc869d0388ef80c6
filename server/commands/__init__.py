"""The `govhall` command: one module per subcommand, listed in COMMANDS (CONTRACT.md §1).

A command module has HELP, configure(parser) adding its arguments, and run(args, settings) -> exit
status. To add one, write server/commands/NAME.py and add one line to COMMANDS.
"""
from __future__ import annotations

import argparse
import json
import sys

from items.errors import DomainError
from server.commands import (backup, config, create_user, demo, import_catalogue, import_directory, migrate,
                             rebase, restore, serve, stats)
from server.commands.running import setup_logging
from server.config import Settings, dev_wechat_settings

# subcommand name → its module, in the order `govhall --help` lists them
COMMANDS = {
    "serve": serve,
    "create-user": create_user,
    "import-catalogue": import_catalogue,
    "demo": demo,
    "config": config,
    "rebase": rebase,
    "stats": stats,
    "import-directory": import_directory,
    "migrate": migrate,
    "backup": backup,
    "restore": restore,
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="govhall", description="govhall: government service items kept four-same")
    parser.add_argument("-v", "--verbose", action="store_true")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module in COMMANDS.items():
        command = sub.add_parser(name, help=module.HELP)
        module.configure(command)
        command.set_defaults(func=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()  # before logging: the settings choose its format
        if getattr(args, "dev_wechat", False) and not settings.wechat_dev:
            settings = dev_wechat_settings(settings)
    except ValueError as exc:  # a configuration mistake: one clear line, no traceback
        print(f"error: configuration: {exc}", file=sys.stderr)
        return 2
    setup_logging(args.verbose, settings.log_format)
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
    sys.exit(main())
