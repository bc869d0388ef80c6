"""Settings come from GOVHALL_ variables in one place, typed, with secrets masked wherever they print."""
from __future__ import annotations

import pytest

from server.config import Secret, Settings


def test_settings_read_the_contract_variables():
    env = {"GOVHALL_DATABASE_URL": "postgresql://gov:pw@db:5432/govhall", "GOVHALL_REDIS_URL": "redis://r:6379/1",
           "GOVHALL_WECHAT_APPID": "wx123", "GOVHALL_WECHAT_SECRET": "s3cret", "GOVHALL_SECRET_KEY": "k" * 32,
           "GOVHALL_WECHAT_API_BASE": "http://127.0.0.1:9/", "GOVHALL_WORKERS": "4"}
    settings = Settings.from_env(env)
    assert settings.database_url.startswith("postgresql://") and settings.redis_url == "redis://r:6379/1"
    assert settings.wechat_appid == "wx123" and settings.wechat_secret.reveal() == "s3cret"
    assert settings.wechat_api_base == "http://127.0.0.1:9/" and settings.workers == 4


def test_secrets_and_url_passwords_never_print():
    settings = Settings.from_env({"GOVHALL_DATABASE_URL": "postgresql://gov:pw-123@db/govhall",
                                  "GOVHALL_WECHAT_SECRET": "s3cret-value", "GOVHALL_SECRET_KEY": "key-value-xyz"})
    text = repr(settings) + str(settings.describe())
    for secret in ("s3cret-value", "key-value-xyz", "pw-123"):
        assert secret not in text
    assert settings.describe()["database_url"] == "postgresql://gov:***@db/govhall"
    assert repr(Secret("x")) == "Secret('**********')"


def test_wechat_templates_map_logical_names_and_reject_bad_entries():
    settings = Settings.from_env({"GOVHALL_WECHAT_TEMPLATES": "case_progress=TPL1, rating=TPL2",
                                  "GOVHALL_SECRET_KEY": "k"})
    assert dict(settings.wechat_templates) == {"case_progress": "TPL1", "rating": "TPL2"}
    with pytest.raises(ValueError, match="case_progress"):
        Settings.from_env({"GOVHALL_WECHAT_TEMPLATES": "case_progress", "GOVHALL_SECRET_KEY": "k"})


def test_embedded_default_keeps_a_generated_secret_key(tmp_path):
    first = Settings.from_env({"GOVHALL_VAR_DIR": str(tmp_path)}).secret_key.reveal()
    assert len(first) >= 32
    assert Settings.from_env({"GOVHALL_VAR_DIR": str(tmp_path)}).secret_key.reveal() == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


@pytest.mark.parametrize("name, raw", [("HALL_CACHE_CHECK", "abc"), ("HALL_CACHE_TTL", "nan"), ("WORKERS", "-2"),
                                       ("TOKEN_TTL", "1.5"), ("REDIS_TIMEOUT", "-0.1")])
def test_a_bad_numeric_setting_is_refused_naming_its_variable(name, raw):
    with pytest.raises(ValueError, match=f"GOVHALL_{name}: expected a non-negative"):
        Settings.from_env({"GOVHALL_SECRET_KEY": "k" * 32, f"GOVHALL_{name}": raw})


def test_numeric_settings_are_read_as_their_kind():
    settings = Settings.from_env({"GOVHALL_SECRET_KEY": "k" * 32, "GOVHALL_HALL_CACHE_CHECK": "0.05",
                                  "GOVHALL_WORKERS": "0"})
    assert (settings.hall_cache_check, settings.workers) == (0.05, 0)
