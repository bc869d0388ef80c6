"""Domain errors: a stable snake_case code, a human message and details; server/ maps kinds to statuses."""
from __future__ import annotations

from collections.abc import Iterable


class DomainError(Exception):
    """Base of every error the domain raises. `kind` picks the HTTP status in server/errors.py."""

    kind = "invalid"
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class Malformed(DomainError):
    """The request could not be read at all (400)."""
    kind = "malformed"
    code = "malformed"


class NotSignedIn(DomainError):
    kind = "unauthenticated"
    code = "not_signed_in"


class Forbidden(DomainError):
    kind = "forbidden"
    code = "forbidden"


class NotFound(DomainError):
    kind = "not_found"
    code = "not_found"


class Conflict(DomainError):
    """The thing is in a state that does not allow this (409)."""
    kind = "conflict"
    code = "conflict"


class Stale(DomainError):
    """If-Match named a version that is no longer current (412)."""
    kind = "stale"
    code = "stale_version"


class PreconditionRequired(DomainError):
    kind = "precondition_required"
    code = "if_match_required"


class TooLarge(DomainError):
    kind = "too_large"
    code = "too_large"


class UnsupportedType(DomainError):
    kind = "unsupported_type"
    code = "unsupported_media_type"


class Invalid(DomainError):
    """A rule or validation failure (422). details["errors"] lists {path, rule, message}."""
    kind = "invalid"
    code = "validation_failed"


class RateLimited(DomainError):
    kind = "rate_limited"
    code = "rate_limited"


class Unavailable(DomainError):
    """A dependency (database, Redis, WeChat) is down (503)."""
    kind = "unavailable"
    code = "dependency_unavailable"


# --- the one shape of validation details ------------------------------------------------------------

def rule_error(path: str, rule: str, message: str) -> dict:
    """One entry of `details["errors"]`: the JSON Pointer of the field (or the query parameter's name),
    the rule it broke and a human message."""
    return {"path": path, "rule": rule, "message": message}


def error_details(*errors: dict, **extra) -> dict:
    """The details of a validation error: `{"errors": [{path, rule, message}, ...]}`, plus any `extra`
    keys a particular error documents (e.g. `allowed`)."""
    return {"errors": list(errors), **extra}


def invalid(message: str, path: str, rule: str, *, code: str = "validation_failed",
            error_message: str | None = None, kind: type[DomainError] = Invalid, **extra) -> DomainError:
    """An error of one broken rule in the one shape, to raise: `raise invalid("…", "/visits", "min")`.

    `kind` is Invalid (422, a rule) by default, Malformed (400) for a bad query parameter; another kind
    (TooLarge, UnsupportedType, Forbidden) when its details name a field and rule too.
    """
    details = error_details(rule_error(path, rule, error_message or message), **extra)
    return kind(message, code=code, details=details)


def invalid_all(message: str, errors: Iterable[dict], *, code: str = "validation_failed",
                kind: type[DomainError] = Invalid, **extra) -> DomainError:
    """An error of several broken rules (each a `rule_error`) in the one shape, to raise; `extra` keys go
    into the details beside `errors` (e.g. the conflicts left unresolved)."""
    return kind(message, code=code, details=error_details(*errors, **extra))


def not_an_object(what: str = "the body") -> DomainError:
    """The 400 not_an_object error for a JSON value that must be an object and is not, to raise."""
    return invalid(f"{what} must be a JSON object", "", "object", code="not_an_object", kind=Malformed)
