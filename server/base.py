"""The one base handler: JSON in and out, bearer auth, use cases run off the event loop, one error body."""
from __future__ import annotations

import functools
import inspect
import json
import logging
import math
import traceback
import uuid
from collections.abc import Callable

import tornado.httputil
import tornado.web

from items.errors import (DomainError, Forbidden, Malformed, NotSignedIn, UnsupportedType,
                          error_details, invalid, invalid_all, not_an_object, rule_error)
from items.scope import ROLES as STAFF_ROLES, Actor
from server import limits, logs
from server.errors import CODE_FOR_STATUS, STATUS, dependency_failure, error_body
from server.operations import NO_OPERATION, Operation, declared

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("govhall.access")

METHODS = ("get", "post", "put", "patch", "delete")
# After a body is refused, its rest is read and dropped up to this much so that a client still sending can
# read the 413 (closing at once resets the connection and the answer with it); beyond it we hang up.
DRAIN_MAX = 128 * 1024 * 1024


class UndeclaredInput(RuntimeError):
    """A handler read a parameter or header its operation does not declare: a bug, caught by the tests."""


def _with_body(method):
    """Wrap a handler method: answer a refused body, then assemble the streamed body before the method runs."""
    @functools.wraps(method)
    async def run(self, *args, **kwargs):
        if self._finished:
            return None
        if self._refused is not None:  # the 413 went out while the body streamed; the connection stays usable
            self.finish()
            return None
        self._assemble_body()
        result = method(self, *args, **kwargs)
        return (await result) if inspect.isawaitable(result) else result  # console pages may be synchronous
    return run


# The media types of the downloadable import templates, by format.
TEMPLATE_TYPES = {"csv": "text/csv; charset=utf-8",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    """Handlers parse, `await self.run(use_case, ...)`, and write a dict. Nothing here touches the DB.

    Bodies stream in: the route's limit (declared with the operation) is checked against Content-Length
    before a byte is read, and against the bytes as they arrive for chunked bodies."""

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        for name in METHODS:
            fn = cls.__dict__.get(name)
            unimplemented = fn is getattr(tornado.web.RequestHandler, name)  # answers 405 as it is
            if fn is not None and not unimplemented and not getattr(fn, "__with_body__", False):
                wrapped = _with_body(fn)
                wrapped.__with_body__ = True
                setattr(cls, name, wrapped)

    def initialize(self, **kwargs) -> None:
        self.ctx = self.application.settings["ctx"]
        self.request_id = limits.request_id(self.request.headers.get("X-Request-Id"), uuid.uuid4().hex[:16])
        self.set_header("X-Request-Id", self.request_id)
        self.actor: Actor | None = None
        self._chunks: list[bytes] = []
        self._received = 0
        self._refused: int | None = None
        # Every log line of this request, here or on the thread pool, carries the id (server/logs.py).
        logs.request_id.set(self.request_id)
        self._in_flight = self.ctx.in_flight.begin()

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        if getattr(self, "request_id", None):
            self.set_header("X-Request-Id", self.request_id)

    def check_xsrf_cookie(self) -> None:  # bearer tokens, no cookies: XSRF does not apply
        return None

    async def run(self, fn, *args, **kwargs):
        """Run a synchronous use case on the thread pool (peewee and wechatpy block)."""
        return await self.ctx.run(fn, *args, **kwargs)

    async def compute(self, fn, *args):
        """Run work that needs no database (a workbook, a CSV) on the thread pool."""
        return await self.ctx.compute(fn, *args)

    @property
    def remote_ip(self) -> str:
        return self.request.remote_ip or ""

    # --- the edge: declarations, body limits, path segments -----------------------------------------

    @property
    def operation(self) -> Operation:
        """The declaration of the method this request calls (an empty one when it declares nothing)."""
        fn = getattr(type(self), self.request.method.lower(), None)
        return declared(fn) or NO_OPERATION

    def declared_limit(self) -> int:
        """The most bytes the declared body may have (a setting's value when it names one)."""
        body = self.operation.body
        if body is None:
            return limits.SMALL_BODY
        return getattr(self.ctx.settings, body.max_bytes) if isinstance(body.max_bytes, str) else body.max_bytes

    def body_limit(self) -> int:
        body = self.operation.body
        return self.declared_limit() + (body.allowance if body else 0)

    def decode_argument(self, value: bytes, name: str | None = None) -> str:
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            where = name or "path"
            raise invalid(f"{where} is not UTF-8", where, "unicode",
                          code="bad_parameter", error_message="text is UTF-8", kind=Malformed) from None

    def prepare(self) -> None:
        for segment in self.path_args:
            problem = limits.text_problem(segment) or (
                ("max_length", f"a path segment has at most {limits.MAX_PATH_SEGMENT} characters")
                if len(segment) > limits.MAX_PATH_SEGMENT else None)
            if problem:
                raise invalid(problem[1], "path", problem[0], code="bad_parameter", kind=Malformed)
        length = self.request.headers.get("Content-Length")
        limit = self.body_limit()
        if length is not None and length.strip().isdigit() and int(length) > limit:
            if int(length) <= DRAIN_MAX:
                self.request.connection.set_max_body_size(int(length))
            self._refuse(limit)

    def data_received(self, chunk: bytes) -> None:
        self._received += len(chunk)
        if self._refused is not None:
            if self._received > DRAIN_MAX and not self._finished:
                self.finish()  # tornado hangs up rather than read the rest
            return
        if self._received > self.body_limit():
            self._chunks.clear()
            self._refuse(self.body_limit())
            return
        self._chunks.append(chunk)

    def _refuse(self, limit: int) -> None:
        """Send 413 now; the method stage finishes the response once the body's rest is drained."""
        self._refused = limit
        self._chunks.clear()
        body, declared = self.operation.body, self.declared_limit()
        payload = json.dumps(error_body(body.too_large_code if body else "too_large",
                                        f"the body may have at most {declared} bytes",
                                        error_details(rule_error("", "max_bytes", f"at most {declared} bytes"),
                                                      max_bytes=declared)),
                             ensure_ascii=False).encode()
        self.clear()
        self.set_default_headers()
        self.set_status(413)
        self.set_header("Content-Length", str(len(payload)))
        self.write(payload)
        self.flush()

    def on_finish(self) -> None:
        self._chunks.clear()
        self.ctx.in_flight.end(self._in_flight)

    def _assemble_body(self) -> None:
        self.request.body = b"".join(self._chunks)
        self._chunks.clear()
        ctype = self.request.headers.get("Content-Type", "")
        if self.request.body and ctype.split(";")[0].strip().lower() in ("multipart/form-data",
                                                                         "application/x-www-form-urlencoded"):
            try:
                tornado.httputil.parse_body_arguments(ctype, self.request.body, self.request.body_arguments,
                                                      self.request.files, self.request.headers)
            except tornado.httputil.HTTPInputError as exc:
                raise invalid(f"the form body cannot be read: {exc}", "", "form_encoding", code="malformed_form",
                              kind=Malformed) from None

    # --- input --------------------------------------------------------------------------------------

    def declared_param(self, name: str, where: str = "query"):
        param = self.operation.param(name, where)
        if param is None:
            raise UndeclaredInput(f"{type(self).__name__}.{self.request.method.lower()} reads the {where} "
                                  f"{name!r} without declaring it")
        return param

    def arg(self, name: str):
        """The declared query parameter `name`, typed and checked. Raises Malformed bad_parameter (400)."""
        raw = tornado.web.RequestHandler.get_query_argument(self, name, None)
        return self.declared_param(name).parse(raw)

    def get_query_argument(self, name: str, default=None, strip: bool = True):
        """Tornado's reader, held to the declaration: an undeclared name is a bug, a bad value a 400."""
        value = self.arg(name)
        return default if value is None else value

    def header(self, name: str) -> str | None:
        """The declared request header `name`, checked like a parameter."""
        return self.declared_param(name, "header").parse(self.request.headers.get(name))

    def json_body(self, content_types: tuple[str, ...] | None = None) -> object:
        """The request body parsed as JSON within the edge limits (depth, numbers, text, declared sizes).
        Raises UnsupportedType (415), Malformed (400) or Invalid (422)."""
        body = self.operation.body
        content_types = content_types or (body.content_types if body else ("application/json",))
        ctype = self.request.headers.get("Content-Type", content_types[0]).split(";")[0].strip().lower()
        if ctype not in content_types:
            raise UnsupportedType(f"send {' or '.join(content_types)}, not {ctype}",
                                  details={"accepted": list(content_types)})
        value = limits.parse_json(self.request.body)
        if body is not None:
            limits.check_sizes(value, body.schema)
        return value

    def json_object(self, required: tuple[str, ...] = ()) -> dict:
        body = self.json_body()
        if not isinstance(body, dict):
            raise not_an_object()
        missing = [k for k in required if body.get(k) in (None, "")]
        if missing:
            errors = [rule_error("/" + k, "required", f"{k} is required") for k in missing]
            raise invalid_all(f"missing {', '.join(missing)}", errors, code="missing_fields")
        return body

    def uploaded_file(self, name_of: Callable[[str | None, str], str | None], accepted: str) -> tuple[bytes, str]:
        """The file of an import → (bytes, filename): the multipart part `file` (or the only part), else the
        body itself, named by `name_of(?filename=, content type)`. Raises UnsupportedType
        (unsupported_import_format) when that gives no name, Malformed (empty_file) for an empty body."""
        files = self.request.files.get("file") or next(iter(self.request.files.values()), None)
        if files:
            return files[0]["body"], files[0]["filename"] or "upload"
        ctype = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        filename = name_of(self.get_query_argument("filename", None), ctype)
        if filename is None:
            raise UnsupportedType(f"send a {accepted} file (multipart field 'file' or a typed body)",
                                  code="unsupported_import_format", details={"content_type": ctype})
        if not self.request.body:
            raise invalid("the file is empty", "file", "non_empty", code="empty_file", kind=Malformed)
        return self.request.body, filename

    def int_arg(self, name: str, default: int | None = None, minimum: int = 1, maximum: int | None = None):
        """The declared integer parameter `name`; the declaration's bounds and default win."""
        value = self.arg(name)
        return default if value is None else value

    def page_args(self, max_size: int = 200) -> tuple[int, int]:
        return self.int_arg("page", 1), self.int_arg("size", 50)

    # --- auth ---------------------------------------------------------------------------------------

    def bearer_token(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip() or None
        return None

    async def authenticate(self, *roles: str) -> Actor:
        """The signed-in actor; with `roles`, one of them is required, without them a staff role (a
        citizen's token opens only the hall's routes). Raises NotSignedIn, Forbidden."""
        roles = roles or STAFF_ROLES
        token = self.bearer_token()
        if not token:
            raise NotSignedIn("sign in first: send Authorization: Bearer <token>", code="not_signed_in")
        self.actor = await self.run(self.ctx.accounts.authenticate, token)
        if self.actor.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}", code="role_required",
                            details={"required": list(roles), "role": self.actor.role})
        return self.actor

    # --- output -------------------------------------------------------------------------------------

    def send(self, payload: dict, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload, ensure_ascii=False, default=str))

    def send_file(self, body: bytes, content_type: str, filename: str) -> None:
        """Send `body` as a download named `filename`."""
        self.set_header("Content-Type", content_type)
        self.set_header("Content-Disposition", f'attachment; filename="{filename}"')
        self.finish(body)

    def send_error_body(self, status: int, code: str, message: str, details: dict | None = None) -> None:
        self.clear()
        self.set_default_headers()
        self.set_status(status)
        wait = (details or {}).get("retry_after_seconds") if status in (429, 503) else None
        if isinstance(wait, (int, float)) and not isinstance(wait, bool) and wait > 0:
            self.set_header("Retry-After", str(max(1, math.ceil(wait))))  # RFC 9110 §10.2.3: when to try again
        self.finish(json.dumps(error_body(code, message, details), ensure_ascii=False, default=str))

    def _handle_request_exception(self, e: BaseException) -> None:
        if self._refused is not None:  # the 413 is out; nothing else can be said on this response
            if not self._finished:
                self.finish()
            return
        if isinstance(e, DomainError):
            if self._finished:
                return
            self.send_error_body(STATUS.get(e.kind, 400), e.code, e.message, e.details)
            return
        dependency = dependency_failure(e)
        if dependency is not None:
            # One line, no traceback: the outage is the operator's news, not a bug in this request.
            logger.warning("request %s: %s unavailable: %s", self.request_id, dependency, type(e).__name__)
            if not self._finished:
                self.send_error_body(503, "dependency_unavailable", f"the {dependency} is unavailable; try again shortly",
                                     {"dependency": dependency, "request_id": self.request_id})
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        if status_code >= 500 and not isinstance(exc, tornado.web.HTTPError):
            logger.error("request %s failed:\n%s", self.request_id, "".join(traceback.format_exception(
                *exc_info, limit=-20)) if exc_info else "")
            self.send_error_body(500, "internal", f"internal error; quote request id {self.request_id}",
                                 {"request_id": self.request_id})
            return
        message = (exc.log_message if isinstance(exc, tornado.web.HTTPError) and exc.log_message
                   else self._reason) or "error"
        details = None
        if status_code in (400, 422):  # the one shape of validation details, for Tornado's own refusals too
            name = exc.arg_name if isinstance(exc, tornado.web.MissingArgumentError) else ""
            details = error_details(rule_error(name, "required" if name else "http_request", message))
        self.send_error_body(status_code, CODE_FOR_STATUS.get(status_code, "error"), message, details)


class NotFoundHandler(BaseHandler):
    """Unknown paths answer with the error body too."""

    def prepare(self) -> None:
        self.send_error_body(404, "not_found", f"no such path: {self.request.path}")


def log_request(handler: tornado.web.RequestHandler) -> None:
    """The one access log line: status, method, path (no query: it may carry codes), time, request id;
    and the request's count and latency in the metrics, by route pattern."""
    status = handler.get_status()
    log = access_logger.info if status < 400 else access_logger.warning if status < 500 else access_logger.error
    request = handler.request
    ctx = handler.application.settings.get("ctx")
    route = ctx.metrics.observe(handler) if ctx is not None and hasattr(ctx, "metrics") else "-"
    duration = 1000.0 * request.request_time()
    log("%d %s %s %.1fms rid=%s", status, request.method, request.path, duration,
        getattr(handler, "request_id", "-"), extra={"status": status, "method": request.method,
                                                    "path": request.path, "route": route,
                                                    "duration_ms": round(duration, 1)})


