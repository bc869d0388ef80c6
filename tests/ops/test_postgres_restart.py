"""PostgreSQL restarted under load: requests fail cleanly (503 dependency_unavailable, never a 500) and the
connection pool reconnects once the server is back."""
from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from harness import RunningApp, make_settings
from servers import PostgresServer, create_database

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))
from scripts.load.run_load import seed_world  # noqa: E402


@pytest.fixture
def postgres_that_restarts():
    server = PostgresServer()
    try:
        admin = server.start()
    except Exception as exc:  # noqa: BLE001 - the reason goes into the skip
        server.stop()
        pytest.skip(f"PostgreSQL did not start: {exc}")
    if admin is None:
        pytest.skip("PostgreSQL is not installed here; .ci/run installs it")
    server.database = create_database(admin)
    yield server
    server.stop()


def test_a_restart_answers_503_not_500_and_the_pool_reconnects(postgres_that_restarts, tmp_path):
    app = RunningApp(make_settings(postgres_that_restarts.database, upload_dir=str(tmp_path / "up"))).start()
    try:
        world = seed_world(app.ctx, citizens=1)
        editor = app.api()
        editor.token = world["editor"]
        path = f"/api/v1/items/{world['draft']}"
        assert editor.get(path).status == 200
        statuses: Counter = Counter()
        bodies: list = []
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                resp = editor.get(path)
                statuses[resp.status] += 1
                if resp.status != 200:
                    assert resp.error_code() == "dependency_unavailable", resp.body
                    bodies.append(resp.json)

        readers = [threading.Thread(target=read, daemon=True) for _ in range(4)]
        for thread in readers:
            thread.start()
        time.sleep(0.5)
        postgres_that_restarts.restart()
        time.sleep(0.5)
        stop.set()
        for thread in readers:
            thread.join(60)

        assert set(statuses) <= {200, 503}, statuses
        assert all(b["error"]["details"]["dependency"] == "database" for b in bodies)
        # every pooled connection died with the server; each is replaced as it is next used
        for _ in range(app.settings.workers + 2):
            resp = editor.get(path)
            assert resp.status == 200, resp.body
    finally:
        app.stop()
