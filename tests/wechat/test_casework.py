"""Window staff's casework over HTTP on SQLite and PostgreSQL: the life cycle across the 2026 National Day
holiday and its swapped working days, paused clocks, 409s, scope, overdue flags and the outbox."""
from __future__ import annotations

import pytest

from hall_world import Hall
from items.errors import Forbidden
from items.scope import Actor
from wechat import store


@pytest.fixture
def hall(running_app):
    h = Hall(running_app)
    h.at(2026, 9, 28)  # Monday; 1–7 Oct are off, Sun 20 Sep and Sat 10 Oct are working days (调休)
    return h


def ok(resp) -> dict:
    assert resp.status == 200, resp.body
    return resp.json


def outbox_states(hall, case_no: str) -> list[str]:
    with hall.ctx.db.connection_context():
        return [row.payload["state"] for row in store.outbox_for(dedupe_prefix=case_no)]


def test_full_life_cycle_across_national_day_with_pauses(hall):
    citizen = hall.citizen()
    case_no = hall.new_case(citizen)

    hall.at(2026, 9, 29)
    view = ok(hall.act(case_no, "accept", opinion="材料齐全，予以受理"))
    # 5 working days from 30 Sep: 30 Sep, 8, 9, Sat 10 Oct (调休), 12 Oct — not 6 Oct as weekends alone give
    assert (view["state"], view["promised_date"], view["due_date"]) == ("accepted", "2026-10-12", "2026-10-12")
    assert view["allowed_actions"] == ["request_correction", "suspend", "step", "finish"]

    hall.at(2026, 9, 30)
    view = ok(hall.act(case_no, "step", step={"name": "审查", "action": "pass", "opinion": "符合条件"}))
    assert view["state"] == "in_progress" and view["steps"][0]["name"] == "审查"

    hall.at(2026, 10, 8)
    view = ok(hall.act(case_no, "request_correction", opinion="请补充施工合同"))
    assert view["state"] == "correction_requested" and view["paused"] is True
    assert view["allowed_actions"] == ["resume", "finish"]
    hall.at(2026, 10, 10)
    view = ok(hall.act(case_no, "resume"))
    # 9 and 10 Oct did not count: the due date moves two working days on
    assert (view["state"], view["due_date"], view["promised_date"]) == ("in_progress", "2026-10-14", "2026-10-12")
    assert view["corrections"][0]["opinion"] == "请补充施工合同"
    assert view["corrections"][0]["resolved_at"] is not None

    hall.at(2026, 10, 12)
    ok(hall.act(case_no, "suspend", opinion="需现场勘验"))
    hall.at(2026, 10, 13)
    view = ok(hall.act(case_no, "resume"))
    assert view["due_date"] == "2026-10-15"

    hall.at(2026, 10, 14)
    ok(hall.act(case_no, "step", step={"name": "决定", "action": "pass"}))
    hall.at(2026, 10, 15)
    view = ok(hall.act(case_no, "finish", result="approved", opinion="准予许可"))
    assert (view["state"], view["result"], view["overdue"]) == ("finished", "approved", False)
    hall.at(2026, 10, 16)
    view = ok(hall.act(case_no, "deliver", opinion="已邮寄"))
    assert view["state"] == "delivered" and view["delivered_at"]

    progress = ok(citizen.get(f"/api/v1/hall/applications/{case_no}"))
    assert [h["action"] for h in progress["history"]] == [
        "submit", "accept", "step", "request_correction", "resume", "suspend", "resume", "step", "finish", "deliver"]
    assert [s["name"] for s in progress["steps"]] == ["审查", "决定"]
    assert progress["steps"][1]["handler"] == "window_a"
    assert (progress["result_label"], progress["due_date"], progress["rating"]["next_kind"]) == ("准予", "2026-10-15", "first")
    assert progress["history"][1]["day"] == "2026-09-29"
    # one queued notification per state change, in order, none twice
    assert outbox_states(hall, case_no) == [h["to"] for h in progress["history"]]


def test_a_swapped_working_sunday_counts(hall):
    hall.at(2026, 9, 17)
    case_no = hall.new_case()
    hall.at(2026, 9, 18)
    view = ok(hall.act(case_no, "accept"))
    # Sun 20 Sep is a working day (调休) and Fri 25 Sep is 中秋节: 20, 21, 22, 23, 24
    assert view["due_date"] == "2026-09-24"


def test_the_due_date_moves_on_while_the_clock_stands_still(hall):
    case_no = hall.new_case()
    hall.at(2026, 9, 29)
    ok(hall.act(case_no, "accept"))
    hall.at(2026, 10, 8)
    ok(hall.act(case_no, "request_correction", opinion="请补充材料"))
    hall.at(2026, 10, 9)
    view = ok(hall.staff_a.get(f"/api/v1/cases/{case_no}"))
    assert view["due_date"] == "2026-10-13" and view["overdue"] is False and view["near_due"] is False
    hall.at(2026, 10, 30)  # long past the original due date, but paused cases are never late
    view = ok(hall.staff_a.get(f"/api/v1/cases/{case_no}"))
    assert view["overdue"] is False and view["paused"] is True


def test_correction_before_acceptance_keeps_the_clock_stopped_and_can_still_be_accepted(hall):
    case_no = hall.new_case()
    view = ok(hall.act(case_no, "request_correction", opinion="申请表未签字"))
    assert view["allowed_actions"] == ["accept", "reject", "resume"]
    assert ok(hall.act(case_no, "resume"))["state"] == "submitted"
    ok(hall.act(case_no, "request_correction", opinion="仍未签字"))
    hall.at(2026, 9, 29)
    view = ok(hall.act(case_no, "accept"))
    assert view["state"] == "accepted" and view["due_date"] == "2026-10-12"
    assert all(c["resolved_at"] for c in view["corrections"])


@pytest.mark.parametrize("setup,action,extra", [
    ([], "finish", {"result": "approved"}),
    ([], "deliver", {}),
    ([], "step", {"step": {"name": "审查"}}),
    (["accept"], "accept", {}),
    (["accept"], "resume", {}),
    (["accept", "finish"], "request_correction", {"opinion": "补正"}),
])
def test_an_action_the_state_does_not_allow_is_409_naming_the_allowed_ones(hall, setup, action, extra):
    case_no = hall.new_case()
    for done in setup:
        ok(hall.act(case_no, done, **({"result": "approved"} if done == "finish" else {})))
    before = outbox_states(hall, case_no)
    resp = hall.act(case_no, action, **extra)
    assert resp.status == 409
    assert resp.error_code() == "illegal_transition"
    details = resp.json["error"]["details"]
    assert details["action"] == action and action not in details["allowed"]
    assert outbox_states(hall, case_no) == before  # nothing queued for a change that did not happen


@pytest.mark.parametrize("action,extra,code", [
    ("reject", {}, "opinion_required"),
    ("request_correction", {"opinion": "  "}, "opinion_required"),
    ("fly", {}, "unknown_action"),
])
def test_bad_action_requests_are_422(hall, action, extra, code):
    resp = hall.act(hall.new_case(), action, **extra)
    assert resp.status == 422 and resp.error_code() == code


def test_finishing_needs_a_result(hall):
    case_no = hall.new_case()
    ok(hall.act(case_no, "accept"))
    resp = hall.act(case_no, "finish")
    assert resp.status == 422 and resp.error_code() == "finish_result_invalid"
    resp = hall.act(case_no, "step", result="approved", step={"name": "审查"})
    assert resp.status == 422 and resp.error_code() == "result_only_on_finish"


def test_reject_ends_the_case(hall):
    case_no = hall.new_case()
    view = ok(hall.act(case_no, "reject", opinion="不属于本部门职责"))
    assert view["state"] == "rejected" and view["allowed_actions"] == []


def test_another_department_sees_no_such_case_and_citizens_cannot_do_casework(hall):
    case_no = hall.new_case()
    # the same 404 as an unknown number: a case number cannot be probed for existence
    resp = hall.staff_b.get(f"/api/v1/cases/{case_no}")
    assert resp.status == 404 and resp.error_code() == "case_not_found"
    resp = hall.act(case_no, "accept", api=hall.staff_b)
    assert resp.status == 404 and resp.error_code() == "case_not_found"
    assert hall.staff_b.get("/api/v1/cases").json["total"] == 0
    resp = hall.citizen().get("/api/v1/cases")
    assert resp.status == 403 and resp.error_code() == "role_required"
    resp = hall.editor.post(f"/api/v1/cases/{case_no}/actions", {"action": "accept"})
    assert resp.status == 403


def test_unknown_case_is_404(hall):
    resp = hall.staff_a.get(f"/api/v1/cases/{hall.impl_code}202609289999")
    assert resp.status == 404 and resp.error_code() == "case_not_found"


def test_overdue_and_near_due_cases_are_flagged_and_filtered(hall):
    late, waiting = hall.new_case(), hall.new_case()
    hall.at(2026, 9, 29)
    ok(hall.act(late, "accept"))  # due 12 Oct
    hall.at(2026, 10, 9)
    near = ok(hall.staff_a.get("/api/v1/cases?near_due=1"))
    assert [c["case_no"] for c in near["cases"]] == [late] and near["cases"][0]["near_due"] is True
    assert ok(hall.staff_a.get("/api/v1/cases?overdue=1"))["total"] == 0
    hall.at(2026, 10, 13)
    overdue = ok(hall.staff_a.get("/api/v1/cases?overdue=1"))
    assert [c["case_no"] for c in overdue["cases"]] == [late]
    assert overdue["cases"][0]["overdue"] is True and overdue["cases"][0]["near_due"] is False
    submitted = ok(hall.staff_a.get("/api/v1/cases?state=submitted"))
    assert [c["case_no"] for c in submitted["cases"]] == [waiting]
    assert ok(hall.staff_a.get("/api/v1/cases"))["total"] == 2
    resp = hall.staff_a.get("/api/v1/cases?state=lost")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"


def test_a_message_queued_twice_with_the_same_dedupe_key_is_stored_once(hall):
    case_no = hall.new_case()
    with hall.ctx.db.connection_context():
        row = store.outbox_for(dedupe_prefix=case_no)[0]
        with store.transaction():
            store.queue_message(row.kind, row.dedupe_key, row.user_id, row.openid, row.template, row.payload,
                                row.created_at)
        assert len(store.outbox_for(dedupe_prefix=case_no)) == 1


def test_service_refuses_non_window_staff(hall):
    case_no = hall.new_case()
    reviewer = Actor(username="reviewer", role="reviewer", region="410402")
    with hall.ctx.db.connection_context():
        with pytest.raises(Forbidden) as caught:
            hall.ctx.hall.casework.act(reviewer, case_no, "accept")
        assert caught.value.code == "role_required"
        assert store.get_case(case_no).state == "submitted"
