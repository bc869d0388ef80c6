"""The review workflow of local items (draft → submitted → approved → published), its log and publish hooks."""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from items import rules, store
from items.errors import Conflict, invalid
from items.clock import utcnow
from items.scope import Actor, require_item_scope, require_role

logger = logging.getLogger(__name__)

# Called inside the publish / withdraw transaction, in the order given to WorkflowService; an exception
# rolls the transition back. The composition root (server/app.py) passes statistics and search hooks.
PublishHook = Callable[[str, int, dict, dt.datetime], None]  # (impl_code, version, document, published_at)
WithdrawHook = Callable[[str, dt.datetime], None]  # (impl_code, withdrawn_at)
# Guide checks (guides.lint.lint, injected: items must not import guides): (document, catalogue
# document) → findings, each a dict or an object with as_dict().
Linter = Callable[[dict, dict | None], list]

EDITOR_ROLES = ("editor", "province_admin")
PUBLISHER_ROLES = ("reviewer", "province_admin")

# action → (roles, statuses it starts from, status it ends in, comment required)
TRANSITIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...], str, bool]] = {
    "submit": (EDITOR_ROLES, ("draft", "withdrawn"), "submitted", False),
    "recall": (EDITOR_ROLES, ("submitted", "approved"), "draft", False),
    "approve": (PUBLISHER_ROLES, ("submitted",), "approved", False),
    "reject": (PUBLISHER_ROLES, ("submitted", "approved"), "draft", True),
    "publish": (PUBLISHER_ROLES, ("approved",), "published", False),
}
WITHDRAW_ROLES = PUBLISHER_ROLES


def _require_comment(action: str, comment: str | None) -> str:
    if not (isinstance(comment, str) and comment.strip()):
        raise invalid(f"{action} needs a comment saying why", "/comment", "comment_required", code="comment_required",
                      error_message=f"{action} needs a non-empty comment")
    return comment.strip()


def _event(record) -> dict:
    return {"version": record.version, "action": record.action, "from_status": record.from_status,
            "to_status": record.to_status, "actor": record.actor, "at": record.at.isoformat() + "Z",
            "comment": record.comment}


class WorkflowService:
    """Transitions of the editorial workflow. Each checks role, scope and state, runs in one
    transaction, and is written to the transition log and the audit log. Synchronous, off the loop."""

    def __init__(self, linter: Linter | None = None, publish_hooks: list[PublishHook] | None = None,
                 withdraw_hooks: list[WithdrawHook] | None = None, after_commit: Callable[[], None] | None = None):
        self.linter = linter
        # Called once a publish or withdraw has committed: caches of what citizens read are dropped then,
        # not inside the transaction, or a reader could cache the old state under the new generation.
        self.after_commit = after_commit
        self.publish_hooks = list(publish_hooks or ())
        self.withdraw_hooks = list(withdraw_hooks or ())

    # --- transitions ---------------------------------------------------------------------------

    def submit(self, impl_code: str, actor: Actor, comment: str = "", remote_ip: str = "") -> dict:
        """Submit the latest version for review → the transition result plus `lint` findings.
        Editors submit their own department's items. Raises Forbidden, Conflict (wrong status),
        Invalid (validation errors of the latest version block submitting)."""
        return self._move("submit", impl_code, actor, comment, remote_ip)

    def recall(self, impl_code: str, actor: Actor, comment: str = "", remote_ip: str = "") -> dict:
        """Take a submitted or approved item back into draft so it can be edited again."""
        return self._move("recall", impl_code, actor, comment, remote_ip)

    def approve(self, impl_code: str, actor: Actor, comment: str = "", remote_ip: str = "") -> dict:
        """Approve the submitted version; it becomes the approved_version that publish pins."""
        return self._move("approve", impl_code, actor, comment, remote_ip)

    def reject(self, impl_code: str, actor: Actor, comment: str = "", remote_ip: str = "") -> dict:
        """Send a submitted or approved item back to draft. Raises Invalid comment_required."""
        return self._move("reject", impl_code, actor, comment, remote_ip)

    def publish(self, impl_code: str, actor: Actor, comment: str = "", remote_ip: str = "") -> dict:
        """Publish exactly the approved version and call the publish hooks in the same transaction.
        Raises Forbidden (not a reviewer of the item's region or an admin), Conflict, Invalid."""
        return self._move("publish", impl_code, actor, comment, remote_ip)

    def withdraw(self, impl_code: str, actor: Actor, comment: str = "", remote_ip: str = "") -> dict:
        """Take the live published version down (published → withdrawn; a draft on top stays a draft),
        calling the withdraw hooks in the same transaction. Raises Invalid comment_required,
        Conflict not_published, Forbidden."""
        require_role(actor, *WITHDRAW_ROLES)
        reason = _require_comment("withdraw", comment)
        with store.transaction():
            head = store.local_head(impl_code, for_update=True)
            require_item_scope(actor, head.org, head.region_code)
            if head.published_version is None:
                raise Conflict("the item has no published version to withdraw", code="not_published",
                               details={"status": head.status})
            before, version = head.status, head.published_version
            after = "withdrawn" if before == "published" else before
            now = utcnow()
            store.move_local_status(head, before, {"status": after, "published_version": None})
            store.insert_workflow_event(impl_code, version, "withdraw", before, after, actor.username, reason, now)
            store.audit(actor.username, "item.withdraw", impl_code, remote_ip,
                        {"version": version, "from": before, "to": after, "comment": reason})
            for hook in self.withdraw_hooks:
                hook(impl_code, now)
        self._committed()
        return {"impl_code": impl_code, "action": "withdraw", "status": after, "version": version,
                "published_version": None, "at": now.isoformat() + "Z"}

    def _committed(self) -> None:
        if self.after_commit is not None:
            self.after_commit()

    def _move(self, action: str, impl_code: str, actor: Actor, comment: str, remote_ip: str) -> dict:
        roles, sources, target, needs_comment = TRANSITIONS[action]
        require_role(actor, *roles)
        comment = _require_comment(action, comment) if needs_comment else (comment or "").strip()
        lint_findings: list[dict] | None = None
        with store.transaction():
            head = store.local_head(impl_code, for_update=True)
            require_item_scope(actor, head.org, head.region_code)
            if head.status not in sources:
                raise Conflict(f"cannot {action} an item that is {head.status}", code="wrong_status",
                               details={"action": action, "status": head.status, "allowed_from": list(sources)})
            before, now = head.status, utcnow()
            changes: dict = {"status": target}
            version = head.latest_version
            if action == "submit":
                document = store.local_version(impl_code, version).document
                rules.raise_if_errors(rules.validate(document, "local"))  # errors block submit
                lint_findings = self._lint(head, document)
            elif action == "approve":
                changes["approved_version"] = version
            elif action in ("reject", "recall"):
                changes["approved_version"] = None
            elif action == "publish":
                # editing is locked while submitted/approved, so the approved version is the latest
                version = head.approved_version or head.latest_version
                document = store.local_version(impl_code, version).document
                rules.raise_if_errors(rules.validate(document, "local"))  # errors block publish
                changes["published_version"] = version
            store.move_local_status(head, before, changes)
            store.insert_workflow_event(impl_code, version, action, before, target, actor.username, comment, now)
            store.audit(actor.username, f"item.{action}", impl_code, remote_ip,
                        {"version": version, "from": before, "to": target, "comment": comment})
            if action == "publish":
                for hook in self.publish_hooks:
                    hook(impl_code, version, document, now)
        if action == "publish":
            self._committed()
        out = {"impl_code": impl_code, "action": action, "status": target, "version": version,
               "published_version": head.published_version, "approved_version": head.approved_version,
               "at": now.isoformat() + "Z"}
        if lint_findings is not None:
            out["lint"] = lint_findings
        return out

    # --- reads ---------------------------------------------------------------------------------

    def events(self, impl_code: str, actor: Actor) -> dict:
        """The transition log of one item, oldest first → {impl_code, status, events: [...]}.
        Raises NotFound, Forbidden."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        return {"impl_code": impl_code, "status": head.status,
                "events": [_event(r) for r in store.workflow_events(impl_code)]}

    def lint(self, impl_code: str, actor: Actor, version: int | None = None) -> dict:
        """Guide checks (guides/lint.py) and validator findings of a version (default: latest) →
        {impl_code, version, findings, validation}. Raises NotFound, Forbidden."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        version = version or head.latest_version
        document = store.local_version(impl_code, version).document
        return {"impl_code": impl_code, "version": version, "findings": self._lint(head, document),
                "validation": [f.as_dict() for f in rules.validate(document, "local")]}

    def audit_log(self, actor: Actor, target: str | None = None, who: str | None = None,
                  action: str | None = None, page: int = 1, size: int = 100) -> dict:
        """The append-only audit log, newest first → {entries: [{id, at, actor, action, target,
        remote_ip, details}], total, page, size}. Raises Forbidden unless province_admin."""
        require_role(actor, "province_admin")
        entries, total = store.audit_entries(target=target or None, actor=who or None, action=action or None,
                                             limit=size, offset=(page - 1) * size)
        return {"entries": entries, "total": total, "page": page, "size": size}

    def _lint(self, head, document: dict) -> list[dict]:
        if self.linter is None:
            return []
        catalogue = store.catalogue_version(head.basic_code, head.based_on_catalogue_version).document
        return [f if isinstance(f, dict) else f.as_dict() for f in self.linter(document, catalogue)]
