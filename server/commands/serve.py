"""`govhall serve`: the HTTP service in one or several processes (server/serving.py)."""
from __future__ import annotations

from server.config import Settings

HELP = "run the HTTP service"


def configure(parser) -> None:
    from server.serving import add_arguments
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--xheaders", action="store_true", help="trust X-Forwarded-For from a reverse proxy")
    parser.add_argument("--no-workers", action="store_true", help="do not run background workers in this process")
    parser.add_argument("--dev-wechat", action="store_true",
                        help="sign citizens in locally with codes dev:<name> (embedded default only)")
    add_arguments(parser)


def run(args, settings: Settings) -> int:
    from server import serving
    return serving.serve(args, settings)
