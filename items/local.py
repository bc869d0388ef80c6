"""Local items (实施清单): claiming, claim coverage, editing under If-Match, history and restore."""
from __future__ import annotations

import dataclasses
import logging

from items import codes, conformance, history, model, patches, rules, store
from items.errors import Conflict, DomainError, Forbidden, PreconditionRequired, Stale, invalid, invalid_all
from items.clock import utcnow
from items.scope import ROLES, Actor, region_covers, require_item_scope, require_role, scope_of

logger = logging.getLogger(__name__)

# Statuses in which the item may be edited; a submitted or approved item is locked until it is
# recalled or rejected, so the approved version is the one published (CONTRACT.md §3 workflow).
EDITABLE = ("draft", "published", "withdrawn")
# Fields fixed by the claim: the implementation code and the head's scope columns derive from them.
CLAIM_FIXED = ("impl_code", "level", "region_code")
BULK_CLAIM_MAX = 500


@dataclasses.dataclass(frozen=True)
class PublishedHead:
    """What the branch hall files a case against: the live published version of one local item."""

    impl_code: str
    published_version: int
    name: str
    org: str
    region_code: str


class LocalItemService:
    """Claiming and versioning of local items. Every method is synchronous and runs off the event loop."""

    def claim(self, basic_code: str, org_credit_code: str, level: str, region_code: str | None,
              actor: Actor, remote_ip: str = "") -> dict:
        """Claim a catalogue item for a department → {impl_code, version, based_on_catalogue_version}.

        Raises Forbidden (not this org's editor), NotFound (no such catalogue item or org),
        Invalid (level not in the item's levels, item not in use, bad codes), Conflict (already claimed).
        """
        org, region_code = _claim_target(actor, org_credit_code, level, region_code)
        with store.transaction():
            catalogue = store.catalogue_version(basic_code)
            doc = catalogue.document
            if doc.get("state", "in_use") != "in_use":
                raise invalid(f"the catalogue item is {doc.get('state')}", "/basic_code", "catalogue_in_use")
            if level not in (doc.get("levels") or []):
                raise invalid(f"the catalogue item applies at levels {','.join(doc.get('levels') or [])}",
                              "/level", "level_applies")
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
                raise invalid("the implementation code cannot change", "/impl_code", "immutable")
            previous = store.local_version(impl_code, head.latest_version)
            patch = conformance.diff_documents(previous.document, document)
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

    def org(self, credit_code: str | None):
        """The department of a credit code (its name, level and region_code), None when unknown."""
        return store.get_org(credit_code)

    def basic_code(self, impl_code: str) -> str:
        """The catalogue item a local item was claimed from. Raises NotFound item_not_found."""
        return store.local_head(impl_code).basic_code

    def version_written_at(self, impl_code: str, version: int):
        """When one version was written (naive UTC). Raises NotFound version_not_found."""
        return store.local_version(impl_code, version).created_at

    def published_head(self, impl_code: str) -> PublishedHead | None:
        """The live published version of an item, None when never published or withdrawn (public: no
        actor). Raises NotFound item_not_found."""
        head = store.local_head(impl_code)
        if head.published_version is None or head.status == "withdrawn":
            return None
        return PublishedHead(head.impl_code, head.published_version, head.name, head.org, head.region_code)

    def version_document(self, impl_code: str, version: int) -> dict:
        """The document of one version (versions never change). Raises NotFound version_not_found."""
        return store.local_version(impl_code, version).document

    def versions(self, impl_code: str, actor: Actor) -> dict:
        """The version history of a local item, oldest first, each with its change summary lines
        (items/history.py). Raises NotFound, Forbidden."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        rows, previous = [], None
        for r in store.local_version_documents(impl_code):
            rows.append({"version": r.version, "author": r.author, "created_at": r.created_at.isoformat() + "Z",
                         "message": r.message, "based_on_catalogue_version": r.based_on_catalogue_version,
                         "patch": r.patch, "summary": history.summary_lines(previous, r.document)})
            previous = r.document
        return {"impl_code": impl_code, "latest_version": head.latest_version,
                "published_version": head.published_version, "status": head.status, "versions": rows}

    def version_summary(self, impl_code: str, version: int, actor: Actor) -> dict:
        """What version N changed against N−1, element by element → {impl_code, version, previous,
        author, created_at, message, changes: [history.Change dicts]}. Raises NotFound, Forbidden."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        record = store.local_version(impl_code, version)
        before = store.local_version(impl_code, version - 1).document if version > 1 else None
        return {"impl_code": impl_code, "version": version, "previous": version - 1 if version > 1 else None,
                "author": record.author, "created_at": record.created_at.isoformat() + "Z",
                "message": record.message,
                "changes": [c.as_dict() for c in history.summarize(before, record.document)]}

    def diff(self, impl_code: str, actor: Actor, from_version: int | None, to_version: int | None) -> dict:
        """The RFC 6902 patch between two versions (defaults: previous → latest)."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        to_version = to_version or head.latest_version
        from_version = from_version or max(1, to_version - 1)
        a = store.local_version(impl_code, from_version).document
        b = store.local_version(impl_code, to_version).document
        return {"impl_code": impl_code, "from": from_version, "to": to_version, "patch": conformance.diff_documents(a, b)}

    def list(self, actor: Actor, org=None, region=None, status=None, basic_code=None, outdated=False,
             page=1, size=50) -> dict:
        """Local items the actor may see (scope.scope_of), filtered. Raises Forbidden for a filter
        outside the actor's scope and for actors without one (citizens)."""
        scope = scope_of(actor).narrowed(org=org, region=region)
        rows, total = store.list_local(**scope.filters(), status=status, basic_code=basic_code,
                                       outdated=outdated, page=page, size=size)
        return {"items": [{"impl_code": r.impl_code, "basic_code": r.basic_code, "name": r.name, "org": r.org,
                           "level": r.level, "region_code": r.region_code, "status": r.status,
                           "version": r.latest_version, "published_version": r.published_version,
                           "based_on_catalogue_version": r.based_on_catalogue_version,
                           "updated_at": r.updated_at.isoformat() + "Z"} for r in rows],
                "total": total, "page": page, "size": size}

    # --- bulk claim and coverage ------------------------------------------------------------------

    def bulk_claim(self, basic_codes: list, org_credit_code: str, level: str, region_code: str | None,
                   actor: Actor, remote_ip: str = "") -> dict:
        """Claim each basic code on its own (one refused code does not undo the others) →
        {claimed, failed, results: [{basic_code, ok, impl_code | error: {code, message, details}}]}.

        Raises Forbidden once for the whole list when the actor may not claim for the org, Invalid
        when `basic_codes` is not a list of 1..BULK_CLAIM_MAX strings.
        """
        _claim_target(actor, org_credit_code, level, region_code)  # once for the list: 403/422 for all
        if (not isinstance(basic_codes, list) or not basic_codes or len(basic_codes) > BULK_CLAIM_MAX
                or not all(isinstance(c, str) and c for c in basic_codes)):
            raise invalid(f"basic_codes is a list of 1 to {BULK_CLAIM_MAX} codes", "/basic_codes", "list_of_codes")
        results = []
        for basic_code in basic_codes:
            try:
                done = self.claim(basic_code, org_credit_code, level, region_code, actor, remote_ip)
                results.append({"basic_code": basic_code, "ok": True, "impl_code": done["impl_code"],
                                "version": done["version"]})
            except DomainError as exc:
                results.append({"basic_code": basic_code, "ok": False, "error": {
                    "code": exc.code, "message": exc.message, "details": exc.details}})
        claimed = sum(1 for r in results if r["ok"])
        return {"claimed": claimed, "failed": len(results) - claimed, "results": results}

    def coverage(self, region_code: str, level: str, actor: Actor, org: str | None = None) -> dict:
        """Claim coverage of one region at one level → {region_code, level, applicable, claimed,
        unclaimed_count, claim_rate, unclaimed: [{basic_code, name, item_type}]}.

        `applicable` counts in-use catalogue items whose levels include `level`; an item is claimed
        when a department of exactly `region_code` claimed it at `level` (认领率: DOMAIN.md §4;
        claim_rate null when nothing applies). With `org`, only that department's claims count (an
        editor's claim page: what my department has not claimed yet). Raises Invalid (bad codes),
        Forbidden (outside the actor's region; province admins see all).
        """
        if not codes.is_valid_region_code(region_code or ""):
            raise invalid("region must be a GB/T 2260 code", "/region", "region_code")
        if level not in model.LEVELS:
            raise invalid("level must be one of 1..7 (GB/T 39046)", "/level", "enum")
        require_role(actor, *ROLES)
        if actor.role != "province_admin" and not region_covers(actor.region, region_code):
            raise Forbidden("that region is outside yours", code="out_of_scope", details={"region": region_code})
        applicable = store.catalogue_applying(level)
        claimed = store.claimed_basic_codes(region_code, level, org)
        unclaimed = [{"basic_code": r.basic_code, "name": r.name, "item_type": r.item_type}
                     for r in applicable if r.basic_code not in claimed]
        done = len(applicable) - len(unclaimed)
        return {"region_code": region_code, "level": level, "org": org, "applicable": len(applicable), "claimed": done,
                "unclaimed_count": len(unclaimed),
                "claim_rate": round(done / len(applicable), 4) if applicable else None, "unclaimed": unclaimed}

    # --- editing ---------------------------------------------------------------------------------

    def revise(self, impl_code: str, ops: object, if_match: int | None, actor: Actor, remote_ip: str = "",
               message: str = "") -> dict:
        """Apply an RFC 6902 patch (items.patches.apply_patch) to the latest version → the `_edit` result.
        Raises what `_edit` raises; Malformed/Invalid when the patch cannot be applied."""
        return self._edit(impl_code, if_match, actor, remote_ip, "item.revise", message or "patch",
                          lambda previous: patches.apply_document_patch(previous, ops))

    def replace(self, impl_code: str, document: object, if_match: int | None, actor: Actor,
                remote_ip: str = "", message: str = "") -> dict:
        """Replace the whole document (PUT) → the `_edit` result. Raises what `_edit` raises."""
        if not isinstance(document, dict):
            raise invalid("the item document must be a JSON object", "", "type")
        return self._edit(impl_code, if_match, actor, remote_ip, "item.replace", message or "full document",
                          lambda previous: document)

    def restore(self, impl_code: str, version: int, if_match: int | None, actor: Actor,
                remote_ip: str = "") -> dict:
        """Write an old version's document as the new latest draft → the `_edit` result.

        The catalogue-owned fields stay those of the latest version: the old version may follow an
        older catalogue version, and only a rebase moves catalogue fields. Raises NotFound (no such
        version) and what `_edit` raises.
        """
        def build(previous: dict) -> dict:
            restored = dict(store.local_version(impl_code, version).document)
            for field in (*model.CATALOGUE_OWNED, "state", *CLAIM_FIXED, "org"):
                if field in previous:
                    restored[field] = previous[field]
            return restored
        return self._edit(impl_code, if_match, actor, remote_ip, "item.restore", f"restored version {version}",
                          build)

    def _edit(self, impl_code: str, if_match: int | None, actor: Actor, remote_ip: str, action: str,
              message: str, build) -> dict:
        """Write `build(latest document)` as version N+1 in one transaction →
        {impl_code, version, status, published_version, changed, patch, warnings}.

        The item becomes a draft; a published version stays live until the next publish. An unchanged
        document writes nothing (changed: false). Raises PreconditionRequired (no If-Match), Forbidden
        (role or scope), Stale (If-Match is not the latest version; details.current_version),
        Conflict item_in_review (submitted or approved), Invalid (locked fields, validation errors).
        """
        require_role(actor, "editor", "province_admin")
        if if_match is None:
            raise PreconditionRequired("send If-Match with the version from the item's ETag",
                                       details={"header": "If-Match"})
        with store.transaction():
            head = store.local_head(impl_code, for_update=True)
            require_item_scope(actor, head.org, head.region_code)
            if head.latest_version != if_match:
                raise Stale(f"item {impl_code} is at version {head.latest_version}, not {if_match}",
                            details={"current_version": head.latest_version, "if_match": if_match})
            if head.status not in EDITABLE:
                raise Conflict(f"the item is {head.status}; recall it or wait for review before editing",
                               code="item_in_review", details={"status": head.status, "editable": list(EDITABLE)})
            previous = store.local_version(impl_code, head.latest_version).document
            document = build(previous)
            _check_locked(previous, document)
            findings = rules.validate(document, "local")
            rules.raise_if_errors(findings)
            warnings = [f.as_dict() for f in rules.warnings_of(findings)]
            if document == previous:
                return {"impl_code": impl_code, "version": head.latest_version, "status": head.status,
                        "published_version": head.published_version, "changed": False, "patch": [],
                        "warnings": warnings}
            patch = conformance.diff_documents(previous, document)
            row = {"author": actor.username, "created_at": utcnow(), "message": message,
                   "based_on_catalogue_version": head.based_on_catalogue_version, "document": document,
                   "patch": patch}
            head = store.append_local_version(head, if_match, row, {"status": "draft"})
            store.audit(actor.username, action, impl_code, remote_ip,
                        {"version": head.latest_version, "message": message, "ops": len(patch)})
        return {"impl_code": impl_code, "version": head.latest_version, "status": head.status,
                "published_version": head.published_version, "changed": True, "patch": patch,
                "warnings": warnings}


def _claim_target(actor: Actor, org_credit_code: str, level: str, region_code: str | None) -> tuple:
    """The department a claim is for and the region the item gets → (OrgRecord, region_code).

    The department's entry in the directory decides region and level (a department implements items
    where it sits, at its own level): a claim naming another region or level is refused rather than
    filed under a place the department does not serve. Raises Forbidden (another org's editor, not an
    editor), Invalid naming the field and rule (credit_code, org_known, enum, region_code, org_region,
    org_level).
    """
    _require_claimer(actor, org_credit_code)
    if not codes.is_valid_credit_code(org_credit_code or ""):
        raise invalid("not a valid GB 32100 credit code", "/org_credit_code", "credit_code")
    if level not in model.LEVELS:
        raise invalid("level must be one of 1..7 (GB/T 39046)", "/level", "enum")
    org = store.get_org(org_credit_code)
    if org is None:
        raise invalid("no such department is registered", "/org_credit_code", "org_known")
    if region_code not in (None, ""):
        if not isinstance(region_code, str) or not codes.is_valid_region_code(region_code):
            raise invalid("not a GB/T 2260 region code", "/region_code", "region_code")
        if _same_place(region_code) != _same_place(org.region_code):
            raise invalid(f"the department sits in region {org.region_code}; it claims items only there",
                          "/region_code", "org_region")
    if org.level and level != org.level:
        raise invalid(f"the department works at level {org.level}; it claims at that level", "/level", "org_level")
    return org, org.region_code


def _same_place(region_code: str) -> str:
    # 410402000000 names the same place as 410402 (GB/T 2260 12-digit form of a county)
    return region_code[:6] if len(region_code) == 12 and region_code.endswith("000000") else region_code


def _require_claimer(actor: Actor, org_credit_code: str) -> None:
    if actor.role == "editor" and actor.org != org_credit_code:
        raise Forbidden("editors claim items only for their own department", code="out_of_scope",
                        details={"org": org_credit_code})
    require_role(actor, "editor", "province_admin")


def _check_locked(previous: dict, document: dict) -> None:
    """Raise Invalid unless the four-same fields (四级四同), the catalogue-owned legal limit and state,
    and the claim's code, level, region and org stay as they are (CONTRACT.md §2)."""
    if not isinstance(document, dict):  # a patch of path "" or a PUT can offer any JSON value
        raise invalid("an item document must be a JSON object", "", "type")
    errors = []
    for field in model.FOUR_SAME:
        if document.get(field) != previous.get(field):
            errors.append({"path": "/" + field, "rule": "four_same_locked",
                           "message": f"{field} is a four-same field set by the catalogue (四级四同)"})
    for field in ("legal_limit", "state"):
        if document.get(field) != previous.get(field):
            errors.append({"path": "/" + field, "rule": "catalogue_owned",
                           "message": f"{field} is set by the catalogue; a rebase carries its changes"})
    for field in CLAIM_FIXED:
        if document.get(field) != previous.get(field):
            errors.append({"path": "/" + field, "rule": "claim_fixed", "message": f"{field} is fixed by the claim"})
    old_org, new_org = previous.get("org"), document.get("org")
    if (old_org or {}).get("credit_code") != (new_org if isinstance(new_org, dict) else {}).get("credit_code"):
        errors.append({"path": "/org/credit_code", "rule": "claim_fixed",
                       "message": "the implementing department is fixed by the claim"})
    if errors:
        raise invalid_all(f"{len(errors)} field(s) cannot be changed here; first: {errors[0]['path']}", errors,
                          code=errors[0]["rule"])
