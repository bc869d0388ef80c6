"""Loading next year's official holiday calendar over HTTP: stored for every process, used for due dates,
and /health warns from 1 November while it is missing."""
from __future__ import annotations

import datetime as dt

import pytest

from hall_world import Hall
from items.scope import Actor

# A 2027 calendar in the shape of the State Council's notice (dates for the test, not the real notice).
YEAR_2027 = {
    "source": "国办发明电〔2026〕测试号",
    "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"] + [f"2027-02-{d:02d}" for d in range(6, 14)],
    "workdays": ["2027-02-20"],
}


@pytest.fixture
def hall(running_app):
    return Hall(running_app)


@pytest.fixture
def admin(hall):
    return hall.staff(Actor(username="admin", role="province_admin"))


def health_warnings(hall) -> list:
    resp = hall.app.api().get("/api/v1/health", token=None)
    assert resp.status == 200 and resp.json["ok"] is True, resp.body
    return resp.json["warnings"]


def test_health_warns_from_1_november_while_next_years_calendar_is_missing(hall):
    hall.at(2026, 10, 31)
    assert health_warnings(hall) == []
    hall.at(2026, 11, 1)
    assert [(w["code"], w["year"]) for w in health_warnings(hall)] == [("holiday_calendar_missing", 2027)]
    hall.at(2026, 11, 30)
    assert [(w["code"], w["year"]) for w in health_warnings(hall)] == [("holiday_calendar_missing", 2027)]
    hall.at(2027, 1, 4)  # into the year without it: still warned
    assert [w["year"] for w in health_warnings(hall)] == [2027]


def test_loaded_year_is_stored_read_back_and_silences_the_warning(hall, admin):
    hall.at(2026, 11, 30)
    assert admin.get("/api/v1/admin/holidays/2027").error_code() == "holiday_calendar_missing"
    resp = admin.put("/api/v1/admin/holidays/2027", YEAR_2027)
    assert resp.status == 201, resp.body
    assert resp.json["holidays"] == sorted(YEAR_2027["holidays"]) and resp.json["workdays"] == ["2027-02-20"]
    assert resp.json["loaded_by"] == "admin" and resp.json["origin"] == "stored"
    read = admin.get("/api/v1/admin/holidays/2027").json
    assert read["source"] == YEAR_2027["source"] and read["holidays"] == resp.json["holidays"]
    assert health_warnings(hall) == []
    listed = {e["year"]: e["origin"] for e in admin.get("/api/v1/admin/holidays").json["years"]}
    assert listed[2027] == "stored" and listed[2026] == "package"
    again = admin.put("/api/v1/admin/holidays/2027", {**YEAR_2027, "workdays": []})
    assert again.status == 200 and again.json["workdays"] == []
    audit = admin.get("/api/v1/audit?action=holiday_calendar.put").json
    assert [e["target"] for e in audit["entries"]] == ["2027", "2027"]


def test_due_dates_count_with_the_loaded_year_in_this_and_another_process(hall, admin, running_app):
    calendar = hall.ctx.hall.calendar
    # without 2027 the counting falls back to weekends: New Year's Day (a Friday) counts as a working day
    assert calendar.add_workdays(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 1)
    assert admin.put("/api/v1/admin/holidays/2027", YEAR_2027).status == 201
    assert calendar.add_workdays(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 4)
    assert calendar.is_workday(dt.date(2027, 2, 20))  # the swapped Saturday
    from server.app import Context
    other = Context(running_app.settings)  # a second process on the same database
    try:
        with other.db.connection_context():
            assert other.hall.calendar.origin(2027) == "stored"
            assert not other.hall.calendar.is_workday(dt.date(2027, 2, 8))
    finally:
        other.close()


def test_calendar_breaking_rules_is_422_naming_each_and_stores_nothing(hall, admin):
    hall.at(2026, 11, 30)
    bad = {"holidays": ["2027-01-01", "2028-01-01", "01/02/2027"], "workdays": ["2027-01-01", "2027-02-22"]}
    resp = admin.put("/api/v1/admin/holidays/2027", bad)
    assert resp.status == 422 and resp.error_code() == "calendar_year_invalid"
    rules = {(e["path"], e["rule"]) for e in resp.json["error"]["details"]["errors"]}
    assert {("/holidays/1", "same_year"), ("/holidays/2", "iso_date"), ("/workdays", "not_both"),
            ("/workdays", "weekend_only")} <= rules
    for body, rule in [({"holidays": []}, "required"), ({**YEAR_2027, "year": 2028}, "matches_path"),
                       ({**YEAR_2027, "source": 7}, "text_max:200")]:
        resp = admin.put("/api/v1/admin/holidays/2027", body)
        assert resp.status == 422, body
        assert rule in {e["rule"] for e in resp.json["error"]["details"]["errors"]}
    far = admin.put("/api/v1/admin/holidays/2030", {**YEAR_2027, "holidays": ["2030-01-01"], "workdays": []})
    assert far.status == 422 and far.json["error"]["details"]["errors"][0]["rule"] == "year_in_range"
    assert admin.put("/api/v1/admin/holidays/next", YEAR_2027).error_code() == "bad_parameter"
    assert admin.put("/api/v1/admin/holidays/2027", raw=b"[1", content_type="application/json").status == 400
    assert admin.get("/api/v1/admin/holidays/2027").status == 404
    assert [w["year"] for w in health_warnings(hall)] == [2027]


def test_only_province_admins_load_a_year_and_citizens_read_nothing(hall):
    editor = hall.editor
    assert editor.put("/api/v1/admin/holidays/2027", YEAR_2027).error_code() == "role_required"
    assert editor.get("/api/v1/admin/holidays/2026").json["origin"] == "package"
    citizen = hall.citizen()
    assert citizen.get("/api/v1/admin/holidays").status == 403
    assert hall.app.api().get("/api/v1/admin/holidays/2026", token=None).status == 401
