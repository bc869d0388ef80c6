"""The demonstration province: loads twice without changes, every document valid, every type published."""
from __future__ import annotations

import types

import pytest
from harness import make_settings

from items import codes, model, records, rules, store
from items.errors import Unavailable
from items.scope import Actor
from scripts import demo

COUNTED = (records.RegionRecord, records.OrgRecord, records.UserRecord, records.CatalogueItemRecord,
           records.CatalogueVersionRecord, records.LocalItemRecord, records.LocalVersionRecord, records.AuditRecord)
MIN_PUBLISHED_PER_TYPE = 3


def _row_counts() -> dict[str, int]:
    return {m.__name__: m.select().count() for m in COUNTED}


@pytest.fixture(scope="module")
def loaded(tmp_path_factory):
    """One SQLite database with the demo loaded twice: (ctx, first summary, second summary, counts)."""
    from server.app import Context
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    ctx = Context(make_settings(f"sqlite:///{path}"))
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
