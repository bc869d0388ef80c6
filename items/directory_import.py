"""Importing regions and departments from CSV and XLSX: the two layouts, templates, and the all-or-nothing use case."""
from __future__ import annotations

import csv
import functools
import io
from collections.abc import Callable
from dataclasses import dataclass, field

import openpyxl
from openpyxl.styles import Font

from items import codes, store, tables
from items.columns import cell_text
from items.directory import (REGION_LEVEL_DIGITS, _short_code, check_department, check_region, department_view,
                             region_view)
from items.errors import Malformed, UnsupportedType, invalid
from items.scope import Actor, require_role

KINDS = ("regions", "departments")
# Each layout: (key, Chinese header, required, description, example rows' cells).
LAYOUTS: dict[str, tuple[tuple[str, str, bool, str], ...]] = {
    "regions": (
        ("code", "区划代码", True, "GB/T 2260 code: 6 digits (province, city, county) or 12 (township)"),
        ("name", "区划名称", True, "name, at most 100 characters"),
        ("parent", "上级区划代码", False, "the enclosing region; empty = the code's own parent (a county's city)"),
        ("level", "层级", False, "2 省 / 3 市 / 4 县 / 5 乡镇 (province … township); empty = from the code"),
    ),
    "departments": (
        ("credit_code", "统一社会信用代码", True, "18 characters with the GB 32100 check character"),
        ("name", "部门名称", True, "name, unique within its region, at most 200 characters"),
        ("region_code", "所在区划代码", True, "the region the department serves (in the directory or this file)"),
        ("level", "层级", False, "GB/T 39046 level digit; must be the region's level; empty = the region's"),
    ),
}
SHEET_TITLES = {"regions": "行政区划", "departments": "部门"}
EXAMPLES = {
    "regions": [["410000", "河南省", "", "2"], ["410400", "平顶山市", "410000", "3"], ["410402", "新华区", "410400", "4"]],
    "departments": [[codes.make_credit_code("11410402MB0123456"), "新华区住房和城乡建设局", "410402", "4"]],
}
_NAMES = {kind: {**{key: key for key, *_ in layout}, **{header: key for key, header, *_ in layout}}
          for kind, layout in LAYOUTS.items()}
_KIND_KEY = {"regions": "code", "departments": "credit_code"}  # the column that tells a table's kind


@dataclass
class Table:
    """One sheet (or CSV file) of one kind: its rows as (spreadsheet row number, {key: text})."""
    kind: str
    sheet: str | None
    rows: list[tuple[int, dict]] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)


def detect_format(filename_or_format: str) -> str:
    """"csv" or "xlsx" from a file name, extension or media type; raises UnsupportedType."""
    name = (filename_or_format or "").strip().lower().split(";")[0].strip()
    fmt = tables.MEDIA_TYPES.get(name) or name.rsplit(".", 1)[-1]
    if fmt not in ("csv", "xlsx"):
        raise UnsupportedType(f"directory files are .csv or .xlsx, not {filename_or_format!r}",
                              code="unsupported_import_format",
                              details={"format": filename_or_format, "supported": ["csv", "xlsx"]})
    return fmt


def read_directory(data: bytes, filename: str) -> tuple[str, list[Table], list[str]]:
    """(format, tables, ignored sheet titles) of a directory file.

    A CSV file is one table; an XLSX workbook may carry both kinds, one per sheet. A table's kind
    comes from its header (区划代码 → regions, 统一社会信用代码 → departments). Raises UnsupportedType,
    Malformed(unreadable_file) when no table is recognised.
    """
    fmt = detect_format(filename)
    found: list[Table] = []
    ignored_sheets: list[str] = []
    if fmt == "csv":
        table = _table(tables.csv_rows(data), None)
        if table is None:
            raise tables.unreadable("csv", "no regions or departments header (see docs/api.md)")
        return fmt, [table], []
    book = tables.XlsxBook(data)
    try:
        for index, (title, _) in enumerate(book.sheets):
            table = _table(book.rows(index), title)
            (found.append(table) if table else ignored_sheets.append(title))
    finally:
        book.close()
    if not found:
        raise tables.unreadable("xlsx", "no sheet with a regions or departments header (see docs/api.md)")
    return fmt, found, ignored_sheets


def _table(rows, sheet: str | None) -> Table | None:
    header = next(((n, values) for n, values in rows if not tables.is_blank(values)), None)
    if header is None:
        return None
    for kind in ("departments", "regions"):  # 区划代码 alone would also match a departments table's region
        keys, ignored = tables.header_keys(header[1], _NAMES[kind])
        if _KIND_KEY[kind] in keys:
            break
    else:
        return None
    table = Table(kind, sheet, ignored_columns=ignored)
    for number, values in rows:
        if not tables.is_blank(values):
            table.rows.append((number, {k: cell_text(v) for k, v in zip(keys, values) if k}))
    return table


@functools.lru_cache(maxsize=8)
def write_template(fmt: str, kind: str | None = None) -> bytes:
    """An import template with the Chinese headers and example rows: CSV for one kind, XLSX for one
    kind or (kind None) both, one sheet each, plus a 说明 sheet. Raises UnsupportedType, Malformed.

    Written once per format and kind (the XLSX takes ~0.2 s: a thousand text-formatted rows per column)."""
    fmt = detect_format(fmt)
    if kind is not None and kind not in KINDS:
        raise invalid("kind is regions or departments", "kind", "one_of", code="bad_parameter", kind=Malformed,
                      allowed=list(KINDS))
    if fmt == "csv":
        if kind is None:
            raise invalid("a CSV template holds one kind: give kind=regions or kind=departments",
                          "kind", "required_for_csv", code="bad_parameter", kind=Malformed)
        out = io.StringIO(newline="")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerows([[header for _, header, *_ in LAYOUTS[kind]], *EXAMPLES[kind]])
        return out.getvalue().encode("utf-8-sig")  # the BOM makes Excel open it as UTF-8
    workbook = openpyxl.Workbook()
    workbook.remove(workbook.active)
    notes_rows = [["表", "表头", "English header", "必填", "说明"]]
    for each in ([kind] if kind else KINDS):
        sheet = workbook.create_sheet(SHEET_TITLES[each])
        sheet.append([header for _, header, *_ in LAYOUTS[each]])
        for row in EXAMPLES[each]:
            sheet.append(row)
        for index, (key, header, required, description) in enumerate(LAYOUTS[each], 1):
            sheet.cell(1, index).font = Font(bold=required)
            sheet.column_dimensions[sheet.cell(1, index).column_letter].width = 24
            for row in range(2, 1001):  # codes stay text, or Excel turns them into numbers
                sheet.cell(row, index).number_format = "@"
            notes_rows.append([SHEET_TITLES[each], header, key, "是" if required else "否", description])
    notes = workbook.create_sheet("说明")
    for row in notes_rows:
        notes.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


class DirectoryImport:
    """The import use case: every row checked against the directory and the rest of the file first."""

    def import_file(self, data: bytes, filename: str, actor: Actor, dry_run: bool = False, remote_ip: str = "",
                    progress: Callable[[int, int], None] | None = None) -> dict:
        """Import a .csv or .xlsx directory file → the report (docs/api.md). With any bad row, or
        `dry_run`, nothing is written; errors are `{row, sheet, kind, field, rule, message}`."""
        require_role(actor, "province_admin")
        fmt, found, ignored_sheets = read_directory(data, filename)
        report = {"format": fmt, "dry_run": dry_run, "written": False, "errors": [],
                  "regions": {"rows": 0, "created": 0, "updated": 0, "unchanged": 0},
                  "departments": {"rows": 0, "created": 0, "updated": 0, "unchanged": 0},
                  "ignored_sheets": ignored_sheets,
                  "ignored_columns": sorted({c for t in found for c in t.ignored_columns})}
        with store.transaction():
            regions = self._check_regions([t for t in found if t.kind == "regions"], report)
            departments = self._check_departments([t for t in found if t.kind == "departments"], regions, report)
            if report["errors"] or dry_run:
                return report
            todo = sorted(regions["changed"], key=lambda r: r["level"]) + departments
            for done, row in enumerate(todo, 1):
                if "code" in row:
                    store.ensure_region(row["code"], row["name"], row["parent"], row["level"])
                else:
                    store.ensure_org(row["credit_code"], row["name"], row["region_code"], row["level"])
                if progress:
                    progress(done, len(todo))
            store.audit(actor.username, "directory.import", filename[:64], remote_ip,
                        {kind: report[kind] for kind in KINDS})
        report["written"] = True
        return report

    @staticmethod
    def _check_regions(found: list[Table], report: dict) -> dict:
        stored = {r.code: region_view(r) for r in store.list_regions()}
        in_file: dict[str, dict] = {}
        for table in found:  # every well-formed code of the file can be another row's parent
            for _, cells in table.rows:
                code = _short_code(cells.get("code", ""))
                kind = codes.region_level(code)
                if kind in REGION_LEVEL_DIGITS:
                    in_file[code] = {"code": code, "level": REGION_LEVEL_DIGITS[kind]}
        lookup = {**stored, **in_file}.get
        seen: dict[str, int] = {}
        changed: list[dict] = []
        for table in found:
            for number, cells in table.rows:
                report["regions"]["rows"] += 1
                region, errors = check_region(cells, lookup)
                if region and region["code"] in seen:
                    errors.append({"path": "/code", "rule": "unique_in_file",
                                   "message": f"{region['code']} also on row {seen[region['code']]}"})
                _add_errors(report, table, number, errors)
                if errors:
                    continue
                seen[region["code"]] = number
                old = stored.get(region["code"])
                if old is None:
                    report["regions"]["created"] += 1
                elif {k: old[k] for k in region} == region:
                    report["regions"]["unchanged"] += 1
                    continue
                else:
                    report["regions"]["updated"] += 1
                changed.append(region)
        return {"changed": changed, "lookup": lookup}

    @staticmethod
    def _check_departments(found: list[Table], regions: dict, report: dict) -> list[dict]:
        stored = {r.credit_code: department_view(r) for r in store.all_orgs()} if found else {}
        checked: list[tuple[Table, int, dict | None, list[dict]]] = []
        for table in found:
            for number, cells in table.rows:
                checked.append((table, number, *check_department(cells, regions["lookup"])))
        # the directory as it would stand after the import: names must stay unique within a region
        after = {code: (d["region_code"], d["name"]) for code, d in stored.items()}
        after.update({d["credit_code"]: (d["region_code"], d["name"]) for _, _, d, _ in checked if d})
        holders: dict[tuple[str, str], set[str]] = {}
        for code, key in after.items():
            holders.setdefault(key, set()).add(code)
        seen: dict[str, int] = {}
        changed: list[dict] = []
        for table, number, department, errors in checked:
            report["departments"]["rows"] += 1
            if department:
                code = department["credit_code"]
                old = stored.get(code)
                if code in seen:
                    errors.append({"path": "/credit_code", "rule": "unique_in_file",
                                   "message": f"{code} also on row {seen[code]}"})
                elif holders[(department["region_code"], department["name"])] - {code}:
                    errors.append({"path": "/name", "rule": "name_unique_in_region",
                                   "message": f"{department['region_code']} has another {department['name']}"})
                elif old and (old["region_code"], old["level"]) != (department["region_code"], department["level"]) \
                        and store.org_references(code):
                    errors.append({"path": "/region_code", "rule": "department_in_use",
                                   "message": "a department with staff or local items keeps its region and level"})
            _add_errors(report, table, number, errors)
            if errors:
                continue
            seen[code] = number
            if old is None:
                report["departments"]["created"] += 1
            elif old == department:
                report["departments"]["unchanged"] += 1
                continue
            else:
                report["departments"]["updated"] += 1
            changed.append(department)
        return changed


def _add_errors(report: dict, table: Table, number: int, errors: list[dict]) -> None:
    kind = table.kind[:-1]  # "region" / "department"
    report["errors"] += [{"row": number, "sheet": table.sheet, "kind": kind, "field": e["path"].lstrip("/"),
                          "rule": e["rule"], "message": e["message"]} for e in errors]
