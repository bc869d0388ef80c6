"""Callers that keep a server busy on threads of their own while a fault test does its work."""
from __future__ import annotations

import threading


class Background:
    """Threads started when the `with` block begins and stopped (`stopping` set, joined) when it ends.
    Subclasses add their threads with `self.spawn(target, *args)` and loop until `self.stopping` is set."""

    def __init__(self):
        self.stopping = threading.Event()
        self._threads: list[threading.Thread] = []

    def spawn(self, target, *args) -> None:
        self._threads.append(threading.Thread(target=target, args=args, daemon=True))

    def __enter__(self):
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        for thread in self._threads:
            thread.join(60)
