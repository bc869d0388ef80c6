"""Hostile input at every kind of endpoint, signed in and not: always a 4xx with the error envelope, never a
5xx, never a traceback in the log; bodies beyond a route's limit are refused with 413 before they are read."""
from __future__ import annotations

import http.client
import json
import logging
import socket

import pytest

from test_authz_matrix import WECHAT_TOKEN, World, _secret, _seed, _token
from harness import RunningApp, make_settings
from servers import create_database, drop_database

PATCH_TYPE = "application/json-patch+json"

DEEP = "[" * 5000 + "]" * 5000
HUGE_INT = "9" * 40
BODIES = [
    ("deep array", DEEP.encode()),
    ("deep object", ('{"a":' * 3000 + "1" + "}" * 3000).encode()),
    ("moderately deep", ('{"comment": ' + "[" * 100 + "]" * 100 + "}").encode()),
    ("huge integer", ('{"version": %s, "to_version": %s, "accepted": %s}' % (HUGE_INT, HUGE_INT, HUGE_INT)).encode()),
    ("64-bit integer", b'{"version": 18446744073709551617, "level": 18446744073709551617}'),
    ("NaN", b'{"version": NaN}'),
    ("float overflow", b'{"version": 1e400}'),
    ("lone surrogate", b'{"comment": "\\ud800", "code": "\\udfff", "username": "\\ud800", "password": "x"}'),
    ("surrogate key", b'{"\\ud800": 1}'),
    ("NUL", b'{"comment": "a\\u0000b", "code": "a\\u0000", "action": "accept", "opinion": "\\u202e"}'),
    ("bidi override", b'{"comment": "\\u202eabc", "level": "satisfied", "answer": "\\u200b"}'),
    ("not UTF-8", b'{"comment": "\xff\xfe"}'),
    ("scalar", b"42"),
    ("string", b'"\\ud800"'),
    ("empty", b""),
]
PATCH_BODIES = [
    ("replace document by scalar", [{"op": "replace", "path": "", "value": 1}]),
    ("replace document by list", [{"op": "replace", "path": "", "value": []}]),
    ("replace document by empty object", [{"op": "replace", "path": "", "value": {}}]),
    ("deep value", [{"op": "replace", "path": "/hours", "value": json.loads("[" * 200 + "]" * 200)}]),
    ("huge integer value", [{"op": "replace", "path": "/visits", "value": 10 ** 30}]),
    ("long text", [{"op": "replace", "path": "/location", "value": "地" * 5000}]),
    ("control characters", [{"op": "replace", "path": "/location", "value": "办事\u0000大厅\u202e"}]),
    ("zero width", [{"op": "add", "path": "/aliases/-", "value": "办\u200b证"}]),
    ("too many aliases", [{"op": "replace", "path": "/aliases", "value": ["别名"] * 500}]),
    ("unknown field huge", [{"op": "add", "path": "/x", "value": "x" * 20000}]),
]
POSTS = ["/api/v1/auth/login", "/api/v1/hall/login", "/api/v1/items", "/api/v1/items/bulk-claim",
         "/api/v1/hall/applications", "/api/v1/hall/subscriptions", "/api/v1/cases/C1/actions",
         "/api/v1/rectifications/1/answer", "/api/v1/hall/applications/C1/rating",
         "/api/v1/catalogue/items/000104002000/rebase-all", "/api/v1/items/{impl}/reject",
         "/api/v1/items/{impl}/rebase", "/api/v1/items/{impl}/restore"]
PUTS = ["/api/v1/items/{impl}", "/api/v1/catalogue/items/000104002000", "/api/v1/admin/synonyms/%E5%8A%9E%E8%AF%81"]
QUERIES = ["page=" + HUGE_INT, "page=99999999999999999999", "size=-1", "version=" + HUGE_INT,
           "from=18446744073709551617&to=1", "to_version=" + HUGE_INT, "limit=1e9", "offset=-5",
           "q=%ED%A0%80", "q=%00%E2%80%AE", "org=" + "x" * 5000, "region=%FF", "as_of=99999-99-99",
           "min_items=" + HUGE_INT, "outdated=maybe", "dry_run=%00"]
GETS = ["/api/v1/items", "/api/v1/items/{impl}", "/api/v1/items/{impl}/diff", "/api/v1/items/{impl}/lint",
        "/api/v1/catalogue/items", "/api/v1/catalogue/items/000104002000",
        "/api/v1/catalogue/items/000104002000/diff", "/api/v1/catalogue/items/000104002000/impact",
        "/api/v1/hall/search", "/api/v1/hall/applications", "/api/v1/cases", "/api/v1/audit",
        "/api/v1/stats/items", "/api/v1/stats/compare", "/api/v1/stats/rankings", "/api/v1/stats/items/drilldown"]
PATH_SEGMENTS = ["%ED%A0%80", "%FF%FE", "%00", "%E2%80%AE", "x" * 3000, "99999999999999999999999"]
PATH_TEMPLATES = ["/api/v1/items/{seg}", "/api/v1/items/{seg}/versions", "/api/v1/hall/items/{seg}",
                  "/api/v1/hall/applications/{seg}", "/api/v1/catalogue/items/{seg}", "/api/v1/cases/{seg}",
                  "/api/v1/rectifications/{seg}/answer", "/api/v1/admin/synonyms/{seg}",
                  "/api/v1/items/{impl}/versions/{seg}/summary"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """One app per database for the whole module, seeded as the authorisation matrix seeds it (items, cases,
    ratings, rectifications); `impl` is a draft item of the editor `a` at version 1."""
    tmp = tmp_path_factory.mktemp(f"hostile-{request.param}")
    admin = None
    if request.param == "sqlite":
        url = f"sqlite:///{tmp}/govhall.db"
    else:
        admin = request.getfixturevalue("postgres_admin_url")
        url = create_database(admin)
    app = RunningApp(make_settings(url, upload_dir=str(tmp / "uploads"), wechat_token=_secret(WECHAT_TOKEN)))
    app.start()
    try:
        seeded = _seed(app)
        yield {"app": app, "seed": seeded, "impl": seeded.values["work"],
               **{name: _api(seeded, role) for name, role in (("a", "editor_own"), ("admin", "province_admin"),
                                                               ("window", "window_own"), ("citizen", "citizen"))}}
    finally:
        app.stop()
        if admin:
            drop_database(admin, url)


def _api(seeded: World, role: str):
    api = seeded.app.api()
    api.token = _token(seeded, role)
    return api


class Recorder(logging.Handler):
    """Every record at ERROR or above, and any record carrying a traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.levelno >= logging.ERROR or record.exc_info or "Traceback" in text:
            self.bad.append(text[:300])


@pytest.fixture
def log_watch():
    recorder = Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    yield recorder
    root.removeHandler(recorder)


def raw(app, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One request over a fresh connection, bytes as given (no client-side encoding or checks)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=60)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def assert_error(status: int, data: bytes, where):
    assert 400 <= status < 500, (where, status, data[:300])
    body = json.loads(data)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, (where, body)


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_hostile_json_bodies_are_4xx_with_the_error_body(world, log_watch, signed_in):
    impl = world["impl"]
    token = world["a"].token if signed_in else None
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {}),
               "If-Match": '"1"'}
    for method, paths in (("POST", POSTS), ("PUT", PUTS), ("PATCH", ["/api/v1/items/{impl}"])):
        for path in paths:
            for name, body in BODIES:
                kind = {"PATCH": PATCH_TYPE}.get(method, "application/json")
                status, data = raw(world["app"], method, path.format(impl=impl), body,
                                   {**headers, "Content-Type": kind})
                if name == "empty" and status < 300:  # some routes take no body at all
                    continue
                assert_error(status, data, (method, path, name))
    assert log_watch.bad == []


def test_hostile_patches_are_4xx_and_leave_the_item_as_it_was(world, log_watch):
    impl = world["impl"]
    before = world["a"].get(f"/api/v1/items/{impl}").json
    for name, ops in PATCH_BODIES:
        resp = world["a"].patch(f"/api/v1/items/{impl}", ops, headers={"If-Match": '"1"'}, content_type=PATCH_TYPE)
        assert resp.status in (400, 422), (name, resp.status, resp.body[:300])
        resp.error_code()
    assert world["a"].get(f"/api/v1/items/{impl}").json == before
    assert log_watch.bad == []


def test_field_maxima_answer_422_naming_path_and_rule(world):
    impl = world["impl"]
    resp = world["a"].patch(f"/api/v1/items/{impl}", [{"op": "replace", "path": "/location", "value": "x" * 201}],
                            headers={"If-Match": '"1"'}, content_type=PATCH_TYPE)
    assert resp.status == 422
    assert {"path": "/location", "rule": "max_length"}.items() <= resp.json["error"]["details"]["errors"][0].items()
    resp = world["a"].post(f"/api/v1/items/{impl}/reject", {"comment": "x" * 2001})
    assert resp.status == 422 and resp.error_code() == "too_long"
    assert resp.json["error"]["details"]["errors"][0] == {"path": "/comment", "rule": "max_length",
                                                          "message": "at most 2000 characters"}


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_hostile_query_parameters_and_path_segments_are_4xx(world, log_watch, signed_in):
    impl = world["impl"]
    headers = {"Authorization": f"Bearer {world['admin'].token}"} if signed_in else {}
    for path in GETS:
        for query in QUERIES:
            status, data = raw(world["app"], "GET", path.format(impl=impl) + "?" + query, None, headers)
            if status < 400:  # a parameter the route does not take is ignored
                continue
            assert_error(status, data, (path, query))
    for template in PATH_TEMPLATES:
        for segment in PATH_SEGMENTS:
            status, data = raw(world["app"], "GET", template.format(impl=impl, seg=segment), None, headers)
            assert_error(status, data, (template, segment))
    assert log_watch.bad == []


@pytest.mark.parametrize("path,limit", [("/api/v1/auth/login", 4096), ("/api/v1/hall/login", 4096),
                                        ("/api/v1/hall/applications", 65536)])
def test_a_body_beyond_the_route_limit_is_413_before_it_is_read(world, path, limit):
    # Only the headers go out: the answer comes from Content-Length alone.
    with socket.create_connection(("127.0.0.1", world["app"].port), timeout=30) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {50 * 1024 * 1024}\r\n\r\n".encode())
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    error = json.loads(body)["error"]
    assert error["code"] == "too_large" and error["details"]["max_bytes"] == limit


@pytest.mark.parametrize("given,kept", [("abc-123_X.y", True), ("x" * 8000, False), ("a b", False),
                                        ("a\u202eb".encode().decode("latin-1"), False)])
def test_only_a_short_safe_request_id_is_kept(world, given, kept):
    conn = http.client.HTTPConnection("127.0.0.1", world["app"].port, timeout=30)
    conn.request("GET", "/api/v1/health", headers={"X-Request-Id": given})
    echoed = conn.getresponse().getheader("X-Request-Id")
    conn.close()
    assert (echoed == given) is kept and len(echoed) <= 64


# --- sweeps driven by the OpenAPI description: every parameter, every body, every text field ----------------

NUMBERS = ["0", "-1", "-0", "+5", "9223372036854775808", "-9223372036854775809", "18446744073709551617", HUGE_INT,
           "1e309", "1.5", "NaN", "Infinity", "0x10"]
TEXTS = ["%ED%A0%80", "%FF%FE", "%00", "a%E2%80%AEb", "a%E2%80%8Bb", "%22%27%3C", "x" * 5000]
HOSTILE_TEXTS = ["a\u0000b", "\u202eabc", "a\u200bb", "\ud800"]
NUMBER_BODIES = [b'{"x": 1e309}', b'{"x": -1e309}', b'{"x": Infinity}', b'{"x": -Infinity}', b'{"x": NaN}',
                 b'{"x": 1E+400, "level": 1e-400}', b'{"x": 123456789012345678901234567890}',
                 b'{"a": 1, "a": "\\ud800"}', b'[{"a": 1}]', b'null', b'true', b'"text"', b'{"x": "\\udc00\\ud800"}']
ROLE_FOR = {"/api/v1/hall/": "citizen", "/api/v1/cases": "window", "/api/v1/rectifications": "window"}


def _spec(world) -> dict:
    return world["admin"].get("/api/v1/openapi.json").json["paths"]


def _fill(world, path: str, value: str | None = None) -> str:
    """`path` with each {name} set to the seeded world's value (or to `value`)."""
    seeded = {"impl_code": world["impl"], "basic_code": world["seed"].values["basic"],
              "case_no": world["seed"].values["case"], "version": "1", "rectification_id": world["seed"].values["rect"],
              "term": "%E5%8A%9E%E6%96%BD%E5%B7%A5%E8%AF%81", "code": world["seed"].values["region"],
              "credit_code": world["seed"].values["org"], "username": "matrix_user", "id": "2026"}
    out = path
    while "{" in out:
        name = out[out.index("{") + 1:out.index("}")]
        out = out.replace("{" + name + "}", value if value is not None else seeded.get(name, "1"), 1)
    return out


def _token_for(world, path: str) -> str:
    role = next((role for prefix, role in ROLE_FOR.items() if path.startswith(prefix)), "admin")
    return world[role].token


def _no_server_error(status: int, data: bytes, where) -> None:
    assert status < 500, (where, status, data[:300])
    if status >= 400 and data[:1] == b"{":
        assert_error(status, data, where)


def test_every_query_and_path_parameter_refuses_hostile_values_with_a_4xx(world, log_watch):
    """Integers beyond 64 bits, negative, zero, exponent forms; lone surrogates, invalid UTF-8, NUL, bidi and
    zero-width characters and long text in every query parameter and path segment the description names."""
    asked = 0
    for path, ops in _spec(world).items():
        if "get" not in ops:
            continue
        headers = {"Authorization": f"Bearer {_token_for(world, path)}"}
        for param in ops["get"]["parameters"]:
            values = NUMBERS if param["schema"]["type"] == "integer" else TEXTS
            for value in values:
                if param["in"] == "query":
                    target = _fill(world, path) + f"?{param['name']}={value}"
                elif param["in"] == "path":
                    target = path.replace("{" + param["name"] + "}", value)
                    target = _fill(world, target)
                else:
                    continue
                status, data = raw(world["app"], "GET", target, None, headers)
                _no_server_error(status, data, (target[:120], param["name"]))
                if param["in"] == "query" and param["schema"]["type"] == "integer":
                    low, high = param["schema"]["minimum"], param["schema"]["maximum"]
                    in_range = value.lstrip("+-").isdigit() and low <= int(value) <= high
                    # refused (400, or another parameter's 4xx that comes first), never served
                    assert in_range or 400 <= status < 500, (target[:120], status, data[:200])
                asked += 1
    assert asked > 300
    assert log_watch.bad == []


def _body_ops(world):
    for path, ops in _spec(world).items():
        for method in ("post", "put", "patch"):
            op = ops.get(method)
            if op is None or "requestBody" not in op or not path.startswith("/api/"):
                continue
            yield method.upper(), path, op


def _text_fields(schema: dict, value: str):
    """An instance of `schema` with every string field (nested objects and lists too) set to `value`."""
    kind = schema.get("type")
    if kind == "object":
        props = schema.get("properties") or {}
        out = {key: _text_fields(sub, value) for key, sub in props.items()}
        if not props and isinstance(schema.get("additionalProperties"), dict):
            out = {"field": _text_fields(schema["additionalProperties"], value)}
        return out
    if kind == "array":
        return [_text_fields(schema.get("items") or {"type": "string"}, value)]
    if kind == "string":
        return value
    if kind in ("integer", "number"):
        return 1
    if kind == "boolean":
        return True
    return value


def test_every_body_refuses_numbers_beyond_range_scalars_and_duplicate_keys(world, log_watch):
    for method, path, op in _body_ops(world):
        target = _fill(world, path)
        ctype = next(iter(op["requestBody"]["content"]))
        ctype = ctype if "json" in ctype else "application/json"
        headers = {"Authorization": f"Bearer {_token_for(world, path)}", "Content-Type": ctype, "If-Match": '"999"',
                   "Idempotency-Key": "hostile-numbers"}
        for body in NUMBER_BODIES:
            status, data = raw(world["app"], method, target, body, headers)
            _no_server_error(status, data, (method, path, body))
            assert status >= 400, (method, path, body, status, data[:200])
    assert log_watch.bad == []


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=["NUL", "RLO", "ZWSP", "surrogate"])
def test_hostile_text_in_every_field_of_every_body_is_refused(world, log_watch, text):
    """NUL, U+202E, U+200B and a lone surrogate in every text field the body's schema names (items, claims,
    applications, ratings, workflow comments, case actions, directory, accounts): 4xx, nothing stored."""
    for method, path, op in _body_ops(world):
        media, content = next(iter(op["requestBody"]["content"].items()))
        if "json" not in media:
            continue
        body = _text_fields(content["schema"], text)
        if path == "/api/v1/items/{impl_code}" and method == "PATCH":
            body = [{"op": "replace", "path": "/location", "value": text}, {"op": "add", "path": "/aliases/-",
                                                                             "value": text}]
        headers = {"Authorization": f"Bearer {_token_for(world, path)}", "Content-Type": media, "If-Match": '"1"',
                   "Idempotency-Key": "hostile-text-" + str(HOSTILE_TEXTS.index(text))}
        status, data = raw(world["app"], method, _fill(world, path),
                           json.dumps(body, ensure_ascii=True).encode(), headers)
        _no_server_error(status, data, (method, path))
        # refused, or (a rebase already up to date) served without storing or echoing the text
        assert status >= 400 or text not in json.dumps(json.loads(data), ensure_ascii=False), (method, path, status)
    assert log_watch.bad == []


def test_patches_of_the_whole_document_deep_values_and_unknown_enums_are_refused(world, log_watch):
    impl, editor = world["impl"], world["a"]
    before = editor.get(f"/api/v1/items/{impl}").json
    deep = json.loads("[" * 40 + "]" * 40)
    for ops in ([{"op": "replace", "path": "", "value": None}], [{"op": "add", "path": "", "value": [1, 2]}],
                [{"op": "replace", "path": "", "value": "text"}], [{"op": "replace", "path": "/aliases", "value": deep}],
                [{"op": "add", "path": "/materials/0/note", "value": [[[[[[["x"]]]]]]]}],
                [{"op": "replace", "path": "/item_type", "value": "99"}],
                [{"op": "replace", "path": "/handling_type", "value": "teleport"}],
                [{"op": "replace", "path": "/visits", "value": 1e309}],
                [{"op": "explode", "path": "/name"}], [{"op": "replace"}], [{"op": "replace", "path": 5, "value": 1}]):
        status, data = raw(world["app"], "PATCH", f"/api/v1/items/{impl}",
                           json.dumps(ops).encode().replace(b"Infinity", b"1e309"),
                           {"Authorization": f"Bearer {editor.token}", "Content-Type": PATCH_TYPE, "If-Match": '"1"'})
        assert status in (400, 422), (ops, status, data[:300])
        assert_error(status, data, ops)
    for level in ("excellent", "", None, 5):
        resp = world["citizen"].post(f"/api/v1/hall/applications/{world['seed'].values['finished']}/rating",
                                     {"level": level})
        assert 400 <= resp.status < 500, (level, resp.status)
        resp.error_code()
    assert editor.get(f"/api/v1/items/{impl}").json == before
    assert log_watch.bad == []


LONG = "x" * 6000


@pytest.mark.parametrize("name", ["X-Request-Id", "If-Match", "Idempotency-Key", "Authorization"])
def test_very_long_header_values_are_4xx_or_ignored_never_5xx(world, log_watch, name):
    impl = world["impl"]
    for method, path, body, ctype in (("PATCH", f"/api/v1/items/{impl}", b"[]", PATCH_TYPE),
                                      ("POST", "/api/v1/hall/applications", b"{}", "application/json"),
                                      ("GET", "/api/v1/items", None, None)):
        token = world["citizen" if "hall" in path else "a"].token
        headers = {"Authorization": f"Bearer {token}", name: LONG if name != "Authorization" else "Bearer " + LONG}
        if ctype:
            headers["Content-Type"] = ctype
        status, data = raw(world["app"], method, path, body, headers)
        _no_server_error(status, data, (name, path))
        if name != "X-Request-Id" and method != "GET":
            assert status >= 400, (name, path, status)
    assert log_watch.bad == []


@pytest.mark.parametrize("ctype", ["text/plain", "application/xml", "application/x-www-form-urlencoded",
                                   "multipart/form-data; boundary=x", "application/json; charset=latin-1", ""])
def test_wrong_content_types_and_empty_bodies_are_4xx(world, log_watch, ctype):
    for method, path, op in _body_ops(world):
        headers = {"Authorization": f"Bearer {_token_for(world, path)}", "If-Match": '"999"',
                   "Idempotency-Key": "hostile-type"}
        if ctype:
            headers["Content-Type"] = ctype
        for body in (b'{"a": 1}', b""):
            status, data = raw(world["app"], method, _fill(world, path), body, headers)
            _no_server_error(status, data, (method, path, ctype, body))
    assert log_watch.bad == []


@pytest.mark.parametrize("path,limit", [("/api/v1/auth/login", 4096), ("/api/v1/hall/applications", 65536)])
def test_a_chunked_body_beyond_the_route_limit_is_413_with_the_error_body(world, path, limit):
    """No Content-Length to judge by: the bytes are counted as they arrive. The chunks go out from a thread
    while the answer is read; the server may hang up once it has answered, which the sender tolerates."""
    import threading
    sock = socket.create_connection(("127.0.0.1", world["app"].port), timeout=30)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Transfer-Encoding: chunked\r\n\r\n".encode())
    chunk = b"[" * 16384

    def send():
        try:
            for _ in range(limit * 4 // len(chunk) + 8):
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            sock.sendall(b"0\r\n\r\n")
        except OSError:  # the server answered and closed: what it said is the assertion
            pass

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    reply = b""
    try:
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            data = sock.recv(65536)
            if not data:
                break
            reply += data
    finally:
        sender.join(30)
        sock.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), head
    error = json.loads(body)["error"]
    assert error["code"] == "too_large" and error["details"] == {"field": "body", "rule": "max_bytes",
                                                                  "max_bytes": limit}


CONSOLE_TEXTS = ["a%00b", "%E2%80%AEabc", "a%E2%80%8Bb", "%ED%A0%80", "%FF%FE", "9" * 40]


def test_console_forms_refuse_hostile_text_in_every_field_without_a_server_error(world, log_watch):
    """The staff console's forms (item editor, review comment, synonyms, sign-in): NUL, U+202E, U+200B, lone
    surrogates, bytes that are not UTF-8 and overlong numbers; never a 5xx, and nothing reaches the item."""
    from test_authz_matrix import _console_request, page

    work, seeded = world["impl"], world["seed"]
    before = world["a"].get(f"/api/v1/items/{work}").json
    forms = [("editor_own", f"/console/items/{work}", ("location", "hours", "phone", "aliases", "promised_limit.value",
                                                       "visits", "change_message"), "op=save&"),
             ("editor_own", f"/console/items/{work}/validate", ("location", "name"), ""),
             ("reviewer_own", f"/console/review/{work}/reject", ("comment",), ""),
             ("province_admin", "/console/synonyms", ("term", "expansions"), ""),
             ("anonymous", "/console/login", ("username", "password"), "")]
    for role, path, fields, extra in forms:
        for value in CONSOLE_TEXTS:
            body = (extra + "&".join(f"{name}={value}" for name in fields)).encode()
            status, text = _console_request(seeded, "POST", path, page({}, raw=body), _token(seeded, role))
            assert status < 500, (path, value, status, text[:300])
    assert world["a"].get(f"/api/v1/items/{work}").json == before
    assert log_watch.bad == []
