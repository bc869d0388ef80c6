"""The one table from domain error kinds to HTTP statuses, and the one error body (CONTRACT.md §3)."""
from __future__ import annotations

import redis.exceptions

from server.db import UNAVAILABLE as DATABASE_UNAVAILABLE

STATUS = {
    "malformed": 400,
    "unauthenticated": 401,
    "forbidden": 403,
    "not_found": 404,
    "method_not_allowed": 405,
    "conflict": 409,
    "stale": 412,
    "too_large": 413,
    "unsupported_type": 415,
    "invalid": 422,
    "precondition_required": 428,
    "rate_limited": 429,
    "unavailable": 503,
}

# Codes for statuses raised by Tornado itself (routing, body size, methods).
CODE_FOR_STATUS = {
    400: "malformed", 401: "not_signed_in", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
    422: "validation_failed", 429: "rate_limited", 500: "internal", 503: "dependency_unavailable",
}


def error_body(code: str, message: str, details: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details or {}}}


# A dependency that cannot be reached (Redis down or slow, the database restarted or its connection lost)
# is the client's 503 dependency_unavailable, not a bug: the request may be retried once it is back.
DEPENDENCY_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, *DATABASE_UNAVAILABLE)
# SQLite reports some programming errors as OperationalError too: those stay bugs (500).
_BUG_MESSAGES = ("no such table", "no such column", "syntax error", "has no column")


def dependency_failure(exc: BaseException) -> str | None:
    """The name of the dependency `exc` says is unreachable ("redis" or "database"), or None for a real bug."""
    if isinstance(exc, (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)):
        return "redis"
    if isinstance(exc, DATABASE_UNAVAILABLE):
        if any(text in str(exc).lower() for text in _BUG_MESSAGES):
            return None
        return "database"
    return None
