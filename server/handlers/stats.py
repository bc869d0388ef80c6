"""Statistics for reform offices: item figures, drill-down, comparisons, claim rate, cases, rankings, headline summary."""
from __future__ import annotations

from items import stats_export, stats_summary
from items.errors import Malformed, error_details, invalid, rule_error
from items.stats import parse_date, parse_query
from server.base import BaseHandler
from server.operations import operation, query

DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # documented; the statistics module parses and names a bad date
STATS_QUERY = (query("group_by", max_length=20), query("region", max_length=12), query("org", max_length=18),
               query("item_type", max_length=2), query("level", max_length=1), query("service_object", max_length=20),
               query("as_of", max_length=10, pattern=DATE))

STATS_ROLES = ("province_admin", "reform_office", "reviewer")
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"


class StatsHandler(BaseHandler):
    """Shared parsing of the statistics query parameters."""

    def query(self):
        names = ("group_by", "region", "org", "item_type", "level", "service_object", "as_of")
        return parse_query({name: self.get_query_argument(name, None) for name in names})

    def date_arg(self, name: str):
        raw = self.get_query_argument(name, None)
        return parse_date(raw, name) if raw else None

    def flag(self, name: str, default: bool) -> bool:
        raw = self.get_query_argument(name, None)
        return default if raw is None else raw


class ItemStatsHandler(StatsHandler):
    """Item figures grouped by region, org, item_type or level (CONTRACT.md §4); format=json|csv|xlsx."""

    @operation(*STATS_QUERY, query("format", max_length=10, description="json (default), csv or xlsx"))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        fmt = self.arg("format") or "json"
        if fmt not in ("json", "csv", "xlsx"):
            raise invalid("format must be json, csv or xlsx", "format", "one_of", code="bad_parameter",
                          kind=Malformed, allowed=["json", "csv", "xlsx"])
        result = await self.run(self.ctx.stats.items, actor, self.query())
        if fmt == "json":
            self.send(result)
            return
        name = f"govhall-stats-{result['group_by']}-{result['as_of']}.{fmt}"
        if fmt == "csv":
            self.send_file((await self.compute(stats_export.to_csv, result)).encode("utf-8"), CSV_CONTENT_TYPE, name)
        else:
            body = await self.compute(stats_export.to_xlsx, result)
            self.send_file(body, stats_export.XLSX_CONTENT_TYPE, name)


class DrilldownHandler(StatsHandler):
    """The items behind one figure: ?metric=instant_ratio&region=&org=…, largest impact first."""

    @operation(*STATS_QUERY, query("metric", max_length=40), query("limit", "integer", minimum=1, maximum=1000),
               query("offset", "integer", minimum=0, maximum=1_000_000))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        metric = self.get_query_argument("metric", "instant_ratio")
        limit = self.int_arg("limit", 100, maximum=1000)
        offset = self.int_arg("offset", 0, minimum=0)
        self.send(await self.run(self.ctx.stats.drilldown, actor, self.query(), metric, limit, offset))


class CompareHandler(StatsHandler):
    """Figures at two dates (?from=&to=) side by side and the items that changed them."""

    @operation(*STATS_QUERY, query("from", max_length=10, pattern=DATE), query("to", max_length=10, pattern=DATE), query("limit", "integer", minimum=1, maximum=5000))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        before, after = self.date_arg("from"), self.date_arg("to")
        missing = [n for n, v in (("from", before), ("to", after)) if v is None]
        if missing:
            raise Malformed(f"missing {', '.join(missing)}", code="missing_fields", details=error_details(
                *(rule_error(n, "required", f"{n} is required") for n in missing)))
        limit = self.int_arg("limit", 200, maximum=5000)
        self.send(await self.run(self.ctx.stats.compare, actor, self.query(), before, after, limit))


class ClaimStatsHandler(StatsHandler):
    """认领率 per region at its level: ?region=&level=."""

    @operation(query("region", max_length=12), query("level", max_length=1))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        self.send(await self.run(self.ctx.stats.claims, actor, self.get_query_argument("region", None) or None,
                                 self.get_query_argument("level", None) or None))


class CaseStatsHandler(StatsHandler):
    """Case-level figures (按期办结率, 满意率, 差评整改): ?region=&from=&to=."""

    @operation(query("region", max_length=12), query("from", max_length=10, pattern=DATE), query("to", max_length=10, pattern=DATE))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        self.send(await self.run(self.ctx.stats.cases, actor, self.get_query_argument("region", None) or None,
                                 self.date_arg("from"), self.date_arg("to")))


class RankingHandler(StatsHandler):
    """Groups ranked by one figure (?by=&min_items=&descending=), small groups listed apart."""

    @operation(*STATS_QUERY, query("by", max_length=40), query("min_items", "integer", minimum=0, maximum=1_000_000),
               query("descending", "boolean"))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        by = self.get_query_argument("by", "instant_ratio")
        min_items = self.int_arg("min_items", None, minimum=0)
        self.send(await self.run(self.ctx.stats.rankings, actor, self.query(), by, min_items,
                                 self.flag("descending", True)))


class SummaryHandler(StatsHandler):
    """The dashboard's ten headline figures with numerators and denominators: ?region=&as_of=&format=."""

    @operation(query("region", max_length=12), query("as_of", max_length=10, pattern=DATE),
               query("format", enum=("json", "csv", "xlsx"), description="json (default), csv or xlsx"))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        fmt = self.arg("format") or "json"
        result = await self.run(self.ctx.stats_summary.summary, actor, self.arg("region") or None,
                                self.date_arg("as_of"))
        if fmt == "json":
            self.send(result)
            return
        name = f"govhall-summary-{result['region'] or 'all'}-{result['as_of']}.{fmt}"
        if fmt == "csv":
            body = (await self.compute(stats_summary.to_csv, result)).encode("utf-8-sig")
            self.send_file(body, CSV_CONTENT_TYPE, name)
        else:
            self.send_file(await self.compute(stats_summary.to_xlsx, result), stats_export.XLSX_CONTENT_TYPE, name)


class SummaryCompareHandler(StatsHandler):
    """The headline figures at two dates (?from=&to=&region=) and each one's change."""

    @operation(query("region", max_length=12), query("from", max_length=10, pattern=DATE, required=True),
               query("to", max_length=10, pattern=DATE, required=True))
    async def get(self) -> None:
        actor = await self.authenticate(*STATS_ROLES)
        self.send(await self.run(self.ctx.stats_summary.compare, actor, self.arg("region") or None,
                                 self.date_arg("from"), self.date_arg("to")))


routes = [
    (r"/api/v1/stats/items", ItemStatsHandler),
    (r"/api/v1/stats/items/drilldown", DrilldownHandler),
    (r"/api/v1/stats/compare", CompareHandler),
    (r"/api/v1/stats/claims", ClaimStatsHandler),
    (r"/api/v1/stats/cases", CaseStatsHandler),
    (r"/api/v1/stats/rankings", RankingHandler),
    (r"/api/v1/stats/summary", SummaryHandler),
    (r"/api/v1/stats/summary/compare", SummaryCompareHandler),
]
