"""Requests generated from /api/v1/openapi.json for every operation, signed in as each role: no 5xx, and every
response matches the schema its operation declares (bounded: a few examples per operation and role)."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from harness import RunningApp, make_settings
from server.config import Secret
from items import store
from items.codes import make_credit_code

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))
from fake_wechat import FakeWeChat  # noqa: E402 - WeChat's API on 127.0.0.1: nothing leaves the machine
from hall_world import ITEM  # noqa: E402
from scripts.load.run_load import seed_world  # noqa: E402

ORG = make_credit_code("11511602MB0000011")
REGION = "511602"
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
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def seed_tokens(ctx) -> dict[str, str | None]:
    """A small province (regions, one department, one published item) and a bearer token per role."""
    with ctx.db.connection_context():
        for code, name, parent, level in (("510000", "四川省", None, "2"), ("511600", "广安市", "510000", "3"),
                                          (REGION, "广安区", "511600", "4")):
            store.ensure_region(code, name, parent, level)
        store.ensure_org(ORG, "广安区公安分局", REGION, "4")
        tokens: dict[str, str | None] = {"anonymous": None}
        for role, org, region in (("province_admin", None, None), ("editor", ORG, None), ("reviewer", None, REGION),
                                  ("reform_office", None, REGION), ("window_staff", ORG, None)):
            actor = ctx.accounts.create_user(f"fuzz-{role}", "fuzz-password-0123", role, org, region)
            tokens[role] = ctx.accounts.issue_token(actor)
        tokens["citizen"] = ctx.hall.issue_citizen_token(ctx.hall.ensure_hall_user("fuzz-openid"))
    return tokens


@pytest.fixture
def fuzz_app(tmp_path_factory):
    """The app with a small seeded province, one per role's run: a few seconds to build, so the roles'
    runs may go to different workers (a module-wide app would keep all seven on one)."""
    tmp = tmp_path_factory.mktemp("fuzz")
    wechat = FakeWeChat().start()
    app = RunningApp(make_settings(f"sqlite:///{tmp}/govhall.db", upload_dir=str(tmp / "uploads"),
                                   wechat_appid=wechat.appid, wechat_secret=Secret(wechat.secret),
                                   wechat_api_base=wechat.base_url,
                                   # the callback configured, so it checks signatures instead of answering 503
                                   wechat_token=Secret("fuzz-callback-token"),
                                   wechat_aes_key=Secret("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"))).start()
    app.tokens = seed_tokens(app.ctx)
    world = seed_world(app.ctx, citizens=1)  # a catalogue item, a published local item and a draft
    # Path parameters naming things that exist: the explicit phase then reaches real answers (and checks
    # their success schemas) on operations whose random paths would only ever find 404.
    app.examples = {"impl_code": world["published"], "basic_code": ITEM["basic_code"], "code": REGION,
                    "credit_code": ORG, "username": "fuzz-editor", "version": "1"}
    yield app
    app.stop()
    wechat.stop()


@pytest.fixture
def schema(fuzz_app):
    document = fuzz_app.api().get("/api/v1/openapi.json", token=None).json
    for entry in document["paths"].values():
        for op in entry.values():
            for parameter in op.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in fuzz_app.examples:
                    parameter["example"] = fuzz_app.examples[parameter["name"]]
    return schemathesis.openapi.from_dict(document)


def operations(schema) -> list:
    """Every operation; signing out last, since it ends the session the role's other requests use."""
    return sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.path == "/api/v1/auth/logout")


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

        try:
            exercise()
        except Exception as exc:  # noqa: BLE001 - collected so one run names every failing operation
            failures.append(f"{op.method.upper()} {op.path}: {str(exc)[:1500]}")
    assert not failures, "\n\n".join(failures)
    if role == "province_admin":  # the success schemas were really exercised, not only the error envelope
        assert REACHED_AS_ADMIN <= succeeded, REACHED_AS_ADMIN - succeeded
