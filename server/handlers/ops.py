"""Operations endpoints: liveness, readiness and Prometheus metrics."""
from __future__ import annotations

import hmac
import ipaddress

from items.errors import Forbidden, NotSignedIn
from server import health
from server.base import BaseHandler
from server.operations import operation


class LiveHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """The process is up: `{status: "live", pid}` (touches neither the database nor Redis)."""
        self.send(health.liveness())


class ReadyHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """The process can serve: database and Redis answer and the schema is current; 503 otherwise."""
        found = await self.run(health.readiness, self.ctx.db, self.ctx.kv)
        if found["ready"]:
            self.send(found)
        else:
            self.send_error_body(503, "not_ready", "a dependency is unavailable or the schema is not current",
                                 found)


class MetricsHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """Prometheus text format. With GOVHALL_METRICS_TOKEN set, that bearer token; otherwise loopback only."""
        self._authorise()
        metrics = self.ctx.metrics
        try:
            metrics.outbox_backlog.set(await self.run(health.outbox_backlog))
        except Exception:  # noqa: BLE001 - a scrape still shows the request and error counters
            metrics.database_errors.inc()
        body, content_type = metrics.render()
        self.set_header("Content-Type", content_type)
        self.finish(body)

    def _authorise(self) -> None:
        token = self.ctx.settings.metrics_token
        if token:
            given = self.bearer_token()
            if not given:
                raise NotSignedIn("send Authorization: Bearer <metrics token>", code="not_signed_in")
            if not hmac.compare_digest(given.encode(), token.reveal().encode()):
                raise NotSignedIn("this is not the metrics token", code="bad_metrics_token")
            return
        try:
            loopback = ipaddress.ip_address(self.remote_ip).is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            raise Forbidden("metrics are served to loopback only unless GOVHALL_METRICS_TOKEN is set",
                            code="metrics_loopback_only")


routes = [
    (r"/api/v1/health/live", LiveHandler),
    (r"/api/v1/health/ready", ReadyHandler),
    (r"/metrics", MetricsHandler),
]
