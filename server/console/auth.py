"""Signing in and out of the console: the API token kept in an HttpOnly, SameSite=Strict cookie."""
from __future__ import annotations

from items.errors import NotSignedIn, RateLimited, Unavailable
from server.console import labels
from server.console.base import PREFIX, SESSION_COOKIE, ConsolePage, actor_home
from server.errors import STATUS
from server.handlers.auth import sign_in
from server.operations import operation, query


def safe_next(target: str | None) -> str | None:
    """Only a path inside the console may be a redirect target (no open redirect to another host)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


class SignInPage(ConsolePage):
    requires_sign_in = False

    @operation(query("expired", enum=("1", "ended")), query("next", max_length=400))
    def get(self) -> None:
        """The sign-in form; `?expired=1` says the session expired, `?expired=ended` that the account changed."""
        expired = self.get_query_argument("expired", "")
        message = {"1": "登录已过期，请重新登录。", "ended": labels.error_message("session_ended")}.get(expired, "")
        self.page("login.html", title="登录", error=message, username="",
                  next=safe_next(self.get_query_argument("next", None)) or "")

    async def post(self) -> None:
        username = self.get_body_argument("username", "").strip()
        password = self.get_body_argument("password", "")
        target = safe_next(self.get_body_argument("next", None))
        if not username or not password:
            self.set_status(422)
            self.page("login.html", title="登录", error="请填写用户名和密码。", username=username, next=target or "")
            return
        try:
            result = await sign_in(self, username, password)
        except (NotSignedIn, RateLimited, Unavailable) as exc:
            self.set_status(STATUS[exc.kind])
            if isinstance(exc, (RateLimited, Unavailable)):
                self.set_header("Retry-After", str(exc.details.get("retry_after_seconds", 1)))
            self.page("login.html", title="登录", error=labels.error_message(exc.code), username=username,
                      next=target or "")
            return
        self.set_cookie(SESSION_COOKIE, result["token"], httponly=True, max_age=int(result["expires_in"]))
        actor = await self.run(self.ctx.accounts.authenticate, result["token"])
        self.redirect(target or actor_home(actor))


class SignOutPage(ConsolePage):
    async def post(self) -> None:
        """Revoke the token (the API's sign-out) and forget the cookie."""
        await self.run(self.ctx.accounts.revoke, self.token)
        self.clear_cookie(SESSION_COOKIE, path=PREFIX)
        self.redirect(f"{PREFIX}/login?msg=signed_out")


class HomePage(ConsolePage):
    def get(self) -> None:
        """The console's front door sends each role to its first page."""
        home = actor_home(self.actor)
        if home == f"{PREFIX}/":
            self.page("error.html", title="工作台", message="您的角色暂无可用的工作台页面。", details=[])
            return
        self.redirect(home)


routes = [
    (PREFIX + r"/?", HomePage),
    (PREFIX + r"/login", SignInPage),
    (PREFIX + r"/logout", SignOutPage),
]
