"""Service-level endpoints: the API index, health and the OpenAPI description."""
from __future__ import annotations

from server import openapi
from server.base import BaseHandler
from server.operations import operation

API_PREFIX = "/api/v1"
# The areas of the API a client starts from (README "The API"); each link answers GET or documents its area.
AREAS = {
    "accounts": "/api/v1/auth/me",
    "catalogue": "/api/v1/catalogue/items",
    "items": "/api/v1/items",
    "cases": "/api/v1/cases",
    "stats": "/api/v1/stats/items",
    "hall": "/api/v1/hall/search",
    "admin": "/api/v1/audit",
    "wechat_callback": "/wechat/callback",
}


class ApiIndexHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """The API's front page: name, version and links to its description, health and each area."""
        self.send({"name": "govhall", "version": openapi.API_VERSION,
                   "links": {"openapi": f"{API_PREFIX}/openapi.json", "health": f"{API_PREFIX}/health",
                             **AREAS}})


class HealthHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """Whether the database and Redis answer (503 when one does not), with `warnings` needing an operator."""
        status = await self.run(self.ctx.health)
        self.send(status, 200 if status["ok"] else 503)


class OpenApiHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """This OpenAPI 3 description, built from the routes."""
        self.send(openapi.document(self.application))


routes = [
    (r"/api/v1/", ApiIndexHandler),
    (r"/api/v1/health", HealthHandler),
    (r"/api/v1/openapi\.json", OpenApiHandler),
]
