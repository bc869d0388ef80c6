"""The one validator: every rule passes a good document, catches a bad one, and all problems come at once."""
from __future__ import annotations

import json
import re

import pytest

from items import codes, model, rules
from items.errors import Invalid, Malformed

CREDIT = codes.make_credit_code("11410402MB1234567")


def catalogue_doc() -> dict:
    return {
        "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
        "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "…"}],
        "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
        "service_objects": ["person", "enterprise"], "conditions": [{"id": "c1", "text": "依法取得建设用地"}],
        "materials": [{"id": "m1", "name": "居民身份证", "necessity": "required", "source": "applicant",
                       "form": "both", "originals": 1, "copies": 1, "e_license": "居民身份证", "note": ""},
                      {"id": "m2", "name": "施工合同", "necessity": "deferrable", "source": "applicant",
                       "form": "paper", "originals": 1, "copies": 0, "e_license": None, "note": ""}],
        "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
        "fees": [{"id": "f1", "name": "工本费", "standard": "10元/件", "basis": "发改价格〔2017〕1186号"}],
        "faq": [{"id": "q1", "question": "要多久？", "answer": "15个工作日"}],
    }


def local_doc(**changes) -> dict:
    doc = catalogue_doc()
    del doc["levels"]
    doc.update({
        "impl_code": CREDIT + "4" + "000104002000", "level": "4",
        "org": {"credit_code": CREDIT, "name": "卫东区住房和城乡建设局"}, "region_code": "410402",
        "promised_limit": {"value": 5, "unit": "workday", "note": ""}, "handling_type": "promised",
        "visits": 1, "online_depth": 3, "channels": ["window", "pc", "mobile", "express"],
        "scope": "cross_city", "commitment": False, "location": "卫东区政务服务中心", "hours": "9:00-17:00",
        "phone": "0375-1234567", "complaint_phone": "0375-12345", "result": {"name": "施工许可证", "kind": "certificate"},
        "aliases": ["办施工许可证"],
    })
    doc.update(changes)
    return doc


def found(doc: dict, kind: str = "local") -> set[tuple[str, str]]:
    return {(f.path, f.rule) for f in rules.validate(doc, kind)}


# --- good documents --------------------------------------------------------------------------------

def test_contract_shaped_catalogue_and_local_documents_have_no_findings():
    assert rules.validate(catalogue_doc(), "catalogue") == []
    assert rules.validate(local_doc(), "local") == []


def test_liaoning_catalogue_records_validate_without_errors(liaoning_sample):
    records = json.loads(liaoning_sample.read_text("utf-8"))
    for record in records:
        tag = re.search(r"【([^】]+)】", record["依据"])
        title = re.search(r"《([^》]+)》", record["依据"])
        doc = model.assign_ids(model.normalize({
            "basic_code": record["职权编码"], "name": record["事项名称"],
            "item_type": codes.normalize_item_type(record["事项类型"], "liaoning"),
            # the real text is not always tagged or titled: fall back as an importer would
            "basis": [{"kind": tag.group(1) if tag else "其他",
                       "title": title.group(1) if title else record["依据"][:40], "text": record["依据"]}],
            "levels": record["实施层级"],
        }, kind="catalogue"))
        assert rules.errors_of(rules.validate(doc, "catalogue")) == [], record["职权编码"]


# --- shape, enumerations, codes --------------------------------------------------------------------

@pytest.mark.parametrize("field", ["basic_code", "name", "item_type", "basis", "state", "levels"])
def test_missing_catalogue_field_is_required(field):
    doc = catalogue_doc()
    del doc[field]
    assert found(doc, "catalogue") == {(f"/{field}", "required")}


@pytest.mark.parametrize("field", ["impl_code", "level", "org", "region_code", "handling_type", "visits",
                                   "online_depth", "channels"])
def test_missing_local_field_is_required(field):
    doc = local_doc()
    del doc[field]
    assert (f"/{field}", "required") in found(doc)


@pytest.mark.parametrize("path, change", [
    ("/state", {"state": "active"}), ("/item_type", {"item_type": "1"}), ("/level", {"level": "8"}),
    ("/handling_type", {"handling_type": "fast"}), ("/online_depth", {"online_depth": 5}),
    ("/online_depth", {"online_depth": True}), ("/channels/1", {"channels": ["window", "fax", "express"]}),
    ("/scope", {"scope": "global"}), ("/service_objects/0", {"service_objects": ["citizen"]}),
    ("/promised_limit/unit", {"promised_limit": {"value": 5, "unit": "hour"}}),
])
def test_values_outside_their_enumeration_are_rejected(path, change):
    assert (path, "enum") in found(local_doc(**change))


def test_material_enumerations_are_checked():
    doc = local_doc()
    doc["materials"][0].update(necessity="must", source="self", form="fax")
    assert {("/materials/0/necessity", "enum"), ("/materials/0/source", "enum"),
            ("/materials/0/form", "enum")} <= found(doc)


def test_wrong_json_types_are_rejected():
    assert ("/commitment", "type") in found(local_doc(commitment="yes"))
    assert ("/org", "type") in found(local_doc(org="卫东区住建局"))
    assert ("/result", "type") in found(local_doc(result="施工许可证"))
    assert ("/materials", "type") in found(local_doc(materials={"m1": {}}))
    assert ("/name", "type") in found(local_doc(name=12))


def test_a_document_that_is_not_an_object_gives_one_finding():
    assert [f.as_dict() for f in rules.validate(["x"], "catalogue")] == [
        {"path": "", "rule": "type", "severity": "error", "message": "an item document must be a JSON object"}]


def test_unknown_kind_of_document_raises_malformed():
    with pytest.raises(Malformed):
        rules.validate(catalogue_doc(), "draft")


def test_local_fields_on_a_catalogue_item_are_unknown_fields():
    doc = catalogue_doc()
    doc["visits"] = 1
    assert [(f.path, f.rule, f.severity) for f in rules.validate(doc, "catalogue")] == [
        ("/visits", "unknown_field", "warning")]


def test_basic_code_of_other_than_twelve_digits_breaks_basic_code_format():
    assert found(catalogue_doc() | {"basic_code": "00010400200A"}, "catalogue") == {
        ("/basic_code", "basic_code_format")}


def test_basic_code_type_part_differing_from_item_type_is_a_warning():
    assert found(catalogue_doc() | {"item_type": "20"}, "catalogue") == {("/basic_code", "basic_code_type")}


def test_org_credit_code_with_wrong_check_character_is_rejected_once():
    bad = CREDIT[:17] + ("1" if CREDIT[17] == "0" else "0")
    doc = local_doc(org={"credit_code": bad, "name": "x"}, impl_code=bad + "4000104002000")
    assert found(doc) == {("/org/credit_code", "credit_code_check_char")}


def test_org_credit_code_with_letters_outside_the_alphabet_breaks_credit_code_format():
    assert ("/org/credit_code", "credit_code_format") in found(
        local_doc(org={"credit_code": "11410402MB12345I7X", "name": "x"}))


def test_impl_code_not_made_of_org_level_and_basic_code_is_rejected():
    other = codes.make_impl_code(codes.make_credit_code("91350100M000100Y4"), "4", "000104002000")
    assert found(local_doc(impl_code=other)) == {("/impl_code", "impl_code_matches")}
    assert found(local_doc(level="3")) == {("/impl_code", "impl_code_matches")}


def test_impl_code_of_wrong_shape_breaks_impl_code_format():
    assert found(local_doc(impl_code=CREDIT + "4000104002")) == {("/impl_code", "impl_code_format")}


@pytest.mark.parametrize("region", ["41040", "4104021", "990402", "511602000001"])
def test_region_code_outside_gb_t_2260_is_rejected(region):
    assert found(local_doc(region_code=region)) == {("/region_code", "region_code_format")}


def test_twelve_digit_region_code_is_accepted():
    assert found(local_doc(region_code="511602001000")) == set()


def test_list_entries_need_an_id_unique_in_their_list():
    doc = local_doc()
    doc["materials"][1]["id"] = "m1"
    doc["conditions"][0]["id"] = ""
    doc["faq"].append("not an object")
    assert found(doc) == {("/materials/1/id", "entry_id_unique"), ("/conditions/0/id", "entry_id"),
                          ("/faq/1", "type")}


def test_same_id_in_different_lists_is_fine():
    doc = local_doc()
    doc["faq"][0]["id"] = "m1"
    assert found(doc) == set()


def test_unknown_basis_tag_is_a_warning():
    doc = catalogue_doc()
    doc["basis"][0]["kind"] = "会议纪要"
    assert [(f.path, f.severity) for f in rules.validate(doc, "catalogue")] == [("/basis/0/kind", "warning")]


# --- limits ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [-1, "15", None, True, float("inf"), float("nan")])
def test_legal_limit_value_must_be_a_non_negative_number(value):
    assert found(catalogue_doc() | {"legal_limit": {"value": value}}, "catalogue") == {
        ("/legal_limit/value", "legal_limit_value")}


def test_no_legal_limit_is_allowed():
    assert found(catalogue_doc() | {"legal_limit": None}, "catalogue") == set()


def test_limit_of_500_days_is_flagged_as_suspicious():
    findings = rules.validate(catalogue_doc() | {"legal_limit": {"value": 500, "unit": "workday"}}, "catalogue")
    assert [(f.path, f.rule, f.severity) for f in findings] == [("/legal_limit/value", "suspicious_limit",
                                                                  "warning")]


def test_negative_step_limit_breaks_limit_value():
    doc = local_doc()
    doc["process"][0]["limit"] = {"value": -2}
    assert found(doc) == {("/process/0/limit/value", "limit_value")}


# --- the named cross-field rules of DOMAIN.md §3 ---------------------------------------------------

def test_promised_within_legal_passes_and_fails():
    assert found(local_doc(promised_limit={"value": 15, "unit": "workday"})) == set()
    assert found(local_doc(promised_limit={"value": 16, "unit": "workday"})) == {
        ("/promised_limit", "promised_within_legal")}


def test_promised_within_legal_compares_calendar_days_as_five_sevenths_workdays():
    assert found(local_doc(promised_limit={"value": 21, "unit": "calendar_day"})) == set()  # = 15 workdays
    assert found(local_doc(promised_limit={"value": 22, "unit": "calendar_day"})) == {
        ("/promised_limit", "promised_within_legal")}


def test_promised_limit_without_legal_limit_is_not_compared():
    assert found(local_doc(legal_limit=None, promised_limit={"value": 30})) == set()


def test_instant_iff_zero_promised_passes_both_ways():
    assert found(local_doc(handling_type="instant", promised_limit={"value": 0, "unit": "workday"})) == set()
    assert found(local_doc(handling_type="promised", promised_limit={"value": 1, "unit": "workday"})) == set()


@pytest.mark.parametrize("handling, promised", [("instant", {"value": 3}), ("promised", {"value": 0}),
                                                ("instant", None)])
def test_instant_iff_zero_promised_fails(handling, promised):
    assert found(local_doc(handling_type=handling, promised_limit=promised)) == {
        ("/handling_type", "instant_iff_zero_promised")}


def test_full_online_zero_visits_passes_and_fails():
    assert found(local_doc(online_depth=4, visits=0)) == set()
    assert found(local_doc(online_depth=4, visits=1)) == {("/visits", "full_online_zero_visits")}


def test_no_visit_needs_express_passes_with_express_or_full_online():
    assert found(local_doc(visits=0, online_depth=3, channels=["pc", "express"])) == set()
    assert found(local_doc(visits=0, online_depth=4, channels=["pc", "mobile"])) == set()


@pytest.mark.parametrize("depth, channels", [(3, ["pc", "mobile"]), (2, ["window"]), (4, ["window"])])
def test_no_visit_needs_express_warns_without_express(depth, channels):
    findings = rules.validate(local_doc(visits=0, online_depth=depth, channels=channels), "local")
    assert [(f.path, f.rule, f.severity) for f in findings] == [("/channels", "no_visit_needs_express", "warning")]


def test_fee_needs_basis_passes_and_fails_per_missing_part():
    assert found(local_doc()) == set()
    doc = local_doc()
    doc["fees"].append({"id": "f2", "name": "手续费", "standard": "", "basis": None})
    assert found(doc) == {("/fees/1/standard", "fee_needs_basis"), ("/fees/1/basis", "fee_needs_basis")}


def test_phones_differ_passes_and_warns_on_the_same_number_written_differently():
    assert found(local_doc(phone="0375-1234567", complaint_phone="12345")) == set()
    assert found(local_doc(phone="", complaint_phone="")) == set()
    findings = rules.validate(local_doc(phone="0375-1234567", complaint_phone="0375 1234567"), "local")
    assert [(f.path, f.rule, f.severity) for f in findings] == [("/complaint_phone", "phones_differ", "warning")]


@pytest.mark.parametrize("visits", [-1, 6, 1.5, "1", True])
def test_visits_outside_zero_to_five_break_visits_range(visits):
    assert found(local_doc(visits=visits)) == {("/visits", "visits_range")}


@pytest.mark.parametrize("key, value", [("originals", -1), ("copies", 1.5), ("copies", "2"), ("originals", False)])
def test_material_counts_must_be_non_negative_integers(key, value):
    doc = local_doc()
    doc["materials"][0][key] = value
    assert found(doc) == {(f"/materials/0/{key}", "material_counts")}


# --- all at once, registry, raising ----------------------------------------------------------------

def test_a_document_with_five_problems_gets_five_findings_with_their_paths():
    doc = local_doc(promised_limit={"value": 20, "unit": "workday"}, visits=1, online_depth=4,
                    region_code="41040")
    doc["materials"][1]["copies"] = -1
    doc["fees"][0]["basis"] = ""
    findings = rules.validate(doc, "local")
    assert sorted((f.path, f.rule) for f in findings) == sorted([
        ("/promised_limit", "promised_within_legal"), ("/visits", "full_online_zero_visits"),
        ("/region_code", "region_code_format"), ("/materials/1/copies", "material_counts"),
        ("/fees/0/basis", "fee_needs_basis")])


def test_every_finding_uses_a_registered_rule_with_its_severity():
    doc = local_doc(state="x", phone="1", complaint_phone="1", visits=0, online_depth=2, channels=["window"])
    doc["basis"][0]["kind"] = "?"
    findings = rules.validate(doc, "local")
    assert len(findings) == 4
    assert all(rules.RULES[f.rule][0] == f.severity for f in findings)


def test_the_rule_registry_lists_the_named_rules_with_severities():
    expected = {"promised_within_legal": "error", "instant_iff_zero_promised": "error",
                "full_online_zero_visits": "error", "no_visit_needs_express": "warning",
                "fee_needs_basis": "error", "phones_differ": "warning", "legal_limit_value": "error",
                "suspicious_limit": "warning", "visits_range": "error", "material_counts": "error",
                "basic_code_format": "error"}
    assert {name: rules.RULES[name][0] for name in expected} == expected
    assert all(desc for _, desc in rules.RULES.values())


def test_json_pointer_escapes_tilde_and_slash():
    assert rules.pointer("a/b", "c~d", 0) == "/a~1b/c~0d/0"


def test_raise_if_errors_raises_invalid_with_errors_and_warnings():
    findings = rules.validate(local_doc(visits=9, phone="1", complaint_phone="1"), "local")
    with pytest.raises(Invalid) as caught:
        rules.raise_if_errors(findings)
    assert caught.value.code == "validation_failed"
    assert caught.value.details["errors"] == [
        {"path": "/visits", "rule": "visits_range", "severity": "error",
         "message": "visits must be an integer from 0 to 5"}]
    assert [w["rule"] for w in caught.value.details["warnings"]] == ["phones_differ"]


def test_raise_if_errors_returns_the_warnings_when_there_is_no_error():
    warnings = rules.raise_if_errors(rules.validate(local_doc(phone="1", complaint_phone="1"), "local"))
    assert [w.rule for w in warnings] == ["phones_differ"]
    assert rules.errors_of(warnings) == [] and rules.warnings_of(warnings) == warnings
