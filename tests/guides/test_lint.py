"""Guide checks before publishing (DOMAIN.md §3): 层层加码 needs a reason, uncompressed limits, missing
contact details, materials without source."""
from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from guides.lint import CHECKS, lint

CATALOGUE = {"materials": [{"id": "m1", "name": "申请表", "necessity": "required", "source": "applicant"}],
             "legal_limit": {"value": 15, "unit": "workday"}}
GOOD = {
    "materials": [{"id": "m1", "name": "申请表", "necessity": "required", "source": "applicant", "note": ""}],
    "legal_limit": {"value": 15, "unit": "workday"}, "promised_limit": {"value": 5, "unit": "workday"},
    "phone": "0375-1234567", "complaint_phone": "12345", "location": "卫东区政务服务中心", "hours": "9:00-17:00",
}


def checks(document, catalogue=CATALOGUE) -> set[tuple[str, str]]:
    return {(f.check, f.path) for f in lint(document, catalogue)}


def with_material(**material) -> dict:
    doc = copy.deepcopy(GOOD)
    doc["materials"].append(dict({"id": "m9", "name": "无犯罪记录证明", "necessity": "required",
                                  "source": "government"}, **material))
    return doc


def test_a_complete_guide_has_no_findings():
    assert lint(GOOD, CATALOGUE) == []


def test_a_material_the_catalogue_does_not_require_needs_a_reason():
    assert ("material_added_without_reason", "/materials/1") in checks(with_material(note=""))


def test_a_note_counts_as_the_reason():
    assert checks(with_material(note="依据省住建厅文件要求")) == set()


def test_a_catalogue_material_under_a_new_id_is_recognised_by_name():
    doc = copy.deepcopy(GOOD)
    doc["materials"][0]["id"] = "m-renamed"
    assert checks(doc) == set()


def test_without_the_catalogue_added_materials_are_not_judged():
    assert not {c for c, _ in checks(with_material(note=""), None)} & {"material_added_without_reason"}


def test_a_promised_limit_equal_to_the_legal_one_is_flagged():
    doc = dict(GOOD, promised_limit={"value": 15, "unit": "workday"})
    assert checks(doc) == {("promised_not_shorter", "/promised_limit")}


def test_calendar_days_are_compared_in_working_days():
    # 21 自然日 = 15 工作日 (×5/7): not shorter
    doc = dict(GOOD, promised_limit={"value": 21, "unit": "calendar_day"})
    assert ("promised_not_shorter", "/promised_limit") in checks(doc)


def test_no_legal_limit_is_not_flagged():
    assert checks(dict(GOOD, legal_limit=None, promised_limit={"value": 30, "unit": "workday"})) == set()


def test_missing_contact_details_are_each_named():
    doc = dict(GOOD, phone="", complaint_phone=" ", hours=None)
    doc.pop("location")
    assert checks(doc) == {("missing_phone", "/phone"), ("missing_complaint_phone", "/complaint_phone"),
                           ("missing_location", "/location"), ("missing_hours", "/hours")}


def test_a_material_without_source_is_flagged():
    doc = copy.deepcopy(GOOD)
    del doc["materials"][0]["source"]
    assert checks(doc) == {("material_without_source", "/materials/0/source")}


def test_every_finding_names_a_known_check_with_its_severity():
    doc = dict(with_material(note="", source=""), phone="", promised_limit={"value": 15, "unit": "workday"})
    findings = lint(doc, CATALOGUE)
    assert findings and all(f.severity == CHECKS[f.check][0] and f.message for f in findings)


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner,
                                                                                        max_size=3), max_leaves=10)


@given(st.dictionaries(st.sampled_from(["materials", "promised_limit", "legal_limit", "phone", "hours"]), json_values),
       st.one_of(st.none(), st.dictionaries(st.just("materials"), json_values)))
def test_odd_shapes_never_crash(document, catalogue):
    assert all(f.check in CHECKS for f in lint(document, catalogue))
