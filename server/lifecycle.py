"""Requests in flight, so a graceful shutdown can wait for them to be answered before closing pools."""
from __future__ import annotations

import asyncio
import time


class InFlight:
    """Counts requests between their handler's start and finish; lives on the event loop's thread."""

    def __init__(self):
        self.count = 0
        self._open: set[int] = set()
        self._next = 0

    def begin(self) -> int:
        self._next += 1
        self._open.add(self._next)
        self.count = len(self._open)
        return self._next

    def end(self, ticket: int) -> None:
        self._open.discard(ticket)  # idempotent: a handler finishes once, but be safe on odd paths
        self.count = len(self._open)

    async def drained(self, timeout: float, poll: float = 0.05) -> bool:
        """Wait until no request is in flight or `timeout` seconds passed; True when drained."""
        deadline = time.monotonic() + timeout
        while self._open and time.monotonic() < deadline:
            await asyncio.sleep(poll)
        return not self._open
