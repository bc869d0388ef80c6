"""The province directory over HTTP: regions and departments (read by all staff, written by province admins), imports."""
from __future__ import annotations

from items import directory_import
from items.errors import UnsupportedType, not_an_object
from server.base import TEMPLATE_TYPES, BaseHandler
from server.operations import Body, obj, operation, page_params, query, text

ADMIN = "province_admin"
FIELD_TYPES = ("application/json", "application/merge-patch+json")
# Edge maxima are generous: the directory's own rules (items/directory.py) name the field and rule.
REGION = obj({"code": text(64), "name": text(500), "parent": text(64), "level": text(16)}, maxProperties=20)
DEPARTMENT = obj({"credit_code": text(64), "name": text(500), "region_code": text(64), "level": text(16)},
                 maxProperties=20)
IMPORT_TYPES = ("multipart/form-data", "text/csv", "application/octet-stream",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


class DirectoryBodyMixin:
    def json_fields(self) -> dict:
        body = self.json_body(FIELD_TYPES)
        if not isinstance(body, dict):
            raise not_an_object()
        return body


class RegionListHandler(DirectoryBodyMixin, BaseHandler):
    @operation(query("parent", max_length=12), query("level", max_length=16), query("within", max_length=12),
               query("q", max_length=100), *page_params(max_size=1000))
    async def get(self) -> None:
        """Regions `?parent=&level=&within=&q=&page=&size=` by code → {regions, total, page, size}."""
        await self.authenticate()
        page, size = self.page_args(max_size=1000)
        arg = self.get_query_argument
        self.send(await self.run(self.ctx.directory.list_regions, arg("parent", None), arg("level", None),
                                 arg("within", None), arg("q", None), page, size))

    @operation(body=Body(REGION))
    async def post(self) -> None:
        """Register a region `{code, name, parent?, level?}` (province_admin) → 201 the region."""
        actor = await self.authenticate(ADMIN)
        body = self.json_fields()
        self.send(await self.run(self.ctx.directory.save_region, None, body, actor, self.remote_ip), 201)


class RegionHandler(DirectoryBodyMixin, BaseHandler):
    @operation()
    async def get(self, code: str) -> None:
        """One region: {code, name, parent, level, kind}."""
        await self.authenticate()
        self.send(await self.run(self.ctx.directory.get_region, code))

    @operation(body=Body(REGION, FIELD_TYPES))
    async def patch(self, code: str) -> None:
        """Change a region's `name`, `parent` or `level` (province_admin; a JSON object of the fields to change)."""
        actor = await self.authenticate(ADMIN)
        body = self.json_fields()
        self.send(await self.run(self.ctx.directory.save_region, code, body, actor, self.remote_ip))

    @operation()
    async def delete(self, code: str) -> None:
        """Delete a region nothing refers to (province_admin); 409 region_in_use with the counts otherwise."""
        actor = await self.authenticate(ADMIN)
        await self.run(self.ctx.directory.delete_region, code, actor, self.remote_ip)
        self.send({"deleted": code})


class DepartmentListHandler(DirectoryBodyMixin, BaseHandler):
    @operation(query("within", max_length=12), query("region", max_length=12), query("level", max_length=1),
               query("q", max_length=100), *page_params(max_size=1000))
    async def get(self) -> None:
        """Departments `?within=&region=&level=&q=&page=&size=` by credit code → {departments, total, page, size}."""
        await self.authenticate()
        page, size = self.page_args(max_size=1000)
        arg = self.get_query_argument
        self.send(await self.run(self.ctx.directory.list_departments, arg("within", None), arg("region", None),
                                 arg("level", None), arg("q", None), page, size))

    @operation(body=Body(DEPARTMENT))
    async def post(self) -> None:
        """Register a department `{credit_code, name, region_code, level?}` (province_admin) → 201."""
        actor = await self.authenticate(ADMIN)
        body = self.json_fields()
        self.send(await self.run(self.ctx.directory.save_department, None, body, actor, self.remote_ip), 201)


class DepartmentHandler(DirectoryBodyMixin, BaseHandler):
    @operation()
    async def get(self, credit_code: str) -> None:
        """One department: {credit_code, name, region_code, level}."""
        await self.authenticate()
        self.send(await self.run(self.ctx.directory.get_department, credit_code))

    @operation(body=Body(DEPARTMENT, FIELD_TYPES))
    async def patch(self, credit_code: str) -> None:
        """Change a department's `name`, `region_code` or `level` (province_admin)."""
        actor = await self.authenticate(ADMIN)
        body = self.json_fields()
        self.send(await self.run(self.ctx.directory.save_department, credit_code, body, actor, self.remote_ip))

    @operation()
    async def delete(self, credit_code: str) -> None:
        """Delete a department nothing refers to (province_admin); 409 department_in_use otherwise."""
        actor = await self.authenticate(ADMIN)
        await self.run(self.ctx.directory.delete_department, credit_code, actor, self.remote_ip)
        self.send({"deleted": credit_code})


class DirectoryImportHandler(BaseHandler):
    @operation(query("dry_run", "boolean"), query("filename", max_length=200),
               body=Body(obj({"file": {"type": "string", "format": "binary"}}, ("file",)), IMPORT_TYPES,
                         "import_max_bytes"))
    async def post(self) -> None:
        """Import regions and departments from .csv or .xlsx (province_admin); any bad row → 422 listing
        `{row, sheet, kind, field, rule, message}`, nothing written; `?dry_run=1` writes nothing."""
        actor = await self.authenticate(ADMIN)
        data, filename = self.uploaded_file(_upload_name, ".csv or .xlsx")
        dry_run = bool(self.arg("dry_run"))
        report = await self.run(self.ctx.directory_import.import_file, data, filename, actor, dry_run,
                                self.remote_ip)
        if report["errors"]:
            self.send_error_body(422, "import_rows_invalid",
                                 f"{len(report['errors'])} problems in the file; nothing was written", report)
            return
        self.send(report, 200 if dry_run else 201)


def _upload_name(given: str | None, ctype: str) -> str | None:
    """The name of an uploaded body: ?filename= or upload.csv/.xlsx by its type; None when neither is a format."""
    try:
        fmt = directory_import.detect_format(given or ctype)
    except UnsupportedType:
        return None
    return given or f"upload.{fmt}"


class DirectoryTemplateHandler(BaseHandler):
    @operation(query("kind", enum=directory_import.KINDS),
               responses={"200": ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")})
    async def get(self, fmt: str) -> None:
        """A downloadable import template `?kind=regions|departments` (CSV needs one; XLSX has both by default)."""
        # off the event loop: the first XLSX of a process takes ~0.2 s to write (then it is cached)
        data = await self.compute(directory_import.write_template, fmt, self.get_query_argument("kind", None) or None)
        name = self.get_query_argument("kind", None) or "directory"
        self.send_file(data, TEMPLATE_TYPES[fmt], f"{name}-template.{fmt}")


routes = [
    (r"/api/v1/directory/regions", RegionListHandler),
    (r"/api/v1/directory/regions/([0-9]+)", RegionHandler),
    (r"/api/v1/directory/departments", DepartmentListHandler),
    (r"/api/v1/directory/departments/([0-9A-Za-z]+)", DepartmentHandler),
    (r"/api/v1/directory/imports", DirectoryImportHandler),
    (r"/api/v1/directory/template\.(csv|xlsx)", DirectoryTemplateHandler),
]
