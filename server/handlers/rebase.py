"""Conformance and rebase over HTTP: one item against its catalogue item, and every item of one catalogue item."""
from __future__ import annotations

from items.errors import Malformed, invalid
from items.rebase import RebaseService
from server.base import BaseHandler
from server import limits
from server.operations import IF_MATCH, Body, obj, operation, query, text

REBASE = obj({"to_version": {"type": "integer", "minimum": 1, "maximum": limits.MAX_NUMBER},
              "resolutions": {"type": "object", "maxProperties": 500,
                              "description": 'path → "local", "catalogue" or a value'}})
REBASE_ALL = obj({"to_version": {"type": "integer", "minimum": 1, "maximum": limits.MAX_NUMBER},
                  "region": text(12), "org": text(18)})
SCOPE = (query("region", max_length=12), query("org", max_length=18))
from server.handlers.items import parse_if_match


class RebaseHandler(BaseHandler):
    """Handlers of this module share the app's one rebase service."""

    @property
    def service(self) -> RebaseService:
        return self.ctx.rebase

    def optional_object(self) -> dict:
        """The JSON object body, or {} when the body is empty."""
        if not self.request.body or not self.request.body.strip():
            return {}
        return self.json_object()

    def scope_args(self) -> dict:
        return {"region": self.get_query_argument("region", None) or None,
                "org": self.get_query_argument("org", None) or None}


def _to_version(value) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid("to_version must be a positive whole number", "to_version", "integer_min_1",
                      code="bad_parameter", kind=Malformed, value=value)
    return value


class ItemConformanceHandler(RebaseHandler):
    @operation()
    async def get(self, impl_code: str) -> None:
        """The item against its catalogue item: four-same fields, outdated, patch, findings."""
        actor = await self.authenticate()
        self.send(await self.run(self.service.conformance, impl_code, actor))


class ItemRebaseHandler(RebaseHandler):
    @operation(IF_MATCH, body=Body(REBASE, max_bytes=limits.DOCUMENT_BODY, required=False))
    async def post(self, impl_code: str) -> None:
        """Carry catalogue changes onto the item `{to_version?, resolutions?}` (If-Match optional).

        Answers {status: clean | conflicts | up_to_date, document, conflicts}; with conflicts nothing
        is saved until `resolutions` (path → "local" | "catalogue" | value) settle every one."""
        actor = await self.authenticate("editor", "province_admin")
        body = self.optional_object()
        if_match = parse_if_match(self.header("If-Match"))
        result = await self.run(self.service.rebase, impl_code, actor, _to_version(body.get("to_version")),
                                body.get("resolutions"), if_match, self.remote_ip)
        self.set_header("ETag", f'"{result["version"]}"')
        self.send(result)


class CatalogueImpactHandler(RebaseHandler):
    @operation(query("to_version", "integer", minimum=1), *SCOPE)
    async def get(self, basic_code: str) -> None:
        """Preview a rebase of every older local item onto `?to_version=` (default latest); writes nothing.

        Filters `?region=&org=`; answers counts of clean, conflicting and invalid items and the
        conflicting paths with how many items conflict on each."""
        actor = await self.authenticate()
        self.send(await self.run(self.service.impact, basic_code, actor, self.int_arg("to_version"),
                                 **self.scope_args()))


class CatalogueRebaseAllHandler(RebaseHandler):
    @operation(query("to_version", "integer", minimum=1), *SCOPE, body=Body(REBASE_ALL, required=False))
    async def post(self, basic_code: str) -> None:
        """Rebase every older local item `{to_version?, region?, org?}`: clean ones become drafts;
        the rest are listed with their conflicting paths or broken rules."""
        actor = await self.authenticate("editor", "province_admin")
        body = self.optional_object()
        scope = self.scope_args()
        for key in scope:
            if body.get(key) is not None and not isinstance(body[key], str):
                raise invalid(f"{key} must be a string", f"/{key}", "string")
            scope[key] = body.get(key) or scope[key]
        to_version = _to_version(body["to_version"]) if "to_version" in body else self.int_arg("to_version")
        self.send(await self.run(self.service.rebase_all, basic_code, actor, to_version,
                                 remote_ip=self.remote_ip, **scope))


routes = [
    (r"/api/v1/items/([^/]+)/conformance", ItemConformanceHandler),
    (r"/api/v1/items/([^/]+)/rebase", ItemRebaseHandler),
    (r"/api/v1/catalogue/items/([^/]+)/impact", CatalogueImpactHandler),
    (r"/api/v1/catalogue/items/([^/]+)/rebase-all", CatalogueRebaseAllHandler),
]
