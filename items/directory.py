"""The province directory: regions (GB/T 2260) and departments (GB 32100 credit codes), their rules and use cases."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from items import codes, store
from items.errors import Conflict, NotFound, invalid_all, rule_error
from items.scope import Actor, region_prefix, require_role

# A region's kind by its code → the GB/T 39046 level digit stored with it (DOMAIN.md §2).
REGION_LEVEL_DIGITS = {"province": "2", "city": "3", "county": "4", "township": "5"}
_LEVEL_WORDS = {**{digit: digit for digit in REGION_LEVEL_DIGITS.values()}, **REGION_LEVEL_DIGITS,
                "省": "2", "省级": "2", "市": "3", "市级": "3", "县": "4", "县级": "4", "区县": "4",
                "乡镇": "5", "乡镇街道": "5", "乡级": "5"}
_KIND_OF_DIGIT = {digit: kind for kind, digit in REGION_LEVEL_DIGITS.items()}
REGION_FIELDS = ("code", "name", "parent", "level")
DEPARTMENT_FIELDS = ("credit_code", "name", "region_code", "level")

RegionLookup = Callable[[str], "dict | None"]


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _short_code(code: str) -> str:
    # a 12-digit code ending in 000000 names the same place as its 6-digit prefix (items/codes.py)
    if len(code) == 12 and codes.region_level(code) in ("province", "city", "county"):
        return code[:6]
    return code


def type_errors(body: dict, fields: tuple[str, ...]) -> list[dict]:
    """Unknown fields and non-text values of a JSON body (codes are strings, always: README)."""
    errors = [rule_error("/" + k, "unknown_field", f"{k} is not a field; use {', '.join(fields)}") for k in body
              if k not in fields]
    errors += [rule_error("/" + k, "type", f"{k} must be text") for k in fields
               if body.get(k) is not None and not isinstance(body[k], str)]
    return errors


def check_region(fields: dict, find_region: RegionLookup) -> tuple[dict | None, list[dict]]:
    """The region `fields` describe, normalised, and the rules it breaks as {path, rule, message}.

    The code says the kind (province … township) and so the level; the parent (the code's structural
    parent when not given) must exist and contain the code.
    """
    errors: list[dict] = []
    code, name = _text(fields.get("code")), _text(fields.get("name"))
    kind = codes.region_level(code) if code else None
    if not code:
        errors.append(rule_error("/code", "required", "code is required"))
    elif kind is None:
        errors.append(rule_error("/code", "region_code", f"{code} is not a GB/T 2260 code (6 or 12 digits)"))
    elif kind not in REGION_LEVEL_DIGITS:
        errors.append(rule_error("/code", "region_level",
                                 "the directory keeps provinces, cities, counties and townships"))
    code = _short_code(code)
    level = REGION_LEVEL_DIGITS.get(kind or "")
    given_level = _text(fields.get("level"))
    if given_level and level and _LEVEL_WORDS.get(given_level.lower()) != level:
        errors.append(rule_error("/level", "level_matches_code", f"{code} is a {kind}: level {level}"))
    if not name:
        errors.append(rule_error("/name", "required", "name is required"))
    elif len(name) > 100:
        errors.append(rule_error("/name", "name_length", "at most 100 characters"))
    parent = _short_code(_text(fields.get("parent")))
    if kind == "province":
        if parent:
            errors.append(rule_error("/parent", "province_has_no_parent", "a province has no parent region"))
        parent = ""
    elif level:
        parent = parent or codes.parent_region(code) or ""
        errors += _parent_errors(code, parent, find_region)
    region = {"code": code, "name": name, "parent": parent or None, "level": level}
    return (None if errors else region), errors


def _parent_errors(code: str, parent: str, find_region: RegionLookup) -> list[dict]:
    if not codes.is_valid_region_code(parent):
        return [rule_error("/parent", "region_code", f"{parent} is not a GB/T 2260 code")]
    found = find_region(parent)
    if found is None:
        return [rule_error("/parent", "parent_exists", f"parent region {parent} is not in the directory")]
    # containment also puts the parent above: a county directly under its province (429004) is fine
    if parent == code or not codes.region_contains(parent, code):
        return [rule_error("/parent", "parent_contains", f"{parent} does not contain {code}")]
    return []


def check_department(fields: dict, find_region: RegionLookup) -> tuple[dict | None, list[dict]]:
    """The department `fields` describe, normalised, and the rules it breaks as {path, rule, message}.

    The credit code carries a valid GB 32100 check character; the region exists; the level (the
    region's when not given) is the GB/T 39046 digit of the region's level.
    """
    errors: list[dict] = []
    credit = _text(fields.get("credit_code")).upper()
    if not credit:
        errors.append(rule_error("/credit_code", "required", "credit_code is required"))
    elif not codes.credit_code_check_char(credit[:17]) or len(credit) != 18:
        errors.append(rule_error("/credit_code", "credit_code_format",
                             "18 characters over 0-9 and A-Z without I, O, S, V, Z (GB 32100)"))
    elif not codes.is_valid_credit_code(credit):
        errors.append(rule_error("/credit_code", "credit_code_check_char",
                             f"the check character should be {codes.credit_code_check_char(credit[:17])}"))
    name = _text(fields.get("name"))
    if not name:
        errors.append(rule_error("/name", "required", "name is required"))
    elif len(name) > 200:
        errors.append(rule_error("/name", "name_length", "at most 200 characters"))
    region_code = _short_code(_text(fields.get("region_code")))
    region = None
    if not region_code:
        errors.append(rule_error("/region_code", "required", "region_code is required"))
    elif not codes.is_valid_region_code(region_code):
        errors.append(rule_error("/region_code", "region_code", f"{region_code} is not a GB/T 2260 code"))
    else:
        region = find_region(region_code)
        if region is None:
            errors.append(rule_error("/region_code", "region_exists", f"region {region_code} is not in the directory"))
    level = _text(fields.get("level"))
    if level and not codes.is_valid_level(level):
        errors.append(rule_error("/level", "enum", "a GB/T 39046 level digit 1 … 7"))
    elif region is not None:
        if level and level != region["level"]:
            errors.append(rule_error("/level", "level_matches_region",
                                 f"a department of {region_code} is level {region['level']}"))
        level = region["level"]
    department = {"credit_code": credit, "name": name, "region_code": region_code, "level": level}
    return (None if errors else department), errors


def region_view(record) -> dict:
    return {"code": record.code, "name": record.name, "parent": record.parent, "level": record.level,
            "kind": _KIND_OF_DIGIT.get(record.level)}


def department_view(record) -> dict:
    return {"credit_code": record.credit_code, "name": record.name, "region_code": record.region_code,
            "level": record.level}


def region_lookup() -> RegionLookup:
    """A lookup of stored regions as {code, level, …} (one query per call; a use case's transaction)."""
    def find(code: str) -> dict | None:
        record = store.get_region(code)
        return region_view(record) if record else None
    return find


def _page(rows: list[dict], total: int, key: str, page: int, size: int) -> dict:
    return {key: rows, "total": total, "page": page, "size": size}


@dataclass(frozen=True)
class _Register:
    """What differs between the two registers the service writes alike: regions and departments."""
    what: str                                   # the entry's word in codes and audit actions
    key: str                                    # the field that names an entry and never changes
    fields: tuple[str, ...]
    immutable: str                              # why the key cannot change
    find: Callable[[str], object]
    make_view: Callable[[object], dict]
    check: Callable[[dict, RegionLookup], tuple[dict | None, list[dict]]]
    write: Callable[[dict], None]
    references: Callable[[str], dict]
    delete: Callable[[str], None]
    recomputed: dict = field(default_factory=dict)  # fields an update derives again unless given
    extra_errors: Callable[[dict], list[dict]] = lambda entry: []
    guarded: Callable[[dict], object] = lambda entry: None  # what may not change while the entry is in use

    def view(self, key: str) -> dict:
        """The entry named `key`. Raises NotFound({what}_not_found)."""
        record = self.find(key)
        if record is None:
            raise NotFound(f"no {self.what} {key}", code=f"{self.what}_not_found", details={self.key: key})
        return self.make_view(record)


def _name_taken(department: dict) -> list[dict]:
    others = [c for c in store.orgs_named(department["name"], department["region_code"])
              if c != department["credit_code"]]
    return [rule_error("/name", "name_unique_in_region",
                   f"{department['region_code']} has a department called {department['name']}")] if others else []


_REGIONS = _Register(
    "region", "code", REGION_FIELDS, "the code names the region; create another", store.get_region, region_view,
    check_region, lambda r: store.ensure_region(r["code"], r["name"], r["parent"], r["level"]),
    store.region_references, store.delete_region)
_DEPARTMENTS = _Register(
    "department", "credit_code", DEPARTMENT_FIELDS, "the credit code names the department; create another",
    store.get_org, department_view, check_department,
    lambda d: store.ensure_org(d["credit_code"], d["name"], d["region_code"], d["level"]),
    store.org_references, store.delete_org, recomputed={"level": None}, extra_errors=_name_taken,
    # its implementation codes and its staff's scope follow from its region and level
    guarded=lambda d: (d["region_code"], d["level"]))


class DirectoryService:
    """Regions and departments: every staff member reads them; province admins write them."""

    def list_regions(self, parent=None, level=None, within=None, q=None, page=1, size=50) -> dict:
        """One page of regions `{regions, total, page, size}`; `within` a region code (it and below)."""
        records, total = store.find_regions(parent, level, region_prefix(within) if within else None, q,
                                            size, (page - 1) * size)
        return _page([region_view(r) for r in records], total, "regions", page, size)

    def get_region(self, code: str) -> dict:
        """One region. Raises NotFound(region_not_found)."""
        return _REGIONS.view(code)

    def save_region(self, code: str | None, body: dict, actor: Actor, remote_ip: str = "") -> dict:
        """Create (code None: 201; 409 region_exists) or update one region → the region.

        An update takes the fields it is given (name, parent, level) over the stored ones; the code
        is the region's identity and never changes. Raises Invalid naming field and rule.
        """
        return self._save(_REGIONS, code, body, actor, remote_ip)

    def delete_region(self, code: str, actor: Actor, remote_ip: str = "") -> None:
        """Delete a region nothing refers to. Raises NotFound, Conflict(region_in_use) with the counts."""
        self._delete(_REGIONS, code, actor, remote_ip)

    def list_departments(self, within=None, region=None, level=None, q=None, page=1, size=50) -> dict:
        """One page of departments `{departments, total, page, size}`; `within` a region (it and below)."""
        records, total = store.find_orgs(region_prefix(within) if within else None, region, level, q,
                                         size, (page - 1) * size)
        return _page([department_view(r) for r in records], total, "departments", page, size)

    def get_department(self, credit_code: str) -> dict:
        """One department. Raises NotFound(department_not_found)."""
        return _DEPARTMENTS.view(credit_code)

    def save_department(self, credit_code: str | None, body: dict, actor: Actor, remote_ip: str = "") -> dict:
        """Create (credit_code None; 409 department_exists) or update one department → the department.

        Its region and level stay while staff or local items refer to it (409 department_in_use): its
        implementation codes and its staff's scope follow from them. Raises Invalid naming field and rule.
        """
        return self._save(_DEPARTMENTS, credit_code, body, actor, remote_ip)

    def delete_department(self, credit_code: str, actor: Actor, remote_ip: str = "") -> None:
        """Delete a department nothing refers to. Raises NotFound, Conflict(department_in_use)."""
        self._delete(_DEPARTMENTS, credit_code, actor, remote_ip)

    def _save(self, register: _Register, key: str | None, body: dict, actor: Actor, remote_ip: str) -> dict:
        """The one write path of both registers: check, refuse a clash, write, audit → the entry."""
        require_role(actor, "province_admin")
        errors = type_errors(body, register.fields)
        if errors:
            raise invalid_all(f"the {register.what} is not valid", errors)
        with store.transaction():
            previous = None if key is None else register.view(key)
            fields = body
            if previous is not None:
                if body.get(register.key) not in (None, key):
                    raise invalid_all(f"the {register.what} is not valid",
                                      [rule_error("/" + register.key, "immutable", register.immutable)])
                # A department's level is derived again from its region unless the update names one.
                fields = {**previous, **register.recomputed,
                          **{k: v for k, v in body.items() if k in register.fields}, register.key: key}
            entry, errors = register.check(fields, region_lookup())
            errors += register.extra_errors(entry) if entry else []
            if errors:
                raise invalid_all(f"the {register.what} is not valid", errors)
            if previous is None and register.find(entry[register.key]) is not None:
                raise Conflict(f"{register.what} {entry[register.key]} exists; update it instead",
                               code=f"{register.what}_exists", details={register.key: entry[register.key]})
            if previous is not None and register.guarded(previous) != register.guarded(entry):
                references = register.references(key)
                if references:
                    raise Conflict(f"a {register.what} in use keeps its region and level",
                                   code=f"{register.what}_in_use", details={"references": references})
            register.write(entry)
            action = f"{register.what}.{'create' if previous is None else 'update'}"
            store.audit(actor.username, action, entry[register.key], remote_ip, _changes(previous, entry))
        return register.view(entry[register.key])

    def _delete(self, register: _Register, key: str, actor: Actor, remote_ip: str) -> None:
        require_role(actor, "province_admin")
        with store.transaction():
            previous = register.view(key)
            references = register.references(key)
            if references:
                raise Conflict(f"{register.what} {key} is still in use", code=f"{register.what}_in_use",
                               details={"references": references})
            register.delete(key)
            store.audit(actor.username, f"{register.what}.delete", key, remote_ip, {register.what: previous})


def _changes(previous: dict | None, current: dict) -> dict:
    """Audit details: the whole new record, or {field: [old, new]} of what an update changed."""
    if previous is None:
        return {"created": current}
    return {"changed": {k: [previous.get(k), v] for k, v in current.items() if previous.get(k) != v}}
