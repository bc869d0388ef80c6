"""Staff sign-in and sign-out."""
from __future__ import annotations

import asyncio

from items.scope import CITIZEN, ROLES
from server import schemas
from server.base import BaseHandler
from server.operations import Body, obj, operation, text


async def sign_in(handler: BaseHandler, username: str, password: str) -> dict:
    """Sign a staff member in for `handler`'s client → {token, expires_in, user} (the API and the console).

    Throttling and the account are checked on the use-case pool; argon2 runs on the hashing pool, so a
    burst of failed sign-ins cannot fill the threads every other request needs. Raises RateLimited
    (too_many_attempts), Unavailable (sign_in_busy), NotSignedIn (bad_credentials).
    """
    accounts = handler.ctx.accounts
    attempt = await handler.run(accounts.begin_login, username, handler.remote_ip)
    ok, new_hash = await asyncio.wrap_future(
        accounts.passwords.submit(accounts.passwords.verify, attempt.password_hash, password))
    return await handler.run(accounts.finish_login, attempt, ok, new_hash)


class LoginHandler(BaseHandler):
    @operation(body=Body(obj({"username": text(64), "password": text(256)}, ("username", "password"))),
               responses={"200": schemas.STAFF_TOKEN})
    async def post(self) -> None:
        """Sign in `{username, password}` → {token, expires_in, user}; 401 bad_credentials, 429
        too_many_attempts with Retry-After while this client must wait, 503 sign_in_busy when the
        hashing pool is full."""
        body = self.json_object(required=("username", "password"))
        self.send(await sign_in(self, str(body["username"]), str(body["password"])))


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
