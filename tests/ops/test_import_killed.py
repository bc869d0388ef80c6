"""`kill -9` in the middle of a catalogue import on PostgreSQL: nothing half-written, and the rerun completes."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from console.world import catalogue_document
from items import records
from server.db import open_database
from servers import create_database, drop_database

ITEMS = 5000  # five chunks of 1,000: the import reports progress after each, inside its one transaction
GOVHALL = str(Path(sys.executable).with_name("govhall"))


def count_catalogue(url: str) -> tuple[int, int]:
    """(catalogue items, catalogue versions) in the database at `url`."""
    db = open_database(url)
    try:
        return tuple(db.execute_sql(f"SELECT count(*) FROM {model._meta.table_name}").fetchone()[0]
                     for model in (records.CatalogueItemRecord, records.CatalogueVersionRecord))
    finally:
        db.close()
        if hasattr(db, "close_all"):
            db.close_all()


def test_an_import_killed_mid_write_leaves_nothing_and_the_rerun_imports_everything(postgres_admin_url, tmp_path):
    url = create_database(postgres_admin_url)
    try:
        source = tmp_path / "catalogue.json"
        source.write_text(json.dumps([catalogue_document(f"{900000000000 + n:012d}", f"导入事项{n:05d}")
                                      for n in range(ITEMS)], ensure_ascii=False), encoding="utf-8")
        env = dict(os.environ, GOVHALL_DATABASE_URL=url, GOVHALL_VAR_DIR=str(tmp_path),
                   GOVHALL_SECRET_KEY="kill-test-secret-0123456789")
        migrate = subprocess.run([GOVHALL, "migrate"], env=env, capture_output=True, text=True, timeout=300)
        assert migrate.returncode == 0, migrate.stderr[-2000:]
        proc = subprocess.Popen([GOVHALL, "import-catalogue", str(source)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        seen = []
        for line in proc.stderr:  # progress lines: "import [#####....] 1000/5000 20%"
            seen.append(line)
            if f"/{ITEMS} " in line and not line.strip().endswith("100%"):
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(60)
        proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL, seen  # killed while writing, before the end
        assert count_catalogue(url) == (0, 0)

        rerun = subprocess.run([GOVHALL, "import-catalogue", str(source)], env=env, capture_output=True, text=True,
                               timeout=600)
        assert rerun.returncode == 0, rerun.stderr[-2000:]
        assert json.loads(rerun.stdout)["created"] == ITEMS
        assert count_catalogue(url) == (ITEMS, ITEMS)
    finally:
        drop_database(postgres_admin_url, url)
