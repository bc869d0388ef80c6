"""Reading spreadsheet files (CSV, XLSX) as numbered rows of cells, shared by every import."""
from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from xml.etree.ElementTree import ParseError

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from items.columns import cell_text
from items.errors import Malformed, invalid

XLSX_ERRORS = (zipfile.BadZipFile, InvalidFileException, KeyError, ParseError, ValueError, OSError, TypeError)
MEDIA_TYPES = {"text/csv": "csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}


def unreadable(fmt: str, reason: str) -> Malformed:
    """The error for a file that is not valid JSON/CSV/XLSX at all (400 unreadable_file)."""
    return invalid(f"the file cannot be read as {fmt.upper()}: {reason}", "file", f"readable_{fmt}",
                   code="unreadable_file", kind=Malformed, format=fmt, reason=reason)


def is_blank(values: tuple) -> bool:
    """True when every cell of a row is empty or white space (such rows are skipped, not errors)."""
    return all(v is None or (type(v) is str and not v.strip()) for v in values)


def header_keys(header: tuple, names: dict[str, str]) -> tuple[list[str | None], list[str]]:
    """Column keys by position and the headers not recognised.

    `names` maps accepted headers (Chinese, or English in lower case) to keys; a header may carry a
    leading "*" (required mark) and an explanation in brackets: "*基本编码(basic_code)". The first
    column of a name wins.
    """
    keys: list[str | None] = []
    ignored: list[str] = []
    for raw in header:
        text = cell_text(raw).lstrip("*＊").strip()
        base = text.split("(")[0].split("（")[0].strip()
        key = names.get(text) or names.get(text.lower()) or names.get(base) or names.get(base.lower())
        if key in keys:
            key = None
        if key is None and text:
            ignored.append(text)
        keys.append(key)
    return keys, ignored


def csv_rows(data: bytes) -> Iterator[tuple[int, tuple]]:
    """(row number, cells) of a CSV file in UTF-8 (with or without BOM) or GB18030, comma or tab separated.

    Raises Malformed(unreadable_file) at once for an undecodable or binary file, and while iterating
    for a broken record.
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # Excel in a Chinese locale saves CSV as GBK
        except UnicodeDecodeError:
            raise unreadable("csv", "not UTF-8 or GB18030 text") from None
    if "\x00" in text:
        raise unreadable("csv", "binary content")
    first_line = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","

    def numbered() -> Iterator[tuple[int, tuple]]:
        try:
            # a record is one spreadsheet row even when a quoted cell spans lines
            for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), 1):
                yield number, tuple(values)
        except csv.Error as exc:
            raise unreadable("csv", str(exc)) from None

    return numbered()


class XlsxBook:
    """An XLSX workbook opened for streaming: `sheets` lists (title, approximate row count).

    Raises Malformed(unreadable_file) when the file is not a workbook; close() when done.
    """

    def __init__(self, data: bytes):
        try:
            # read_only streams rows instead of building every cell in memory (openpyxl "optimised modes")
            self.workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            self.sheets = []
            for sheet in self.workbook.worksheets:
                total = sheet.max_row
                sheet.reset_dimensions()  # some writers store a wrong dimension that would cut rows off
                self.sheets.append((sheet.title, total))
        except XLSX_ERRORS + (IndexError,) as exc:
            raise unreadable("xlsx", f"{type(exc).__name__}: {exc}") from None

    def rows(self, index: int = 0, close: bool = False) -> Iterator[tuple[int, tuple]]:
        """(row number, cells) of one sheet; `close` closes the workbook when the rows run out."""
        try:
            sheet = self.workbook.worksheets[index]
            for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
                yield number, values
        except XLSX_ERRORS + (IndexError,) as exc:
            raise unreadable("xlsx", f"{type(exc).__name__}: {exc}") from None
        finally:
            if close:
                self.close()

    def close(self) -> None:
        self.workbook.close()
