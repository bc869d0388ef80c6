"""What each handler method takes: query parameters, headers and body, declared once, read by the base handler
and by the OpenAPI generator, so the description cannot drift from what the handlers accept."""
from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field

from items.errors import Malformed, error_details, rule_error
from server import limits

MAX_INT = limits.MAX_NUMBER
TRUE, FALSE = ("1", "true", "yes"), ("0", "false", "no")


@dataclass(frozen=True)
class Param:
    """One query parameter or header. `kind` ∈ string, integer, boolean, date."""
    name: str
    kind: str = "string"
    where: str = "query"
    minimum: int | None = None
    maximum: int | None = None
    enum: tuple = ()
    max_length: int = limits.MAX_QUERY_VALUE
    pattern: str | None = None
    required: bool = False
    default: object = None
    description: str = ""

    def schema(self) -> dict:
        """The parameter's JSON Schema (OpenAPI 3.0)."""
        if self.kind == "integer":
            out = {"type": "integer", "minimum": self.minimum if self.minimum is not None else 0,
                   "maximum": self.maximum if self.maximum is not None else MAX_INT}
        elif self.kind == "boolean":
            out = {"type": "string", "enum": list(TRUE + FALSE)}
        elif self.kind == "date":
            out = {"type": "string", "format": "date", "maxLength": 10}
        else:
            out = {"type": "string", "maxLength": self.max_length}
            if self.enum:
                out["enum"] = list(self.enum)
            if self.pattern:
                out["pattern"] = self.pattern
        if self.default is not None:
            out["default"] = self.default
        return out

    def parse(self, raw: str | None):
        """The typed value of `raw` (the default when absent). Raises Malformed bad_parameter (400)
        naming the parameter and the rule it breaks."""
        if raw is None or raw == "":
            if self.required and self.where == "query":  # a missing If-Match is the domain's 428
                raise self._bad("required", f"{self.name} is required", raw)
            return self.default
        problem = limits.text_problem(raw)
        if problem:
            raise self._bad(problem[0], problem[1], None)
        if len(raw) > self.max_length:
            raise self._bad("max_length", f"{self.name} has at most {self.max_length} characters", None)
        if self.kind == "integer":
            return self._integer(raw)
        if self.kind == "boolean":
            if raw.lower() not in TRUE + FALSE:
                raise self._bad("boolean", f"{self.name} is 1/true/yes or 0/false/no", raw)
            return raw.lower() in TRUE
        if self.kind == "date":
            try:
                datetime.date.fromisoformat(raw)
            except ValueError:
                raise self._bad("date", f"{self.name} is a date YYYY-MM-DD", raw) from None
            return raw
        if self.enum and raw not in self.enum:
            raise self._bad("enum", f"{self.name} is one of {', '.join(self.enum)}", raw)
        return raw

    def _integer(self, raw: str) -> int:
        low = self.minimum if self.minimum is not None else 0
        high = self.maximum if self.maximum is not None else MAX_INT
        digits = raw[1:] if raw[:1] in "+-" else raw
        if not digits.isascii() or not digits.isdigit():
            raise self._bad("integer", f"{self.name} must be a whole number", raw)
        # Compare the digits before converting: a 5,000-digit number never becomes an int here.
        value = int(raw) if len(digits) <= 12 else (high + 1 if raw[0] != "-" else low - 1)
        if not low <= value <= high:
            raise self._bad("range", f"{self.name} must be between {low} and {high}", raw)
        return value

    def _bad(self, rule: str, message: str, raw: str | None) -> Malformed:
        details = error_details(rule_error(self.name, rule, message))
        if raw is not None and len(raw) <= 64:
            details["value"] = raw
        return Malformed(message, code="bad_parameter", details=details)


def query(name: str, kind: str = "string", **kw) -> Param:
    return Param(name, kind, "query", **kw)


def header(name: str, **kw) -> Param:
    return Param(name, "string", "header", **kw)


def page_params(max_size: int = 200, default_size: int = 50) -> tuple[Param, Param]:
    return (query("page", "integer", minimum=1, maximum=100_000, default=1, description="page number"),
            query("size", "integer", minimum=1, maximum=max_size, default=default_size, description="page size"))


IF_MATCH = header("If-Match", max_length=40, description='the ETag of the version edited, e.g. "3"')
IF_MATCH_REQUIRED = header("If-Match", max_length=40, required=True,
                           description='the ETag of the version edited, e.g. "3" (428 when missing)')
CHANGE_MESSAGE = header("X-Change-Message", max_length=500, description="a note stored with the new version")


@dataclass(frozen=True)
class Body:
    """A request body: its JSON Schema (or a file), accepted content types and the most bytes it may have.
    `max_bytes` is a number or the name of a setting (upload_max_bytes, import_max_bytes)."""
    schema: dict = field(default_factory=lambda: {"type": "object"})
    content_types: tuple[str, ...] = ("application/json",)
    max_bytes: int | str = limits.SMALL_BODY
    required: bool = True
    description: str = ""
    allowance: int = 0  # bytes of envelope beyond max_bytes (multipart boundaries and part headers)
    too_large_code: str = "too_large"


@dataclass(frozen=True)
class Operation:
    params: tuple[Param, ...] = ()
    body: Body | None = None
    responses: dict = field(default_factory=dict)

    def param(self, name: str, where: str) -> Param | None:
        return self._by_name.get((where, name.lower()))

    @functools.cached_property
    def _by_name(self) -> dict[tuple[str, str], Param]:
        """Parameters by (where, lower-case name): every request reads several, each through this."""
        return {(p.where, p.name.lower()): p for p in reversed(self.params)}  # the first declaration wins


NO_OPERATION = Operation()


def operation(*params: Param, body: Body | None = None, responses: dict | None = None):
    """Declare what a handler method reads; the base handler refuses to read anything else."""
    def mark(fn):
        fn.__operation__ = Operation(tuple(params), body, dict(responses or {}))
        return fn
    return mark


def declared(fn) -> Operation | None:
    return getattr(fn, "__operation__", None)


def text(max_length: int, **kw) -> dict:
    """A JSON Schema string of at most `max_length` characters."""
    return {"type": "string", "maxLength": max_length, **kw}


def obj(properties: dict, required: tuple = (), **kw) -> dict:
    """A JSON Schema object with these properties and required fields."""
    out = {"type": "object", "properties": properties, **kw}
    if required:
        out["required"] = list(required)
    return out
