"""Local items (实施清单): claiming a catalogue item for a department and writing new versions."""
from __future__ import annotations

import logging

from items import codes, model, patches, rules, store
from items.errors import Conflict, Forbidden, Invalid
from items.records import utcnow
from items.scope import Actor, region_covers, region_prefix, require_item_scope

logger = logging.getLogger(__name__)


def invalid(path: str, rule: str, message: str) -> Invalid:
    return Invalid(message, details={"errors": [{"path": path, "rule": rule, "message": message}]})


class LocalItemService:
    """Claiming and versioning of local items. Every method is synchronous and runs off the event loop."""

    def claim(self, basic_code: str, org_credit_code: str, level: str, region_code: str | None,
              actor: Actor, remote_ip: str = "") -> dict:
        """Claim a catalogue item for a department → {impl_code, version, based_on_catalogue_version}.

        Raises Forbidden (not this org's editor), NotFound (no such catalogue item or org),
        Invalid (level not in the item's levels, item not in use, bad codes), Conflict (already claimed).
        """
        if actor.role == "editor" and actor.org != org_credit_code:
            raise Forbidden("editors claim items only for their own department", code="out_of_scope",
                            details={"org": org_credit_code})
        if actor.role not in ("editor", "province_admin"):
            raise Forbidden("claiming needs the editor role", code="role_required",
                            details={"required": ["editor", "province_admin"], "role": actor.role})
        if not codes.is_valid_credit_code(org_credit_code or ""):
            raise invalid("/org_credit_code", "credit_code", "not a valid GB 32100 credit code")
        if level not in model.LEVELS:
            raise invalid("/level", "enum", "level must be one of 1..7 (GB/T 39046)")
        org = store.get_org(org_credit_code)
        if org is None:
            raise invalid("/org_credit_code", "org_known", "no such department is registered")
        region_code = region_code or org.region_code
        if not codes.is_valid_region_code(region_code):
            raise invalid("/region_code", "region_code", "not a GB/T 2260 region code")
        with store.transaction():
            catalogue = store.catalogue_version(basic_code)
            doc = catalogue.document
            if doc.get("state", "in_use") != "in_use":
                raise invalid("/basic_code", "catalogue_in_use", f"the catalogue item is {doc.get('state')}")
            if level not in (doc.get("levels") or []):
                raise invalid("/level", "level_applies",
                              f"the catalogue item applies at levels {','.join(doc.get('levels') or [])}")
            if store.local_exists(basic_code, org_credit_code, level):
                raise Conflict("this department has already claimed the item at this level",
                               code="already_claimed", details={"basic_code": basic_code, "level": level})
            document = model.local_defaults(doc, {"credit_code": org.credit_code, "name": org.name}, level,
                                            region_code)
            impl_code = document["impl_code"]
            now = utcnow()
            head = {"impl_code": impl_code, "basic_code": basic_code, "org": org_credit_code, "level": level,
                    "region_code": region_code, "name": document["name"], "status": "draft",
                    "latest_version": 1, "based_on_catalogue_version": catalogue.version,
                    "created_at": now, "updated_at": now}
            version = {"impl_code": impl_code, "version": 1, "author": actor.username, "created_at": now,
                       "message": f"claimed from catalogue version {catalogue.version}",
                       "based_on_catalogue_version": catalogue.version, "document": document,
                       "patch": [{"op": "add", "path": "/" + k, "value": v} for k, v in document.items()]}
            store.insert_local_item(head, version)
            store.audit(actor.username, "item.claim", impl_code, remote_ip,
                        {"basic_code": basic_code, "catalogue_version": catalogue.version})
        findings = rules.validate(document, "local")
        return {"impl_code": impl_code, "version": 1, "status": "draft",
                "based_on_catalogue_version": catalogue.version,
                "warnings": [f.as_dict() for f in findings]}

    def write_version(self, impl_code: str, document: dict, actor: Actor, message: str = "",
                      expected_version: int | None = None, based_on: int | None = None,
                      head_changes: dict | None = None, remote_ip: str = "", action: str = "item.revise",
                      check_scope: bool = True) -> dict:
        """Write version N+1 of a local item in one transaction → {impl_code, version, patch, warnings}.

        Validates with the one validator (errors → Invalid); the stored patch is verified. Raises Stale
        when `expected_version` is not the latest version.
        """
        findings = rules.validate(document, "local")
        rules.raise_if_errors(findings)
        with store.transaction():
            head = store.local_head(impl_code, for_update=True)
            if check_scope:
                require_item_scope(actor, head.org, head.region_code)
            if document.get("impl_code") != impl_code:
                raise invalid("/impl_code", "immutable", "the implementation code cannot change")
            previous = store.local_version(impl_code, head.latest_version)
            patch = patches.make_patch(previous.document, document)
            row = {"author": actor.username, "created_at": utcnow(), "message": message,
                   "based_on_catalogue_version": based_on or head.based_on_catalogue_version,
                   "document": document, "patch": patch}
            changes = dict(head_changes or {})
            if based_on:
                changes["based_on_catalogue_version"] = based_on
            head = store.append_local_version(head, expected_version, row, changes)
            store.audit(actor.username, action, impl_code, remote_ip,
                        {"version": head.latest_version, "message": message})
        return {"impl_code": impl_code, "version": head.latest_version, "patch": patch,
                "warnings": [f.as_dict() for f in rules.warnings_of(findings)]}

    def get(self, impl_code: str, actor: Actor | None = None, version: int | None = None) -> dict:
        """A local item with its workflow head → CONTRACT §3 shape. Raises NotFound, Forbidden."""
        head = store.local_head(impl_code)
        if actor is not None:
            require_item_scope(actor, head.org, head.region_code)
        record = store.local_version(impl_code, version or head.latest_version)
        return {"impl_code": impl_code, "version": record.version, "latest_version": head.latest_version,
                "status": head.status, "published_version": head.published_version,
                "based_on_catalogue_version": record.based_on_catalogue_version,
                "author": record.author, "created_at": record.created_at.isoformat() + "Z",
                "document": record.document}

    def versions(self, impl_code: str, actor: Actor) -> dict:
        """The version history of a local item, oldest first."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        return {"impl_code": impl_code, "latest_version": head.latest_version,
                "published_version": head.published_version, "versions": [
                    {"version": r.version, "author": r.author, "created_at": r.created_at.isoformat() + "Z",
                     "message": r.message, "based_on_catalogue_version": r.based_on_catalogue_version,
                     "patch": r.patch} for r in store.local_versions(impl_code)]}

    def diff(self, impl_code: str, actor: Actor, from_version: int | None, to_version: int | None) -> dict:
        """The RFC 6902 patch between two versions (defaults: previous → latest)."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        to_version = to_version or head.latest_version
        from_version = from_version or max(1, to_version - 1)
        a = store.local_version(impl_code, from_version).document
        b = store.local_version(impl_code, to_version).document
        return {"impl_code": impl_code, "from": from_version, "to": to_version, "patch": patches.make_patch(a, b)}

    def list(self, actor: Actor, org=None, region=None, status=None, basic_code=None, outdated=False,
             page=1, size=50) -> dict:
        """Local items the actor may see, filtered. Editors see their org; reviewers their region."""
        if actor.role in ("editor", "window_staff"):
            if org and org != actor.org:
                raise Forbidden("editors list only their own department", code="out_of_scope",
                                details={"org": org})
            org = actor.org
        elif actor.role in ("reviewer", "reform_office"):
            if region and not region_covers(actor.region, region):
                raise Forbidden("that region is outside yours", code="out_of_scope", details={"region": region})
            region = region or actor.region
        rows, total = store.list_local(org=org, region_prefix=region_prefix(region) if region else None,
                                       status=status, basic_code=basic_code, outdated=outdated,
                                       page=page, size=size)
        return {"items": [{"impl_code": r.impl_code, "basic_code": r.basic_code, "name": r.name, "org": r.org,
                           "level": r.level, "region_code": r.region_code, "status": r.status,
                           "version": r.latest_version, "published_version": r.published_version,
                           "based_on_catalogue_version": r.based_on_catalogue_version,
                           "updated_at": r.updated_at.isoformat() + "Z"} for r in rows],
                "total": total, "page": page, "size": size}
