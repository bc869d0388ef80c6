"""The one base handler: JSON in and out, bearer auth, use cases run off the event loop, one error body."""
from __future__ import annotations

import json
import logging
import traceback
import uuid

import tornado.web

from items.errors import DomainError, Forbidden, Malformed, NotSignedIn, UnsupportedType
from items.scope import Actor
from server.errors import CODE_FOR_STATUS, STATUS, error_body

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("govhall.access")


class BaseHandler(tornado.web.RequestHandler):
    """Handlers parse, `await self.run(use_case, ...)`, and write a dict. Nothing here touches the DB."""

    def initialize(self, **kwargs) -> None:
        self.ctx = self.application.settings["ctx"]
        self.request_id = self.request.headers.get("X-Request-Id") or uuid.uuid4().hex[:16]
        self.actor: Actor | None = None

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")

    def check_xsrf_cookie(self) -> None:  # bearer tokens, no cookies: XSRF does not apply
        return None

    async def run(self, fn, *args, **kwargs):
        """Run a synchronous use case on the thread pool (peewee and wechatpy block)."""
        return await self.ctx.run(fn, *args, **kwargs)

    @property
    def remote_ip(self) -> str:
        return self.request.remote_ip or ""

    # --- input --------------------------------------------------------------------------------------

    def json_body(self, content_types=("application/json",)) -> object:
        """The request body parsed as JSON. Raises UnsupportedType or Malformed."""
        ctype = self.request.headers.get("Content-Type", "application/json").split(";")[0].strip().lower()
        if ctype not in content_types:
            raise UnsupportedType(f"send {' or '.join(content_types)}, not {ctype}",
                                  details={"accepted": list(content_types)})
        try:
            return json.loads(self.request.body or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise Malformed(f"the body is not valid JSON: {exc}", code="malformed_json") from exc

    def json_object(self, required: tuple[str, ...] = ()) -> dict:
        body = self.json_body()
        if not isinstance(body, dict):
            raise Malformed("the body must be a JSON object", code="not_an_object")
        missing = [k for k in required if body.get(k) in (None, "")]
        if missing:
            from items.errors import Invalid
            raise Invalid(f"missing {', '.join(missing)}", code="missing_fields", details={"errors": [
                {"path": "/" + k, "rule": "required", "message": f"{k} is required"} for k in missing]})
        return body

    def int_arg(self, name: str, default: int | None = None, minimum: int = 1, maximum: int | None = None):
        raw = self.get_query_argument(name, None)
        if raw in (None, ""):
            return default
        try:
            value = int(raw)
        except ValueError:
            raise Malformed(f"{name} must be a whole number", code="bad_parameter",
                            details={"parameter": name, "value": raw}) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise Malformed(f"{name} must be between {minimum} and {maximum or '∞'}", code="bad_parameter",
                            details={"parameter": name, "value": raw})
        return value

    def page_args(self, max_size: int = 200) -> tuple[int, int]:
        return self.int_arg("page", 1), self.int_arg("size", 50, maximum=max_size)

    # --- auth ---------------------------------------------------------------------------------------

    def bearer_token(self) -> str | None:
        header = self.request.headers.get("Authorization", "")
        if header.lower().startswith("bearer "):
            return header[7:].strip() or None
        return None

    async def authenticate(self, *roles: str) -> Actor:
        """The signed-in actor; with `roles`, one of them is required. Raises NotSignedIn, Forbidden."""
        token = self.bearer_token()
        if not token:
            raise NotSignedIn("sign in first: send Authorization: Bearer <token>", code="not_signed_in")
        self.actor = await self.run(self.ctx.accounts.authenticate, token)
        if roles and self.actor.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}", code="role_required",
                            details={"required": list(roles), "role": self.actor.role})
        return self.actor

    # --- output -------------------------------------------------------------------------------------

    def send(self, payload: dict, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(payload, ensure_ascii=False, default=str))

    def send_error_body(self, status: int, code: str, message: str, details: dict | None = None) -> None:
        self.clear()
        self.set_default_headers()
        self.set_status(status)
        self.finish(json.dumps(error_body(code, message, details), ensure_ascii=False, default=str))

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, DomainError):
            if self._finished:
                return
            self.send_error_body(STATUS.get(e.kind, 400), e.code, e.message, e.details)
            return
        super()._handle_request_exception(e)

    def write_error(self, status_code: int, **kwargs) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        if status_code >= 500 and not isinstance(exc, tornado.web.HTTPError):
            logger.error("request %s failed:\n%s", self.request_id, "".join(traceback.format_exception(*exc_info))
                         if exc_info else "")
            self.send_error_body(500, "internal", f"internal error; quote request id {self.request_id}",
                                 {"request_id": self.request_id})
            return
        message = (exc.log_message if isinstance(exc, tornado.web.HTTPError) and exc.log_message
                   else self._reason)
        self.send_error_body(status_code, CODE_FOR_STATUS.get(status_code, "error"), message or "error")


class NotFoundHandler(BaseHandler):
    """Unknown paths answer with the error body too."""

    def prepare(self) -> None:
        self.send_error_body(404, "not_found", f"no such path: {self.request.path}")


def log_request(handler: tornado.web.RequestHandler) -> None:
    """The one access log line: status, method, path (no query: it may carry codes), time, request id."""
    status = handler.get_status()
    log = access_logger.info if status < 400 else access_logger.warning if status < 500 else access_logger.error
    request = handler.request
    log("%d %s %s %.1fms rid=%s", status, request.method, request.path, 1000.0 * request.request_time(),
        getattr(handler, "request_id", "-"))


