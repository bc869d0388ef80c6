"""The world the authorisation matrix (and the hostile-input tests) ask about: the roles, and one app per
database seeded with an item, a claimed item, cases, a rating and a rectification, whose codes fill the
`{name}` placeholders of the matrix's paths."""
from __future__ import annotations

import contextlib
import copy
import sys
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))  # the hall test world

from hall_world import ITEM, ORG_A, ORG_B, Hall  # noqa: E402
from harness import RunningApp, make_settings  # noqa: E402
from servers import create_database, drop_database  # noqa: E402

from items.codes import make_credit_code  # noqa: E402
from items.scope import Actor  # noqa: E402

WECHAT_TOKEN = "matrix-callback-token"
OWN_REGION, OTHER_REGION, SPARE_REGION = "410402", "410403", "410423"
SPARE_ORG = make_credit_code("11410423MB0000001")

# Every caller the matrix asks about; "own" is the department or region of the seeded item and cases.
ROLES: dict[str, Actor | str | None] = {
    "anonymous": None,
    "citizen": "citizen",              # owns the seeded cases
    "citizen_other": "citizen_other",  # another citizen
    "province_admin": Actor("m_admin", "province_admin"),
    "editor_own": Actor("m_editor_a", "editor", org=ORG_A, region=OWN_REGION),
    "editor_other": Actor("m_editor_b", "editor", org=ORG_B, region=OWN_REGION),
    "reviewer_own": Actor("m_reviewer", "reviewer", region=OWN_REGION),
    "reviewer_other": Actor("m_reviewer_z", "reviewer", region=OTHER_REGION),
    "reform_province": Actor("m_reform_p", "reform_office", region="410000"),
    "reform_city": Actor("m_reform_c", "reform_office", region="410400"),
    "reform_county": Actor("m_reform_k", "reform_office", region=OWN_REGION),
    "window_own": Actor("m_window_a", "window_staff", org=ORG_A, region=OWN_REGION),
    "window_other": Actor("m_window_b", "window_staff", org=ORG_B, region=OWN_REGION),
}
STAFF = [name for name, who in ROLES.items() if isinstance(who, Actor)]
CITIZENS = ["citizen", "citizen_other"]


# --- the seeded world ----------------------------------------------------------------------------

WORLD_VALUES = ("impl", "work", "basic", "version", "case", "finished", "rect", "term", "year", "asset", "region",
                "spare_region", "org", "spare_org", "user", "file", "job")


@dataclass
class World:
    app: RunningApp
    hall: Hall
    values: dict
    citizens: dict


def _seed(app: RunningApp) -> World:
    hall = Hall(app)  # regions, two departments, a published item of ORG_A
    ctx = app.ctx
    from guides import search_index
    from items import store as item_store
    with ctx.db.connection_context():
        item_store.ensure_region(OTHER_REGION, "湛河区", "410400", "4")
        second = copy.deepcopy(ITEM)
        second.update(basic_code="000104003000", name="建筑工程竣工验收备案")
        ctx.catalogue.put(second["basic_code"], second, ROLES["province_admin"])
        work = ctx.items.claim(second["basic_code"], ORG_A, "4", OWN_REGION, ROLES["editor_own"])["impl_code"]
        search_index.set_synonym("办施工证", ["建筑工程施工许可证核发"])
        # a region and a department the province admin's DELETE may remove
        item_store.ensure_region(SPARE_REGION, "鲁山县", "410400", "4")
        item_store.ensure_org(SPARE_ORG, "鲁山县档案馆", SPARE_REGION, "4")
    ctx.accounts.create_user("matrix_user", "matrix-password-1", "reviewer", region=OWN_REGION)
    owner, other = hall.citizen("openid-matrix-owner"), hall.citizen("openid-matrix-other")
    hall.at(2026, 11, 30)
    file_id = hall.upload(owner).json["file_id"]
    filed = hall.submit(owner, hall.body(file_id))
    assert filed.status == 201, filed.body
    case = filed.json["case_no"]
    finished = hall.finished_case(owner)
    rating = owner.post(f"/api/v1/hall/applications/{finished}/rating", {"level": "very_dissatisfied"})
    assert rating.status == 201, rating.body
    values = dict(impl=hall.impl_code, work=work, basic=ITEM["basic_code"], version="1", case=case,
                  finished=finished, rect=str(rating.json["rectification"]["id"]), term="办施工证", year="2026",
                  asset=_a_static_asset(), region=OWN_REGION, spare_region=SPARE_REGION, org=ORG_A,
                  spare_org=SPARE_ORG, user="matrix_user", file=file_id, job="0" * 24)
    return World(app, hall, values, {"citizen": owner, "citizen_other": other})


def _a_static_asset() -> str:
    from server.console.base import STATIC
    return next(p for p in sorted(STATIC.rglob("*")) if p.is_file()).relative_to(STATIC).as_posix()


@contextlib.contextmanager
def seeded_app(request, tmp_path_factory, name: str):
    """The app on a new database of the kind `request.param` names, seeded by `_seed` → the seeded World;
    the database is dropped afterwards. For module-wide fixtures (this matrix, the hostile-input tests)."""
    tmp = tmp_path_factory.mktemp(f"{name}-{request.param}")
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp}/govhall.db"
    else:
        admin = request.getfixturevalue("postgres_admin_url")
        url = create_database(admin)
    app = RunningApp(make_settings(url, upload_dir=str(tmp / "uploads"), wechat_token=_secret(WECHAT_TOKEN)))
    app.start()
    try:
        yield _seed(app)
    finally:
        app.stop()
        if admin:
            drop_database(admin, url)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """One app per database for the whole matrix, seeded once."""
    with seeded_app(request, tmp_path_factory, "authz") as seeded:
        yield seeded


def _secret(value: str):
    from server.config import Secret
    return Secret(value)


def _token(world: World, role: str) -> str | None:
    """A fresh token per request, so a sign-out in one test never affects another."""
    who = ROLES[role]
    if who is None:
        return None
    if isinstance(who, Actor):
        return world.app.ctx.accounts.issue_token(who)
    return world.app.ctx.hall.issue_citizen_token(SimpleNamespace(id=world.citizens[role].user_id))
