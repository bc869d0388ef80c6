"""Requests generated from /api/v1/openapi.json for every operation, signed in as each role: no 5xx, and every
response matches the schema its operation declares (bounded: a few examples per operation and role)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, example, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.examples import generate_one
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from harness import RunningApp, make_settings
from worlds import upload_dir
from server import examples
from server.config import Secret
from items import store
from items.scope import Actor

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))
from fake_wechat import FakeWeChat  # noqa: E402 - WeChat's API on 127.0.0.1: nothing leaves the machine
from hall_world import ID_NUMBER, ITEM, PDF, PHONE  # noqa: E402
from scripts.load.run_load import seed_world  # noqa: E402

# The places the request-body examples name (server/examples.py), so that their writes succeed.
ORG, REGION = examples.DEPARTMENT, examples.REGION
ROLES = ("anonymous", "citizen", "province_admin", "editor", "reviewer", "reform_office", "window_staff")
# Examples per operation and role; GOVHALL_FUZZ_EXAMPLES raises it for a longer run on demand.
EXAMPLES = int(os.environ.get("GOVHALL_FUZZ_EXAMPLES", "2"))
# Every answer: no 5xx, a documented status, a documented content type, and a body matching the schema its
# operation declares for that status (server/responses.py describes every operation's success answers).
# Operations the admin's requests must reach with a success answer (no parameter, or optional typed ones), so
# their success schemas are checked against real answers. (Path parameters get existing examples too, but
# other generated requests may change or delete what they name first, so those are not required here.)
REACHED_AS_ADMIN = {"GET /api/v1/", "GET /api/v1/auth/me", "GET /api/v1/users", "GET /api/v1/audit",
                    "GET /api/v1/directory/regions", "GET /api/v1/directory/departments", "GET /api/v1/health/ready",
                    "GET /api/v1/admin/holidays"}
# Writes each role's explicit examples (server/examples.py) must bring to a success answer, so write success
# schemas are checked against real answers too. Each role runs on its own app and its own copy of the seeded
# world, in path order (signing out last):
# - editor: claims 建设工程消防验收, then adds a phone to the department's published item (a draft on top, with
#   the item's ETag as If-Match) and submits that draft: PATCH comes before /submit in path order.
# - province_admin: a county, a department, an account, the 2026 calendar and a synonym, and idempotent edits of
#   the seeded region, department and user. Not required: its claim, edits of the item and transitions (some
#   run in an order that makes them conflict), and the deletes (the region and department are in use: 409).
# - reviewer: withdraws the published item (approve, publish and reject come first and find nothing to do).
# - citizen: files an application (its example names an upload the seeded world made for it), records a
#   subscribe-message consent and rates the finished case seeded for it.
# - window_staff: accepts an application waiting at the window (its own run names that case, not the finished
#   one), and reveals the full ID number of its applicant.
REACHED_WRITES = {
    "editor": {"POST /api/v1/items", "PATCH /api/v1/items/{impl_code}", "POST /api/v1/items/{impl_code}/submit"},
    "province_admin": {"POST /api/v1/directory/regions", "POST /api/v1/directory/departments", "POST /api/v1/users",
                       "PATCH /api/v1/directory/regions/{code}", "PATCH /api/v1/directory/departments/{credit_code}",
                       "PATCH /api/v1/users/{username}", "PUT /api/v1/admin/holidays/{year}",
                       "PUT /api/v1/admin/synonyms/{term}"},
    "reviewer": {"POST /api/v1/items/{impl_code}/withdraw"},
    "citizen": {"POST /api/v1/hall/applications", "POST /api/v1/hall/subscriptions",
                "POST /api/v1/hall/applications/{case_no}/rating"},
    "window_staff": {"POST /api/v1/cases/{case_no}/actions", "POST /api/v1/cases/{case_no}/applicant/reveal"},
}
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


# The staff accounts, one per staff role: (role, department, region).
STAFF = (("province_admin", None, None), ("editor", ORG, None), ("reviewer", None, REGION),
         ("reform_office", None, REGION), ("window_staff", ORG, None))
PASSWORD = "fuzz-password-0123"
CITIZEN = "fuzz-openid"


def seed_people(ctx) -> dict[str, Actor]:
    """A small province (regions, one department), an account per staff role and the fuzz citizen; returns
    the staff actors by role."""
    with ctx.db.connection_context():
        for code, name, parent, level in (("510000", "四川省", None, "2"), ("511600", "广安市", "510000", "3"),
                                          (REGION, "广安区", "511600", "4")):
            store.ensure_region(code, name, parent, level)
        store.ensure_org(ORG, "广安区住房和城乡建设局", REGION, "4")
        staff = {role: ctx.accounts.create_user(f"fuzz-{role}", PASSWORD, role, org, region)
                 for role, org, region in STAFF}
        ctx.hall.ensure_hall_user(CITIZEN)
    return staff


def seed_department_item(ctx) -> str:
    """The fuzz department's published 建筑工程施工许可证核发, and the catalogue item the claim example names;
    returns the published item's code."""
    admin = Actor("fuzz-seed", "province_admin")
    with ctx.db.connection_context():
        claimable = dict(ITEM, basic_code=examples.CATALOGUE_ITEM, name="建设工程消防验收")
        ctx.catalogue.put(examples.CATALOGUE_ITEM, claimable, admin)
        impl_code = ctx.items.claim(ITEM["basic_code"], ORG, "4", REGION, admin)["impl_code"]
        doc = dict(ctx.items.get(impl_code)["document"], promised_limit={"value": 5, "unit": "workday", "note": ""},
                   phone="0826-2338000", complaint_phone="0826-12345", location="广安区政务服务中心",
                   hours="工作日 9:00-17:00")
        ctx.items.write_version(impl_code, doc, admin, expected_version=1)
        for action in ("submit", "approve", "publish"):
            getattr(ctx.workflow, action)(impl_code, admin)
    return impl_code


def seed_case(ctx, impl_code: str, key: str) -> str:
    """The fuzz citizen's application for the item with an uploaded PDF, filed through the service the hall's
    handler calls (`key`: its idempotency key); returns its case number."""
    with ctx.db.connection_context():
        citizen = ctx.hall.ensure_hall_user(CITIZEN)
        file_id = ctx.hall.uploads.save(citizen.id, PDF, "application/pdf")["file_id"]
        filed, created = ctx.hall.applications.submit(citizen.id, key, {
            "impl_code": impl_code, "applicant": {"name": "李晓梅", "id_number": ID_NUMBER, "phone": PHONE},
            "form": {"project": "广安区某安置房项目"}, "materials": [{"material_id": "m1", "file_id": file_id}]})
        assert created, filed
    return filed["case_no"]


def seed_finished_case(ctx, impl_code: str, staff: Actor) -> str:
    """A case accepted and finished by the department's window staff (`staff`) → its case number."""
    case_no = seed_case(ctx, impl_code, "fuzz-case-1")
    with ctx.db.connection_context():
        for action, result in (("accept", None), ("finish", "approved")):
            ctx.hall.casework.act(staff, case_no, action, result=result)
    return case_no


def seed_fuzz_world(ctx) -> dict:
    """The fuzz world, seeded once per session (tests/worlds.py): the small province, the load benchmark's
    world (a catalogue item, a published local item and a draft in 卫东区), the department's published item and
    the finished case and one waiting at the window; returns the item's code, the case numbers and the item's
    ETag."""
    staff = seed_people(ctx)
    seed_world(ctx, citizens=1)  # its tokens die with the seeding app: the tests sign in on their own
    impl_code = seed_department_item(ctx)
    case_no = seed_finished_case(ctx, impl_code, staff["window_staff"])
    waiting = seed_case(ctx, impl_code, "fuzz-case-waiting")
    with ctx.db.connection_context():
        etag = f'"{ctx.items.get(impl_code)["version"]}"'  # the If-Match of the example edit
        # an upload of the citizen that no application uses yet: the example filing names it
        spare = ctx.hall.uploads.save(ctx.hall.ensure_hall_user(CITIZEN).id, PDF, "application/pdf")["file_id"]
    return {"impl_code": impl_code, "case_no": case_no, "waiting_case_no": waiting, "etag": etag, "file_id": spare}


def sign_in(ctx) -> dict[str, str | None]:
    """A bearer token per role. Tokens live in the app's key-value store, which a seeded world does not
    carry, so each test's app issues its own."""
    tokens: dict[str, str | None] = {"anonymous": None}
    with ctx.db.connection_context():
        for role, _org, _region in STAFF:
            tokens[role] = ctx.accounts.login(f"fuzz-{role}", PASSWORD)["token"]
        tokens["citizen"] = ctx.hall.issue_citizen_token(ctx.hall.ensure_hall_user(CITIZEN))
    return tokens


@pytest.fixture
def fuzz_app(seeded_worlds, tmp_path, request):
    """The app on this test's own copy of the fuzz world (seeded once per session), with its own fake WeChat:
    one per role's run, so one role's writes never meet another's and the runs may go to different workers."""
    url, world, after = seeded_worlds.database("sqlite", seed_fuzz_world, tmp_path)
    wechat = FakeWeChat().start()
    app = RunningApp(make_settings(url, upload_dir=upload_dir(tmp_path),
                                   wechat_appid=wechat.appid, wechat_secret=Secret(wechat.secret),
                                   wechat_api_base=wechat.base_url,
                                   # the callback configured, so it checks signatures instead of answering 503
                                   wechat_token=Secret("fuzz-callback-token"),
                                   wechat_aes_key=Secret("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"))).start()
    app.tokens = sign_in(app.ctx)
    # Path parameters naming things that exist: the explicit phase then reaches real answers (and checks
    # their success schemas) on operations whose random paths would only ever find 404. The item is the
    # fuzz department's, so its editor, reviewer and window staff may reach it as well as the admin.
    app.examples = {"impl_code": world["impl_code"], "basic_code": ITEM["basic_code"], "code": REGION,
                    "credit_code": ORG, "username": "fuzz-editor", "version": "1", "year": "2026", "term": "办执照",
                    # the window's run acts on the waiting case; the citizen's rates the finished one
                    "case_no": world["waiting_case_no" if request.node.callspec.params["role"] == "window_staff"
                                     else "case_no"]}
    app.etag = world["etag"]
    app.filing = {"impl_code": world["impl_code"],
                  "applicant": {"name": "李晓梅", "id_number": ID_NUMBER, "phone": PHONE},
                  "form": {"project": "广安区某安置房项目"},
                  "materials": [{"material_id": "m1", "file_id": world["file_id"]}]}
    yield app
    app.stop()
    wechat.stop()
    after()


@pytest.fixture
def schema(fuzz_app):
    document = fuzz_app.api().get("/api/v1/openapi.json", token=None).json
    for entry in document["paths"].values():
        for op in entry.values():
            for parameter in op.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in fuzz_app.examples:
                    parameter["example"] = fuzz_app.examples[parameter["name"]]
    # the example edit names the item's current version; only there, so no other write moves it first
    for parameter in document["paths"]["/api/v1/items/{impl_code}"]["patch"]["parameters"]:
        if parameter["name"] == "If-Match":
            parameter["example"] = fuzz_app.etag
    # a filing names an upload of this world, which no static example can know
    filing = document["paths"]["/api/v1/hall/applications"]["post"]
    for media in filing["requestBody"]["content"].values():
        media["example"] = fuzz_app.filing
    for parameter in filing.get("parameters", []):
        if parameter["name"] == "Idempotency-Key":
            parameter["example"] = "fuzz-filing-2"
    return schemathesis.openapi.from_dict(document)


def operations(schema) -> list:
    """Every operation; signing out last, since it ends the session the role's other requests use."""
    return sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.path == "/api/v1/auth/logout")


def explicit_cases(op) -> list:
    """One case per combination of the operation's documented examples (none when it documents none)."""
    return [generate_one(strategy) for strategy in op.get_strategies_from_examples()]


@pytest.mark.parametrize("role", ROLES)
def test_generated_requests_as_each_role_get_no_5xx_and_match_their_schemas(fuzz_app, schema, role):
    token = fuzz_app.tokens[role]
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    failures, succeeded = [], set()
    for op in operations(schema):
        @settings(max_examples=EXAMPLES, database=None, phases=[Phase.explicit, Phase.generate], deadline=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def exercise(case):
            response = case.call_and_validate(base_url=fuzz_app.base, headers=dict(headers), checks=CHECKS,
                                              timeout=30)
            if response.status_code < 300:
                succeeded.add(f"{op.method.upper()} {op.path}")

        # Hypothesis's explicit phase runs @example cases only: schemathesis builds those from the description's
        # examples (path parameters, the If-Match above, request bodies from server/examples.py), the rest drawn.
        for case in explicit_cases(op):
            exercise = example(case=case)(exercise)
        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - collected so one run names every failing operation
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    if role == "province_admin":  # the success schemas were really exercised, not only the error envelope
        assert REACHED_AS_ADMIN <= succeeded, REACHED_AS_ADMIN - succeeded
    missing = REACHED_WRITES.get(role, set()) - succeeded
    assert not missing, f"{role}: no success answer from {sorted(missing)}"
