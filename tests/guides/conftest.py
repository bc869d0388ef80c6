"""Search databases for guides tests, on the project's servers (tests/conftest.py): SQLite and PostgreSQL."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import pytest

from guides import search_index
from items.records import database
from server.db import open_database
from servers import create_database, drop_database

BACKENDS = ["sqlite", "postgresql"]  # the ids of tests/conftest.py db_url


@contextmanager
def search_database(url: str):
    """Yield the database of `url` with the search tables and schema, bound to items.records.database."""
    db = open_database(url)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    db.create_tables(search_index.MODELS)
    search_index.create_search_schema(db)
    try:
        yield db
    finally:
        db.close()
        if hasattr(db, "close_all"):  # the pool keeps connections that would hold the database open
            db.close_all()


@contextmanager
def fresh_search_database(kind: str, directory: Path, request):
    """Yield a search database on a new SQLite file or a new PostgreSQL database, dropped afterwards.

    For fixtures wider than one test (db_url is per test); PostgreSQL comes from postgres_admin_url.
    """
    if kind == "sqlite":
        with search_database(f"sqlite:///{directory}/search.db") as db:
            yield db
        return
    admin = request.getfixturevalue("postgres_admin_url")
    url = create_database(admin)
    try:
        with search_database(url) as db:
            yield db
    finally:
        drop_database(admin, url)


@pytest.fixture(scope="session")
def open_search_database():
    """The fresh_search_database context manager, for fixtures of a wider scope (one index per module)."""
    return fresh_search_database


@pytest.fixture
def search_db(db_url):
    """A fresh search database per test, on each backend (db_url of tests/conftest.py)."""
    with search_database(db_url) as db:
        yield db
