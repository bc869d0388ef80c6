"""The item editor's form: element sections, form fields ↔ the item document, and list-entry moves.

The form carries the whole draft, so adding, removing or moving a list entry is a round trip that
loses nothing and needs no JavaScript. Values are taken as typed; judging them is items/rules.py's job.
"""
from __future__ import annotations

import dataclasses
import secrets

from items import model
from server.console.labels import FIELD_LABELS, VALUE_LABELS, UNIT_LABELS


@dataclasses.dataclass(frozen=True)
class Field:
    """One control: `key` is the document path in dots (promised_limit.value), `kind` text | number |
    select | textarea | checkboxes | bool | list_text."""
    key: str
    label: str
    kind: str = "text"
    choices: tuple = ()
    hint: str = ""

    @property
    def path(self) -> str:
        return "/" + self.key.replace(".", "/")


@dataclasses.dataclass(frozen=True)
class ListSection:
    """A list element whose entries carry ids (conditions, materials …), edited entry by entry."""
    key: str
    title: str
    noun: str
    fields: tuple[Field, ...]


@dataclasses.dataclass(frozen=True)
class Section:
    key: str
    title: str
    fields: tuple[Field, ...]


def _choices(field: str, values) -> tuple:
    return tuple((v, VALUE_LABELS[field].get(v, str(v))) for v in values)


UNITS = tuple((u, UNIT_LABELS[u]) for u in model.UNITS)
YES_NO = (("false", "否"), ("true", "是"))

SECTIONS: tuple[Section | ListSection, ...] = (
    Section("limits", "办理时限", (
        Field("promised_limit.value", "承诺办结时限", "number", hint="填写数字；即办件填0"),
        Field("promised_limit.unit", "承诺时限单位", "select", UNITS),
        Field("promised_limit.note", "承诺时限说明"),
        Field("handling_type", FIELD_LABELS["handling_type"], "select",
              _choices("handling_type", model.HANDLING_TYPES)),
    )),
    Section("handling", "办理方式", (
        Field("visits", FIELD_LABELS["visits"], "number", hint="0到5次"),
        Field("online_depth", FIELD_LABELS["online_depth"], "select", _choices("online_depth", model.ONLINE_DEPTHS)),
        Field("channels", FIELD_LABELS["channels"], "checkboxes", _choices("channels", model.CHANNELS)),
        Field("scope", FIELD_LABELS["scope"], "select", (("", "不通办"),) + _choices("scope", model.SCOPES)),
        Field("commitment", "支持告知承诺", "bool", YES_NO),
        Field("service_objects", FIELD_LABELS["service_objects"], "checkboxes",
              _choices("service_objects", model.SERVICE_OBJECTS)),
    )),
    ListSection("conditions", "受理条件", "受理条件", (Field("text", "条件内容", "textarea"),)),
    ListSection("materials", "申请材料", "材料", (
        Field("name", "材料名称"),
        Field("necessity", "必要性", "select", _choices("necessity", model.NECESSITIES)),
        Field("source", "材料来源", "select", _choices("source", model.MATERIAL_SOURCES)),
        Field("form", "材料形式", "select", _choices("form", model.FORMS)),
        Field("originals", "原件份数", "number"),
        Field("copies", "复印件份数", "number"),
        Field("e_license", "电子证照名称", hint="可从电子证照库调取时填写"),
        Field("note", "备注（增加目录外材料须说明理由）"),
    )),
    ListSection("process", "办理流程", "环节", (
        Field("name", "环节名称"),
        Field("limit.value", "环节时限", "number"),
        Field("limit.unit", "环节时限单位", "select", UNITS),
        Field("note", "环节说明"),
    )),
    ListSection("fees", "收费", "收费项目", (
        Field("name", "收费项目名称"), Field("standard", "收费标准"), Field("basis", "收费依据"),
    )),
    Section("place", "办理地点与咨询", (
        Field("location", FIELD_LABELS["location"]), Field("hours", FIELD_LABELS["hours"]),
        Field("phone", FIELD_LABELS["phone"]), Field("complaint_phone", FIELD_LABELS["complaint_phone"]),
    )),
    Section("result", "办理结果", (
        Field("result.name", "结果名称", hint="如：建筑工程施工许可证"),
        Field("result.kind", "结果类型", hint="如：证照、批文"),
        Field("aliases", FIELD_LABELS["aliases"], "list_text", hint="多个名称用逗号分隔，如：办施工许可证"),
    )),
    ListSection("faq", "常见问题", "问题", (Field("question", "问题", "textarea"), Field("answer", "解答", "textarea"))),
)
LIST_SECTIONS = {s.key: s for s in SECTIONS if isinstance(s, ListSection)}


# --- reading values --------------------------------------------------------------------------------

def get_in(doc, key: str):
    """The value at a dotted key, None when a part is missing."""
    value = doc
    for part in key.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _set_in(doc: dict, key: str, value) -> None:
    parts = key.split(".")
    target = doc
    for part in parts[:-1]:
        if not isinstance(target.get(part), dict):
            target[part] = {}
        target = target[part]
    target[parts[-1]] = value


def shown(field: Field, value) -> str:
    """The text a control shows for a value (numbers as typed, None as empty)."""
    if value is None:
        return ""
    if field.kind == "list_text":
        return "，".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else str(value)
    if field.kind == "bool":
        return "true" if value is True else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _parse(field: Field, raw: str):
    """A typed value from the text of a control; text that is not a number stays text so the rule
    engine names the problem beside the field instead of the page guessing."""
    raw = raw.strip()
    if field.kind == "number":
        if raw == "":
            return None
        try:
            return float(raw) if "." in raw else int(raw)
        except ValueError:
            return raw
    if field.kind == "select" and field.choices and isinstance(field.choices[0][0], int):
        try:
            return int(raw)
        except ValueError:
            return raw or None
    if field.kind == "select" and raw == "":
        return None
    if field.kind == "bool":
        return raw == "true"
    if field.kind == "list_text":
        return [p.strip() for p in raw.replace("，", ",").replace("、", ",").split(",") if p.strip()]
    return raw


# --- form → document -------------------------------------------------------------------------------

def document_from_form(base: dict, arguments) -> dict:
    """The draft: `base` (the version the editor loaded) with every editable element taken from the
    form. `arguments(name)` returns the list of values posted under a name."""
    doc = model.json_copy(base)
    for section in SECTIONS:
        if isinstance(section, ListSection):
            doc[section.key] = _entries_from_form(section, base.get(section.key), arguments)
            continue
        for field in section.fields:
            values = arguments(field.key)
            if field.kind == "checkboxes":
                _set_in(doc, field.key, [_parse(Field("x", "", "select", field.choices), v) for v in values])
            else:
                _set_in(doc, field.key, _parse(field, values[0] if values else ""))
    if isinstance(doc.get("promised_limit"), dict) and doc["promised_limit"].get("value") is None:
        doc["promised_limit"] = None  # an empty promise is "no promised limit", not a broken limit
    if isinstance(doc.get("result"), dict) and not any(doc["result"].values()):
        doc["result"] = None
    return doc


def _entries_from_form(section: ListSection, base_entries, arguments) -> list[dict]:
    ids = arguments(f"{section.key}.id")
    columns = {f.key: arguments(f"{section.key}.{f.key}") for f in section.fields}
    known = {e.get("id"): e for e in base_entries or () if isinstance(e, dict)}
    out = []
    for n, entry_id in enumerate(ids):
        entry = model.json_copy(known.get(entry_id, {}))  # fields the form does not show stay as they were
        entry["id"] = entry_id
        for field in section.fields:
            values = columns[field.key]
            value = _parse(field, values[n] if n < len(values) else "")
            if value == "" and get_in(entry, field.key) is None:
                value = None  # an empty box over a null (e.g. no e-licence) is no change
            _set_in(entry, field.key, value)
        if section.key == "process" and isinstance(entry.get("limit"), dict) and entry["limit"].get("value") is None:
            entry["limit"] = None
        out.append(entry)
    return out


# --- list operations -------------------------------------------------------------------------------

def new_entry(section: ListSection, taken: set[str]) -> dict:
    """An empty entry with a fresh id unique in its list (CONTRACT.md §2: ids are stable per entry)."""
    prefix = model.LIST_FIELDS[section.key]
    entry_id = prefix + secrets.token_hex(4)
    while entry_id in taken:
        entry_id = prefix + secrets.token_hex(4)
    entry: dict = {"id": entry_id}
    for field in section.fields:
        value = field.choices[0][0] if field.kind == "select" and field.choices else None
        if field.kind == "number":
            value = 1 if field.key in ("originals",) else 0 if field.key == "copies" else None
        elif field.kind in ("text", "textarea"):
            value = ""
        _set_in(entry, field.key, value)
    return entry


def apply_list_op(doc: dict, op: str) -> tuple[dict, str]:
    """Apply `add:<list>`, `remove:<list>:<index>`, `up:<list>:<index>` or `down:<list>:<index>` to the
    draft → (draft, what happened in words). Unknown operations change nothing."""
    parts = op.split(":")
    section = LIST_SECTIONS.get(parts[1]) if len(parts) > 1 else None
    if section is None:
        return doc, ""
    entries = list(doc.get(section.key) or [])
    if parts[0] == "add":
        entries.append(new_entry(section, {e.get("id") for e in entries if isinstance(e, dict)}))
        doc[section.key] = entries
        return doc, f"已添加{section.noun}第{len(entries)}项（尚未保存）"
    try:
        index = int(parts[2])
    except (IndexError, ValueError):
        return doc, ""
    if not 0 <= index < len(entries):
        return doc, ""
    if parts[0] == "remove":
        entries.pop(index)
        message = f"已删除{section.noun}第{index + 1}项（尚未保存）"
    elif parts[0] in ("up", "down"):
        other = index - 1 if parts[0] == "up" else index + 1
        if not 0 <= other < len(entries):
            return doc, ""
        entries[index], entries[other] = entries[other], entries[index]
        message = f"已将{section.noun}第{index + 1}项移到第{other + 1}项（尚未保存）"
    else:
        return doc, ""
    doc[section.key] = entries
    return doc, message


# --- where findings go -----------------------------------------------------------------------------

def control_id(path: str) -> str:
    """The HTML id of the control for a JSON pointer: /materials/0/name → f-materials-0-name."""
    return "f" + path.replace("/", "-").replace(".", "-")


def control_ids(doc: dict) -> set[str]:
    """The ids of every control the editor shows for this draft (a finding elsewhere goes to the summary)."""
    ids = set()
    for section in SECTIONS:
        if isinstance(section, ListSection):
            for n, _ in enumerate(doc.get(section.key) or []):
                ids |= {control_id(f"/{section.key}/{n}/{f.key.replace('.', '/')}") for f in section.fields}
        else:
            ids |= {control_id(f.path) for f in section.fields}
    return ids


def finding_target(path: str, ids: set[str]) -> str | None:
    """The control a finding at `path` belongs beside: the control itself, else its nearest parent
    (/promised_limit → the promised value control), else None (shown in the summary only)."""
    candidate = control_id(path)
    if candidate in ids:
        return candidate
    for suffix in ("-value", "-name", "-text", "-question"):
        if candidate + suffix in ids:
            return candidate + suffix
    parts = path.rstrip("/").split("/")
    while len(parts) > 1:
        parts.pop()
        parent = control_id("/".join(parts))
        if parent in ids:
            return parent
    return None
