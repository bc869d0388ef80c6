"""Reviewers' pages: the queue of their region, what changed since the last published version, and the decisions."""
from __future__ import annotations

import math

from items.errors import Invalid
from items.worklist import review_queue
from server.console import labels
from server.console.base import NOTICES, PREFIX, ConsolePage
from server.console.editor_compare import side_by_side
from server.operations import operation, query

REVIEW_ROLES = ("reviewer", "province_admin")
QUEUE_STATUSES = ("submitted", "approved", "published", "withdrawn")
PAGE_SIZE = 50
DECISIONS = ("approve", "reject", "publish", "withdraw")
NOTICES.update(approve="已审核通过，可以发布。", reject="已退回编辑修改。", publish="已发布，办事指南已上线。",
               withdraw="已撤回发布，办事指南已下线。")


class ReviewQueuePage(ConsolePage):
    roles = REVIEW_ROLES

    @operation(query("status", enum=QUEUE_STATUSES), query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        """Items of my region waiting for me (提交审核 by default), with department and who submitted when."""
        status = self.get_query_argument("status", "") or "submitted"
        page = self.int_arg("page", 1)
        result = await self.run(review_queue, self.ctx.items, self.actor, status, page, PAGE_SIZE)
        self.page("review/queue.html", title="待审核事项", result=result, status=status, statuses=QUEUE_STATUSES,
                  pages=max(1, math.ceil(result["total"] / PAGE_SIZE)))


class ReviewItemPage(ConsolePage):
    roles = REVIEW_ROLES

    async def get(self, impl_code: str) -> None:
        await self.show(impl_code)

    async def show(self, impl_code: str, errors: dict | None = None, comment: str = "", message: str = "",
                   status: int = 200) -> None:
        """The latest version beside the last published one (or the catalogue version it follows when
        never published), the guide checks, the transition log and the decision forms."""
        item = await self.run(self.ctx.items.get, impl_code, self.actor)
        if item["published_version"]:
            base = await self.run(self.ctx.items.get, impl_code, self.actor, item["published_version"])
            left = f"已发布（第{item['published_version']}版）"
        else:
            basic_code = await self.run(self.ctx.items.basic_code, impl_code)
            base = await self.run(self.ctx.catalogue.get, basic_code, item["based_on_catalogue_version"])
            left = f"基本目录（第{item['based_on_catalogue_version']}版）"
        lint = await self.run(self.ctx.workflow.lint, impl_code, self.actor)
        events = await self.run(self.ctx.workflow.events, impl_code, self.actor)
        findings = [dict(f, text=labels.rule_message(f.get("rule") or f.get("kind", ""), f.get("message", "")),
                         where=labels.path_label(f.get("path", "")))
                    for f in lint["findings"] + lint["validation"] if f.get("severity") != "info"]
        self.set_status(status)
        self.page("review/item.html", title=f"审核：{item['document'].get('name', '')}", item=item,
                  rows=side_by_side(base["document"], item["document"]), left=left, findings=findings,
                  events=list(reversed(events["events"])), errors=errors or {}, comment=comment, error=message)



class ReviewDecisionPage(ReviewItemPage):
    async def post(self, impl_code: str, action: str) -> None:
        """approve, reject (理由必填), publish or withdraw (理由必填); a refusal comes back beside the field."""
        comment = self.get_body_argument("comment", "")
        try:
            await self.run(getattr(self.ctx.workflow, action), impl_code, self.actor, comment, self.remote_ip)
        except Invalid as exc:
            errors = {}
            for e in (exc.details or {}).get("errors") or []:
                errors.setdefault(e.get("path", ""), []).append(labels.rule_message(e.get("rule", ""), e.get("message", "")))
            await self.show(impl_code, {action: errors}, comment, labels.error_message(exc.code, exc.message), 422)
            return
        self.redirect(f"{PREFIX}/review/{impl_code}?msg={action}")


routes = [
    (PREFIX + r"/review", ReviewQueuePage),
    (PREFIX + r"/review/([0-9A-Z]{31})", ReviewItemPage),
    (PREFIX + r"/review/([0-9A-Z]{31})/(%s)" % "|".join(DECISIONS), ReviewDecisionPage),
]
