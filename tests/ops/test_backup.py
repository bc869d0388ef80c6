"""`govhall backup` / `restore`: demo-like data, a backup, damage, a restore, and the same data again."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from server import backup as backups, cli
from server import db as dbmod

from harness import make_settings


def _rows(url: str) -> dict[str, list]:
    db = dbmod.open_database(url)
    try:
        with db.connection_context():
            out = {}
            for table in ("user_record", "catalogue_item_record", "catalogue_version_record", "schema_version"):
                cols = [c.name for c in db.get_columns(table)]
                out[table] = sorted(map(tuple, db.execute_sql(
                    f'SELECT {", ".join(chr(34) + c + chr(34) for c in cols)} FROM "{table}"').fetchall()), key=repr)
            return out
    finally:
        if hasattr(db, "close_all"):
            db.close_all()
        elif not db.is_closed():
            db.close()


def _damage(url: str, *statements: str) -> None:
    db = dbmod.open_database(url)
    with db.connection_context():
        for sql in statements:
            db.execute_sql(sql)
    if hasattr(db, "close_all"):
        db.close_all()


@pytest.fixture
def filled(db_url, tmp_path):
    """Settings for a database with an account, a catalogue item in two versions, and one upload."""
    from server.app import Context
    from items.scope import Actor
    from samples import building_permit
    settings = make_settings(db_url, upload_dir=str(tmp_path / "uploads"))
    ctx = Context(settings)
    try:
        ctx.accounts.create_user("keeper", "keeper-password-1", "province_admin")
        admin = Actor(username="keeper", role="province_admin")
        doc = building_permit()
        ctx.catalogue.put(doc["basic_code"], doc, admin)
        doc["name"] = doc["name"] + "（修订）"
        ctx.catalogue.put(doc["basic_code"], doc, admin)
    finally:
        ctx.close()
    uploads = Path(settings.upload_dir) / "ab"
    uploads.mkdir(parents=True)
    (uploads / "abcdef").write_bytes(b"%PDF-1.4 scanned licence")
    return settings


def test_restore_brings_back_the_data_and_uploads_of_the_backup(filled, tmp_path):
    settings = filled
    before = _rows(settings.database_url)
    assert len(before["catalogue_version_record"]) == 2

    manifest = backups.backup(settings, tmp_path / "backup")
    assert manifest["uploads"] == 1 and manifest["schema_version"] >= 1

    # Damage: a table emptied, an account changed, the uploads gone.
    _damage(settings.database_url, "DELETE FROM catalogue_version_record", "UPDATE user_record SET role = 'editor'")
    shutil.rmtree(settings.upload_dir)
    assert _rows(settings.database_url) != before

    backups.restore(settings, tmp_path / "backup")
    assert _rows(settings.database_url) == before
    assert (Path(settings.upload_dir) / "ab" / "abcdef").read_bytes() == b"%PDF-1.4 scanned licence"


def test_backup_refuses_a_folder_that_is_not_empty(filled, tmp_path):
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "x").write_text("x")
    from items.errors import Conflict
    with pytest.raises(Conflict):
        backups.backup(filled, tmp_path / "used")


def test_backup_and_restore_commands_on_the_embedded_default(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the embedded default lives under ./var/
    for name in ("GOVHALL_DATABASE_URL", "GOVHALL_UPLOAD_DIR", "GOVHALL_REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GOVHALL_PASSWORD", "keeper-password-1")
    assert cli.main(["create-user", "keeper", "--role", "province_admin"]) == 0
    assert cli.main(["backup", "snap"]) == 0
    manifest = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert manifest["kind"] == "sqlite" and (tmp_path / "snap" / "govhall.db").is_file()
    _damage("sqlite:///var/govhall.db", "UPDATE user_record SET role = 'editor'")
    assert cli.main(["restore", "snap"]) == 0
    rows = _rows("sqlite:///var/govhall.db")["user_record"]
    assert [r for r in rows if "keeper" in r and "province_admin" in r]
