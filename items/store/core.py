"""The storage transaction and what every storage module shares."""
from __future__ import annotations

import contextlib

import peewee as pw

from items.records import database


BATCH = 500


@contextlib.contextmanager
def transaction():
    """One write transaction. On SQLite it takes the write lock at BEGIN (IMMEDIATE), so two
    writers queue on busy_timeout instead of one failing when it upgrades a read lock."""
    db = database.obj
    if isinstance(db, pw.SqliteDatabase):
        with db.atomic("IMMEDIATE") as txn:
            yield txn
    else:
        with db.atomic() as txn:
            yield txn


def is_postgres() -> bool:
    return isinstance(database.obj, pw.PostgresqlDatabase)


def one_row(query, for_update: bool, missing: Exception):
    """The first row of `query`, its row locked until the transaction ends when `for_update` (PostgreSQL;
    SQLite's write transaction already holds the whole database). Raises `missing` when there is none."""
    if for_update and is_postgres():
        query = query.for_update()
    row = query.first()
    if row is None:
        raise missing
    return row
