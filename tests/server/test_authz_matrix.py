"""Who may call what: every route × method of the app against every role, on SQLite and PostgreSQL.

`MATRIX` has one entry per route and method, keyed "METHOD /path" with each path parameter written as
a `{name}` from `WORLD_VALUES` (the seeded world fills it in). Each entry says, for every role in
`ROLES`, what the request must meet: OK (served: 2xx, or a non-auth 4xx such as 409/422/428 for the
deliberately harmless body sent), or 401, 403 or 404 (404: the resource is hidden from this caller).

Adding a route: add one entry built from the policy helpers below (`public()`, `signed_in()`,
`only(...)`), with `body=` a harmless request (an invalid body keeps the world unchanged: the check
of who may call comes before the check of what was sent). `test_every_route_has_an_entry` names any
route or method left out, with the key to write.
"""
from __future__ import annotations

import hashlib
import http.client
import re
import sys
import urllib.parse
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest
import tornado.web

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))  # the hall test world

from authz_world import CITIZENS, OWN_REGION, ROLES, STAFF, WECHAT_TOKEN, WORLD_VALUES, World, _token  # noqa: E402
from authz_world import world  # noqa: E402,F401 - the fixture every test here asks for

from items.scope import Actor  # noqa: E402
from server.console.base import SESSION_COOKIE as CONSOLE_COOKIE  # noqa: E402

OK, UNAUTHORISED, FORBIDDEN, HIDDEN = "ok", 401, 403, 404
def _kind(role: str) -> str:
    who = ROLES[role]
    return who.role if isinstance(who, Actor) else role


# --- policies --------------------------------------------------------------------------------------

def public(**exceptions) -> dict:
    """Anyone, signed in or not."""
    return {role: exceptions.get(role, OK) for role in ROLES}


def signed_in(**exceptions) -> dict:
    """Any staff member or citizen with a token."""
    return public(anonymous=UNAUTHORISED, **exceptions)


def only(*allowed: str, **exceptions) -> dict:
    """Only these roles (a role kind like "editor" or a matrix role like "editor_own"); others 403."""
    policy = {role: OK if role in allowed or _kind(role) in allowed else FORBIDDEN for role in ROLES}
    policy["anonymous"] = UNAUTHORISED
    policy.update(exceptions)
    return policy


def staff(**exceptions) -> dict:
    """Any staff role; citizens 403."""
    return only(*STAFF, **exceptions)


def province_admin_only(**exceptions) -> dict:
    return only("province_admin", **exceptions)


def citizen_only(**exceptions) -> dict:
    return only(*CITIZENS, **exceptions)


STATS = ("province_admin", "reform_office", "reviewer")
# Local item reads: the item's department, reviewers and reform offices over its region, the province.
ITEM_READERS = dict(editor_other=FORBIDDEN, reviewer_other=FORBIDDEN, window_other=FORBIDDEN)
# Editing a local item: its department's editors and the province.
ITEM_EDITORS = ("province_admin", "editor_own")
STALE = {"If-Match": '"999"'}  # the editors' writes meet 412 and change nothing
# A case of another department is hidden (404 case_not_found): a case number reveals nothing.
OWN_CASES = dict(window_other=HIDDEN)
WHY = {"comment": "matrix check"}


@dataclass
class Route:
    """One route × method: expected outcome per role, and the harmless request sent."""
    expect: dict
    body: object = None
    raw: bytes | None = None
    content_type: str | None = None
    headers: dict = field(default_factory=dict)
    query: str = ""
    console: bool = False  # a console page: the token goes in the session cookie, POSTs carry the CSRF pair
    not_run: str = ""  # a reason the whole route cannot be asked today (xfail, not run)
    # role → reason: today's answer is wrong, the entry states the right one (strict xfail flips on the fix)
    xfail: dict = field(default_factory=dict)


def route(expect: dict, **kwargs) -> Route:
    return Route(expect, **kwargs)


def page(expect: dict, **kwargs) -> Route:
    """A console page (/console/): signed-out visitors are sent to the sign-in page, which counts as 401."""
    if kwargs.get("raw") is None and "body" not in kwargs:
        kwargs.setdefault("raw", b"")
    return Route(expect, console=True, content_type=kwargs.pop("content_type", FORM), **kwargs)


FORM = "application/x-www-form-urlencoded"
CONSOLE_EDITORS = ("editor", "province_admin")
CONSOLE_REVIEWERS = ("reviewer", "province_admin")
CONSOLE_REFORM = ("reform_office", "province_admin")
# Console item pages: the item's department and the province; review pages: reviewers of its region.
CONSOLE_ITEM = dict(editor_other=FORBIDDEN)
CONSOLE_REVIEW = dict(reviewer_other=FORBIDDEN)


def _callback_query(**extra) -> str:
    """A correctly signed WeChat callback query (sha1 of the sorted token, timestamp and nonce)."""
    timestamp, nonce = "1409735669", "1320562132"
    signature = hashlib.sha1("".join(sorted([WECHAT_TOKEN, timestamp, nonce])).encode()).hexdigest()
    pairs = dict(signature=signature, timestamp=timestamp, nonce=nonce, **extra)
    return "?" + "&".join(f"{k}={v}" for k, v in pairs.items())


MATRIX: dict[str, Route] = {
    # --- service -------------------------------------------------------------------------------
    "GET /api/v1/": route(public()),
    "GET /api/v1/health": route(public()),
    "GET /api/v1/health/live": route(public()),
    "GET /api/v1/health/ready": route(public()),
    # without GOVHALL_METRICS_TOKEN the metrics answer loopback callers only (the matrix calls from 127.0.0.1)
    "GET /metrics": route(public()),
    "GET /api/v1/openapi.json": route(public()),
    # --- accounts ------------------------------------------------------------------------------
    "POST /api/v1/auth/login": route(public(), body={}),
    "POST /api/v1/auth/logout": route(signed_in()),
    "GET /api/v1/auth/me": route(staff()),
    # --- catalogue -----------------------------------------------------------------------------
    "GET /api/v1/catalogue/items": route(staff()),
    "GET /api/v1/catalogue/items/{basic}": route(staff()),
    "PUT /api/v1/catalogue/items/{basic}": route(province_admin_only(), body={}),
    "GET /api/v1/catalogue/items/{basic}/versions": route(staff()),
    "GET /api/v1/catalogue/items/{basic}/diff": route(staff(), query="?from=1&to=1"),
    "POST /api/v1/catalogue/imports": route(province_admin_only(), raw=b"", content_type="application/json",
                                            query="?dry_run=1"),
    "GET /api/v1/catalogue/template.csv": route(public()),
    "GET /api/v1/catalogue/template.xlsx": route(public()),
    "GET /api/v1/catalogue/items/{basic}/impact": route(only("province_admin", "editor", "reviewer", "reform_office")),
    "POST /api/v1/catalogue/items/{basic}/rebase-all": route(only("editor", "province_admin"), body=[]),
    # --- claiming and local items --------------------------------------------------------------
    "POST /api/v1/items": route(only("editor", "province_admin"), body={}),
    "GET /api/v1/items": route(staff()),
    "POST /api/v1/items/bulk-claim": route(only("editor", "province_admin"), body={}),
    "GET /api/v1/items/coverage": route(staff(), query=f"?region={OWN_REGION}"),
    "GET /api/v1/items/{impl}": route(staff(**ITEM_READERS)),
    "PATCH /api/v1/items/{work}": route(only(*ITEM_EDITORS), body=[], content_type="application/json-patch+json",
                                                 headers=STALE),
    "PUT /api/v1/items/{work}": route(only(*ITEM_EDITORS), body={}, headers=STALE),
    "POST /api/v1/items/{work}/restore": route(only(*ITEM_EDITORS), body={"version": 1}, headers=STALE),
    "GET /api/v1/items/{impl}/versions": route(staff(**ITEM_READERS)),
    "GET /api/v1/items/{impl}/versions/{version}/summary": route(staff(**ITEM_READERS)),
    "GET /api/v1/items/{impl}/diff": route(staff(**ITEM_READERS), query="?from=1&to=2"),
    "GET /api/v1/items/{impl}/conformance": route(staff(**ITEM_READERS)),
    "POST /api/v1/items/{work}/rebase": route(only(*ITEM_EDITORS), body={"resolutions": "not-a-map"}),
    # --- review workflow (on the draft item: its state may move, the outcome per role does not) --
    "POST /api/v1/items/{work}/submit": route(only(*ITEM_EDITORS)),
    "POST /api/v1/items/{work}/recall": route(only(*ITEM_EDITORS)),
    "POST /api/v1/items/{work}/approve": route(only("province_admin", "reviewer_own")),
    "POST /api/v1/items/{work}/reject": route(only("province_admin", "reviewer_own"), body=WHY),
    "POST /api/v1/items/{work}/publish": route(only("province_admin", "reviewer_own")),
    "POST /api/v1/items/{work}/withdraw": route(only("province_admin", "reviewer_own"), body=WHY),
    "GET /api/v1/items/{impl}/events": route(staff(**ITEM_READERS)),
    "GET /api/v1/items/{impl}/lint": route(staff(**ITEM_READERS)),
    "GET /api/v1/audit": route(province_admin_only()),
    # --- branch hall ---------------------------------------------------------------------------
    "POST /api/v1/hall/login": route(public(), body={}),
    "GET /api/v1/hall/search": route(public(), query="?q=%E5%BB%BA%E7%AD%91"),
    "GET /api/v1/hall/suggest": route(public(), query="?q=%E5%BB%BA"),
    "GET /api/v1/hall/items/{impl}": route(public()),
    "POST /api/v1/hall/subscriptions": route(citizen_only(), body={}),
    "POST /api/v1/hall/uploads": route(citizen_only(), body={}),
    "POST /api/v1/hall/applications": route(citizen_only(), body={}),
    "GET /api/v1/hall/applications": route(citizen_only()),
    # without ?factor= a case's progress is its owner's (anonymous: 401 factor_required)
    "GET /api/v1/hall/applications/{case}": route(citizen_only(citizen_other=HIDDEN)),
    "POST /api/v1/hall/applications/{finished}/rating": route(citizen_only(citizen_other=HIDDEN),
                                                              body={"level": "satisfied"}),
    "GET /wechat/callback": route(public(), query=_callback_query(echostr="matrix")),
    "POST /wechat/callback": route(public(), raw=b"<xml></xml>", content_type="text/xml",
                                   query=_callback_query()),
    # --- window staff --------------------------------------------------------------------------
    "GET /api/v1/cases": route(only("window_staff")),
    "GET /api/v1/cases/{case}": route(only("window_staff", **OWN_CASES)),
    "POST /api/v1/cases/{case}/actions": route(only("window_staff", **OWN_CASES), body={"action": "accept"}),
    "POST /api/v1/rectifications/{rect}/answer": route(only("window_staff", window_other=FORBIDDEN),
                                                       body={"answer": "已电话回访并整改"}),
    # --- statistics ----------------------------------------------------------------------------
    "GET /api/v1/stats/items": route(only(*STATS)),
    "GET /api/v1/stats/items/drilldown": route(only(*STATS)),
    "GET /api/v1/stats/compare": route(only(*STATS), query="?from=2026-01-01&to=2026-06-30"),
    "GET /api/v1/stats/claims": route(only(*STATS)),
    "GET /api/v1/stats/cases": route(only(*STATS)),
    "GET /api/v1/stats/rankings": route(only(*STATS)),
    # --- operations ----------------------------------------------------------------------------
    "GET /api/v1/admin/synonyms": route(province_admin_only()),
    "GET /api/v1/admin/search/misses": route(province_admin_only()),
    "POST /api/v1/admin/search/misses/promote": route(province_admin_only(), body={}),
    "GET /api/v1/admin/synonyms/{term}": route(province_admin_only()),
    "PUT /api/v1/admin/synonyms/{term}": route(province_admin_only(), body={}),
    "GET /api/v1/admin/holidays": route(staff()),
    "GET /api/v1/admin/holidays/{year}": route(staff()),
    "PUT /api/v1/admin/holidays/{year}": route(province_admin_only(), body={}),
    # after the GET above: the province admin's DELETE really deletes the seeded synonym
    "DELETE /api/v1/admin/synonyms/{term}": route(province_admin_only()),
    # --- directory (staff read it, the province admin changes it) ------------------------------------
    "GET /api/v1/directory/regions": route(staff()),
    "POST /api/v1/directory/regions": route(province_admin_only(), body={}),
    "GET /api/v1/directory/regions/{region}": route(staff()),
    "PATCH /api/v1/directory/regions/{region}": route(province_admin_only(), body={}),
    "DELETE /api/v1/directory/regions/{spare_region}": route(province_admin_only()),
    "GET /api/v1/directory/departments": route(staff()),
    "POST /api/v1/directory/departments": route(province_admin_only(), body={}),
    "GET /api/v1/directory/departments/{org}": route(staff()),
    "PATCH /api/v1/directory/departments/{org}": route(province_admin_only(), body={}),
    "DELETE /api/v1/directory/departments/{spare_org}": route(province_admin_only()),
    "POST /api/v1/directory/imports": route(province_admin_only(), raw=b"", content_type="application/json",
                                            query="?dry_run=1"),
    "GET /api/v1/directory/template.csv": route(public()),
    "GET /api/v1/directory/template.xlsx": route(public()),
    # --- staff accounts ------------------------------------------------------------------------
    "GET /api/v1/users": route(province_admin_only()),
    "POST /api/v1/users": route(province_admin_only(), body={}),
    "GET /api/v1/users/{user}": route(province_admin_only()),
    "PATCH /api/v1/users/{user}": route(province_admin_only(), body={"no_such_field": 1}),
    "POST /api/v1/users/{user}/password": route(province_admin_only(), body={}),
    "POST /api/v1/auth/password": route(staff(), body={}),
    # --- window workbench ----------------------------------------------------------------------
    "GET /api/v1/cases/{case}/files/{file}": route(only("window_staff", **OWN_CASES)),
    "GET /api/v1/cases/{case}/guide": route(only("window_staff", **OWN_CASES)),
    "POST /api/v1/cases/{case}/applicant/reveal": route(only("window_staff", **OWN_CASES),
                                                        body={"reason": "核对申请人身份"}),
    "GET /api/v1/reveals": route(province_admin_only()),
    "GET /api/v1/rectifications": route(only("window_staff")),
    "GET /api/v1/stats/summary": route(only(*STATS)),
    "GET /api/v1/stats/summary/compare": route(only(*STATS), query="?from=2026-01-01&to=2026-06-30"),
    # --- the staff console (pages; a refusal is a Chinese error page with the same status) -----------
    "GET /console/": page(staff()),
    "GET /console/login": page(public()),
    "POST /console/login": page(public()),
    "POST /console/logout": page(staff()),
    "GET /console/static/{asset}": page(public()),
    "GET /console/items": page(only(*CONSOLE_EDITORS)),
    "GET /console/coverage": page(only("editor")),
    "POST /console/coverage": page(only("editor")),
    "GET /console/items/{work}": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "POST /console/items/{work}": page(only(*CONSOLE_EDITORS)),
    "POST /console/items/{work}/validate": page(only(*CONSOLE_EDITORS)),
    "POST /console/items/{work}/submit": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "POST /console/items/{work}/recall": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "GET /console/items/{work}/history": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "POST /console/items/{work}/history": page(only(*CONSOLE_EDITORS)),
    "GET /console/items/{work}/diff": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "GET /console/items/{work}/conformance": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "GET /console/items/{work}/rebase": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "POST /console/items/{work}/rebase": page(only(*CONSOLE_EDITORS)),
    "GET /console/items/{work}/preview": page(only(*CONSOLE_EDITORS, **CONSOLE_ITEM)),
    "GET /console/review": page(only(*CONSOLE_REVIEWERS)),
    "GET /console/review/{work}": page(only(*CONSOLE_REVIEWERS, **CONSOLE_REVIEW)),
    **{f"POST /console/review/{{work}}/{decision}": page(only(*CONSOLE_REVIEWERS, **CONSOLE_REVIEW))
       for decision in ("approve", "reject", "publish", "withdraw")},
    "GET /console/catalogue": page(province_admin_only()),
    "GET /console/catalogue/import": page(province_admin_only()),
    "POST /console/catalogue/import": page(province_admin_only()),
    "GET /console/catalogue/{basic}": page(province_admin_only()),
    "POST /console/catalogue/{basic}": page(province_admin_only()),
    "GET /console/catalogue/{basic}/impact": page(province_admin_only()),
    "POST /console/catalogue/{basic}/rebase-all": page(province_admin_only()),
    "GET /console/jobs/{job}": page(province_admin_only(province_admin=HIDDEN)),  # no such job
    "GET /console/synonyms": page(province_admin_only()),
    "POST /console/synonyms": page(province_admin_only()),
    "GET /console/reform": page(only(*CONSOLE_REFORM)),
    # a county office asking for its city is refused like the statistics API
    "GET /console/reform/drilldown": page(only(*CONSOLE_REFORM, reform_county=FORBIDDEN), query="?region=410400"),
    "GET /console/reform/export": page(only(*CONSOLE_REFORM), query="?table=summary&format=csv"),
    "GET /console/reform/report": page(only(*CONSOLE_REFORM)),
    # window workbench pages: another department's case is the 404 page, as in the API; the empty action and
    # reveal forms are refused (422) by the service and change nothing
    "GET /console/cases": page(only("window_staff")),
    "GET /console/cases/{case}": page(only("window_staff", **OWN_CASES)),
    "POST /console/cases/{case}/actions": page(only("window_staff", **OWN_CASES)),
    "GET /console/cases/{case}/files/{file}": page(only("window_staff", **OWN_CASES)),
    "POST /console/cases/{case}/reveal": page(only("window_staff", **OWN_CASES)),
    "GET /console/rectifications": page(only("window_staff")),
    "POST /console/rectifications/{rect}/answer": page(only("window_staff", window_other=FORBIDDEN),
                                                      raw=urllib.parse.urlencode({"answer": "已电话回访并整改"}).encode()),
    # an empty form changes nothing: each page answers 422 naming the missing field
    **{f"{method} /console/directory/{name}": page(province_admin_only())
       for method in ("GET", "POST") for name in ("regions", "departments", "staff", "import")},
    "GET /console/directory/departments/{org}": page(province_admin_only()),
    "POST /console/directory/departments/{org}": page(province_admin_only()),
    "GET /console/directory/staff/{user}": page(province_admin_only()),
    "POST /console/directory/staff/{user}": page(province_admin_only()),
    "GET /console/password": page(staff()),
    "POST /console/password": page(staff()),
}


# --- routes of the app ---------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")


def _group_end(path: str, start: int) -> int:
    depth = 0
    for end in range(start, len(path)):
        depth += {"(": 1, ")": -1}.get(path[end], 0)
        if depth == 0:
            return end
    raise ValueError(f"unbalanced route {path!r}")


def _shapes(pattern: str) -> list[str]:
    """A route regex as paths with `{}` for each parameter; literal alternatives (a|b) give one path each."""
    path = pattern.rstrip("$").replace("\\.", ".").replace("/?", "/")
    start = path.find("(")
    if start < 0:
        return [path]
    end = _group_end(path, start)
    group = path[start + 1:end]
    if re.fullmatch(r"[A-Za-z_-]+(\|[A-Za-z_-]+)*", group):
        return [shape for alternative in group.split("|")
                for shape in _shapes(path[:start] + alternative + path[end + 1:])]
    return [path[:start] + "{}" + tail for tail in _shapes(path[end + 1:])]


def app_routes(app: tornado.web.Application) -> set[str]:
    """Every "METHOD /path{}" the app serves: each rule's paths × the methods its handler implements."""
    served = set()
    for rule in app.wildcard_router.rules:
        handler = rule.target
        if not (isinstance(handler, type) and issubclass(handler, tornado.web.RequestHandler)):
            continue
        methods = [m for m in handler.SUPPORTED_METHODS if m not in ("HEAD", "OPTIONS")
                   and getattr(handler, m.lower()) is not getattr(tornado.web.RequestHandler, m.lower())]
        for shape in _shapes(rule.matcher.regex.pattern):
            served |= {f"{method} {shape}" for method in methods}
    return served


def _shape(key: str) -> str:
    return _PLACEHOLDER.sub("{}", key)


def test_every_route_has_an_entry(world):
    served = app_routes(world.app.app)  # the app as served: API handlers, console pages, everything routed
    entries = {_shape(key) for key in MATRIX}
    missing = sorted(served - entries)
    assert not missing, "add MATRIX entries (write each {} as a {name} of WORLD_VALUES): " + ", ".join(missing)
    stale = sorted(key for key in MATRIX if _shape(key) not in served)
    assert not stale, "MATRIX entries without a route: " + ", ".join(stale)


def test_every_entry_states_every_role():
    for key, entry in MATRIX.items():
        assert set(entry.expect) == set(ROLES), key
        assert set(entry.xfail) <= set(ROLES), key
        assert set(_PLACEHOLDER.findall(key)) <= {"{" + name + "}" for name in WORLD_VALUES}, key


def _outcome(status: int):
    if status in (UNAUTHORISED, FORBIDDEN, HIDDEN):
        return status
    assert status < 500 or status == 503, f"server error {status}"
    return OK


def _marks(entry: Route, role: str) -> list:
    if entry.not_run:
        return [pytest.mark.xfail(run=False, reason=entry.not_run)]
    return [pytest.mark.xfail(strict=True, reason=entry.xfail[role])] if role in entry.xfail else []


CASES = [pytest.param(key, role, id=f"{key} as {role}", marks=_marks(entry, role))
         for key, entry in MATRIX.items() for role in ROLES]


def ask(world: World, key: str, role: str):
    """Send the entry's harmless request as `role` → (status, body, the API response or None for a page)."""
    entry = MATRIX[key]
    method, template = key.split(" ", 1)
    path = _PLACEHOLDER.sub(lambda m: urllib.parse.quote(world.values[m.group(0)[1:-1]]), template) + entry.query
    token = _token(world, role)
    if entry.console:
        return (*_console_request(world, method, path, entry, token), None)
    resp = world.app.api().request(method, path, body=entry.body, raw=entry.raw, content_type=entry.content_type,
                                   headers=entry.headers, token=token)
    return resp.status, resp.body, resp


@pytest.mark.parametrize("key, role", CASES)
def test_route_answers_each_role_as_the_matrix_says(world, key, role):
    status, text, resp = ask(world, key, role)
    expected = MATRIX[key].expect[role]
    got = _outcome(status)
    assert got == expected, f"{key} as {role}: expected {expected}, got {status} {text[:300]!r}"
    if status in (UNAUTHORISED, FORBIDDEN, HIDDEN) and resp is not None:
        resp.error_code()  # refusals carry the one error body


def _console_request(world: World, method: str, path: str, entry: Route, token: str | None) -> tuple[int, bytes]:
    """A page request as a browser makes it, without following redirects; a redirect to the sign-in page
    is the console's 401."""
    cookies = {"_xsrf": "matrix-xsrf"} if method != "GET" else {}
    if token:
        cookies[CONSOLE_COOKIE] = token
    headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()), **entry.headers}
    if method != "GET":
        headers.update({"X-XSRFToken": "matrix-xsrf", "Content-Type": entry.content_type or FORM})
    conn = http.client.HTTPConnection("127.0.0.1", world.app.port, timeout=10)
    try:
        conn.request(method, path, body=entry.raw if method != "GET" else None, headers=headers)
        resp = conn.getresponse()
        status, location, text = resp.status, resp.getheader("Location") or "", resp.read()
    finally:
        conn.close()
    signed_out = location.startswith("/console/login") and "msg=" not in location  # not a sign-out's goodbye
    if status in (302, 303) and signed_out:
        return UNAUTHORISED, text
    return status, text


def test_a_method_a_route_does_not_implement_is_405_never_a_server_error(world):
    """Every route asked with the methods its handler lacks, as the province admin: 405 (or a sign-in
    redirect), never a 5xx — a page built on another page must not inherit that page's methods."""
    lacking = []
    for rule in world.app.app.wildcard_router.rules:
        handler = rule.target
        if not (isinstance(handler, type) and issubclass(handler, tornado.web.RequestHandler)):
            continue
        implemented = {m for m in ("GET", "POST", "PUT", "PATCH", "DELETE")
                       if getattr(handler, m.lower()) is not getattr(tornado.web.RequestHandler, m.lower())}
        if not implemented:
            continue
        for shape in _shapes(rule.matcher.regex.pattern):
            for method in sorted({"GET", "POST", "PUT", "DELETE"} - implemented):
                lacking.append((method, shape))
    assert lacking, "every route implements every method: nothing to ask"
    token = _token(world, "province_admin")
    for method, shape in lacking:
        key = next((k for k in MATRIX if _shape(k).split(" ", 1)[1] == shape), None)
        if key is None:
            continue
        entry = MATRIX[key]
        path = _PLACEHOLDER.sub(lambda m: urllib.parse.quote(world.values[m.group(0)[1:-1]]), key.split(" ", 1)[1])
        if entry.console:
            status, text = _console_request(world, method, path, replace(entry, raw=b""), token)
        else:
            resp = world.app.api().request(method, path, raw=b"" if method != "GET" else None, token=token)
            status, text = resp.status, resp.body
        assert status in (405, UNAUTHORISED), f"{method} {path}: {status} {text[:200]!r}"
