"""Window staff's cases: list with overdue and near-due flags, read, and life-cycle actions (CONTRACT.md §3 /cases)."""
from __future__ import annotations

import datetime as dt

from items.errors import Malformed, invalid
from server.base import BaseHandler
from server import schemas
from wechat import lifecycle, progress
from server.operations import Body, obj, operation, page_params, query


def _flag(handler: BaseHandler, name: str) -> bool:
    return bool(handler.arg(name))


CASE_NO_PREFIX = r"^[0-9A-Za-z]{1,50}$"


class CaseListHandler(BaseHandler):
    @operation(query("state", enum=lifecycle.STATES), query("impl_code", max_length=31, pattern=r"^[0-9A-Za-z]{1,31}$"),
               query("received_from", "date"), query("received_to", "date"),
               query("due", enum=progress.DUE_STATUSES, description="on_time, due_soon or overdue"),
               query("case_no", max_length=50, pattern=CASE_NO_PREFIX, description="a case number or its prefix"),
               query("overdue", "boolean", description="same as due=overdue"),
               query("near_due", "boolean", description="same as due=due_soon"), *page_params())
    async def get(self) -> None:
        """The window workbench queue: the cases of the staff member's department, newest first →
        {cases, total, page, size, today}; each row has due_date, due_status and due_label. Filters `state`,
        `impl_code`, `received_from`/`received_to` (China days), `due`, `case_no` (exact or prefix)."""
        actor = await self.authenticate("window_staff")
        page, size = self.page_args()
        due = self.arg("due") or ("overdue" if _flag(self, "overdue") else "due_soon" if _flag(self, "near_due")
                                  else None)
        received = {name: dt.date.fromisoformat(self.arg(name)) if self.arg(name) else None
                    for name in ("received_from", "received_to")}
        self.send(await self.run(self.ctx.hall.workbench.queue, actor, state=self.arg("state"),
                                 impl_code=self.arg("impl_code"), due=due, case_no=self.arg("case_no"),
                                 page=page, size=size, **received))


class CaseHandler(BaseHandler):
    @operation()
    async def get(self, case_no: str) -> None:
        """One case of the department with its history, steps, corrections, due date, ratings and the
        actions allowed now; the applicant's ID number and phone are masked."""
        actor = await self.authenticate("window_staff")
        self.send(await self.run(self.ctx.hall.casework.get, actor, case_no))


class CaseActionHandler(BaseHandler):
    @operation(body=Body(schemas.CASE_ACTION))
    async def post(self, case_no: str) -> None:
        """Apply `{action, opinion, result?, step?, materials?}`: accept, reject, request_correction, resume, suspend,
        step (`step` = {name, action: pass|return|other, handler?, opinion?}), finish (`result` ∈ approved,
        refused, withdrawn), deliver → the case. An action the state does not allow is 409
        illegal_transition naming the allowed ones; reject, request_correction and suspend need an opinion;
        request_correction may list the guide's `materials` (ids) to resubmit."""
        actor = await self.authenticate("window_staff")
        body = self.json_object(required=("action",))
        for field in ("action", "opinion", "result"):
            if body.get(field) is not None and not isinstance(body[field], str):
                raise invalid(f"{field} is text", f"/{field}", "string")
        if body.get("step") is not None and not isinstance(body["step"], dict):
            raise invalid("step is an object {name, action, handler, opinion}", "/step", "object",
                          code="bad_parameter", kind=Malformed)
        self.send(await self.run(self.ctx.hall.casework.act, actor, case_no, body["action"], body.get("opinion"),
                                 body.get("result"), body.get("step"), body.get("materials")))


class RectificationAnswerHandler(BaseHandler):
    @operation(body=Body(obj({"answer": schemas.COMMENT}, ("answer",))))
    async def post(self, rectification_id: str) -> None:
        """Answer the rectification task a bad rating opened `{answer}` → {id, status, due_date, answered_at, late}."""
        actor = await self.authenticate("window_staff")
        body = self.json_object(required=("answer",))
        self.send(await self.run(self.ctx.hall.casework.answer_rectification, actor, int(rectification_id),
                                 body["answer"]))


routes = [
    (r"/api/v1/cases", CaseListHandler),
    (r"/api/v1/cases/([^/]+)", CaseHandler),
    (r"/api/v1/cases/([^/]+)/actions", CaseActionHandler),
    (r"/api/v1/rectifications/([0-9]{1,9})/answer", RectificationAnswerHandler),
]
