"""Staff account pages: province admins create, scope, disable and reset accounts; everyone changes their own password."""
from __future__ import annotations

from items.errors import Conflict, Invalid
from items.scope import ROLES
from server.console import labels
from server.console.base import NOTICES, PREFIX, SESSION_COOKIE, ConsolePage
from server.console.directory import DIRECTORY, PAGE_SIZE, field, field_errors, pages_of, query_reader
from server.operations import operation, query

ADMIN_ROLES = ("province_admin",)
ROLE_CHOICES = tuple((r, labels.ROLE_LABELS.get(r, r)) for r in ROLES)
NOTICES.update(user_saved="已保存账号，该账号已登录的会话已结束。", user_disabled="已停用账号，该账号已登录的会话已结束。",
               user_enabled="已启用账号。", password_changed="已修改密码，其他登录会话已结束。")


def _scope_body(get) -> dict:
    """Role and scope from the form: an org for editors and window staff, a region for reviewers and offices."""
    return {"role": get("role", "").strip(), "org": get("org", "").strip() or None,
            "region": get("region", "").strip() or None}


class StaffListPage(ConsolePage):
    """Accounts filtered by role, department, region, disabled and name; create one (the generated
    password is shown on the answer page only)."""
    roles = ADMIN_ROLES

    @operation(query("role", enum=("",) + ROLES), query("org", max_length=18), query("region", max_length=12),
               query("disabled", enum=("", "0", "1")), query("q", max_length=64),
               query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        await self.show()

    async def show(self, error: str = "", errors: dict | None = None, draft: dict | None = None,
                   created: dict | None = None, status: int = 200) -> None:
        arg = query_reader(self)
        filters = {k: arg(k, "").strip() for k in ("role", "org", "region", "disabled", "q")}
        page = self.int_arg("page", 1) if self.request.method == "GET" else 1
        disabled = {"1": True, "0": False}.get(filters["disabled"])
        result = await self.run(self.ctx.staff.list, filters["role"] or None, filters["org"] or None,
                                filters["region"] or None, disabled, filters["q"] or None, page, PAGE_SIZE)
        self.set_status(status)
        self.page("directory/staff.html", title="工作人员账号", result=result, filters=filters,
                  pages=pages_of(result), error=error, errors=errors or {}, draft=draft or {}, created=created,
                  field=field, role_choices=ROLE_CHOICES)

    async def post(self) -> None:
        """Create `{username, role, org?, region?}`; the service generates the password."""
        draft = {"username": self.get_body_argument("username", "").strip(), **_scope_body(self.get_body_argument)}
        body = {k: v for k, v in draft.items() if v is not None}
        try:
            created = await self.run(self.ctx.staff.create, body, self.actor, self.remote_ip)
        except Invalid as exc:
            await self.show(labels.error_message(exc.code), field_errors(exc), draft, status=422)
            return
        except Conflict as exc:
            await self.show(labels.error_message(exc.code, exc.message), {"username": labels.error_message(exc.code)},
                            draft, status=409)
            return
        await self.show(created=created, status=201)


class StaffPage(ConsolePage):
    """One account: change role and scope, disable or enable, reset the password (shown once). Every
    change ends the account's sessions at once (items/staff.py)."""
    roles = ADMIN_ROLES

    async def get(self, username: str) -> None:
        user = await self.run(self.ctx.staff.get, username)
        await self.show(user, user)

    async def show(self, user: dict, draft: dict, error: str = "", errors: dict | None = None,
                   password: str = "", status: int = 200) -> None:
        self.set_status(status)
        self.page("directory/user.html", title=f"账号：{user['username']}", user=user, draft=draft, error=error,
                  errors=errors or {}, password=password, field=field, role_choices=ROLE_CHOICES)

    async def post(self, username: str) -> None:
        """`action` = scope (role, org, region), disable, enable or reset."""
        user = await self.run(self.ctx.staff.get, username)
        action = self.get_body_argument("action", "")
        staff, actor, ip = self.ctx.staff, self.actor, self.remote_ip
        draft = user
        try:
            if action == "reset":
                result = await self.run(staff.reset_password, username, {}, actor, ip)
                await self.show(user, user, password=result["password"])
                return
            if action in ("disable", "enable"):
                await self.run(staff.update, username, {"disabled": action == "disable"}, actor, ip)
                self.redirect(f"{DIRECTORY}/staff/{username}?msg=user_{action}d")
                return
            draft = {**user, **_scope_body(self.get_body_argument)}
            body = {k: draft[k] for k in ("role", "org", "region")}
            await self.run(staff.update, username, body, actor, ip)
        except Invalid as exc:
            await self.show(user, draft, labels.error_message(exc.code), field_errors(exc), status=422)
            return
        except Conflict as exc:
            await self.show(user, draft, labels.error_message(exc.code, exc.message), status=409)
            return
        self.redirect(f"{DIRECTORY}/staff/{username}?msg=user_saved")


class OwnPasswordPage(ConsolePage):
    """Every staff member changes their own password; the other sessions end and this browser keeps a
    fresh one (the cookie takes the new token)."""

    def get(self) -> None:
        self.page("directory/password.html", title="修改密码", errors={}, field=field)

    async def post(self) -> None:
        current = self.get_body_argument("password", "")
        new = self.get_body_argument("new_password", "")
        errors = {name: labels.rule_message("required") for name, value in (("password", current),
                                                                             ("new_password", new)) if not value}
        if not errors and new != self.get_body_argument("new_password_again", ""):
            errors["new_password_again"] = "两次输入的新密码不一致"
        if not errors:
            try:
                fresh = await self.run(self.ctx.staff.change_own_password, self.actor, current, new, self.remote_ip)
            except Invalid as exc:
                errors = field_errors(exc)
            else:
                self.set_cookie(SESSION_COOKIE, fresh["token"], httponly=True, max_age=int(fresh["expires_in"]))
                self.redirect(f"{PREFIX}/password?msg=password_changed")
                return
        self.set_status(422)
        self.page("directory/password.html", title="修改密码", errors=errors, field=field)


routes = [
    (DIRECTORY + r"/staff", StaffListPage),
    (DIRECTORY + r"/staff/([A-Za-z0-9][A-Za-z0-9._@-]{0,63})", StaffPage),
    (PREFIX + r"/password", OwnPasswordPage),
]
