"""The `govhall` entry point kept at its old place: the commands live in server/commands/."""
from __future__ import annotations

import sys

from server.commands import COMMANDS, build_parser, main  # noqa: F401 - the public names of this module
from server.commands.running import ProgressBar  # noqa: F401

if __name__ == "__main__":
    sys.exit(main())
