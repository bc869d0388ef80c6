"""JSON Schemas of the request bodies, built from the domain's own enumerations and maxima so they cannot drift."""
from __future__ import annotations

from items import model
from server.operations import obj, text
from wechat import lifecycle

ID_PATTERN = "^[A-Za-z0-9_-]+$"


def _text_at(key: str, **kw) -> dict:
    return text(model.TEXT_MAX.get(key, model.DEFAULT_TEXT_MAX), **kw)


def _list_at(key: str, items: dict) -> dict:
    return {"type": "array", "items": items, "maxItems": model.LIST_MAX.get(key, model.DEFAULT_LIST_MAX)}


def _limit(key: str) -> dict:
    return {"type": "object", "nullable": True, "required": ["value"], "properties": {
        "value": {"type": "number", "minimum": 0, "maximum": 10000},
        "unit": {"type": "string", "enum": list(model.UNITS)}, "note": _text_at(key + "/note")}}


def _entries(key: str, properties: dict, required: tuple) -> dict:
    props = {"id": _text_at(key + "/id"), **{name: _text_at(f"{key}/{name}") if schema is None else schema
                                            for name, schema in properties.items()}}
    return _list_at(key, obj(props, ("id", *required)))


def item_document() -> dict:
    """The item document of CONTRACT.md §2 with every field's type, enumeration and maximum."""
    props = {
        "basic_code": _text_at("/basic_code", pattern="^[0-9]{12}$"), "name": _text_at("/name", minLength=1),
        "item_type": {"type": "string", "enum": list(model.ITEM_TYPE_CODES)},
        "basis": _entries("/basis", {"kind": {"type": "string", "enum": list(model.BASIS_KINDS)},
                                     "title": None, "article": None, "text": None}, ("kind", "title")),
        "levels": _list_at("/levels", {"type": "string", "enum": list(model.LEVEL_CODES)}),
        "state": {"type": "string", "enum": list(model.STATES)},
        "legal_limit": _limit("/legal_limit"),
        "service_objects": _list_at("/service_objects", {"type": "string", "enum": list(model.SERVICE_OBJECTS)}),
        "conditions": _entries("/conditions", {"text": None}, ("text",)),
        "materials": _entries("/materials", {
            "name": None, "necessity": {"type": "string", "enum": list(model.NECESSITIES)},
            "source": {"type": "string", "enum": list(model.MATERIAL_SOURCES)},
            "form": {"type": "string", "enum": list(model.FORMS)},
            "originals": {"type": "integer", "minimum": 0, "maximum": 100},
            "copies": {"type": "integer", "minimum": 0, "maximum": 100},
            "e_license": _text_at("/materials/e_license", nullable=True), "note": None}, ("name", "necessity")),
        "process": _entries("/process", {"name": None, "limit": _limit("/process/limit"), "note": None}, ("name",)),
        "fees": _entries("/fees", {"name": None, "standard": None, "basis": None}, ("name", "standard", "basis")),
        "faq": _entries("/faq", {"question": None, "answer": None}, ("question", "answer")),
        "impl_code": _text_at("/impl_code"), "level": {"type": "string", "enum": list(model.LEVEL_CODES)},
        "org": obj({"credit_code": _text_at("/org/credit_code"), "name": _text_at("/org/name")},
                   ("credit_code", "name")),
        "region_code": _text_at("/region_code", pattern="^([0-9]{6}|[0-9]{12})$"),
        "promised_limit": _limit("/promised_limit"),
        "handling_type": {"type": "string", "enum": list(model.HANDLING_TYPES)},
        "visits": {"type": "integer", "minimum": 0, "maximum": 5},
        "online_depth": {"type": "integer", "enum": list(model.ONLINE_DEPTHS)},
        "channels": _list_at("/channels", {"type": "string", "enum": list(model.CHANNELS)}),
        "scope": {"type": "string", "enum": list(model.SCOPES), "nullable": True},
        "commitment": {"type": "boolean"},
        **{key: _text_at("/" + key) for key in ("location", "hours", "phone", "complaint_phone")},
        "result": obj({"name": _text_at("/result/name"), "kind": _text_at("/result/kind")}, ("name",),
                      nullable=True),
        "aliases": _list_at("/aliases", _text_at("/aliases")),
    }
    return obj(props, ("basic_code", "name", "item_type", "basis", "state"), maxProperties=64)


JSON_PATCH = {"type": "array", "maxItems": 1000, "items": obj({
    "op": {"type": "string", "enum": ["add", "remove", "replace", "move", "copy", "test"]},
    "path": text(500), "from": text(500), "value": {}}, ("op", "path"))}

COMMENT = text(2000)
APPLICATION = obj({
    "impl_code": text(31),
    "applicant": obj({"name": text(100, minLength=1), "id_number": text(18), "phone": text(20)},
                     ("name", "id_number", "phone")),
    # The form's fields come from the guide; each value is a line or a short paragraph.
    "form": {"type": "object", "maxProperties": 100, "additionalProperties": text(2000)},
    "materials": {"type": "array", "maxItems": 100, "items": obj(
        {"material_id": text(64), "file_id": text(64)}, ("material_id", "file_id"))},
}, ("impl_code", "applicant"))
RATING = obj({"level": {"type": "string", "enum": list(lifecycle.RATING_LEVELS)}, "comment": COMMENT}, ("level",))
CASE_ACTION = obj({
    "action": {"type": "string", "enum": list(lifecycle.STAFF_ACTIONS)}, "opinion": COMMENT,
    "result": {"type": "string", "enum": list(lifecycle.FINISH_RESULTS)},
    "step": obj({"name": text(100), "action": {"type": "string", "enum": ["pass", "return", "other"]},
                 "handler": text(100), "opinion": COMMENT}, ("name", "action")),
    "materials": {"type": "array", "maxItems": 100, "items": text(64)},
}, ("action",))
REVEAL = obj({"reason": text(500, minLength=4)}, ("reason",))

# --- responses: what the main operations answer (OpenAPI, and the fuzz test's conformance check) -----------

BADGES = {"type": "array", "items": obj({"code": {"type": "string"}, "label": {"type": "string"}}, ("code", "label"))}
SEARCH_RESULT = obj({
    "items": {"type": "array", "items": obj({
        "impl_code": {"type": "string"}, "name": {"type": "string"}, "org_name": {"type": "string"},
        "highlight": {"type": "string"}, "badges": BADGES}, ("impl_code", "name", "org_name", "highlight", "badges"))},
    "total": {"type": "integer", "minimum": 0}, "total_exact": {"type": "boolean"},
    "page": {"type": "integer", "minimum": 1}}, ("items", "total", "page"))
GUIDE = obj({
    "impl_code": {"type": "string"}, "guide_version": {"type": "integer", "minimum": 1}, "name": {"type": "string"},
    "basic_code": {"type": "string"}, "org": obj({"credit_code": {"type": "string"}, "name": {"type": "string"}}),
    "region_code": {"type": "string"}, "badges": BADGES}, ("impl_code", "guide_version", "name"))
ACTOR = obj({"username": {"type": "string"}, "role": {"type": "string"},
             "org": {"type": "string", "nullable": True}, "region": {"type": "string", "nullable": True}},
            ("username", "role"))
STAFF_TOKEN = obj({"token": {"type": "string"}, "expires_in": {"type": "integer"}, "user": ACTOR},
                  ("token", "expires_in", "user"))
CITIZEN_TOKEN = obj({"token": {"type": "string"}, "expires_in": {"type": "integer"}}, ("token", "expires_in"))
CASE_FILED = obj({"case_no": {"type": "string", "minLength": 43, "maxLength": 43}, "status": {"type": "string"},
                  "promised_date": {"type": "string", "nullable": True}}, ("case_no", "status"))
CASE_LIST = obj({"cases": {"type": "array", "items": {"type": "object"}}, "total": {"type": "integer"},
                 "page": {"type": "integer"}}, ("cases", "total", "page"))
LOCAL_ITEM = obj({"impl_code": {"type": "string"}, "version": {"type": "integer", "minimum": 1},
                  "status": {"type": "string", "enum": ["draft", "submitted", "approved", "published", "withdrawn"]},
                  "based_on_catalogue_version": {"type": "integer", "nullable": True},
                  "document": {"type": "object"}}, ("impl_code", "version", "status", "document"))
