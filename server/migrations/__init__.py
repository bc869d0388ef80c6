"""Versioned schema migrations: the numbered steps, the recorded schema version, and the check `serve` makes.

Each migration is a module `mNNNN_name.py` with `apply(db)`, listed in MIGRATIONS in order. A database
records every step it went through in `schema_version`; `migrate(db)` runs the missing steps, each in
its own transaction, and `check(db)` tells whether this code may serve the database as it is.
"""
from __future__ import annotations

import datetime
import functools
import hashlib
import inspect
import logging
import time
from dataclasses import dataclass
from typing import Callable

import peewee as pw

from server.migrations import m0001_baseline, m0002_holiday_calendar, m0003_rule_counts

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    apply: Callable[[pw.Database], None]


# Append only: a released step is never edited, a schema change is a new step.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "baseline", m0001_baseline.apply),
    Migration(2, "holiday_calendar", m0002_holiday_calendar.apply),
    Migration(3, "rule_counts", m0003_rule_counts.apply),
)
LATEST = MIGRATIONS[-1].version


class SchemaVersionRecord(pw.Model):
    version = pw.IntegerField(primary_key=True)
    name = pw.CharField(max_length=100)
    applied_at = pw.DateTimeField()

    class Meta:
        table_name = "schema_version"


class SchemaStateRecord(pw.Model):
    """Bookkeeping beside schema_version: the fingerprint of the code that last reconciled the schema."""
    name = pw.CharField(max_length=50, primary_key=True)
    value = pw.CharField(max_length=100)

    class Meta:
        table_name = "schema_state"


class SchemaMismatch(Exception):
    """The database's schema is not the one this code was written for; `state` says which way."""

    def __init__(self, state: str, current: int, latest: int):
        self.state, self.current, self.latest = state, current, latest
        if state == "newer":
            message = (f"the database schema is at version {current}, newer than this release knows "
                       f"({latest}): run the release that migrated it, or restore a backup")
        else:
            message = (f"the database schema is at version {current} and this release needs {latest}: "
                       "run `govhall migrate` first")
        super().__init__(message)


def current_version(db: pw.Database) -> int:
    """The highest recorded step; 0 for an empty database or one made before versions were recorded."""
    if not db.table_exists("schema_version"):
        return 0
    with SchemaVersionRecord.bind_ctx(db):
        return SchemaVersionRecord.select(pw.fn.MAX(SchemaVersionRecord.version)).scalar() or 0


def status(db: pw.Database) -> dict:
    """`{current, latest, state}` with state ∈ current | unmigrated | newer."""
    current = current_version(db)
    state = "current" if current == LATEST else "newer" if current > LATEST else "unmigrated"
    return {"current": current, "latest": LATEST, "state": state}


def check(db: pw.Database) -> None:
    """Raise SchemaMismatch unless the database is exactly at LATEST."""
    found = status(db)
    if found["state"] != "current":
        raise SchemaMismatch(found["state"], found["current"], found["latest"])


@functools.cache
def code_fingerprint() -> str:
    """A hash of the source files the additive reconcile builds from: those defining the models and the
    storage modules' schema functions. It changes whenever one of them is edited; computed once per process."""
    from server import db as dbmod  # the model list lives with the database wiring
    files = {inspect.getsourcefile(model) for model in dbmod.all_models()}
    files |= {inspect.getsourcefile(module) for module in dbmod.storage_modules()}
    digest = hashlib.sha256()
    for path in sorted(f or "" for f in files):
        if not path:  # installed without sources: every start reconciles, as before fingerprints
            return f"unknown-{time.time_ns()}"
        with open(path, "rb") as source:
            digest.update(source.read())
    return digest.hexdigest()


def migrate(db: pw.Database) -> list[int]:
    """Run the missing steps in order; returns the versions applied. Raises SchemaMismatch when newer.

    Step 1 adopts a database of the previous release as it is (its tables exist, nothing recorded).
    """
    with db.connection_context():
        current = current_version(db)
        if current > LATEST:
            raise SchemaMismatch("newer", current, LATEST)
        with SchemaVersionRecord.bind_ctx(db), SchemaStateRecord.bind_ctx(db):
            db.create_tables([SchemaVersionRecord, SchemaStateRecord], safe=True)
            applied = []
            for step in MIGRATIONS:
                if step.version <= current:
                    continue
                logger.info("migrating the database to version %d (%s)", step.version, step.name)
                with db.atomic():
                    step.apply(db)
                    SchemaVersionRecord.create(version=step.version, name=step.name,
                                               applied_at=datetime.datetime.now(datetime.timezone.utc))
                applied.append(step.version)
            _reconcile(db)
    return applied


def _reconcile(db: pw.Database) -> None:
    """Additive reconcile after the steps: tables and columns the models declare are created if missing, so
    a branch that adds a nullable column keeps working before it gets its own step. It introspects every
    table (a third of a second on PostgreSQL), so it runs only when the code's schema fingerprint differs
    from the one recorded by the last reconcile — once per code change, not on every start."""
    fingerprint = code_fingerprint()
    recorded = SchemaStateRecord.get_or_none(SchemaStateRecord.name == "fingerprint")
    if recorded is not None and recorded.value == fingerprint:
        return
    with db.atomic():
        m0001_baseline.apply(db)
        (SchemaStateRecord.insert(name="fingerprint", value=fingerprint)
         .on_conflict(conflict_target=[SchemaStateRecord.name], update={SchemaStateRecord.value: fingerprint})
         .execute())
