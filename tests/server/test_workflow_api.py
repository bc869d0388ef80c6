"""The editorial workflow over HTTP on SQLite and PostgreSQL: every transition allowed and refused per
role, scope and state; the transition log; publish pins the approved version; hooks share the transaction."""
from __future__ import annotations

import pytest

from items import store
from items.codes import make_credit_code
from items.scope import Actor

ORG_A = make_credit_code("11410402MB1234567")  # in 卫东区 410402
ORG_C = make_credit_code("11410403MB1111111")  # in 石龙区 410403
PATCH_TYPE = "application/json-patch+json"
ITEM = {
    "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
    "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "……"}],
    "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "service_objects": ["enterprise"], "conditions": [{"id": "c1", "text": "已经办理该建筑工程用地批准手续"}],
    "materials": [{"id": "m1", "name": "建筑工程施工许可证申请表", "necessity": "required", "source": "applicant",
                   "form": "both", "originals": 1, "copies": 0, "e_license": "", "note": ""}],
    "process": [], "fees": [], "faq": [],
}
USERS = {  # name → (role, org, region)
    "admin": ("province_admin", None, None),
    "editor_a": ("editor", ORG_A, "410402"),  # an editor's region is their department's
    "editor_c": ("editor", ORG_C, "410403"),
    "county_reviewer": ("reviewer", None, "410402"),
    "other_county_reviewer": ("reviewer", None, "410403"),
    "city_reviewer": ("reviewer", None, "410400"),
    "reform": ("reform_office", None, "410402"),
}


@pytest.fixture
def world(running_app):
    ctx = running_app.ctx
    with ctx.db.connection_context():
        for code, name, parent, level in (("410000", "河南省", None, "2"), ("410400", "平顶山市", "410000", "3"),
                                          ("410402", "卫东区", "410400", "4"), ("410403", "石龙区", "410400", "4")):
            store.ensure_region(code, name, parent, level)
        store.ensure_org(ORG_A, "卫东区住房和城乡建设局", "410402", "4")
        store.ensure_org(ORG_C, "石龙区住房和城乡建设局", "410403", "4")
        # accounts without a usable password: the tests sign in with issued tokens (argon2 is slow)
        actors = {name: Actor(name, role, org, region, store.save_user(name, "!", role, org, region).id)
                  for name, (role, org, region) in USERS.items()}
        ctx.catalogue.put("000104002000", ITEM, actors["admin"])
        claim = ctx.items.claim("000104002000", ORG_A, "4", "410402", actors["editor_a"])
    apis = {}
    for name, actor in actors.items():
        apis[name] = running_app.api()
        apis[name].token = ctx.accounts.issue_token(actor)  # what login returns, without re-hashing
    return {"app": running_app, "api": apis, "actors": actors, "impl": claim["impl_code"]}


def act(world, who: str, action: str, comment: str | None = None):
    body = {"comment": comment} if comment is not None else None
    return world["api"][who].post(f"/api/v1/items/{world['impl']}/{action}", body)


def drive(world, *actions: str) -> None:
    """Move the item through `actions` as the province admin, through the service layer."""
    ctx, admin = world["app"].ctx, world["actors"]["admin"]
    with ctx.db.connection_context():
        for action in actions:
            getattr(ctx.workflow, action)(world["impl"], admin, "driven by the test")


def status(world) -> dict:
    return world["api"]["admin"].get(f"/api/v1/items/{world['impl']}").json


def edit(world, who: str, version: int, hours: str):
    return world["api"][who].patch(f"/api/v1/items/{world['impl']}", [{"op": "replace", "path": "/hours", "value": hours}],
                                   headers={"If-Match": f'"{version}"'}, content_type=PATCH_TYPE)


# --- the happy path -------------------------------------------------------------------------------------

def test_submit_approve_publish_is_logged_and_pins_the_approved_version(world):
    published = []
    world["app"].ctx.workflow.publish_hooks = [lambda impl, version, doc, at: published.append((impl, version, doc["hours"]))]
    assert edit(world, "editor_a", 1, "9:00-17:00").status == 200
    submitted = act(world, "editor_a", "submit")
    assert submitted.status == 200, submitted.body
    assert submitted.json["status"] == "submitted"
    assert {f["check"] for f in submitted.json["lint"]} >= {"missing_phone", "missing_location",
                                                            "promised_not_shorter"}
    approved = act(world, "county_reviewer", "approve", "内容完整")
    assert approved.status == 200 and approved.json["approved_version"] == 2
    done = act(world, "city_reviewer", "publish")  # a city reviewer covers its counties
    assert done.status == 200, done.body
    assert done.json["published_version"] == 2 and status(world)["status"] == "published"
    assert published == [(world["impl"], 2, "9:00-17:00")]
    events = world["api"]["editor_a"].get(f"/api/v1/items/{world['impl']}/events").json["events"]
    assert [(e["action"], e["from_status"], e["to_status"], e["actor"], e["version"]) for e in events] == [
        ("submit", "draft", "submitted", "editor_a", 2), ("approve", "submitted", "approved", "county_reviewer", 2),
        ("publish", "approved", "published", "city_reviewer", 2)]
    assert events[1]["comment"] == "内容完整" and all(e["at"] for e in events)


def test_editing_a_published_item_keeps_the_published_version_live(world):
    drive(world, "submit", "approve", "publish")
    resp = edit(world, "editor_a", 1, "8:30-17:30")
    assert resp.status == 200 and resp.json["version"] == 2
    item = status(world)
    assert item["status"] == "draft" and item["published_version"] == 1 and item["latest_version"] == 2


def test_publish_hook_failure_rolls_the_publish_back(world):
    def broken(impl, version, doc, at):
        raise RuntimeError("search index unavailable")
    world["app"].ctx.workflow.publish_hooks = [broken]
    drive(world, "submit", "approve")
    resp = act(world, "admin", "publish")
    assert resp.status == 500 and resp.error_code() == "internal"
    item = status(world)
    assert item["status"] == "approved" and item["published_version"] is None
    assert [e["action"] for e in world["api"]["admin"].get(f"/api/v1/items/{world['impl']}/events").json["events"]] \
        == ["submit", "approve"]


def test_withdraw_takes_the_item_down_with_a_reason_and_calls_its_hooks(world):
    withdrawn = []
    world["app"].ctx.workflow.withdraw_hooks = [lambda impl, at: withdrawn.append(impl)]
    drive(world, "submit", "approve", "publish")
    no_reason = act(world, "county_reviewer", "withdraw")
    assert no_reason.status == 422 and no_reason.error_code() == "comment_required"
    resp = act(world, "county_reviewer", "withdraw", "政策调整，暂停办理")
    assert resp.status == 200, resp.body
    item = status(world)
    assert item["status"] == "withdrawn" and item["published_version"] is None
    assert withdrawn == [world["impl"]]
    again = act(world, "county_reviewer", "withdraw", "again")
    assert again.status == 409 and again.error_code() == "not_published"


def test_reject_needs_a_comment_and_sends_the_item_back_to_draft(world):
    drive(world, "submit")
    resp = act(world, "county_reviewer", "reject")
    assert resp.status == 422 and resp.error_code() == "comment_required"
    resp = act(world, "county_reviewer", "reject", "材料清单不完整")
    assert resp.status == 200 and status(world)["status"] == "draft"
    assert edit(world, "editor_a", 1, "9:00-17:00").status == 200


def test_a_submitted_item_is_locked_until_recalled(world):
    drive(world, "submit")
    locked = edit(world, "editor_a", 1, "9:00-17:00")
    assert locked.status == 409 and locked.error_code() == "item_in_review"
    assert act(world, "editor_a", "recall").status == 200
    assert edit(world, "editor_a", 1, "9:00-17:00").status == 200


# --- refusals per role, scope and state -------------------------------------------------------------------

# action → the states it may start from, how to reach every state, the roles that may do it
REACH = {"draft": (), "submitted": ("submit",), "approved": ("submit", "approve"),
         "published": ("submit", "approve", "publish")}
ALLOWED_FROM = {"submit": {"draft"}, "recall": {"submitted", "approved"}, "approve": {"submitted"},
                "reject": {"submitted", "approved"}, "publish": {"approved"}, "withdraw": {"published"}}
ALLOWED_USERS = {"submit": {"admin", "editor_a"}, "recall": {"admin", "editor_a"},
                 "approve": {"admin", "county_reviewer", "city_reviewer"},
                 "reject": {"admin", "county_reviewer", "city_reviewer"},
                 "publish": {"admin", "county_reviewer", "city_reviewer"},
                 "withdraw": {"admin", "county_reviewer", "city_reviewer"}}


@pytest.mark.parametrize("action", list(ALLOWED_FROM))
def test_each_transition_from_a_wrong_state_is_409(world, action):
    reached: tuple = ()
    for state, path in REACH.items():
        drive(world, *path[len(reached):])
        reached = path
        if state in ALLOWED_FROM[action]:
            continue
        resp = act(world, "admin", action, "a reason")
        expected_code = "not_published" if action == "withdraw" else "wrong_status"
        assert resp.status == 409 and resp.error_code() == expected_code, (state, resp.body)
        assert status(world)["status"] == state


@pytest.mark.parametrize("action", list(ALLOWED_FROM))
def test_each_transition_is_refused_to_roles_and_regions_without_the_right(world, action):
    start = sorted(ALLOWED_FROM[action])[0]
    drive(world, *REACH[start])
    for who in USERS:
        if who in ALLOWED_USERS[action]:
            continue
        resp = act(world, who, action, "a reason")
        assert resp.status == 403, (who, resp.body)
        assert resp.error_code() in ("role_required", "out_of_scope")
    assert status(world)["status"] == start
    for who in sorted(ALLOWED_USERS[action]):
        # every allowed user succeeds from the start state (reset between them)
        resp = act(world, who, action, "a reason")
        assert resp.status == 200, (who, resp.body)
        undo = {"submit": ("recall",), "recall": ("submit", "approve"), "approve": ("reject", "submit"),
                "reject": ("submit", "approve"),
                "publish": ("withdraw", "submit", "approve"), "withdraw": ("submit", "approve", "publish")}[action]
        drive(world, *undo)


def test_a_county_reviewer_cannot_publish_in_another_county(world):
    drive(world, "submit", "approve")
    resp = act(world, "other_county_reviewer", "publish")
    assert resp.status == 403 and resp.error_code() == "out_of_scope"
    assert resp.json["error"]["details"]["region_code"] == "410402"


def test_editor_of_another_county_cannot_submit_or_read_the_log(world):
    assert act(world, "editor_c", "submit").status == 403
    resp = world["api"]["editor_c"].get(f"/api/v1/items/{world['impl']}/events")
    assert resp.status == 403 and resp.error_code() == "out_of_scope"


# --- guide checks and audit ------------------------------------------------------------------------------

def test_lint_reports_added_materials_without_reason(world):
    material = {"id": "m-extra", "name": "无犯罪记录证明", "necessity": "required",
                "form": "paper", "originals": 1, "copies": 0, "e_license": "", "note": ""}
    resp = world["api"]["editor_a"].patch(f"/api/v1/items/{world['impl']}",
                                          [{"op": "add", "path": "/materials/-", "value": material}],
                                          headers={"If-Match": '"1"'}, content_type=PATCH_TYPE)
    assert resp.status == 200, resp.body
    lint = world["api"]["editor_a"].get(f"/api/v1/items/{world['impl']}/lint")
    assert lint.status == 200
    found = {(f["check"], f["path"]) for f in lint.json["findings"]}
    assert ("material_added_without_reason", "/materials/1") in found
    assert ("material_without_source", "/materials/1/source") in found
    assert ("material_added_without_reason", "/materials/0") not in found


def test_every_transition_lands_in_the_audit_log(world):
    for who, action, comment in (("editor_a", "submit", None), ("county_reviewer", "reject", "补充材料"),
                                 ("editor_a", "submit", None), ("county_reviewer", "approve", None),
                                 ("county_reviewer", "publish", None), ("admin", "withdraw", "暂停")):
        assert act(world, who, action, comment).status == 200, (who, action)
    entries = world["api"]["admin"].get(f"/api/v1/audit?target={world['impl']}").json["entries"]
    assert [(e["actor"], e["action"]) for e in reversed(entries)] == [
        ("editor_a", "item.claim"), ("editor_a", "item.submit"), ("county_reviewer", "item.reject"),
        ("editor_a", "item.submit"), ("county_reviewer", "item.approve"), ("county_reviewer", "item.publish"),
        ("admin", "item.withdraw")]
    assert all(e["remote_ip"] == "127.0.0.1" for e in entries[:-1])
    assert entries[0]["details"]["comment"] == "暂停" and entries[0]["details"]["version"] == 1
