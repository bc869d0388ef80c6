"""The audit log's write path for other packages: a change and its audit entry in one transaction."""
from __future__ import annotations

from typing import Callable

from items import store
from items.scope import Actor


def audited(actor: Actor, action: str, remote_ip: str, change: Callable[[], dict],
            target: Callable[[dict], str], details: Callable[[dict], dict] | None = None) -> dict:
    """Run `change` and write the audit entry (on `target(result)`, with `details(result)` or the result
    itself as details) in one transaction → the result.

    An exception from `change` rolls back and writes no entry.
    """
    with store.transaction():
        result = change()
        store.audit(actor.username, action, target(result), remote_ip, details(result) if details else result)
    return result
