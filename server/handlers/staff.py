"""Staff accounts over HTTP: province admins manage accounts; every staff member changes their own password."""
from __future__ import annotations

from items import scope
from items.errors import Forbidden, not_an_object
from server.base import BaseHandler
from server.operations import Body, obj, operation, page_params, query, text

ADMIN = "province_admin"
# Edge maxima are generous: items/staff.py names the field and rule of a bad value.
SCOPE = {"role": text(64), "org": text(64), "region": text(64)}
NEW_USER = obj({"username": text(200), "password": text(256), **SCOPE}, maxProperties=20)
CHANGE = obj({**SCOPE, "disabled": {"type": "boolean"}}, maxProperties=20)
PASSWORD = obj({"password": text(256)}, maxProperties=5)
OWN_PASSWORD = obj({"password": text(256), "new_password": text(256)}, ("password", "new_password"))


class UserListHandler(BaseHandler):
    @operation(query("role", enum=scope.ROLES), query("org", max_length=18), query("region", max_length=12),
               query("disabled", "boolean"), query("q", max_length=64), *page_params(max_size=500))
    async def get(self) -> None:
        """Accounts `?role=&org=&region=&disabled=0|1&q=&page=&size=` (province_admin) → {users, total, page, size}."""
        await self.authenticate(ADMIN)
        page, size = self.page_args(max_size=500)
        arg = self.get_query_argument
        disabled = self.arg("disabled")
        self.send(await self.run(self.ctx.staff.list, arg("role", None), arg("org", None), arg("region", None),
                                 disabled, arg("q", None), page, size))

    @operation(body=Body(NEW_USER))
    async def post(self) -> None:
        """Create an account `{username, role, org?, region?, password?}` (province_admin) → 201; without
        `password` one is generated and returned in this answer only."""
        actor = await self.authenticate(ADMIN)
        body = self.json_object()
        self.send(await self.run(self.ctx.staff.create, body, actor, self.remote_ip), 201)


class UserHandler(BaseHandler):
    @operation()
    async def get(self, username: str) -> None:
        """One account: {username, role, org, region, disabled, created_at} (province_admin)."""
        await self.authenticate(ADMIN)
        self.send(await self.run(self.ctx.staff.get, username))

    @operation(body=Body(CHANGE, ("application/json", "application/merge-patch+json")))
    async def patch(self, username: str) -> None:
        """Change `role`, `org`, `region` or `disabled` (province_admin); the account's sessions end at once."""
        actor = await self.authenticate(ADMIN)
        body = self.json_body()
        if not isinstance(body, dict):
            raise not_an_object()
        self.send(await self.run(self.ctx.staff.update, username, body, actor, self.remote_ip))


class UserPasswordHandler(BaseHandler):
    @operation(body=Body(PASSWORD, required=False))
    async def post(self, username: str) -> None:
        """Reset a password (province_admin) `{password?}`; without one a generated password is returned once.
        The account's sessions end at once."""
        actor = await self.authenticate(ADMIN)
        body = self.json_object() if self.request.body else {}
        self.send(await self.run(self.ctx.staff.reset_password, username, body, actor, self.remote_ip))


class OwnPasswordHandler(BaseHandler):
    @operation(body=Body(OWN_PASSWORD))
    async def post(self) -> None:
        """Change your own password `{password, new_password}`: every session of the account ends, this one
        included → {token, expires_in} of a fresh session."""
        actor = await self.authenticate()
        if actor.role == "citizen":
            raise Forbidden("citizens sign in through WeChat", code="role_required")
        body = self.json_object(required=("password", "new_password"))
        self.send(await self.run(self.ctx.staff.change_own_password, actor, body["password"], body["new_password"],
                                 self.remote_ip))


routes = [
    (r"/api/v1/users", UserListHandler),
    (r"/api/v1/users/([^/]+)", UserHandler),
    (r"/api/v1/users/([^/]+)/password", UserPasswordHandler),
    (r"/api/v1/auth/password", OwnPasswordHandler),
]
