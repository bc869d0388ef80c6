"""The one validator of item documents: shape, enumerations, codes and the named rules of DOMAIN.md §3."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from items import codes, model, text
from items.errors import Malformed, invalid, invalid_all

Severity = Literal["error", "warning"]

# name → (severity, description); docs and the API list these.
RULES: dict[str, tuple[Severity, str]] = {
    "required": ("error", "a required field is missing or empty"),
    "type": ("error", "a field has the wrong JSON type"),
    "enum": ("error", "a value lies outside its enumeration (CONTRACT.md §2)"),
    "unknown_field": ("warning", "a field this kind of document does not hold (CONTRACT.md §2)"),
    "basic_code_format": ("error", "the basic code is 12 digits: source, type, department, seq, sub-seq"),
    "basic_code_type": ("warning", "characters 3–4 of the basic code equal the item type"),
    "impl_code_format": ("error", "the implementation code is 31 chars: credit code, level digit, basic code"),
    "impl_code_matches": ("error", "impl_code = org.credit_code + level + basic_code"),
    "credit_code_format": ("error", "a credit code is 18 characters over 0-9A-HJ-NPQRTUWXY (GB 32100)"),
    "credit_code_check_char": ("error", "the credit code's last character is its GB 32100 check character"),
    "region_code_format": ("error", "the region code is a GB/T 2260 code of 6 or 12 digits"),
    "entry_id": ("error", "each entry of basis, conditions, materials, process, fees, faq has a non-empty id"),
    "entry_id_unique": ("error", "entry ids are unique within their list"),
    "legal_limit_value": ("error", "the legal limit's value is a non-negative number"),
    "limit_value": ("error", "promised and process-step limits have a non-negative number value"),
    "suspicious_limit": ("warning", "a limit of 500 days or more is likely a 'no limit' sentinel"),
    "promised_within_legal": ("error", "the promised limit does not exceed the legal limit (in working days)"),
    "instant_iff_zero_promised": ("error", "promised limit 0 if and only if handling type is instant"),
    "full_online_zero_visits": ("error", "online depth 4 (全程网办) means 0 visits"),
    "no_visit_needs_express": ("warning", "0 visits without full online handling needs the express channel"),
    "fee_needs_basis": ("error", "each fee has a name, a standard and a basis"),
    "phones_differ": ("warning", "the consultation phone differs from the complaint phone"),
    "visits_range": ("error", "visits is an integer from 0 to 5"),
    "material_counts": ("error", "a material's originals and copies are non-negative integers"),
    "max_length": ("error", "a text field holds at most its maximum number of characters (docs/api.md)"),
    "max_items": ("error", "a list holds at most its maximum number of entries (docs/api.md)"),
    "control_characters": ("error", "text holds no control, bidirectional or zero-width characters"),
    "unicode": ("error", "text is valid Unicode"),
    "basis_kind": ("warning", "a legal basis is tagged 法律, 行政法规, 地方性法规, 规章, 规范性文件 …"),
}

SUSPICIOUS_LIMIT = 500  # Epoint's "no legal limit" sentinel; importers turn it into null
MAX_VISITS = 5


@dataclass(frozen=True)
class Finding:
    """One problem: where (a JSON pointer), which rule, how bad, and a sentence for people."""

    path: str
    rule: str
    severity: Severity
    message: str

    def as_dict(self) -> dict:
        """Return {path, rule, severity, message}."""
        return asdict(self)


def pointer(*parts: str | int) -> str:
    """Return the RFC 6901 JSON pointer for the given keys and indexes ("" for the whole document)."""
    if not parts:
        return ""
    tokens = []
    for part in parts:
        token = part if isinstance(part, str) else str(part)
        if "~" in token or "/" in token:  # rare: escape only when needed, this runs per field checked
            token = token.replace("~", "~0").replace("/", "~1")
        tokens.append(token)
    return "/" + "/".join(tokens)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return _is_int(v) or (isinstance(v, float) and math.isfinite(v))


def _digits(phone: str) -> str:
    return "".join(c for c in phone if c.isdigit())


class _Validation:
    """Collects findings for one document; each check adds and never stops early."""

    def __init__(self, doc: dict, kind: str):
        self.doc, self.kind, self.findings = doc, kind, []
        self.legal_ok = False

    def add(self, path: str, rule: str, message: str) -> None:
        self.findings.append(Finding(path, rule, RULES[rule][0], message))

    # -- primitives --

    def present(self, key: str, required: bool) -> bool:
        """True when the top-level key is there and not null; records `required` when it must be."""
        if self.doc.get(key) is not None:
            return True
        if required:
            self.add(pointer(key), "required", f"{key} is required")
        return False

    def text(self, path: str, value: Any, name: str, *, required: bool = True) -> bool:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.add(path, "required", f"{name} is required")
            return False
        if not isinstance(value, str):
            self.add(path, "type", f"{name} must be a string")
            return False
        return True

    def choice(self, path: str, value: Any, allowed: tuple, name: str) -> bool:
        if value not in allowed or isinstance(value, bool):
            self.add(path, "enum", f"{name} must be one of {', '.join(map(str, allowed))}")
            return False
        return True

    def subset(self, key: str, allowed: tuple, *, required: bool) -> list | None:
        value = self.doc.get(key)
        if value is None or value == []:
            if required:
                self.add(pointer(key), "required", f"{key} needs at least one value")
            return None
        if not isinstance(value, list):
            self.add(pointer(key), "type", f"{key} must be a list")
            return None
        ok = [self.choice(pointer(key, i), v, allowed, key) for i, v in enumerate(value)]
        return value if all(ok) else None

    def limit(self, path: str, limit: Any, value_rule: str, name: str) -> bool:
        """Check a {value, unit, note} limit; null means no limit. True when usable in comparisons."""
        if limit is None:
            return False
        if not isinstance(limit, dict):
            self.add(path, "type", f"{name} must be an object {{value, unit, note}} or null")
            return False
        value, ok = limit.get("value"), True
        if not _is_number(value) or value < 0:
            self.add(pointer_join(path, "value"), value_rule, f"{name} value must be a non-negative number")
            ok = False
        elif value >= SUSPICIOUS_LIMIT:
            self.add(pointer_join(path, "value"), "suspicious_limit",
                     f"{name} of {value} looks like a 'no limit' sentinel; use null")
        if "unit" in limit and not self.choice(pointer_join(path, "unit"), limit["unit"], model.UNITS, "unit"):
            ok = False
        if limit.get("note") is not None and not isinstance(limit.get("note"), str):
            self.add(pointer_join(path, "note"), "type", "note must be a string")
        return ok

    def entries(self, key: str) -> list[tuple[int, dict]]:
        """Check a list of entries with ids; return (index, entry) for the entries that are objects."""
        value = self.doc.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            self.add(pointer(key), "type", f"{key} must be a list")
            return []
        seen: set[str] = set()
        good = []
        for i, entry in enumerate(value):
            if not isinstance(entry, dict):
                self.add(pointer(key, i), "type", f"each entry of {key} must be an object")
                continue
            good.append((i, entry))
            entry_id = entry.get("id")
            if not isinstance(entry_id, str) or not entry_id.strip():
                self.add(pointer(key, i, "id"), "entry_id", f"{key} entry {i} needs a non-empty string id")
            elif entry_id in seen:
                self.add(pointer(key, i, "id"), "entry_id_unique", f"id {entry_id!r} repeats in {key}")
            else:
                seen.add(entry_id)
        return good

    # -- the document --

    def run(self) -> list[Finding]:
        self.sizes()
        self.fields()
        self.codes()
        self.lists()
        if self.kind == "local":
            self.local()
        return self.findings

    def sizes(self) -> None:
        for path, rule, message in text.size_findings(self.doc):
            self.add(path, rule, message)

    def fields(self) -> None:
        allowed = model.CATALOGUE_FIELDS + (model.LOCAL_FIELDS if self.kind == "local" else ())
        for key in self.doc:
            if key not in allowed:
                self.add(pointer(key), "unknown_field", f"a {self.kind} document does not hold {key}")
        self.text(pointer("name"), self.doc.get("name"), "name")
        if self.present("item_type", True):
            self.choice(pointer("item_type"), self.doc["item_type"], model.ITEM_TYPE_CODES, "item_type")
        if self.present("state", True):
            self.choice(pointer("state"), self.doc["state"], model.STATES, "state")
        self.present("basis", True)
        self.subset("levels", model.LEVEL_CODES, required=self.kind == "catalogue")
        self.subset("service_objects", model.SERVICE_OBJECTS, required=False)
        self.legal_ok = self.limit(pointer("legal_limit"), self.doc.get("legal_limit"), "legal_limit_value",
                                   "legal limit")

    def codes(self) -> None:
        if not self.present("basic_code", True):
            return
        basic = self.doc["basic_code"]
        if not codes.is_valid_basic_code(basic):
            self.add(pointer("basic_code"), "basic_code_format", "basic_code must be 12 digits")
            return
        item_type = self.doc.get("item_type")
        if item_type in model.ITEM_TYPE_CODES and codes.basic_code_item_type(basic) != item_type:
            self.add(pointer("basic_code"), "basic_code_type",
                     f"basic_code type part {basic[2:4]} differs from item_type {item_type}")

    def lists(self) -> None:
        for i, basis in self.entries("basis"):
            self.text(pointer("basis", i, "title"), basis.get("title"), "basis title")
            kind = basis.get("kind")
            if kind not in model.BASIS_KINDS:
                self.add(pointer("basis", i, "kind"), "basis_kind", f"basis kind {kind!r} is not a known tag")
            for key in ("article", "text"):
                self.text(pointer("basis", i, key), basis.get(key), key, required=False)
        for i, condition in self.entries("conditions"):
            self.text(pointer("conditions", i, "text"), condition.get("text"), "condition text")
        for i, material in self.entries("materials"):
            self.material(i, material)
        for i, step in self.entries("process"):
            self.text(pointer("process", i, "name"), step.get("name"), "step name")
            self.limit(pointer("process", i, "limit"), step.get("limit"), "limit_value", "step limit")
        for i, fee in self.entries("fees"):
            for key in ("name", "standard", "basis"):
                value = fee.get(key)
                if not isinstance(value, str) or not value.strip():  # fee ⇒ basis and standard: DOMAIN.md §3
                    self.add(pointer("fees", i, key), "fee_needs_basis", f"fee {i} needs a {key}")
        for i, faq in self.entries("faq"):
            self.text(pointer("faq", i, "question"), faq.get("question"), "question")
            self.text(pointer("faq", i, "answer"), faq.get("answer"), "answer")

    def material(self, i: int, material: dict) -> None:
        self.text(pointer("materials", i, "name"), material.get("name"), "material name")
        if material.get("necessity") is None:
            self.add(pointer("materials", i, "necessity"), "required", "material necessity is required")
        else:
            self.choice(pointer("materials", i, "necessity"), material["necessity"], model.NECESSITIES, "necessity")
        for key, allowed in (("source", model.MATERIAL_SOURCES), ("form", model.FORMS)):
            if material.get(key) is not None:
                self.choice(pointer("materials", i, key), material[key], allowed, key)
        for key in ("originals", "copies"):
            value = material.get(key)
            if value is not None and (not _is_int(value) or value < 0):
                self.add(pointer("materials", i, key), "material_counts", f"{key} must be a non-negative integer")
        for key in ("e_license", "note"):
            self.text(pointer("materials", i, key), material.get(key), key, required=False)

    def local(self) -> None:
        doc = self.doc
        level_ok = self.present("level", True) and self.choice(pointer("level"), doc["level"],
                                                               model.LEVEL_CODES, "level")
        credit = self.org()
        if self.present("region_code", True) and not codes.is_valid_region_code(doc["region_code"]):
            self.add(pointer("region_code"), "region_code_format", "region_code must be a GB/T 2260 code")
        if self.present("impl_code", True):
            impl = doc["impl_code"]
            if not _impl_shape(impl):
                self.add(pointer("impl_code"), "impl_code_format",
                         "impl_code must be 31 chars: credit code (18) + level (1) + basic code (12)")
            elif credit is not None and level_ok and isinstance(doc.get("basic_code"), str) \
                    and impl != credit + doc["level"] + doc["basic_code"]:
                self.add(pointer("impl_code"), "impl_code_matches",
                         "impl_code must equal org.credit_code + level + basic_code")
        promised_ok = self.limit(pointer("promised_limit"), doc.get("promised_limit"), "limit_value",
                                 "promised limit")
        handling_ok = self.present("handling_type", True) and self.choice(
            pointer("handling_type"), doc["handling_type"], model.HANDLING_TYPES, "handling_type")
        visits = doc.get("visits")
        visits_ok = _is_int(visits) and 0 <= visits <= MAX_VISITS
        if visits is None:
            self.add(pointer("visits"), "required", "visits is required")
        elif not visits_ok:
            self.add(pointer("visits"), "visits_range", f"visits must be an integer from 0 to {MAX_VISITS}")
        depth_ok = self.present("online_depth", True) and self.choice(
            pointer("online_depth"), doc["online_depth"], model.ONLINE_DEPTHS, "online_depth")
        channels = self.subset("channels", model.CHANNELS, required=True)
        if doc.get("scope") is not None:
            self.choice(pointer("scope"), doc["scope"], model.SCOPES, "scope")
        if "commitment" in doc and not isinstance(doc["commitment"], bool):
            self.add(pointer("commitment"), "type", "commitment must be true or false")
        for key in ("location", "hours", "phone", "complaint_phone"):
            self.text(pointer(key), doc.get(key), key, required=False)
        self.result_and_aliases()

        if promised_ok and self.legal_ok:
            promised, legal = model.to_days(doc["promised_limit"]), model.to_days(doc["legal_limit"])
            if promised is not None and legal is not None and promised > legal + 1e-9:  # DOMAIN.md §3
                self.add(pointer("promised_limit"), "promised_within_legal",
                         f"promised limit ({promised:g} working days) exceeds the legal limit ({legal:g})")
        if handling_ok and (promised_ok or doc.get("promised_limit") is None):
            zero = promised_ok and model.to_days(doc["promised_limit"]) == 0
            if zero != (doc["handling_type"] == "instant"):  # promised 0 ⇔ 即办件: DOMAIN.md §3
                self.add(pointer("handling_type"), "instant_iff_zero_promised",
                         "an instant item promises 0 days, and a 0-day promise is an instant item")
        if depth_ok and visits_ok and doc["online_depth"] == model.FULL_ONLINE and visits != 0:
            self.add(pointer("visits"), "full_online_zero_visits", "a fully online item (depth 4) needs 0 visits")
        if visits_ok and visits == 0 and depth_ok and channels is not None and "express" not in channels:
            fully_online = doc["online_depth"] == model.FULL_ONLINE and any(
                c in channels for c in model.ONLINE_CHANNELS)
            if not fully_online:
                self.add(pointer("channels"), "no_visit_needs_express",
                         "with 0 visits and no full online handling, results must go out by express")
        phone, complaint = doc.get("phone"), doc.get("complaint_phone")
        if isinstance(phone, str) and isinstance(complaint, str) and _digits(phone) \
                and _digits(phone) == _digits(complaint):
            self.add(pointer("complaint_phone"), "phones_differ",
                     "the complaint phone should differ from the consultation phone")

    def org(self) -> str | None:
        """Check org {credit_code, name}; return the credit code when it is well-formed."""
        if not self.present("org", True):
            return None
        org = self.doc["org"]
        if not isinstance(org, dict):
            self.add(pointer("org"), "type", "org must be an object {credit_code, name}")
            return None
        self.text(pointer("org", "name"), org.get("name"), "org name")
        credit = org.get("credit_code")
        if not self.text(pointer("org", "credit_code"), credit, "org credit_code"):
            return None
        if len(credit) != 18 or any(c not in codes.CREDIT_ALPHABET for c in credit):
            self.add(pointer("org", "credit_code"), "credit_code_format",
                     "credit_code must be 18 characters over 0-9A-HJ-NPQRTUWXY")
            return None
        if not codes.is_valid_credit_code(credit):
            self.add(pointer("org", "credit_code"), "credit_code_check_char",
                     f"credit_code check character should be {codes.credit_code_check_char(credit[:17])}")
        return credit

    def result_and_aliases(self) -> None:
        result = self.doc.get("result")
        if result is not None:
            if not isinstance(result, dict):
                self.add(pointer("result"), "type", "result must be an object {name, kind} or null")
            else:
                self.text(pointer("result", "name"), result.get("name"), "result name")
                self.text(pointer("result", "kind"), result.get("kind"), "result kind", required=False)
        aliases = self.doc.get("aliases")
        if aliases is not None and not isinstance(aliases, list):
            self.add(pointer("aliases"), "type", "aliases must be a list of strings")
        elif aliases:
            for i, alias in enumerate(aliases):
                self.text(pointer("aliases", i), alias, "alias")


def pointer_join(base: str, *parts: str | int) -> str:
    """Return the pointer `base` extended by `parts`."""
    return base + pointer(*parts)


def _impl_shape(impl: Any) -> bool:
    # The check character is reported once, at /org/credit_code; here only the shape counts.
    return (isinstance(impl, str) and len(impl) == 31 and all(c in codes.CREDIT_ALPHABET for c in impl[:18])
            and codes.is_valid_level(impl[18]) and codes.is_valid_basic_code(impl[19:]))


def validate(doc: Any, kind: str) -> list[Finding]:
    """Return every finding for `doc` as a `kind` ("catalogue" or "local") document, errors and warnings.

    Raises Malformed when `kind` is neither. A document that is not an object gives one `type` finding.
    """
    if kind not in ("catalogue", "local"):
        raise invalid(f"unknown document kind {kind!r}", "kind", "one_of", code="unknown_document_kind",
                      kind=Malformed, allowed=["catalogue", "local"])
    if not isinstance(doc, dict):
        return [Finding("", "type", "error", "an item document must be a JSON object")]
    return _Validation(doc, kind).run()


def errors_of(findings: list[Finding]) -> list[Finding]:
    """Return the findings of severity "error"."""
    return [f for f in findings if f.severity == "error"]


def warnings_of(findings: list[Finding]) -> list[Finding]:
    """Return the findings of severity "warning"."""
    return [f for f in findings if f.severity == "warning"]


def raise_if_errors(findings: list[Finding]) -> list[Finding]:
    """Return the warnings when there is no error; raise Invalid("validation_failed") listing all otherwise.

    details = {"errors": [finding dicts], "warnings": [finding dicts]}.
    """
    errors, warnings = errors_of(findings), warnings_of(findings)
    if errors:
        first = errors[0]
        raise invalid_all(f"{len(errors)} validation error(s); first at {first.path or '/'}: {first.message}",
                          [f.as_dict() for f in errors], warnings=[f.as_dict() for f in warnings])
    return warnings
