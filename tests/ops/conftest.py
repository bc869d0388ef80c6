"""Fixtures of the fault tests: a PostgreSQL database of the test's own, and a Redis the test may kill or freeze."""
from __future__ import annotations

import pytest

from servers import RedisServer, create_database, drop_database


@pytest.fixture
def postgres_url(postgres_admin_url, postgres_template):
    """A fresh PostgreSQL database holding the app's schema (a copy of the session's template)."""
    url = create_database(postgres_admin_url, template=postgres_template)
    yield url
    drop_database(postgres_admin_url, url)


@pytest.fixture
def redis_that_dies():
    """A redis-server of this test's own with an append-only file: kill() and restart() bring it back with
    its data, as a production Redis with AOF does."""
    server = RedisServer(persistent=True)
    if server.start() is None:
        pytest.skip("redis-server is not installed here; .ci/run installs it")
    yield server
    server.stop()
