"""The item document of CONTRACT.md §2: its shape, enumerations, field groups, ids, defaults and claim copy."""
from __future__ import annotations

import hashlib
import json
from typing import Any, Literal, NotRequired, TypedDict

from items.codes import ITEM_TYPES, LEVELS, make_impl_code

# --- enumerations (CONTRACT.md §2) -----------------------------------------------------------------

STATES = ("in_use", "suspended", "cancelled")
UNITS = ("workday", "calendar_day")
HANDLING_TYPES = ("instant", "promised")
ONLINE_DEPTHS = (1, 2, 3, 4)  # 4 = 全程网办
FULL_ONLINE = 4
CHANNELS = ("window", "pc", "mobile", "express", "other")
ONLINE_CHANNELS = ("pc", "mobile")
SCOPES = ("nationwide", "cross_province", "cross_city", "cross_county")  # or null
NECESSITIES = ("required", "optional", "deferrable")
MATERIAL_SOURCES = ("applicant", "government", "other")
FORMS = ("paper", "electronic", "both")
SERVICE_OBJECTS = ("person", "enterprise", "institution", "social_org", "government", "other")
BASIS_KINDS = ("法律", "行政法规", "国务院决定", "地方性法规", "自治条例和单行条例", "规章", "部门规章",
               "地方政府规章", "规范性文件", "其他")
ITEM_TYPE_CODES = tuple(ITEM_TYPES)
LEVEL_CODES = tuple(LEVELS)

# --- maxima (docs/api.md "Input limits"); the one validator (items/rules.py) enforces them -----------
# Characters per text field, keyed by the field's JSON pointer without list indices. A place or a name
# fits a line; a note, a condition or a legal text is a paragraph or a page.
TEXT_MAX = {
    "/basic_code": 12, "/name": 200, "/item_type": 2, "/state": 20, "/levels": 1,
    "/basis/id": 64, "/basis/kind": 20, "/basis/title": 200, "/basis/article": 100, "/basis/text": 10000,
    "/legal_limit/unit": 20, "/legal_limit/note": 500, "/promised_limit/unit": 20, "/promised_limit/note": 500,
    "/service_objects": 20, "/conditions/id": 64, "/conditions/text": 2000,
    "/materials/id": 64, "/materials/name": 200, "/materials/necessity": 20, "/materials/source": 20,
    "/materials/form": 20, "/materials/e_license": 200, "/materials/note": 1000,
    "/process/id": 64, "/process/name": 100, "/process/limit/unit": 20, "/process/limit/note": 500,
    "/process/note": 1000, "/fees/id": 64, "/fees/name": 200, "/fees/standard": 1000, "/fees/basis": 1000,
    "/faq/id": 64, "/faq/question": 500, "/faq/answer": 5000,
    "/impl_code": 31, "/level": 1, "/org/credit_code": 18, "/org/name": 200, "/region_code": 12,
    "/handling_type": 20, "/channels": 20, "/scope": 20, "/location": 200, "/hours": 200,
    "/phone": 50, "/complaint_phone": 50, "/result/name": 200, "/result/kind": 50, "/aliases": 50,
}
DEFAULT_TEXT_MAX = 1000  # any other text (an unknown field is a warning, not a way to store 50 MB)
# Entries per list.
LIST_MAX = {"/basis": 100, "/levels": 7, "/service_objects": 6, "/conditions": 100, "/materials": 200,
            "/process": 50, "/fees": 50, "/faq": 100, "/channels": 5, "/aliases": 50}
DEFAULT_LIST_MAX = 100


def field_key(path: tuple) -> str:
    """The TEXT_MAX / LIST_MAX key of a field at `path` (its pointer parts): list indices dropped."""
    return "/" + "/".join(str(p) for p in path if not isinstance(p, int))


# --- field groups ----------------------------------------------------------------------------------

FOUR_SAME = ("basic_code", "name", "item_type", "basis")
CATALOGUE_OWNED = (*FOUR_SAME, "legal_limit", "state")  # the catalogue sets state too: DOMAIN.md §3
STANDARD_ELEMENTS = ("legal_limit", "service_objects", "conditions", "materials", "process", "fees", "faq")
CATALOGUE_FIELDS = ("basic_code", "name", "item_type", "basis", "levels", "state", "legal_limit",
                    "service_objects", "conditions", "materials", "process", "fees", "faq")
LOCAL_FIELDS = ("impl_code", "level", "org", "region_code", "promised_limit", "handling_type", "visits",
                "online_depth", "channels", "scope", "commitment", "location", "hours", "phone",
                "complaint_phone", "result", "aliases")
# Lists whose entries editors reorder: each entry carries an id unique in its list, with this prefix.
LIST_FIELDS = {"basis": "b", "conditions": "c", "materials": "m", "process": "p", "fees": "f", "faq": "q"}
# The fields that name an entry; an id derived from them survives edits to the entry's other fields.
ENTRY_KEY_FIELDS = {"basis": ("title", "article"), "conditions": ("text",), "materials": ("name",),
                    "process": ("name",), "fees": ("name",), "faq": ("question",)}

Kind = Literal["catalogue", "local"]


class Limit(TypedDict):
    value: float
    unit: NotRequired[Literal["workday", "calendar_day"]]
    note: NotRequired[str]


class Basis(TypedDict):
    id: str
    kind: str
    title: str
    article: NotRequired[str]
    text: NotRequired[str]


class Condition(TypedDict):
    id: str
    text: str


class Material(TypedDict):
    id: str
    name: str
    necessity: Literal["required", "optional", "deferrable"]
    source: NotRequired[Literal["applicant", "government", "other"]]
    form: NotRequired[Literal["paper", "electronic", "both"]]
    originals: NotRequired[int]
    copies: NotRequired[int]
    e_license: NotRequired[str | None]
    note: NotRequired[str]


class ProcedureStep(TypedDict):
    id: str
    name: str
    limit: NotRequired[Limit | None]
    note: NotRequired[str]


class Fee(TypedDict):
    id: str
    name: str
    standard: str
    basis: str


class Faq(TypedDict):
    id: str
    question: str
    answer: str


class Org(TypedDict):
    credit_code: str
    name: str


class Result(TypedDict):
    name: str
    kind: str


class CatalogueDocument(TypedDict):
    basic_code: str
    name: str
    item_type: str
    basis: list[Basis]
    levels: list[str]
    state: Literal["in_use", "suspended", "cancelled"]
    legal_limit: Limit | None
    service_objects: list[str]
    conditions: list[Condition]
    materials: list[Material]
    process: list[ProcedureStep]
    fees: list[Fee]
    faq: list[Faq]


class LocalDocument(CatalogueDocument, total=False):
    impl_code: str
    level: str
    org: Org
    region_code: str
    promised_limit: Limit | None
    handling_type: Literal["instant", "promised"]
    visits: int
    online_depth: int
    channels: list[str]
    scope: str | None
    commitment: bool
    location: str
    hours: str
    phone: str
    complaint_phone: str
    result: Result | None
    aliases: list[str]


# --- ids -------------------------------------------------------------------------------------------

def _entry_key(field: str, entry: dict) -> str:
    parts = [entry.get(k) for k in ENTRY_KEY_FIELDS[field]]
    if any(isinstance(p, str) and p.strip() for p in parts):
        return json.dumps(parts, ensure_ascii=False)
    # nothing names the entry: fall back on its whole content
    rest = {k: v for k, v in entry.items() if k != "id"}
    return json.dumps(rest, ensure_ascii=False, sort_keys=True, default=str)


def _has_id(entry: dict) -> bool:
    return entry.get("id") not in (None, "")


def assign_ids(doc: dict) -> dict:
    """Return `doc` (a shallow copy) in which every list entry lacking an `id` has one unique in its list.

    A new id is the list's prefix plus 8 hex digits of a hash of what names the entry (a material's
    name, a condition's text, …), so importing the same content twice yields the same ids; a clash
    gets "-2", "-3", … . Existing ids are kept as they are. Entries that are not objects are left alone.
    """
    out = dict(doc)
    for field, prefix in LIST_FIELDS.items():
        entries = out.get(field)
        if not isinstance(entries, list) or all(not isinstance(e, dict) or _has_id(e) for e in entries):
            continue  # the common case (ids present) copies nothing more
        entries = [dict(e) if isinstance(e, dict) else e for e in entries]
        out[field] = entries
        taken = {str(e["id"]) for e in entries if isinstance(e, dict) and _has_id(e)}
        for entry in entries:
            if not isinstance(entry, dict) or _has_id(entry):
                continue
            base = prefix + hashlib.sha256(_entry_key(field, entry).encode()).hexdigest()[:8]
            candidate, n = base, 1
            while candidate in taken:
                n += 1
                candidate = f"{base}-{n}"
            entry["id"] = candidate
            taken.add(candidate)
    return out


# --- defaults --------------------------------------------------------------------------------------

_LIST_DEFAULTS = ("basis", "service_objects", "conditions", "materials", "process", "fees", "faq")
_LOCAL_SCALAR_DEFAULTS: dict[str, Any] = {"promised_limit": None, "scope": None, "commitment": False,
                                          "location": "", "hours": "", "phone": "", "complaint_phone": "",
                                          "result": None}


def _trim(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list):
        return [_trim(v) for v in value]
    if isinstance(value, dict):
        return {k: _trim(v) for k, v in value.items()}
    return value


def _limit_defaults(limit: Any) -> Any:
    if isinstance(limit, dict):
        limit.setdefault("unit", "workday")  # 工作日 by default: DOMAIN.md §3
        limit.setdefault("note", "")
    return limit


def is_local(doc: dict) -> bool:
    """Return True when the document carries any local-only field (CONTRACT.md §2, second block)."""
    return any(field in doc for field in LOCAL_FIELDS)


def normalize(doc: dict, kind: Kind | None = None) -> dict:
    """Return a trimmed copy of `doc` with the defaults an import may leave out filled in.

    Missing or null lists become [], `state` "in_use", `legal_limit` null, limit units "workday" and
    notes "". For a local item (`kind="local"`, or inferred from any local-only field) also
    `promised_limit`/`scope`/`result` null, `commitment` false, empty location, hours and phones, and
    empty `channels`/`aliases`. A `levels` string such as "2,3,4" becomes a list. Pure and idempotent.
    """
    out = _trim(doc)  # _trim builds new dicts and lists, so `doc` is never changed
    if not isinstance(out, dict):
        return out
    local = is_local(out) if kind is None else kind == "local"
    for field in _LIST_DEFAULTS:
        if out.get(field) is None:
            out[field] = []
    if isinstance(out.get("levels"), str):
        out["levels"] = [p.strip() for p in out["levels"].replace("，", ",").replace("、", ",").split(",")
                         if p.strip()]
    if not local and out.get("levels") is None:
        out["levels"] = []
    if out.get("state") in (None, ""):
        out["state"] = "in_use"
    out.setdefault("legal_limit", None)
    _limit_defaults(out["legal_limit"])
    for step in out["process"] if isinstance(out["process"], list) else ():
        if isinstance(step, dict):
            step.setdefault("note", "")
            _limit_defaults(step.get("limit"))
    for material in out["materials"] if isinstance(out["materials"], list) else ():
        if isinstance(material, dict):
            if material.get("e_license") in (None, ""):  # a file's empty cell and JSON's null mean the same
                material["e_license"] = None
            material.setdefault("note", "")
    if local:
        for field, default in _LOCAL_SCALAR_DEFAULTS.items():
            out.setdefault(field, default)
        for field in ("channels", "aliases"):
            if out.get(field) is None:
                out[field] = []
        _limit_defaults(out["promised_limit"])
    return out


# --- time limits -----------------------------------------------------------------------------------

CALENDAR_TO_WORKDAYS = 5 / 7


def to_days(limit: Any) -> float | None:
    """Return a `{value, unit}` limit in working days, or None for no limit or a malformed one.

    Comparisons and statistics convert calendar days to working days by ×5/7, the common provincial
    practice; a limit without a unit is in working days (DOMAIN.md §3).
    """
    if not isinstance(limit, dict):
        return None
    value = limit.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        return None
    unit = limit.get("unit", "workday")
    if unit == "workday":
        return float(value)
    if unit == "calendar_day":
        return value * CALENDAR_TO_WORKDAYS
    return None


# --- catalogue and claim ---------------------------------------------------------------------------

def json_copy(value: Any) -> Any:
    """A deep copy of a JSON value (dicts, lists, scalars): several times cheaper than copy.deepcopy."""
    if isinstance(value, dict):
        return {k: json_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_copy(v) for v in value]
    return value


def catalogue_part(doc: dict) -> dict:
    """Return a deep copy of the first-block (catalogue) fields present in `doc`."""
    return {k: json_copy(doc[k]) for k in CATALOGUE_FIELDS if k in doc}


def local_defaults(catalogue_doc: dict, org: dict, level: str, region_code: str) -> dict:
    """Return version 1 of a local item claimed from `catalogue_doc` by `org` at `level` in `region_code`.

    Four-same fields, `state` and the standard elements (with their entry ids) come from the catalogue;
    the promised limit starts as a copy of the legal limit; an item whose legal limit is 0 starts as an
    instant item. Raises Invalid (from codes.make_impl_code) when the credit code, level or basic code
    cannot form an implementation code.
    """
    # Copied as stored, not normalized, so that the catalogue→local diff starts empty.
    source = catalogue_doc
    impl_code = make_impl_code(org.get("credit_code", ""), level, source.get("basic_code", ""))
    doc: dict[str, Any] = {k: json_copy(source[k]) for k in FOUR_SAME if k in source}
    doc["state"] = source.get("state") or "in_use"
    for field in STANDARD_ELEMENTS:
        value = json_copy(source.get(field))
        doc[field] = [] if value is None and field in _LIST_DEFAULTS else value
    legal = source.get("legal_limit")
    instant = to_days(legal) == 0
    doc.update({
        "impl_code": impl_code,
        "level": level,
        "org": {"credit_code": org.get("credit_code", ""), "name": org.get("name", "")},
        "region_code": region_code,
        "promised_limit": json_copy(legal),
        "handling_type": "instant" if instant else "promised",  # promised 0 ⇔ instant: DOMAIN.md §3
        "visits": 1,
        "online_depth": 2,
        "channels": ["window"],
        "scope": None,
        "commitment": False,
        "location": "", "hours": "", "phone": "", "complaint_phone": "",
        "result": None,
        "aliases": [],
    })
    return doc
