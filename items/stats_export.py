"""The Excel workbook of a statistics answer: header block, Chinese headers, percent formats, totals row."""
from __future__ import annotations

import datetime as dt
import io
from typing import Mapping

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from items.clock import CHINA
from items.metrics import STAT_COLUMNS, GROUP_BY_LABELS

XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT_FORMAT = "0.00%"
DAYS_FORMAT = "0.00"
COUNT_FORMAT = "0"
SCOPE_NOTE = "已发布、在用的实施清单事项；时限折算为工作日（自然日×5/7）；比例为分子合计÷分母合计"
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
