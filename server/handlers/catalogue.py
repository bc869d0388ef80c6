"""Catalogue admins: revise and import the province catalogue; everyone signed in reads it."""
from __future__ import annotations

from items import importer
from items.errors import Malformed, error_details, rule_error
from server.base import TEMPLATE_TYPES, BaseHandler
from server import limits, schemas
from server.operations import Body, obj, operation, page_params, query

IMPORT_TYPES_ACCEPTED = ("multipart/form-data", "application/json", "text/csv",
                         "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

IMPORT_TYPES = {".json": "json", ".csv": "csv", ".xlsx": "xlsx"}


class CatalogueListHandler(BaseHandler):
    @operation(query("q", max_length=100), query("item_type", max_length=2), query("state", max_length=20),
               query("level", max_length=1), *page_params())
    async def get(self) -> None:
        """Catalogue items `?q=&item_type=&state=&level=&page=&size=` → {items, total, page, size}."""
        await self.authenticate()
        page, size = self.page_args()
        result = await self.run(self.ctx.catalogue.list, self.get_query_argument("q", None),
                                self.get_query_argument("item_type", None), self.get_query_argument("state", None),
                                self.get_query_argument("level", None), page, size)
        self.send(result)


class CatalogueItemHandler(BaseHandler):
    @operation(query("version", "integer", minimum=1))
    async def get(self, basic_code: str) -> None:
        """One catalogue item, the latest version or `?version=N`, with ETag."""
        await self.authenticate()
        result = await self.run(self.ctx.catalogue.get, basic_code, self.int_arg("version"))
        self.set_header("ETag", f'"{result["version"]}"')
        self.send(result)

    @operation(query("message", max_length=500), body=Body(schemas.item_document(), max_bytes=limits.DOCUMENT_BODY,
                                                           description="the document, or {document, message}"))
    async def put(self, basic_code: str) -> None:
        """Create or revise (province_admin): a changed document makes version N+1 → {basic_code, version, patch}."""
        actor = await self.authenticate("province_admin")
        body = self.json_body()
        message = self.get_query_argument("message", "")
        if isinstance(body, dict) and "document" in body and isinstance(body["document"], dict):
            message, body = body.get("message", message), body["document"]
        result = await self.run(self.ctx.catalogue.put, basic_code, body, actor, message, self.remote_ip)
        self.send(result, 201 if result["version"] == 1 and result["changed"] else 200)


class CatalogueVersionsHandler(BaseHandler):
    @operation()
    async def get(self, basic_code: str) -> None:
        """Every version: number, author, time, message and the RFC 6902 patch from the previous one."""
        await self.authenticate()
        self.send(await self.run(self.ctx.catalogue.versions, basic_code))


class CatalogueDiffHandler(BaseHandler):
    @operation(query("from", "integer", minimum=1, required=True), query("to", "integer", minimum=1, required=True))
    async def get(self, basic_code: str) -> None:
        """The RFC 6902 patch between two versions `?from=N&to=M`."""
        await self.authenticate()
        from_v, to_v = self.int_arg("from"), self.int_arg("to")
        if from_v is None or to_v is None:
            raise Malformed("give both from and to", code="bad_parameter", details=error_details(
                *(rule_error(name, "required", f"{name} is required")
                  for name, value in (("from", from_v), ("to", to_v)) if value is None)))
        self.send(await self.run(self.ctx.catalogue.diff, basic_code, from_v, to_v))


class CatalogueImportHandler(BaseHandler):
    @operation(query("dry_run", "boolean"), query("message", max_length=500), query("filename", max_length=200),
               body=Body(obj({"file": {"type": "string", "format": "binary"}}, ("file",)), IMPORT_TYPES_ACCEPTED,
                         "import_max_bytes"))
    async def post(self) -> None:
        """Import a .json, .csv or .xlsx file (province_admin); bad rows → 422 listing each row, nothing written; `?dry_run=1`."""
        actor = await self.authenticate("province_admin")
        data, filename = self.uploaded_file(lambda given, ctype: given or _NAME_BY_TYPE.get(ctype),
                                            ".json, .csv or .xlsx")
        dry_run = bool(self.arg("dry_run"))
        report = await self.run(self.ctx.catalogue.import_file, data, filename, actor, dry_run,
                                self.get_query_argument("message", ""), self.remote_ip)
        status = 422 if report["errors"] else 200 if dry_run else 201
        if report["errors"]:
            self.send_error_body(422, "import_rows_invalid",
                                 f"{len(report['errors'])} rows are not valid; nothing was written", report)
            return
        self.send(report, status)


# A typed body without ?filename= is named by its content type (the importer reads the format from the name).
_NAME_BY_TYPE = {"application/json": "upload.json", "text/csv": "upload.csv",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "upload.xlsx"}


class CatalogueTemplateHandler(BaseHandler):
    @operation(responses={"200": ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    async def get(self, fmt: str) -> None:
        """A downloadable import template with the documented columns and one example row."""
        # off the event loop: the first XLSX of a process takes ~0.1 s to write (then it is cached)
        self.send_file(await self.compute(importer.write_template, fmt), TEMPLATE_TYPES[fmt],
                       f"catalogue-template.{fmt}")


routes = [
    (r"/api/v1/catalogue/items", CatalogueListHandler),
    (r"/api/v1/catalogue/items/([^/]+)", CatalogueItemHandler),
    (r"/api/v1/catalogue/items/([^/]+)/versions", CatalogueVersionsHandler),
    (r"/api/v1/catalogue/items/([^/]+)/diff", CatalogueDiffHandler),
    (r"/api/v1/catalogue/imports", CatalogueImportHandler),
    (r"/api/v1/catalogue/template\.(csv|xlsx)", CatalogueTemplateHandler),
]
