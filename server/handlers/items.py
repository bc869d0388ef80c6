"""Local items: claim, list and read (editing and the workflow live in workflow.py)."""
from __future__ import annotations

from server.base import BaseHandler


class ItemListHandler(BaseHandler):
    async def post(self) -> None:
        actor = await self.authenticate("editor", "province_admin")
        body = self.json_object(required=("basic_code", "org_credit_code", "level"))
        result = await self.run(self.ctx.items.claim, str(body["basic_code"]), str(body["org_credit_code"]),
                                str(body["level"]), body.get("region_code"), actor, self.remote_ip)
        self.set_header("Location", f"/api/v1/items/{result['impl_code']}")
        self.send(result, 201)

    async def get(self) -> None:
        actor = await self.authenticate()
        page, size = self.page_args()
        result = await self.run(self.ctx.items.list, actor, org=self.get_query_argument("org", None),
                                region=self.get_query_argument("region", None),
                                status=self.get_query_argument("status", None),
                                basic_code=self.get_query_argument("basic_code", None),
                                outdated=self.get_query_argument("outdated", "0") in ("1", "true"),
                                page=page, size=size)
        self.send(result)


class ItemHandler(BaseHandler):
    async def get(self, impl_code: str) -> None:
        actor = await self.authenticate()
        result = await self.run(self.ctx.items.get, impl_code, actor, self.int_arg("version"))
        self.set_header("ETag", f'"{result["version"]}"')
        self.send(result)


class ItemVersionsHandler(BaseHandler):
    async def get(self, impl_code: str) -> None:
        actor = await self.authenticate()
        self.send(await self.run(self.ctx.items.versions, impl_code, actor))


class ItemDiffHandler(BaseHandler):
    async def get(self, impl_code: str) -> None:
        actor = await self.authenticate()
        from_v, to_v = self.int_arg("from"), self.int_arg("to")
        self.send(await self.run(self.ctx.items.diff, impl_code, actor, from_v, to_v))


routes = [
    (r"/api/v1/items", ItemListHandler),
    (r"/api/v1/items/([^/]+)", ItemHandler),
    (r"/api/v1/items/([^/]+)/versions", ItemVersionsHandler),
    (r"/api/v1/items/([^/]+)/diff", ItemDiffHandler),
]
