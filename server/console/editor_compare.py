"""Editors' item pages beside the editor: history with restore, version and catalogue diffs, rebase, guide preview."""
from __future__ import annotations

import json

from guides.render import render_guide
from items import history
from items.errors import Invalid
from server.console import labels
from server.console.base import PREFIX
from server.console.editor import ItemPage
from server.operations import operation, query

# Element order for side-by-side tables: the document's own order, catalogue block first (model.py).
from items.model import CATALOGUE_FIELDS, LOCAL_FIELDS

ELEMENTS = tuple(f for f in (*CATALOGUE_FIELDS, *LOCAL_FIELDS) if f != "levels")


def side_by_side(old: dict, new: dict, fields: tuple = ELEMENTS) -> list[dict]:
    """Rows {element, label, old, new, changes} for every element that differs, in document order;
    `changes` are the entry-level lines of items/history.py (材料 新增: …)."""
    by_element: dict[str, list] = {}
    for change in history.summarize(old, new):
        by_element.setdefault(change.element, []).append(change.text)
    rows = []
    for field in fields:
        if field in by_element:
            rows.append({"element": field, "label": labels.FIELD_LABELS.get(field, field),
                         "old": labels.value_label(field, old.get(field)), "new": labels.value_label(field, new.get(field)),
                         "changes": by_element[field]})
    return rows


class HistoryPage(ItemPage):
    async def get(self, impl_code: str) -> None:
        """Every version with author, time, message and what changed; restore and compare."""
        item = await self.load(impl_code)
        versions = await self.run(self.ctx.items.versions, impl_code, self.actor)
        self.page("editor/history.html", title="历史版本", item=item, tab="/history",
                  versions=list(reversed(versions["versions"])))

    async def post(self, impl_code: str) -> None:
        """Restore `version` as a new draft, on top of the latest version the page showed."""
        version, latest = self.body_int("version"), self.body_int("latest")
        await self.run(self.ctx.items.restore, impl_code, version, latest, self.actor, self.remote_ip)
        self.redirect(f"{PREFIX}/items/{impl_code}?msg=restored")


class VersionDiffPage(ItemPage):
    @operation(query("from", "integer", minimum=1), query("to", "integer", minimum=1))
    async def get(self, impl_code: str) -> None:
        """Two versions side by side with Chinese element names (`?from=&to=`, default previous → latest)."""
        item = await self.load(impl_code)
        to_v = min(self.int_arg("to", item["version"]), item["version"])
        from_v = min(self.int_arg("from", max(1, to_v - 1)), item["version"])
        old = await self.load(impl_code, from_v)
        new = await self.load(impl_code, to_v)
        self.page("editor/diff.html", title="版本对比", item=item, tab="/history", from_v=from_v, to_v=to_v,
                  rows=side_by_side(old["document"], new["document"]), old=old, new=new)


class ConformancePage(ItemPage):
    async def get(self, impl_code: str) -> None:
        """The item against the catalogue version it follows: the four-same verdict per field, findings
        (materials added beyond the catalogue flagged) and every differing element side by side."""
        item = await self.load(impl_code)
        report = await self.run(self.ctx.rebase.conformance, impl_code, self.actor)
        catalogue = await self.run(self.ctx.catalogue.get, report["basic_code"], report["catalogue_version"])
        names = _entry_names(item["document"], catalogue["document"])
        findings = [dict(f, text=labels.rule_message(f["kind"], f["message"]),
                         where=labels.FIELD_LABELS.get(f["path"].split("/")[1], f["path"]) if f["path"] else "",
                         entry=names.get(f["path"], "")) for f in report["findings"] if f["severity"] != "info"]
        self.page("editor/conformance.html", title="对照目录", item=item, tab="/conformance", report=report,
                  findings=findings, rows=side_by_side(catalogue["document"], item["document"],
                                                 tuple(f for f in CATALOGUE_FIELDS if f != "levels")))


def _entry_names(*documents: dict) -> dict:
    """/materials/m3 → the material's name, for findings that name entries by id."""
    out = {}
    for doc in documents:
        for field, key in history.ENTRY_TITLE.items():
            for entry in doc.get(field) or ():
                if isinstance(entry, dict) and entry.get("id"):
                    out.setdefault(f"/{field}/{entry['id']}", str(entry.get(key) or entry["id"]))
    return out


class RebasePage(ItemPage):
    async def get(self, impl_code: str) -> None:
        """Preview of carrying the latest catalogue version onto the item; nothing is written."""
        await self.show(impl_code)

    async def show(self, impl_code: str, error: str = "", chosen: dict | None = None, status: int = 200) -> None:
        item = await self.load(impl_code)
        preview = await self.run(self.ctx.rebase.preview, impl_code, self.actor)
        conflicts = [dict(c, where=labels.path_label(c["path"]), rule_text=labels.rule_message(c.get("rule", "")),
                          local_text=_shown(c.get("local")), catalogue_text=_shown(c.get("catalogue")),
                          n=n) for n, c in enumerate(preview["conflicts"])]
        self.set_status(status)
        self.page("editor/rebase.html", title="同步目录", item=item, tab="/rebase", preview=preview,
                  conflicts=conflicts, rows=side_by_side(preview["local"], preview["document"]), error=error,
                  chosen=chosen or {})

    async def post(self, impl_code: str) -> None:
        """Rebase with one resolution per conflict: catalogue, local, or an edited value."""
        resolutions, chosen = {}, {}
        for n, path in enumerate(self.get_body_arguments("path")):
            choice = self.get_body_argument(f"choice-{n}", "")
            chosen[n] = {"choice": choice, "value": self.get_body_argument(f"value-{n}", "")}
            if choice in ("local", "catalogue"):
                resolutions[path] = choice
            elif choice == "edit":
                resolutions[path] = _typed(chosen[n]["value"])
        version = self.get_body_argument("version", "")
        try:
            result = await self.run(self.ctx.rebase.rebase, impl_code, self.actor,
                                    int(self.get_body_argument("to_version")), resolutions or None,
                                    int(version) if version.isdigit() else None, self.remote_ip)
        except Invalid as exc:
            errors = (exc.details or {}).get("errors") or []
            detail = "；".join(f"{labels.path_label(e.get('path', ''))}：{labels.rule_message(e.get('rule', ''), e.get('message', ''))}"
                              for e in errors)
            await self.show(impl_code, error=labels.error_message(exc.code, exc.message) + (f"（{detail}）" if detail else ""),
                            chosen=chosen, status=422)
            return
        if result["status"] == "conflicts":
            await self.show(impl_code, error=labels.error_message("unresolved_conflicts"), chosen=chosen, status=422)
            return
        self.redirect(f"{PREFIX}/items/{impl_code}?msg=rebased")


def _shown(value) -> str:
    """A conflicting value as an editor types it: text as is, anything else as JSON."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _typed(text: str):
    """An edited resolution: JSON when it parses (limits, lists, numbers), else the text itself."""
    try:
        return json.loads(text)
    except ValueError:
        return text


class GuidePreviewPage(ItemPage):
    async def get(self, impl_code: str) -> None:
        """The latest version as citizens will read it in the branch hall (guides/render.py)."""
        item = await self.load(impl_code)
        guide = render_guide(impl_code, item["document"], item["version"])
        self.page("editor/preview.html", title="办事指南预览", item=item, tab="/preview", guide=guide)


routes = [
    (PREFIX + r"/items/([0-9A-Z]{31})/history", HistoryPage),
    (PREFIX + r"/items/([0-9A-Z]{31})/diff", VersionDiffPage),
    (PREFIX + r"/items/([0-9A-Z]{31})/conformance", ConformancePage),
    (PREFIX + r"/items/([0-9A-Z]{31})/rebase", RebasePage),
    (PREFIX + r"/items/([0-9A-Z]{31})/preview", GuidePreviewPage),
]
