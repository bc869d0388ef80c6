"""Seeded worlds built once per session and database, copied for every test that starts from them.

A world is what a seed function writes through a running app's services (regions, departments,
catalogue, items moved through the workflow, cases with their uploaded files …). Running the seed for
every test repeats the same work hundreds of times; here it runs once per database kind, and each test
gets its own copy: SQLite through the online backup API, PostgreSQL as a database emptied back to the
seeded rows after each test (tests/pg_reuse.py). The seeding app's upload directory is copied too, into
`upload_dir(tmp_path)`: start the test's app with that upload_dir, so the files the seeded rows name are
there. The key-value store is not copied: a seed must not leave state there that tests rely on
(bearer tokens: issue them in the test, after its app starts).

    def seed_people(ctx) -> dict: ...                      # runs once per database kind (on this thread)
    people = seeded_app(seed_people)                       # a fixture: (RunningApp, what the seed returned)

    def test_something(people):
        app, value = people
"""
from __future__ import annotations

import copy
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Callable

import pytest

from harness import RunningApp, make_settings
from pg_reuse import ReusedDatabase
from servers import create_database, drop_database


def copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a WAL-mode database (the online backup API, not a file copy)."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def upload_dir(tmp_path: Path) -> str:
    """The upload directory of a test's app started on a seeded world: `SeededWorlds.database` copies the
    world's uploaded files there."""
    return str(tmp_path / "uploads")


def _seed_through_app(url: str, seed: Callable, directory: Path):
    app = RunningApp(make_settings(url, upload_dir=upload_dir(directory))).start()
    try:
        return seed(app.ctx)
    finally:
        app.stop()
        if hasattr(app.ctx.db, "close_all"):  # pooled connections would keep a template database in use
            app.ctx.db.close_all()


class SeededWorlds:
    """The session's seeded databases, by database kind and seed function."""

    def __init__(self, request, tmp_path_factory):
        self.request, self.tmp = request, tmp_path_factory
        self.built: dict[tuple[str, Callable], tuple] = {}  # (database, seed's value, upload directory)
        self.cleanups: list[Callable] = []

    def _build(self, kind: str, seed: Callable):
        key = (kind, seed)
        if key not in self.built:
            directory = self.tmp.mktemp(f"world-{kind}-{seed.__name__}")
            if kind == "sqlite":
                path = directory / "govhall.db"
                copy_sqlite(self.request.getfixturevalue("sqlite_template"), path)
                self.built[key] = (path, _seed_through_app(f"sqlite:///{path}", seed, directory), directory)
            else:
                admin = self.request.getfixturevalue("postgres_admin_url")
                template = create_database(admin, template=self.request.getfixturevalue("postgres_template"))
                value = _seed_through_app(template, seed, directory)
                reused = ReusedDatabase(admin, template.rsplit("/", 1)[1])
                self.cleanups += [reused.drop, lambda: drop_database(admin, template)]
                self.built[key] = (reused, value, directory)
        return self.built[key]

    def database(self, kind: str, seed: Callable, tmp_path: Path) -> tuple[str, object, Callable]:
        """(url of this test's copy, a copy of what the seed returned, what to call after the test); the
        world's uploaded files are copied into `upload_dir(tmp_path)`."""
        source, value, directory = self._build(kind, seed)
        uploads = Path(upload_dir(directory))
        if uploads.exists():
            shutil.copytree(uploads, upload_dir(tmp_path), dirs_exist_ok=True)
        if kind == "sqlite":
            copy_sqlite(source, tmp_path / "govhall.db")
            return f"sqlite:///{tmp_path}/govhall.db", copy.deepcopy(value), lambda: None
        return source.url, copy.deepcopy(value), source.reset

    def close(self) -> None:
        """Drop the seeded databases. A server started for the session may already be stopped (its
        fixture was set up after this one, so it is torn down first): its databases went with it."""
        import psycopg2
        for cleanup in reversed(self.cleanups):
            try:
                cleanup()
            except psycopg2.OperationalError:
                return


def seeded_app(seed: Callable, **setting_overrides):
    """A fixture over SQLite and PostgreSQL: the app started on this test's copy of the seeded world,
    as (RunningApp, what the seed returned)."""

    @pytest.fixture(params=["sqlite", "postgresql"])
    def fixture(request, seeded_worlds, tmp_path):
        url, value, after = seeded_worlds.database(request.param, seed, tmp_path)
        app = RunningApp(make_settings(url, upload_dir=upload_dir(tmp_path), **setting_overrides)).start()
        try:
            yield app, value
        finally:
            app.stop()
            after()

    return fixture
