"""Province administration over HTTP: the append-only audit log."""
from __future__ import annotations

from server.base import BaseHandler
from server.operations import operation, page_params, query


class AuditHandler(BaseHandler):
    """GET /audit?target=&actor=&action=&page=&size= (province_admin), newest first."""

    @operation(query("target", max_length=100), query("actor", max_length=64), query("action", max_length=64),
               *page_params(max_size=500))
    async def get(self) -> None:
        actor = await self.authenticate("province_admin")
        page, size = self.page_args(max_size=500)
        self.send(await self.run(self.ctx.workflow.audit_log, actor, self.get_query_argument("target", None),
                                 self.get_query_argument("actor", None), self.get_query_argument("action", None),
                                 page, size))


routes = [
    (r"/api/v1/audit", AuditHandler),
]
