"""The window workbench over HTTP on SQLite and PostgreSQL: the queue with due status, the staff case page,
audited file downloads, reason-gated ID-number reveals and the rectifications waiting for an answer."""
from __future__ import annotations

import logging

import pytest

from hall_world import ID_NUMBER, PDF, Hall
from items import store as item_store
from items.scope import Actor


@pytest.fixture
def hall(running_app):
    h = Hall(running_app)
    h.admin = h.staff(Actor(username="admin", role="province_admin"))
    return h


def ok(resp) -> dict:
    assert resp.status == 200, resp.body
    return resp.json


def audit_rows(hall, action: str) -> list[dict]:
    with hall.ctx.db.connection_context():
        return item_store.audit_entries(action=action)[0]


# --- the queue -----------------------------------------------------------------------------------------

@pytest.fixture
def queue(hall):
    """On Thu 8 Oct 2026: one case overdue, one due soon, one on time, one not yet accepted."""
    hall.at(2026, 9, 17)
    late = hall.new_case()
    hall.at(2026, 9, 18)
    assert hall.act(late, "accept").status == 200          # due Thu 24 Sep
    hall.at(2026, 9, 28)
    soon = hall.new_case()
    assert hall.act(soon, "accept").status == 200          # due Sat 10 Oct (调休)
    fresh = hall.new_case()
    hall.at(2026, 10, 8)
    on_time = hall.new_case()
    assert hall.act(on_time, "accept").status == 200       # due Wed 14 Oct
    return {"late": late, "soon": soon, "on_time": on_time, "fresh": fresh}


def numbers(resp) -> list[str]:
    return [row["case_no"] for row in ok(resp)["cases"]]


def test_queue_rows_carry_due_date_and_due_status(hall, queue):
    rows = {row["case_no"]: row for row in ok(hall.staff_a.get("/api/v1/cases"))["cases"]}
    assert (rows[queue["late"]]["due_status"], rows[queue["late"]]["due_label"]) == ("overdue", "已超期")
    assert rows[queue["late"]]["due_date"] == "2026-09-24"
    assert (rows[queue["soon"]]["due_status"], rows[queue["soon"]]["due_date"]) == ("due_soon", "2026-10-10")
    assert (rows[queue["on_time"]]["due_status"], rows[queue["on_time"]]["due_label"]) == ("on_time", "按时")
    assert rows[queue["fresh"]]["due_status"] is None  # the clock starts at acceptance


@pytest.mark.parametrize("due", ["overdue", "due_soon", "on_time"])
def test_queue_filters_by_due_status(hall, queue, due):
    expected = {"overdue": "late", "due_soon": "soon", "on_time": "on_time"}[due]
    assert numbers(hall.staff_a.get(f"/api/v1/cases?due={due}")) == [queue[expected]]


def test_queue_filters_by_state_item_received_dates_and_case_number(hall, queue):
    api = hall.staff_a
    assert numbers(api.get("/api/v1/cases?state=submitted")) == [queue["fresh"]]
    assert set(numbers(api.get(f"/api/v1/cases?impl_code={hall.impl_code}"))) == set(queue.values())
    assert numbers(api.get("/api/v1/cases?impl_code=000000000000000000000000000000X")) == []
    assert numbers(api.get("/api/v1/cases?received_to=2026-09-17")) == [queue["late"]]
    assert set(numbers(api.get("/api/v1/cases?received_from=2026-09-28&received_to=2026-09-28"))) == {
        queue["soon"], queue["fresh"]}
    assert numbers(api.get(f"/api/v1/cases?case_no={queue['late']}")) == [queue["late"]]
    assert numbers(api.get(f"/api/v1/cases?case_no={hall.impl_code}20261008")) == [queue["on_time"]]
    # the old flags still work and mean the same
    assert numbers(api.get("/api/v1/cases?overdue=1")) == [queue["late"]]


def test_queue_refuses_bad_filters_and_shows_only_the_department(hall, queue):
    resp = hall.staff_a.get("/api/v1/cases?due=late")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"
    resp = hall.staff_a.get("/api/v1/cases?received_from=2026-10-02&received_to=2026-10-01")
    assert resp.status == 422 and resp.error_code() == "dates_out_of_order"
    resp = hall.staff_a.get("/api/v1/cases?received_from=2026-13-01")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"
    assert ok(hall.staff_b.get("/api/v1/cases"))["total"] == 0
    # the queue is a department's work list; the province administers, it does not handle cases
    resp = hall.admin.get("/api/v1/cases")
    assert resp.status == 403 and resp.error_code() == "role_required"


# --- the case page -------------------------------------------------------------------------------------

def test_case_page_masks_the_applicant_and_links_files_guide_and_forms(hall):
    hall.at(2026, 9, 28)
    case_no = hall.new_case()
    view = ok(hall.staff_a.get(f"/api/v1/cases/{case_no}"))
    assert view["applicant"]["name"] == "张**"
    assert view["applicant"]["id_number"] != ID_NUMBER and view["applicant"]["id_number"].endswith(ID_NUMBER[-4:])
    assert ID_NUMBER not in str(view)
    material = view["materials"][0]
    assert (material["material_id"], material["content_type"], material["size"]) == ("m1", "application/pdf", len(PDF))
    assert material["download"] == f"/api/v1/cases/{case_no}/files/{material['file_id']}"
    assert len(material["sha256"]) == 64
    forms = {f["action"]: f for f in view["action_forms"]}
    assert set(forms) == set(view["allowed_actions"]) == {"accept", "reject", "request_correction"}
    fields = {f["name"]: f for f in forms["request_correction"]["fields"]}
    assert fields["opinion"]["required"] is True and fields["materials"]["type"] == "material_ids"
    guide = ok(hall.staff_a.get(view["guide"]["href"]))
    assert (guide["impl_code"], guide["version"]) == (hall.impl_code, view["guide"]["version"])
    assert [m["id"] for m in guide["document"]["materials"]] == ["m1", "m2", "m3"]


def test_timeline_shows_who_and_when_the_clock_stopped_and_resumed(hall):
    hall.at(2026, 9, 28)
    case_no = hall.new_case()
    ok(hall.act(case_no, "accept"))
    resp = hall.act(case_no, "request_correction", opinion="请补充", materials=["m9"])
    assert resp.status == 422 and resp.error_code() == "unknown_material"
    resp = hall.act(case_no, "suspend", opinion="需勘验", materials=["m1"])
    assert resp.status == 422 and resp.error_code() == "materials_only_on_correction"
    view = ok(hall.act(case_no, "request_correction", opinion="请补充施工合同", materials=["m3"]))
    assert view["corrections"][0]["materials"] == ["m3"]
    hall.at(2026, 9, 29)
    view = ok(hall.act(case_no, "resume"))
    assert [(t["action"], t["actor"], t["clock"]) for t in view["timeline"]] == [
        ("submit", f"hall:{view['timeline'][0]['actor'].split(':')[1]}", None), ("accept", "window_a", "starts"),
        ("request_correction", "window_a", "stops"), ("resume", "window_a", "resumes")]
    assert view["timeline"][2]["opinion"] == "请补充施工合同"


# --- downloads -----------------------------------------------------------------------------------------

def test_staff_download_the_case_file_without_caching_and_each_download_is_audited(hall):
    case_no = hall.new_case()
    material = ok(hall.staff_a.get(f"/api/v1/cases/{case_no}"))["materials"][0]
    for _ in range(2):
        resp = hall.staff_a.get(material["download"])
        assert resp.status == 200 and resp.body == PDF
        assert resp.headers["Content-Type"] == "application/pdf"
        assert "no-store" in resp.headers["Cache-Control"]
        assert resp.headers["Content-Disposition"].startswith(f'attachment; filename="{case_no}-m1.pdf"')
    rows = audit_rows(hall, "case.file_download")
    assert len(rows) == 2
    assert {(r["actor"], r["target"], r["details"]["file_id"], r["details"]["material_id"]) for r in rows} == {
        ("window_a", case_no, material["file_id"], "m1")}


def test_another_department_cannot_download_or_even_see_the_case_exists(hall):
    case_no = hall.new_case()
    material = ok(hall.staff_a.get(f"/api/v1/cases/{case_no}"))["materials"][0]
    resp = hall.staff_b.get(material["download"])
    assert resp.status == 404 and resp.error_code() == "case_not_found"
    resp = hall.staff_b.get(f"/api/v1/cases/{case_no[:-1]}9/files/{material['file_id']}")
    assert resp.status == 404 and resp.error_code() == "case_not_found"
    resp = hall.staff_a.get(f"/api/v1/cases/{case_no}/files/not-a-file-of-it")
    assert resp.status == 404 and resp.error_code() == "file_not_found"
    assert hall.editor.get(material["download"]).status == 403
    assert hall.staff_a.get(material["download"], token=None).status == 401
    assert audit_rows(hall, "case.file_download") == []


# --- revealing the full ID number ----------------------------------------------------------------------

def reveal(api, case_no: str, reason="核对申请人身份证原件"):
    body = {} if reason is None else {"reason": reason}
    return api.post(f"/api/v1/cases/{case_no}/applicant/reveal", body)


def test_reveal_needs_a_reason_of_some_length(hall):
    case_no = hall.new_case()
    for reason, code in ((None, "missing_fields"), ("  ", "missing_fields"), ("看看", "reason_too_short")):
        resp = reveal(hall.staff_a, case_no, reason)
        assert resp.status == 422 and resp.error_code() in (code, "reason_required"), resp.body
    assert audit_rows(hall, "case.applicant_reveal") == []


def test_reveal_shows_the_number_once_uncached_audited_and_never_logged(hall, caplog):
    caplog.set_level(logging.DEBUG)
    case_no = hall.new_case()
    resp = reveal(hall.staff_a, case_no)
    body = ok(resp)
    assert (body["id_number"], body["revealed_by"]) == (ID_NUMBER, "window_a")
    assert "no-store" in resp.headers["Cache-Control"] and resp.headers["Pragma"] == "no-cache"
    entries = ok(hall.admin.get("/api/v1/reveals"))["entries"]
    assert [(e["actor"], e["target"], e["details"]["reason"]) for e in entries] == [
        ("window_a", case_no, "核对申请人身份证原件")]
    assert ID_NUMBER not in str(entries)
    assert all(ID_NUMBER not in record.getMessage() for record in caplog.records)
    assert any(case_no in record.getMessage() for record in caplog.records)  # the logs did see the request


def test_reveal_is_for_the_department_only_and_its_audit_for_the_province(hall):
    case_no = hall.new_case()
    resp = reveal(hall.staff_b, case_no)
    assert resp.status == 404 and resp.error_code() == "case_not_found"
    assert reveal(hall.admin, case_no).status == 403
    assert hall.staff_a.get("/api/v1/reveals").status == 403


def test_reveals_are_limited_per_staff_member(hall):
    case_no = hall.new_case()
    for _ in range(10):
        ok(reveal(hall.staff_a, case_no))
    resp = reveal(hall.staff_a, case_no)
    assert resp.status == 429 and resp.error_code() == "too_many_reveals"
    assert 0 < int(resp.headers["Retry-After"]) <= 3600
    assert len(audit_rows(hall, "case.applicant_reveal")) == 10


# --- rectifications ------------------------------------------------------------------------------------

def test_bad_ratings_wait_for_rectification_with_a_working_day_deadline(hall):
    hall.at(2026, 9, 28)
    citizen = hall.citizen()
    case_no = hall.finished_case(citizen)
    rated = citizen.post(f"/api/v1/hall/applications/{case_no}/rating", {"level": "dissatisfied", "comment": "太慢"})
    assert rated.status in (200, 201), rated.body
    listing = ok(hall.staff_a.get("/api/v1/rectifications"))
    assert listing["total"] == 1
    task = listing["rectifications"][0]
    assert (task["case_no"], task["status"], task["overdue"], task["rating"]["comment"]) == (
        case_no, "open", False, "太慢")
    assert task["due_date"] == rated.json["rectification"]["due_date"] and task["workdays_left"] > 0
    assert ok(hall.staff_b.get("/api/v1/rectifications"))["total"] == 0

    hall.at(2026, 12, 1)
    task = ok(hall.staff_a.get("/api/v1/rectifications"))["rectifications"][0]
    assert task["overdue"] is True and task["workdays_left"] == 0
    ok(hall.staff_a.post(task["answer_href"], {"answer": "已约谈窗口人员并整改"}))
    assert ok(hall.staff_a.get("/api/v1/rectifications"))["total"] == 0
    answered = ok(hall.staff_a.get("/api/v1/rectifications?state=answered"))["rectifications"]
    assert [(t["id"], t["answered_by"]) for t in answered] == [(task["id"], "window_a")]
    resp = hall.staff_a.get("/api/v1/rectifications?state=late")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"
    assert hall.admin.get("/api/v1/rectifications").status == 403
