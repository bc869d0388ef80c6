"""Settings: the one place that reads GOVHALL_ environment variables (CONTRACT.md §1)."""
from __future__ import annotations

import dataclasses
import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_WECHAT_API_BASE = "https://api.weixin.qq.com/"


class Secret:
    """A secret value that prints masked (in logs, reprs and tracebacks)."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('**********')" if self._value else "Secret('')"

    __str__ = __repr__

    def __eq__(self, other) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def mask_url(url: str | None) -> str | None:
    """The URL with any password replaced by ***, for logs."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


@dataclasses.dataclass(frozen=True, repr=False)
class Settings:
    """Typed configuration. Build with Settings.from_env() or directly in tests."""

    database_url: str = "sqlite:///var/govhall.db"
    redis_url: str | None = None  # None: the in-process stand-in
    # Seconds one Redis command may take (connect, then answer) before the request fails with 503: a
    # request never retries, so a dead or hung Redis costs a sign-in this long at most per command.
    redis_timeout: float = 1.0
    secret_key: Secret = Secret("")
    wechat_appid: str = ""
    wechat_secret: Secret = Secret("")
    wechat_api_base: str = DEFAULT_WECHAT_API_BASE
    wechat_timeout: float = 5.0
    wechat_token: Secret = Secret("")  # server callback token
    wechat_aes_key: Secret = Secret("")  # server callback EncodingAESKey
    # logical template → WeChat subscribe-message template id, e.g. "case_progress=AbC…,rating=XyZ…"
    wechat_templates: tuple[tuple[str, str], ...] = ()
    token_ttl: int = 8 * 3600
    hall_token_ttl: int = 7 * 24 * 3600
    workers: int = 8  # threads running use cases off the event loop
    password_hash_cost: int = 3  # argon2 passes (time_cost); tests lower it
    password_hash_memory_kib: int = 64 * 1024  # argon2 memory per hash
    password_hash_workers: int = 2  # threads of the hashing pool, apart from `workers`
    password_hash_queue: int = 16  # sign-ins waiting for a hashing thread before 503 sign_in_busy
    upload_dir: str = "var/uploads"
    upload_max_bytes: int = 10 * 1024 * 1024
    import_max_bytes: int = 64 * 1024 * 1024
    rectification_workdays: int = 5
    reveals_per_hour: int = 10  # full ID-number reveals per window staff member per hour
    rank_min_items: int = 5
    holiday_file: str | None = None
    # the local code2session stand-in (wechat/dev_gateway.py); embedded default only
    wechat_dev: bool = False
    debug: bool = False
    # Production (GOVHALL_DATABASE_URL set) migrates only on `govhall migrate`; the embedded default itself.
    auto_migrate: bool = True
    shutdown_timeout: float = 30.0  # seconds SIGTERM waits for requests in flight
    metrics_token: Secret = Secret("")  # bearer token for /metrics; unset = loopback only
    log_format: str = "text"  # text | json
    # Published guides and hall searches cached per process (server/read_cache.py); 0 entries turns it off.
    hall_cache_entries: int = 4096
    hall_cache_ttl: float = 60.0
    hall_cache_check: float = 0.1  # seconds between reads of the cache generation in Redis, per process

    @classmethod
    def from_env(cls, environ: dict | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str, default=None):
            value = env.get("GOVHALL_" + name)
            return default if value in (None, "") else value

        def number(name: str, kind: type, default):
            """A numeric setting; a value that is not a non-negative number of `kind` names its variable."""
            raw = get(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except ValueError:
                value = -1
            if not value >= 0:
                noun = "whole number" if kind is int else "number"
                raise ValueError(f"GOVHALL_{name}: expected a non-negative {noun}, got {raw!r}")
            return value

        secret_key = get("SECRET_KEY")
        if not secret_key:
            # The embedded default keeps a generated key beside its database so tokens and
            # encrypted ID numbers survive restarts; production sets GOVHALL_SECRET_KEY.
            secret_key = _embedded_secret(Path(get("VAR_DIR", "var")))
        settings = cls(
            database_url=get("DATABASE_URL", cls.database_url),
            redis_url=get("REDIS_URL"),
            redis_timeout=number("REDIS_TIMEOUT", float, cls.redis_timeout),
            secret_key=Secret(secret_key),
            wechat_appid=get("WECHAT_APPID", ""),
            wechat_secret=Secret(get("WECHAT_SECRET", "")),
            wechat_api_base=get("WECHAT_API_BASE", DEFAULT_WECHAT_API_BASE),
            wechat_timeout=number("WECHAT_TIMEOUT", float, cls.wechat_timeout),
            wechat_token=Secret(get("WECHAT_TOKEN", "")),
            wechat_aes_key=Secret(get("WECHAT_AES_KEY", "")),
            wechat_templates=_pairs(get("WECHAT_TEMPLATES", "")),
            token_ttl=number("TOKEN_TTL", int, cls.token_ttl),
            hall_token_ttl=number("HALL_TOKEN_TTL", int, cls.hall_token_ttl),
            workers=number("WORKERS", int, cls.workers),
            password_hash_cost=number("PASSWORD_HASH_COST", int, cls.password_hash_cost),
            password_hash_memory_kib=number("PASSWORD_HASH_MEMORY_KIB", int, cls.password_hash_memory_kib),
            password_hash_workers=number("PASSWORD_HASH_WORKERS", int, cls.password_hash_workers),
            password_hash_queue=number("PASSWORD_HASH_QUEUE", int, cls.password_hash_queue),
            upload_dir=get("UPLOAD_DIR", cls.upload_dir),
            upload_max_bytes=number("UPLOAD_MAX_BYTES", int, cls.upload_max_bytes),
            import_max_bytes=number("IMPORT_MAX_BYTES", int, cls.import_max_bytes),
            rectification_workdays=number("RECTIFICATION_WORKDAYS", int, cls.rectification_workdays),
            reveals_per_hour=number("REVEALS_PER_HOUR", int, cls.reveals_per_hour),
            rank_min_items=number("RANK_MIN_ITEMS", int, cls.rank_min_items),
            holiday_file=get("HOLIDAY_FILE"),
            debug=get("DEBUG", "0") in ("1", "true", "yes"),
            auto_migrate=_flag(get("AUTO_MIGRATE"), default=get("DATABASE_URL") is None),
            shutdown_timeout=number("SHUTDOWN_TIMEOUT", float, cls.shutdown_timeout),
            metrics_token=Secret(get("METRICS_TOKEN", "")),
            log_format=_choice("LOG_FORMAT", get("LOG_FORMAT", cls.log_format), ("text", "json")),
            wechat_dev=get("WECHAT_DEV", "0") in ("1", "true", "yes"),
            hall_cache_entries=number("HALL_CACHE_ENTRIES", int, cls.hall_cache_entries),
            hall_cache_ttl=number("HALL_CACHE_TTL", float, cls.hall_cache_ttl),
            hall_cache_check=number("HALL_CACHE_CHECK", float, cls.hall_cache_check),
        )
        if settings.wechat_dev:
            check_dev_wechat(env)
        return settings

    def __repr__(self) -> str:
        return f"Settings({self.describe()})"

    def describe(self) -> dict:
        """Settings for logs and `govhall config`: secrets masked, URL passwords hidden."""
        out = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, Secret):
                value = repr(value)
            elif field.name in ("database_url", "redis_url"):
                value = mask_url(value)
            out[field.name] = value
        return out


def _flag(value: str | None, default: bool) -> bool:
    return default if value is None else value.lower() in ("1", "true", "yes")


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ValueError(f"GOVHALL_{name}: expected one of {', '.join(allowed)}, got {value!r}")
    return value


def dev_wechat_settings(settings: "Settings") -> "Settings":
    """`settings` with the development WeChat stand-in on (serve --dev-wechat); ValueError beside a
    production database (check_dev_wechat)."""
    check_dev_wechat(os.environ)
    return dataclasses.replace(settings, wechat_dev=True)


def check_dev_wechat(environ) -> None:
    """Raise ValueError when the development WeChat stand-in is asked for beside a production database:
    it signs anyone in as any citizen, so it runs on the embedded default only."""
    if environ.get("GOVHALL_DATABASE_URL"):
        raise ValueError("the development WeChat stand-in (GOVHALL_WECHAT_DEV / --dev-wechat) lets anyone sign "
                         "in as any citizen; it is refused when GOVHALL_DATABASE_URL is set (production). "
                         "Unset one of them.")


def _pairs(text: str) -> tuple[tuple[str, str], ...]:
    """Parse "a=1,b=2" into (("a", "1"), ("b", "2")); raise ValueError naming a bad entry."""
    pairs = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        name, sep, value = part.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise ValueError(f"GOVHALL_WECHAT_TEMPLATES: expected name=template_id, got {part!r}")
        pairs.append((name.strip(), value.strip()))
    return tuple(pairs)


def _embedded_secret(var_dir: Path) -> str:
    path = var_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    var_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(32)
    path.write_text(key)
    path.chmod(0o600)
    return key
