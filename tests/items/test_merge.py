"""Scenario table for the three-way merge of a local item with a new catalogue version."""
from __future__ import annotations

import copy
import json

import pytest

from items.errors import Invalid, Malformed
from items.merge import ABSENT, MergeConflict, MergeResult, merge, resolve


def catalogue_doc() -> dict:
    return {
        "basic_code": "000104002000",
        "name": "建筑工程施工许可证核发",
        "item_type": "01",
        "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "…"}],
        "levels": ["3", "4"],
        "state": "in_use",
        "legal_limit": {"value": 15, "unit": "workday", "note": ""},
        "service_objects": ["person", "enterprise"],
        "conditions": [{"id": "c1", "text": "已取得用地批准手续"}, {"id": "c2", "text": "已确定施工企业"}],
        "materials": [
            {"id": f"m{i}", "name": f"材料{i}", "necessity": "required", "source": "applicant", "form": "both",
             "originals": 1, "copies": 1, "e_license": None, "note": ""}
            for i in range(1, 6)
        ],
        "process": [
            {"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""},
            {"id": "p2", "name": "审查", "limit": {"value": 5, "unit": "workday"}, "note": ""},
        ],
        "fees": [],
        "faq": [{"id": "q1", "question": "要多久？", "answer": "15个工作日"}],
    }


def local_of(catalogue: dict) -> dict:
    doc = copy.deepcopy(catalogue)
    del doc["levels"]  # a local item carries its own level instead
    doc.update({
        "impl_code": "11410402MB1234567X4000104002000", "level": "4",
        "org": {"credit_code": "11410402MB1234567X", "name": "卫东区住房和城乡建设局"},
        "region_code": "410402", "promised_limit": {"value": 5, "unit": "workday", "note": ""},
        "handling_type": "promised", "visits": 1, "online_depth": 3, "channels": ["window", "pc"],
        "scope": None, "commitment": False, "location": "", "hours": "", "phone": "0375-1",
        "complaint_phone": "0375-2", "result": None, "aliases": ["办施工许可证"],
    })
    return doc


def entry(doc: dict, field: str, entry_id: str) -> dict:
    return next(e for e in doc[field] if e["id"] == entry_id)


def ids(doc: dict, field: str = "materials") -> list[str]:
    return [e["id"] for e in doc[field]]


def drop(doc: dict, field: str, entry_id: str) -> None:
    doc[field] = [e for e in doc[field] if e["id"] != entry_id]


def move_to_front(doc: dict, field: str, entry_id: str) -> None:
    doc[field].insert(0, doc[field].pop(ids(doc, field).index(entry_id)))


def insert_after(doc: dict, field: str, after: str | None, new: dict) -> None:
    doc[field].insert(ids(doc, field).index(after) + 1 if after else 0, new)


def new_material(entry_id: str, name: str = "新材料") -> dict:
    return {"id": entry_id, "name": name, "necessity": "optional", "source": "other", "form": "paper",
            "originals": 0, "copies": 1, "e_license": None, "note": ""}


def run(local_edit, catalogue_edit) -> tuple[dict, dict, dict, MergeResult]:
    base = catalogue_doc()
    local, catalogue = local_of(base), copy.deepcopy(base)
    local_edit(local)
    catalogue_edit(catalogue)
    return base, local, catalogue, merge(base, local, catalogue)


def nothing(doc: dict) -> None:
    pass


def set_key(key: str, value):
    def edit(doc: dict) -> None:
        doc[key] = value
    return edit


def set_in_entry(field: str, entry_id: str, key: str, value, subkey: str | None = None):
    def edit(doc: dict) -> None:
        target = entry(doc, field, entry_id)
        if subkey is None:
            target[key] = value
        else:
            target[key][subkey] = value
    return edit


def both(*edits):
    def edit(doc: dict) -> None:
        for e in edits:
            e(doc)
    return edit


# name → (local edit, catalogue edit, check(result, base, local, catalogue), conflict paths)
SCENARIOS = {
    "field_changed_by_catalogue_only_takes_catalogue": (
        nothing, set_key("state", "suspended"),
        lambda r, b, l, c: r["state"] == "suspended", []),
    "field_changed_by_local_only_keeps_local": (
        set_key("service_objects", ["person"]), nothing,
        lambda r, b, l, c: r["service_objects"] == ["person"], []),
    "field_changed_to_same_value_on_both_sides_takes_it": (
        set_key("state", "cancelled"), set_key("state", "cancelled"),
        lambda r, b, l, c: r["state"] == "cancelled", []),
    "field_changed_differently_on_both_sides_conflicts_and_keeps_local": (
        set_key("service_objects", ["person"]), set_key("service_objects", ["institution"]),
        lambda r, b, l, c: r["service_objects"] == ["person"], ["/service_objects"]),
    "nested_object_keys_changed_on_different_sides_both_apply": (
        set_in_entry("process", "p2", "limit", 3, "value"),
        set_in_entry("process", "p2", "limit", "calendar_day", "unit"),
        lambda r, b, l, c: entry(r, "process", "p2")["limit"] == {"value": 3, "unit": "calendar_day"}, []),
    "nested_object_key_changed_differently_conflicts_at_the_key": (
        set_in_entry("process", "p2", "limit", 3, "value"), set_in_entry("process", "p2", "limit", 4, "value"),
        lambda r, b, l, c: entry(r, "process", "p2")["limit"]["value"] == 3, ["/process/p2/limit/value"]),
    "entries_added_on_both_sides_are_all_kept": (
        lambda d: d["materials"].append(new_material("m90", "本地材料")),
        lambda d: insert_after(d, "materials", "m2", new_material("m80", "省级新增")),
        lambda r, b, l, c: ids(r) == ["m1", "m2", "m80", "m3", "m4", "m5", "m90"], []),
    "same_id_added_with_equal_content_on_both_sides_appears_once": (
        lambda d: d["materials"].append(new_material("m9")),
        lambda d: d["materials"].append(new_material("m9")),
        lambda r, b, l, c: ids(r).count("m9") == 1 and entry(r, "materials", "m9") == new_material("m9"), []),
    "same_id_added_with_different_content_conflicts_on_the_entry": (
        lambda d: d["materials"].append(new_material("m9", "本地版")),
        lambda d: d["materials"].append(new_material("m9", "省级版")),
        lambda r, b, l, c: entry(r, "materials", "m9")["name"] == "本地版", ["/materials/m9"]),
    "entry_removed_by_catalogue_and_untouched_locally_is_removed": (
        nothing, lambda d: drop(d, "materials", "m3"),
        lambda r, b, l, c: "m3" not in ids(r), []),
    "entry_removed_locally_and_untouched_by_catalogue_stays_removed": (
        lambda d: drop(d, "conditions", "c2"), nothing,
        lambda r, b, l, c: ids(r, "conditions") == ["c1"], []),
    "entry_removed_by_catalogue_but_edited_locally_conflicts": (
        set_in_entry("materials", "m3", "copies", 3), lambda d: drop(d, "materials", "m3"),
        lambda r, b, l, c: entry(r, "materials", "m3")["copies"] == 3, ["/materials/m3"]),
    "entry_removed_locally_but_edited_by_catalogue_conflicts": (
        lambda d: drop(d, "materials", "m3"), set_in_entry("materials", "m3", "form", "paper"),
        lambda r, b, l, c: "m3" not in ids(r), ["/materials/m3"]),
    "local_reorder_is_kept_with_a_catalogue_edit": (
        lambda d: move_to_front(d, "materials", "m4"), set_in_entry("materials", "m1", "copies", 2),
        lambda r, b, l, c: ids(r) == ["m4", "m1", "m2", "m3", "m5"] and entry(r, "materials", "m1")["copies"] == 2,
        []),
    "catalogue_reorder_is_taken_with_a_local_edit": (
        set_in_entry("materials", "m1", "copies", 2), lambda d: move_to_front(d, "materials", "m4"),
        lambda r, b, l, c: ids(r) == ["m4", "m1", "m2", "m3", "m5"] and entry(r, "materials", "m1")["copies"] == 2,
        []),
    "local_addition_follows_its_local_predecessor_in_the_catalogue_order": (
        lambda d: insert_after(d, "materials", "m1", new_material("m15")),
        lambda d: move_to_front(d, "materials", "m4"),
        lambda r, b, l, c: ids(r) == ["m4", "m1", "m15", "m2", "m3", "m5"], []),
    "when_both_reorder_local_order_wins": (
        lambda d: move_to_front(d, "materials", "m5"), lambda d: move_to_front(d, "materials", "m3"),
        lambda r, b, l, c: ids(r) == ["m5", "m1", "m2", "m3", "m4"], []),
    "edits_inside_one_entry_on_both_sides_merge_field_by_field": (
        set_in_entry("materials", "m2", "name", "营业执照（副本）"), set_in_entry("materials", "m2", "copies", 0),
        lambda r, b, l, c: entry(r, "materials", "m2") == {**entry(b, "materials", "m2"),
                                                            "name": "营业执照（副本）", "copies": 0}, []),
    "same_field_of_one_entry_edited_differently_conflicts_at_the_field": (
        set_in_entry("materials", "m2", "name", "甲"), set_in_entry("materials", "m2", "name", "乙"),
        lambda r, b, l, c: entry(r, "materials", "m2")["name"] == "甲", ["/materials/m2/name"]),
    "catalogue_insertion_at_the_start_goes_first": (
        lambda d: move_to_front(d, "materials", "m5"),
        lambda d: insert_after(d, "materials", None, new_material("m0")),
        lambda r, b, l, c: ids(r) == ["m0", "m5", "m1", "m2", "m3", "m4"], []),
    "catalogue_insertion_follows_its_predecessor_in_the_local_order": (
        lambda d: move_to_front(d, "materials", "m3"),
        lambda d: insert_after(d, "materials", "m3", new_material("m35")),
        lambda r, b, l, c: ids(r) == ["m3", "m35", "m1", "m2", "m4", "m5"], []),
    "catalogue_insertion_after_a_locally_removed_entry_follows_the_nearest_kept_one": (
        lambda d: drop(d, "materials", "m3"),
        lambda d: insert_after(d, "materials", "m3", new_material("m35")),
        lambda r, b, l, c: ids(r) == ["m1", "m2", "m35", "m4", "m5"], []),
    "four_same_fields_always_take_the_catalogue_value": (
        both(set_key("name", "本地改名"), set_key("item_type", "20"),
             set_in_entry("basis", "b1", "article", "第八条")),
        both(set_key("name", "建筑工程施工许可"), set_in_entry("basis", "b1", "article", "第九条")),
        lambda r, b, l, c: (r["name"], r["item_type"], r["basis"], r["basic_code"])
        == (c["name"], c["item_type"], c["basis"], c["basic_code"]), []),
    "legal_limit_always_takes_the_catalogue_value": (
        set_key("legal_limit", {"value": 30, "unit": "workday", "note": ""}),
        set_key("legal_limit", {"value": 10, "unit": "workday", "note": ""}),
        lambda r, b, l, c: r["legal_limit"] == c["legal_limit"], []),
    "local_only_fields_stay_as_local_has_them": (
        both(set_key("phone", "0375-9"), set_key("visits", 0)),
        both(set_key("phone", "省级电话"), set_key("visits", 2)),  # a stray local field in the catalogue
        lambda r, b, l, c: all(r[k] == l[k] for k in ("phone", "visits", "impl_code", "org", "aliases",
                                                      "promised_limit", "channels")), []),
    "levels_stay_absent_on_a_local_item_that_does_not_carry_them": (
        nothing, set_key("levels", ["2", "3", "4"]),
        lambda r, b, l, c: "levels" not in r, []),
    "a_field_the_catalogue_introduces_arrives": (
        nothing, set_key("fees", [{"id": "f1", "name": "工本费", "standard": "10元", "basis": "…"}]),
        lambda r, b, l, c: ids(r, "fees") == ["f1"], []),
}


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_merge_scenario(name):
    local_edit, catalogue_edit, expect, conflict_paths = SCENARIOS[name]
    base, local, catalogue, result = run(local_edit, catalogue_edit)
    assert expect(result.document, base, local, catalogue), json.dumps(result.document, ensure_ascii=False)
    assert [c.path for c in result.conflicts] == conflict_paths
    assert result.clean is (not conflict_paths)


def test_merge_does_not_mutate_its_inputs():
    base = catalogue_doc()
    local, catalogue = local_of(base), copy.deepcopy(base)
    move_to_front(local, "materials", "m4")
    catalogue["materials"][0]["copies"] = 9
    snapshot = copy.deepcopy((base, local, catalogue))
    merge(base, local, catalogue)
    assert (base, local, catalogue) == snapshot


def test_conflict_reports_all_three_values_with_absent_as_null():
    _, _, _, result = run(set_in_entry("materials", "m3", "copies", 3), lambda d: drop(d, "materials", "m3"))
    (conflict,) = result.conflicts
    assert conflict.catalogue is ABSENT
    assert conflict.as_dict() == {"path": "/materials/m3", "base": entry(catalogue_doc(), "materials", "m3"),
                                  "local": {**entry(catalogue_doc(), "materials", "m3"), "copies": 3},
                                  "catalogue": None}


def test_conflict_path_escapes_an_id_holding_a_slash():
    odd = "m/1~x"
    result = run(lambda d: d["materials"].append(new_material(odd, "甲")),
                 lambda d: d["materials"].append(new_material(odd, "乙")))[3]
    assert [c.path for c in result.conflicts] == ["/materials/m~11~0x"]


def test_a_list_without_ids_merges_as_one_value():
    result = run(set_key("service_objects", ["person"]), set_key("service_objects", ["enterprise"]))[3]
    assert result.conflicts == [MergeConflict("/service_objects", ["person", "enterprise"], ["person"], ["enterprise"])]


def test_a_document_that_is_not_an_object_is_malformed():
    with pytest.raises(Malformed):
        merge(catalogue_doc(), [], catalogue_doc())


# --- resolve ---------------------------------------------------------------------------------------

def conflicted() -> MergeResult:
    """Conflicts at /service_objects, /materials/m2/name, /materials/m3 (catalogue removed, local edited) and
    /materials/m4 (local removed, catalogue edited)."""
    return run(
        both(set_key("service_objects", ["person"]), set_in_entry("materials", "m2", "name", "甲"),
             set_in_entry("materials", "m3", "copies", 3), lambda d: drop(d, "materials", "m4")),
        both(set_key("service_objects", ["institution"]), set_in_entry("materials", "m2", "name", "乙"),
             lambda d: drop(d, "materials", "m3"), set_in_entry("materials", "m4", "form", "paper")),
    )[3]


def test_resolve_with_local_choices_gives_the_pending_document():
    result = conflicted()
    assert [c.path for c in result.conflicts] == ["/service_objects", "/materials/m2/name", "/materials/m3", "/materials/m4"]
    final = resolve(result, {c.path: "local" for c in result.conflicts})
    assert final == result.document


def test_resolve_with_catalogue_choices_takes_the_catalogue_side_in_catalogue_position():
    final = resolve(conflicted(), {"/service_objects": "catalogue", "/materials/m2/name": "catalogue",
                                   "/materials/m3": "catalogue", "/materials/m4": "catalogue"})
    assert final["service_objects"] == ["institution"]
    assert ids(final) == ["m1", "m2", "m4", "m5"]
    assert entry(final, "materials", "m2")["name"] == "乙"
    assert entry(final, "materials", "m4")["form"] == "paper"


def test_resolve_with_values_uses_them_and_null_removes_an_entry():
    final = resolve(conflicted(), {"/service_objects": ["government"], "/materials/m2/name": "丙", "/materials/m3": None,
                                   "/materials/m4": {"name": "重写的材料", "necessity": "optional"}})
    assert final["service_objects"] == ["government"]
    assert entry(final, "materials", "m2")["name"] == "丙"
    assert ids(final) == ["m1", "m2", "m4", "m5"]
    assert entry(final, "materials", "m4") == {"id": "m4", "name": "重写的材料", "necessity": "optional"}


def test_resolve_accepts_the_three_inputs_instead_of_a_result():
    base = catalogue_doc()
    local, catalogue = local_of(base), copy.deepcopy(base)
    local["service_objects"], catalogue["service_objects"] = ["person"], ["institution"]
    assert resolve((base, local, catalogue), {"/service_objects": "catalogue"})["service_objects"] == ["institution"]


def test_resolve_of_a_clean_merge_with_no_resolutions_returns_the_document():
    result = run(nothing, set_key("service_objects", ["institution"]))[3]
    assert resolve(result, {}) == result.document


def test_resolve_with_a_missing_resolution_raises_unresolved_conflicts():
    with pytest.raises(Invalid) as raised:
        resolve(conflicted(), {"/service_objects": "local"})
    assert raised.value.code == "unresolved_conflicts"
    assert [e["path"] for e in raised.value.details["errors"]] == ["/materials/m2/name", "/materials/m3",
                                                                  "/materials/m4"]


def test_resolve_with_an_unknown_path_raises_unknown_conflict_path():
    resolutions = {c.path: "local" for c in conflicted().conflicts} | {"/materials/m1": "local"}
    with pytest.raises(Invalid) as raised:
        resolve(conflicted(), resolutions)
    assert raised.value.code == "unknown_conflict_path"
    assert raised.value.details["errors"][0]["path"] == "/materials/m1"


def test_resolving_an_entry_with_another_id_is_invalid():
    resolutions = {c.path: "local" for c in conflicted().conflicts} | {"/materials/m4": {"id": "m7"}}
    with pytest.raises(Invalid) as raised:
        resolve(conflicted(), resolutions)
    assert raised.value.code == "invalid_resolution"


# --- real catalogue records ------------------------------------------------------------------------

def test_rebasing_onto_real_catalogue_records_takes_their_revised_four_same_fields(liaoning_sample):
    records = json.loads(liaoning_sample.read_text("utf-8"))
    assert records
    for record in records:
        base = {**catalogue_doc(), "basic_code": record["职权编码"], "name": record["事项名称"],
                "item_type": record["事项类型"],
                "basis": [{"id": "b1", "kind": "其他", "title": "依据", "text": record["依据"]}]}
        local = local_of(base)
        local["materials"].reverse()
        catalogue = {**copy.deepcopy(base), "name": record["事项名称"] + "（修订）"}
        catalogue["basis"][0]["text"] = record["依据"][: len(record["依据"]) // 2]
        result = merge(base, local, catalogue)
        assert result.clean
        assert result.document["name"] == catalogue["name"]
        assert result.document["basis"] == catalogue["basis"]
        assert ids(result.document) == ["m5", "m4", "m3", "m2", "m1"]
