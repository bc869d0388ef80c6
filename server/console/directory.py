"""Province admins' directory pages: regions, departments and importing the directory (dry run, then confirm)."""
from __future__ import annotations

import math
import os
import secrets
from pathlib import Path

from tornado.escape import xhtml_escape

from items.errors import Conflict, Invalid, NotFound
from server.console import labels
from server.console.admin import UPLOAD, _stage, _staging, _unstage
from server.console.base import NOTICES, PREFIX, ConsolePage
from server.operations import operation, query

ADMIN_ROLES = ("province_admin",)
PAGE_SIZE = 50
DIRECTORY = PREFIX + "/directory"
LEVEL_CHOICES = (("2", "省级"), ("3", "市级"), ("4", "县级"), ("5", "乡镇（街道）级"))
REFERENCE_WORDS = {"regions": "下级区划", "departments": "部门", "users": "工作人员账号", "local_items": "本地事项"}
NOTICES.update(region_saved="已保存行政区划。", region_deleted="已删除行政区划。", department_saved="已保存部门。",
               department_deleted="已删除部门。", directory_imported="已导入行政区划和部门。")


def field_errors(exc: Invalid) -> dict[str, str]:
    """{field: Chinese sentence} from a service's Invalid (the first finding of each field)."""
    out: dict[str, str] = {}
    for e in (exc.details or {}).get("errors") or []:
        name = str(e.get("path", "")).lstrip("/").split("/")[0] or "_"
        out.setdefault(name, labels.rule_message(e.get("rule", ""), e.get("message", "")))
    return out


def in_use_message(exc: Conflict) -> str:
    """The refusal of a delete or move with what still refers to the record, in words."""
    references = (exc.details or {}).get("references") or {}
    counts = "、".join(f"{REFERENCE_WORDS.get(k, k)} {v} 个" for k, v in references.items())
    return labels.error_message(exc.code, exc.message) + (f"（仍有{counts}）" if counts else "")


def field(name: str, label: str, value="", errors: dict | None = None, choices=None, hint: str = "",
          kind: str = "text", prefix: str = "") -> str:
    """One labelled control with its hint and its error beside it (aria-describedby, aria-invalid)."""
    cid = f"{prefix}{name}"
    error = (errors or {}).get(name, "")
    described = " ".join(x for x in (f"{cid}-hint" if hint else "", f"{cid}-error" if error else "") if x)
    attrs = f' id="{cid}" name="{name}"' + (f' aria-describedby="{described}"' if described else "") + \
        (' aria-invalid="true"' if error else "")
    if choices is not None:
        options = "".join(f'<option value="{xhtml_escape(c)}"{" selected" if str(value or "") == c else ""}>'
                          f'{xhtml_escape(t)}</option>' for c, t in choices)
        control = f"<select{attrs}>{options}</select>"
    else:
        control = f'<input{attrs} type="{kind}" value="{xhtml_escape(value or "")}"' + \
            (' autocomplete="new-password"' if kind == "password" else "") + ">"
    return (f'<div class="field{" has-error" if error else ""}"><label for="{cid}">{xhtml_escape(label)}</label>'
            f'{control}' + (f'<p class="hint" id="{cid}-hint">{xhtml_escape(hint)}</p>' if hint else "") +
            (f'<p class="field-error finding-error" id="{cid}-error">{xhtml_escape(error)}</p>' if error else "")
            + "</div>")


def query_reader(page: ConsolePage):
    """The GET's declared query parameters; a POST answering with the list declares none (defaults)."""
    if page.request.method == "GET":
        return page.get_query_argument
    return lambda name, default=None: default


def pages_of(result: dict) -> int:
    return max(1, math.ceil(result["total"] / PAGE_SIZE))


# --- regions -----------------------------------------------------------------------------------------

class RegionsPage(ConsolePage):
    """Regions under one parent (the province's cities first), searched by name or code; create,
    rename and delete (the refusal names what still refers to a region)."""
    roles = ADMIN_ROLES

    @operation(query("parent", max_length=12), query("q", max_length=100),
               query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        await self.show()

    async def show(self, error: str = "", errors: dict | None = None, draft: dict | None = None,
                   status: int = 200) -> None:
        arg = query_reader(self)
        parent = (arg("parent", "") or self.get_body_argument("parent", "")).strip()
        q = arg("q", "").strip()
        page = self.int_arg("page", 1) if self.request.method == "GET" else 1
        directory = self.ctx.directory
        # without a search, one level at a time: the parent's children (the top: regions with no parent)
        if q:
            result = await self.run(directory.list_regions, None, None, parent or None, q, page, PAGE_SIZE)
        elif parent:
            result = await self.run(directory.list_regions, parent, None, None, None, page, PAGE_SIZE)
        else:
            result = await self.run(directory.list_regions, None, "2", None, None, page, PAGE_SIZE)
        trail = []
        code = parent
        while code:
            try:
                region = await self.run(directory.get_region, code)
            except NotFound:  # an unknown parent in the address: no trail, an empty list
                break
            trail.insert(0, region)
            code = region["parent"]
        self.set_status(status)
        self.page("directory/regions.html", title="行政区划", result=result, parent=parent, q=q, trail=trail,
                  pages=pages_of(result), error=error, errors=errors or {}, draft=draft or {"parent": parent},
                  field=field, levels=dict(LEVEL_CHOICES))

    async def post(self) -> None:
        """`action` = create (code, name, parent), rename (code, name) or delete (code)."""
        action = self.get_body_argument("action", "")
        code = self.get_body_argument("code", "").strip()
        name = self.get_body_argument("name", "").strip()
        parent = self.get_body_argument("parent", "").strip()
        back = f"{DIRECTORY}/regions" + (f"?parent={parent}" if parent else "")
        try:
            if action == "delete":
                await self.run(self.ctx.directory.delete_region, code, self.actor, self.remote_ip)
                self.redirect(back + ("&" if parent else "?") + "msg=region_deleted")
                return
            if action == "rename":
                await self.run(self.ctx.directory.save_region, code, {"name": name}, self.actor, self.remote_ip)
            else:
                body = {"code": code, "name": name, **({"parent": parent} if parent else {})}
                await self.run(self.ctx.directory.save_region, None, body, self.actor, self.remote_ip)
        except Invalid as exc:
            await self.show(labels.error_message(exc.code), field_errors(exc),
                            {"code": code, "name": name, "parent": parent} if action != "rename" else None, 422)
            return
        except Conflict as exc:  # a refused delete leaves the create form empty; a duplicate create keeps it
            draft = {"code": code, "name": name, "parent": parent} if action == "create" else None
            await self.show(in_use_message(exc), {}, draft, 409)
            return
        self.redirect(back + ("&" if parent else "?") + "msg=region_saved")


# --- departments -------------------------------------------------------------------------------------

class DepartmentsPage(ConsolePage):
    """Departments filtered by region, level and name or code, 50 a page; create and delete."""
    roles = ADMIN_ROLES

    @operation(query("region", max_length=12), query("level", max_length=1), query("q", max_length=100),
               query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        await self.show()

    async def show(self, error: str = "", errors: dict | None = None, draft: dict | None = None,
                   status: int = 200) -> None:
        arg = query_reader(self)
        region, level, q = arg("region", "").strip(), arg("level", "").strip(), arg("q", "").strip()
        page = self.int_arg("page", 1) if self.request.method == "GET" else 1
        result = await self.run(self.ctx.directory.list_departments, region or None, None, level or None, q or None,
                                page, PAGE_SIZE)
        self.set_status(status)
        self.page("directory/departments.html", title="部门", result=result, region=region, level=level, q=q,
                  pages=pages_of(result), error=error, errors=errors or {}, draft=draft or {"region_code": region},
                  field=field, levels=LEVEL_CHOICES)

    async def post(self) -> None:
        """`action` = create (credit_code, name, region_code, level) or delete (credit_code)."""
        arg = self.get_body_argument
        code = arg("credit_code", "").strip()
        draft = {"credit_code": code}
        try:
            if arg("action", "") == "delete":
                await self.run(self.ctx.directory.delete_department, code, self.actor, self.remote_ip)
                self.redirect(f"{DIRECTORY}/departments?msg=department_deleted")
                return
            draft = {"credit_code": code, "name": arg("name", "").strip(),
                     "region_code": arg("region_code", "").strip(), "level": arg("level", "").strip()}
            body = {k: v for k, v in draft.items() if v}
            await self.run(self.ctx.directory.save_department, None, body, self.actor, self.remote_ip)
        except Invalid as exc:
            await self.show(labels.error_message(exc.code), field_errors(exc), draft, 422)
            return
        except Conflict as exc:
            await self.show(in_use_message(exc), {}, None, 409)
            return
        self.redirect(f"{DIRECTORY}/departments?msg=department_saved&q={code}")


class DepartmentPage(ConsolePage):
    """One department: change its name, region or level (kept while staff or items refer to it)."""
    roles = ADMIN_ROLES

    async def get(self, credit_code: str) -> None:
        department = await self.run(self.ctx.directory.get_department, credit_code)
        await self.show(department, department)

    async def show(self, department: dict, draft: dict, error: str = "", errors: dict | None = None,
                   status: int = 200) -> None:
        staff = await self.run(self.ctx.staff.list, None, department["credit_code"], None, None, None, 1, 100)
        self.set_status(status)
        self.page("directory/department.html", title=f"部门：{department['name']}", department=department,
                  draft=draft, error=error, errors=errors or {}, field=field, levels=LEVEL_CHOICES,
                  staff=staff["users"])

    async def post(self, credit_code: str) -> None:
        department = await self.run(self.ctx.directory.get_department, credit_code)
        arg = self.get_body_argument
        draft = {**department, "name": arg("name", "").strip(), "region_code": arg("region_code", "").strip(),
                 "level": arg("level", "").strip()}
        try:
            await self.run(self.ctx.directory.save_department, credit_code,
                           {k: draft[k] for k in ("name", "region_code", "level")}, self.actor, self.remote_ip)
        except Invalid as exc:
            await self.show(department, draft, labels.error_message(exc.code), field_errors(exc), 422)
            return
        except Conflict as exc:
            await self.show(department, draft, in_use_message(exc), {}, 409)
            return
        self.redirect(f"{DIRECTORY}/departments/{credit_code}?msg=department_saved")


# --- import ------------------------------------------------------------------------------------------

IMPORT_SUFFIXES = (".csv", ".xlsx")


class DirectoryImportPage(ConsolePage):
    """Upload a directory file → the dry-run report (row, field, rule, message), nothing written; the file
    waits under a random token for the admin who sent it until 确认导入 writes it (as the catalogue import)."""
    roles = ADMIN_ROLES

    def get(self) -> None:
        self.page("directory/import.html", title="导入区划和部门", report=None, token="", filename="", error="")

    @operation(body=UPLOAD)
    async def post(self) -> None:
        token = self.get_body_argument("token", "")
        if token:
            staged = await self.run(_unstage, _staging(self.ctx.settings), token, self.actor.username)
            report = await self.run(self.ctx.directory_import.import_file, staged["data"], staged["filename"],
                                    self.actor, False, self.remote_ip)
            self.set_status(422 if report["errors"] else 201)
            self.page("directory/import.html", title="导入区划和部门", report=shown_report(report), token="",
                      filename=staged["filename"], error="")
            return
        files = self.request.files.get("file") or []
        filename = os.path.basename(files[0]["filename"] or "upload") if files else ""
        error = ""
        if not files or not files[0]["body"]:
            error, status = "请选择要导入的文件（.csv 或 .xlsx）。", 422
        elif Path(filename).suffix.lower() not in IMPORT_SUFFIXES:
            error, status = "只能导入 .csv 或 .xlsx 文件。", 415
        if error:
            self.set_status(status)
            self.page("directory/import.html", title="导入区划和部门", report=None, token="", filename=filename,
                      error=error)
            return
        data = files[0]["body"]
        report = await self.run(self.ctx.directory_import.import_file, data, filename, self.actor, True)
        token = ""
        if not report["errors"]:
            token = secrets.token_hex(16)
            await self.run(_stage, _staging(self.ctx.settings), token, self.actor.username, filename, data)
        self.set_status(422 if report["errors"] else 200)
        self.page("directory/import.html", title="导入区划和部门", report=shown_report(report), token=token,
                  filename=filename, error="")


FIELD_WORDS = {"code": "区划代码", "name": "名称", "parent": "上级区划代码", "level": "层级",
               "credit_code": "统一社会信用代码", "region_code": "所在区划代码"}
KIND_WORDS = {"region": "行政区划", "department": "部门"}


def shown_report(report: dict) -> dict:
    """The import report with one line per finding: sheet, row, kind, column and rule in words."""
    lines = [{"row": e["row"], "sheet": e.get("sheet") or "", "kind": KIND_WORDS.get(e["kind"], e["kind"]),
              "field": FIELD_WORDS.get(e["field"], e["field"]), "rule": e["rule"],
              "text": labels.rule_message(e["rule"], e["message"])} for e in report["errors"]]
    return dict(report, lines=lines)


routes = [
    (DIRECTORY + r"/regions", RegionsPage),
    (DIRECTORY + r"/departments", DepartmentsPage),
    (DIRECTORY + r"/departments/([0-9A-Z]{18})", DepartmentPage),
    (DIRECTORY + r"/import", DirectoryImportPage),
]
