"""The OpenAPI 3 description, built from the routes themselves so it grows with the API."""
from __future__ import annotations

import re

import tornado.web

from server import examples, limits, operations, responses
from server.operations import Body, Operation

METHODS = ("get", "post", "put", "patch", "delete")
API_VERSION = "1.0"
# Served outside /api/v1 because WeChat's console is given this exact URL (消息推送 server address).
WECHAT_CALLBACK = "/wechat/callback"
# a path parameter is named after the segment before it (…/items/{impl_code})
PARAM_NAMES = {"items": "impl_code", "applications": "case_no", "cases": "case_no", "versions": "version",
               "rectifications": "rectification_id", "synonyms": "term",
               "regions": "code", "departments": "credit_code", "users": "username", "holidays": "year"}
CATALOGUE_PARAM = "basic_code"
# Handlers that need no bearer token: sign-in, public information and WeChat's own callback.
PUBLIC_HANDLERS = {"ApiIndexHandler", "LoginHandler", "HealthHandler", "OpenApiHandler", "HallLoginHandler",
                   "HallSearchHandler", "HallGuideHandler", "WeChatCallbackHandler", "CatalogueTemplateHandler",
                   "DirectoryTemplateHandler"}
# The one error body (CONTRACT.md §3), closed: an answer carrying anything else beside it breaks its schema.
ERROR_SCHEMA = {
    "type": "object", "required": ["error"], "additionalProperties": False,
    "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"], "additionalProperties": False,
        "properties": {"code": {"type": "string", "description": "stable snake_case code"},
                       "message": {"type": "string"},
                       "details": {"type": "object", "description": "which field and which rule"}}}},
}
ERROR_STATUSES = {"400": "malformed request", "401": "not signed in", "403": "not allowed",
                  "404": "not found", "409": "state conflict", "412": "stale If-Match",
                  "413": "too large", "415": "wrong content type", "422": "rule or validation failure",
                  "428": "If-Match missing", "429": "rate-limited", "503": "a dependency is down"}


def _group_end(path: str, start: int) -> int:
    depth = 0
    for end in range(start, len(path)):
        depth += {"(": 1, ")": -1}.get(path[end], 0)
        if depth == 0:
            return end
    raise ValueError(f"unbalanced route {path!r}")


def _paths_of(pattern: str) -> list[tuple[str, list[str]]]:
    """Turn a Tornado route regex into OpenAPI paths: a group of literal alternatives (submit|approve)
    becomes one path per alternative; any other group becomes a named path parameter."""
    path = pattern.rstrip("$").replace("\\.", ".")
    start = path.find("(")
    if start < 0:
        return [(path, [])]
    end = _group_end(path, start)
    group = path[start + 1:end]
    if re.fullmatch(r"[a-z_-]+(\|[a-z_-]+)*", group):
        return [out for alternative in group.split("|")
                for out in _paths_of(path[:start] + alternative + path[end + 1:])]
    segments = [seg for seg in path[:start].split("/") if seg and not seg.startswith("{")]
    name = PARAM_NAMES.get(segments[-1] if segments else "", "id")
    rest = _paths_of(path[end + 1:]) if "(" in path[end + 1:] else [(path[end + 1:], [])]
    return [(path[:start] + "{" + name + "}" + tail, [name] + params) for tail, params in rest]


def _request_body(body: Body, example: object | None = None) -> dict:
    """The body's description; `example` (server/examples.py) goes on its JSON media types."""
    limit = body.max_bytes if isinstance(body.max_bytes, int) else f"the {body.max_bytes} setting"
    description = " ".join(filter(None, [body.description, f"At most {limit} bytes (413 beyond)."]))
    content = {}
    for ctype in body.content_types:
        content[ctype] = {"schema": body.schema}
        if example is not None and "json" in ctype:
            content[ctype]["example"] = example
    return {"required": body.required, "description": description, "content": content}


def _content(spec: dict | tuple) -> dict:
    """The content of one answer: a dict is the application/json schema; a tuple lists content types, any
    dict in it being the application/json schema (JSON or a file: format=json|csv|xlsx)."""
    if isinstance(spec, dict):
        return {"application/json": {"schema": spec}}
    content = {}
    for one in spec:
        if isinstance(one, dict):
            content["application/json"] = {"schema": one}
        else:   # a JSON answer listed by type only is an open object; any other type a string of bytes
            content[one] = {"schema": {"type": "object"} if one == "application/json" else {"type": "string"}}
    return content


def _responses(op: Operation, handler: str, method: str) -> dict:
    """The declared answers: `responses` maps a status to its content types (a tuple) or to the JSON Schema
    of its application/json body (a dict), from the operation or else from server/responses.py; in a tuple, a
    dict is the JSON Schema of application/json beside the other content types. Errors share one schema
    unless the operation declares that status itself. Raises TypeError for an operation whose success is
    described nowhere."""
    declared = op.responses or responses.success(handler, method)
    if not declared:
        raise TypeError(f"{handler}.{method} describes no success response (server/responses.py)")
    out = {}
    for status, spec in declared.items():
        if status == "304":
            out[status] = {"description": "not modified: the copy the client holds is current"}
            continue
        out[status] = {"description": "created" if status == "201" else "success", "content": _content(spec)}
    errors = {code: {"description": text, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"}}}} for code, text in ERROR_STATUSES.items()}
    return {**errors, **out}


def _describe(entry: dict, handler, path: str, params: list[str]) -> None:
    for method in METHODS:
        fn = getattr(handler, method, None)
        if fn is None or fn is getattr(tornado.web.RequestHandler, method, None):
            continue
        declared_op = operations.declared(fn)
        if declared_op is None:
            raise TypeError(f"{handler.__name__}.{method} declares no operation (server/operations.py)")
        doc = (fn.__doc__ or handler.__doc__ or "").strip()
        op = {"operationId": method + re.sub(r"[^A-Za-z0-9]+", "_", path.replace("/api/v1", "")).rstrip("_"),
              "summary": doc.split("\n")[0] if doc else path,
              "parameters": [{"name": p, "in": "path", "required": True,
                              "schema": {"type": "string", "minLength": 1, "maxLength": limits.MAX_PATH_SEGMENT}}
                             for p in params] + [
                  {"name": p.name, "in": p.where, "required": p.required, "schema": p.schema(),
                   **({"description": p.description} if p.description else {})} for p in declared_op.params],
              "responses": _responses(declared_op, handler.__name__, method)}
        if "\n" in doc:
            op["description"] = doc
        if declared_op.body is not None:
            op["requestBody"] = _request_body(declared_op.body, examples.body(handler.__name__, method))
        if handler.__name__ not in PUBLIC_HANDLERS:
            op["security"] = [{"bearer": []}]
        entry[method] = op


def document(app: tornado.web.Application) -> dict:
    paths: dict[str, dict] = {}
    for rule in app.wildcard_router.rules:
        handler = rule.target
        pattern = getattr(rule.matcher, "_path", None) or rule.matcher.regex.pattern
        if not isinstance(handler, type) or not issubclass(handler, tornado.web.RequestHandler):
            continue
        if not (pattern.startswith("/api/") or pattern.startswith(WECHAT_CALLBACK)):
            continue
        for path, params in _paths_of(rule.matcher.regex.pattern):
            if path.startswith("/api/v1/catalogue/items/{"):
                path = path.replace("{impl_code}", "{basic_code}")
                params = [CATALOGUE_PARAM if p == "impl_code" else p for p in params]
            _describe(paths.setdefault(path, {}), handler, path, params)
    return {
        "openapi": "3.0.3",
        "info": {"title": "govhall", "version": API_VERSION,
                 "description": "Government service items kept four-same from the province catalogue to "
                                "county departments, and the WeChat branch hall that serves them to citizens."},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {"Error": ERROR_SCHEMA},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
