"""The OpenAPI 3 description, built from the routes themselves so it grows with the API."""
from __future__ import annotations

import re

import tornado.web

METHODS = ("get", "post", "put", "patch", "delete")
PARAM_NAMES = {
    "catalogue/items": "basic_code", "items": "impl_code", "hall/items": "impl_code",
    "hall/applications": "case_no", "cases": "case_no", "catalogue/template": "format",
}
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "details"], "properties": {
        "code": {"type": "string", "description": "stable snake_case code"},
        "message": {"type": "string"},
        "details": {"type": "object", "description": "which field and which rule"}}}},
}
ERROR_STATUSES = {"400": "malformed request", "401": "not signed in", "403": "not allowed",
                  "404": "not found", "409": "state conflict", "412": "stale If-Match",
                  "413": "too large", "415": "wrong content type", "422": "rule or validation failure",
                  "428": "If-Match missing", "429": "rate-limited", "503": "a dependency is down"}


def _path_of(pattern: str) -> tuple[str, list[str]]:
    """Turn a Tornado route regex into an OpenAPI path with named parameters."""
    path = pattern.rstrip("$").replace("\\.", ".")
    params = []
    while "(" in path:
        start = path.index("(")
        depth, end = 0, start
        for end in range(start, len(path)):
            depth += {"(": 1, ")": -1}.get(path[end], 0)
            if depth == 0:
                break
        prefix = path[:start].replace("/api/v1/", "").strip("/")
        prefix = re.sub(r"\{[^}]+\}/?", "", prefix).strip("/")
        name = PARAM_NAMES.get(prefix, "id")
        if name in params:
            name = f"{name}{len(params)}"
        params.append(name)
        path = path[:start] + "{" + name + "}" + path[end + 1:]
    return path, params


def document(app: tornado.web.Application) -> dict:
    paths: dict[str, dict] = {}
    for rule in app.wildcard_router.rules:
        handler = rule.target
        pattern = getattr(rule.matcher, "_path", None) or rule.matcher.regex.pattern
        if not isinstance(handler, type) or not issubclass(handler, tornado.web.RequestHandler):
            continue
        if not pattern.startswith("/api/"):
            continue
        path, params = _path_of(rule.matcher.regex.pattern)
        entry = paths.setdefault(path, {})
        for method in METHODS:
            fn = getattr(handler, method, None)
            if fn is None or fn is getattr(tornado.web.RequestHandler, method, None):
                continue
            doc = (fn.__doc__ or handler.__doc__ or "").strip()
            op = {"operationId": f"{handler.__name__}.{method}", "summary": doc.split("\n")[0] if doc else path,
                  "parameters": [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                                 for p in params],
                  "responses": {"200": {"description": "success", "content": {"application/json": {
                      "schema": {"type": "object"}}}},
                      **{code: {"description": text, "content": {"application/json": {
                          "schema": {"$ref": "#/components/schemas/Error"}}}}
                         for code, text in ERROR_STATUSES.items()}}}
            if "\n" in doc:
                op["description"] = doc
            if method in ("post", "put", "patch"):
                ctype = "application/json-patch+json" if method == "patch" else "application/json"
                op["requestBody"] = {"content": {ctype: {"schema": {"type": "object" if method != "patch" else "array"}}}}
            if handler.__name__ not in ("LoginHandler", "HealthHandler", "OpenApiHandler", "HallLoginHandler",
                                        "WeChatCallbackHandler", "CatalogueTemplateHandler"):
                op["security"] = [{"bearer": []}]
            entry[method] = op
    return {
        "openapi": "3.0.3",
        "info": {"title": "govhall", "version": "1.0",
                 "description": "Government service items kept four-same from the province catalogue to "
                                "county departments, and the WeChat branch hall that serves them to citizens."},
        "servers": [{"url": "/"}],
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": {"Error": ERROR_SCHEMA},
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }
