"""Guide quality checks editors run before publishing (DOMAIN.md §3), beyond the validator's rules."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from items.model import to_days

# name → (severity, description); the API lists these beside the validator's RULES.
CHECKS: dict[str, tuple[str, str]] = {
    "material_added_without_reason": (
        "warning", "a material the catalogue does not require needs a reason in its note (层层加码)"),
    "promised_not_shorter": (
        "warning", "the promised limit is not shorter than the legal limit: nothing is compressed"),
    "missing_phone": ("warning", "the guide gives no consultation phone"),
    "missing_complaint_phone": ("warning", "the guide gives no complaint phone"),
    "missing_location": ("warning", "the guide gives no place to handle the item"),
    "missing_hours": ("warning", "the guide gives no office hours"),
    "material_without_source": ("warning", "a material does not say where it comes from"),
}


@dataclass(frozen=True)
class LintFinding:
    """One quality problem: where (a JSON pointer), which check, how bad, and a sentence for editors."""

    path: str
    check: str
    severity: str
    message: str

    def as_dict(self) -> dict:
        """Return {path, check, severity, message}."""
        return asdict(self)


def _finding(path: str, check: str, message: str) -> LintFinding:
    return LintFinding(path, check, CHECKS[check][0], message)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def _blank(value: object) -> bool:
    return not (isinstance(value, str) and value.strip())


def _materials(doc: dict) -> list[tuple[int, dict]]:
    materials = doc.get("materials")
    if not isinstance(materials, list):
        return []
    return [(i, m) for i, m in enumerate(materials) if isinstance(m, dict)]


def _material_names(doc: dict | None) -> tuple[set, set]:
    ids, names = set(), set()
    for _, material in _materials(doc or {}):
        ids.add(_text(material.get("id")))
        names.add(_text(material.get("name")))
    return ids - {""}, names - {""}


def lint(document: dict, catalogue_document: dict | None = None) -> list[LintFinding]:
    """Return the quality findings of a local item's guide, each a LintFinding (never raises).

    With `catalogue_document` (the catalogue version the item follows) a material the catalogue does
    not list, by id or by name, needs a reason: a non-empty `note` counts as one (层层加码: DOMAIN.md §3).
    """
    if not isinstance(document, dict):
        return []
    findings: list[LintFinding] = []
    if catalogue_document is not None:
        catalogue_ids, catalogue_names = _material_names(catalogue_document)
        for i, material in _materials(document):
            known = _text(material.get("id")) in catalogue_ids or _text(material.get("name")) in catalogue_names
            if not known and _blank(material.get("note")):
                findings.append(_finding(f"/materials/{i}", "material_added_without_reason",
                                         f"材料「{_text(material.get('name'))}」不在基本目录中，须在备注中说明理由"))
    legal, promised = to_days(document.get("legal_limit")), to_days(document.get("promised_limit"))
    # promised ≤ legal is the validator's error; equal limits compress nothing: DOMAIN.md §3-§4
    if legal is not None and promised is not None and legal > 0 and promised >= legal:
        findings.append(_finding("/promised_limit", "promised_not_shorter",
                                 "承诺时限未短于法定时限"))
    for field, check, label in (("phone", "missing_phone", "咨询电话"),
                                ("complaint_phone", "missing_complaint_phone", "投诉电话"),
                                ("location", "missing_location", "办理地点"),
                                ("hours", "missing_hours", "办公时间")):
        if _blank(document.get(field)):
            findings.append(_finding(f"/{field}", check, f"缺少{label}"))
    for i, material in _materials(document):
        if _blank(material.get("source")):
            findings.append(_finding(f"/materials/{i}/source", "material_without_source",
                                     f"材料「{_text(material.get('name'))}」未注明来源"))
    return findings
