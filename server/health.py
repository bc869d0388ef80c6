"""Liveness and readiness: whether this process runs, and whether it can serve (database, Redis, schema)."""
from __future__ import annotations

import os

from server import migrations


def liveness() -> dict:
    """The process answers: its pid (several processes share one port) and nothing that does I/O."""
    return {"status": "live", "pid": os.getpid()}


def readiness(db, kv) -> dict:
    """`{ready, pid, database, redis, schema, search}`; each check says `ok` or what failed (`search`:
    `loading` while the process loads its search index at start). Never raises."""
    from guides import hall_search
    search = hall_search.warming()
    out = {"ready": search != "loading", "pid": os.getpid(), "database": "ok", "redis": "ok", "schema": "ok",
           "search": search}
    try:
        db.execute_sql("SELECT 1")
        found = migrations.status(db)
        if found["state"] != "current":
            out.update(ready=False, schema=f"{found['state']}: at version {found['current']}, "
                                           f"this release needs {found['latest']}")
    except Exception as exc:  # noqa: BLE001 - readiness reports any failure, the error class only
        out.update(ready=False, database=f"unavailable: {type(exc).__name__}")
    try:
        kv.ping()
    except Exception as exc:  # noqa: BLE001
        out.update(ready=False, redis=f"unavailable: {type(exc).__name__}")
    return out


def outbox_backlog() -> int:
    """Messages queued and not sent yet."""
    from wechat import outbox
    return outbox.backlog()
