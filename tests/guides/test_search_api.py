"""Hall search and guides over HTTP, fed by the editorial workflow: only published versions are ever found."""
from __future__ import annotations

import copy
import urllib.parse

import pytest

from items import store
from items.codes import make_credit_code
from items.scope import Actor
from worlds import seeded_app

POLICE = make_credit_code("11511602MB0000011")  # 广安区公安分局
CIVIL = make_credit_code("11511602MB0000022")  # 广安区民政局
HR = make_credit_code("11511603MB0000033")  # 前锋区人社局
ADMIN = Actor(username="admin", role="province_admin")
EDITORS = {org: Actor(username=f"editor-{org[-4:]}", role="editor", org=org) for org in (POLICE, CIVIL, HR)}

# Real Guang'an item names (sczwfw-guangan-items), each as a catalogue item of its own.
ITEMS = {  # key → (name, basic code, org, region, service objects, status to reach)
    "id_card": ("居民身份证办理（包括临时）", "000120001000", POLICE, "511602", ["person"], "published"),
    "passport": ("普通护照签发", "000120002000", POLICE, "511602", ["person"], "published"),
    "dibao": ("最低生活保障", "000520003000", CIVIL, "511602", ["person"], "published"),
    "insurance": ("机关事业单位社会保险登记", "002020004000", HR, "511603", ["institution"], "published"),
    "hukou": ("户口迁移审批", "000120005000", POLICE, "511602", ["person"], "draft"),
    "proof": ("临时身份证明", "002020006000", POLICE, "511602", ["person"], "submitted"),
    "licence": ("机动车驾驶证公证（指引）", "002020007000", POLICE, "511602", ["person"], "approved"),
}
CATALOGUE = {
    "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国行政许可法", "article": "第十二条", "text": "……"}],
    "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 20, "unit": "workday", "note": ""},
    "conditions": [{"id": "c1", "text": "申请人符合法定条件"}],
    "materials": [{"id": "m1", "name": "申请表", "necessity": "required", "source": "applicant", "form": "both",
                   "originals": 1, "copies": 0, "e_license": "", "note": ""}],
    "process": [], "fees": [], "faq": [],
}
STEPS = {"draft": (), "submitted": ("submit",), "approved": ("submit", "approve"),
         "published": ("submit", "approve", "publish")}


def write(ctx, impl_code: str, org: str, **changes) -> None:
    item = ctx.items.get(impl_code)
    doc = dict(item["document"], **changes)
    ctx.items.replace(impl_code, doc, item["latest_version"], EDITORS[org])


def move(ctx, impl_code: str, *actions: str) -> None:
    for action in actions:
        getattr(ctx.workflow, action)(impl_code, ADMIN, "checked" if action == "withdraw" else "")


def seed_items(ctx) -> dict[str, str]:
    """The ITEMS claimed and moved to their status → their implementation codes."""
    impl = {}
    with ctx.db.connection_context():
        for code, name, parent, level in (("510000", "四川省", None, "2"), ("511600", "广安市", "510000", "3"),
                                          ("511602", "广安区", "511600", "4"), ("511603", "前锋区", "511600", "4")):
            store.ensure_region(code, name, parent, level)
        for org, name in ((POLICE, "广安区公安分局"), (CIVIL, "广安区民政局"), (HR, "前锋区人力资源和社会保障局")):
            store.ensure_org(org, name, org[2:8], "4")
        for key, (name, basic, org, region, objects, status) in ITEMS.items():
            doc = dict(copy.deepcopy(CATALOGUE), basic_code=basic, name=name, item_type=basic[2:4],
                       service_objects=objects)
            ctx.catalogue.put(basic, doc, ADMIN)
            impl[key] = ctx.items.claim(basic, org, "4", region, EDITORS[org])["impl_code"]
            write(ctx, impl[key], org, promised_limit={"value": 5, "unit": "workday", "note": ""},
                  phone="0826-2345678", complaint_phone="0826-12345", location="广安区政务服务中心",
                  hours="工作日 9:00-17:00", handling_type="promised", visits=1, online_depth=3,
                  channels=["window", "pc"])
            move(ctx, impl[key], *STEPS[status])
    return impl


seeded_hall = seeded_app(seed_items)


@pytest.fixture
def hall(seeded_hall):
    """The app with the ITEMS claimed and moved to their status; `hall.impl[key]` their codes."""
    app, impl = seeded_hall
    app.impl = impl
    app.public = app.api()
    return app


def search(hall, **params):
    return hall.public.get("/api/v1/hall/search?" + urllib.parse.urlencode(params), token=None)


def found(hall, q, **params) -> list[str]:
    resp = search(hall, q=q, size=100, **params)
    assert resp.status == 200, resp.body
    return [hit["impl_code"] for hit in resp.json["items"]]


# -- search -----------------------------------------------------------------------------------------

def test_a_published_item_is_found_by_any_substring_without_signing_in(hall):
    resp = search(hall, q="护照")

    assert resp.status == 200
    assert resp.json["total"] == 1 and resp.json["page"] == 1
    hit = resp.json["items"][0]
    assert set(hit) >= {"impl_code", "name", "org_name", "highlight", "badges"}
    assert (hit["impl_code"], hit["name"], hit["org_name"]) == (hall.impl["passport"], "普通护照签发", "广安区公安分局")
    assert "护照</em>" in hit["highlight"]
    assert found(hall, "社会保险") == [hall.impl["insurance"]]


def test_items_that_are_not_published_never_appear(hall):
    unpublished = {hall.impl[k] for k in ("hukou", "proof", "licence")}
    for q in ("户口", "迁移", "身份", "身份证明", "驾驶证", "公证", "审批"):
        assert not unpublished & set(found(hall, q)), q


def test_synonyms_and_pinyin_initials_reach_published_items(hall):
    assert found(hall, "低保") == [hall.impl["dibao"]]
    assert hall.impl["id_card"] in found(hall, "jmsfz")
    assert hall.impl["licence"] not in found(hall, "驾照")  # 驾照 → 驾驶证, but that item is only approved


def test_filters_by_region_org_and_service_object(hall):
    assert found(hall, "登记", region="511603") == [hall.impl["insurance"]]
    assert found(hall, "登记", region="511602") == []
    assert found(hall, "登记", region="511600") == [hall.impl["insurance"]]
    assert found(hall, "护照", org=CIVIL) == []
    assert found(hall, "社会保险", service_object="person") == []
    assert found(hall, "社会保险", service_object="institution") == [hall.impl["insurance"]]


def test_a_publish_is_searchable_at_once_and_a_withdraw_disappears_at_once(hall):
    ctx, code = hall.ctx, hall.impl["hukou"]
    admin = hall.api()
    admin.token = ctx.accounts.issue_token(ADMIN)
    assert code not in found(hall, "户口迁移")

    for action in ("submit", "approve", "publish"):
        assert admin.post(f"/api/v1/items/{code}/{action}").status == 200
    assert found(hall, "户口迁移") == [code]

    assert admin.post(f"/api/v1/items/{code}/withdraw", {"comment": "政策调整"}).status == 200
    assert code not in found(hall, "户口迁移")


def test_search_shows_the_published_version_until_the_next_publish(hall):
    ctx, code = hall.ctx, hall.impl["passport"]
    with ctx.db.connection_context():
        write(ctx, code, POLICE, aliases=["办护照"], handling_type="instant",
              promised_limit={"value": 0, "unit": "workday", "note": ""})
    assert found(hall, "办护照") == [code]  # the literal query: the name matches after stripping 办
    hit = search(hall, q="护照").json["items"][0]
    assert hit["badges"] == []  # the draft's 即办 is not live yet

    with ctx.db.connection_context():
        move(ctx, code, "submit", "approve", "publish")

    hit = search(hall, q="护照").json["items"][0]
    assert [b["code"] for b in hit["badges"]] == ["instant"]


@pytest.mark.parametrize("params,code", [
    ({}, "query_required"),
    ({"q": "  "}, "query_required"),
    ({"q": "护" * 65}, "query_too_long"),
    ({"q": "护照", "page": "0"}, "invalid_page"),
    ({"q": "护照", "page": "x"}, "invalid_page"),
    ({"q": "护照", "size": "101"}, "invalid_size"),
    ({"q": "护照", "region": "5116"}, "invalid_region"),
    ({"q": "护照", "service_object": "alien"}, "invalid_service_object"),
    ({"q": "护照", "org": "not-a-credit-code"}, "invalid_org"),
])
def test_a_bad_search_parameter_is_400_naming_it(hall, params, code):
    resp = search(hall, **params)

    assert resp.status == 400
    assert resp.error_code() == code


# -- guides -----------------------------------------------------------------------------------------

def test_the_published_guide_is_public_with_its_guide_version(hall):
    resp = hall.public.get(f"/api/v1/hall/items/{hall.impl['dibao']}", token=None)

    assert resp.status == 200, resp.body
    guide = resp.json
    assert (guide["name"], guide["guide_version"]) == ("最低生活保障", 2)
    assert guide["time_limits"]["promised_text"] == "5个工作日"
    assert guide["time_limits"]["legal_text"] == "20个工作日"
    assert guide["materials"][0]["provide"]["text"] == "原件1份（可提交电子版）"


def test_the_guide_stays_on_the_published_version_while_a_draft_is_edited(hall):
    ctx, code = hall.ctx, hall.impl["dibao"]
    with ctx.db.connection_context():
        write(ctx, code, CIVIL, location="新地址")

    guide = hall.public.get(f"/api/v1/hall/items/{code}", token=None).json

    assert (guide["guide_version"], guide["location"]) == (2, "广安区政务服务中心")


@pytest.mark.parametrize("key", ["hukou", "proof", "licence"])
def test_an_unpublished_guide_is_404(hall, key):
    resp = hall.public.get(f"/api/v1/hall/items/{hall.impl[key]}", token=None)

    assert resp.status == 404
    assert resp.error_code() == "guide_not_found"


def test_a_withdrawn_or_unknown_guide_is_404_alike(hall):
    with hall.ctx.db.connection_context():
        move(hall.ctx, hall.impl["passport"], "withdraw")

    withdrawn = hall.public.get(f"/api/v1/hall/items/{hall.impl['passport']}", token=None)
    unknown = hall.public.get("/api/v1/hall/items/11511602MB0000099X4000120009000", token=None)

    assert (withdrawn.status, unknown.status) == (404, 404)
    assert withdrawn.error_code() == unknown.error_code() == "guide_not_found"


# -- the synonym table ------------------------------------------------------------------------------

def test_province_admins_edit_synonyms_and_search_follows(hall):
    admin = hall.api()
    admin.token = hall.ctx.accounts.issue_token(ADMIN)
    term = urllib.parse.quote("洋本本")
    assert found(hall, "洋本本") == []

    put = admin.put(f"/api/v1/admin/synonyms/{term}", {"expansions": ["普通护照"], "source": "12345 hotline"})
    assert put.status == 200, put.body
    assert put.json == {"term": "洋本本", "expansions": ["普通护照"], "source": "12345 hotline"}
    assert admin.get(f"/api/v1/admin/synonyms/{term}").json["expansions"] == ["普通护照"]
    assert put.json in admin.get("/api/v1/admin/synonyms").json["synonyms"]
    assert found(hall, "洋本本") == [hall.impl["passport"]]

    assert admin.request("DELETE", f"/api/v1/admin/synonyms/{term}").status == 200
    assert found(hall, "洋本本") == []
    gone = admin.request("DELETE", f"/api/v1/admin/synonyms/{term}")
    assert (gone.status, gone.error_code()) == (404, "synonym_not_found")


def test_a_synonym_without_expansions_is_422(hall):
    admin = hall.api()
    admin.token = hall.ctx.accounts.issue_token(ADMIN)

    resp = admin.put(f"/api/v1/admin/synonyms/{urllib.parse.quote('出国')}", {"expansions": []})

    assert resp.status == 422
    assert resp.error_code() == "synonym_invalid"


def test_only_province_admins_edit_synonyms(hall):
    editor = hall.api()
    editor.token = hall.ctx.accounts.issue_token(EDITORS[POLICE])

    put = editor.put(f"/api/v1/admin/synonyms/{urllib.parse.quote('出国')}", {"expansions": ["护照"]})
    anonymous = hall.public.get("/api/v1/admin/synonyms", token=None)

    assert (put.status, put.error_code()) == (403, "role_required")
    assert (anonymous.status, anonymous.error_code()) == (401, "not_signed_in")


# -- suggestions, misses and their promotion ---------------------------------------------------------

def test_suggest_completes_names_and_pinyin_initials_without_signing_in(hall):
    by_prefix = hall.public.get("/api/v1/hall/suggest?q=" + urllib.parse.quote("普通"), token=None)
    by_initials = hall.public.get("/api/v1/hall/suggest?q=pthz", token=None)

    assert by_prefix.status == 200, by_prefix.body
    assert [s["text"] for s in by_prefix.json["suggestions"]] == ["普通护照签发"]
    assert by_initials.json["suggestions"][0]["basic_code"] == "000120002000"


def test_frequent_queries_of_a_region_are_offered_by_suggest(hall):
    for _ in range(3):
        assert found(hall, "护照", region="511602")
    assert found(hall, "低保", region="511602")

    popular = hall.public.get("/api/v1/hall/suggest?region=511602", token=None).json["popular"]

    assert popular[:2] == [{"query": "护照", "count": 3}, {"query": "低保", "count": 1}]


def test_a_missed_query_is_reported_and_promoted_to_an_alias_in_one_call(hall):
    admin = hall.api()
    admin.token = hall.ctx.accounts.issue_token(ADMIN)
    assert found(hall, "洋本本") == [] and found(hall, "洋本本") == []

    report = admin.get("/api/v1/admin/search/misses?limit=10")
    assert report.status == 200, report.body
    assert {"query": "洋本本", "count": 2, "zero_count": 2} == {
        k: v for k, v in report.json["misses"][0].items() if k != "last_seen"}

    promoted = admin.post("/api/v1/admin/search/misses/promote", {"query": "洋本本", "basic_code": "000120002000"})
    assert promoted.status == 200, promoted.body
    assert found(hall, "洋本本") == [hall.impl["passport"]]
    assert all(m["query"] != "洋本本" for m in admin.get("/api/v1/admin/search/misses").json["misses"])


def test_promoting_with_neither_or_both_targets_is_422_and_an_unknown_code_404(hall):
    admin = hall.api()
    admin.token = hall.ctx.accounts.issue_token(ADMIN)

    neither = admin.post("/api/v1/admin/search/misses/promote", {"query": "洋本本"})
    unknown = admin.post("/api/v1/admin/search/misses/promote", {"query": "洋本本", "basic_code": "009999999000"})

    assert (neither.status, neither.error_code()) == (422, "promote_invalid")
    assert (unknown.status, unknown.error_code()) == (404, "item_not_found")


def test_a_bad_misses_limit_is_400(hall):
    admin = hall.api()
    admin.token = hall.ctx.accounts.issue_token(ADMIN)

    resp = admin.get("/api/v1/admin/search/misses?limit=0")

    assert (resp.status, resp.error_code()) == (400, "invalid_limit")


@pytest.mark.parametrize("path,method", [("/api/v1/admin/search/misses", "GET"),
                                         ("/api/v1/admin/search/misses/promote", "POST")])
def test_only_province_admins_read_misses_and_promote(hall, path, method):
    editor = hall.api()
    editor.token = hall.ctx.accounts.issue_token(EDITORS[POLICE])
    citizen = hall.api()
    citizen.token = hall.ctx.accounts.issue_token(Actor(username="citizen-1", role="citizen"))
    body = {"query": "洋本本", "expansions": ["普通护照"]}

    anonymous = hall.public.request(method, path, body if method == "POST" else None, token=None)
    as_editor = editor.request(method, path, body if method == "POST" else None)
    as_citizen = citizen.request(method, path, body if method == "POST" else None)

    assert (anonymous.status, anonymous.error_code()) == (401, "not_signed_in")
    assert (as_editor.status, as_editor.error_code()) == (403, "role_required")
    assert (as_citizen.status, as_citizen.error_code()) == (403, "role_required")
