"""Search databases for guides tests: a temp-file SQLite, and PostgreSQL when one is given or installed."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

import peewee as pw
import pytest
from playhouse.db_url import connect

from guides import search_index
from items.records import database

BACKENDS = ["sqlite", "postgres"]
NO_POSTGRES = ("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb) and "
               "GOVHALL_TEST_POSTGRES_URL is not set")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def postgres_url():
    """The URL of a PostgreSQL database for tests: GOVHALL_TEST_POSTGRES_URL, or a throwaway cluster."""
    given = os.environ.get("GOVHALL_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins or not Path(bins[-1], "initdb").exists():
        pytest.skip(NO_POSTGRES)
    initdb, pg_ctl = str(Path(bins[-1], "initdb")), str(Path(bins[-1], "pg_ctl"))
    base = tempfile.mkdtemp(prefix="govhall-guides-pg-")
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    data, port = os.path.join(base, "data"), _free_port()
    run = dict(check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        subprocess.run(_as_postgres([initdb, "-D", data, "-U", "postgres", "-A", "trust",
                                     "--locale=C.UTF-8", "-E", "UTF8"]), **run)
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off"
        subprocess.run(_as_postgres([pg_ctl, "-D", data, "-o", options, "-l", os.path.join(base, "log"),
                                     "-w", "start"]), **run)
    except subprocess.CalledProcessError as exc:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start PostgreSQL: {exc.stderr.decode(errors='replace')[-500:]}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([pg_ctl, "-D", data, "-m", "immediate", "-w", "stop"]), **run)
        shutil.rmtree(base, ignore_errors=True)


@contextmanager
def search_database(kind: str, directory: Path, request):
    """Yield a database with the search tables and schema, bound to items.records.database; drop it after.

    SQLite is a temp file (executor threads each get their own :memory: database); PostgreSQL gets a
    schema of its own, so a given GOVHALL_TEST_POSTGRES_URL needs only the right to create schemas.
    """
    schema = None
    if kind == "sqlite":
        db = pw.SqliteDatabase(str(directory / f"search-{uuid.uuid4().hex}.db"), pragmas={"journal_mode": "wal"})
    else:
        url = request.getfixturevalue("postgres_url")
        schema = "t_" + uuid.uuid4().hex
        admin = connect(url)
        admin.execute_sql(f"CREATE SCHEMA {schema}")
        admin.close()
        db = connect(url, options=f"-c search_path={schema}")
    database.initialize(db)
    db.connect(reuse_if_open=True)
    db.create_tables(search_index.MODELS)
    search_index.create_search_schema(db)
    try:
        yield db
    finally:
        db.close()
        if schema:
            admin = connect(request.getfixturevalue("postgres_url"))
            admin.execute_sql(f"DROP SCHEMA {schema} CASCADE")
            admin.close()


@pytest.fixture(scope="session")
def open_search_database():
    """The search_database context manager, for fixtures of a wider scope (one index per module)."""
    return search_database


@pytest.fixture(params=BACKENDS)
def search_db(request, tmp_path):
    """A fresh search database per test, on each backend."""
    with search_database(request.param, tmp_path, request) as db:
        yield db
