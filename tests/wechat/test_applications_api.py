"""Applications over HTTP on SQLite and PostgreSQL: idempotent submit, validation against the published guide,
encrypted ID numbers, the citizen's list and the progress lookup with its second factor and rate limit."""
from __future__ import annotations

import concurrent.futures
import copy
import json
import logging
import threading
from pathlib import Path

import pytest

from hall_world import ID_NUMBER, ITEM, OTHER_ID_NUMBER, ORG_A, PHONE, Hall
from items.codes import CASE_NO_LENGTH, is_valid_case_no
from items.scope import Actor
from wechat import store
from wechat.applications import MAX_FACTOR_FAILURES_PER_CASE


@pytest.fixture
def hall(running_app):
    h = Hall(running_app)
    h.at(2026, 9, 28)  # a Monday before the National Day holiday
    return h


def hall_rows_text(ctx) -> str:
    """Every row of every hall table as text, read back through the database."""
    from wechat.records import MODELS
    texts = []
    with ctx.db.connection_context():
        for model in MODELS:
            for row in model.select().dicts():
                texts.append(json.dumps(row, ensure_ascii=False, default=str))
    return "\n".join(texts)


# --- submitting ---------------------------------------------------------------------------------------

def test_submit_answers_201_with_a_43_char_case_number_and_the_promised_date(hall):
    api = hall.citizen()
    file_id = hall.upload(api).json["file_id"]
    resp = hall.submit(api, hall.body(file_id))
    assert resp.status == 201, resp.body
    case_no = resp.json["case_no"]
    assert len(case_no) == CASE_NO_LENGTH and is_valid_case_no(case_no)
    assert case_no == f"{hall.impl_code}202609280001"
    assert resp.json["status"] == "submitted"
    # 5 working days from the day after 28 Sep: 29, 30 Sep, (1–7 Oct off), 8, 9 and Saturday 10 Oct (调休)
    assert resp.json["promised_date"] == "2026-10-10"
    assert resp.headers["Location"] == f"/api/v1/hall/applications/{case_no}"


def test_case_numbers_count_up_per_item_and_day(hall):
    api = hall.citizen()
    first, second = hall.new_case(api), hall.new_case(api)
    assert first.endswith("0001") and second.endswith("0002")
    hall.at(2026, 9, 29)
    assert hall.new_case(api).endswith("202609290001")


def test_retry_with_the_same_key_and_body_returns_the_same_case(hall):
    api = hall.citizen()
    body = hall.body(hall.upload(api).json["file_id"])
    first = hall.submit(api, body, key="retry-1")
    again = hall.submit(api, body, key="retry-1")
    assert first.status == 201 and again.status == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json == first.json
    assert api.get("/api/v1/hall/applications").json["total"] == 1


def test_ten_concurrent_retries_make_one_case(hall):
    api = hall.citizen()
    body = hall.body(hall.upload(api).json["file_id"])
    barrier = threading.Barrier(10)

    def attempt(_):
        barrier.wait()
        return hall.submit(api, body, key="concurrent-key")

    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        responses = list(pool.map(attempt, range(10)))
    assert sorted(r.status for r in responses) == [200] * 9 + [201], [r.body for r in responses]
    assert len({r.json["case_no"] for r in responses}) == 1
    with hall.ctx.db.connection_context():
        assert store.cases_of_user(api.user_id, 1, 50)[1] == 1
        assert len(store.outbox_for(openid=api.openid)) == 1


def test_same_key_with_a_different_body_is_422(hall):
    api = hall.citizen()
    file_id = hall.upload(api).json["file_id"]
    assert hall.submit(api, hall.body(file_id), key="k").status == 201
    resp = hall.submit(api, hall.body(file_id, name="李四"), key="k")
    assert resp.status == 422
    assert resp.error_code() == "idempotency_key_reused"


def test_the_same_key_from_two_citizens_makes_two_cases(hall):
    alice, bob = hall.citizen("openid-alice"), hall.citizen("openid-bob")
    a = hall.submit(alice, hall.body(hall.upload(alice).json["file_id"]), key="shared")
    b = hall.submit(bob, hall.body(hall.upload(bob).json["file_id"]), key="shared")
    assert a.status == b.status == 201
    assert a.json["case_no"] != b.json["case_no"]


def test_submit_without_idempotency_key_is_400(hall):
    api = hall.citizen()
    resp = api.post("/api/v1/hall/applications", hall.body(None))
    assert resp.status == 400 and resp.error_code() == "idempotency_key_required"


def test_missing_required_material_is_422_naming_it_and_not_the_e_licence_one(hall):
    resp = hall.submit(hall.citizen(), hall.body(None))
    assert resp.status == 422
    assert resp.error_code() == "missing_required_material"
    details = resp.json["error"]["details"]
    assert {(e["path"], e["rule"]) for e in details["errors"]} == {("/materials", "required_material")}
    # m2 (居民身份证) is fetched from the e-licence library and need not be uploaded
    assert [e["material_id"] for e in details["errors"]] == ["m1"]


def test_material_not_in_the_guide_is_422(hall):
    api = hall.citizen()
    body = hall.body(hall.upload(api).json["file_id"])
    body["materials"].append({"material_id": "m9", "file_id": body["materials"][0]["file_id"]})
    resp = hall.submit(api, body)
    assert resp.status == 422 and resp.error_code() == "unknown_material"
    assert resp.json["error"]["details"]["errors"][0]["path"] == "/materials/1/material_id"


@pytest.mark.parametrize("id_number", [
    ID_NUMBER[:-1] + "1",            # wrong check character
    "110105194902300021",            # 30 February
    ID_NUMBER[:17],                  # 17 characters
    "991051949123100214",            # no such province
    "",
])
def test_bad_id_number_is_422_naming_field_and_rule(hall, id_number):
    api = hall.citizen()
    resp = hall.submit(api, hall.body(hall.upload(api).json["file_id"], id_number=id_number))
    assert resp.status == 422
    assert resp.error_code() == "id_number_invalid"
    details = resp.json["error"]["details"]
    assert (details["errors"][0]["path"], details["errors"][0]["rule"]) == ("/applicant/id_number", "gb11643")
    assert id_number not in resp.body.decode() or not id_number


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "138123456789", "0375-1234567", None])
def test_bad_phone_is_422(hall, phone):
    api = hall.citizen()
    resp = hall.submit(api, hall.body(hall.upload(api).json["file_id"], phone=phone))
    assert resp.status == 422 and resp.error_code() == "phone_invalid"
    assert resp.json["error"]["details"]["errors"][0]["rule"] == "mainland_mobile"


def test_every_problem_is_listed_at_once(hall):
    resp = hall.submit(hall.citizen(), hall.body(None, id_number="123", phone="1"))
    assert resp.status == 422
    rules = [(e["path"], e["rule"]) for e in resp.json["error"]["details"]["errors"]]
    assert rules == [("/applicant/id_number", "gb11643"), ("/applicant/phone", "mainland_mobile"),
                     ("/materials", "required_material")]


def test_unknown_item_is_404_and_unpublished_item_is_404(hall):
    api = hall.citizen()
    body = hall.body(hall.upload(api).json["file_id"])
    body["impl_code"] = "11410402MB12345679" + "4" + "000199999000"
    resp = hall.submit(api, body)
    assert resp.status == 404 and resp.error_code() == "item_not_found"
    ctx = hall.ctx
    admin = Actor(username="admin", role="province_admin")
    editor = Actor(username="editor_a", role="editor", org=ORG_A)
    with ctx.db.connection_context():
        draft = dict(copy.deepcopy(ITEM), basic_code="000104003000", name="建筑工程竣工验收备案")
        ctx.catalogue.put("000104003000", draft, admin)
        body["impl_code"] = ctx.items.claim("000104003000", ORG_A, "4", "410402", editor)["impl_code"]
    resp = hall.submit(api, body)
    assert resp.status == 404 and resp.error_code() == "item_not_published"


def test_staff_cannot_submit_applications(hall):
    resp = hall.submit(hall.staff_a, hall.body(None))
    assert resp.status == 403 and resp.error_code() == "role_required"


def test_the_case_is_pinned_to_the_published_guide_version(hall):
    case_no = hall.new_case()
    with hall.ctx.db.connection_context():
        published = hall.ctx.items.get(hall.impl_code)["published_version"]
        assert store.get_case(case_no).guide_version == published
    view = hall.staff_a.get(f"/api/v1/cases/{case_no}").json
    assert view["guide_version"] == published and view["item_name"] == ITEM["name"]


# --- identity data never in clear ------------------------------------------------------------------

def test_id_number_and_phone_are_never_stored_or_answered_in_clear(hall, caplog):
    caplog.set_level(logging.DEBUG)
    api = hall.citizen()
    file_id = hall.upload(api).json["file_id"]
    submitted = hall.submit(api, hall.body(file_id))
    case_no = submitted.json["case_no"]
    bodies = [submitted.body,
              api.get("/api/v1/hall/applications").body,
              api.get(f"/api/v1/hall/applications/{case_no}").body,
              hall.app.api().get(f"/api/v1/hall/applications/{case_no}?factor={ID_NUMBER[-6:]}").body,
              hall.staff_a.get(f"/api/v1/cases/{case_no}").body,
              hall.staff_a.get("/api/v1/cases").body,
              hall.act(case_no, "accept").body]
    for body in bodies:
        text = body.decode()
        assert ID_NUMBER not in text and ID_NUMBER.lower() not in text
        assert PHONE not in text
    progress = json.loads(bodies[2])
    assert progress["applicant"] == {"name": "张**", "id_number": "110***********002X", "phone": "138****5678"}
    stored = hall_rows_text(hall.ctx)
    assert case_no in stored and ID_NUMBER not in stored and PHONE not in stored
    url = hall.app.settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        assert case_no.encode() in raw  # the scan reads the real pages
        assert ID_NUMBER.encode() not in raw and PHONE.encode() not in raw
    assert ID_NUMBER not in caplog.text and PHONE not in caplog.text


# --- the citizen's cases and progress ---------------------------------------------------------------

def test_citizens_list_only_their_own_cases(hall):
    alice, bob = hall.citizen("openid-alice"), hall.citizen("openid-bob")
    mine = {hall.new_case(alice), hall.new_case(alice)}
    hall.new_case(bob)
    listed = alice.get("/api/v1/hall/applications").json
    assert listed["total"] == 2 and {c["case_no"] for c in listed["cases"]} == mine
    assert all(c["state"] == "submitted" and c["applicant"] == "张**" for c in listed["cases"])


def test_owner_sees_progress_and_another_citizen_gets_404(hall):
    alice, bob = hall.citizen("openid-alice"), hall.citizen("openid-bob")
    case_no = hall.new_case(alice)
    view = alice.get(f"/api/v1/hall/applications/{case_no}").json
    assert view["case_no"] == case_no and view["state"] == "submitted" and view["state_label"] == "已申报"
    assert view["department"] == {"credit_code": ORG_A, "name": "卫东区住房和城乡建设局"}
    assert view["promised_date"] == "2026-10-10" and view["rating"]["allowed"] is False
    assert [h["action"] for h in view["history"]] == ["submit"]
    resp = bob.get(f"/api/v1/hall/applications/{case_no}")
    assert resp.status == 404 and resp.error_code() == "case_not_found"


@pytest.mark.parametrize("factor", [ID_NUMBER[-6:], ID_NUMBER[-6:].lower(), PHONE])
def test_anyone_with_the_case_number_and_a_second_factor_sees_progress(hall, factor):
    case_no = hall.new_case()
    resp = hall.app.api().get(f"/api/v1/hall/applications/{case_no}?factor={factor}")
    assert resp.status == 200, resp.body
    assert resp.json["case_no"] == case_no and resp.json["applicant"]["id_number"] == "110***********002X"


def test_lookup_without_token_or_factor_is_401(hall):
    case_no = hall.new_case()
    resp = hall.app.api().get(f"/api/v1/hall/applications/{case_no}")
    assert resp.status == 401 and resp.error_code() == "factor_required"


def test_wrong_factor_and_unknown_case_look_the_same(hall):
    case_no = hall.new_case()
    anonymous = hall.app.api()
    wrong = anonymous.get(f"/api/v1/hall/applications/{case_no}?factor={OTHER_ID_NUMBER[-6:]}")
    unknown = anonymous.get(f"/api/v1/hall/applications/{case_no[:-4]}9999?factor={ID_NUMBER[-6:]}")
    assert wrong.status == unknown.status == 404
    assert wrong.error_code() == unknown.error_code() == "case_not_found"


def test_failed_factors_are_rate_limited_per_case_even_for_the_right_factor(hall):
    case_no = hall.new_case()
    anonymous = hall.app.api()
    for attempt in range(MAX_FACTOR_FAILURES_PER_CASE):
        resp = anonymous.get(f"/api/v1/hall/applications/{case_no}?factor={100000 + attempt}")
        assert resp.status == 404
    resp = anonymous.get(f"/api/v1/hall/applications/{case_no}?factor={ID_NUMBER[-6:]}")
    assert resp.status == 429 and resp.error_code() == "too_many_attempts"
    assert resp.json["error"]["details"]["retry_after_seconds"] > 0
    # the owner, signed in, is not locked out of their own case
    assert hall.citizen().get(f"/api/v1/hall/applications/{case_no}").status == 200


def test_submit_queues_one_progress_notification_in_the_outbox(hall):
    api = hall.citizen()
    case_no = hall.new_case(api)
    with hall.ctx.db.connection_context():
        rows = store.outbox_for(dedupe_prefix=case_no)
        events = store.events_of(store.get_case(case_no).id)
    assert len(rows) == 1 and len(events) == 1
    row = rows[0]
    assert row.dedupe_key == f"{case_no}:{events[0].id}"
    assert (row.kind, row.openid, row.template, row.sent_at, row.attempts) == (
        "subscribe_message", api.openid, "case_progress", None, 0)
    assert row.payload["state"] == "submitted" and row.payload["case_no"] == case_no
