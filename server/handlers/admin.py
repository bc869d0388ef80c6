"""Province administration over HTTP: the append-only audit log and the official holiday calendar."""
from __future__ import annotations

from server import limits
from server.base import BaseHandler
from server.operations import Body, obj, operation, page_params, query, text


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


DATES = {"type": "array", "maxItems": 366, "items": text(10, format="date")}
HOLIDAY_YEAR = obj({"year": {"type": "integer"}, "holidays": DATES, "workdays": DATES, "source": text(200)},
                   ("holidays",))


class HolidayListHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """Every year the working-day calendar knows → {years: [{year, origin, source, loaded_at}], today, warnings}."""
        actor = await self.authenticate()
        self.send(await self.run(self.ctx.hall.holidays.list_years, actor))


class HolidayYearHandler(BaseHandler):
    @operation()
    async def get(self, year: str) -> None:
        """The year's calendar in use → {year, origin: stored|file|package, holidays, workdays}; 404 when unknown."""
        actor = await self.authenticate()
        self.send(await self.run(self.ctx.hall.holidays.get_year, actor, year))

    @operation(body=Body(HOLIDAY_YEAR, max_bytes=limits.FORM_BODY))
    async def put(self, year: str) -> None:
        """Load the year's official calendar `{holidays, workdays, source}` (province_admin) → 201 new, 200
        replaced; 422 calendar_year_invalid listing each broken rule. Due dates count with it at once."""
        actor = await self.authenticate("province_admin")
        body = self.json_body()
        result, created = await self.run(self.ctx.hall.holidays.put_year, actor, year, body, self.remote_ip)
        self.send(result, 201 if created else 200)


routes = [
    (r"/api/v1/audit", AuditHandler),
    (r"/api/v1/admin/holidays", HolidayListHandler),
    (r"/api/v1/admin/holidays/([^/]+)", HolidayYearHandler),
]
