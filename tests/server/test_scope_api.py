"""Who sees which local items, on SQLite and PostgreSQL: one scope per actor decides every list and read.

Citizens' tokens open no staff route; editors and window staff see their department only; reviewers
and reform offices their region and the regions inside it, never the region above or beside it.
"""
from __future__ import annotations

import pytest

from samples import building_permit

from items import store
from items.codes import make_credit_code
from items.scope import Actor

ORG_A = make_credit_code("11410402MB1234567")  # 卫东区住房和城乡建设局 (county 410402, level 4)
ORG_B = make_credit_code("11410411MB7654321")  # 湛河区住房和城乡建设局 (county 410411, level 4)
ORG_CITY = make_credit_code("11410400MB0000001")  # 平顶山市住房和城乡建设局 (city 410400, level 3)
ITEM = building_permit()
BASIC = ITEM["basic_code"]

ACCOUNTS = {  # name → (role, org, region)
    "admin": ("province_admin", None, None),
    "editor_a": ("editor", ORG_A, "410402"),
    "editor_b": ("editor", ORG_B, "410411"),
    "window_a": ("window_staff", ORG_A, "410402"),
    "reviewer_a": ("reviewer", None, "410402"),
    "reviewer_city": ("reviewer", None, "410400"),
    "reviewer_zz": ("reviewer", None, "410102"),  # 郑州市中原区: another city
    "reform_a": ("reform_office", None, "410402"),
    "reform_city": ("reform_office", None, "410400"),
    "editor_no_org": ("editor", None, None),
    "reviewer_no_region": ("reviewer", None, None),
}


@pytest.fixture
def world(running_app):
    """Two counties of one city and the city itself, each with a department that claimed the item."""
    ctx = running_app.ctx
    with ctx.db.connection_context():
        for region in (("410000", "河南省", None, "2"), ("410400", "平顶山市", "410000", "3"),
                       ("410402", "卫东区", "410400", "4"), ("410411", "湛河区", "410400", "4"),
                       ("410100", "郑州市", "410000", "3"), ("410102", "中原区", "410100", "4")):
            store.ensure_region(*region)
        store.ensure_org(ORG_A, "卫东区住房和城乡建设局", "410402", "4")
        store.ensure_org(ORG_B, "湛河区住房和城乡建设局", "410411", "4")
        store.ensure_org(ORG_CITY, "平顶山市住房和城乡建设局", "410400", "3")
        actors = {name: Actor(name, role, org, region, store.save_user(name, "!", role, org, region).id)
                  for name, (role, org, region) in ACCOUNTS.items()}
        admin = actors["admin"]
        ctx.catalogue.put(BASIC, ITEM, admin)
        impl = {key: ctx.items.claim(BASIC, org, level, None, admin)["impl_code"]
                for key, org, level in (("a", ORG_A, "4"), ("b", ORG_B, "4"), ("city", ORG_CITY, "3"))}

    def signed_in(actor: Actor):
        api = running_app.api()
        api.token = ctx.accounts.issue_token(actor)
        return api

    apis = {name: signed_in(actor) for name, actor in actors.items()}
    apis["citizen"] = signed_in(Actor("hall:1", "citizen", user_id=1))
    return {"app": running_app, "api": apis, "impl": impl}


def listed(world, name: str, query: str = "") -> set[str]:
    resp = world["api"][name].get("/api/v1/items" + query)
    assert resp.status == 200, resp.body
    by_code = {v: k for k, v in world["impl"].items()}
    return {by_code.get(row["impl_code"], row["impl_code"]) for row in resp.json["items"]}


# --- citizens --------------------------------------------------------------------------------------

STAFF_READS = ["/api/v1/items", "/api/v1/items/{a}", "/api/v1/items/{a}/versions", "/api/v1/items/{a}/diff",
               "/api/v1/items/{a}/versions/1/summary", "/api/v1/items/{a}/conformance",
               "/api/v1/items/{a}/events", "/api/v1/items/{a}/lint", "/api/v1/items/coverage?region=410402&level=4",
               "/api/v1/catalogue/items", f"/api/v1/catalogue/items/{BASIC}",
               f"/api/v1/catalogue/items/{BASIC}/versions", f"/api/v1/catalogue/items/{BASIC}/impact",
               "/api/v1/stats/items", "/api/v1/stats/claims", "/api/v1/cases", "/api/v1/audit", "/api/v1/auth/me"]


def test_a_citizens_token_is_refused_on_every_staff_read(world):
    for path in STAFF_READS:
        resp = world["api"]["citizen"].get(path.format(**world["impl"]))
        assert resp.status == 403, (path, resp.body)
        assert resp.error_code() == "role_required"


def test_a_citizen_cannot_claim_submit_or_rebase(world):
    api, a = world["api"]["citizen"], world["impl"]["a"]
    for path, body in (("/api/v1/items", {"basic_code": BASIC, "org_credit_code": ORG_A, "level": "4"}),
                       (f"/api/v1/items/{a}/submit", {}), (f"/api/v1/items/{a}/rebase", {}),
                       (f"/api/v1/catalogue/items/{BASIC}/rebase-all", {})):
        resp = api.post(path, body)
        assert resp.status == 403 and resp.error_code() == "role_required", (path, resp.body)


def test_a_citizen_may_still_sign_out(world):
    api = world["api"]["citizen"]
    assert api.post("/api/v1/auth/logout", {}).status == 200
    assert api.get("/api/v1/hall/applications").status == 401


# --- lists -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("admin", {"a", "b", "city"}),
    ("editor_a", {"a"}),
    ("window_a", {"a"}),
    ("reviewer_a", {"a"}),
    ("reform_a", {"a"}),
    ("reviewer_city", {"a", "b", "city"}),
    ("reform_city", {"a", "b", "city"}),
    ("reviewer_zz", set()),
])
def test_each_actor_lists_exactly_the_items_of_their_scope(world, name, expected):
    assert listed(world, name) == expected


@pytest.mark.parametrize("name, query", [
    ("editor_a", f"?org={ORG_B}"),
    ("window_a", f"?org={ORG_B}"),
    ("reviewer_a", "?region=410400"),   # the city above its county
    ("reviewer_a", "?region=410411"),   # the county beside it
    ("reform_a", "?region=410400"),
    ("reviewer_zz", "?region=410402"),  # a county of another city
])
def test_asking_to_list_outside_ones_scope_is_403(world, name, query):
    resp = world["api"][name].get("/api/v1/items" + query)
    assert resp.status == 403 and resp.error_code() == "out_of_scope", resp.body


def test_a_city_reviewer_may_narrow_the_list_to_one_county(world):
    assert listed(world, "reviewer_city", "?region=410411") == {"b"}


@pytest.mark.parametrize("name", ["editor_no_org", "reviewer_no_region"])
def test_an_account_missing_its_org_or_region_sees_nothing_rather_than_everything(world, name):
    resp = world["api"][name].get("/api/v1/items")
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


# --- reads of one item -----------------------------------------------------------------------------

ITEM_READS = ["/api/v1/items/{impl}", "/api/v1/items/{impl}/versions", "/api/v1/items/{impl}/diff",
              "/api/v1/items/{impl}/versions/1/summary", "/api/v1/items/{impl}/conformance",
              "/api/v1/items/{impl}/events", "/api/v1/items/{impl}/lint"]


@pytest.mark.parametrize("name, item, allowed", [
    ("editor_a", "a", True), ("editor_a", "b", False), ("editor_a", "city", False),
    ("window_a", "a", True), ("window_a", "b", False),
    ("reviewer_a", "a", True), ("reviewer_a", "b", False), ("reviewer_a", "city", False),
    ("reform_a", "city", False),
    ("reviewer_city", "b", True), ("reviewer_city", "city", True),
    ("reviewer_zz", "a", False),
    ("admin", "b", True),
])
def test_every_read_of_an_item_follows_the_same_scope(world, name, item, allowed):
    for path in ITEM_READS:
        resp = world["api"][name].get(path.format(impl=world["impl"][item]))
        if allowed:
            assert resp.status == 200, (path, resp.body)
        else:
            assert resp.status == 403 and resp.error_code() == "out_of_scope", (path, resp.body)


@pytest.mark.parametrize("name, region", [("reviewer_a", "410411"), ("editor_a", "410400")])
def test_bulk_previews_outside_ones_scope_are_403(world, name, region):
    resp = world["api"][name].get(f"/api/v1/catalogue/items/{BASIC}/impact?region={region}")
    if name == "editor_a":  # an editor's scope is the department: any region filter stays inside it
        assert resp.status == 200 and resp.json is not None
    else:
        assert resp.status == 403 and resp.error_code() == "out_of_scope"


def test_an_editor_cannot_rebase_all_of_another_department(world):
    resp = world["api"]["editor_a"].post(f"/api/v1/catalogue/items/{BASIC}/rebase-all", {"org": ORG_B})
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


# --- statistics and cases --------------------------------------------------------------------------

@pytest.mark.parametrize("name, region, status", [
    ("reform_a", "410400", 403), ("reform_a", "410411", 403), ("reform_a", "410402", 200),
    ("reform_city", "410402", 200), ("reviewer_zz", "410400", 403), ("editor_a", "410402", 403),
    ("window_a", "410402", 403),
])
def test_statistics_follow_the_region_scope(world, name, region, status):
    for path in ("/api/v1/stats/items", "/api/v1/stats/claims", "/api/v1/stats/cases"):
        resp = world["api"][name].get(f"{path}?region={region}")
        assert resp.status == status, (path, resp.body)
        if status == 403:
            assert resp.error_code() in ("out_of_scope", "role_required")


@pytest.mark.parametrize("name", ["editor_a", "reviewer_city", "reform_city", "admin"])
def test_only_window_staff_read_cases(world, name):
    resp = world["api"][name].get("/api/v1/cases")
    assert resp.status == 403 and resp.error_code() == "role_required"


def test_the_audit_log_is_for_province_admins_only(world):
    assert world["api"]["admin"].get("/api/v1/audit").status == 200
    for name in ("editor_a", "reviewer_city", "reform_city", "window_a"):
        resp = world["api"][name].get("/api/v1/audit")
        assert resp.status == 403 and resp.error_code() == "role_required"


# --- claims: the department's region and level decide ---------------------------------------------

def claim_body(org=ORG_A, level="4", region="410402", basic=BASIC) -> dict:
    return {"basic_code": basic, "org_credit_code": org, "level": level, "region_code": region}


def errors_of(resp) -> list[tuple[str, str]]:
    return [(e["path"], e["rule"]) for e in resp.json["error"]["details"]["errors"]]


@pytest.fixture
def unclaimed(world):
    """A second catalogue item nobody has claimed yet, applying at levels 3 and 4."""
    ctx = world["app"].ctx
    doc = dict(ITEM, basic_code="000104003000", name="建筑工程竣工验收备案")
    with ctx.db.connection_context():
        ctx.catalogue.put(doc["basic_code"], doc, Actor("admin", "province_admin"))
    return doc["basic_code"]


@pytest.mark.parametrize("name", ["editor_a", "admin"])
@pytest.mark.parametrize("region", ["410411", "410400", "410102"])
def test_claiming_into_a_region_that_is_not_the_departments_is_422(world, unclaimed, name, region):
    resp = world["api"][name].post("/api/v1/items", claim_body(region=region, basic=unclaimed))
    assert resp.status == 422, resp.body
    assert errors_of(resp) == [("/region_code", "org_region")]
    assert listed(world, "admin", f"?basic_code={unclaimed}") == set()


@pytest.mark.parametrize("name", ["editor_a", "admin"])
def test_claiming_at_a_level_that_is_not_the_departments_is_422(world, unclaimed, name):
    resp = world["api"][name].post("/api/v1/items", claim_body(level="3", basic=unclaimed))
    assert resp.status == 422, resp.body
    assert errors_of(resp) == [("/level", "org_level")]


def test_a_claim_without_region_or_with_the_12_digit_form_files_the_item_under_the_departments_region(
        world, unclaimed):
    api = world["api"]["editor_a"]
    resp = api.post("/api/v1/items", claim_body(region="410402000000", basic=unclaimed))
    assert resp.status == 201, resp.body
    item = api.get(f"/api/v1/items/{resp.json['impl_code']}").json
    assert item["document"]["region_code"] == "410402"


def test_claiming_for_another_department_is_403(world, unclaimed):
    resp = world["api"]["editor_a"].post("/api/v1/items", claim_body(org=ORG_B, region="410411", basic=unclaimed))
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


@pytest.mark.parametrize("body, expected", [
    ({"region_code": "410411"}, [("/region_code", "org_region")]),
    ({"level": "3"}, [("/level", "org_level")]),
])
def test_bulk_claim_refuses_another_region_or_level_for_the_whole_list(world, unclaimed, body, expected):
    request = dict(claim_body(), basic_codes=[unclaimed], **body)
    request.pop("basic_code")
    resp = world["api"]["editor_a"].post("/api/v1/items/bulk-claim", request)
    assert resp.status == 422, resp.body
    assert errors_of(resp) == expected
    assert listed(world, "admin", f"?basic_code={unclaimed}") == set()


def test_bulk_claim_for_another_department_is_403(world, unclaimed):
    request = {"basic_codes": [unclaimed], "org_credit_code": ORG_B, "level": "4", "region_code": "410411"}
    resp = world["api"]["editor_a"].post("/api/v1/items/bulk-claim", request)
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


def test_a_citizens_token_opens_no_console_page(world):
    api = world["api"]["citizen"]
    for path in ("/console/", "/console/items"):
        resp = api.get(path, token=None, headers={"Cookie": f"govhall_console={api.token}"})
        assert resp.status == 403, (path, resp.status)
        assert "govhall_console" not in (resp.headers.get("Set-Cookie") or "")
