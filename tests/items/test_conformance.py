"""Conformance of a local item to its catalogue item: four-same, outdated, findings, id-aware patch."""
from __future__ import annotations

import copy

import pytest

from items.conformance import check, diff_documents
from items.errors import Invalid
from items.patches import apply_patch


def catalogue_doc() -> dict:
    return {
        "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
        "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "…"}],
        "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
        "service_objects": ["person", "enterprise"],
        "conditions": [{"id": "c1", "text": "已取得用地批准手续"}],
        "materials": [{"id": f"m{i}", "name": f"材料{i}", "necessity": "required", "source": "applicant",
                       "form": "both", "originals": 1, "copies": 1, "e_license": None, "note": ""}
                      for i in range(1, 6)],
        "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
        "fees": [], "faq": [],
    }


def local_of(catalogue: dict) -> dict:
    doc = copy.deepcopy(catalogue)
    del doc["levels"]
    doc.update({"impl_code": "11410402MB1234567X4000104002000", "level": "4",
                "org": {"credit_code": "11410402MB1234567X", "name": "卫东区住房和城乡建设局"},
                "region_code": "410402", "promised_limit": {"value": 5, "unit": "workday", "note": ""},
                "handling_type": "promised", "visits": 1, "online_depth": 3, "channels": ["window"]})
    return doc


def kinds(report: dict, *, severity: str | None = None) -> list[tuple[str, str]]:
    return [(f["path"], f["kind"]) for f in report["findings"]
            if f["kind"] != "local_element" and (severity is None or f["severity"] == severity)]


def finding(report: dict, path: str) -> dict:
    return next(f for f in report["findings"] if f["path"] == path)


def test_an_untouched_claimed_item_conforms():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    report = check(local, catalogue, catalogue, 3, 3)
    assert report["catalogue_version"] == 3 and report["latest_catalogue_version"] == 3
    assert report["outdated"] is False
    assert all(v["same"] for v in report["four_same"].values())
    assert kinds(report) == []
    assert {f["severity"] for f in report["findings"]} == {"info"}  # only its own local elements
    assert apply_patch(catalogue, report["patch"]) == local


def test_a_renamed_local_item_is_a_four_same_deviation():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["name"] = "施工许可证办理"
    report = check(local, catalogue, catalogue, 1, 1)
    assert report["four_same"]["name"] == {"same": False, "local": "施工许可证办理", "catalogue": catalogue["name"]}
    assert report["four_same"]["basic_code"]["same"] is True
    assert kinds(report, severity="error") == [("/name", "four_same_deviation")]


def test_a_changed_legal_basis_is_a_four_same_deviation():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["basis"][0]["article"] = "第八条"
    report = check(local, catalogue, catalogue, 1, 1)
    assert report["four_same"]["basis"]["same"] is False
    assert kinds(report, severity="error") == [("/basis", "four_same_deviation")]


def test_a_changed_legal_limit_is_a_catalogue_owned_error():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["legal_limit"] = {"value": 20, "unit": "workday", "note": ""}
    report = check(local, catalogue, catalogue, 1, 1)
    assert kinds(report, severity="error") == [("/legal_limit", "catalogue_owned_changed")]


def test_an_item_based_on_an_older_version_is_outdated_and_warned_of_a_renamed_catalogue():
    base = catalogue_doc()
    latest = {**copy.deepcopy(base), "name": "建筑工程施工许可"}
    report = check(local_of(base), base, latest, 2, 5)
    assert report["outdated"] is True
    assert report["four_same"]["name"]["same"] is True  # against the version it is based on
    assert kinds(report) == [("/name", "four_same_outdated")]
    assert finding(report, "/name")["severity"] == "warning"


def test_an_item_on_the_latest_version_is_not_outdated():
    catalogue = catalogue_doc()
    assert check(local_of(catalogue), catalogue, catalogue, 4, 4)["outdated"] is False


def test_an_added_material_without_a_reason_is_a_warning():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["materials"].append({"id": "m9", "name": "无犯罪记录证明", "necessity": "required", "note": ""})
    report = check(local, catalogue, catalogue, 1, 1)
    added = finding(report, "/materials/m9")
    assert (added["kind"], added["severity"]) == ("material_added", "warning")
    assert "reason" in added["message"]


@pytest.mark.parametrize("reason_field", ["note", "reason"])
def test_an_added_material_with_a_reason_is_only_information(reason_field):
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["materials"].append({"id": "m9", "name": "无犯罪记录证明", "necessity": "required",
                               reason_field: "依据市级规定需核验"})
    added = finding(check(local, catalogue, catalogue, 1, 1), "/materials/m9")
    assert (added["kind"], added["severity"]) == ("material_added", "info")


def test_a_blank_note_is_not_a_reason():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["materials"].append({"id": "m9", "name": "无犯罪记录证明", "note": "   "})
    assert finding(check(local, catalogue, catalogue, 1, 1), "/materials/m9")["severity"] == "warning"


def test_a_dropped_material_is_a_warning():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    del local["materials"][2]
    report = check(local, catalogue, catalogue, 1, 1)
    assert kinds(report, severity="warning") == [("/materials/m3", "material_dropped")]
    assert [op for op in report["patch"] if op["path"].startswith("/materials")] == [
        {"op": "remove", "path": "/materials/2"}]


def test_a_reorder_is_one_move_and_one_reordered_finding():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["materials"].append(local["materials"].pop(0))  # m1 to the end
    report = check(local, catalogue, catalogue, 1, 1)
    material_ops = [op for op in report["patch"] if op["path"].startswith("/materials")]
    assert material_ops == [{"op": "move", "from": "/materials/0", "path": "/materials/4"}]
    assert kinds(report) == [("/materials", "reordered")]


def test_an_edited_material_is_a_local_element_patched_inside_the_entry():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["materials"][1]["copies"] = 2
    report = check(local, catalogue, catalogue, 1, 1)
    assert {"op": "replace", "path": "/materials/1/copies", "value": 2} in report["patch"]
    edited = finding(report, "/materials/m2")
    assert (edited["kind"], edited["severity"]) == ("local_element", "info")
    assert "copies" in edited["message"]


def test_the_fast_path_skips_the_patch_and_keeps_the_findings():
    catalogue = catalogue_doc()
    local = local_of(catalogue)
    local["name"] = "别的名字"
    del local["materials"][0]
    full, fast = check(local, catalogue, catalogue, 1, 2), check(local, catalogue, catalogue, 1, 2, with_patch=False)
    assert fast["patch"] is None
    assert fast["findings"] == full["findings"] and fast["four_same"] == full["four_same"]


def test_diff_documents_patches_inside_entries_by_their_current_index():
    src = {"faq": [{"id": "q1", "question": "甲"}, {"id": "q2", "question": "乙"}, {"id": "q3", "question": "丙"}]}
    dst = {"faq": [{"id": "q3", "question": "丙？"}, {"id": "q4", "question": "丁"}, {"id": "q1", "question": "甲"}]}
    ops = diff_documents(src, dst)
    assert [op["op"] for op in ops] == ["remove", "move", "add", "replace"]
    assert ops[-1] == {"op": "replace", "path": "/faq/0/question", "value": "丙？"}
    assert apply_patch(src, ops) == dst


def test_diff_documents_escapes_keys_in_paths():
    ops = diff_documents({"a/b": 1, "c~d": [1]}, {"a/b": 2, "c~d": [2]})
    assert [op["path"] for op in ops] == ["/a~1b", "/c~0d"]


def test_diff_documents_replaces_a_list_whose_ids_repeat():
    src = {"materials": [{"id": "m1"}, {"id": "m1", "x": 1}]}
    dst = {"materials": [{"id": "m1", "x": 1}, {"id": "m1"}]}
    assert diff_documents(src, dst) == [{"op": "replace", "path": "/materials", "value": dst["materials"]}]


def test_diff_documents_without_verification_does_not_raise_on_a_valid_patch():
    src, dst = catalogue_doc(), local_of(catalogue_doc())
    assert diff_documents(src, dst, verify=False) == diff_documents(src, dst)


def test_the_verified_patch_refuses_a_patch_that_misses_its_target(monkeypatch):
    import items.conformance as conformance

    monkeypatch.setattr(conformance, "_diff", lambda path, src, dst, ops: None)
    with pytest.raises(Invalid) as raised:
        conformance.diff_documents({"a": 1}, {"a": 2})
    assert raised.value.code == "patch_unverified"
