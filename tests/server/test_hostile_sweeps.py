"""Hostile input driven by the OpenAPI description: every query and path parameter, every body and each of
its text fields, long headers, wrong content types, and the console's forms; 4xx with the error envelope,
never a 5xx, never a traceback or ERROR line in the log, nothing stored."""
from __future__ import annotations

import json

import pytest

from hostile import HUGE_INT, PATCH_TYPE, assert_error, log_watch, raw, world  # noqa: F401 - fixtures
from test_authz_matrix import _console_request, _token, page

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


CONSOLE_TEXTS = ["a%00b", "%E2%80%AEabc", "a%E2%80%8Bb", "%ED%A0%80", "%FF%FE", "9" * 40]
TEXT_ONLY = CONSOLE_TEXTS[:-1]  # what no text field may take (an overlong number is bad only as a number)


def test_console_forms_refuse_hostile_text_in_every_field_without_a_server_error(world, log_watch):
    """The staff console's forms (item editor, review comment, synonyms, sign-in): NUL, U+202E, U+200B, lone
    surrogates, bytes that are not UTF-8 and overlong numbers; never a 5xx, and nothing reaches the item."""
    work, seeded = world["impl"], world["seed"]
    before = world["a"].get(f"/api/v1/items/{work}").json
    forms = [("editor_own", f"/console/items/{work}", ("location", "hours", "phone", "aliases", "promised_limit.value",
                                                       "visits", "change_message"), "op=save&"),
             ("editor_own", f"/console/items/{work}/validate", ("location", "name"), ""),
             # a 40-digit comment is fair text: a reject carrying it would rightly change a submitted item
             ("reviewer_own", f"/console/review/{work}/reject", ("comment",), "", TEXT_ONLY),
             ("province_admin", "/console/synonyms", ("term", "expansions"), ""),
             ("anonymous", "/console/login", ("username", "password"), "")]
    for role, path, fields, extra, *values in forms:
        for value in (values[0] if values else CONSOLE_TEXTS):
            body = (extra + "&".join(f"{name}={value}" for name in fields)).encode()
            status, text = _console_request(seeded, "POST", path, page({}, raw=body), _token(seeded, role))
            assert status < 500, (path, value, status, text[:300])
    assert world["a"].get(f"/api/v1/items/{work}").json == before
    assert log_watch.bad == []
