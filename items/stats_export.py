"""A statistics answer as files: its export columns, CSV text and the Excel workbook (header block, Chinese
headers, percent formats, totals row)."""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import ROUND_HALF_UP, Decimal
from typing import Mapping, NamedTuple

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from items.clock import CHINA


class StatColumn(NamedTuple):
    """One export column: the row field, its Chinese header, and whether it prints as a percentage."""

    field: str
    header: str
    percent: bool = False


STAT_COLUMNS: tuple[StatColumn, ...] = (
    StatColumn("key", "代码"), StatColumn("label", "名称"),
    StatColumn("items", "事项数"), StatColumn("instant", "即办件数"), StatColumn("instant_ratio", "即办件占比", True),
    StatColumn("with_limits", "有法定及承诺时限事项数"),
    StatColumn("legal_days", "法定时限(工作日)合计"), StatColumn("promised_days", "承诺时限合计"),
    StatColumn("compression_ratio", "法定时限压缩比", True), StatColumn("compression_mean", "压缩比(逐项平均)", True),
    StatColumn("excluded_no_legal_limit", "无法定时限未计入"), StatColumn("excluded_no_promised_limit", "无承诺时限未计入"),
    StatColumn("visits_at_most_one", "最多跑一次"), StatColumn("visits_at_most_one_ratio", "最多跑一次占比", True),
    StatColumn("zero_visit", "零跑动"), StatColumn("zero_visit_ratio", "零跑动占比", True),
    StatColumn("full_online", "全程网办"), StatColumn("full_online_ratio", "全程网办占比", True),
    StatColumn("online_capable", "可网办"), StatColumn("online_capable_ratio", "可网办率", True),
    StatColumn("commitment", "告知承诺"), StatColumn("commitment_ratio", "告知承诺占比", True),
    StatColumn("certificate_free", "免证办"), StatColumn("certificate_free_ratio", "免证办占比", True),
    StatColumn("nationwide", "全国通办"), StatColumn("cross_province", "跨省通办"),
    StatColumn("cross_city", "跨市通办"), StatColumn("cross_county", "跨县通办"),
)
SCOPE_NOTE = "已发布、在用的实施清单事项；时限折算为工作日（自然日×5/7）；比例为分子合计÷分母合计"
GROUP_BY_LABELS = {"region": "区划", "org": "实施主体", "item_type": "事项类型", "level": "行使层级"}
_HUNDREDTH = Decimal("0.01")


def _text_cell(value) -> str:
    text = "" if value is None else str(value)
    # A leading = + - @ would run as a formula when Excel opens the file (CSV injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _number_cell(value, percent: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, int) and not percent:
        return str(value)
    # Half up on the printed decimal, as reports write 87.85%; the JSON keeps the full float.
    exact = Decimal(repr(value)) * (100 if percent else 1)
    text = str(exact.quantize(_HUNDREDTH, rounding=ROUND_HALF_UP))
    if not percent:
        text = text.rstrip("0").rstrip(".")
    return text + "%" if percent else text


def to_csv(result: Mapping, *, title: str = "政务服务事项统计") -> str:
    """Return the statistics answer {as_of, group_by, filters?, rows, total} as CSV text for Excel.

    The text starts with a BOM (Excel then reads UTF-8 Chinese correctly), then a header block
    (title, date, grouping, filters, scope), a blank line, the table and a 合计 row.
    """
    filters = result.get("filters") or {}
    filter_text = "；".join(f"{GROUP_BY_LABELS.get(k, k)}={v}" for k, v in filters.items() if v not in (None, ""))
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([_text_cell(title)])
    writer.writerow(["统计日期", _text_cell(result.get("as_of"))])
    writer.writerow(["分组方式", _text_cell(GROUP_BY_LABELS.get(result.get("group_by"), result.get("group_by")))])
    writer.writerow(["筛选条件", _text_cell(filter_text or "无")])
    writer.writerow(["统计口径", SCOPE_NOTE])
    writer.writerow([])
    writer.writerow([c.header for c in STAT_COLUMNS])

    def cells(one: Mapping) -> list[str]:
        return [_text_cell(one.get(c.field)) if c.field in ("key", "label")
                else _number_cell(one.get(c.field), c.percent) for c in STAT_COLUMNS]

    for one in result.get("rows") or ():
        writer.writerow(cells(one))
    if result.get("total") is not None:
        total_cells = cells(result["total"])
        total_cells[0], total_cells[1] = "合计", ""
        writer.writerow(total_cells)
    return "\ufeff" + buffer.getvalue()


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT_FORMAT = "0.00%"
DAYS_FORMAT = "0.00"
COUNT_FORMAT = "0"
FILTER_LABELS = {**GROUP_BY_LABELS, "service_object": "服务对象"}
_DAY_FIELDS = ("legal_days", "promised_days")
_BOLD = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")


def _text(cell, value) -> None:
    # Stored as a string even when it starts with "=": openpyxl would otherwise write a formula.
    cell.value = "" if value is None else str(value)
    cell.data_type = "s"


def header_block(result: Mapping, title: str) -> list[tuple[str, str]]:
    """Return the (label, value) lines above the table: title, date, grouping, filters, scope, export time."""
    filters = result.get("filters") or {}
    filter_text = "；".join(f"{FILTER_LABELS.get(k, k)}={v}" for k, v in filters.items() if v not in (None, ""))
    group_by = result.get("group_by")
    return [(title, ""), ("统计日期", str(result.get("as_of") or "")),
            ("分组方式", GROUP_BY_LABELS.get(group_by, group_by or "")),
            ("筛选条件", filter_text or "无"), ("统计口径", SCOPE_NOTE),
            ("导出时间", dt.datetime.now(CHINA).strftime("%Y-%m-%d %H:%M"))]


def to_xlsx(result: Mapping, *, title: str = "政务服务事项统计") -> bytes:
    """Return the statistics answer {as_of, group_by, filters, rows, total} as an .xlsx workbook.

    Ratios are stored as fractions with the 0.00% format (Excel shows 87.85%, keeps the full value);
    empty cells mean 0/0. The 合计 row comes from the answer's total (sums of all items).
    """
    book = Workbook()
    sheet = book.active
    sheet.title = "统计"
    line = 1
    for label, value in header_block(result, title):
        _text(sheet.cell(line, 1), label)
        if value:
            _text(sheet.cell(line, 2), value)
        line += 1
    sheet.cell(1, 1).font = Font(bold=True, size=14)
    line += 1   # one empty line between the block and the table
    header_line = line
    for index, column in enumerate(STAT_COLUMNS, start=1):
        cell = sheet.cell(header_line, index)
        _text(cell, column.header)
        cell.font, cell.fill = _BOLD, _HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")

    def write(line_no: int, one: Mapping, total: bool = False) -> None:
        for index, column in enumerate(STAT_COLUMNS, start=1):
            cell = sheet.cell(line_no, index)
            value = one.get(column.field)
            if column.field in ("key", "label"):
                _text(cell, ("合计" if column.field == "key" else "") if total else value)
            elif value is not None:
                cell.value = value
                cell.number_format = (PERCENT_FORMAT if column.percent
                                      else DAYS_FORMAT if column.field in _DAY_FIELDS else COUNT_FORMAT)
            if total:
                cell.font = _BOLD

    for one in result.get("rows") or ():
        line += 1
        write(line, one)
    if result.get("total") is not None:
        line += 1
        write(line, result["total"], total=True)
    sheet.freeze_panes = sheet.cell(header_line + 1, 3)
    sheet.column_dimensions["A"].width = 20
    sheet.column_dimensions["B"].width = 28
    for index in range(3, len(STAT_COLUMNS) + 1):
        sheet.column_dimensions[get_column_letter(index)].width = 12
    sheet.row_dimensions[header_line].height = 45
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
