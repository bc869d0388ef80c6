"""The demonstration province: loads twice without changes, every document valid, every type published,
cases in every state of the life cycle with ratings, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import json
import types

import pytest
from harness import make_settings
from hypothesis import assume, given
from hypothesis import strategies as st

from items import codes, model, records, rules, store
from items.errors import Unavailable
from items.scope import Actor
from scripts import demo, demo_hall, demo_plan
from wechat import progress
from wechat import records as hall_records
from wechat import store as hall_store
from wechat.workdays import WorkCalendar

COUNTED = (records.RegionRecord, records.OrgRecord, records.UserRecord, records.CatalogueItemRecord,
           records.CatalogueVersionRecord, records.LocalItemRecord, records.LocalVersionRecord, records.AuditRecord,
           hall_records.HallUserRecord, hall_records.UploadRecord, hall_records.CaseRecord,
           hall_records.CaseEventRecord, hall_records.StepRecord, hall_records.CorrectionRecord,
           hall_records.RatingRecord, hall_records.RectificationRecord, hall_records.OutboxRecord)
REFORM_OFFICE = Actor(username="reform-410000", role="reform_office", region="410000")
MIN_PUBLISHED_PER_TYPE = 3


def _row_counts() -> dict[str, int]:
    return {m.__name__: m.select().count() for m in COUNTED}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One SQLite database with the demo loaded twice: (ctx, first summary, second summary, counts)."""
    from server.app import Context
    folder = tmp_path_factory.mktemp("demo")
    ctx = Context(make_settings(f"sqlite:///{folder / 'demo.db'}", upload_dir=str(folder / "uploads")))
    seen = []
    first = demo.load(ctx, progress=lambda done, total: seen.append((done, total)))
    after_first = _row_counts()
    second = demo.load(ctx)
    after_second = _row_counts()
    yield types.SimpleNamespace(ctx=ctx, first=first, second=second, progress=seen,
                                after_first=after_first, after_second=after_second)
    ctx.close()


def _local_heads():
    return store.list_local(page=1, size=1_000_000)[0]


def test_second_load_writes_nothing_and_creates_no_duplicates(loaded):
    assert loaded.after_second == loaded.after_first
    assert loaded.second["catalogue"]["created"] == loaded.second["catalogue"]["updated"] == 0
    assert loaded.second["catalogue"]["unchanged"] == loaded.first["catalogue"]["items"]
    local = loaded.second["local_items"]
    assert (local["claimed"], local["revised"], local["workflow_steps"]) == (0, 0, 0)
    assert local["by_status"] == loaded.first["local_items"]["by_status"]
    assert loaded.second["accounts"]["created"] == 0


def test_first_load_claims_every_planned_item_and_reports_progress(loaded):
    local = loaded.first["local_items"]
    assert local["claimed"] == local["planned"] == local["total"] == loaded.after_first["LocalItemRecord"]
    assert loaded.progress[-1] == (local["planned"], local["planned"])
    assert [done for done, _ in loaded.progress] == list(range(1, local["planned"] + 1))


def test_catalogue_has_about_three_hundred_items_of_every_type(loaded):
    catalogue = loaded.first["catalogue"]
    assert 250 <= catalogue["items"] <= 350
    assert set(catalogue["by_type"]) == set(codes.ITEM_TYPES) - {"99"}
    assert loaded.after_first["CatalogueItemRecord"] == catalogue["items"]


def test_every_local_item_document_is_valid(loaded):
    heads = _local_heads()
    assert heads
    for head in heads:
        for version in {head.latest_version, head.published_version} - {None}:
            document = store.local_version(head.impl_code, version).document
            errors = rules.errors_of(rules.validate(document, "local"))
            assert errors == [], (head.impl_code, [e.as_dict() for e in errors])


def test_every_department_has_a_valid_credit_code_of_its_region(loaded):
    orgs = store.list_orgs("41")
    assert len(orgs) == loaded.first["departments"] >= 24
    for org in orgs:
        assert codes.is_valid_credit_code(org.credit_code), org.name
        assert codes.credit_code_region(org.credit_code) == org.region_code
    assert len({o.credit_code for o in orgs}) == len(orgs)


def test_regions_carry_the_gb_2260_codes_of_pingdingshan(loaded):
    names = {r.code: r.name for r in store.list_regions()}
    assert names["410000"] == "河南省" and names["410400"] == "平顶山市"
    assert (names["410402"], names["410403"], names["410411"], names["410482"]) == ("新华区", "卫东区", "湛河区", "汝州市")
    assert all(codes.parent_region(code) == "410400" for code in names if code not in ("410000", "410400"))


def test_every_item_type_has_published_local_items(loaded):
    published = loaded.first["local_items"]["published_by_type"]
    for item_type in set(codes.ITEM_TYPES) - {"99"}:
        assert published.get(item_type, 0) >= MIN_PUBLISHED_PER_TYPE, item_type
    by_status = loaded.first["local_items"]["by_status"]
    assert by_status["published"] > 0.75 * loaded.first["local_items"]["total"]
    assert by_status.get("submitted", 0) > 0 and by_status.get("draft", 0) > 0


def test_local_elements_vary_the_way_real_lists_do(loaded):
    docs = [store.local_version(h.impl_code, h.latest_version).document for h in _local_heads()]
    assert {d["online_depth"] for d in docs} == {1, 2, 3, 4}
    assert {d["visits"] for d in docs} == {0, 1, 2}
    assert {d["handling_type"] for d in docs} == {"instant", "promised"}
    assert any(d["legal_limit"] is None for d in docs)
    assert any((d["legal_limit"] or {}).get("unit") == "calendar_day" for d in docs)
    assert any(d["fees"] for d in docs) and any(d["commitment"] for d in docs)
    assert any(m.get("e_license") for d in docs for m in d["materials"])
    assert {d["scope"] for d in docs} >= {None, "cross_city", "cross_province", "nationwide"}
    assert all(d["phone"] != d["complaint_phone"] for d in docs)
    aliases = {a for d in docs for a in d["aliases"]}
    assert {"办身份证", "办驾照", "提公积金"} <= aliases
    for d in docs:
        promised, legal = model.to_days(d["promised_limit"]), model.to_days(d["legal_limit"])
        if promised is not None and legal is not None:
            assert promised <= legal + 1e-9, d["impl_code"]


def test_demo_staff_sign_in_with_the_documented_passwords(loaded):
    accounts = loaded.ctx.accounts
    assert accounts.login("admin", "demo-admin")["user"]["role"] == "province_admin"
    assert accounts.login("editor-410403-gaj", "demo-editor")["user"]["org"] is not None
    assert accounts.login("reviewer-410400", "demo-reviewer")["user"]["region"] == "410400"
    assert accounts.login("reform-410400", "demo-reform")["user"]["role"] == "reform_office"
    assert accounts.login("window-410421-scjg", "demo-window")["user"]["role"] == "window_staff"


def test_every_generated_local_document_is_valid_for_every_department_and_item():
    """Exhaustive over the pure generator: any department claiming any catalogue item gets a valid document."""
    specs = demo.catalogue_specs()
    assert len({s.basic_code for s in specs}) == len(specs)
    for spec in specs:
        assert codes.basic_code_item_type(spec.basic_code) == spec.document["item_type"]
        assert rules.errors_of(rules.validate(spec.document, "catalogue")) == [], spec.basic_code
    for dept in demo.departments():
        for spec in specs:
            claimed = model.local_defaults(model.normalize(spec.document), {"credit_code": dept.credit_code,
                                                                            "name": dept.name},
                                           dept.level, dept.region_code)
            errors = rules.errors_of(rules.validate(demo.local_document(claimed, spec, dept), "local"))
            assert errors == [], (dept.name, spec.document["name"], [e.as_dict() for e in errors])


def test_publishing_without_a_workflow_service_is_a_clear_error():
    with pytest.raises(Unavailable) as caught:
        demo._publish(types.SimpleNamespace(), "11410400MB00000017" + "3" + "000111001000",
                      Actor(username="reviewer-410400", role="reviewer", region="410400"))
    assert caught.value.code == "workflow_missing"
    assert "items/workflow.py" in caught.value.message


def test_hall_hook_does_nothing_without_a_hall_service():
    assert demo.load_hall(types.SimpleNamespace())["loaded"] is False


# --- the branch hall: cases and ratings ----------------------------------------------------------------

def _demo_cases() -> list:
    users = [hall_store.ensure_hall_user(c.openid) for c in demo_hall.citizens()]
    return [case for user in users for case in hall_store.cases_of_user(user.id, 1, 1000)[0]]


def test_second_load_creates_no_case_rating_or_upload(loaded):
    first, second = loaded.first["hall"], loaded.second["hall"]
    assert first["loaded"] and first["created"] == first["cases"] == first["planned"] >= 140
    assert (second["created"], second["moves"]) == (0, 0)
    assert (second["cases"], second["ratings"], second["by_state"]) == (first["cases"], first["ratings"],
                                                                        first["by_state"])
    for name in ("CaseRecord", "RatingRecord", "UploadRecord", "CaseEventRecord", "HallUserRecord"):
        assert loaded.after_second[name] == loaded.after_first[name], name


def test_cases_stand_in_every_state_of_the_life_cycle(loaded):
    by_state = loaded.first["hall"]["by_state"]
    assert set(by_state) == {"submitted", "accepted", "in_progress", "correction_requested", "suspended",
                             "rejected", "finished", "delivered"}
    assert by_state["delivered"] > sum(by_state.values()) / 2
    cases = _demo_cases()
    assert {c.result for c in cases if c.finished_at} == {"approved", "refused"}
    assert any(hall_store.corrections_of(c.id) and c.state == "delivered" for c in cases)
    in_progress = [c for c in cases if c.state == "in_progress"]
    assert in_progress and all(hall_store.steps_of(c.id) for c in in_progress)
    assert len({c.org for c in cases}) >= 10


def test_dates_spread_over_months_and_due_dates_are_working_days(loaded):
    calendar = loaded.ctx.hall.calendar
    cases = _demo_cases()
    now = records.utcnow()
    days = sorted(progress.china_day(c.submitted_at) for c in cases)
    assert (days[-1] - days[0]).days >= 60 and cases and max(c.updated_at for c in cases) <= now
    late = 0
    for case in cases:
        if case.accepted_at is None:
            continue
        accepted = progress.china_day(case.accepted_at)
        assert calendar.is_workday(accepted), case.case_no
        if case.time_limit and not hall_store.corrections_of(case.id) and case.state != "suspended":
            assert case.due_date == calendar.due_date(accepted, case.time_limit), case.case_no
        if case.finished_at and case.due_date and progress.china_day(case.finished_at) > case.due_date:
            late += 1
    finished = sum(1 for c in cases if c.finished_at)
    assert 0 < late < finished / 5


def test_no_progress_view_shows_a_full_id_number_or_phone(loaded):
    hall = loaded.ctx.hall
    secrets = [c.id_number for c in demo_hall.citizens()] + [c.phone for c in demo_hall.citizens()]
    cases = _demo_cases()
    views = [hall.applications.list_mine(user_id, 1, 100) for user_id in {c.user_id for c in cases}]
    for case in cases:
        staff = Actor(username="window", role="window_staff", org=case.org, region=case.region_code)
        views += [hall.applications.progress_for_owner(case.user_id, case.case_no),
                  hall.casework.get(staff, case.case_no)]
    text = json.dumps(views, ensure_ascii=False, default=str)
    assert "***" in text
    assert [s for s in secrets if s in text] == []


def test_case_figures_report_finished_cases_and_satisfaction(loaded):
    figures = loaded.ctx.stats.cases(REFORM_OFFICE, "410000")["figures"]
    hall = loaded.first["hall"]
    assert figures["finished"] == hall["by_state"]["finished"] + hall["by_state"]["delivered"] >= 100
    assert 0.8 <= figures["on_time_ratio"] < 1
    assert figures["ratings"] >= 0.7 * figures["finished"]
    assert 0.8 <= figures["satisfied_ratio"] < 1
    assert figures["bad"] == 4 and figures["bad_rectified"] == 2
    assert hall["rectifications"] == {"open": 2, "answered": 2}


def test_window_accounts_of_the_demo_have_running_cases_to_work_on(loaded):
    for user in ("window-410400-scjg", "window-410403-scjg", "window-410421-scjg", "window-410482-scjg"):
        staff = store.get_user(user)
        actor = Actor(username=user, role="window_staff", org=staff.org, region=staff.region, user_id=staff.id)
        assert loaded.ctx.hall.casework.list(actor)["total"] > 0, user
    running = sum(loaded.first["hall"]["by_state"].get(s, 0) for s in demo_plan.RUNNING | {"submitted"})
    assert running >= 15


def test_demo_citizens_have_valid_but_fictitious_identities():
    people = demo_hall.citizens()
    assert len(people) == len({p.id_number for p in people}) == len({p.openid for p in people}) == demo_hall.CITIZENS
    for person in people:
        assert codes.is_valid_id_number(person.id_number, today=dt.date(2010, 1, 1))
        assert person.id_number.startswith("4104") and person.id_number[14:16] == "00"
        assert person.phone.startswith("1380000") and len(person.phone) == 11
        assert person.openid.startswith("demo-openid-")


CALENDAR = WorkCalendar()


@given(start=st.dates(dt.date(2024, 1, 1), dt.date(2026, 12, 1)), seed=st.integers(0, 2**32),
       fate=st.sampled_from(("delivered", "corrected", "refused", "late")), value=st.integers(1, 10),
       steps=st.lists(st.sampled_from(("审查", "决定", "公示")), min_size=1, max_size=3))
def test_planned_cases_keep_time_in_order_and_finish_late_only_when_planned(start, seed, fate, value, steps):
    offer = demo_plan.Offer("x" * 31, "o" * 18, "410400", "scjg", {"value": value, "unit": "workday"}, float(value),
                            ("m2",), tuple(steps))
    assume(demo_plan.fits(fate, offer))
    moves = demo_plan.plan(fate, offer, CALENDAR.next_workday(start), CALENDAR, seed)
    times = [m.at for m in moves]
    assert times == sorted(times)
    accepted = progress.china_day(next(m.at for m in moves if m.action == "accept"))
    finished = progress.china_day(next(m.at for m in moves if m.action == "finish"))
    paused = [progress.china_day(m.at) for m in moves if m.action in ("request_correction", "resume")]
    due = CALENDAR.due_date(accepted, offer.limit, [tuple(paused)] if paused else ())
    assert (finished > due) is (fate == "late")
    assert all(CALENDAR.is_workday(progress.china_day(m.at)) for m in moves if m.kind in ("act", "answer"))
    assert [m.kind for m in moves].count("rate") <= 2


@pytest.mark.timeout(600)
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_demo_with_cases_loads_twice_on_postgresql(db_url, tmp_path):
    from server.app import Context
    ctx = Context(make_settings(db_url, upload_dir=str(tmp_path / "uploads")))
    try:
        first = demo.load(ctx)["hall"]
        after_first = _row_counts()
        second = demo.load(ctx)["hall"]
        assert _row_counts() == after_first
        assert (second["created"], second["moves"], second["by_state"]) == (0, 0, first["by_state"])
        assert {"submitted", "in_progress", "correction_requested", "suspended", "delivered"} <= set(first["by_state"])
        figures = ctx.stats.cases(REFORM_OFFICE, "410000")["figures"]
        assert figures["finished"] >= 100 and 0.8 <= figures["satisfied_ratio"] < 1
    finally:
        ctx.close()
