"""Hostile input at every kind of endpoint, signed in and not: always a 4xx with the error envelope, never a
5xx, never a traceback in the log; bodies beyond a route's limit are refused with 413, streamed or not."""
from __future__ import annotations

import http.client
import json
import socket
import threading

import pytest

from hostile import HUGE_INT, PATCH_TYPE, assert_error, log_watch, raw, world  # noqa: F401 - fixtures

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


@pytest.mark.parametrize("path,limit", [("/api/v1/auth/login", 4096), ("/api/v1/hall/applications", 65536)])
def test_a_chunked_body_beyond_the_route_limit_is_413_with_the_error_body(world, path, limit):
    """No Content-Length to judge by: the bytes are counted as they arrive. The chunks go out from a thread
    while the answer is read; the server may hang up once it has answered, which the sender tolerates."""
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
    assert error["code"] == "too_large" and error["details"] == {
        "errors": [{"path": "", "rule": "max_bytes", "message": f"at most {limit} bytes"}], "max_bytes": limit}
