"""Conformance and rebase over HTTP on SQLite and PostgreSQL: one item, the outdated list, preview and bulk."""
from __future__ import annotations

import copy

import jsonpatch
import pytest

from items import codes, store
from items.records import AuditRecord, LocalVersionRecord
from items.scope import Actor

BASIC = "000104002000"
CITY, COUNTY_A, COUNTY_B = "410400", "410402", "410403"
ORG_A = codes.make_credit_code("11410402MB1234567")
ORG_B = codes.make_credit_code("11410403MB7654321")
ORG_C = codes.make_credit_code("11410402MB2222222")


def material(name: str, note: str = "") -> dict:
    return {"name": name, "necessity": "required", "source": "applicant", "form": "both", "originals": 1,
            "copies": 1, "e_license": "", "note": note}


CATALOGUE = {
    "basic_code": BASIC, "name": "建筑工程施工许可证核发", "item_type": "01",
    "basis": [{"kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "建筑工程开工前……"}],
    "levels": ["3", "4"], "state": "in_use",
    "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "service_objects": ["enterprise"],
    "conditions": [{"text": "已经办理该建筑工程用地批准手续"}],
    "materials": [material("建筑工程施工许可证申请表"), material("建设工程规划许可证"), material("施工合同"),
                  material("安全施工措施资料")],
    "process": [{"name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
    "fees": [], "faq": [],
}


class World:
    """A catalogue item, three departments in two counties, their editors, and helpers to act."""

    def __init__(self, app):
        self.app = app
        ctx = app.ctx
        with ctx.db.connection_context():
            store.ensure_region("410000", "河南省", None, "2")
            store.ensure_region(CITY, "平顶山市", "410000", "3")
            store.ensure_region(COUNTY_A, "新华区", CITY, "4")
            store.ensure_region(COUNTY_B, "卫东区", CITY, "4")
            store.ensure_org(ORG_A, "新华区住房和城乡建设局", COUNTY_A, "4")
            store.ensure_org(ORG_B, "卫东区住房和城乡建设局", COUNTY_B, "4")
            store.ensure_org(ORG_C, "新华区行政审批服务局", COUNTY_A, "4")
        ctx.accounts.create_user("admin", "admin-password", "province_admin")
        for name, org in (("ed_a", ORG_A), ("ed_b", ORG_B), ("ed_c", ORG_C)):
            ctx.accounts.create_user(name, f"{name}-password", "editor", org=org)
        ctx.accounts.create_user("rev", "reviewer-pass", "reviewer", region=CITY)
        self.admin = self.login("admin", "admin-password")
        assert self.admin.put(f"/api/v1/catalogue/items/{BASIC}", CATALOGUE).status == 201

    def login(self, user: str, password: str | None = None):
        api = self.app.api()
        api.login(user, password or f"{user}-password")
        return api

    def catalogue(self, version: int | None = None) -> dict:
        suffix = f"?version={version}" if version else ""
        return self.admin.get(f"/api/v1/catalogue/items/{BASIC}{suffix}").json["document"]

    def revise_catalogue(self, change) -> int:
        doc = copy.deepcopy(self.catalogue())
        change(doc)
        resp = self.admin.put(f"/api/v1/catalogue/items/{BASIC}", doc)
        assert resp.status == 200, resp.body
        return resp.json["version"]

    def claim(self, org: str, region: str, api) -> str:
        resp = api.post("/api/v1/items", {"basic_code": BASIC, "org_credit_code": org, "level": "4",
                                          "region_code": region})
        assert resp.status == 201, resp.body
        return resp.json["impl_code"]

    def item(self, impl_code: str) -> dict:
        return self.admin.get(f"/api/v1/items/{impl_code}").json

    def edit(self, impl_code: str, change, username: str = "ed_a", org: str = ORG_A) -> int:
        """A local edit through the item service, as the department's editor would save it."""
        doc = copy.deepcopy(self.item(impl_code)["document"])
        change(doc)
        with self.app.ctx.db.connection_context():
            saved = self.app.ctx.items.write_version(impl_code, doc, Actor(username, "editor", org=org),
                                                     message="local edit")
        return saved["version"]

    def count(self, model) -> int:
        with self.app.ctx.db.connection_context():
            return model.select().count()


def ids(doc: dict, field: str = "materials") -> list[str]:
    return [e["id"] for e in doc[field]]


def by_name(doc: dict, name: str, field: str = "materials") -> dict:
    return next(e for e in doc[field] if e["name"] == name)


@pytest.fixture
def world(running_app) -> World:
    return World(running_app)


def test_conformance_flags_a_four_same_deviation_written_straight_into_storage(world):
    editor = world.login("ed_a")
    impl = world.claim(ORG_A, COUNTY_A, editor)
    fresh = editor.get(f"/api/v1/items/{impl}/conformance")
    assert fresh.status == 200, fresh.body
    assert all(v["same"] for v in fresh.json["four_same"].values())
    assert not [f for f in fresh.json["findings"] if f["severity"] == "error"]
    assert fresh.json["outdated"] is False and fresh.json["catalogue_version"] == 1

    tampered = copy.deepcopy(world.item(impl)["document"])
    tampered["name"] = "施工许可证办理（本地叫法）"
    with world.app.ctx.db.connection_context():
        LocalVersionRecord.update(document=tampered).where(
            (LocalVersionRecord.impl_code == impl) & (LocalVersionRecord.version == 1)).execute()
    report = editor.get(f"/api/v1/items/{impl}/conformance").json
    assert report["four_same"]["name"] == {"same": False, "local": "施工许可证办理（本地叫法）",
                                           "catalogue": CATALOGUE["name"]}
    assert report["four_same"]["basic_code"]["same"] is True
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert [(f["path"], f["kind"]) for f in errors] == [("/name", "four_same_deviation")]
    assert jsonpatch.apply_patch(world.catalogue(1), report["patch"]) == tampered


def test_catalogue_revision_marks_items_outdated_and_the_list_filters_by_region_and_org(world):
    a = world.claim(ORG_A, COUNTY_A, world.login("ed_a"))
    b = world.claim(ORG_B, COUNTY_B, world.login("ed_b"))
    assert world.admin.get("/api/v1/items?outdated=1").json["total"] == 0
    world.revise_catalogue(lambda d: d["legal_limit"].update(value=10))

    listed = world.admin.get("/api/v1/items?outdated=1").json
    assert {i["impl_code"] for i in listed["items"]} == {a, b}
    assert [i["impl_code"] for i in world.admin.get(f"/api/v1/items?outdated=1&region={COUNTY_B}").json["items"]] == [b]
    assert [i["impl_code"] for i in world.admin.get(f"/api/v1/items?outdated=1&org={ORG_A}").json["items"]] == [a]
    assert world.admin.get(f"/api/v1/items?outdated=1&region={CITY}").json["total"] == 2
    assert [i["impl_code"] for i in world.login("ed_b").get("/api/v1/items?outdated=1").json["items"]] == [b]

    report = world.login("ed_a").get(f"/api/v1/items/{a}/conformance").json
    assert report["outdated"] is True
    assert (report["catalogue_version"], report["latest_catalogue_version"]) == (1, 2)


def test_clean_rebase_saves_a_draft_version_on_the_new_catalogue_and_keeps_local_edits(world):
    editor = world.login("ed_a")
    impl = world.claim(ORG_A, COUNTY_A, editor)
    v1 = world.catalogue(1)
    m = {e["name"]: e["id"] for e in v1["materials"]}

    def local_edits(doc):
        doc["materials"].reverse()
        doc["materials"].append(dict(material("本地补充材料", note="本地特殊需要"), id="m-local"))
        doc["promised_limit"]["value"] = 5
    world.edit(impl, local_edits)

    def catalogue_change(doc):
        doc["materials"] = [e for e in doc["materials"] if e["name"] != "施工合同"]
        doc["materials"].append(material("质量监督手续"))
        doc["legal_limit"]["value"] = 10
        doc["basis"][0]["text"] = "建筑工程开工前，建设单位应当申请领取施工许可证。"
    assert world.revise_catalogue(catalogue_change) == 2

    resp = editor.post(f"/api/v1/items/{impl}/rebase", {})
    assert resp.status == 200, resp.body
    body = resp.json
    assert body["status"] == "clean" and body["conflicts"] == [] and body["version"] == 3
    assert resp.headers["ETag"] == '"3"'
    doc = body["document"]
    new_id = by_name(world.catalogue(2), "质量监督手续")["id"]
    assert m["施工合同"] not in ids(doc)
    kept = [i for i in ids(doc) if i in m.values()]
    assert kept == [m["安全施工措施资料"], m["建设工程规划许可证"], m["建筑工程施工许可证申请表"]]  # local order
    assert new_id in ids(doc) and "m-local" in ids(doc)
    assert doc["legal_limit"]["value"] == 10 and doc["promised_limit"]["value"] == 5
    assert doc["basis"] == world.catalogue(2)["basis"]

    item = world.item(impl)
    assert (item["version"], item["based_on_catalogue_version"], item["status"]) == (3, 2, "draft")
    assert item["document"] == doc
    history = world.admin.get(f"/api/v1/items/{impl}/versions").json["versions"]
    assert history[-1]["message"] == "rebase onto catalogue v2"
    v2_doc = world.admin.get(f"/api/v1/items/{impl}?version=2").json["document"]
    assert jsonpatch.apply_patch(v2_doc, history[-1]["patch"]) == doc
    assert world.login("ed_a").get(f"/api/v1/items/{impl}/conformance").json["outdated"] is False

    again = editor.post(f"/api/v1/items/{impl}/rebase")
    assert again.status == 200 and again.json["status"] == "up_to_date"
    assert world.item(impl)["version"] == 3


def test_rebase_with_conflicts_saves_nothing_until_resolutions_settle_every_path(world):
    editor = world.login("ed_a")
    impl = world.claim(ORG_A, COUNTY_A, editor)
    form_id = by_name(world.catalogue(1), "建筑工程施工许可证申请表")["id"]
    world.edit(impl, lambda d: by_name(d, "建筑工程施工许可证申请表").update(note="加盖单位公章"))
    world.revise_catalogue(lambda d: by_name(d, "建筑工程施工许可证申请表").update(note="可在线填写"))
    audits_before = world.count(AuditRecord)

    first = editor.post(f"/api/v1/items/{impl}/rebase", {})
    assert first.status == 200, first.body
    assert first.json["status"] == "conflicts"
    path = f"/materials/{form_id}/note"
    assert [{k: c[k] for k in ("path", "base", "local", "catalogue")} for c in first.json["conflicts"]] == [
        {"path": path, "base": "", "local": "加盖单位公章", "catalogue": "可在线填写"}]
    assert by_name(first.json["document"], "建筑工程施工许可证申请表")["note"] == "加盖单位公章"
    assert world.item(impl)["version"] == 2 and world.count(AuditRecord) == audits_before

    unknown = editor.post(f"/api/v1/items/{impl}/rebase", {"resolutions": {"/materials/nope/note": "local"}})
    assert unknown.status == 422 and unknown.error_code() == "unknown_conflict_path"
    missing = editor.post(f"/api/v1/items/{impl}/rebase", {"resolutions": {}})
    assert missing.status == 422 and missing.error_code() == "unresolved_conflicts"
    assert world.item(impl)["version"] == 2

    settled = editor.post(f"/api/v1/items/{impl}/rebase", {"resolutions": {path: "加盖单位公章；可在线填写"}})
    assert settled.status == 200, settled.body
    assert settled.json["status"] == "clean" and settled.json["version"] == 3
    item = world.item(impl)
    assert by_name(item["document"], "建筑工程施工许可证申请表")["note"] == "加盖单位公章；可在线填写"
    assert item["based_on_catalogue_version"] == 2


def test_a_legal_limit_cut_below_the_promise_is_a_conflict_the_catalogue_side_settles(world):
    editor = world.login("ed_a")
    impl = world.claim(ORG_A, COUNTY_A, editor)
    world.edit(impl, lambda d: d["promised_limit"].update(value=12))
    world.revise_catalogue(lambda d: d["legal_limit"].update(value=10))
    first = editor.post(f"/api/v1/items/{impl}/rebase").json
    assert first["status"] == "conflicts"
    assert [(c["path"], c["rule"], c["local"]["value"], c["catalogue"]["value"]) for c in first["conflicts"]] == [
        ("/promised_limit", "promised_within_legal", 12, 10)]
    keep = editor.post(f"/api/v1/items/{impl}/rebase", {"resolutions": {"/promised_limit": "local"}})
    assert keep.status == 422 and keep.error_code() == "validation_failed"
    assert any(e["rule"] == "promised_within_legal" for e in keep.json["error"]["details"]["errors"])
    done = editor.post(f"/api/v1/items/{impl}/rebase", {"resolutions": {"/promised_limit": "catalogue"}})
    assert done.status == 200 and done.json["status"] == "clean"
    assert world.item(impl)["document"]["promised_limit"]["value"] == 10


def test_rebase_with_a_stale_if_match_is_412_and_to_an_unknown_version_is_404(world):
    editor = world.login("ed_a")
    impl = world.claim(ORG_A, COUNTY_A, editor)
    world.revise_catalogue(lambda d: d["legal_limit"].update(value=12))
    stale = editor.post(f"/api/v1/items/{impl}/rebase", {}, headers={"If-Match": '"7"'})
    assert stale.status == 412 and stale.error_code() == "stale_version"
    unknown = editor.post(f"/api/v1/items/{impl}/rebase", {"to_version": 9})
    assert unknown.status == 404 and unknown.error_code() == "version_not_found"
    bad = editor.post(f"/api/v1/items/{impl}/rebase", {"to_version": "two"})
    assert bad.status == 400 and bad.error_code() == "bad_parameter"
    ok = editor.post(f"/api/v1/items/{impl}/rebase", {"to_version": 2}, headers={"If-Match": '"1"'})
    assert ok.status == 200 and ok.json["status"] == "clean"


def test_impact_preview_counts_clean_and_conflicting_items_and_writes_nothing(world):
    a = world.claim(ORG_A, COUNTY_A, world.login("ed_a"))
    b = world.claim(ORG_B, COUNTY_B, world.login("ed_b"))
    c = world.claim(ORG_C, COUNTY_A, world.login("ed_c"))
    form_id = by_name(world.catalogue(1), "建筑工程施工许可证申请表")["id"]
    world.edit(b, lambda d: by_name(d, "建筑工程施工许可证申请表").update(note="本地说明"), "ed_b", ORG_B)
    world.edit(c, lambda d: d["materials"].reverse(), "ed_c", ORG_C)
    world.revise_catalogue(lambda d: by_name(d, "建筑工程施工许可证申请表").update(note="省级说明"))
    versions, audits = world.count(LocalVersionRecord), world.count(AuditRecord)

    preview = world.admin.get(f"/api/v1/catalogue/items/{BASIC}/impact")
    assert preview.status == 200, preview.body
    body = preview.json
    assert (body["items"], body["clean"], body["conflicts"], body["invalid"]) == (3, 2, 1, 0)
    assert body["conflict_paths"] == {f"/materials/{form_id}/note": 1}
    assert body["to_version"] == 2 and body["by_base_version"] == {"1": 3}
    assert world.count(LocalVersionRecord) == versions and world.count(AuditRecord) == audits
    assert [world.item(i)["version"] for i in (a, b, c)] == [1, 2, 2]

    county = world.admin.get(f"/api/v1/catalogue/items/{BASIC}/impact?region={COUNTY_A}").json
    assert (county["items"], county["clean"]) == (2, 2)
    mine = world.login("ed_b").get(f"/api/v1/catalogue/items/{BASIC}/impact").json
    assert (mine["items"], mine["conflicts"]) == (1, 1)


def test_bulk_rebase_saves_the_clean_items_as_drafts_and_lists_the_conflicted(world):
    a = world.claim(ORG_A, COUNTY_A, world.login("ed_a"))
    b = world.claim(ORG_B, COUNTY_B, world.login("ed_b"))
    c = world.claim(ORG_C, COUNTY_A, world.login("ed_c"))
    world.edit(b, lambda d: by_name(d, "施工合同").update(copies=3), "ed_b", ORG_B)
    world.edit(c, lambda d: d["materials"].reverse(), "ed_c", ORG_C)
    contract_id = by_name(world.catalogue(1), "施工合同")["id"]
    world.revise_catalogue(lambda d: d.update(materials=[e for e in d["materials"] if e["name"] != "施工合同"]))
    audits = world.count(AuditRecord)

    resp = world.admin.post(f"/api/v1/catalogue/items/{BASIC}/rebase-all", {})
    assert resp.status == 200, resp.body
    body = resp.json
    assert (body["items"], body["rebased"], body["conflicts"], body["stale"]) == (3, 2, 1, 0)
    assert body["conflicted"] == [{"impl_code": b, "version": 2, "paths": [f"/materials/{contract_id}"]}]
    assert world.count(AuditRecord) == audits + 2

    for impl, version in ((a, 2), (c, 3)):
        item = world.item(impl)
        assert (item["version"], item["based_on_catalogue_version"], item["status"]) == (version, 2, "draft")
        assert contract_id not in ids(item["document"])
        history = world.admin.get(f"/api/v1/items/{impl}/versions").json["versions"]
        before = world.admin.get(f"/api/v1/items/{impl}?version={version - 1}").json["document"]
        assert jsonpatch.apply_patch(before, history[-1]["patch"]) == item["document"]
    assert ids(world.item(c)["document"])[0] == by_name(world.catalogue(2), "安全施工措施资料")["id"]
    assert world.item(b)["version"] == 2
    assert [i["impl_code"] for i in world.admin.get("/api/v1/items?outdated=1").json["items"]] == [b]

    again = world.admin.post(f"/api/v1/catalogue/items/{BASIC}/rebase-all").json
    assert (again["items"], again["rebased"], again["conflicts"]) == (1, 0, 1)


def test_editors_rebase_only_their_own_department(world):
    impl = world.claim(ORG_A, COUNTY_A, world.login("ed_a"))
    world.revise_catalogue(lambda d: d["legal_limit"].update(value=12))
    other = world.login("ed_b")
    assert other.get(f"/api/v1/items/{impl}/conformance").error_code() == "out_of_scope"
    resp = other.post(f"/api/v1/items/{impl}/rebase", {})
    assert resp.status == 403 and resp.error_code() == "out_of_scope"
    bulk = other.post(f"/api/v1/catalogue/items/{BASIC}/rebase-all", {"org": ORG_A})
    assert bulk.status == 403 and bulk.error_code() == "out_of_scope"
    reviewer = world.login("rev", "reviewer-pass")
    assert reviewer.get(f"/api/v1/items/{impl}/conformance").status == 200
    refused = reviewer.post(f"/api/v1/items/{impl}/rebase", {})
    assert refused.status == 403 and refused.error_code() == "role_required"
    own = other.post(f"/api/v1/catalogue/items/{BASIC}/rebase-all", {}).json
    assert (own["items"], own["rebased"]) == (0, 0)
    assert world.item(impl)["version"] == 1
