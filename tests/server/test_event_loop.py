"""Nothing that blocks runs on the event loop: every request the authorisation matrix lists, sent as a role
it serves, spends at most LOOP_CPU_LIMIT of the serving thread's CPU in any one step of the loop.

The database, workbooks, password hashing and the WeChat calls belong on the thread pool (`await
self.run(...)`); a handler that calls them directly holds every other request of its process until it
is done. CPU time of the loop's thread is measured per callback (`time.thread_time`), so a busy machine
slows the test down without making it fail. Each request is sent once unmeasured, so what a process does
once (compiling a page's template: up to ~70 ms) is left out, then twice more, and the better of the two
counts: a garbage collection of the test process's heap can land in any one step (seen: 52 ms once),
work a handler does on the loop is in both.
"""
from __future__ import annotations

import asyncio
import threading
import time
import urllib.parse

import pytest

from authz_world import ROLES, world  # noqa: F401 - the matrix's world fixture
from test_authz_matrix import MATRIX, OK, _PLACEHOLDER, _console_request, _token

# Rendering the largest console page of the seeded world takes ~5 ms of the loop's CPU once its template
# is compiled; the directory's XLSX template, when it was written on the loop, took 0.2 s.
LOOP_CPU_LIMIT = 0.05


class LoopSteps:
    """The CPU seconds of each callback the serving thread's event loop runs, while installed."""

    def __init__(self, thread: threading.Thread):
        self.thread, self.steps = thread, []
        self._original = asyncio.events.Handle._run

    def install(self, monkeypatch) -> None:
        original, steps, thread = self._original, self.steps, self.thread

        def timed(handle):
            if threading.current_thread() is not thread:
                return original(handle)
            started = time.thread_time()
            try:
                return original(handle)
            finally:
                steps.append(time.thread_time() - started)
        monkeypatch.setattr(asyncio.events.Handle, "_run", timed)


def _send(world, key: str, role: str) -> int:
    entry = MATRIX[key]
    method, template = key.split(" ", 1)
    path = _PLACEHOLDER.sub(lambda m: urllib.parse.quote(world.values[m.group(0)[1:-1]]), template) + entry.query
    token = _token(world, role)
    if entry.console:
        return _console_request(world, method, path, entry, token)[0]
    return world.app.api().request(method, path, body=entry.body, raw=entry.raw, content_type=entry.content_type,
                                   headers=entry.headers, token=token).status


def _worst_step(world, key: str, role: str, loop_steps: LoopSteps) -> float:
    loop_steps.steps.clear()
    status = _send(world, key, role)
    assert status < 500, (key, role, status)
    return max(loop_steps.steps, default=0.0)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_no_request_holds_the_event_loop(world, monkeypatch):
    loop_steps = LoopSteps(world.app._thread)
    loop_steps.install(monkeypatch)
    slow, asked = {}, 0
    for key, entry in MATRIX.items():
        role = next((r for r in ROLES if entry.expect[r] == OK and r not in entry.xfail), None)
        if role is None or entry.not_run:
            continue
        _send(world, key, role)  # the first call compiles the page's template, once per process
        worst = min(_worst_step(world, key, role, loop_steps) for _ in range(2))
        asked += 1
        if worst > LOOP_CPU_LIMIT:
            slow[f"{key} as {role}"] = round(worst, 3)
    assert asked > len(MATRIX) / 2, asked  # most routes serve some role with a harmless request
    assert slow == {}, f"loop CPU per step above {LOOP_CPU_LIMIT} s: {slow}"

