"""The one table from domain error kinds to HTTP statuses, and the one error body (CONTRACT.md §3)."""
from __future__ import annotations

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
