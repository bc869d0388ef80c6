"""Editors' pages: my department's items, claiming from the catalogue, and the item editor with its findings."""
from __future__ import annotations

import json
import math

from items import history, rules
from items.errors import Conflict, Invalid, Stale
from items.worklist import worklist
from server.console import forms, labels
from server.console.base import NOTICES, PREFIX, ConsolePage
from server.operations import operation, query

EDITOR_ROLES = ("editor", "province_admin")
PAGE_SIZE = 50
COVERAGE_PAGE = query("page", "integer", minimum=1, maximum=100_000)
NOTICES.update(claimed="已认领，可以开始编辑。")


def arrange_findings(findings: list[dict], draft: dict) -> dict:
    """Findings placed for the editor → {by_control: {control id: [finding]}, summary: [finding],
    errors, warnings}; each finding gains `text` (Chinese), `where` (the element in words) and `target`."""
    ids = forms.control_ids(draft if isinstance(draft, dict) else {})
    by_control: dict[str, list] = {}
    summary = []
    for f in findings:
        item = dict(f, text=labels.rule_message(f.get("rule", ""), f.get("message", "")),
                    where=labels.path_label(f.get("path", "")), target=forms.finding_target(f.get("path", ""), ids))
        item.setdefault("severity", "error")
        if item["target"]:
            by_control.setdefault(item["target"], []).append(item)
        summary.append(item)
    return {"by_control": by_control, "summary": summary,
            "errors": sum(1 for f in summary if f["severity"] == "error"),
            "warnings": sum(1 for f in summary if f["severity"] == "warning")}


def catalogue_findings(findings: list[dict], draft: dict) -> list[dict]:
    """Conformance findings (items/conformance.py) as the editor shows rule findings: errors and warnings
    only, `rule` named by their kind, and id-keyed list paths (/materials/m7) turned into the index the
    form uses (/materials/2), so a material added without a reason is flagged beside that material."""
    out = []
    for f in findings:
        if f["severity"] not in ("error", "warning"):
            continue
        parts = f["path"].split("/")
        if len(parts) > 2 and isinstance(draft.get(parts[1]), list):
            ids = [e.get("id") if isinstance(e, dict) else None for e in draft[parts[1]]]
            if parts[2] in ids:
                parts[2] = str(ids.index(parts[2]))
        out.append({"path": "/".join(parts), "rule": f["kind"], "severity": f["severity"], "message": f["message"]})
    return out


def findings_of(exc: Invalid) -> list[dict]:
    """The findings a refused write carries (errors, then warnings), each with its severity."""
    details = exc.details or {}
    return ([dict(f, severity=f.get("severity", "error")) for f in details.get("errors") or []]
            + [dict(f, severity=f.get("severity", "warning")) for f in details.get("warnings") or []])


class ItemListPage(ConsolePage):
    roles = EDITOR_ROLES

    @operation(query("status", enum=tuple(labels.STATUS_LABELS)), query("outdated", enum=("1",)),
               query("page", "integer", minimum=1, maximum=100_000))
    async def get(self) -> None:
        """My department's items with status, outdated flag, error and warning counts; filters and paging."""
        status = self.get_query_argument("status", "") or None
        outdated = self.get_query_argument("outdated", "") == "1"
        page = self.int_arg("page", 1, maximum=100_000)
        result = await self.run(worklist, self.ctx.items, self.actor, status=status, outdated=outdated,
                                page=page, size=PAGE_SIZE)
        pages = max(1, math.ceil(result["total"] / PAGE_SIZE))
        self.page("editor/items.html", title="本部门事项", result=result, status=status or "", outdated=outdated,
                  pages=pages)


class CoveragePage(ConsolePage):
    roles = ("editor",)

    @operation(query("level", enum=tuple(labels.LEVEL_LABELS)), COVERAGE_PAGE)
    async def get(self) -> None:
        """Catalogue items that apply at my level and are not claimed in my region yet (认领率)."""
        await self.show()

    async def show(self, results: list | None = None, status: int = 200) -> None:
        org = await self.run(self.ctx.items.org, self.actor.org)
        level = self.get_argument("level", "") or (org.level if org else "4")
        if level not in labels.LEVEL_LABELS:
            level = "4"
        page = self.int_arg("page", 1, maximum=100_000)
        coverage = await self.run(self.ctx.items.coverage, self.actor.region or (org.region_code if org else ""),
                                  level, self.actor, self.actor.org)
        unclaimed = coverage["unclaimed"]
        pages = max(1, math.ceil(len(unclaimed) / PAGE_SIZE))
        self.set_status(status)
        self.page("editor/coverage.html", title="认领事项", coverage=coverage, level=level, org=org,
                  rows=unclaimed[(page - 1) * PAGE_SIZE: page * PAGE_SIZE], page=page, pages=pages,
                  results=results)

    @operation(COVERAGE_PAGE)
    async def post(self) -> None:
        """Claim the ticked catalogue items (one or many) for my department at the chosen level."""
        codes = self.get_body_arguments("basic_code")
        level = self.get_body_argument("level", "")
        if not codes:
            await self.show(results=[{"ok": False, "basic_code": "", "message": "请至少勾选一个事项。"}], status=422)
            return
        outcome = await self.run(self.ctx.items.bulk_claim, codes, self.actor.org, level, None, self.actor,
                                 self.remote_ip)
        done = [r for r in outcome["results"] if r["ok"]]
        if len(codes) == 1 and len(done) == 1:
            self.redirect(f"{PREFIX}/items/{done[0]['impl_code']}?msg=claimed")
            return
        results = [dict(r, message="已认领" if r["ok"] else labels.error_message(r["error"]["code"], r["error"]["message"]))
                   for r in outcome["results"]]
        await self.show(results=results, status=200 if done else 422)


class ItemPage(ConsolePage):
    """Pages about one item share its header and tabs."""
    roles = EDITOR_ROLES

    async def load(self, impl_code: str, version: int | None = None) -> dict:
        return await self.run(self.ctx.items.get, impl_code, self.actor, version)


class ItemEditorPage(ItemPage):
    async def get(self, impl_code: str) -> None:
        """The editor on the latest version, with the rule engine's and the catalogue comparison's findings
        beside the fields."""
        item = await self.load(impl_code)
        self.show(item, item["document"], await self.check(impl_code, item["document"]))

    async def check(self, impl_code: str, draft: dict) -> list[dict]:
        """The rule engine's findings of `draft`, then its catalogue comparison's (one pool call)."""
        def both() -> list[dict]:
            found = [f.as_dict() for f in rules.validate(draft, "local")]
            return found + catalogue_findings(self.ctx.rebase.draft_findings(impl_code, draft, self.actor), draft)
        return await self.run(both)

    def show(self, item: dict, draft: dict, findings: list[dict], message: str = "", error: str = "",
             conflict: dict | None = None, status: int = 200) -> None:
        self.set_status(status)
        self.page("editor/edit.html", title=f"编辑：{item['document'].get('name', '')}", item=item, draft=draft,
                  findings=arrange_findings(findings, draft), message=message, error=error, conflict=conflict,
                  forms=forms, editable=item["status"] in ("draft", "published", "withdrawn"))

    async def post(self, impl_code: str) -> None:
        """Save (`op=save`, with the version the editor loaded) or change a list (`op=add:materials`,
        `remove:…:n`, `up:…:n`, `down:…:n`) without saving; the form always comes back with the draft."""
        loaded = self.body_int("version")
        item = await self.load(impl_code, loaded)
        draft = forms.document_from_form(item["document"], self.get_body_arguments)
        op = self.get_body_argument("op", "save")
        if op != "save":
            draft, message = forms.apply_list_op(draft, op)
            self.show(item, draft, await self.check(impl_code, draft), message=message)
            return
        try:
            await self.run(self.ctx.items.replace, impl_code, draft, loaded, self.actor, self.remote_ip,
                           self.get_body_argument("change_message", "").strip() or "console edit")
        except Stale:
            await self.show_conflict(impl_code, item, draft)
            return
        except Invalid as exc:
            self.show(item, draft, findings_of(exc), error=labels.error_message(exc.code, exc.message), status=422)
            return
        except Conflict as exc:
            self.show(item, draft, await self.check(impl_code, draft),
                      error=labels.error_message(exc.code, exc.message), status=409)
            return
        self.redirect(f"{PREFIX}/items/{impl_code}?msg=saved")

    async def show_conflict(self, impl_code: str, loaded: dict, draft: dict) -> None:
        """Someone saved in between: show their changes and mine; the form keeps my draft, now based on
        the current version, so saving again is a decision taken with both in view."""
        current = await self.load(impl_code)
        findings = await self.check(impl_code, draft)
        conflict = {"loaded_version": loaded["version"], "current_version": current["version"],
                    "author": current["author"],
                    "theirs": history.summarize(loaded["document"], current["document"]),
                    "mine": history.summarize(loaded["document"], draft)}
        self.show(current, draft, findings, conflict=conflict,
                  error=f"保存前已有他人（{current['author']}）保存了第{current['version']}版。", status=409)


class ItemValidatePage(ItemEditorPage):
    """Live validation: the findings for the draft in the form, as JSON (nothing saved)."""

    async def post(self, impl_code: str) -> None:
        item = await self.load(impl_code, self.body_int("version"))
        draft = forms.document_from_form(item["document"], self.get_body_arguments)
        findings = arrange_findings(await self.check(impl_code, draft), draft)
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"findings": findings["summary"], "errors": findings["errors"],
                                "warnings": findings["warnings"]}, ensure_ascii=False))


class ItemTransitionPage(ItemEditorPage):
    async def post(self, impl_code: str, action: str) -> None:
        """Submit the latest saved version for review, or recall it; refused submits show the findings."""
        try:
            await self.run(getattr(self.ctx.workflow, action), impl_code, self.actor, "", self.remote_ip)
        except Invalid as exc:
            item = await self.load(impl_code)
            self.show(item, item["document"], findings_of(exc), error=labels.error_message(exc.code, exc.message),
                      status=422)
            return
        self.redirect(f"{PREFIX}/items/{impl_code}?msg={'submitted' if action == 'submit' else 'recalled'}")


routes = [
    (PREFIX + r"/items", ItemListPage),
    (PREFIX + r"/coverage", CoveragePage),
    (PREFIX + r"/items/([0-9A-Z]{31})", ItemEditorPage),
    (PREFIX + r"/items/([0-9A-Z]{31})/validate", ItemValidatePage),
    (PREFIX + r"/items/([0-9A-Z]{31})/(submit|recall)", ItemTransitionPage),
]
