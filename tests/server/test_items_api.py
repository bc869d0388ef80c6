"""Local items over HTTP on SQLite and PostgreSQL: claim rules, coverage, editing with If-Match, scope,
history summaries, restore and the audit log."""
from __future__ import annotations

import copy

import jsonpatch
import pytest

from samples import building_permit

from items import store
from items.codes import make_credit_code
from items.scope import Actor

ORG_A = make_credit_code("11410402MB1234567")  # 卫东区住房和城乡建设局
ORG_B = make_credit_code("11410402MB7654321")  # 卫东区市场监督管理局
PATCH_TYPE = "application/json-patch+json"
ITEM = building_permit()


def catalogue_item(basic_code: str, name: str, levels=("3", "4"), state="in_use") -> dict:
    doc = copy.deepcopy(ITEM)
    doc.update(basic_code=basic_code, name=name, levels=list(levels), state=state)
    return doc


@pytest.fixture
def world(running_app):
    """Regions, two departments of 卫东区, their editors, a reviewer, an admin and four catalogue items."""
    ctx = running_app.ctx
    with ctx.db.connection_context():
        store.ensure_region("410000", "河南省", None, "2")
        store.ensure_region("410400", "平顶山市", "410000", "3")
        store.ensure_region("410402", "卫东区", "410400", "4")
        store.ensure_org(ORG_A, "卫东区住房和城乡建设局", "410402", "4")
        store.ensure_org(ORG_B, "卫东区市场监督管理局", "410402", "4")
        # accounts without a usable password: the tests sign in with issued tokens (argon2 is slow)
        actors = {name: Actor(name, role, org, region, store.save_user(name, "!", role, org, region).id)
                  for name, role, org, region in (("admin", "province_admin", None, None),
                                                  ("editor_a", "editor", ORG_A, "410402"),
                                                  ("editor_b", "editor", ORG_B, "410402"),
                                                  ("reviewer", "reviewer", None, "410402"))}
        admin = actors["admin"]
        ctx.catalogue.put("000104002000", ITEM, admin)
        ctx.catalogue.put("000104003000", catalogue_item("000104003000", "建筑工程竣工验收备案"), admin)
        ctx.catalogue.put("000104004000", catalogue_item("000104004000", "省级资质核准", levels=("2",)), admin)
        ctx.catalogue.put("000104005000", catalogue_item("000104005000", "已取消事项", state="cancelled"), admin)

    def signed_in(name: str):
        api = running_app.api()
        api.token = ctx.accounts.issue_token(actors[name])
        return api

    return {"app": running_app, "admin": signed_in("admin"), "a": signed_in("editor_a"),
            "b": signed_in("editor_b"), "reviewer": signed_in("reviewer")}


def claim(api, basic_code="000104002000", org=ORG_A, level="4"):
    return api.post("/api/v1/items", {"basic_code": basic_code, "org_credit_code": org, "level": level,
                                      "region_code": "410402"})


def claimed(world) -> str:
    resp = claim(world["a"])
    assert resp.status == 201, resp.body
    return resp.json["impl_code"]


def patch(api, impl_code, ops, version):
    headers = {"If-Match": f'"{version}"'} if version is not None else {}
    return api.patch(f"/api/v1/items/{impl_code}", ops, headers=headers, content_type=PATCH_TYPE)


def first_rule(resp) -> str:
    return resp.json["error"]["details"]["errors"][0]["rule"]


# --- claiming -----------------------------------------------------------------------------------------

def test_claim_makes_version_one_with_the_catalogue_fields(world):
    resp = claim(world["a"])
    assert resp.status == 201, resp.body
    impl_code = resp.json["impl_code"]
    assert impl_code == ORG_A + "4" + "000104002000"
    assert resp.headers["Location"] == f"/api/v1/items/{impl_code}"
    item = world["a"].get(f"/api/v1/items/{impl_code}")
    assert item.json["version"] == 1 and item.json["status"] == "draft"
    assert item.json["document"]["basis"] == ITEM["basis"]


def test_claim_at_a_level_the_item_does_not_apply_at_is_422(world):
    resp = claim(world["a"], "000104004000")
    assert resp.status == 422
    assert resp.error_code() == "validation_failed" and first_rule(resp) == "level_applies"


def test_claiming_twice_at_the_same_level_is_409(world):
    assert claim(world["a"]).status == 201
    resp = claim(world["a"])
    assert resp.status == 409 and resp.error_code() == "already_claimed"
    assert resp.json["error"]["details"]["basic_code"] == "000104002000"


def test_claiming_a_cancelled_catalogue_item_is_422(world):
    resp = claim(world["a"], "000104005000")
    assert resp.status == 422 and first_rule(resp) == "catalogue_in_use"


def test_claiming_for_another_department_is_403(world):
    resp = claim(world["a"], org=ORG_B)
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


def test_reviewer_cannot_claim(world):
    resp = claim(world["reviewer"])
    assert resp.status == 403 and resp.error_code() == "role_required"


def test_bulk_claim_reports_each_code_and_keeps_the_good_ones(world):
    resp = world["a"].post("/api/v1/items/bulk-claim", {
        "basic_codes": ["000104002000", "000104004000", "000104003000", "000104002000", "999999999999"],
        "org_credit_code": ORG_A, "level": "4"})
    assert resp.status == 200, resp.body
    results = resp.json["results"]
    assert [r["ok"] for r in results] == [True, False, True, False, False]
    assert [r.get("error", {}).get("code") for r in results] == [
        None, "validation_failed", None, "already_claimed", "catalogue_item_not_found"]
    assert resp.json["claimed"] == 2 and resp.json["failed"] == 3
    listed = world["a"].get("/api/v1/items").json
    assert listed["total"] == 2


def test_bulk_claim_for_another_department_is_refused_whole(world):
    resp = world["a"].post("/api/v1/items/bulk-claim", {"basic_codes": ["000104002000"],
                                                         "org_credit_code": ORG_B, "level": "4"})
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


def test_coverage_lists_unclaimed_items_and_the_claim_rate(world):
    before = world["reviewer"].get("/api/v1/items/coverage?region=410402&level=4")
    assert before.status == 200, before.body
    # levels 3,4 in use: 000104002000 and 000104003000; the level-2 and the cancelled one do not count
    assert before.json["applicable"] == 2 and before.json["claimed"] == 0 and before.json["claim_rate"] == 0
    claimed(world)
    after = world["reviewer"].get("/api/v1/items/coverage?region=410402&level=4").json
    assert after["claimed"] == 1 and after["claim_rate"] == 0.5
    assert [u["basic_code"] for u in after["unclaimed"]] == ["000104003000"]


def test_coverage_of_another_region_is_403(world):
    resp = world["reviewer"].get("/api/v1/items/coverage?region=410403&level=4")
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


# --- editing with If-Match ----------------------------------------------------------------------------

def test_get_carries_the_version_as_etag(world):
    impl_code = claimed(world)
    resp = world["a"].get(f"/api/v1/items/{impl_code}")
    assert resp.headers["ETag"] == '"1"'


def test_patch_without_if_match_is_428(world):
    impl_code = claimed(world)
    resp = patch(world["a"], impl_code, [{"op": "replace", "path": "/phone", "value": "0375-1234567"}], None)
    assert resp.status == 428 and resp.error_code() == "if_match_required"


def test_patch_with_good_if_match_makes_the_next_version(world):
    impl_code = claimed(world)
    resp = patch(world["a"], impl_code, [{"op": "replace", "path": "/phone", "value": "0375-1234567"}], 1)
    assert resp.status == 200, resp.body
    assert resp.json["version"] == 2 and resp.headers["ETag"] == '"2"'
    assert resp.json["patch"] == [{"op": "replace", "path": "/phone", "value": "0375-1234567"}]
    assert isinstance(resp.json["warnings"], list)
    assert world["a"].get(f"/api/v1/items/{impl_code}").json["document"]["phone"] == "0375-1234567"


def test_patch_with_stale_if_match_is_412_naming_the_current_version(world):
    impl_code = claimed(world)
    assert patch(world["a"], impl_code, [{"op": "replace", "path": "/hours", "value": "9:00-17:00"}], 1).status == 200
    resp = patch(world["a"], impl_code, [{"op": "replace", "path": "/hours", "value": "8:30-17:30"}], 1)
    assert resp.status == 412 and resp.error_code() == "stale_version"
    assert resp.json["error"]["details"]["current_version"] == 2


def test_patch_with_plain_json_content_type_is_415(world):
    impl_code = claimed(world)
    resp = world["a"].patch(f"/api/v1/items/{impl_code}", [{"op": "replace", "path": "/hours", "value": "9-5"}],
                            headers={"If-Match": '"1"'})
    assert resp.status == 415 and resp.error_code() == "unsupported_media_type"


@pytest.mark.parametrize("etag", ['*', '"abc"', '"99999"', 'W/"x"', '"1", "2"', '"99999999999999999999999"'])
def test_if_match_naming_no_current_version_is_412_with_the_current_version(world, etag):
    impl_code = claimed(world)
    resp = world["a"].patch(f"/api/v1/items/{impl_code}", [], headers={"If-Match": etag}, content_type=PATCH_TYPE)
    assert resp.status == 412 and resp.error_code() == "stale_version"
    assert resp.json["error"]["details"]["current_version"] == 1


@pytest.mark.parametrize("path,value,rule", [
    ("/name", "施工许可", "four_same_locked"),
    ("/basic_code", "000104003000", "four_same_locked"),
    ("/item_type", "02", "four_same_locked"),
    ("/basis/0/article", "第八条", "four_same_locked"),
    ("/legal_limit", {"value": 30, "unit": "workday", "note": ""}, "catalogue_owned"),
])
def test_editors_cannot_change_catalogue_fields(world, path, value, rule):
    impl_code = claimed(world)
    resp = patch(world["a"], impl_code, [{"op": "replace", "path": path, "value": value}], 1)
    assert resp.status == 422 and resp.error_code() == rule
    assert resp.json["error"]["details"]["errors"][0]["path"] == "/" + path.split("/")[1]


def test_validation_errors_list_each_field_and_rule(world):
    impl_code = claimed(world)
    resp = patch(world["a"], impl_code, [
        {"op": "replace", "path": "/promised_limit", "value": {"value": 20, "unit": "workday", "note": ""}},
        {"op": "replace", "path": "/visits", "value": 9}], 1)
    assert resp.status == 422 and resp.error_code() == "validation_failed"
    rules = {(e["path"], e["rule"]) for e in resp.json["error"]["details"]["errors"]}
    assert ("/promised_limit", "promised_within_legal") in rules and ("/visits", "visits_range") in rules


def test_patch_that_duplicates_a_list_id_or_adds_an_idless_entry_is_refused(world):
    impl_code = claimed(world)
    material = {"name": "施工合同", "necessity": "required", "source": "applicant", "form": "paper",
                "originals": 1, "copies": 1, "e_license": "", "note": "合同备案需要"}
    duplicate = patch(world["a"], impl_code, [{"op": "add", "path": "/materials/-", "value": dict(material, id="m1")}], 1)
    assert duplicate.status == 422 and "entry_id_unique" in {e["rule"] for e in duplicate.json["error"]["details"]["errors"]}
    idless = patch(world["a"], impl_code, [{"op": "add", "path": "/materials/-", "value": material}], 1)
    assert idless.status == 422 and "entry_id" in {e["rule"] for e in idless.json["error"]["details"]["errors"]}
    assert world["a"].get(f"/api/v1/items/{impl_code}").json["version"] == 1


def test_patch_that_cannot_be_applied_is_422(world):
    impl_code = claimed(world)
    resp = patch(world["a"], impl_code, [{"op": "remove", "path": "/no_such_field"}], 1)
    assert resp.status == 422 and resp.error_code() == "patch_failed"


def test_put_replaces_the_document_under_the_same_rules(world):
    impl_code = claimed(world)
    document = world["a"].get(f"/api/v1/items/{impl_code}").json["document"]
    document["location"] = "卫东区政务服务中心二楼"
    assert world["a"].put(f"/api/v1/items/{impl_code}", document).status == 428
    resp = world["a"].put(f"/api/v1/items/{impl_code}", document, headers={"If-Match": '"1"'})
    assert resp.status == 200 and resp.json["version"] == 2, resp.body
    stale = world["a"].put(f"/api/v1/items/{impl_code}", document, headers={"If-Match": '"1"'})
    assert stale.status == 412 and stale.json["error"]["details"]["current_version"] == 2
    document["name"] = "改名"
    locked = world["a"].put(f"/api/v1/items/{impl_code}", document, headers={"If-Match": '"2"'})
    assert locked.status == 422 and locked.error_code() == "four_same_locked"


# --- scope --------------------------------------------------------------------------------------------

def test_editor_of_another_department_can_neither_read_nor_patch(world):
    impl_code = claimed(world)
    read = world["b"].get(f"/api/v1/items/{impl_code}")
    assert read.status == 403 and read.error_code() == "out_of_scope"
    write = patch(world["b"], impl_code, [{"op": "replace", "path": "/hours", "value": "9-5"}], 1)
    assert write.status == 403 and write.error_code() == "out_of_scope"
    assert world["b"].get(f"/api/v1/items/{impl_code}/versions").status == 403


def test_reviewer_reads_but_cannot_edit(world):
    impl_code = claimed(world)
    assert world["reviewer"].get(f"/api/v1/items/{impl_code}").status == 200
    resp = patch(world["reviewer"], impl_code, [{"op": "replace", "path": "/hours", "value": "9-5"}], 1)
    assert resp.status == 403 and resp.error_code() == "role_required"


# --- history and restore ------------------------------------------------------------------------------

def test_versions_carry_a_readable_summary_of_each_change(world):
    impl_code = claimed(world)
    material = {"id": "m-contract", "name": "施工合同", "necessity": "required", "source": "applicant",
                "form": "paper", "originals": 1, "copies": 1, "e_license": "", "note": "合同备案需要"}
    resp = patch(world["a"], impl_code, [
        {"op": "replace", "path": "/promised_limit/value", "value": 5},
        {"op": "add", "path": "/materials/-", "value": material}], 1)
    assert resp.status == 200, resp.body
    versions = world["a"].get(f"/api/v1/items/{impl_code}/versions").json["versions"]
    assert versions[1]["summary"] == ["材料 新增: 施工合同", "承诺时限: 15 工作日 → 5 工作日"]  # document order
    summary = world["a"].get(f"/api/v1/items/{impl_code}/versions/2/summary").json
    assert {c["element"] for c in summary["changes"]} == {"promised_limit", "materials"}
    diff = world["a"].get(f"/api/v1/items/{impl_code}/diff?from=1&to=2").json["patch"]
    v1 = world["a"].get(f"/api/v1/items/{impl_code}?version=1").json["document"]
    v2 = world["a"].get(f"/api/v1/items/{impl_code}").json["document"]
    assert jsonpatch.apply_patch(v1, diff) == v2


def test_restore_writes_the_old_document_as_a_new_draft(world):
    impl_code = claimed(world)
    assert patch(world["a"], impl_code, [{"op": "replace", "path": "/hours", "value": "9:00-17:00"}], 1).status == 200
    assert patch(world["a"], impl_code, [{"op": "replace", "path": "/phone", "value": "0375-7654321"}], 2).status == 200
    no_match = world["a"].post(f"/api/v1/items/{impl_code}/restore", {"version": 1})
    assert no_match.status == 428
    stale = world["a"].post(f"/api/v1/items/{impl_code}/restore", {"version": 1}, headers={"If-Match": '"2"'})
    assert stale.status == 412
    resp = world["a"].post(f"/api/v1/items/{impl_code}/restore", {"version": 1}, headers={"If-Match": '"3"'})
    assert resp.status == 200, resp.body
    assert resp.json["version"] == 4 and resp.json["status"] == "draft" and resp.headers["ETag"] == '"4"'
    v1 = world["a"].get(f"/api/v1/items/{impl_code}?version=1").json["document"]
    assert world["a"].get(f"/api/v1/items/{impl_code}").json["document"] == v1
    missing = world["a"].post(f"/api/v1/items/{impl_code}/restore", {"version": 9}, headers={"If-Match": '"4"'})
    assert missing.status == 404 and missing.error_code() == "version_not_found"


# --- audit ----------------------------------------------------------------------------------------------

def test_every_write_lands_in_the_audit_log(world):
    impl_code = claimed(world)
    patch(world["a"], impl_code, [{"op": "replace", "path": "/hours", "value": "9:00-17:00"}], 1)
    document = world["a"].get(f"/api/v1/items/{impl_code}").json["document"]
    world["a"].put(f"/api/v1/items/{impl_code}", dict(document, location="二楼"), headers={"If-Match": '"2"'})
    world["a"].post(f"/api/v1/items/{impl_code}/restore", {"version": 1}, headers={"If-Match": '"3"'})
    resp = world["admin"].get(f"/api/v1/audit?target={impl_code}")
    assert resp.status == 200, resp.body
    entries = resp.json["entries"]
    assert [e["action"] for e in reversed(entries)] == ["item.claim", "item.revise", "item.replace", "item.restore"]
    assert all(e["actor"] == "editor_a" and e["remote_ip"] == "127.0.0.1" and e["at"] for e in entries)
    assert [e["details"].get("version") for e in reversed(entries)][1:] == [2, 3, 4]
    by_actor = world["admin"].get("/api/v1/audit?actor=editor_a&action=item.revise").json
    assert by_actor["total"] == 1 and by_actor["entries"][0]["target"] == impl_code


def test_only_province_admins_read_the_audit_log(world):
    resp = world["reviewer"].get("/api/v1/audit")
    assert resp.status == 403 and resp.error_code() == "role_required"
