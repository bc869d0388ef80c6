"""Ratings over HTTP on SQLite and PostgreSQL: levels by name, once per finished case plus one follow-up, and the
rectification task a bad rating opens, due in working days."""
from __future__ import annotations

import pytest

from hall_world import Hall
from wechat import store


@pytest.fixture
def hall(running_app):
    h = Hall(running_app)
    h.at(2026, 9, 28)
    return h


def rate(citizen, case_no: str, level: str, comment: str = ""):
    return citizen.post(f"/api/v1/hall/applications/{case_no}/rating", {"level": level, "comment": comment})


def test_a_case_that_is_not_finished_cannot_be_rated(hall):
    citizen = hall.citizen()
    case_no = hall.new_case(citizen)
    resp = rate(citizen, case_no, "satisfied")
    assert resp.status == 409 and resp.error_code() == "case_not_finished"
    assert hall.act(case_no, "accept").status == 200
    assert rate(citizen, case_no, "satisfied").status == 409


def test_first_rating_then_one_follow_up_then_409(hall):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    first = rate(citizen, case_no, "very_satisfied", "办事很快")
    assert first.status == 201, first.body
    assert first.json == {"case_no": case_no, "kind": "first", "level": "very_satisfied", "label": "非常满意",
                          "rectification": None}
    follow = rate(citizen, case_no, "satisfied", "证书已收到")
    assert follow.status == 201 and follow.json["kind"] == "follow_up"
    third = rate(citizen, case_no, "basic")
    assert third.status == 409 and third.error_code() == "rating_closed"
    view = citizen.get(f"/api/v1/hall/applications/{case_no}").json
    assert [(r["kind"], r["level"]) for r in view["rating"]["ratings"]] == [
        ("first", "very_satisfied"), ("follow_up", "satisfied")]
    assert view["rating"]["allowed"] is False


def test_a_delivered_case_can_be_rated(hall):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    assert hall.act(case_no, "deliver").status == 200
    assert rate(citizen, case_no, "satisfied").status == 201


def test_bad_rating_opens_a_rectification_due_in_working_days(hall):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    hall.at(2026, 9, 30)
    resp = rate(citizen, case_no, "very_dissatisfied", "窗口人员态度差")
    assert resp.status == 201, resp.body
    task = resp.json["rectification"]
    # 5 working days after Wed 30 Sep across National Day: 8, 9, Sat 10 (调休), 12, 13 Oct
    assert hall.app.settings.rectification_workdays == 5
    assert task["due_date"] == "2026-10-13" and task["status"] == "open"
    view = hall.staff_a.get(f"/api/v1/cases/{case_no}").json
    assert view["rectifications"] == [{"id": task["id"], "status": "open", "due_date": "2026-10-13", "answer": "",
                                       "answered_at": None}]


def test_rectification_days_are_configurable(hall):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    hall.ctx.hall.ratings.rectification_workdays = 15
    resp = rate(citizen, case_no, "dissatisfied")
    # 15 working days after Mon 28 Sep: 29, 30 Sep, 8–10, 12–16, 19–23 Oct
    assert resp.json["rectification"]["due_date"] == "2026-10-23"


def test_the_department_answers_a_rectification_once(hall):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    task = rate(citizen, case_no, "dissatisfied").json["rectification"]
    path = f"/api/v1/rectifications/{task['id']}/answer"
    resp = hall.staff_b.post(path, {"answer": "已整改"})
    assert resp.status == 403 and resp.error_code() == "out_of_scope"
    hall.at(2026, 9, 29)
    resp = hall.staff_a.post(path, {"answer": "已约谈窗口人员并回访申请人"})
    assert resp.status == 200, resp.body
    assert (resp.json["status"], resp.json["late"]) == ("answered", False)
    again = hall.staff_a.post(path, {"answer": "再次答复"})
    assert again.status == 409 and again.error_code() == "rectification_answered"


def test_a_good_rating_opens_no_rectification(hall):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    assert rate(citizen, case_no, "basic").json["rectification"] is None
    with hall.ctx.db.connection_context():
        assert store.rectifications_of(store.get_case(case_no).id) == []


@pytest.mark.parametrize("level", ["5", "good", "非常满意", ""])
def test_levels_are_names_not_codes_or_labels(hall, level):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    resp = rate(citizen, case_no, level)
    assert resp.status == 422
    assert resp.error_code() in ("rating_level_invalid", "missing_fields")


def test_comment_longer_than_500_characters_is_422(hall):
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    resp = rate(citizen, case_no, "satisfied", "好" * 501)
    assert resp.status == 422 and resp.error_code() == "comment_too_long"


def test_only_the_applicant_rates_their_case(hall):
    alice, bob = hall.citizen("openid-alice"), hall.citizen("openid-bob")
    case_no = hall.finished_case(alice)
    resp = rate(bob, case_no, "very_dissatisfied")
    assert resp.status == 404 and resp.error_code() == "case_not_found"
    resp = hall.app.api().post(f"/api/v1/hall/applications/{case_no}/rating", {"level": "satisfied"})
    assert resp.status == 401
