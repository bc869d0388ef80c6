"""Reform offices' pages: headline figures, charts by region, department and item type, drill-down, rankings,
exports of what is on screen and the printable monthly report — over the statistics services the API calls."""
from __future__ import annotations

import calendar
import datetime as dt
import json
from urllib.parse import urlencode

from items import stats_export, stats_summary
from items.errors import NotFound
from items.stats import StatsQuery, parse_date, parse_query, today
from server.console.base import ConsolePage
from server.operations import operation, query

REFORM_ROLES = ("reform_office", "province_admin")
DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# The item figures a chart, drill-down or ranking can show (the summary's figures counted on items).
CHART_METRICS = {f.key: f.label for f in stats_summary.FIGURES if f.source == "items"}
GROUPS = {"region": "按区划", "org": "按部门", "item_type": "按事项类型"}
MAX_BARS = 20          # departments charted: the largest by number of items (all are in the export)
DRILL_PAGE = 50
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
SCOPE = (query("region", max_length=12), query("as_of", max_length=10, pattern=DATE),
         query("metric", enum=tuple(CHART_METRICS)))


def percent(ratio) -> str:
    """A ratio as the cards show it: 12.3%, or — when there is nothing to divide (0/0)."""
    return "—" if ratio is None else f"{ratio * 100:.1f}%"


def number(value) -> str:
    """A count or a sum of working days: whole numbers plain, others with at most two decimals."""
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:.2f}".rstrip("0")


def change_text(change) -> str:
    """A ratio's change in percentage points: +2.5 个百分点, or — when either side is 0/0."""
    return "—" if change is None else f"{change * 100:+.1f} 个百分点"


def drill_url(metric: str, region: str | None, as_of: dt.date | None, **filters) -> str:
    args = {"metric": metric, "region": region or "", "as_of": as_of.isoformat() if as_of else "", **filters}
    return "/console/reform/drilldown?" + urlencode({k: v for k, v in args.items() if v})


def chart(group_by: str, answer: dict, metric: str, region: str | None, as_of: dt.date | None) -> dict:
    """One chart's bars: label, ratio, numerator, denominator and the drill-down link of each group."""
    rows = list(answer["rows"])
    shown = len(rows)
    if group_by == "org":
        rows = sorted(rows, key=lambda r: (-r["items"], r["key"]))[:MAX_BARS]
    numerator = next(f.numerator for f in stats_summary.FIGURES if f.key == metric)
    bars = []
    for row in rows:
        where = {"region": row["key"]} if group_by == "region" else {group_by: row["key"]}
        bars.append({"key": row["key"], "label": row["label"], "ratio": row[metric],
                     "numerator": row["legal_days"] - row["promised_days"] if numerator == "compressed_days"
                     else row[numerator],
                     "denominator": row["legal_days"] if metric == "compression_ratio" else row["items"],
                     "link": drill_url(metric, where.pop("region", region), as_of, **where)})
    bars.sort(key=lambda b: (b["ratio"] is None, -(b["ratio"] or 0), str(b["key"])))
    return {"id": group_by, "title": f"{CHART_METRICS[metric]}{GROUPS[group_by]}", "bars": bars,
            "total_groups": shown, "export": {fmt: export_url(group_by, fmt, region, as_of) for fmt in ("xlsx", "csv")}}


def export_url(table: str, fmt: str, region: str | None, as_of: dt.date | None) -> str:
    args = {"table": table, "format": fmt, "region": region or "", "as_of": as_of.isoformat() if as_of else ""}
    return "/console/reform/export?" + urlencode({k: v for k, v in args.items() if v})


def dashboard(ctx, actor, region: str | None, as_of: dt.date | None, metric: str, before: dt.date | None,
              after: dt.date | None, rank_group: str, min_items: int | None) -> dict:
    """Everything the dashboard shows, from the services the API calls (one thread-pool call per page)."""
    summary = ctx.stats_summary.summary(actor, region, as_of)
    region = summary["region"]
    compare = ctx.stats_summary.compare(actor, region, before, after) if before and after else None
    charts = [chart(g, ctx.stats.items(actor, StatsQuery(group_by=g, region=region, as_of=as_of)), metric,
                    region, as_of) for g in GROUPS]
    ranking = ctx.stats.rankings(actor, StatsQuery(group_by=rank_group, region=region, as_of=as_of), metric, min_items)
    return {"summary": summary, "compare": compare, "charts": charts, "ranking": ranking,
            "regions": visible_regions(ctx, actor)}


def visible_regions(ctx, actor) -> list[dict]:
    """The regions the actor may pick (theirs and below, down to counties), by code."""
    base = ctx.stats.scoped_region(actor, None)
    regions = ctx.directory.list_regions(within=base, size=100_000)["regions"]
    return [{"code": r["code"], "name": r["name"]} for r in regions if len(r["code"]) == 6]


def chart_json(charts: list[dict]) -> str:
    """The charts' data for static/reform.js, safe inside a <script type="application/json"> block."""
    data = [{"id": c["id"], "title": c["title"], "labels": [b["label"] for b in c["bars"]],
             "values": [None if b["ratio"] is None else round(b["ratio"] * 100, 1) for b in c["bars"]],
             "links": [b["link"] for b in c["bars"]]} for c in charts]
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


class ReformPage(ConsolePage):
    roles = REFORM_ROLES

    def date_arg(self, name: str) -> dt.date | None:
        raw = self.get_query_argument(name, "")
        return parse_date(raw, name) if raw else None

    def region_arg(self) -> str | None:
        raw = self.get_query_argument("region", "") or None
        return parse_query({"region": raw}).region   # a bad code is 400 bad_parameter, in Chinese


class DashboardPage(ReformPage):

    @operation(*SCOPE, query("from", max_length=10, pattern=DATE), query("to", max_length=10, pattern=DATE),
               query("rank_by", enum=("org", "region")), query("min_items", "integer", minimum=0, maximum=100_000))
    async def get(self) -> None:
        """Headline cards at a date, their change between two dates, charts, rankings and exports."""
        region, as_of = self.region_arg(), self.date_arg("as_of")
        before, after = self.date_arg("from"), self.date_arg("to")
        metric = self.get_query_argument("metric", "") or "instant_ratio"
        rank_group = self.get_query_argument("rank_by", "") or "org"
        min_items = self.int_arg("min_items", None, minimum=0)
        data = await self.run(dashboard, self.ctx, self.actor, region, as_of, metric, before, after, rank_group,
                              min_items)
        self.page("reform/dashboard.html", title="改革指标", metric=metric, metrics=CHART_METRICS, as_of=as_of,
                  before=before, after=after, rank_group=rank_group, chart_data=chart_json(data["charts"]),
                  percent=percent, number=number, change_text=change_text, groups=GROUPS,
                  summary_export={fmt: export_url("summary", fmt, data["summary"]["region"], as_of)
                                  for fmt in ("xlsx", "csv")}, **data)


class DrilldownPage(ReformPage):

    @operation(*SCOPE, query("org", max_length=18), query("item_type", max_length=2),
               query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        """The items that move one figure of one group most, largest impact first."""
        metric = self.get_query_argument("metric", "") or "instant_ratio"
        q = parse_query({"region": self.get_query_argument("region", "") or None,
                         "org": self.get_query_argument("org", "") or None,
                         "item_type": self.get_query_argument("item_type", "") or None,
                         "as_of": self.get_query_argument("as_of", "") or None})
        page = self.int_arg("page", 1)
        result = await self.run(self.ctx.stats.drilldown, self.actor, q, metric, DRILL_PAGE, (page - 1) * DRILL_PAGE)
        names = await self.run(group_names, self.ctx.directory, q)
        self.page("reform/drilldown.html", title="指标明细", result=result, metric=metric, metrics=CHART_METRICS,
                  query=q, names=names, page_no=page, pages=max(1, -(-result["total"] // DRILL_PAGE)),
                  percent=percent, number=number)


def group_names(directory, q: StatsQuery) -> list[str]:
    """The group in words: region, department and item type names (the directory's, else the codes)."""
    from items.codes import ITEM_TYPES
    out = []
    if q.region:
        out.append(_name(directory.get_region, q.region))
    if q.org:
        out.append(_name(directory.get_department, q.org))
    if q.item_type:
        out.append(ITEM_TYPES.get(q.item_type, q.item_type))
    return out


def _name(lookup, code: str) -> str:
    try:
        return lookup(code)["name"]
    except NotFound:
        return code


class ExportPage(ReformPage):

    @operation(query("table", enum=("summary", *GROUPS), required=True), query("format", enum=("xlsx", "csv"), required=True),
               query("region", max_length=12), query("as_of", max_length=10, pattern=DATE))
    async def get(self) -> None:
        """What the dashboard shows as a file, written by the same functions as the API's exports."""
        table, fmt = self.get_query_argument("table"), self.get_query_argument("format")
        region, as_of = self.region_arg(), self.date_arg("as_of")
        if table == "summary":
            result = await self.run(self.ctx.stats_summary.summary, self.actor, region, as_of)
            name = f"govhall-summary-{result['region'] or 'all'}-{result['as_of']}.{fmt}"
            body = ((await self.compute(stats_summary.to_csv, result)).encode("utf-8-sig") if fmt == "csv"
                    else await self.compute(stats_summary.to_xlsx, result))
        else:
            query = StatsQuery(group_by=table, region=region, as_of=as_of)
            result = await self.run(self.ctx.stats.items, self.actor, query)
            name = f"govhall-stats-{table}-{result['as_of']}.{fmt}"
            body = ((await self.compute(stats_export.to_csv, result)).encode("utf-8") if fmt == "csv"
                    else await self.compute(stats_export.to_xlsx, result))
        self.set_header("Content-Type", CSV_CONTENT_TYPE if fmt == "csv" else stats_export.XLSX_CONTENT_TYPE)
        self.set_header("Content-Disposition", f'attachment; filename="{name}"')
        self.finish(body)


def month_end(month: str) -> tuple[dt.date, dt.date]:
    """The last day of YYYY-MM (today when the month is not over) and of the month before."""
    year, mon = int(month[:4]), int(month[5:7])
    end = min(dt.date(year, mon, calendar.monthrange(year, mon)[1]), today())
    return end, dt.date(year, mon, 1) - dt.timedelta(days=1)


def report(ctx, actor, region: str | None, end: dt.date, before: dt.date) -> dict:
    """The monthly report: the figures at the month's end against the month before, and 即办件占比 by
    region, department and item type as tables with bars."""
    compare = ctx.stats_summary.compare(actor, region, before, end)
    region = compare["region"]
    tables = []
    for group_by in GROUPS:
        answer = ctx.stats.items(actor, StatsQuery(group_by=group_by, region=region, as_of=end))
        tables.append(chart(group_by, answer, "instant_ratio", region, end))
    names = group_names(ctx.directory, StatsQuery(region=region)) if region else ["全省"]
    return {"compare": compare, "tables": tables, "place": names[0]}


class ReportPage(ReformPage):

    @operation(query("region", max_length=12), query("month", max_length=7, pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"))
    async def get(self) -> None:
        """A printable month: figures at its end and their change, tables with bars; no navigation."""
        month = self.get_query_argument("month", "") or today().strftime("%Y-%m")
        end, before = month_end(month)
        if end < before:
            end = before
        data = await self.run(report, self.ctx, self.actor, self.region_arg(), end, before)
        self.page("reform/report.html", title=f"{month} 改革指标月报", month=month, end=end, before=before,
                  percent=percent, number=number, change_text=change_text, **data)


routes = [
    (r"/console/reform", DashboardPage),
    (r"/console/reform/drilldown", DrilldownPage),
    (r"/console/reform/export", ExportPage),
    (r"/console/reform/report", ReportPage),
]
