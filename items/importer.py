"""Reading catalogue files (govhall JSON, the Liaoning export, CSV, XLSX) into documents row by row."""
from __future__ import annotations

import csv
import functools
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field

import openpyxl
from openpyxl.styles import Alignment, Font

from items import tables
from items.columns import IMPORT_COLUMNS, RowCells, cell_text, document_from_cells, parse_levels, split_basis
from items.errors import UnsupportedType

FORMATS = ("json", "csv", "xlsx")
_MEDIA_TYPES = {"application/json": "json", "text/csv": "csv",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}
# The Liaoning catalogue API's record keys (lnzwfw-catalog-sample/SOURCE.md).
_LIAONING_KEYS = {"职权编码", "事项名称", "事项类型", "依据", "实施层级"}
_HEADERS = {**{c.key.lower(): c.key for c in IMPORT_COLUMNS}, **{c.header: c.key for c in IMPORT_COLUMNS}}


@dataclass
class ParsedRow:
    """One item read from a file. `row` is how a user finds it: the 1-based array index in JSON, the
    spreadsheet row number (header = row 1) in CSV and XLSX. `document` is None exactly when `errors`
    is non-empty; errors and warnings are `{field, rule, message}`."""

    row: int
    document: dict | None
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)


@dataclass
class ImportFile:
    """A whole file read: its format (json/csv/xlsx), source layout (govhall/liaoning) and rows."""

    format: str
    source: str
    rows: list[ParsedRow]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> list[ParsedRow]:
        return [r for r in self.rows if r.errors]


class CatalogueReader:
    """An opened catalogue file; iterate it for ParsedRows. `total` is the expected row count or None."""

    def __init__(self, format: str, source: str, rows: Iterator[ParsedRow], total: int | None,
                 ignored_columns: list[str] | None = None):
        self.format, self.source, self.total = format, source, total
        self.ignored_columns = ignored_columns or []
        self._rows = rows

    def __iter__(self) -> Iterator[ParsedRow]:
        seen: dict[str, int] = {}
        for parsed in self._rows:
            code = parsed.document.get("basic_code") if parsed.document else None
            if isinstance(code, str) and code:
                if code in seen:
                    parsed.errors.append({"field": "basic_code", "rule": "duplicate_in_file",
                                          "message": f"{code} also appears on row {seen[code]}"})
                    parsed.document = None
                else:
                    seen[code] = parsed.row
            yield parsed


def detect_format(filename_or_format: str) -> str:
    """"json", "csv" or "xlsx" from a file name, an extension or a media type; raises UnsupportedType."""
    name = (filename_or_format or "").strip().lower().split(";")[0].strip()
    if name in _MEDIA_TYPES:
        return _MEDIA_TYPES[name]
    ext = name.rsplit(".", 1)[-1]
    if ext in FORMATS:
        return ext
    raise UnsupportedType(f"catalogue files must be .json, .csv or .xlsx, not {filename_or_format!r}",
                          code="unsupported_import_format",
                          details={"format": filename_or_format, "supported": list(FORMATS)})


def iter_catalogue(data: bytes, filename_or_format: str) -> CatalogueReader:
    """Open a catalogue file for row-by-row reading (for progress reports on large files).

    Raises UnsupportedType(unsupported_import_format) for an unknown format and Malformed(unreadable_file)
    when the file is not valid JSON/CSV/XLSX — at once, or for a damaged XLSX part while iterating.
    Cell-level problems never raise: they are the rows' errors.
    """
    fmt = detect_format(filename_or_format)
    opener = {"json": _open_json, "csv": _open_csv, "xlsx": _open_xlsx}[fmt]
    return opener(data)


def read_catalogue(data: bytes, filename_or_format: str) -> ImportFile:
    """Every row of a catalogue file; raises as iter_catalogue does."""
    reader = iter_catalogue(data, filename_or_format)
    rows = list(reader)
    return ImportFile(reader.format, reader.source, rows, reader.ignored_columns)


# ---- JSON: govhall documents or the Liaoning export -------------------------------------------------

def _open_json(data: bytes) -> CatalogueReader:
    try:
        loaded = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise tables.unreadable("json", str(exc)) from None
    records = loaded.get("items") if isinstance(loaded, dict) else loaded
    if not isinstance(records, list):
        raise tables.unreadable("json", 'expected a list of items or {"items": [...]}')
    first = next((r for r in records if isinstance(r, dict)), {})
    if _LIAONING_KEYS & first.keys():
        return CatalogueReader("json", "liaoning", _liaoning_rows(records), len(records))
    return CatalogueReader("json", "govhall", _govhall_rows(records), len(records))


def _govhall_rows(records: list) -> Iterator[ParsedRow]:
    for n, record in enumerate(records, 1):
        if isinstance(record, dict):
            yield ParsedRow(n, record)  # taken as-is: the rules judge it (items/rules.py)
        else:
            yield ParsedRow(n, None, [{"field": "", "rule": "not_an_object",
                                       "message": f"entry {n} is a {type(record).__name__}, not an item object"}])


def _liaoning_rows(records: list) -> Iterator[ParsedRow]:
    for n, record in enumerate(records, 1):
        if not isinstance(record, dict):
            yield ParsedRow(n, None, [{"field": "", "rule": "not_an_object",
                                       "message": f"entry {n} is a {type(record).__name__}, not a record"}])
            continue
        document, errors, warnings = liaoning_document(record)
        yield ParsedRow(n, document, errors, warnings)


def liaoning_document(record: dict) -> tuple[dict | None, list[dict], list[dict]]:
    """A catalogue document from one Liaoning record: (document, errors, warnings) as for spreadsheets,
    with errors naming the record's own keys (职权编码 …).

    事项类型 is kept as given (99 = Liaoning 其他 included): the per-source type mapping decides, not the
    reader. 授权部门 is dropped (it repeats digits 5–6 of the code). The record carries no time limit,
    conditions or materials, so the document has legal_limit null and empty lists.
    """
    cell = RowCells({"basic_code": record.get("职权编码"), "name": record.get("事项名称"),
                     "item_type": record.get("事项类型"), "levels": record.get("实施层级")}, _LIAONING_FIELD)
    item_type = cell.required("item_type")
    document = {
        "basic_code": cell.code("basic_code"),
        "name": cell.required("name"),
        "item_type": item_type.zfill(2) if item_type.isdigit() else item_type,
        "basis": split_basis(cell_text(record.get("依据"))),
        "levels": parse_levels(cell.text("levels"), cell.problem("levels")),
        "state": "in_use", "legal_limit": None, "service_objects": [], "conditions": [], "materials": [],
        "process": [], "fees": [], "faq": [],
    }
    return (None if cell.errors else document), cell.errors, cell.warnings


_LIAONING_FIELD = {"basic_code": "职权编码", "name": "事项名称", "item_type": "事项类型", "levels": "实施层级"}


# ---- CSV and XLSX: the documented column layout (items/columns.py) ----------------------------------

def _table_rows(fmt: str, rows: Iterator[tuple[int, tuple]]) -> CatalogueReader:
    header_row = None
    for number, values in rows:
        if not tables.is_blank(values):
            header_row = (number, values)
            break
    if header_row is None:
        raise tables.unreadable(fmt, "the file is empty")
    keys, ignored = tables.header_keys(header_row[1], _HEADERS)
    if not any(keys):
        raise tables.unreadable(fmt, "no known column header (see docs/import-format.md)")

    def parsed() -> Iterator[ParsedRow]:
        for number, values in rows:
            if tables.is_blank(values):
                continue
            cells = {k: v for k, v in zip(keys, values) if k}
            cells.update({k: None for k in keys if k and k not in cells})
            document, errors, warnings = document_from_cells(cells)
            yield ParsedRow(number, document, errors, warnings)

    return CatalogueReader(fmt, "govhall", parsed(), None, ignored)


def _open_csv(data: bytes) -> CatalogueReader:
    return _table_rows("csv", tables.csv_rows(data))


def _open_xlsx(data: bytes) -> CatalogueReader:
    book = tables.XlsxBook(data)
    reader = _table_rows("xlsx", book.rows(0, close=True))
    total = book.sheets[0][1] if book.sheets else None
    reader.total = total - 1 if total else None
    return reader


# ---- templates ----------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def write_template(format: str) -> bytes:
    """A catalogue template with the Chinese headers and one real example row, as CSV or XLSX bytes.

    Raises UnsupportedType(unsupported_import_format) for any other format.
    """
    fmt = detect_format(format)
    header = [c.header for c in IMPORT_COLUMNS]
    example = [c.example for c in IMPORT_COLUMNS]
    if fmt == "csv":
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerows([header, example])
        return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel open it as UTF-8
    if fmt != "xlsx":
        raise UnsupportedType("templates are .csv or .xlsx", code="unsupported_import_format",
                              details={"format": format, "supported": ["csv", "xlsx"]})
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "基本目录"
    sheet.append(header)
    sheet.append(example)
    for column_index, column in enumerate(IMPORT_COLUMNS, 1):
        letter = sheet.cell(1, column_index).column_letter
        sheet.cell(1, column_index).font = Font(bold=column.required)
        sheet.column_dimensions[letter].width = 14 if len(column.example) < 20 else 40
        sheet.cell(2, column_index).alignment = Alignment(wrap_text=True, vertical="top")
        # codes must stay text or Excel drops their leading zeros (DOMAIN.md §2)
        if column.key in ("basic_code", "item_type", "levels"):
            for row in range(2, 1001):
                sheet.cell(row, column_index).number_format = "@"
    notes = workbook.create_sheet("说明")
    notes.append(["表头", "English header", "必填", "说明", "示例"])
    for column in IMPORT_COLUMNS:
        notes.append([column.header, column.key, "是" if column.required else "否", column.description,
                      column.example])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


__all__ = ["CatalogueReader", "ImportFile", "ParsedRow", "detect_format", "iter_catalogue", "liaoning_document",
           "read_catalogue", "write_template"]
