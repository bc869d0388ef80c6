"""The item document model: field groups, entry ids, defaults, limits and the claim copy."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from items import codes, model, rules
from items.errors import Invalid

CREDIT = codes.make_credit_code("11410402MB1234567")
ORG = {"credit_code": CREDIT, "name": "卫东区住房和城乡建设局"}


def catalogue_doc() -> dict:
    return {
        "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
        "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "…"}],
        "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
        "service_objects": ["person", "enterprise"], "conditions": [{"id": "c1", "text": "依法取得建设用地"}],
        "materials": [{"id": "m1", "name": "居民身份证", "necessity": "required", "source": "applicant",
                       "form": "both", "originals": 1, "copies": 1, "e_license": "居民身份证", "note": ""}],
        "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
        "fees": [], "faq": [{"id": "q1", "question": "要多久？", "answer": "15个工作日"}],
    }


# --- field groups ----------------------------------------------------------------------------------

def test_four_same_fields_are_code_name_type_and_basis():
    assert set(model.FOUR_SAME) == {"basic_code", "name", "item_type", "basis"}
    assert set(model.CATALOGUE_OWNED) == set(model.FOUR_SAME) | {"legal_limit", "state"}


def test_catalogue_and_local_blocks_cover_the_contract_document_without_overlap():
    assert not set(model.CATALOGUE_FIELDS) & set(model.LOCAL_FIELDS)
    assert set(model.CATALOGUE_OWNED) <= set(model.CATALOGUE_FIELDS)
    assert set(model.STANDARD_ELEMENTS) <= set(model.CATALOGUE_FIELDS)
    assert set(model.LocalDocument.__annotations__) == set(model.CATALOGUE_FIELDS) | set(model.LOCAL_FIELDS)


def test_list_fields_have_their_id_prefixes():
    assert model.LIST_FIELDS == {"basis": "b", "conditions": "c", "materials": "m", "process": "p",
                                 "fees": "f", "faq": "q"}


# --- assign_ids ------------------------------------------------------------------------------------

def test_entries_without_ids_get_prefixed_ids_and_existing_ids_are_kept():
    doc = catalogue_doc()
    doc["materials"].append({"name": "营业执照", "necessity": "required"})
    doc["conditions"].append({"text": "施工图审查合格", "id": ""})
    out = model.assign_ids(doc)
    assert out["materials"][0]["id"] == "m1" and out["conditions"][0]["id"] == "c1"
    assert out["materials"][1]["id"].startswith("m") and out["materials"][1]["id"] != "m1"
    assert out["conditions"][1]["id"].startswith("c") and out["conditions"][1]["id"] != ""


def test_assign_ids_leaves_its_input_untouched():
    doc = catalogue_doc()
    doc["faq"].append({"question": "收费吗？", "answer": "不收费"})
    before = copy.deepcopy(doc)
    model.assign_ids(doc)
    assert doc == before


def test_assigned_ids_are_stable_across_imports_and_reordering():
    entries = [{"name": "居民身份证"}, {"name": "营业执照"}, {"name": "授权委托书"}]
    first = model.assign_ids({"materials": entries})["materials"]
    again = model.assign_ids({"materials": list(reversed(copy.deepcopy(entries)))})["materials"]
    assert {e["name"]: e["id"] for e in first} == {e["name"]: e["id"] for e in again}


def test_an_id_survives_edits_to_fields_that_do_not_name_the_entry():
    before = model.assign_ids({"materials": [{"name": "居民身份证", "copies": 1}]})
    after = model.assign_ids({"materials": [{"name": "居民身份证", "copies": 2, "note": "复印件"}]})
    assert before["materials"][0]["id"] == after["materials"][0]["id"]


def test_identical_entries_get_distinct_ids():
    out = model.assign_ids({"fees": [{"name": "工本费"}, {"name": "工本费"}, {"name": "工本费"}]})
    ids = [f["id"] for f in out["fees"]]
    assert len(set(ids)) == 3
    assert ids[1] == ids[0] + "-2" and ids[2] == ids[0] + "-3"


def test_a_new_id_never_takes_an_existing_one():
    generated = model.assign_ids({"faq": [{"question": "q"}]})["faq"][0]["id"]
    out = model.assign_ids({"faq": [{"question": "q"}, {"id": generated, "question": "other"}]})
    assert out["faq"][1]["id"] == generated
    assert out["faq"][0]["id"] != generated


entry_lists = st.lists(
    st.one_of(st.fixed_dictionaries({"name": st.text(max_size=3)}),
              st.fixed_dictionaries({"name": st.text(max_size=3), "id": st.sampled_from(["m1", "m2", "x"])})),
    max_size=12)


@given(entry_lists)
def test_assigned_ids_are_unique_and_existing_ones_unchanged(entries):
    out = model.assign_ids({"materials": entries})["materials"]
    fresh = [o["id"] for e, o in zip(entries, out) if "id" not in e]
    kept = [o["id"] for e, o in zip(entries, out) if "id" in e]
    assert kept == [e["id"] for e in entries if "id" in e]
    assert len(set(fresh)) == len(fresh) and not set(fresh) & set(kept)
    assert model.assign_ids({"materials": entries}) == {"materials": out}


# --- normalize -------------------------------------------------------------------------------------

def test_normalize_fills_what_an_import_leaves_out():
    out = model.normalize({"basic_code": " 000104002000 ", "name": "x", "item_type": "01", "levels": "2,3，4",
                           "legal_limit": {"value": 20}, "process": [{"name": "受理", "limit": {"value": 1}}]})
    assert out["basic_code"] == "000104002000"
    assert out["levels"] == ["2", "3", "4"]
    assert out["state"] == "in_use"
    assert out["materials"] == [] and out["fees"] == [] and out["basis"] == []
    assert out["legal_limit"] == {"value": 20, "unit": "workday", "note": ""}
    assert out["process"][0]["limit"]["unit"] == "workday" and out["process"][0]["note"] == ""
    assert "channels" not in out


def test_normalize_gives_a_local_item_its_local_defaults():
    out = model.normalize({"impl_code": "x", "channels": None})
    assert out["channels"] == [] and out["aliases"] == []
    assert out["promised_limit"] is None and out["scope"] is None and out["result"] is None
    assert out["commitment"] is False and out["phone"] == "" and out["complaint_phone"] == ""
    assert "levels" not in out


def test_normalize_is_pure_and_idempotent():
    doc = catalogue_doc()
    doc["name"] = "  建筑工程施工许可证核发\n"
    before = copy.deepcopy(doc)
    once = model.normalize(doc)
    assert doc == before
    assert model.normalize(once) == once
    assert once["name"] == "建筑工程施工许可证核发"


@given(st.dictionaries(st.sampled_from(model.CATALOGUE_FIELDS + model.LOCAL_FIELDS),
                       st.one_of(st.none(), st.text(max_size=4), st.lists(st.text(max_size=3), max_size=3),
                                 st.fixed_dictionaries({"value": st.integers(0, 30)}))))
def test_normalize_is_idempotent_on_arbitrary_documents(doc):
    once = model.normalize(doc)
    assert model.normalize(once) == once


# --- to_days ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("limit, days", [
    ({"value": 15, "unit": "workday"}, 15.0), ({"value": 15}, 15.0), ({"value": 0, "unit": "workday"}, 0.0),
    ({"value": 14, "unit": "calendar_day"}, 10.0), ({"value": 7, "unit": "calendar_day"}, 5.0),
])
def test_to_days_counts_working_days_and_converts_calendar_days_by_five_sevenths(limit, days):
    assert model.to_days(limit) == pytest.approx(days)


@pytest.mark.parametrize("limit", [None, {}, {"value": "15"}, {"value": True}, {"value": 3, "unit": "month"},
                                   {"value": float("nan")}, 15])
def test_to_days_of_no_or_malformed_limit_is_none(limit):
    assert model.to_days(limit) is None


# --- catalogue_part and local_defaults -------------------------------------------------------------

def test_catalogue_part_drops_local_fields():
    local = model.local_defaults(catalogue_doc(), ORG, "4", "410402")
    part = model.catalogue_part(local)
    assert not set(part) & set(model.LOCAL_FIELDS)
    assert part["materials"] == catalogue_doc()["materials"]


def test_claimed_item_copies_four_same_fields_and_standard_elements_with_their_ids():
    catalogue = catalogue_doc()
    local = model.local_defaults(catalogue, ORG, "4", "410402")
    for field in model.FOUR_SAME + model.STANDARD_ELEMENTS:
        assert local[field] == catalogue[field]
    assert local["materials"][0]["id"] == "m1"
    assert local["impl_code"] == CREDIT + "4" + "000104002000"
    assert local["org"] == ORG and local["level"] == "4" and local["region_code"] == "410402"
    assert local["promised_limit"] == catalogue["legal_limit"]
    assert (local["handling_type"], local["visits"], local["online_depth"]) == ("promised", 1, 2)
    assert local["channels"] == ["window"] and local["aliases"] == [] and local["result"] is None
    assert local["scope"] is None and local["commitment"] is False and local["location"] == ""
    assert "levels" not in local


def test_claimed_item_is_a_valid_local_document():
    local = model.local_defaults(catalogue_doc(), ORG, "4", "410402")
    assert rules.validate(local, "local") == []


def test_claimed_item_shares_no_structure_with_its_catalogue_item():
    catalogue = catalogue_doc()
    local = model.local_defaults(catalogue, ORG, "4", "410402")
    local["materials"][0]["name"] = "changed"
    local["promised_limit"]["value"] = 3
    assert catalogue == catalogue_doc()


def test_item_with_zero_legal_limit_is_claimed_as_instant():
    catalogue = catalogue_doc()
    catalogue["legal_limit"] = {"value": 0, "unit": "workday", "note": ""}
    local = model.local_defaults(catalogue, ORG, "4", "410402")
    assert local["handling_type"] == "instant"
    assert rules.validate(local, "local") == []


def test_item_without_legal_limit_is_claimed_without_promised_limit():
    catalogue = catalogue_doc()
    catalogue["legal_limit"] = None
    local = model.local_defaults(catalogue, ORG, "4", "410402")
    assert local["promised_limit"] is None and local["handling_type"] == "promised"


def test_claim_by_an_org_with_a_broken_credit_code_raises_invalid():
    broken = CREDIT[:17] + ("1" if CREDIT[17] == "0" else "0")
    with pytest.raises(Invalid) as caught:
        model.local_defaults(catalogue_doc(), {"credit_code": broken, "name": "x"}, "4", "410402")
    assert caught.value.details["errors"][0]["path"] == "/credit_code"
