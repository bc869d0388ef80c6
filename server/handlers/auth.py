"""Staff sign-in and sign-out."""
from __future__ import annotations

from server.base import BaseHandler


class LoginHandler(BaseHandler):
    async def post(self) -> None:
        body = self.json_object(required=("username", "password"))
        result = await self.run(self.ctx.accounts.login, str(body["username"]), str(body["password"]))
        self.send(result)


class LogoutHandler(BaseHandler):
    async def post(self) -> None:
        await self.authenticate()
        await self.run(self.ctx.accounts.revoke, self.bearer_token())
        self.send({"revoked": True})


class MeHandler(BaseHandler):
    async def get(self) -> None:
        actor = await self.authenticate()
        self.send({"user": actor.as_dict()})


routes = [
    (r"/api/v1/auth/login", LoginHandler),
    (r"/api/v1/auth/logout", LogoutHandler),
    (r"/api/v1/auth/me", MeHandler),
]
