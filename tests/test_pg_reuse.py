"""The reused PostgreSQL test database gives each test what a fresh copy of the template would."""
from __future__ import annotations

import psycopg2
import pytest

from pg_reuse import ReusedDatabase


@pytest.fixture
def reused(postgres_admin_url, postgres_template):
    database = ReusedDatabase(postgres_admin_url, postgres_template)
    yield database
    database.drop()


def _query(url: str, sql: str, *args):
    conn = psycopg2.connect(url)
    try:
        with conn, conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None
    finally:
        conn.close()


def test_reset_removes_what_a_test_wrote_and_keeps_the_template_rows(reused):
    seeds = _query(reused.url, "SELECT count(*) FROM search_synonym")[0][0]
    assert seeds > 0
    _query(reused.url, "DELETE FROM search_synonym WHERE id IN (SELECT min(id) FROM search_synonym)")
    _query(reused.url, "INSERT INTO hall_user_record (openid, created_at) VALUES ('o-1', now())")
    reused.reset()
    assert _query(reused.url, "SELECT count(*) FROM search_synonym")[0][0] == seeds
    assert _query(reused.url, "SELECT count(*) FROM hall_user_record")[0][0] == 0


def test_reset_puts_sequences_back_so_ids_repeat_as_in_a_fresh_copy(reused):
    insert = "INSERT INTO hall_user_record (openid, created_at) VALUES (%s, now()) RETURNING id"
    first = _query(reused.url, insert, "o-1")[0][0]
    _query(reused.url, insert, "o-2")
    reused.reset()
    assert _query(reused.url, insert, "o-3")[0][0] == first


def test_a_test_that_changes_the_schema_gets_a_fresh_copy_for_the_next(reused):
    before = reused.url
    _query(before, "ALTER TABLE search_synonym ADD COLUMN scratch integer")
    reused.reset()
    assert reused.url != before
    columns = _query(reused.url, "SELECT column_name FROM information_schema.columns WHERE table_name = 'search_synonym'")
    assert ("scratch",) not in columns


def test_a_connection_left_open_does_not_block_the_reset(reused):
    conn = psycopg2.connect(reused.url)
    cur = conn.cursor()
    cur.execute("SELECT count(*) FROM search_synonym")  # a transaction left open holds a lock
    reused.reset()
    assert _connection_gone(conn)  # it was ended, so its lock went with it


def _connection_gone(conn) -> bool:
    try:
        conn.cursor().execute("SELECT 1")
    except psycopg2.Error:
        return True
    return False
