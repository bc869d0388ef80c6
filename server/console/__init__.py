"""The staff console at /console/: server-rendered pages over the same services as the API.

Each audience has a page module ending in `routes = [...]` (auth, editor; later review, admin,
reform, window); `routes()` collects them with the static files and a Chinese 404 page last.
"""
from __future__ import annotations

import importlib

PAGE_MODULES = ["auth", "editor", "editor_compare", "review", "admin", "admin_rebase", "reform", "window",
                "directory", "directory_staff"]


def routes() -> list:
    """Every console route, for make_app (server/app.py)."""
    from server.console.base import STATIC, ConsoleNotFoundPage, ConsoleStaticHandler, PREFIX
    out = []
    for name in PAGE_MODULES:
        out += importlib.import_module(f"server.console.{name}").routes
    out.append((PREFIX + r"/static/(.*)", ConsoleStaticHandler, {"path": str(STATIC)}))
    out.append((PREFIX + r"/.*", ConsoleNotFoundPage))
    return out
