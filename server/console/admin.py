"""Catalogue admins' pages: the catalogue with its versions and diffs, revising an item, importing a file
(dry run first, then confirm), and the synonym table."""
from __future__ import annotations

import copy
import json
import math
import os
import secrets
from pathlib import Path

from tornado.escape import url_escape

from items.errors import Invalid, Malformed, NotFound, invalid
from server.console import labels
from server.console.base import NOTICES, PREFIX, ConsolePage
from server.console.editor_compare import side_by_side
from server.handlers.catalogue import IMPORT_TYPES
from guides.synonym_admin import change_synonym, find_synonyms
from server.operations import Body, operation, query

ADMIN_ROLES = ("province_admin",)
PAGE_SIZE = 50
# The catalogue fields the revise form edits; list entries keep their ids (hidden fields) so a renamed
# step stays the same step for the rebase of local items.
ENTRY_TEXT = (("process", "name", "环节名称"), ("materials", "name", "材料名称"), ("conditions", "text", "受理条件"))
UPLOAD = Body({"type": "object"}, ("multipart/form-data",), "import_max_bytes", allowance=64 * 1024)
NOTICES.update(catalogue_saved="已保存为基本目录的新版本。", imported="已导入。", synonym_saved="已保存同义词。",
               synonym_deleted="已删除同义词。")


class CatalogueListPage(ConsolePage):
    roles = ADMIN_ROLES

    @operation(query("q", max_length=100), query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        """The province catalogue, searched by name or code, 50 a page."""
        q = self.get_query_argument("q", "").strip()
        page = self.int_arg("page", 1)
        result = await self.run(self.ctx.catalogue.list, q or None, None, None, None, page, PAGE_SIZE)
        self.page("admin/catalogue.html", title="基本目录", result=result, q=q,
                  pages=max(1, math.ceil(result["total"] / PAGE_SIZE)))


class CatalogueItemPage(ConsolePage):
    roles = ADMIN_ROLES

    @operation(query("from", "integer", minimum=1), query("to", "integer", minimum=1))
    async def get(self, basic_code: str) -> None:
        """One catalogue item: the revise form, every version, and two versions side by side."""
        item = await self.run(self.ctx.catalogue.get, basic_code)
        to_v = min(self.int_arg("to", item["version"]), item["version"])
        from_v = min(self.int_arg("from", max(1, to_v - 1)), item["version"])
        await self.show(item, item["document"], from_v, to_v)

    async def show(self, item: dict, draft: dict, from_v: int, to_v: int, errors: list | None = None,
                   status: int = 200) -> None:
        code = item["basic_code"]
        versions = await self.run(self.ctx.catalogue.versions, code)
        old = await self.run(self.ctx.catalogue.get, code, from_v)
        new = await self.run(self.ctx.catalogue.get, code, to_v)
        self.set_status(status)
        self.page("admin/catalogue_item.html", title=f"基本目录：{item['document'].get('name', '')}", item=item,
                  draft=draft, versions=list(reversed(versions["versions"])), from_v=from_v, to_v=to_v,
                  rows=side_by_side(old["document"], new["document"]), entry_text=ENTRY_TEXT, errors=errors or [],
                  units=labels.UNIT_LABELS)

    async def post(self, basic_code: str) -> None:
        """Revise: the form's name, legal limit and entry texts on top of the version loaded → version N+1."""
        item = await self.run(self.ctx.catalogue.get, basic_code)
        draft = _document_from_form(item["document"], self.get_body_argument, self.get_body_arguments)
        message = self.get_body_argument("message", "").strip()[:500] or "console edit"
        try:
            await self.run(self.ctx.catalogue.put, basic_code, draft, self.actor, message, self.remote_ip)
        except Invalid as exc:
            errors = [f"{labels.path_label(e.get('path', ''))}：{labels.rule_message(e.get('rule', ''), e.get('message', ''))}"
                      for e in (exc.details or {}).get("errors") or []]
            await self.show(item, draft, max(1, item["version"] - 1), item["version"], errors, 422)
            return
        self.redirect(f"{PREFIX}/catalogue/{basic_code}?msg=catalogue_saved")


def _document_from_form(document: dict, get, get_all) -> dict:
    """The catalogue document with the form's values; entries matched by their hidden ids."""
    out = copy.deepcopy(document)
    out["name"] = get("name", out.get("name", "")).strip()
    raw = get("legal_limit", "").strip()
    limit = dict(out.get("legal_limit") or {})
    try:
        limit["value"] = float(raw) if "." in raw else int(raw)
    except ValueError:
        limit["value"] = raw  # the validator names the broken rule
    unit = get("legal_limit_unit", limit.get("unit", "workday"))
    limit["unit"] = unit if unit in labels.UNIT_LABELS else limit.get("unit", "workday")
    out["legal_limit"] = limit
    for field, key, _ in ENTRY_TEXT:
        texts = dict(zip(get_all(f"{field}-id"), get_all(f"{field}-{key}")))
        out[field] = [dict(e, **{key: texts[e.get("id")].strip()}) if e.get("id") in texts else e
                      for e in out.get(field) or []]
    return out


# --- import ------------------------------------------------------------------------------------------

def _staging(settings) -> Path:
    path = Path(settings.upload_dir) / "console-imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


class ImportPage(ConsolePage):
    """Upload a file → the dry-run report (row, field, rule, message), nothing written; the file waits
    under a random token (readable by the admin who sent it) until 确认导入 writes it."""
    roles = ADMIN_ROLES

    def get(self) -> None:
        self.page("admin/import.html", title="导入目录", report=None, token="", filename="", error="")

    @operation(body=UPLOAD)
    async def post(self) -> None:
        token = self.get_body_argument("token", "")
        if token:
            await self.confirm(token)
            return
        files = self.request.files.get("file") or []
        if not files or not files[0]["body"]:
            self.set_status(422)
            self.page("admin/import.html", title="导入目录", report=None, token="", filename="",
                      error="请选择要导入的文件（.json、.csv 或 .xlsx）。")
            return
        upload = files[0]
        filename = os.path.basename(upload["filename"] or "upload")
        if Path(filename).suffix.lower() not in IMPORT_TYPES:
            self.set_status(415)
            self.page("admin/import.html", title="导入目录", report=None, token="", filename=filename,
                      error="只能导入 .json、.csv 或 .xlsx 文件。")
            return
        report = await self.run(self.ctx.catalogue.import_file, upload["body"], filename, self.actor, True)
        token = ""
        if not report["errors"]:
            token = secrets.token_hex(16)
            await self.run(_stage, _staging(self.ctx.settings), token, self.actor.username, filename, upload["body"])
        self.set_status(422 if report["errors"] else 200)
        self.page("admin/import.html", title="导入目录", report=_shown_report(report), token=token, filename=filename,
                  error="")

    async def confirm(self, token: str) -> None:
        staged = await self.run(_unstage, _staging(self.ctx.settings), token, self.actor.username)
        report = await self.run(self.ctx.catalogue.import_file, staged["data"], staged["filename"], self.actor, False,
                                f"import {staged['filename']}", self.remote_ip)
        self.set_status(422 if report["errors"] else 201)
        self.page("admin/import.html", title="导入目录", report=_shown_report(report), token="",
                  filename=staged["filename"], error="")


def _stage(folder: Path, token: str, username: str, filename: str, data: bytes) -> None:
    (folder / f"{token}.bin").write_bytes(data)
    (folder / f"{token}.json").write_text(json.dumps({"username": username, "filename": filename}))


def _unstage(folder: Path, token: str, username: str) -> dict:
    """The staged file of `token` if `username` sent it → {filename, data}; removed once read.
    Raises NotFound (unknown, used or another admin's token)."""
    if not token.isalnum() or len(token) != 32:
        raise invalid("the import token is not valid", "token", "import_token", code="bad_parameter", kind=Malformed)
    meta_path, data_path = folder / f"{token}.json", folder / f"{token}.bin"
    try:
        meta = json.loads(meta_path.read_text())
    except FileNotFoundError:
        raise NotFound("the checked file is gone; upload it again", code="import_not_found") from None
    if meta.get("username") != username:
        raise NotFound("the checked file is gone; upload it again", code="import_not_found")
    data = data_path.read_bytes()
    meta_path.unlink(missing_ok=True)
    data_path.unlink(missing_ok=True)
    return {"filename": meta["filename"], "data": data}


def _shown_report(report: dict) -> dict:
    """The importer's report with one line per finding: row, element in words, rule in words, message."""
    lines = []
    for bad in report["errors"]:
        for e in bad["errors"]:
            lines.append({"row": bad["row"], "basic_code": bad.get("basic_code") or "",
                          "field": labels.path_label(e.get("field", "")), "rule": e.get("rule", ""),
                          "text": labels.rule_message(e.get("rule", ""), e.get("message", "")),
                          "message": e.get("message", "")})
    return dict(report, lines=lines)


# --- synonyms ----------------------------------------------------------------------------------------

class SynonymsPage(ConsolePage):
    """The synonym table, searched by a word of the term or its expansions and paged; add, replace, delete."""
    roles = ADMIN_ROLES

    @operation(query("q", max_length=50), query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        await self.show()

    async def show(self, error: str = "", term: str = "", expansions: str = "", status: int = 200) -> None:
        q = self.get_query_argument("q", "").strip() if self.request.method == "GET" else term
        page = self.int_arg("page", 1) if self.request.method == "GET" else 1
        result = await self.run(find_synonyms, q or None, page, PAGE_SIZE)
        self.set_status(status)
        self.page("admin/synonyms.html", title="同义词", result=result, q=q, error=error, term=term,
                  expansions=expansions, pages=max(1, math.ceil(result["total"] / PAGE_SIZE)))

    async def post(self) -> None:
        """Add or replace (`term`, `expansions` separated by 、 or commas) or remove (`delete` = term)."""
        gone = self.get_body_argument("delete", "")
        if gone:
            await self.run(change_synonym, self.actor, self.remote_ip, gone, None)
            self.ctx.read_cache.invalidate()  # cached hall searches expanded the old way
            self.redirect(f"{PREFIX}/synonyms?msg=synonym_deleted&q={url_escape(self.get_body_argument('q', ''))}")
            return
        term = self.get_body_argument("term", "").strip()
        raw = self.get_body_argument("expansions", "")
        expansions = [w.strip() for w in raw.replace("，", ",").replace("、", ",").split(",") if w.strip()]
        try:
            await self.run(change_synonym, self.actor, self.remote_ip, term, expansions)
            self.ctx.read_cache.invalidate()  # cached hall searches expanded the old way
        except Invalid as exc:
            errors = (exc.details or {}).get("errors") or []
            detail = "；".join(labels.rule_message(e.get("rule", ""), e.get("message", "")) for e in errors)
            await self.show(labels.error_message(exc.code, exc.message) + (f"（{detail}）" if detail else ""),
                            term, raw, 422)
            return
        self.redirect(f"{PREFIX}/synonyms?msg=synonym_saved&q={url_escape(term)}")  # the saved entry in view


routes = [
    (PREFIX + r"/catalogue", CatalogueListPage),
    (PREFIX + r"/catalogue/import", ImportPage),
    (PREFIX + r"/catalogue/([0-9A-Z]{12})", CatalogueItemPage),
    (PREFIX + r"/synonyms", SynonymsPage),
]
