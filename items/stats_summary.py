"""The reform dashboard's headline figures (DOMAIN.md §4), each defined once with its numerator and denominator,
taken from the same StatsService answers the grouped endpoints give; one date or two, and their export."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from typing import Mapping

from openpyxl import Workbook
from openpyxl.styles import Font

from items import stats as stats_module
from items.errors import invalid
from items.scope import Actor


@dataclasses.dataclass(frozen=True)
class Figure:
    """One headline figure: where it comes from and which counts of that answer divide."""
    key: str
    label: str
    source: str        # items (/stats/items total), claims (/stats/claims total), cases (/stats/cases figures)
    numerator: str
    denominator: str
    ratio: str         # the ratio field of the source answer
    dated: bool = True  # False: the source has no as-of date and always answers today's figure


FIGURES: tuple[Figure, ...] = (
    Figure("instant_ratio", "即办件占比", "items", "instant", "items", "instant_ratio"),
    # in working days: Σ legal − Σ promised over Σ legal, items with both limits (ratio of sums)
    Figure("compression_ratio", "法定时限压缩比", "items", "compressed_days", "legal_days", "compression_ratio"),
    Figure("visits_at_most_one_ratio", "最多跑一次占比", "items", "visits_at_most_one", "items",
           "visits_at_most_one_ratio"),
    Figure("zero_visit_ratio", "零跑动占比", "items", "zero_visit", "items", "zero_visit_ratio"),
    Figure("full_online_ratio", "全程网办占比", "items", "full_online", "items", "full_online_ratio"),
    Figure("commitment_ratio", "告知承诺占比", "items", "commitment", "items", "commitment_ratio"),
    Figure("certificate_free_ratio", "免证办占比", "items", "certificate_free", "items", "certificate_free_ratio"),
    # claiming is counted as it stands today: local items keep no dated claim history
    Figure("claim_rate", "认领率", "claims", "claimed", "applicable", "claim_rate", dated=False),
    Figure("on_time_ratio", "按期办结率", "cases", "finished_on_time", "finished", "on_time_ratio"),
    Figure("satisfied_ratio", "满意率", "cases", "satisfied", "ratings", "satisfied_ratio"),
)
FIGURE_KEYS = tuple(f.key for f in FIGURES)


class SummaryService:
    """The ten figures in one answer, scoped like every statistic (a county office never sees its city)."""

    def __init__(self, stats: stats_module.StatsService):
        self.stats = stats

    def summary(self, actor: Actor, region: str | None = None, as_of: dt.date | None = None) -> dict:
        """{region, as_of, current, figures: [{key, label, source, numerator, denominator, ratio, dated}]}.

        Item figures are the /stats/items total as of the end of `as_of`; case figures count cases finished
        and ratings given up to then; the claim rate is today's. Raises Forbidden (role_required,
        out_of_scope), Malformed (bad_parameter for a region that is not a GB/T 2260 code).
        """
        query = stats_module.parse_query({"region": region})
        region = self.stats.scoped_region(actor, query.region)
        items = self.stats.items(actor, dataclasses.replace(query, region=region, as_of=as_of))["total"]
        items = dict(items, compressed_days=items["legal_days"] - items["promised_days"])
        claims = self.stats.claims(actor, region)["total"]
        cases = self.stats.cases(actor, region, None, as_of)["figures"]
        sources = {"items": items, "claims": claims, "cases": cases}
        figures = []
        for figure in FIGURES:
            answer = sources[figure.source]
            figures.append({"key": figure.key, "label": figure.label, "source": figure.source,
                            "numerator": answer[figure.numerator], "denominator": answer[figure.denominator],
                            "ratio": answer[figure.ratio], "dated": figure.dated})
        return {"region": region, "as_of": (as_of or stats_module.today()).isoformat(), "current": as_of is None,
                "figures": figures}

    def compare(self, actor: Actor, region: str | None, before: dt.date, after: dt.date) -> dict:
        """The figures at the end of two days and each one's change → {region, from, to, figures:
        [{key, label, before: {numerator, denominator, ratio}, after: {…}, change}]}; change is the
        ratio's difference (None when either side is 0/0). Raises what `summary` raises and Invalid
        (dates_out_of_order)."""
        if after < before:
            raise invalid("to must not be before from", "to", "to_not_before_from",
                          code="dates_out_of_order", error_message="to is on or after from")
        a, b = self.summary(actor, region, before), self.summary(actor, region, after)
        figures = []
        for x, y in zip(a["figures"], b["figures"]):
            change = y["ratio"] - x["ratio"] if x["ratio"] is not None and y["ratio"] is not None else None
            figures.append({"key": x["key"], "label": x["label"], "source": x["source"], "dated": x["dated"],
                            "before": {k: x[k] for k in ("numerator", "denominator", "ratio")},
                            "after": {k: y[k] for k in ("numerator", "denominator", "ratio")},
                            "change": change})
        return {"region": a["region"], "from": before.isoformat(), "to": after.isoformat(), "figures": figures}


# --- export: what the dashboard shows, as a table ---------------------------------------------------------

HEADERS = ("指标", "代码", "分子", "分母", "比率", "口径")
_SOURCE_NOTES = {"items": "在用已发布事项", "claims": "基本目录在用事项（当前）", "cases": "截至统计日办结件及评价"}


def _lines(summary: Mapping) -> list[list]:
    return [[f["label"], f["key"], f["numerator"], f["denominator"], f["ratio"], _SOURCE_NOTES[f["source"]]]
            for f in summary["figures"]]


def to_csv(summary: Mapping) -> str:
    """The summary as CSV: a line naming region and date, then one row per figure (ratio as a fraction)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["区划", summary["region"] or "全省", "统计日期", summary["as_of"]])
    writer.writerow(HEADERS)
    for line in _lines(summary):
        writer.writerow(["" if v is None else _safe(v) for v in line])
    return out.getvalue()


def to_xlsx(summary: Mapping) -> bytes:
    """The summary as an .xlsx workbook: the same rows as to_csv, ratios in the 0.00% format."""
    book = Workbook()
    sheet = book.active
    sheet.title = "核心指标"
    sheet.append(["区划", summary["region"] or "全省", "统计日期", summary["as_of"]])
    sheet.append(list(HEADERS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for line in _lines(summary):
        sheet.append(line)
        sheet.cell(sheet.max_row, 5).number_format = "0.00%"
    for column, width in zip("ABCDEF", (16, 26, 10, 10, 10, 26)):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _safe(value):
    # a spreadsheet would run a cell that starts with = + - @ as a formula (CSV injection)
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") else value
