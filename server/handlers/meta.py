"""Service-level endpoints: health and the OpenAPI description."""
from __future__ import annotations

from server import openapi
from server.base import BaseHandler


class HealthHandler(BaseHandler):
    async def get(self) -> None:
        status = await self.run(self.ctx.health)
        self.send(status, 200 if status["ok"] else 503)


class OpenApiHandler(BaseHandler):
    async def get(self) -> None:
        self.send(openapi.document(self.application))


routes = [
    (r"/api/v1/health", HealthHandler),
    (r"/api/v1/openapi\.json", OpenApiHandler),
]
