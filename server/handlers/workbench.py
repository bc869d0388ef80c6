"""The window workbench over HTTP: case files, the guide a case was filed under, ID-number reveals, rectifications."""
from __future__ import annotations

from urllib.parse import quote

from server import schemas
from server.base import BaseHandler
from server.operations import Body, operation, page_params, query
from wechat.workbench import RECTIFICATION_STATES

CHUNK = 64 * 1024
NO_STORE = "no-store, no-cache, must-revalidate, private"


class CaseFileHandler(BaseHandler):
    @operation(responses={"200": ("application/pdf", "image/jpeg", "image/png")})
    async def get(self, case_no: str, file_id: str) -> None:
        """Stream one uploaded file of the case to window staff of its department, audited; 404 for anyone
        else's case, so case numbers cannot be probed."""
        actor = await self.authenticate("window_staff")
        found = await self.run(self.ctx.hall.workbench.file_for_download, actor, case_no, file_id, self.remote_ip)
        await send_case_file(self, found)


async def send_case_file(handler: BaseHandler, found) -> None:
    """Stream a case's uploaded file (found by WorkbenchService.file_for_download, which checked and
    audited the download) as an attachment, never cached; file reads run off the event loop."""
    handler.set_header("Content-Type", found.content_type)
    handler.set_header("Content-Length", str(found.size))
    handler.set_header("Content-Disposition", f'attachment; filename="{found.filename}"; '
                                              f"filename*=UTF-8''{quote(found.display_name, safe='')}")
    handler.set_header("Cache-Control", NO_STORE)
    handle = await handler.run(open, found.path, "rb")
    try:
        while chunk := await handler.run(handle.read, CHUNK):
            handler.write(chunk)
            await handler.flush()
    finally:
        handle.close()
    handler.finish()


class CaseGuideHandler(BaseHandler):
    @operation()
    async def get(self, case_no: str) -> None:
        """The guide version the case was filed under → {case_no, impl_code, version, published_at, document}."""
        actor = await self.authenticate("window_staff")
        self.send(await self.run(self.ctx.hall.workbench.guide, actor, case_no))


class RevealHandler(BaseHandler):
    @operation(body=Body(schemas.REVEAL))
    async def post(self, case_no: str) -> None:
        """`{reason}` → {case_no, id_number, revealed_by, revealed_at}: the applicant's full ID number, shown
        once (never cached), audited and limited per staff member (429 with Retry-After)."""
        actor = await self.authenticate("window_staff")
        body = self.json_object(required=("reason",))
        answer = await self.run(self.ctx.hall.workbench.reveal, actor, case_no, body.get("reason"), self.remote_ip)
        self.set_header("Cache-Control", NO_STORE)
        self.set_header("Pragma", "no-cache")
        self.set_header("Expires", "0")
        self.send(answer)


class RevealAuditHandler(BaseHandler):
    @operation(*page_params())
    async def get(self) -> None:
        """Who revealed which applicant's full ID number, when and why, newest first (province_admin)."""
        actor = await self.authenticate("province_admin")
        page, size = self.page_args()
        self.send(await self.run(self.ctx.hall.workbench.reveals, actor, page, size))


class RectificationListHandler(BaseHandler):
    @operation(query("state", enum=RECTIFICATION_STATES, description="open (default), answered, closed or all"))
    async def get(self) -> None:
        """The department's rectifications of bad ratings with their working-day deadline and overdue flag."""
        actor = await self.authenticate("window_staff")
        self.send(await self.run(self.ctx.hall.workbench.rectifications, actor, self.arg("state")))


routes = [
    (r"/api/v1/cases/([^/]+)/files/([A-Za-z0-9_-]{1,32})", CaseFileHandler),
    (r"/api/v1/cases/([^/]+)/guide", CaseGuideHandler),
    (r"/api/v1/cases/([^/]+)/applicant/reveal", RevealHandler),
    (r"/api/v1/reveals", RevealAuditHandler),
    (r"/api/v1/rectifications", RectificationListHandler),
]
