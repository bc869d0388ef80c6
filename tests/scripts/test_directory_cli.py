"""`govhall import-directory FILE [--dry-run]`: per-row problems on stderr, non-zero exit, nothing written."""
from __future__ import annotations

import json

import pytest

from server import cli
from server.app import Context
from harness import make_settings

REGIONS = "区划代码,区划名称,上级区划代码\n410000,河南省,\n410400,平顶山市,\n410402,新华区,410400\n"


@pytest.fixture
def env(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path}/govhall.db"
    monkeypatch.setenv("GOVHALL_DATABASE_URL", url)
    monkeypatch.setenv("GOVHALL_SECRET_KEY", "test-secret-key-0123456789")
    monkeypatch.delenv("GOVHALL_REDIS_URL", raising=False)
    # a database URL alone means production, where commands only check the schema: a fresh file needs it made
    monkeypatch.setenv("GOVHALL_AUTO_MIGRATE", "1")
    return url


def region_codes(url: str) -> list[str]:
    ctx = Context(make_settings(url))
    try:
        return [r["code"] for r in ctx.directory.list_regions(size=100)["regions"]]
    finally:
        ctx.close()


def test_dry_run_then_import_prints_a_summary_and_writes_only_the_second_time(env, tmp_path, capsys):
    path = tmp_path / "regions.csv"
    path.write_text(REGIONS, encoding="utf-8")
    assert cli.main(["import-directory", str(path), "--dry-run"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["regions"]["created"] == 3 and summary["written"] is False
    assert region_codes(env) == []
    assert cli.main(["import-directory", str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["written"] is True
    assert region_codes(env) == ["410000", "410400", "410402"]


def test_a_bad_row_is_reported_with_row_field_and_rule_and_exits_non_zero(env, tmp_path, capsys):
    path = tmp_path / "regions.csv"
    path.write_text(REGIONS + "410403,卫东区,410402\n", encoding="utf-8")
    assert cli.main(["import-directory", str(path)]) == 1
    captured = capsys.readouterr()
    assert "row 5: parent: parent_contains:" in captured.err
    assert json.loads(captured.out)["problems"] == 1
    assert region_codes(env) == []
