"""Service-level endpoints: health and the OpenAPI description."""
from __future__ import annotations

from server import openapi
from server.base import BaseHandler
from server.operations import operation


class HealthHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """Whether the database and Redis answer (503 when one does not)."""
        status = await self.run(self.ctx.health)
        self.send(status, 200 if status["ok"] else 503)


class OpenApiHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """This OpenAPI 3 description, built from the routes."""
        self.send(openapi.document(self.application))


routes = [
    (r"/api/v1/health", HealthHandler),
    (r"/api/v1/openapi\.json", OpenApiHandler),
]
