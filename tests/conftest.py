"""Fixtures shared by every test package: shared data, real storage backends, and the app on a free port."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# A shared 2-core machine under load must not turn slow input generation or a slow example into a
# failure: timings are never assertions here (benchmarks measure speed).
settings.register_profile("govhall", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("govhall")

sys.path.insert(0, str(Path(__file__).resolve().parent))
# Commands under test build their settings from the environment: the cheapest password hashing there too.
os.environ.setdefault("GOVHALL_PASSWORD_HASH_COST", "1")
os.environ.setdefault("GOVHALL_PASSWORD_HASH_MEMORY_KIB", "32")

from harness import Api, ApiResponse, RunningApp, make_settings  # noqa: E402,F401 - re-exported for tests
from pg_reuse import ReusedDatabase  # noqa: E402
from servers import PostgresServer, RedisServer, create_database, drop_database  # noqa: E402
from worlds import SeededWorlds  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
VENDORED = REPO / "tests" / "data"
LIAONING = "lnzwfw-catalog-sample/government_data.json"


def in_ci() -> bool:
    """CI runs everything: a missing server or data set is a failure there, a skip elsewhere."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("GOVHALL_TEST_REQUIRE_SERVERS") == "1"


@pytest.fixture(scope="session")
def external() -> Path:
    """tests/data: data from other projects kept in the repo with their sources and licences."""
    return VENDORED


@pytest.fixture(scope="session")
def liaoning_sample() -> Path:
    """The Liaoning catalogue sample (no licence, so not in the repo): GOVHALL_TEST_LIAONING_SAMPLE or
    ../shared beside the checkout; skipped without it, except in CI (tests/data/README.md)."""
    candidates = [os.environ.get("GOVHALL_TEST_LIAONING_SAMPLE"), REPO.parent / "shared" / "data" / "external" / LIAONING]
    for candidate in filter(None, candidates):
        if Path(candidate).is_file():
            return Path(candidate)
    reason = ("the Liaoning catalogue sample is not in the repo (no licence); set GOVHALL_TEST_LIAONING_SAMPLE "
              "or check out ../shared beside the repo")
    if in_ci():
        pytest.fail(reason + " (CI: no skipping)")
    pytest.skip(reason)


# --- real servers ------------------------------------------------------------------------------------

def skip_or_fail(reason: str):
    """Skip with the reason; in CI (GOVHALL_TEST_REQUIRE_SERVERS=1) a missing server is a failure."""
    if os.environ.get("GOVHALL_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(reason + " (GOVHALL_TEST_REQUIRE_SERVERS=1: no skipping)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url():
    """A PostgreSQL server: GOVHALL_TEST_POSTGRES_URL, or one started here; skipped when not installed."""
    url = os.environ.get("GOVHALL_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    server = PostgresServer()
    try:
        url = server.start()
    except Exception as exc:  # noqa: BLE001 - the reason goes into the skip
        server.stop()
        skip_or_fail(f"PostgreSQL is installed but did not start: {exc}")
    if url is None:
        skip_or_fail("PostgreSQL is not installed here (initdb/pg_ctl not found); .ci/run installs it")
    yield url
    server.stop()


@pytest.fixture(scope="session")
def redis_server_url():
    """A real Redis: GOVHALL_TEST_REDIS_URL, or one started here; skipped when not installed."""
    url = os.environ.get("GOVHALL_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = RedisServer()
    url = server.start()
    if url is None:
        skip_or_fail("redis-server is not installed here; .ci/run installs it")
    yield url
    server.stop()


def build_schema(url: str) -> None:
    """Create every table, index and seed the app creates at start, then let go of the database."""
    from server.db import connect
    db = connect(url)
    db.close()
    if hasattr(db, "close_all"):  # a pooled connection would keep a template database in use
        db.close_all()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One SQLite file with the whole schema, built once per session and copied for every test."""
    path = tmp_path_factory.mktemp("template") / "govhall.db"
    build_schema(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_admin_url) -> str:
    """One PostgreSQL database with the whole schema, built once per session: the template of every test's."""
    url = create_database(postgres_admin_url)
    build_schema(url)
    yield url.rsplit("/", 1)[1]
    drop_database(postgres_admin_url, url)


@pytest.fixture(scope="session")
def postgres_reused(postgres_admin_url, postgres_template):
    """The PostgreSQL database that db_url hands to one test after another, emptied back to the
    template's rows between them (tests/pg_reuse.py): cheaper than a copy of the template per test."""
    database = ReusedDatabase(postgres_admin_url, postgres_template)
    yield database
    database.drop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database of this test's own on SQLite (temp file) and on PostgreSQL.

    It already holds the schema the app creates at start (copied from a per-session template), so
    `connect` only checks it; what a test writes is gone before the next test (a new SQLite file; the
    PostgreSQL database emptied back to the template's rows, or replaced when a test changed its schema).
    """
    if request.param == "sqlite":
        yield request.getfixturevalue("sqlite_url")
        return
    database = request.getfixturevalue("postgres_reused")
    yield database.url
    database.reset()


@pytest.fixture(scope="session")
def seeded_worlds(request, tmp_path_factory):
    """Worlds seeded once per session and database; tests get copies (tests/worlds.py, `seeded_app`)."""
    worlds = SeededWorlds(request, tmp_path_factory)
    yield worlds
    worlds.close()


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template):
    """A fresh SQLite database of this test's own, with the app's schema (a copy of the template)."""
    shutil.copyfile(sqlite_template, tmp_path / "govhall.db")
    return f"sqlite:///{tmp_path}/govhall.db"


@pytest.fixture(params=["embedded", "redis"])
def kv_url(request):
    """None (the in-process stand-in) and a real Redis server."""
    if request.param == "embedded":
        return None
    url = request.getfixturevalue("redis_server_url")
    import redis
    redis.Redis.from_url(url).flushdb()
    return url


# --- the app ---------------------------------------------------------------------------------------

@pytest.fixture
def running_app(db_url, tmp_path):
    """The app on SQLite and PostgreSQL with the embedded key-value store."""
    app = RunningApp(make_settings(db_url, upload_dir=str(tmp_path / "uploads"))).start()
    yield app
    app.stop()


# --- running in parallel ---------------------------------------------------------------------------

def pytest_itemcollected(item):
    """With several workers (pytest-xdist, `--dist loadgroup`), the tests that share a module-scoped
    fixture run on one worker, so what it builds (a demo province, an indexed catalogue, the matrix's
    world) is built once per parameter instead of once per worker that happens to get one of them.
    (Marked as each test is collected: xdist reads the groups in its own collection hook.)"""
    info = getattr(item, "_fixtureinfo", None)
    if info is None or not item.config.pluginmanager.hasplugin("xdist"):  # `-p no:xdist`: no groups to mark
        return
    shared = sorted(name for name, defs in info.name2fixturedefs.items()
                    if defs and defs[-1].scope in ("module", "class", "package"))
    if not shared:
        return
    params = getattr(item, "callspec", None)
    chosen = ",".join(str(params.params.get(name, "")) for name in shared) if params else ""
    # no "]" in the name: xdist reads "…]@group" as a parameter, not a group
    item.add_marker(pytest.mark.xdist_group(f"{item.module.__name__}:{chosen}".replace("]", ")").replace("[", "(")))
