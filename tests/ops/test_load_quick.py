"""The load harness's bounded mode: every kind of request in the mix answers as expected with one process and
with two sharing the port, on PostgreSQL + Redis (speed is the harness's report, never asserted)."""
from __future__ import annotations

import argparse
import concurrent.futures

import redis

from scripts.load import run_load


def test_quick_load_with_one_and_two_processes_has_no_unexpected_answers(postgres_admin_url, redis_server_url):
    redis.Redis.from_url(redis_server_url).flushdb()
    args = argparse.Namespace(quick=True, processes="1,2", duration=3.0, concurrency=4, sqlite=False)

    # On a thread of its own: the harness runs its own event loop (asyncio.run), and the browser tests'
    # Playwright keeps one running in the main thread for the whole session.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        report = pool.submit(run_load.run, args, redis_url=redis_server_url,
                             postgres_admin=postgres_admin_url).result()

    for processes in (1, 2):
        for kind, figures in report[processes].items():
            assert figures["unexpected"] == 0 and figures["server_errors"] == 0, (processes, kind, report["samples"])
            assert sum(figures["statuses"].values()) > 0, (processes, kind)
