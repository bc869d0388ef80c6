"""The documented spreadsheet layout of a catalogue file: its columns, their headers and each cell's syntax."""
from __future__ import annotations

import re
from dataclasses import dataclass

from items.codes import LEVELS, normalize_item_type
from items.model import BASIS_KINDS


@dataclass(frozen=True)
class ImportColumn:
    """One column of the catalogue layout; either `header` (中文) or `key` (English) names it in a file."""

    key: str
    header: str
    required: bool
    description: str
    example: str


IMPORT_COLUMNS: tuple[ImportColumn, ...] = (
    ImportColumn("basic_code", "基本编码", True,
                 "12-character basic code, kept as text (DOMAIN.md §2)", "000104002000"),
    ImportColumn("name", "事项名称", True, "item name (四级四同)", "建筑工程施工许可证核发"),
    ImportColumn("item_type", "事项类型", True,
                 "GB/T 39046 two-digit item type (01 … 10, 20) or its Chinese name (行政许可 …)", "01"),
    ImportColumn("basis", "设定依据", False,
                 "legal basis as tagged text: each source starts with 【法律】/【行政法规】/【地方性法规】/【规章】/"
                 "【规范性文件】 followed by 《title》 and the article text; several sources in one cell",
                 "【法律】《中华人民共和国建筑法》第七条 建筑工程开工前，建设单位应当按照国家有关规定向工程所在地"
                 "县级以上人民政府建设行政主管部门申请领取施工许可证；但是，国务院建设行政主管部门确定的限额以下的"
                 "小型工程除外。"),
    ImportColumn("levels", "行使层级", False,
                 "GB/T 39046 level digits 1 … 7 (or 国家/省/市/县/乡镇街道/村社区/分级管理), comma separated", "3,4"),
    ImportColumn("state", "事项状态", False, "在用 / 挂起 / 取消 (in_use / suspended / cancelled); empty = 在用", "在用"),
    ImportColumn("legal_limit", "法定办结时限", False,
                 "number of days; empty or 500 (the Epoint sentinel) = no legal limit", "15"),
    ImportColumn("legal_limit_unit", "法定时限单位", False, "工作日 / 自然日 (workday / calendar_day); empty = 工作日",
                 "工作日"),
    ImportColumn("legal_limit_note", "法定时限说明", False, "free text about the legal time limit", ""),
    ImportColumn("service_objects", "服务对象", False,
                 "comma separated: 自然人 / 企业法人 / 事业单位法人 / 社会组织法人 / 行政机关 / 其他组织 "
                 "(person / enterprise / institution / social_org / government / other)", "企业法人,事业单位法人"),
    ImportColumn("conditions", "受理条件", False, "one condition per line",
                 "已经办理该建筑工程用地批准手续\n依法应当办理建设工程规划许可证的，已经取得建设工程规划许可证"),
    ImportColumn("materials", "申请材料", False,
                 "one material per line: 名称|必要性|来源|形式|原件数|复印件数|电子证照[|备注]",
                 "居民身份证|必要|申请人自备|纸质和电子|1|1|居民身份证\n"
                 "建设工程规划许可证|必要|政府部门核发|电子|0|0|建设工程规划许可证"),
    ImportColumn("process", "办理流程", False, "one step per line: 环节名称|时限|备注 (时限 like 1 or 1工作日)",
                 "受理|1工作日|\n审查|3工作日|\n决定|1工作日|"),
    ImportColumn("fees", "收费项目", False, "one fee per line: 名称|标准|依据; empty = free of charge", ""),
    ImportColumn("faq", "常见问题", False, "one question per line: 问题|解答", ""),
)

REQUIRED_KEYS = tuple(c.key for c in IMPORT_COLUMNS if c.required)

# Words accepted in cells, Chinese or English, mapped to the CONTRACT.md §2 enumeration values.
NECESSITY = {"必要": "required", "非必要": "optional", "容缺后补": "deferrable", "容缺": "deferrable"}
SOURCE = {"申请人自备": "applicant", "政府部门核发": "government", "其他": "other"}
FORM = {"纸质": "paper", "电子": "electronic", "纸质和电子": "both", "纸质或电子": "both"}
UNIT = {"工作日": "workday", "自然日": "calendar_day"}
STATE = {"在用": "in_use", "挂起": "suspended", "取消": "cancelled"}
SERVICE_OBJECT = {"自然人": "person", "个人": "person", "企业法人": "enterprise", "企业": "enterprise",
                  "事业单位法人": "institution", "事业单位": "institution", "社会组织法人": "social_org",
                  "社会组织": "social_org", "行政机关": "government", "其他组织": "other", "其他": "other"}
LEVEL_WORDS = {**{v: k for k, v in LEVELS.items()}, "国家级": "1", "省级": "2", "市级": "3", "县级": "4",
               "乡级": "5", "村级": "6"}
NO_LEGAL_LIMIT = 500  # Epoint systems store 500 for "no legal limit": DOMAIN.md §3

_TAG = re.compile(r"[【\[［](" + "|".join(sorted(BASIS_KINDS, key=len, reverse=True)) + r")[】\]］][:：]?")
# A new line that opens with 《…》 (optionally numbered "1、" "2." "（3）") starts another source.
_SOURCE_LINE = re.compile(r"\n(?=[ \t\u3000]*(?:\d+[、.．]|[（(]\d+[)）])?[ \t\u3000]*《)")
_TITLE = re.compile(r"《([^《》]+)》")
_ARTICLE = re.compile(r"第[ \u3000]*[0-9〇零一二三四五六七八九十百千两]+[ \u3000]*条")
_UNTITLED = re.compile(r"^(?:\d+[、.．])?\s*([^（(：:\n《]{2,50}?)\s*(?:[（(：:\n]|第[0-9〇零一二三四五六七八九十百千两]+条)")
_LEADING_JUNK = " \t\n\u3000\"';；:：,，"


def split_basis(text: str) -> list[dict]:
    """Split tagged legal-basis text into `[{id, kind, title, article, text}]` with ids b1, b2 … in order.

    Each 【kind】 tag opens a source; inside one tag, a line opening with 《…》 opens another source of the
    same kind. Text before any tag gets kind "" (the text did not say). `article` is the first 第…条 after
    the title, or "". Never raises.
    """
    text = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(text) >= 2 and text[0] == text[-1] == '"':
        text = text[1:-1]
    pieces: list[tuple[str, str]] = []
    kind, start = "", 0
    for m in _TAG.finditer(text):
        pieces.append((kind, text[start:m.start()]))
        kind, start = m.group(1), m.end()
    pieces.append((kind, text[start:]))
    entries = []
    for kind, body in pieces:
        for part in _SOURCE_LINE.split(body):
            part = part.lstrip(_LEADING_JUNK).rstrip()
            if part.endswith('"') and part.count('"') % 2:
                part = part[:-1].rstrip()
            if part:
                entries.append(_basis_entry(len(entries) + 1, kind, part))
    return entries


def _basis_entry(n: int, kind: str, text: str) -> dict:
    title_match = _TITLE.search(text)
    if title_match:
        title, after = title_match.group(1).strip(), title_match.end()
    else:
        untitled = _UNTITLED.match(text)
        title, after = (untitled.group(1).strip() if untitled else ""), 0
    article = _ARTICLE.search(text, after)
    return {"id": f"b{n}", "kind": kind, "title": title,
            "article": re.sub(r"[ \u3000]", "", article.group(0)) if article else "", "text": text}


def render_basis(entries: list[dict]) -> str:
    """Tagged text for basis entries, the inverse of split_basis for entries whose text names its title."""
    return "\n".join((f"【{e['kind']}】" if e.get("kind") else "") + e.get("text", "") for e in entries)


def cell_text(value: object) -> str:
    """The text of a cell as a user reads it: numbers without a spurious ".0", None as ""."""
    if type(value) is str and "\r" not in value:
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).replace("\r\n", "\n").replace("\r", "\n").strip()


def document_from_cells(cells: dict[str, object]) -> tuple[dict | None, list[dict], list[dict]]:
    """Build a catalogue document from one row's cells keyed by column key (absent key = absent column).

    Returns (document, errors, warnings); errors and warnings are `{field, rule, message}` with `field`
    the column key. The document is None exactly when there are errors. Never raises.
    """
    cell = RowCells(cells)
    limit_value = cell.text("legal_limit")
    doc = {
        "basic_code": cell.code("basic_code"),
        "name": cell.required("name"),
        "item_type": cell.item_type("item_type"),
        "basis": split_basis(cell.text("basis")),
        "levels": parse_levels(cell.text("levels"), cell.problem("levels")),
        "state": cell.word("state", STATE, "unknown_state") or "in_use",
        "legal_limit": cell.limit(limit_value, "legal_limit", "legal_limit_unit", cell.text("legal_limit_note")),
        "service_objects": cell.words("service_objects", SERVICE_OBJECT, "unknown_service_object"),
        "conditions": [{"id": f"c{n}", "text": line} for n, line in enumerate(_lines(cell.text("conditions")), 1)],
        "materials": cell.materials(),
        "process": cell.process(),
        "fees": cell.pairs("fees", ("name", "standard", "basis"), "f"),
        "faq": cell.pairs("faq", ("question", "answer"), "q"),
    }
    return (None if cell.errors else doc), cell.errors, cell.warnings


def parse_levels(text: str, problem) -> list[str]:
    """Level digits from "2,3" / "2、3" / "省级,市级"; a digit run like "34" (Excel ate the comma) splits."""
    levels: list[str] = []
    for token in _LEVEL_SEPARATORS.split(text.strip()):
        if not token:
            continue
        digits = [token] if token in LEVELS else list(token) if token.isdigit() else [LEVEL_WORDS.get(token, token)]
        for level in digits:
            if level not in LEVELS:
                problem("unknown_level", f"{token!r} is not a level (1 … 7 or 国家/省/市/县/乡镇街道/村社区/分级管理)")
            elif level not in levels:
                levels.append(level)
    return levels


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.split("\n") if line.strip()]


_LEVEL_SEPARATORS = re.compile(r"[,，、;；/\s]+")
_WORD_SEPARATORS = re.compile(r"[,，、;；\n]+")
_FIELD_SEPARATOR = re.compile(r"[|｜]")


def _fields(line: str) -> list[str]:
    return [f.strip() for f in _FIELD_SEPARATOR.split(line)]


def _lookup(table: dict[str, str], text: str) -> str | None:
    word = text.strip()
    if word in table:
        return table[word]
    word = word.lower()
    return word if word in table.values() else None


_NUMBER = re.compile(r"^(\d+(?:\.\d+)?)\s*个?\s*(工作日|自然日|workdays?|calendar_days?)?$", re.IGNORECASE)


class RowCells:
    """One row's cells by key, collecting errors and warnings while its fields are read; `labels` renames
    keys in reports to the names the file itself uses."""

    def __init__(self, cells: dict[str, object], labels: dict[str, str] | None = None):
        self.cells = cells
        self.labels = labels or {}
        self.errors: list[dict] = []
        self.warnings: list[dict] = []

    def problem(self, field: str):
        field = self.labels.get(field, field)
        return lambda rule, message: self.errors.append({"field": field, "rule": rule, "message": message})

    def text(self, key: str) -> str:
        return cell_text(self.cells.get(key))

    def required(self, key: str) -> str:
        if key not in self.cells:
            self.problem(key)("missing_column", f"the file has no {self.labels.get(key, key)} column")
            return ""
        value = self.text(key)
        if not value:
            self.problem(key)("required", f"{self.labels.get(key, key)} is empty")
        return value

    def code(self, key: str) -> str:
        raw = self.cells.get(key)
        if isinstance(raw, float) and not raw.is_integer():
            self.problem(key)("code_not_text", f"{raw!r} is a number, not a code: format the column as text")
            return ""
        value = self.required(key)
        # Excel drops leading zeros of codes typed as numbers (DOMAIN.md §2). A basic code has at most 3
        # leading zeros (source "00", type ≥ "01"), so only 9–11 digits can be restored.
        if value.isdigit() and len(value) < 12:
            if 9 <= len(value) <= 11:
                restored = value.zfill(12)
                self.warnings.append({"field": self.labels.get(key, key), "rule": "code_not_text",
                                      "message": f"{value} was stored as a number; leading zeros restored: {restored}"})
                return restored
            self.problem(key)("code_not_text", f"{value} is not a 12-character code even with leading zeros restored")
        return value

    def item_type(self, key: str) -> str:
        value = self.required(key)
        if not value:
            return ""
        if value.isdigit() and len(value) == 1:
            value = value.zfill(2)  # Excel turns a typed 01 into the number 1
        found = normalize_item_type(value)
        if found is None:
            self.problem(key)("unknown_item_type", f"{value!r} is not a GB/T 39046 item type (01 … 10, 20)")
            return value
        return found

    def word(self, key: str, table: dict[str, str], rule: str) -> str | None:
        value = self.text(key)
        if not value:
            return None
        found = _lookup(table, value)
        if found is None:
            self.problem(key)(rule, f"{value!r} is not one of {', '.join(table)} / {', '.join(sorted(set(table.values())))}")
        return found

    def words(self, key: str, table: dict[str, str], rule: str) -> list[str]:
        out: list[str] = []
        for token in _WORD_SEPARATORS.split(self.text(key)):
            if token.strip():
                found = _lookup(table, token)
                if found is None:
                    self.problem(key)(rule, f"{token.strip()!r} is not one of {', '.join(table)}")
                elif found not in out:
                    out.append(found)
        return out

    def limit(self, value: str, key: str, unit_key: str | None, note: str = "", line: str = "") -> dict | None:
        unit = self.text(unit_key) if unit_key else ""
        where = f"{line}{value!r}"
        unit_value = _lookup(UNIT, unit) if unit else None
        if unit and unit_value is None:
            self.problem(unit_key or key)("unknown_unit", f"{line}{unit!r} is not 工作日/自然日 (workday/calendar_day)")
        if not value:
            return None
        match = _NUMBER.match(value)
        if not match:
            self.problem(key)("not_a_number", f"{where} is not a number of days")
            return None
        number = float(match.group(1))
        if number == NO_LEGAL_LIMIT and unit_key == "legal_limit_unit":
            return None  # the Epoint sentinel: DOMAIN.md §3
        if match.group(2):
            unit_value = _lookup(UNIT, match.group(2)) or ("calendar_day" if "calendar" in match.group(2).lower()
                                                          else "workday")
        limit = {"value": int(number) if number.is_integer() else number, "unit": unit_value or "workday"}
        return {**limit, "note": note} if unit_key == "legal_limit_unit" else limit

    def materials(self) -> list[dict]:
        out = []
        names = ("name", "necessity", "source", "form", "originals", "copies", "e_license", "note")
        for n, line in enumerate(_lines(self.text("materials")), 1):
            parts = _fields(line)
            if len(parts) > len(names):
                self.problem("materials")("bad_line", f"line {n}: more than {len(names)} fields separated by |")
                continue
            m = dict(zip(names, parts + [""] * (len(names) - len(parts))))
            if not m["name"]:
                self.problem("materials")("required", f"line {n}: the material has no name")
            for field, table, default in (("necessity", NECESSITY, "required"), ("source", SOURCE, "applicant"),
                                          ("form", FORM, "paper")):
                word = m[field]
                m[field] = _lookup(table, word) if word else default
                if m[field] is None:
                    self.problem("materials")(f"unknown_{field}", f"line {n}: {word!r} is not one of "
                                              f"{', '.join(table)} / {', '.join(sorted(set(table.values())))}")
            for field, default in (("originals", 1), ("copies", 0)):
                word = m[field]
                if not word:
                    m[field] = default
                elif word.isdigit():
                    m[field] = int(word)
                else:
                    self.problem("materials")("not_an_integer", f"line {n}: {field} {word!r} is not a whole number")
            out.append({"id": f"m{len(out) + 1}", **m})
        return out

    def process(self) -> list[dict]:
        out = []
        for n, line in enumerate(_lines(self.text("process")), 1):
            name, limit, note = (_fields(line) + ["", ""])[:3]
            if len(_fields(line)) > 3:
                self.problem("process")("bad_line", f"line {n}: more than 3 fields separated by |")
            out.append({"id": f"p{n}", "name": name,
                        "limit": self.limit(limit, "process", None, line=f"line {n}: "), "note": note})
        return out

    def pairs(self, key: str, names: tuple[str, ...], prefix: str) -> list[dict]:
        out = []
        for n, line in enumerate(_lines(self.text(key)), 1):
            parts = _fields(line)
            if len(parts) > len(names):
                self.problem(key)("bad_line", f"line {n}: more than {len(names)} fields separated by |")
            parts = (parts + [""] * len(names))[:len(names)]
            if not parts[0]:
                self.problem(key)("required", f"line {n}: the {names[0]} is empty")
            out.append({"id": f"{prefix}{n}", **dict(zip(names, parts))})
        return out
