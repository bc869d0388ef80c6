"""Catalogue list entries keep their identity across versions: explicit ids always, names and likely
renames when an import brings no ids; a rename carried by id keeps a local item's edits on rebase."""
from __future__ import annotations

import copy
import io
import json

import pytest

from items import codes, store
from items.catalogue import CatalogueService
from items.entry_match import match_entries
from items.local import LocalItemService
from items.rebase import RebaseService
from items.scope import Actor

BASIC = "000104002000"
ADMIN = Actor(username="admin", role="province_admin")
ORG = codes.make_credit_code("11410402MB1234567")


def material(mid: str | None, name: str, **changes) -> dict:
    entry = {"name": name, "necessity": "required", "source": "applicant", "form": "both", "originals": 1,
             "copies": 1, "e_license": "", "note": ""}
    if mid:
        entry["id"] = mid
    return dict(entry, **changes)


def catalogue_doc(materials: list[dict]) -> dict:
    return {"basic_code": BASIC, "name": "建筑工程施工许可证核发", "item_type": "01",
            "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "……"}],
            "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
            "service_objects": ["enterprise"], "conditions": [], "materials": materials, "process": [],
            "fees": [], "faq": []}


OLD = catalogue_doc([material("m1", "申请表"), material("m2", "规划许可证"), material("m3", "施工合同")])


def ids_and_names(document: dict) -> list[tuple]:
    return [(m.get("id"), m["name"]) for m in document["materials"]]


# --- matching (pure) -------------------------------------------------------------------------------

def test_an_explicit_id_is_kept_when_the_entry_is_renamed():
    new = copy.deepcopy(OLD)
    new["materials"][0]["name"] = "施工许可申请表"
    matched, renames = match_entries(OLD, new)
    assert ids_and_names(matched)[0] == ("m1", "施工许可申请表")
    assert renames == []  # the id said so: nothing was guessed


def test_an_explicit_id_wins_over_another_entrys_name():
    new = catalogue_doc([material("m1", "规划许可证"), material("m9", "施工合同")])
    matched, _ = match_entries(OLD, new)
    assert ids_and_names(matched) == [("m1", "规划许可证"), ("m9", "施工合同")]


def test_entries_without_ids_take_the_ids_of_the_same_names_in_any_order():
    new = catalogue_doc([material(None, "施工合同"), material(None, "申请表")])
    matched, renames = match_entries(OLD, new)
    assert ids_and_names(matched) == [("m3", "施工合同"), ("m1", "申请表")] and renames == []


def test_an_unnamed_entry_in_the_place_of_an_unmatched_one_is_reported_as_a_rename():
    new = catalogue_doc([material(None, "施工许可申请表"), material(None, "规划许可证"), material(None, "施工合同")])
    matched, renames = match_entries(OLD, new)
    assert ids_and_names(matched)[0] == ("m1", "施工许可申请表")
    assert renames == [{"field": "materials", "id": "m1", "position": 0, "from": "申请表", "to": "施工许可申请表",
                        "similarity": 1.0}]


def test_a_moved_entry_with_identical_other_fields_is_a_rename_but_a_different_one_is_new():
    moved = catalogue_doc([material(None, "规划许可证"), material(None, "施工合同"),
                           material(None, "施工许可申请表")])
    matched, renames = match_entries(OLD, moved)
    assert ids_and_names(matched)[2] == ("m1", "施工许可申请表") and len(renames) == 1
    different = catalogue_doc([material(None, "规划许可证"), material(None, "施工合同"),
                               material(None, "资质证书", source="government", form="electronic", copies=0)])
    matched, renames = match_entries(OLD, different)
    assert ids_and_names(matched)[2] == (None, "资质证书") and renames == []


def test_in_a_list_that_brings_ids_an_entry_without_one_is_new_even_in_a_removed_entrys_place():
    new = catalogue_doc([material("m1", "申请表"), material("m2", "规划许可证"), material(None, "质量监督手续")])
    matched, renames = match_entries(OLD, new)
    assert ids_and_names(matched)[2] == (None, "质量监督手续") and renames == []


def test_an_entry_at_the_same_place_that_shares_little_is_new():
    new = catalogue_doc([material(None, "资质证书", necessity="optional", source="government", form="electronic",
                                  originals=0, copies=0, note="电子证照"),
                         material(None, "规划许可证"), material(None, "施工合同")])
    matched, renames = match_entries(OLD, new)
    assert ids_and_names(matched)[0] == (None, "资质证书") and renames == []


# --- on real storage -------------------------------------------------------------------------------

@pytest.fixture
def stack(db_url):
    from server import db as dbmod
    db = dbmod.connect(db_url)
    with db.connection_context():
        store.ensure_region("410402", "卫东区", None, "4")
        store.ensure_org(ORG, "卫东区住房和城乡建设局", "410402", "4")
        catalogue, items = CatalogueService(), LocalItemService()
        catalogue.put(BASIC, OLD, ADMIN)
        impl_code = items.claim(BASIC, ORG, "4", None, ADMIN)["impl_code"]
        yield catalogue, items, RebaseService(items), impl_code
    db.close()


def edit_local(items, impl_code):
    """The department notes material m1 and moves it last."""
    doc = copy.deepcopy(items.get(impl_code)["document"])
    first = doc["materials"].pop(0)
    doc["materials"].append(dict(first, note="请加盖公章", copies=2))
    items.write_version(impl_code, doc, ADMIN, message="local edit")


def test_renaming_a_material_by_its_id_keeps_the_local_items_edits_and_order_on_rebase(stack):
    catalogue, items, service, impl_code = stack
    edit_local(items, impl_code)
    new = copy.deepcopy(OLD)
    new["materials"][0]["name"] = "建筑工程施工许可申请表"
    answer = catalogue.put(BASIC, new, ADMIN)
    assert answer["version"] == 2 and answer["renames"] == []
    assert [op["path"] for op in answer["patch"]] == ["/materials/0/name"]  # a rename, not remove + add

    result = service.rebase(impl_code, ADMIN)
    assert result["status"] == "clean", result
    materials = items.get(impl_code)["document"]["materials"]
    assert [m["id"] for m in materials] == ["m2", "m3", "m1"]
    assert (materials[2]["name"], materials[2]["note"], materials[2]["copies"]) == ("建筑工程施工许可申请表",
                                                                                  "请加盖公章", 2)


@pytest.mark.parametrize("dry_run", [True, False])
def test_an_import_without_ids_shows_a_likely_rename_in_its_report_and_keeps_the_id(stack, dry_run):
    catalogue, items, service, impl_code = stack
    new = copy.deepcopy(OLD)
    for entry in new["materials"]:
        del entry["id"]
    new["materials"][0]["name"] = "建筑工程施工许可申请表"
    report = catalogue.import_file(json.dumps([new], ensure_ascii=False).encode(), "catalogue.json", ADMIN,
                                   dry_run=dry_run)
    assert report["errors"] == [] and report["updated"] == 1 and report["written"] is not dry_run
    assert report["renames"] == [{"field": "materials", "id": "m1", "position": 0, "from": "申请表",
                                  "to": "建筑工程施工许可申请表", "similarity": 1.0, "row": 1,
                                  "basic_code": BASIC}]
    latest = catalogue.get(BASIC)
    if dry_run:
        assert latest["version"] == 1
    else:
        assert ids_and_names(latest["document"])[0] == ("m1", "建筑工程施工许可申请表")
        edit_local(items, impl_code)
        assert service.rebase(impl_code, ADMIN)["status"] == "clean"
        assert [m["id"] for m in items.get(impl_code)["document"]["materials"]] == ["m2", "m3", "m1"]


def csv_with_materials(lines: list[str]) -> bytes:
    """The CSV template's example row for a new basic code, with these material lines."""
    import csv
    from items import importer
    header, example = list(csv.reader(io.StringIO(importer.write_template("csv").decode("utf-8-sig"))))
    row = dict(zip(header, example))
    row["基本编码"] = "000104009000"
    for name in header:
        if name.startswith("申请材料"):
            row[name] = "\n".join(lines)
    out = io.StringIO()
    csv.writer(out).writerows([header, [row[h] for h in header]])
    return out.getvalue().encode("utf-8")


def test_a_csv_reimport_matches_by_name_not_by_the_position_numbers_of_its_rows(stack):
    catalogue = stack[0]
    first = catalogue.import_file(csv_with_materials(["申请表|必要|申请人自备", "施工合同|必要|申请人自备"]), "c.csv", ADMIN)
    assert first["errors"] == [] and first["created"] == 1, first
    assert ids_and_names(catalogue.get("000104009000")["document"]) == [("m1", "申请表"), ("m2", "施工合同")]
    report = catalogue.import_file(csv_with_materials(["资质证书|容缺|政府部门核发|电子", "申请表|必要|申请人自备",
                                                       "施工合同|必要|申请人自备"]), "c.csv", ADMIN)
    assert report["errors"] == [] and report["updated"] == 1 and report["renames"] == [], report
    materials = ids_and_names(catalogue.get("000104009000")["document"])
    assert materials[1:] == [("m1", "申请表"), ("m2", "施工合同")]  # the old entries keep their ids
    assert materials[0][0] not in ("m1", "m2")
