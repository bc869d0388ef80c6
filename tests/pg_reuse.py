"""One PostgreSQL database reused by many tests: emptied back to the template's rows between tests.

Copying a template database costs a checkpoint and a file copy per test (about a second on a busy
2-core machine); putting the same rows back after a test costs a TRUNCATE and a COPY of the few seed
rows. A test that changed the schema itself (migrations, backups) leaves a database whose fingerprint
differs from the template's: that one is dropped and copied afresh, so no test sees another's schema.
"""
from __future__ import annotations

import io

import psycopg2

from servers import create_database, drop_database

# Tables, columns, indexes, constraints, views and functions of the public schema: what a test must not
# change for the database to be reused.
_FINGERPRINT = """
SELECT md5(coalesce(string_agg(x, ';' ORDER BY x), '')) FROM (
  SELECT 'c:' || table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':'
         || coalesce(column_default, '') AS x
    FROM information_schema.columns WHERE table_schema = 'public'
  UNION ALL SELECT 'i:' || indexname || ':' || indexdef FROM pg_indexes WHERE schemaname = 'public'
  UNION ALL SELECT 'k:' || conrelid::regclass::text || ':' || conname || ':' || pg_get_constraintdef(oid)
    FROM pg_constraint WHERE connamespace = 'public'::regnamespace
  UNION ALL SELECT 'v:' || table_name FROM information_schema.views WHERE table_schema = 'public'
  UNION ALL SELECT 'f:' || p.proname || ':' || pg_get_function_identity_arguments(p.oid)
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
  UNION ALL SELECT 's:' || sequence_name FROM information_schema.sequences WHERE sequence_schema = 'public'
) parts
"""


class ReusedDatabase:
    """A copy of `template` that `reset()` brings back to the template's state (or replaces)."""

    def __init__(self, admin_url: str, template: str):
        self.admin_url, self.template = admin_url, template
        self.url = create_database(admin_url, template=template)
        with self._connect() as conn, conn.cursor() as cur:
            self.fingerprint = self._fingerprint(cur)
            cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
            self.tables = [name for (name,) in cur.fetchall()]
            self.rows = {}
            for table in self.tables:
                buffer = io.StringIO()
                cur.copy_expert(f'COPY "{table}" TO STDOUT', buffer)
                if buffer.getvalue():
                    self.rows[table] = buffer.getvalue()
            cur.execute("SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public'")
            self.sequences = dict(cur.fetchall())
        conn.close()

    def _connect(self):
        return psycopg2.connect(self.url)

    @staticmethod
    def _fingerprint(cur) -> str:
        cur.execute(_FINGERPRINT)
        return cur.fetchone()[0]

    def reset(self) -> None:
        """Empty every table and put the template's rows and sequence positions back; a database whose
        schema a test changed is replaced by a fresh copy of the template instead."""
        conn = self._connect()
        try:
            with conn, conn.cursor() as cur:
                cur.execute("SET lock_timeout = '10s'")
                # Connections a test left open (an app not stopped) must not hold locks into the next test.
                cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                            "WHERE datname = current_database() AND pid <> pg_backend_pid()")
                if self._fingerprint(cur) != self.fingerprint:
                    raise _SchemaChanged
                cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
                if sorted(name for (name,) in cur.fetchall()) != self.tables:
                    raise _SchemaChanged
                self._empty(cur)
                for table, data in self.rows.items():
                    cur.copy_expert(f'COPY "{table}" FROM STDIN', io.StringIO(data))
                for name, value in self.sequences.items():
                    if value is None:
                        cur.execute("SELECT setval(%s, 1, false)", (f'"{name}"',))
                    else:
                        cur.execute("SELECT setval(%s, %s, true)", (f'"{name}"', value))
        except _SchemaChanged:
            conn.close()
            self._replace()
            return
        finally:
            conn.close()

    def _empty(self, cur) -> None:
        """DELETE, not TRUNCATE: a test leaves a few rows, and TRUNCATE's new files for every table and
        index cost far more (about 0.9 s against 0.1 s here). Foreign keys are left unchecked while
        emptying (every table is emptied); a role that may not do that gets TRUNCATE … CASCADE."""
        cur.execute("SAVEPOINT emptying")
        try:
            cur.execute("SET LOCAL session_replication_role = replica")
        except psycopg2.errors.InsufficientPrivilege:
            cur.execute("ROLLBACK TO SAVEPOINT emptying")
            cur.execute("TRUNCATE " + ", ".join(f'"{t}"' for t in self.tables) + " CASCADE")
            return
        for table in self.tables:
            cur.execute(f'DELETE FROM "{table}"')
        cur.execute("SET LOCAL session_replication_role = DEFAULT")

    def _replace(self) -> None:
        drop_database(self.admin_url, self.url)
        self.url = create_database(self.admin_url, template=self.template)

    def drop(self) -> None:
        drop_database(self.admin_url, self.url)


class _SchemaChanged(Exception):
    pass
