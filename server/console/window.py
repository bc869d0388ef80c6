"""Window staff's workbench: the department's case queue by due status, the case page with every life-cycle
action, audited file downloads and ID-number reveals, and the rectifications of bad ratings."""
from __future__ import annotations

import datetime as dt
import math
from urllib.parse import quote

from items.errors import Conflict, Invalid, RateLimited
from server.console import labels
from server.console.base import NOTICES, PREFIX, ConsolePage
from server.handlers.workbench import send_case_file
from server.operations import operation, query
from items.clock import CHINA_OFFSET
from wechat import lifecycle, progress
from wechat.workbench import RECTIFICATION_STATES

WINDOW_ROLES = ("window_staff",)
PAGE_SIZE = 50
ITEM_CHOICES = 500
# The revealed number must not stay in any cache, the browser's back-forward cache included.
NO_STORE = "no-store, no-cache, must-revalidate, private"
# The queue's filters, checked at the edge like the API's (GET /api/v1/cases): a bad value is a 400 page.
FILTERS = (query("state", enum=lifecycle.STATES), query("impl_code", max_length=31, pattern=r"^[0-9A-Za-z]{1,31}$"),
           query("received_from", "date"), query("received_to", "date"), query("due", enum=progress.DUE_STATUSES),
           query("case_no", max_length=50, pattern=r"^[0-9A-Za-z]{1,50}$"))
PAGE = query("page", "integer", minimum=1, maximum=100_000)

CLOCK_LABELS = {"starts": "开始计时", "stops": "暂停计时", "resumes": "恢复计时"}
ACTION_LABELS = {a: form["label"] for a, form in lifecycle.ACTION_FORMS.items()}
ACTION_LABELS.update(submit="提交申请", withdraw="申请人撤回")
OPINION_LABELS = {"reject": "不予受理的理由", "request_correction": "补正告知（缺什么、为什么）",
                  "suspend": "特别程序的理由", "accept": "受理意见", "finish": "办结意见"}
RECTIFICATION_STATE_LABELS = {"open": "待整改", "answered": "已答复", "closed": "已关闭", "all": "全部"}
NOTICES.update(done_accept="已受理，开始计时。", done_reject="已作出不予受理决定。",
               done_request_correction="已一次性告知需补正的材料，暂停计时。", done_resume="已恢复办理。",
               done_suspend="已进入特别程序，暂停计时。", done_step="已记录办理环节。", done_finish="已办结。",
               done_deliver="已送达。", answered="整改答复已提交。")
labels.ERROR_MESSAGES.update({
    "case_not_found": "没有找到该办件。", "file_not_found": "该办件没有这个文件。",
    "file_missing": "文件已不在存储中，请联系管理员。",
    "reason_required": "请填写查看完整身份证号的理由。",
    "reason_too_short": f"理由至少 {progress.REVEAL_REASON_MIN} 个字。", "reason_too_long": "理由最多 500 个字。",
    "too_many_reveals": "查看完整身份证号的次数已达每小时上限，请稍后再试。",
    "opinion_required": "请填写意见（告知申请人原因）。", "opinion_too_long": "意见最多 2000 个字。",
    "illegal_transition": "办件当前状态不能进行此操作，请刷新后重试。", "case_changed": "办件已被他人办理，请刷新后重试。",
    "unknown_action": "没有这个办理操作。", "finish_result_invalid": "请选择办结结果。",
    "result_only_on_finish": "只有办结时选择结果。", "step_invalid": "请填写办理环节的名称和处理结果。",
    "unknown_material": "补正材料不在该办件依据的办事指南中。", "materials_invalid": "补正材料选择有误。",
    "materials_only_on_correction": "只有补齐补正时选择材料。",
    "unknown_state": "没有这个状态。", "unknown_due_status": "没有这个到期状态。",
    "dates_out_of_order": "申报日期的结束日不能早于开始日。",
    "answer_required": "请填写整改答复。", "rectification_answered": "该整改已答复过。",
    "rectification_not_found": "没有找到该整改任务。",
})


def due_badge(status: str | None) -> dict | None:
    """The due status as text and a colour class (never colour alone) → {label, css} or None (clock stopped)."""
    if not status:
        return None
    return {"label": progress.DUE_LABELS[status], "css": f"due due-{status}"}


def china_time(stamp: str | None, seconds: bool = False) -> str:
    """An API time (ISO, UTC, Z) as staff read it: China time `2026-10-08 10:00`; "—" when absent."""
    if not stamp:
        return "—"
    moment = dt.datetime.fromisoformat(stamp.rstrip("Z")) + CHINA_OFFSET
    return moment.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def who(actor: str | None) -> str:
    """The actor of a history event: staff by name, the citizen (hall:<id>) as 申请人."""
    return "申请人" if (actor or "").startswith("hall:") else (actor or "")


def action_values(get) -> dict:
    """The form of one action → the service's keyword arguments (names of lifecycle.ACTION_FORMS)."""
    action = get("action")
    values: dict = {"opinion": get("opinion"), "result": get("result") or None}
    if action == "step":
        values["step"] = {"name": get("step_name").strip(), "action": get("step_action") or None,
                          "opinion": get("step_opinion")}
    return values


class WindowPage(ConsolePage):
    roles = WINDOW_ROLES

    def get_template_namespace(self) -> dict:
        namespace = super().get_template_namespace()
        namespace.update(china_time=china_time, who=who, due_badge=due_badge)
        return namespace

    @property
    def workbench(self):
        return self.ctx.hall.workbench


class CaseQueuePage(WindowPage):
    @operation(*FILTERS, PAGE)
    async def get(self) -> None:
        """The department's cases, newest first, with due status as colour and text; filters and paging."""
        chosen = {p.name: self.get_query_argument(p.name, "") for p in FILTERS}
        page = self.int_arg("page", 1, maximum=100_000)
        dates = {name: dt.date.fromisoformat(chosen[name]) if chosen[name] else None
                 for name in ("received_from", "received_to")}
        result = {"cases": [], "total": 0, "page": page}
        error = ""
        try:
            result = await self.run(self.workbench.queue, self.actor, state=chosen["state"] or None,
                                    impl_code=chosen["impl_code"] or None, due=chosen["due"] or None,
                                    case_no=chosen["case_no"] or None, page=page, size=PAGE_SIZE, **dates)
        except Invalid as exc:  # received_to before received_from: shown beside the filters
            error = labels.error_message(exc.code, exc.message)
            self.set_status(422)
        items = await self.run(self.ctx.items.list, self.actor, size=ITEM_CHOICES)
        self.page("window/queue.html", title="办件", result=result, chosen=chosen, error=error,
                  items=items["items"], pages=max(1, math.ceil(result["total"] / PAGE_SIZE)),
                  states=lifecycle.STATE_LABELS, due_labels=progress.DUE_LABELS)


class CaseView(WindowPage):
    """The case page, shown by its GET and again by the posts it makes when the service refuses one."""

    async def show(self, case_no: str, status: int = 200, action_error: dict | None = None,
                   reveal_error: str = "", reveal_reason: str = "") -> None:
        case = await self.run(self.ctx.hall.casework.get, self.actor, case_no)
        guide = await self.run(self.workbench.guide, self.actor, case_no)
        materials = {m.get("id"): m.get("name") for m in guide["document"].get("materials") or []}
        self.set_status(status)
        self.page("window/case.html", title=f"办件 {case['case_no']}", case=case, guide=guide,
                  guide_materials=materials, due=due_badge(case.get("due_status")), action_error=action_error or {},
                  reveal_error=reveal_error, reveal_reason=reveal_reason, clock_labels=CLOCK_LABELS,
                  action_labels=ACTION_LABELS, states=lifecycle.STATE_LABELS, step_actions=lifecycle.STEP_ACTIONS,
                  results=lifecycle.RESULT_LABELS, opinion_labels=OPINION_LABELS, rating_labels=lifecycle.RATING_LABELS,
                  reason_min=progress.REVEAL_REASON_MIN)


class CasePage(CaseView):
    async def get(self, case_no: str) -> None:
        """One case: masked applicant, form, materials with downloads, guide version, timeline, action forms."""
        await self.show(case_no)


class CaseActionPage(CaseView):
    async def post(self, case_no: str) -> None:
        """Apply one action through the same use case as the API; a refusal comes back on the case page."""
        def get(name: str) -> str:
            return self.get_body_argument(name, "")
        action = get("action")
        values = action_values(get)
        try:
            await self.run(self.ctx.hall.casework.act, self.actor, case_no, action, values["opinion"],
                           values["result"], values.get("step"), self.get_body_arguments("materials") or None)
        except (Invalid, Conflict) as exc:
            await self.show(case_no, 409 if isinstance(exc, Conflict) else 422, action_error={
                "action": action, "message": labels.error_message(exc.code, exc.message), "values": values,
                "materials": self.get_body_arguments("materials")})
            return
        self.redirect(f"{PREFIX}/cases/{quote(case_no)}?msg=done_{action}#actions")


class CaseFilePage(WindowPage):
    async def get(self, case_no: str, file_id: str) -> None:
        """Stream a file of the case through the workbench's download use case (entitlement and audit row);
        another department's case is the same 404 page as an unknown one."""
        found = await self.run(self.workbench.file_for_download, self.actor, case_no, file_id, self.remote_ip)
        self.clear_header("Content-Security-Policy")
        await send_case_file(self, found)  # the same download as the API's, with its audit


class RevealPage(CaseView):
    async def post(self, case_no: str) -> None:
        """Show the applicant's full ID number once: a POST with a reason (never a URL), answered no-store,
        audited and rate-limited by the workbench use case."""
        reason = self.get_body_argument("reason", "")
        try:
            answer = await self.run(self.workbench.reveal, self.actor, case_no, reason, self.remote_ip)
        except Invalid as exc:
            await self.show(case_no, 422, reveal_error=labels.error_message(exc.code, exc.message),
                            reveal_reason=reason)
            return
        except RateLimited as exc:
            self.set_header("Retry-After", str((exc.details or {}).get("retry_after_seconds", 3600)))
            await self.show(case_no, 429, reveal_error=labels.error_message(exc.code, exc.message),
                            reveal_reason=reason)
            return
        self.set_header("Cache-Control", NO_STORE)
        self.set_header("Pragma", "no-cache")
        self.set_header("Expires", "0")
        self.page("window/reveal.html", title=f"办件 {case_no} 申请人身份证号", answer=answer, reason=reason.strip())


class RectificationView(WindowPage):
    """The rectification list, shown by its GET and again when an answer is refused."""

    async def show(self, status: int = 200, error: dict | None = None) -> None:
        state = self.get_query_argument("state", "open") if self.request.method == "GET" else "open"
        result = await self.run(self.workbench.rectifications, self.actor, state)
        self.set_status(status)
        self.page("window/rectifications.html", title="差评整改", result=result, state=state, error=error or {},
                  state_labels=RECTIFICATION_STATE_LABELS)


class RectificationPage(RectificationView):
    @operation(query("state", enum=RECTIFICATION_STATES))
    async def get(self) -> None:
        """Bad ratings waiting for rectification, with their working-day deadline, answered from here."""
        await self.show()


class RectificationAnswerPage(RectificationView):
    async def post(self, rectification_id: str) -> None:
        answer = self.get_body_argument("answer", "")
        try:
            await self.run(self.ctx.hall.casework.answer_rectification, self.actor, int(rectification_id), answer)
        except (Invalid, Conflict) as exc:
            await self.show(409 if isinstance(exc, Conflict) else 422, error={
                "id": int(rectification_id), "message": labels.error_message(exc.code, exc.message),
                "answer": answer})
            return
        self.redirect(f"{PREFIX}/rectifications?msg=answered")


CASE = PREFIX + r"/cases/([0-9A-Za-z]{1,50})"
routes = [
    (PREFIX + r"/cases", CaseQueuePage),
    (CASE, CasePage),
    (CASE + r"/actions", CaseActionPage),
    (CASE + r"/files/([A-Za-z0-9_-]{1,32})", CaseFilePage),
    (CASE + r"/reveal", RevealPage),
    (PREFIX + r"/rectifications", RectificationPage),
    (PREFIX + r"/rectifications/([0-9]{1,9})/answer", RectificationAnswerPage),
]
