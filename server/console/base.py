"""The console's one page handler: cookie sign-in, CSRF on every state change, templates, Chinese error pages.

Pages call the same services as the API (`await self.run(...)`, never a query on the event loop) and
show the services' own findings. Page modules (editor.py, later review.py, admin.py …) subclass
`ConsolePage` and end in `routes = [...]`; server/console/__init__.py collects them.
"""
from __future__ import annotations

import functools
import inspect
import logging
import traceback
import urllib.parse
from pathlib import Path

import tornado.escape
import tornado.web

from items.errors import DomainError, Malformed, NotSignedIn, invalid
from items.scope import ROLES as STAFF_ROLES, Actor
from server import limits
from server.base import METHODS, BaseHandler
from server.console import labels
from server.console.nav import navigation
from server.operations import Body, Operation, declared, query

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
PREFIX = "/console"
SESSION_COOKIE = "govhall_console"
XSRF_COOKIE = "_xsrf"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
# Everything is served from this origin (no CDN on a government intranet); no inline script or style.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


# What every page reads besides its own declared inputs: the confirmation code after a redirect.
PAGE_PARAMS = (query("msg", max_length=40, description="a confirmation code (NOTICES)"),)
# A page's form post (the item editor posts a whole document as fields); uploads declare their own body.
FORM = Body({"type": "object"}, ("application/x-www-form-urlencoded", "multipart/form-data"),
            limits.DOCUMENT_BODY, required=False)


class ConsolePage(BaseHandler):
    """Base of every console page. `roles` limits who may open the handler's pages (empty: any staff role).

    Pages declare their query parameters with `@operation(query(...))` like the API handlers; the edge
    checks them the same way (a bad value is a 400 page). A POST takes a form of at most DOCUMENT_BODY
    unless the method declares another body (imports take the import limit)."""

    roles: tuple[str, ...] = ()
    # Sign-in pages set this False: they are the pages an anonymous visitor may see.
    requires_sign_in = True

    def __init_subclass__(cls, **kwargs) -> None:
        # Admission (CSRF check, sign-in, role) runs once the streamed body is assembled (a form's
        # `_xsrf` is in it), so it wraps the page method inside the base handler's body wrapper.
        for name in METHODS:
            fn = cls.__dict__.get(name)
            if fn is None:
                # A page answers only the methods it defines itself: an action URL (…/submit) built on an
                # item page must not inherit that page's get, which takes other path arguments (a 500).
                setattr(cls, name, getattr(tornado.web.RequestHandler, name))
            elif not getattr(fn, "__with_body__", False):
                setattr(cls, name, _admitted(fn))
        super().__init_subclass__(**kwargs)

    @property
    def operation(self) -> Operation:
        fn = getattr(type(self), self.request.method.lower(), None)
        own = declared(fn) or Operation()
        params = own.params + tuple(p for p in PAGE_PARAMS if own.param(p.name, p.where) is None)
        return Operation(params, own.body or FORM, own.responses)

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.set_header("X-Frame-Options", "DENY")
        self.set_header("Referrer-Policy", "same-origin")
        self.set_header("Content-Security-Policy", CSP)

    # --- cookies and CSRF ----------------------------------------------------------------------------

    @property
    def secure(self) -> bool:
        """True behind https (directly or through a proxy trusted with --xheaders)."""
        return self.request.protocol == "https"

    def set_cookie(self, name, value, domain=None, expires=None, path=PREFIX, expires_days=None, **kwargs):
        """Console cookies live under /console only, SameSite=Strict, Secure over https."""
        kwargs.setdefault("samesite", "Strict")
        if self.secure:
            kwargs.setdefault("secure", True)
        super().set_cookie(name, value, domain=domain, expires=expires, path=path, expires_days=expires_days,
                           **kwargs)

    def check_xsrf_cookie(self) -> None:
        """Tornado calls this before the streamed body has arrived; `admit` checks once it has."""
        return None

    def _assemble_body(self) -> None:
        """The base handler's body, with form fields merged into `request.arguments` as tornado does for
        unstreamed bodies (get_argument and the `_xsrf` check read them there)."""
        BaseHandler._assemble_body(self)
        for name, values in self.request.body_arguments.items():
            self.request.arguments.setdefault(name, []).extend(values)

    def check_form_xsrf(self) -> None:
        """Tornado's double-submit check (masked token in the form's `_xsrf` or the X-XSRFToken header
        against the `_xsrf` cookie); raises HTTPError 403, shown as a Chinese page."""
        tornado.web.RequestHandler.check_xsrf_cookie(self)

    # --- sign-in -------------------------------------------------------------------------------------

    async def admit(self) -> None:
        """Check CSRF on a state change, then the session cookie and the role; may finish the response."""
        if self.request.method not in SAFE_METHODS:
            self.check_form_xsrf()
        if not self.requires_sign_in:
            return
        token = self.get_cookie(SESSION_COOKIE)
        if not token:
            self.redirect_to_sign_in(expired=False)
            return
        try:
            self.actor = await self.run(self.ctx.accounts.authenticate, token)
        except NotSignedIn as exc:
            self.clear_cookie(SESSION_COOKIE, path=PREFIX)
            self.redirect_to_sign_in(expired=True, ended=exc.code == "session_ended")
            return
        if self.actor.role not in (self.roles or STAFF_ROLES):  # a citizen's token opens no console page
            self.render_error(403, labels.error_message("role_required"))

    def redirect_to_sign_in(self, expired: bool, ended: bool = False) -> None:
        """To sign-in, saying why: `expired=1` (token expired or revoked) or `expired=ended` (an admin
        changed or disabled the account, or its password changed: items/accounts.py end_sessions)."""
        query = {"next": self.request.uri} if self.request.method == "GET" else {}
        if expired:
            query["expired"] = "ended" if ended else "1"
        self.redirect(f"{PREFIX}/login" + ("?" + urllib.parse.urlencode(query) if query else ""))

    @property
    def token(self) -> str | None:
        return self.get_cookie(SESSION_COOKIE)

    # --- output --------------------------------------------------------------------------------------

    def get_template_path(self) -> str:
        return str(TEMPLATES)

    def get_template_namespace(self) -> dict:
        namespace = super().get_template_namespace()
        namespace.update(
            actor=self.actor, nav=navigation(self.actor, self.request.path), labels=labels,
            static=static_url, prefix=PREFIX, notice=self.notice(), title="", status_code=self.get_status(), pager=pager,
        )
        return namespace

    def notice(self) -> str:
        """A one-line confirmation carried in `?msg=` after a redirect (a code, never free text)."""
        raw = tornado.web.RequestHandler.get_query_argument(self, "msg", "")
        return NOTICES.get(raw, "") if len(raw) <= 40 else ""

    def body_int(self, name: str) -> int:
        """The whole number a form field `name` holds. Raises Malformed (bad_parameter) otherwise."""
        raw = self.get_body_argument(name, "")
        if not raw.isdigit():
            raise invalid(f"{name} must be a whole number", name, "integer", code="bad_parameter", kind=Malformed)
        return int(raw)

    def page(self, template: str, **values) -> None:
        self.render(template, **values)

    def render_error(self, status: int, message: str, details: list[str] | None = None) -> None:
        if self._finished:
            return
        self.clear()
        self.set_default_headers()
        self.set_status(status)
        self.render("error.html", message=message, details=details or [], title=f"{status} 出错了")

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, DomainError):
            if self._finished:
                return
            if isinstance(e, NotSignedIn):
                self.clear_cookie(SESSION_COOKIE, path=PREFIX)
                self.redirect_to_sign_in(expired=True, ended=e.code == "session_ended")
                return
            from server.errors import STATUS
            errors = (e.details or {}).get("errors") or []
            self.render_error(STATUS.get(e.kind, 400), labels.error_message(e.code, e.message),
                              [f"{labels.path_label(x.get('path', ''))}：{labels.rule_message(x.get('rule', ''), x.get('message', ''))}"
                               for x in errors if isinstance(x, dict)])
            return
        tornado.web.RequestHandler._handle_request_exception(self, e)

    def write_error(self, status_code: int, **kwargs) -> None:
        exc_info = kwargs.get("exc_info")
        exc = exc_info[1] if exc_info else None
        if status_code >= 500 and not isinstance(exc, tornado.web.HTTPError):
            logger.error("console request %s failed:\n%s", self.request_id,
                         "".join(traceback.format_exception(*exc_info)) if exc_info else "")
            message = labels.error_message("internal") + f"（请求编号 {self.request_id}）"
        elif status_code == 403 and isinstance(exc, tornado.web.HTTPError) and "xsrf" in (exc.log_message or "").lower():
            message = labels.error_message("xsrf")
        else:
            message = labels.error_message(CODE_FOR_STATUS.get(status_code, ""), f"请求未能完成（{status_code}）。")
        self.render_error(status_code, message)


def _admitted(method):
    """The page method, run only for an admitted request (ConsolePage.admit)."""
    @functools.wraps(method)
    async def run(self, *args, **kwargs):
        await self.admit()
        if self._finished:
            return None
        result = method(self, *args, **kwargs)
        return (await result) if inspect.isawaitable(result) else result
    return run


CODE_FOR_STATUS = {403: "forbidden", 404: "not_found", 500: "internal"}
# Confirmations shown after a redirect (`?msg=code`); page modules add their own codes here.
NOTICES = {
    "signed_out": "您已退出登录。",
    "saved": "已保存。",
    "submitted": "已提交审核。",
    "restored": "已恢复为新的草稿版本。",
    "rebased": "已同步基本目录，生成新的草稿版本。",
    "recalled": "已撤回审核，可以继续修改。",
}


def pager(page: int, pages: int, **keep) -> str:
    """The 上一页 / 下一页 links of a paged list (nothing when it fits one page), keeping the list's filters
    (`keep`: parameter → value; empty values are left out) in both links."""
    if pages <= 1:
        return ""
    kept = {k: v for k, v in keep.items() if v not in (None, "", False)}

    def link(to: int, text: str) -> str:
        query = urllib.parse.urlencode({**kept, "page": to})
        return f'<a href="?{tornado.escape.xhtml_escape(query)}">{text}</a>'

    parts = [link(page - 1, "上一页")] if page > 1 else []
    parts.append(f"<span>第 {page} / {pages} 页</span>")
    if page < pages:
        parts.append(link(page + 1, "下一页"))
    return '<nav class="pager" aria-label="翻页">\n' + "\n".join(parts) + "\n</nav>"


def static_url(path: str) -> str:
    """The URL of a console static file, with a content hash so browsers may cache it."""
    version = tornado.web.StaticFileHandler.get_version({"static_path": str(STATIC)}, path)
    return f"{PREFIX}/static/{path}?v={version}"


class ConsoleStaticHandler(tornado.web.StaticFileHandler):
    """The console's own and vendored assets; nothing is loaded from another host."""

    def set_extra_headers(self, path: str) -> None:
        self.set_header("X-Content-Type-Options", "nosniff")


class ConsoleNotFoundPage(ConsolePage):
    requires_sign_in = False

    def prepare(self) -> None:
        self.render_error(404, labels.error_message("not_found"))


def actor_home(actor: Actor | None) -> str:
    """Where a role starts: the first navigation entry it may open."""
    entries = navigation(actor, "")
    return entries[0]["url"] if entries else f"{PREFIX}/"
