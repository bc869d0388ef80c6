"""Local items over HTTP: claim (one or many), coverage, read, edit with If-Match, history and restore."""
from __future__ import annotations

import re

from items.errors import Invalid, Malformed, invalid
from server.base import BaseHandler
from server import limits, schemas
from server.operations import (CHANGE_MESSAGE, IF_MATCH_REQUIRED, Body, obj, operation, page_params, query,
                               text)

VERSION = query("version", "integer", minimum=1, description="a past version; the latest when absent")
CLAIM = obj({"basic_code": text(12), "org_credit_code": text(18), "level": text(1), "region_code": text(12)},
            ("basic_code", "org_credit_code", "level"))
BULK_CLAIM = obj({"basic_codes": {"type": "array", "maxItems": 1000, "items": text(12)},
                  "org_credit_code": text(18), "level": text(1), "region_code": text(12)},
                 ("basic_codes", "org_credit_code", "level"))

JSON_PATCH = "application/json-patch+json"
NO_VERSION = 0  # versions start at 1
_ETAG = re.compile(r'^(?:W/)?"?(\d+)"?$')


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names (`"3"`, `W/"3"` or `3`), None when absent.

    Any other validator (`*`, `"abc"`, a version beyond any stored) names no current version, so it
    gives 0, which never matches: the service answers 412 with the current version (RFC 9110 §13.1.1),
    and `*` never defeats the lost-update check."""
    if header is None or not header.strip():
        return None
    match = _ETAG.match(header.strip())
    if not match or len(match.group(1)) > 9:
        return NO_VERSION
    return int(match.group(1))


class EditingHandler(BaseHandler):
    """Writes that carry If-Match answer with the new version as ETag."""

    def if_match(self) -> int | None:
        return parse_if_match(self.header("If-Match"))

    def send_version(self, result: dict, status: int = 200) -> None:
        self.set_header("ETag", f'"{result["version"]}"')
        self.send(result, status)


class ItemListHandler(BaseHandler):
    @operation(body=Body(CLAIM))
    async def post(self) -> None:
        """Claim a catalogue item for a department `{basic_code, org_credit_code, level, region_code}` → 201 {impl_code}."""
        actor = await self.authenticate("editor", "province_admin")
        body = self.json_object(required=("basic_code", "org_credit_code", "level"))
        result = await self.run(self.ctx.items.claim, str(body["basic_code"]), str(body["org_credit_code"]),
                                str(body["level"]), body.get("region_code"), actor, self.remote_ip)
        self.set_header("Location", f"/api/v1/items/{result['impl_code']}")
        self.send(result, 201)

    @operation(query("org", max_length=18), query("region", max_length=12), query("status", max_length=20),
               query("basic_code", max_length=12), query("outdated", "boolean"), *page_params())
    async def get(self) -> None:
        """Local items the caller may see `?org=&region=&status=&basic_code=&outdated=1&page=&size=`."""
        actor = await self.authenticate()
        page, size = self.page_args()
        result = await self.run(self.ctx.items.list, actor, org=self.get_query_argument("org", None),
                                region=self.get_query_argument("region", None),
                                status=self.get_query_argument("status", None),
                                basic_code=self.get_query_argument("basic_code", None),
                                outdated=bool(self.arg("outdated")),
                                page=page, size=size)
        self.send(result)


class BulkClaimHandler(BaseHandler):
    """Per item, not all-or-nothing: each code is claimed in its own transaction and reported."""

    @operation(body=Body(BULK_CLAIM, max_bytes=limits.FORM_BODY))
    async def post(self) -> None:
        actor = await self.authenticate("editor", "province_admin")
        body = self.json_object(required=("basic_codes", "org_credit_code", "level"))
        result = await self.run(self.ctx.items.bulk_claim, body["basic_codes"], str(body["org_credit_code"]),
                                str(body["level"]), body.get("region_code"), actor, self.remote_ip)
        self.send(result)


class CoverageHandler(BaseHandler):
    @operation(query("region", max_length=12), query("level", max_length=1))
    async def get(self) -> None:
        """Claim coverage `?region=&level=`: catalogue items that apply there and are not claimed, and the 认领率."""
        actor = await self.authenticate()
        region = self.get_query_argument("region", None) or actor.region or ""
        level = self.get_query_argument("level", "")
        try:
            result = await self.run(self.ctx.items.coverage, region, level, actor)
        except Invalid as exc:
            # The service checks the region and level it is given: here they are query parameters (400).
            raise Malformed(exc.message, code=exc.code, details=exc.details) from None
        self.send(result)


class ItemHandler(EditingHandler):
    @operation(VERSION, responses={"200": schemas.LOCAL_ITEM})
    async def get(self, impl_code: str) -> None:
        """The item `{impl_code, version, status, based_on_catalogue_version, document}` (or `?version=N`), with ETag."""
        actor = await self.authenticate()
        result = await self.run(self.ctx.items.get, impl_code, actor, self.int_arg("version"))
        self.set_header("ETag", f'"{result["version"]}"')
        self.send(result)

    @operation(IF_MATCH_REQUIRED, CHANGE_MESSAGE, body=Body(schemas.JSON_PATCH, (JSON_PATCH,), limits.DOCUMENT_BODY))
    async def patch(self, impl_code: str) -> None:
        """Apply an RFC 6902 patch (application/json-patch+json, If-Match required) → the new draft version."""
        actor = await self.authenticate("editor", "province_admin")
        ops = self.json_body(content_types=(JSON_PATCH,))
        result = await self.run(self.ctx.items.revise, impl_code, ops, self.if_match(), actor, self.remote_ip,
                                self.header("X-Change-Message") or "")
        self.send_version(result)

    @operation(IF_MATCH_REQUIRED, CHANGE_MESSAGE, body=Body(schemas.item_document(), max_bytes=limits.DOCUMENT_BODY))
    async def put(self, impl_code: str) -> None:
        """Replace the whole document (If-Match required) → the new draft version."""
        actor = await self.authenticate("editor", "province_admin")
        document = self.json_body()
        result = await self.run(self.ctx.items.replace, impl_code, document, self.if_match(), actor,
                                self.remote_ip, self.header("X-Change-Message") or "")
        self.send_version(result)


class ItemRestoreHandler(EditingHandler):
    @operation(IF_MATCH_REQUIRED, body=Body(obj({"version": {"type": "integer", "minimum": 1, "maximum": limits.MAX_NUMBER}}, ("version",))))
    async def post(self, impl_code: str) -> None:
        """Restore `{version}` as a new draft (If-Match required)."""
        actor = await self.authenticate("editor", "province_admin")
        body = self.json_object(required=("version",))
        version = body["version"]
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise invalid("version must be a whole number ≥ 1", "/version", "integer_min_1",
                          code="bad_parameter", kind=Malformed)
        result = await self.run(self.ctx.items.restore, impl_code, version, self.if_match(), actor, self.remote_ip)
        self.send_version(result)


class ItemVersionsHandler(BaseHandler):
    @operation()
    async def get(self, impl_code: str) -> None:
        """History: every version with author, time, message, patch and a readable change summary."""
        actor = await self.authenticate()
        self.send(await self.run(self.ctx.items.versions, impl_code, actor))


class ItemVersionSummaryHandler(BaseHandler):
    @operation()
    async def get(self, impl_code: str, version: str) -> None:
        """The readable change summary of one version (which element changed, old → new)."""
        actor = await self.authenticate()
        self.send(await self.run(self.ctx.items.version_summary, impl_code, int(version), actor))


class ItemDiffHandler(BaseHandler):
    @operation(query("from", "integer", minimum=1), query("to", "integer", minimum=1))
    async def get(self, impl_code: str) -> None:
        """The RFC 6902 patch between two versions `?from=N&to=M`."""
        actor = await self.authenticate()
        from_v, to_v = self.int_arg("from"), self.int_arg("to")
        self.send(await self.run(self.ctx.items.diff, impl_code, actor, from_v, to_v))


# The fixed paths come before /items/{impl_code}, which would otherwise take them.
routes = [
    (r"/api/v1/items", ItemListHandler),
    (r"/api/v1/items/bulk-claim", BulkClaimHandler),
    (r"/api/v1/items/coverage", CoverageHandler),
    (r"/api/v1/items/([^/]+)", ItemHandler),
    (r"/api/v1/items/([^/]+)/restore", ItemRestoreHandler),
    (r"/api/v1/items/([^/]+)/versions", ItemVersionsHandler),
    (r"/api/v1/items/([^/]+)/versions/([0-9]{1,9})/summary", ItemVersionSummaryHandler),
    (r"/api/v1/items/([^/]+)/diff", ItemDiffHandler),
]
