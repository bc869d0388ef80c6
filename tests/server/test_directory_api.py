"""The province directory over HTTP on SQLite and PostgreSQL: regions, departments, their rules, imports, access."""
from __future__ import annotations

import csv
import io
from urllib.parse import quote

import openpyxl
import pytest

from items import codes, store
from items.scope import Actor

PROVINCE, CITY, COUNTY, OTHER_COUNTY = "410000", "410400", "410402", "410403"
ORG = codes.make_credit_code("11410402MB0123456")
OTHER_ORG = codes.make_credit_code("11410402MB0123457")
SYSTEM = Actor(username="system", role="province_admin")
ADMIN_ONLY_WRITES = [
    ("POST", "/api/v1/directory/regions", {"code": "410404", "name": "石龙区"}),
    ("PATCH", f"/api/v1/directory/regions/{COUNTY}", {"name": "新华区"}),
    ("DELETE", f"/api/v1/directory/regions/{COUNTY}", None),
    ("POST", "/api/v1/directory/departments", {"credit_code": OTHER_ORG, "name": "x", "region_code": COUNTY}),
    ("PATCH", f"/api/v1/directory/departments/{ORG}", {"name": "y"}),
    ("DELETE", f"/api/v1/directory/departments/{ORG}", None),
    ("POST", "/api/v1/directory/imports?filename=d.csv", None),
]
STAFF_READS = ["/api/v1/directory/regions", f"/api/v1/directory/regions/{COUNTY}", "/api/v1/directory/departments",
               f"/api/v1/directory/departments/{ORG}"]


def seed(ctx) -> None:
    for code, name in ((PROVINCE, "河南省"), (CITY, "平顶山市"), (COUNTY, "新华区")):
        ctx.directory.save_region(None, {"code": code, "name": name}, SYSTEM)
    ctx.directory.save_department(None, {"credit_code": ORG, "name": "新华区住房和城乡建设局", "region_code": COUNTY},
                                  SYSTEM)


@pytest.fixture
def admin(running_app):
    running_app.ctx.accounts.create_user("admin", "admin-password", "province_admin")
    seed(running_app.ctx)
    api = running_app.api()
    api.login("admin", "admin-password")
    return api


def rule_of(resp) -> list[tuple[str, str]]:
    assert resp.status == 422, resp.body
    resp.error_code()
    return [(e["path"], e["rule"]) for e in resp.json["error"]["details"]["errors"]]


def test_registered_regions_derive_level_and_parent_and_list_with_filters(admin):
    resp = admin.post("/api/v1/directory/regions", {"code": OTHER_COUNTY, "name": "卫东区"})
    assert resp.status == 201
    assert resp.json == {"code": OTHER_COUNTY, "name": "卫东区", "parent": CITY, "level": "4", "kind": "county"}
    township = admin.post("/api/v1/directory/regions", {"code": "410402001000", "name": "光明路街道", "level": "5"})
    assert township.status == 201 and township.json["parent"] == COUNTY
    counties = admin.get(f"/api/v1/directory/regions?parent={CITY}").json
    assert [r["code"] for r in counties["regions"]] == [COUNTY, OTHER_COUNTY] and counties["total"] == 2
    within = admin.get(f"/api/v1/directory/regions?within={COUNTY}").json
    assert [r["code"] for r in within["regions"]] == [COUNTY, "410402001000"]
    paged = admin.get("/api/v1/directory/regions?size=2&page=2").json
    assert paged["total"] == 5 and [r["code"] for r in paged["regions"]] == [COUNTY, "410402001000"]
    assert admin.get("/api/v1/directory/regions?q=" + quote("卫东")).json["regions"][0]["code"] == OTHER_COUNTY
    assert admin.get("/api/v1/directory/regions/999999").error_code() == "region_not_found"


def test_each_region_rule_is_422_naming_field_and_rule(admin):
    cases = [
        ({"code": "41040", "name": "x"}, ("/code", "region_code")),
        ({"code": "410402001001", "name": "村"}, ("/code", "region_level")),
        ({"code": "410404", "name": "石龙区", "level": "3"}, ("/level", "level_matches_code")),
        ({"code": "410404"}, ("/name", "required")),
        ({"code": "410404", "name": "x" * 101}, ("/name", "name_length")),
        ({"code": "410501", "name": "安阳某区"}, ("/parent", "parent_exists")),
        ({"code": "410404", "name": "石龙区", "parent": "410000000000x"}, ("/parent", "region_code")),
        ({"code": "410404", "name": "石龙区", "parent": COUNTY}, ("/parent", "parent_contains")),
        ({"code": "420000", "name": "湖北省", "parent": PROVINCE}, ("/parent", "province_has_no_parent")),
        ({"code": 410404, "name": "石龙区"}, ("/code", "type")),
        ({"code": "410404", "name": "石龙区", "population": 1}, ("/population", "unknown_field")),
    ]
    for body, expected in cases:
        assert expected in rule_of(admin.post("/api/v1/directory/regions", body)), body
    assert admin.post("/api/v1/directory/regions", {"code": COUNTY, "name": "新华区"}).error_code() == "region_exists"
    assert admin.get("/api/v1/directory/regions").json["total"] == 3
    # a county directly under its province (省直辖县级行政单位) names the province as its parent
    direct = admin.post("/api/v1/directory/regions", {"code": "419001", "name": "济源市", "parent": PROVINCE})
    assert direct.status == 201 and direct.json["parent"] == PROVINCE


def test_each_department_rule_is_422_naming_field_and_rule(admin):
    cases = [
        ({"credit_code": "11410402MB012345", "name": "x", "region_code": COUNTY}, ("/credit_code", "credit_code_format")),
        ({"credit_code": ORG[:17] + ("0" if ORG[17] != "0" else "1"), "name": "x", "region_code": COUNTY},
         ("/credit_code", "credit_code_check_char")),
        ({"credit_code": OTHER_ORG, "region_code": COUNTY}, ("/name", "required")),
        ({"credit_code": OTHER_ORG, "name": "x", "region_code": OTHER_COUNTY}, ("/region_code", "region_exists")),
        ({"credit_code": OTHER_ORG, "name": "x", "region_code": "4104"}, ("/region_code", "region_code")),
        ({"credit_code": OTHER_ORG, "name": "x", "region_code": COUNTY, "level": "3"},
         ("/level", "level_matches_region")),
        ({"credit_code": OTHER_ORG, "name": "x", "region_code": COUNTY, "level": "9"}, ("/level", "enum")),
        ({"credit_code": OTHER_ORG, "name": "新华区住房和城乡建设局", "region_code": COUNTY},
         ("/name", "name_unique_in_region")),
    ]
    for body, expected in cases:
        assert expected in rule_of(admin.post("/api/v1/directory/departments", body)), body
    created = admin.post("/api/v1/directory/departments",
                         {"credit_code": OTHER_ORG.lower(), "name": "新华区行政审批服务局", "region_code": COUNTY})
    assert created.status == 201 and created.json == {"credit_code": OTHER_ORG, "name": "新华区行政审批服务局",
                                                      "region_code": COUNTY, "level": "4"}
    listed = admin.get(f"/api/v1/directory/departments?within={CITY}&q=" + quote("审批")).json
    assert [d["credit_code"] for d in listed["departments"]] == [OTHER_ORG]


def test_updates_keep_rules_and_deleting_something_in_use_is_409(admin, running_app):
    renamed = admin.patch(f"/api/v1/directory/departments/{ORG}", {"name": "新华区住建局"})
    assert renamed.status == 200 and renamed.json["name"] == "新华区住建局"
    assert ("/credit_code", "immutable") in rule_of(
        admin.patch(f"/api/v1/directory/departments/{ORG}", {"credit_code": OTHER_ORG}))
    assert ("/parent", "parent_contains") in rule_of(
        admin.patch(f"/api/v1/directory/regions/{COUNTY}", {"parent": COUNTY}))
    running_app.ctx.accounts.create_user("ed", "editor-password", "editor", org=ORG)
    moved = admin.post("/api/v1/directory/regions", {"code": OTHER_COUNTY, "name": "卫东区"})
    assert moved.status == 201
    resp = admin.patch(f"/api/v1/directory/departments/{ORG}", {"region_code": OTHER_COUNTY})
    assert resp.status == 409 and resp.error_code() == "department_in_use"
    resp = admin.request("DELETE", f"/api/v1/directory/departments/{ORG}")
    assert resp.status == 409 and resp.json["error"]["details"]["references"] == {"users": 1}
    resp = admin.request("DELETE", f"/api/v1/directory/regions/{CITY}")
    assert resp.status == 409 and resp.json["error"]["details"]["references"] == {"regions": 2}
    assert admin.request("DELETE", f"/api/v1/directory/regions/{OTHER_COUNTY}").status == 200
    assert admin.get(f"/api/v1/directory/regions/{OTHER_COUNTY}").status == 404
    entries = store_audit(running_app)
    assert {"department.update", "region.create", "region.delete"} <= {e["action"] for e in entries}
    update = next(e for e in entries if e["action"] == "department.update")
    assert update["actor"] == "admin" and update["details"]["changed"] == {"name": ["新华区住房和城乡建设局", "新华区住建局"]}


def store_audit(running_app) -> list[dict]:
    running_app.ctx.db.connect(reuse_if_open=True)
    return store.audit_entries(limit=100)[0]


# --- imports ------------------------------------------------------------------------------------------

def csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    return out.getvalue().encode("utf-8")


def post_file(api, data: bytes, name: str, dry_run: bool = False):
    return api.request("POST", f"/api/v1/directory/imports?filename={name}{'&dry_run=1' if dry_run else ''}",
                       raw=data, content_type="application/octet-stream")


def test_xlsx_template_with_both_sheets_imports_and_a_second_run_changes_nothing(admin):
    template = admin.get("/api/v1/directory/template.xlsx", token=None)
    assert template.status == 200
    book = openpyxl.load_workbook(io.BytesIO(template.body))
    assert book.sheetnames == ["行政区划", "部门", "说明"]
    book["部门"].append([OTHER_ORG, "新华区行政审批服务局", COUNTY, ""])
    book["行政区划"].append([OTHER_COUNTY, "卫东区", "", ""])
    out = io.BytesIO()
    book.save(out)
    first = post_file(admin, out.getvalue(), "directory.xlsx")
    assert first.status == 201, first.body
    assert first.json["regions"] == {"rows": 4, "created": 1, "updated": 0, "unchanged": 3}
    assert first.json["departments"]["created"] == 1 and first.json["ignored_sheets"] == ["说明"]
    again = post_file(admin, out.getvalue(), "directory.xlsx")
    assert again.json["regions"]["unchanged"] == 4 and again.json["departments"] == {"rows": 2, "created": 0, "updated": 0, "unchanged": 2}
    assert admin.get(f"/api/v1/directory/departments/{OTHER_ORG}").json["level"] == "4"


def test_one_bad_row_writes_nothing_and_names_row_field_and_rule(admin):
    regions = csv_bytes([["区划代码", "区划名称", "上级区划代码", "层级"],
                         ["410500", "安阳市", "", ""], ["410502", "文峰区", "", ""], ["410503", "", "", ""],
                         ["410502", "文峰区", "", ""]])
    resp = post_file(admin, regions, "regions.csv")
    assert resp.status == 422 and resp.error_code() == "import_rows_invalid"
    errors = [(e["row"], e["kind"], e["field"], e["rule"]) for e in resp.json["error"]["details"]["errors"]]
    assert errors == [(4, "region", "name", "required"), (5, "region", "code", "unique_in_file")]
    assert admin.get("/api/v1/directory/regions/410500").status == 404
    departments = csv_bytes([["统一社会信用代码", "部门名称", "所在区划代码"],
                             [OTHER_ORG, "文峰区市场监督管理局", "410502"]])
    resp = post_file(admin, departments, "departments.csv")
    assert [(e["row"], e["field"], e["rule"]) for e in resp.json["error"]["details"]["errors"]] == [
        (2, "region_code", "region_exists")]


def test_dry_run_reports_counts_and_writes_nothing(admin):
    regions = csv_bytes([["code", "name"], ["410500", "安阳市"], ["410502", "文峰区"]])
    resp = post_file(admin, regions, "regions.csv", dry_run=True)
    assert resp.status == 200 and resp.json["regions"]["created"] == 2 and resp.json["written"] is False
    assert admin.get("/api/v1/directory/regions/410500").status == 404
    assert post_file(admin, regions, "regions.csv").status == 201
    assert admin.get("/api/v1/directory/regions/410502").json["parent"] == "410500"


def test_unreadable_and_unknown_files_are_4xx(admin):
    assert post_file(admin, b"a,b\n1,2\n", "x.csv").error_code() == "unreadable_file"
    assert post_file(admin, b"{}", "x.json").status == 415
    assert admin.get("/api/v1/directory/template.csv", token=None).error_code() == "bad_parameter"
    csv_template = admin.get("/api/v1/directory/template.csv?kind=departments", token=None)
    assert csv_template.body.decode("utf-8-sig").startswith("统一社会信用代码,部门名称")


# --- access -----------------------------------------------------------------------------------------

def test_staff_read_the_directory_and_only_province_admins_write_it(admin, running_app):
    running_app.ctx.accounts.create_user("rev", "reviewer-pass", "reviewer", region=CITY)
    reviewer = running_app.api()
    reviewer.login("rev", "reviewer-pass")
    for path in STAFF_READS:
        assert reviewer.get(path).status == 200, path
        resp = reviewer.get(path, token=None)
        assert resp.status == 401 and resp.error_code() == "not_signed_in", path
    for method, path, body in ADMIN_ONLY_WRITES:
        resp = reviewer.request(method, path, body)
        assert resp.status == 403 and resp.error_code() == "role_required", (method, path)
        resp = reviewer.request(method, path, body, token=None)
        assert resp.status == 401, (method, path)
