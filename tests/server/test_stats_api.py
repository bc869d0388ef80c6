"""Statistics over HTTP on SQLite and PostgreSQL: figures, exports, drill-down, dates, scope."""
from __future__ import annotations

import csv
import datetime as dt
import io
from fractions import Fraction

import pytest
from openpyxl import load_workbook

from items import codes, stats, stats_export, store
from items.scope import Actor
from schema_check import assert_matches

ADMIN = Actor(username="admin", role="province_admin")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ORGS = {"wd": ("11410402MB0000001", "卫东区住房和城乡建设局", "410402", "4"),
        "zh": ("11410411MB0000003", "湛河区住房和城乡建设局", "410411", "4"),
        "city": ("11410400MB0000004", "平顶山市住房和城乡建设局", "410400", "3")}
CREDIT = {k: codes.make_credit_code(v[0]) for k, v in ORGS.items()}


def catalogue_item(basic_code, legal, levels):
    return {"basic_code": basic_code, "name": f"事项{basic_code[-6:-3]}", "item_type": basic_code[2:4],
            "basis": [{"id": "b1", "kind": "法律", "title": "某法", "article": "第一条", "text": "……"}],
            "levels": levels, "state": "in_use", "legal_limit": legal, "service_objects": ["enterprise"],
            "conditions": [], "materials": [], "process": [], "fees": [], "faq": []}


def limit(value, unit="workday"):
    return {"value": value, "unit": unit, "note": ""}


@pytest.fixture
def world(running_app):
    """Three published items: 卫东区 20→5 wd and 20→0 (instant), the city 60→30 wd; 湛河区 a draft."""
    ctx = running_app.ctx
    with ctx.db.connection_context():
        for region in [("410000", "河南省", None, "2"), ("410400", "平顶山市", "410000", "3"),
                       ("410402", "卫东区", "410400", "4"), ("410411", "湛河区", "410400", "4")]:
            store.ensure_region(*region)
        for key, (_p, name, region, level) in ORGS.items():
            store.ensure_org(CREDIT[key], name, region, level)
    for doc in (catalogue_item("000104001000", limit(20), ["3", "4"]),
                catalogue_item("000104002000", limit(20), ["4"]),
                catalogue_item("000104005000", limit(60), ["3"])):
        ctx.catalogue.put(doc["basic_code"], doc, ADMIN)
    impl = {}
    for key, org, basic, changes in (
            ("a", "wd", "000104001000", {"promised_limit": limit(5)}),
            ("b", "wd", "000104002000", {"promised_limit": limit(0), "handling_type": "instant"}),
            ("c", "city", "000104005000", {"promised_limit": limit(30)}),
            ("d", "zh", "000104001000", {"promised_limit": limit(1)})):
        _p, _n, region, level = ORGS[org]
        code = impl[key] = ctx.items.claim(basic, CREDIT[org], level, region, ADMIN)["impl_code"]
        ctx.items.write_version(code, dict(ctx.items.get(code)["document"], **changes), ADMIN, "local",
                                expected_version=1)
        if key != "d":
            for action in ("submit", "approve", "publish"):
                getattr(ctx.workflow, action)(code, ADMIN)
    return impl


def login(running_app, name, role, region=None, org=None):
    running_app.ctx.accounts.create_user(name, "password-123", role, org=org, region=region)
    api = running_app.api()
    api.login(name, "password-123")
    return api


def test_city_office_gets_its_counties_and_own_departments(running_app, world):
    api = login(running_app, "pds", "reform_office", region="410400")
    resp = api.get("/api/v1/stats/items?group_by=region")
    assert resp.status == 200, resp.body
    body = resp.json
    assert body["group_by"] == "region" and body["current"] is True
    assert [(r["key"], r["label"], r["items"]) for r in body["rows"]] == [
        ("410400", "平顶山市本级", 1), ("410402", "卫东区", 2)]
    total = body["total"]
    # legal 20+20+60 = 100, promised 5+0+30 = 35 working days; per item 3/4, 1, 1/2
    assert (total["items"], total["instant"], total["legal_days"], total["promised_days"]) == (3, 1, 100.0, 35.0)
    assert total["compression_ratio"] == float(Fraction(65, 100))
    assert total["compression_mean"] == float(Fraction(9, 4) / 3)
    assert total["instant_ratio"] == float(Fraction(1, 3))


def test_csv_export_has_bom_headers_and_totals(running_app, world):
    api = login(running_app, "admin", "province_admin")
    resp = api.get("/api/v1/stats/items?group_by=org&region=410400&format=csv")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert resp.headers["Content-Disposition"].startswith("attachment; filename=\"govhall-stats-org-")
    text = resp.body.decode("utf-8")
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text[1:])))
    assert lines[3] == ["筛选条件", "区划=410400"]
    assert lines[6] == [c.header for c in stats_export.STAT_COLUMNS]
    assert lines[-1][:3] == ["合计", "", "3"] and lines[-1][8] == "65.00%"


def test_xlsx_export_opens_with_percent_formats_and_totals(running_app, world):
    api = login(running_app, "pds", "reform_office", region="410400")
    resp = api.get("/api/v1/stats/items?format=xlsx&as_of=2099-12-31")
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="govhall-stats-region-2099-12-31.xlsx"'
    sheet = load_workbook(io.BytesIO(resp.body)).active
    assert (sheet["A2"].value, sheet["B2"].value) == ("统计日期", "2099-12-31")
    header = [c.value for c in sheet[8]]
    assert header[:3] == ["代码", "名称", "事项数"]
    assert [sheet.cell(n, 2).value for n in (9, 10)] == ["平顶山市本级", "卫东区"]
    total = sheet.cell(11, header.index("即办件占比") + 1)
    assert sheet["A11"].value == "合计" and total.value == float(Fraction(1, 3)) and total.number_format == "0.00%"


def test_scope_is_enforced_with_the_error_envelope(running_app, world):
    county = login(running_app, "wd", "reform_office", region="410402")
    resp = county.get("/api/v1/stats/items?region=410400")
    assert resp.status == 403 and resp.error_code() == "out_of_scope"
    for path in ("/api/v1/stats/items/drilldown?region=410411", "/api/v1/stats/claims?region=410400",
                 "/api/v1/stats/compare?from=2026-01-01&to=2026-02-01&region=410400",
                 "/api/v1/stats/rankings?region=410000", "/api/v1/stats/cases?region=410400"):
        resp = county.get(path)
        assert resp.status == 403 and resp.error_code() == "out_of_scope", path
    assert county.get("/api/v1/stats/items").json["total"]["items"] == 2
    editor = login(running_app, "ed", "editor", org=CREDIT["wd"])
    resp = editor.get("/api/v1/stats/items")
    assert resp.status == 403 and resp.error_code() == "role_required"
    resp = running_app.api().get("/api/v1/stats/items", token=None)
    assert resp.status == 401 and resp.error_code() == "not_signed_in"


def test_bad_parameters_are_refused(running_app, world):
    api = login(running_app, "admin", "province_admin")
    resp = api.get("/api/v1/stats/items?as_of=30-06-2026")
    assert resp.status == 400 and resp.error_code() == "bad_date"
    resp = api.get("/api/v1/stats/items?group_by=colour")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"
    assert resp.json["error"]["details"]["errors"] == [
        {"path": "group_by", "rule": "one_of", "message": "group_by must be one of region, org, item_type, level"}]
    resp = api.get("/api/v1/stats/items?format=pdf")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"
    resp = api.get("/api/v1/stats/compare?to=2026-01-01")
    assert resp.status == 400 and resp.error_code() == "missing_fields"
    assert [e["path"] for e in resp.json["error"]["details"]["errors"]] == ["from"]
    resp = api.get("/api/v1/stats/items/drilldown?metric=colour")
    assert resp.status == 400 and resp.error_code() == "unknown_metric"
    resp = api.get("/api/v1/stats/rankings?by=colour")
    assert resp.status == 400 and resp.error_code() == "unknown_metric"
    resp = api.get("/api/v1/stats/compare?from=2026-02-01&to=2026-01-01")
    assert resp.status == 422 and resp.error_code() == "dates_out_of_order"
    assert resp.json["error"]["details"]["errors"][0]["rule"] == "to_not_before_from"


def test_drilldown_rankings_claims_and_cases(running_app, world):
    api = login(running_app, "pds", "reform_office", region="410400")
    drill = api.get("/api/v1/stats/items/drilldown?metric=compression_ratio").json
    assert [(i["impl_code"], i["impact"]) for i in drill["items"]] == [
        (world["c"], float(Fraction(30, 100))), (world["a"], float(Fraction(5, 100)))]
    ranked = api.get("/api/v1/stats/rankings?group_by=org&by=compression_ratio&min_items=2").json
    assert [r["key"] for r in ranked["ranked"]] == [CREDIT["wd"]]
    assert [(r["key"], r["reason"]) for r in ranked["unranked"]] == [(CREDIT["city"], "too_few_items")]
    claims = api.get("/api/v1/stats/claims").json
    # level 3 applies to two catalogue items, level 4 to two; the draft in 湛河区 counts as claimed
    assert [(r["key"], r["claimed"], r["applicable"]) for r in claims["rows"]] == [
        ("410400", 1, 2), ("410402", 2, 2), ("410411", 1, 2)]
    cases = api.get("/api/v1/stats/cases").json
    assert set(cases["figures"]) >= {"on_time_ratio", "satisfied_ratio", "bad", "rectification_ratio"}


def test_as_of_and_compare_over_http(running_app, world):
    ctx = running_app.ctx
    code = world["d"]
    document = ctx.items.get(code)["document"]
    with ctx.db.connection_context(), store.transaction():
        stats.record_publish(code, 2, document, dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI))
        stats.record_withdraw(code, dt.datetime(2026, 4, 1, 0, tzinfo=SHANGHAI))
    api = login(running_app, "pds", "reform_office", region="410400")
    march = api.get("/api/v1/stats/items?as_of=2026-03-31&region=410411").json
    assert march["as_of"] == "2026-03-31" and march["current"] is False
    assert march["total"]["items"] == 1 and march["total"]["compression_ratio"] == float(Fraction(19, 20))
    assert api.get("/api/v1/stats/items?as_of=2026-04-01&region=410411").json["total"]["items"] == 0
    compare = api.get("/api/v1/stats/compare?from=2026-02-28&to=2026-03-31&group_by=region").json
    assert [(c["impl_code"], c["change"]) for c in compare["changed_items"]] == [(code, "published")]
    row = next(r for r in compare["rows"] if r["key"] == "410411")
    assert row["items"] == {"before": None, "after": 1, "delta": None}
    assert compare["total"]["items"] == {"before": 0, "after": 1, "delta": 1}


def test_every_statistics_answer_matches_the_schema_the_description_declares(running_app, world):
    """Each statistics operation, with its main parameters, answers what /api/v1/openapi.json says: the fields
    clients rely on, ratios null on 0/0, rows and changed items with their own schemas."""
    ctx = running_app.ctx
    code = world["d"]
    document = ctx.items.get(code)["document"]
    with ctx.db.connection_context(), store.transaction():   # 湛河区's item: published, revised, withdrawn
        stats.record_publish(code, 2, document, dt.datetime(2026, 3, 1, 9, tzinfo=SHANGHAI))
        stats.record_publish(code, 3, dict(document, promised_limit=limit(10), handling_type="instant"),
                             dt.datetime(2026, 3, 10, 9, tzinfo=SHANGHAI))
        stats.record_withdraw(code, dt.datetime(2026, 4, 1, 0, tzinfo=SHANGHAI))
    admin, county = login(running_app, "admin", "province_admin"), login(running_app, "wd", "reform_office",
                                                                          region="410402")
    spec = admin.get("/api/v1/openapi.json").json
    assert set(spec["paths"]["/api/v1/stats/items"]["get"]["responses"]["200"]["content"]) == {
        "application/json", "text/csv", stats_export.XLSX_CONTENT_TYPE}
    queries = {
        "/api/v1/stats/items": ["", "?group_by=org", "?group_by=item_type&format=json", "?group_by=level",
                                "?as_of=2026-03-31&region=410411", "?region=410400&group_by=region",
                                "?as_of=2020-01-01", "?service_object=enterprise&level=4"],
        "/api/v1/stats/items/drilldown": ["", "?metric=compression_mean&region=410400",
                                          "?metric=excluded_no_legal_limit",
                                          "?metric=zero_visit_ratio&as_of=2026-03-31",
                                          "?metric=instant_ratio&region=410411&as_of=2020-01-01"],
        "/api/v1/stats/compare": ["?from=2026-02-28&to=2026-03-31", "?from=2026-03-05&to=2026-03-20&group_by=org",
                                  "?from=2026-03-15&to=2026-04-02&region=410411", "?from=2020-01-01&to=2099-12-31"],
        "/api/v1/stats/claims": ["", "?level=4", "?region=410400", "?level=7"],
        "/api/v1/stats/cases": ["", "?region=410402&from=2026-01-01&to=2026-12-31"],
        "/api/v1/stats/rankings": ["", "?group_by=org&by=compression_ratio&min_items=2",
                                   "?by=compression_mean&descending=false&min_items=0", "?as_of=2020-01-01"],
        "/api/v1/stats/summary": ["", "?region=410400&as_of=2026-03-31", "?format=json&as_of=2020-01-01"],
        "/api/v1/stats/summary/compare": ["?from=2026-02-28&to=2026-03-31", "?from=2020-01-01&to=2099-12-31"],
    }
    for path, variants in queries.items():
        for api in (admin, county):
            for variant in variants:
                if api is county and "region=" in variant and "410402" not in variant:
                    continue   # outside the county's scope: 403, checked elsewhere
                assert_matches(spec, path, api.get(path + variant))
    # the world really holds what the schemas describe: a null ratio on 0/0 and every kind of change
    assert admin.get("/api/v1/stats/items?as_of=2020-01-01").json["total"]["instant_ratio"] is None
    changes = {c["change"] for v in queries["/api/v1/stats/compare"][:3]
               for c in admin.get("/api/v1/stats/compare" + v).json["changed_items"]}
    assert changes == {"published", "revised", "withdrawn"}
