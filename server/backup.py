"""Backups: the database (SQLite online backup, or pg_dump/pg_restore) and the uploads folder, in one folder."""
from __future__ import annotations

import datetime
import glob
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from items.errors import Conflict, Invalid, NotFound, error_details, rule_error
from server.config import Settings

MANIFEST = "manifest.json"
SQLITE_FILE = "govhall.db"
PG_FILE = "govhall.pgdump"
UPLOADS = "uploads"


def backup(settings: Settings, dest: str | Path) -> dict:
    """Write the database and the uploads into the new folder `dest`; returns the manifest.

    Safe while the service runs: SQLite's backup API copies a consistent snapshot page by page, and
    pg_dump reads one snapshot. Raises Conflict when `dest` exists and is not empty.
    """
    dest = Path(dest)
    if dest.exists() and any(dest.iterdir()):
        raise Conflict(f"{dest} is not empty: back up into a new folder", code="backup_exists")
    dest.mkdir(parents=True, exist_ok=True)
    url = settings.database_url
    if _scheme(url) == "sqlite":
        _sqlite_copy(_sqlite_path(url), dest / SQLITE_FILE)
        database = SQLITE_FILE
    else:
        _run_pg("pg_dump", url, ["--format=custom", "--no-owner", f"--file={dest / PG_FILE}"])
        database = PG_FILE
    uploads = Path(settings.upload_dir)
    files = 0
    if uploads.is_dir():
        shutil.copytree(uploads, dest / UPLOADS)
        files = sum(1 for p in (dest / UPLOADS).rglob("*") if p.is_file())
    manifest = {"format": 1, "database": database, "kind": _scheme(url), "uploads": files,
                "schema_version": _schema_version(settings),
                "created_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=1))
    return manifest


def restore(settings: Settings, source: str | Path) -> dict:
    """Replace the configured database and uploads folder with the backup in `source`; returns its manifest.

    Stop `govhall serve` first: requests during a restore would see half of it. Raises NotFound for a
    folder that is not a backup and Invalid for a backup of the other database kind.
    """
    source = Path(source)
    if not (source / MANIFEST).is_file():
        raise NotFound(f"{source} holds no {MANIFEST}: not a govhall backup", code="not_a_backup")
    manifest = json.loads((source / MANIFEST).read_text())
    url = settings.database_url
    if manifest["kind"] != _scheme(url):
        raise Invalid(f"the backup is of a {manifest['kind']} database, the configured one is {_scheme(url)}",
                      code="backup_kind_differs", details=error_details(rule_error(
                          "kind", "same_database_kind", "a backup restores into the kind of database it came from")))
    if manifest["kind"] == "sqlite":
        _sqlite_copy(source / SQLITE_FILE, _sqlite_path(url))
    else:
        _run_pg("pg_restore", url, ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                                    str(source / PG_FILE)])
    uploads = Path(settings.upload_dir)
    if (source / UPLOADS).is_dir():
        staging = uploads.with_name(uploads.name + ".restoring")
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(source / UPLOADS, staging)
        shutil.rmtree(uploads, ignore_errors=True)
        staging.rename(uploads)
    return manifest


def _scheme(url: str) -> str:
    scheme = urlsplit(url).scheme
    return "postgresql" if scheme in ("postgresql", "postgres") else scheme


def _sqlite_path(url: str) -> str:
    return url[len("sqlite:///"):] if url.startswith("sqlite:///") else urlsplit(url).path


def _sqlite_copy(source: str | Path, target: str | Path) -> None:
    """SQLite's online backup: a consistent copy even while other connections write."""
    if not Path(source).is_file():
        raise NotFound(f"no database file at {source}", code="database_missing")
    Path(target).parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(str(source))
    dst = sqlite3.connect(str(target))
    try:
        dst.execute("PRAGMA busy_timeout = 30000")
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_tool(name: str) -> str:
    # The newest installed client: pg_dump refuses a server newer than itself.
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"), key=lambda p: int(p.split("/")[4]))
    tool = found[-1] if found else shutil.which(name)
    if not tool:
        raise NotFound(f"{name} is not installed: install the PostgreSQL client", code="pg_client_missing")
    return tool


def _run_pg(tool: str, url: str, arguments: list[str]) -> None:
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)  # never on the command line, where ps shows it
    command = [_pg_tool(tool), f"--host={parts.hostname or 'localhost'}", f"--port={parts.port or 5432}",
               f"--username={unquote(parts.username or '') or 'postgres'}",
               f"--dbname={parts.path.lstrip('/')}", *arguments]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise Conflict(f"{tool} failed: {done.stderr.strip()[-500:]}", code=f"{tool.replace('_', '')}_failed")


def _schema_version(settings: Settings) -> int:
    from server import db as dbmod, migrations
    db = dbmod.open_database(settings.database_url, max_connections=1)
    try:
        with db.connection_context():
            return migrations.current_version(db)
    finally:
        if hasattr(db, "close_all"):
            db.close_all()
