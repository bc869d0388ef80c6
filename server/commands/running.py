"""What every command shares: logging on stderr, the app context, the system actor, a progress bar."""
from __future__ import annotations

import sys

from server.config import Settings


def setup_logging(verbose: bool = False, log_format: str = "text") -> None:
    """Text or JSON lines on stderr, with request ids (server/logs.py)."""
    from server.logs import setup_logging as setup
    setup(log_format, verbose)


def open_context(settings: Settings):
    """The app's context (database, services) for one command; the caller closes it."""
    from server.app import Context
    return Context(settings)


def system_actor():
    from items.scope import Actor
    return Actor(username="system", role="province_admin")


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
