"""Staff sign-in and sign-out."""
from __future__ import annotations

import asyncio

from items.scope import CITIZEN, ROLES
from server.base import BaseHandler
from server.operations import Body, obj, operation, text


class LoginHandler(BaseHandler):
    @operation(body=Body(obj({"username": text(64), "password": text(256)}, ("username", "password"))))
    async def post(self) -> None:
        """Sign in `{username, password}` → {token, expires_in, user}; 401 bad_credentials, 429
        too_many_attempts with Retry-After while this client must wait, 503 sign_in_busy when the
        hashing pool is full."""
        body = self.json_object(required=("username", "password"))
        accounts = self.ctx.accounts
        attempt = await self.run(accounts.begin_login, str(body["username"]), self.remote_ip)
        # argon2 runs on the hashing pool, not the use-case pool: failed sign-ins cannot starve others
        ok, new_hash = await asyncio.wrap_future(
            accounts.passwords.submit(accounts.passwords.verify, attempt.password_hash, str(body["password"])))
        self.send(await self.run(accounts.finish_login, attempt, ok, new_hash))


class LogoutHandler(BaseHandler):
    @operation()
    async def post(self) -> None:
        """Revoke the token sent with this request (a citizen's too)."""
        await self.authenticate(*ROLES, CITIZEN)
        await self.run(self.ctx.accounts.revoke, self.bearer_token())
        self.send({"revoked": True})


class MeHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """The signed-in staff member: username, role, org, region."""
        actor = await self.authenticate()
        self.send({"user": actor.as_dict()})


routes = [
    (r"/api/v1/auth/login", LoginHandler),
    (r"/api/v1/auth/logout", LogoutHandler),
    (r"/api/v1/auth/me", MeHandler),
]
