"""The served OpenAPI description is complete: every operation names the parameters, headers and body its
handler reads, with typed schemas, and no handler reads anything it does not declare (checked in the source,
so a branch no request reaches is held to the declaration too)."""
from __future__ import annotations

import pytest
import tornado.web

from declared_reads import BODY, reads_of

from server import openapi, operations

BODY_METHODS = ("post", "put", "patch")
UPLOADS = {("post", "/api/v1/hall/uploads"), ("post", "/api/v1/catalogue/imports"),
           ("post", "/api/v1/directory/imports")}


def _operations(app):
    """(method, OpenAPI path, handler class) of every described operation, from the app's own routes."""
    for rule in app.wildcard_router.rules:
        handler = rule.target
        if not (isinstance(handler, type) and issubclass(handler, tornado.web.RequestHandler)):
            continue
        pattern = rule.matcher.regex.pattern
        if not (pattern.startswith("/api/") or pattern.startswith(openapi.WECHAT_CALLBACK)):
            continue
        for path, _ in openapi._paths_of(pattern):
            if path.startswith("/api/v1/catalogue/items/{"):
                path = path.replace("{impl_code}", "{basic_code}")
            for method in openapi.METHODS:
                fn = getattr(handler, method, None)
                if fn is not None and fn is not getattr(tornado.web.RequestHandler, method):
                    yield method, path, handler


@pytest.fixture
def spec(running_app):
    return running_app.api().get("/api/v1/openapi.json", token=None).json


def _typed(schema: dict) -> bool:
    return isinstance(schema, dict) and (schema.get("type") in ("object", "array", "string", "integer", "number",
                                                                "boolean") or "$ref" in schema)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_parameter_header_and_body_a_handler_reads_is_declared_and_described(running_app, spec):
    checked = 0
    for method, path, handler in _operations(running_app.app):
        where = f"{method.upper()} {path} ({handler.__name__})"
        op = spec["paths"][path][method]
        described = {(p["in"], p["name"].lower()) for p in op["parameters"]}
        for p in op["parameters"]:
            assert _typed(p["schema"]), (where, p)
        declared = operations.declared(getattr(handler, method))
        reads = reads_of(handler, method)
        undeclared = {(w, n) for w, n in reads - {BODY}
                      if declared.param(n, w) is None}
        assert not undeclared, f"{where} reads {sorted(undeclared)} without declaring them"
        assert {(w, n.lower()) for w, n in reads - {BODY}} <= described, where
        if BODY in reads:
            assert method in BODY_METHODS and "requestBody" in op, f"{where} reads a body it does not describe"
        if "requestBody" in op:
            content = op["requestBody"]["content"]
            assert content and all(_typed(media["schema"]) for media in content.values()), (where, content)
        checked += 1
    assert checked > 50  # the walk found the API


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_headers_and_bodies_are_described_where_the_contract_uses_them(spec):
    def params(method, path, where="header"):
        return {p["name"] for p in spec["paths"][path][method]["parameters"] if p["in"] == where}

    for method, path in (("patch", "/api/v1/items/{impl_code}"), ("put", "/api/v1/items/{impl_code}"),
                         ("post", "/api/v1/items/{impl_code}/restore"), ("post", "/api/v1/items/{impl_code}/rebase")):
        assert "If-Match" in params(method, path), (method, path)
    assert "Idempotency-Key" in params("post", "/api/v1/hall/applications")
    patch = spec["paths"]["/api/v1/items/{impl_code}"]["patch"]["requestBody"]["content"]
    assert set(patch) == {"application/json-patch+json"}
    assert patch["application/json-patch+json"]["schema"]["type"] == "array"
    assert set(patch["application/json-patch+json"]["schema"]["items"]["required"]) == {"op", "path"}
    for method, path in UPLOADS:
        form = spec["paths"][path][method]["requestBody"]["content"]["multipart/form-data"]["schema"]
        assert form["properties"]["file"] == {"type": "string", "format": "binary"}, path
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for p in op["parameters"]:
                if p["in"] == "query" and p["schema"]["type"] == "integer":
                    assert p["schema"]["minimum"] >= 0 and p["schema"]["maximum"] < 2 ** 63, (method, path, p)


def test_the_source_scan_sees_reads_through_helpers_aliases_and_loops():
    """The scan itself: a read through a helper, a local alias and a loop over a tuple of names, and a header
    taken straight from the request, all count."""
    from server.base import BaseHandler
    from server.operations import operation, query

    class Sample(BaseHandler):
        def when(self, name):
            return self.get_query_argument(name, None)

        @operation(query("a"))
        async def get(self):
            arg = self.get_query_argument
            names = ("b", "c")
            return (arg("a"), {n: self.arg(n) for n in names}, self.when("d"), self.page_args(),
                    self.request.headers.get("X-Trace"), self.request.headers.get("Content-Type"))

        @operation()
        async def post(self):
            return self.json_object()

    assert reads_of(Sample, "get") == {("query", n) for n in "abcd"} | {("query", "page"), ("query", "size"),
                                                                        ("header", "X-Trace")}
    assert reads_of(Sample, "post") == {BODY}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_operation_describes_its_success_answers_and_errors_share_the_closed_envelope(running_app, spec):
    from server import responses
    described = set()
    for method, path, handler in _operations(running_app.app):
        answers = spec["paths"][path][method]["responses"]
        success = {status: answer for status, answer in answers.items() if status.startswith("2")}
        assert success, (method, path)
        for status, answer in success.items():
            for ctype, media in answer.get("content", {}).items():
                # a JSON answer names its fields, not just "an object" (a file download is a string)
                assert _typed(media["schema"]), (method, path, status, ctype)
        assert answers["422"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
        described.add(f"{handler.__name__}.{method}")
    assert not set(responses.SUCCESS) - described, "server/responses.py describes operations that do not exist"
    assert spec["components"]["schemas"]["Error"]["additionalProperties"] is False
