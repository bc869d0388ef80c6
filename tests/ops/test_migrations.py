"""Versioned migrations: a database of the previous release is adopted with all its data; serve checks the schema."""
from __future__ import annotations

import collections
import gzip
import sqlite3
from pathlib import Path

import pytest

from harness import RunningApp, make_settings
from server import cli, db as dbmod, migrations

DATA = Path(__file__).resolve().parents[1] / "data"
# `govhall demo` of release 0.1.0 (commit 9485843), trimmed to a dozen rows per large table, dumped by sqlite3.
SQLITE_FIXTURE = DATA / "release-0.1.0-sqlite.sql.gz"
PG_FIXTURE = DATA / "release-0.1.0-postgresql.sql.gz"


def _load_sqlite_fixture(path: Path) -> str:
    conn = sqlite3.connect(path)
    conn.executescript(gzip.open(SQLITE_FIXTURE, "rt", encoding="utf-8").read())
    conn.close()
    return f"sqlite:///{path}"


def _snapshot(db) -> dict[str, list[tuple]]:
    """Every row of every ordinary table of the database, as tuples of its columns, sorted."""
    out = {}
    with db.connection_context():
        for table in db.get_tables():
            if table.startswith(("search_fts", "sqlite_")) or table == "schema_version":
                continue
            columns = [c.name for c in db.get_columns(table)]
            quoted = ", ".join(f'"{c}"' for c in columns)
            rows = db.execute_sql(f'SELECT {quoted} FROM "{table}"').fetchall()
            out[table] = (columns, sorted(map(tuple, rows), key=repr))
    return out


def _close(db) -> None:
    if hasattr(db, "close_all"):
        db.close_all()
    elif not db.is_closed():
        db.close()


def _assert_nothing_lost(before: dict, after: dict) -> None:
    """Every row of the old database is still there, unchanged in its old columns. Rows may be added
    (the search lexicon seeds its entries into the synonym table, beside the operators' own)."""
    assert set(before) <= set(after)
    for table, (columns, rows) in before.items():
        new_columns, new_rows = after[table]
        keep = [new_columns.index(c) for c in columns]
        remaining = collections.Counter(tuple(r[i] for i in keep) for r in new_rows)
        lost = [row for row in rows if not _take(remaining, row)]
        assert not lost, (table, lost[:5])


def _take(counter: collections.Counter, row: tuple) -> bool:
    if counter[row] <= 0:
        return False
    counter[row] -= 1
    return True


def test_fresh_database_is_created_at_the_latest_version(db_url):
    db = dbmod.connect(db_url)
    try:
        with db.connection_context():
            assert migrations.status(db) == {"current": migrations.LATEST, "latest": migrations.LATEST,
                                             "state": "current"}
            assert db.table_exists("catalogue_item_record")
    finally:
        _close(db)


def test_a_current_database_is_not_introspected_again_until_the_schema_code_changes(db_url, monkeypatch):
    calls = []
    baseline = migrations.m0001_baseline.apply
    monkeypatch.setattr(migrations.m0001_baseline, "apply", lambda db: (calls.append(1), baseline(db)))
    _close(dbmod.connect(db_url))  # the test database was made by this code: nothing to reconcile
    assert calls == []
    monkeypatch.setattr(migrations, "code_fingerprint", lambda: "a model was edited")
    _close(dbmod.connect(db_url))
    assert calls == [1]
    _close(dbmod.connect(db_url))  # the new fingerprint is recorded: once per change
    assert calls == [1]


def test_a_column_a_model_declares_is_added_when_the_schema_code_changed(db_url, monkeypatch):
    table, column = "hall_user_record", "unionid"  # nullable, not indexed: any database can drop it
    _close(dbmod.connect(db_url))
    db = dbmod.open_database(db_url)
    with db.connection_context():
        db.execute_sql(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    _close(db)
    monkeypatch.setattr(migrations, "code_fingerprint", lambda: "the model gained a column")
    db = dbmod.connect(db_url)
    try:
        with db.connection_context():
            assert column in {c.name for c in db.get_columns(table)}
    finally:
        _close(db)


def test_previous_release_sqlite_database_upgrades_and_loses_nothing(tmp_path):
    url = _load_sqlite_fixture(tmp_path / "old.db")
    db = dbmod.open_database(url)
    before = _snapshot(db)
    assert sum(len(rows) for _, rows in before.values()) > 300  # the fixture has data in every area
    with db.connection_context():
        assert migrations.status(db)["state"] == "unmigrated"
    _close(db)

    # Production refuses it until `govhall migrate` ran.
    with pytest.raises(migrations.SchemaMismatch, match="govhall migrate"):
        _close(dbmod.connect(url, migrate=False))
    db = dbmod.connect(url, migrate=True)
    try:
        _assert_nothing_lost(before, _snapshot(db))
    finally:
        _close(db)

    app = RunningApp(make_settings(url, auto_migrate=False, upload_dir=str(tmp_path / "uploads"))).start()
    try:
        api = app.api()
        assert api.get("/api/v1/health/ready").status == 200
        api.login("admin", "demo-admin")
        listed = api.get("/api/v1/catalogue/items?size=200")
        assert listed.status == 200
        assert listed.json["total"] == len(before["catalogue_item_record"][1])
    finally:
        app.stop()


def test_previous_release_postgresql_database_upgrades_and_loses_nothing(postgres_admin_url):
    import psycopg2
    from servers import create_database, drop_database
    url = create_database(postgres_admin_url)
    try:
        conn = psycopg2.connect(url)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(gzip.open(PG_FIXTURE, "rt", encoding="utf-8").read())
        conn.close()
        db = dbmod.open_database(url)
        before = _snapshot(db)
        assert sum(len(rows) for _, rows in before.values()) > 300
        _close(db)
        with pytest.raises(migrations.SchemaMismatch):
            _close(dbmod.connect(url, migrate=False))
        db = dbmod.connect(url)
        try:
            _assert_nothing_lost(before, _snapshot(db))
            with db.connection_context():
                assert migrations.status(db)["state"] == "current"
        finally:
            _close(db)
    finally:
        drop_database(postgres_admin_url, url)


def test_database_newer_than_the_code_is_refused_even_by_migrate(sqlite_url):
    db = dbmod.connect(sqlite_url)
    with db.connection_context():
        migrations.SchemaVersionRecord.bind(db)
        migrations.SchemaVersionRecord.create(version=migrations.LATEST + 1, name="future",
                                              applied_at="2030-01-01 00:00:00")
    _close(db)
    for migrate in (False, True):
        with pytest.raises(migrations.SchemaMismatch, match="newer"):
            _close(dbmod.connect(sqlite_url, migrate=migrate))


def test_migrate_command_brings_an_old_database_to_current(tmp_path, monkeypatch, capsys):
    url = _load_sqlite_fixture(tmp_path / "old.db")
    monkeypatch.setenv("GOVHALL_DATABASE_URL", url)
    monkeypatch.setenv("GOVHALL_VAR_DIR", str(tmp_path / "var"))
    assert cli.main(["migrate", "--check"]) == 1
    assert cli.main(["serve", "--port", "0"]) == 3  # production mode: refused before binding anything
    assert "govhall migrate" in capsys.readouterr().err
    assert cli.main(["migrate"]) == 0
    assert f'"to": {migrations.LATEST}' in capsys.readouterr().out
    assert cli.main(["migrate", "--check"]) == 0


def test_production_settings_do_not_migrate_by_themselves():
    from server.config import Settings
    assert Settings.from_env({"GOVHALL_DATABASE_URL": "postgresql://x@h/d", "GOVHALL_SECRET_KEY": "k"}).auto_migrate is False
    assert Settings.from_env({"GOVHALL_SECRET_KEY": "k"}).auto_migrate is True
    assert Settings.from_env({"GOVHALL_DATABASE_URL": "sqlite:///x.db", "GOVHALL_SECRET_KEY": "k",
                              "GOVHALL_AUTO_MIGRATE": "1"}).auto_migrate is True
