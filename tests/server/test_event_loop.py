"""Nothing that blocks runs on the event loop: every request the authorisation matrix lists, sent as a role it
serves, makes its database queries, workbooks, password hashes, WeChat calls and sleeps on the thread pool
(`await self.run(...)`), never on the thread that serves the loop.

A handler that calls one of them directly holds every other request of its process until it returns. What
blocks is recognised by where it enters its library (BLOCKING), not by how long it took, so the test does
not depend on the machine's speed. (The read cache's few Redis reads on the loop go through a client with a
0.25 s timeout, by design: server/kv.py `make_loop_kv`.)
"""
from __future__ import annotations

import collections
import threading
import time

import argon2
import openpyxl
import peewee
import pytest
import requests
from openpyxl.workbook.workbook import Workbook

from authz_world import ROLES, world  # noqa: F401 - the matrix's world fixture
from items import directory_import, importer
from test_authz_matrix import MATRIX, OK, ask

# what blocks → where it enters its library (owner, attribute)
BLOCKING = {
    "database query": (peewee.Database, "execute_sql"),
    "workbook written": (Workbook, "save"),
    "workbook read": (openpyxl, "load_workbook"),
    "password hashed": (argon2.PasswordHasher, "hash"),
    "password checked": (argon2.PasswordHasher, "verify"),
    "HTTP call (WeChat)": (requests.Session, "request"),
    "sleep": (time, "sleep"),
}


class BlockingCalls:
    """Counts each BLOCKING call, by whether it ran on the serving thread, while installed."""

    def __init__(self, loop_thread: threading.Thread):
        self.loop_thread = loop_thread
        self.on_loop: list[str] = []
        self.elsewhere: collections.Counter[str] = collections.Counter()

    def install(self, monkeypatch) -> None:
        for what, (owner, name) in BLOCKING.items():
            monkeypatch.setattr(owner, name, self._watched(what, getattr(owner, name)))

    def _watched(self, what: str, original):
        def call(*args, **kwargs):
            if threading.current_thread() is self.loop_thread:
                self.on_loop.append(what)
            else:
                self.elsewhere[what] += 1
            return original(*args, **kwargs)
        return call


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_no_request_blocks_the_event_loop(world, monkeypatch):
    calls = BlockingCalls(world.app._thread)
    calls.install(monkeypatch)
    # as in a process's first requests: what is cached after a first call (the import templates, written
    # once per process) is written again here, wherever another test of this process left it cached
    for cached in (importer.write_template, directory_import.write_template):
        cached.cache_clear()
    on_loop, asked = {}, 0
    for key, entry in MATRIX.items():
        role = next((r for r in ROLES if entry.expect[r] == OK and r not in entry.xfail), None)
        if role is None or entry.not_run:
            continue
        calls.on_loop.clear()
        status = ask(world, key, role)[0]  # the first call of the process: work cached afterwards counts too
        asked += 1
        assert status < 500, (key, role, status)
        if calls.on_loop:
            on_loop[f"{key} as {role}"] = sorted(set(calls.on_loop))
    assert asked > len(MATRIX) / 2, asked  # most routes serve some role with a harmless request
    # the watch is live: the requests did query the database and write workbooks, on the pool
    assert calls.elsewhere["database query"] > asked and calls.elsewhere["workbook written"] > 0, calls.elsewhere
    assert on_loop == {}, f"blocking work on the event loop: {on_loop}"
