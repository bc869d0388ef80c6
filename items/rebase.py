"""Carrying catalogue changes onto local items: conformance, one-item rebase, impact preview, bulk rebase."""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from items import model, rules, store
from items.conformance import ERROR, check, diff_documents
from items.errors import Conflict, Invalid, Malformed, Stale, invalid
from items.local import EDITABLE, LocalItemService
from items.merge import CATALOGUE, LOCAL, merge, resolve
from items.clock import utcnow
from items.scope import Actor, require_item_scope, require_role, scope_of

logger = logging.getLogger(__name__)

REBASE_ROLES = ("editor", "province_admin")
PREVIEW_ROLES = ("editor", "province_admin", "reviewer", "reform_office")
BATCH = 500
# A catalogue cut of the legal limit below what the department promises is a decision, not a merge:
# promised ≤ legal (DOMAIN.md §3). It is reported as a conflict at this path, settled like the others.
LIMIT_PATH = "/promised_limit"
BOTH_CHANGED = "changed_on_both_sides"
PROMISED_WITHIN_LEGAL = "promised_within_legal"
Progress = Callable[[int, int], None]


@dataclass
class Plan:
    """What rebasing one local item gives before anything is written: the merged document, the
    conflicts to settle (CONTRACT.md §3 shape plus the `rule` that raised them) and the validation
    errors of the merged document."""

    document: dict
    conflicts: list[dict] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)

    @property
    def outcome(self) -> str:
        """One of: conflicts, invalid (merges but breaks a rule of items/rules.py), clean."""
        return "conflicts" if self.conflicts else "invalid" if self.errors else "clean"


def _follow_legal(document: dict) -> dict:
    """The document promising exactly its legal limit, keeping the promise's note (promised 0 ⇔
    即办件: DOMAIN.md §3)."""
    out = dict(document)
    legal = document["legal_limit"]
    promised = document.get("promised_limit")
    out["promised_limit"] = dict(promised if isinstance(promised, dict) else {}, value=legal["value"],
                                 unit=legal.get("unit", "workday"))
    if model.to_days(legal) == 0:
        out["handling_type"] = "instant"
    return out


def _limit_conflict(document: dict, base: dict) -> tuple[dict, dict | None]:
    """Keep promised ≤ legal (DOMAIN.md §3) across a legal-limit change → (document, conflict or None).

    A promise of exactly the base's legal limit (the claim's copy, or a department promising the
    legal limit) follows the catalogue's new limit. A shorter promise that the cut now undercuts is
    the department's decision: a conflict at /promised_limit."""
    promised = model.to_days(document.get("promised_limit"))
    legal = model.to_days(document.get("legal_limit"))
    if promised is None or legal is None or promised <= legal + 1e-9:
        return document, None
    before = model.to_days(base.get("legal_limit"))
    if before is not None and abs(promised - before) <= 1e-9:
        return _follow_legal(document), None
    return document, {"path": LIMIT_PATH, "base": None, "local": document["promised_limit"],
                      "catalogue": document["legal_limit"], "rule": PROMISED_WITHIN_LEGAL}


def _settle_limit(document: dict, choice: Any) -> dict:
    """Apply the resolution of the promised-limit conflict: "catalogue" promises the legal limit."""
    if choice == LOCAL:
        return document  # kept as asked; the validator then names the broken rule
    if choice == CATALOGUE:
        return _follow_legal(document)
    out = dict(document)
    if choice is not None and not isinstance(choice, dict):
        raise invalid("the promised limit is resolved by \"local\", \"catalogue\", a limit object or null", LIMIT_PATH,
                      "limit_resolution_shape", code="invalid_resolution", error_message="expected an object")
    out["promised_limit"] = choice
    return out


def plan(base: dict, local: dict, target: dict, resolutions: dict | None = None,
         validate: bool = True) -> Plan:
    """Return the Plan of rebasing `local` (based on catalogue document `base`) onto `target`.

    Without `resolutions`, conflicts are listed and `document` shows local's side of each. With
    them, every conflict must be settled (items.merge.resolve), and the promised-limit conflict
    (path /promised_limit) by "local", "catalogue" or a limit. `validate` runs items/rules.py on a
    conflict-free result. Raises Malformed (a document or `resolutions` is not an object), Invalid
    (unknown_conflict_path, unresolved_conflicts, invalid_resolution).
    """
    result = merge(base, local, target)
    document, limit = _limit_conflict(result.document, base)
    if resolutions is None:
        conflicts = [dict(c.as_dict(), rule=BOTH_CHANGED) for c in result.conflicts]
        if limit:
            conflicts.append(limit)
        if conflicts:
            return Plan(document, conflicts)
    else:
        if not isinstance(resolutions, dict):
            raise invalid("resolutions map conflict paths to choices", "/resolutions", "object",
                            code="malformed_resolutions", kind=Malformed)
        own = {LIMIT_PATH: resolutions[LIMIT_PATH]} if limit and LIMIT_PATH in resolutions else {}
        document = resolve(result, {p: c for p, c in resolutions.items() if p not in own})
        document, limit = _limit_conflict(document, base)
        if limit:
            if not own:
                raise Invalid("every conflict needs a resolution", code="unresolved_conflicts",
                              details={"errors": [{"path": LIMIT_PATH, "rule": "conflict_resolved",
                                                   "message": "choose local, catalogue or a value"}],
                                       "conflicts": [limit]})
            document = _settle_limit(document, own[LIMIT_PATH])
    errors = [f.as_dict() for f in rules.errors_of(rules.validate(document, "local"))] if validate else []
    return Plan(document, [], errors)


def scope_filters(actor: Actor, roles: tuple[str, ...], region: str | None, org: str | None) -> tuple:
    """The (region prefix, org) a bulk operation may cover: the actor's scope (scope.scope_of) narrowed
    to the asked region and org. Raises Forbidden."""
    require_role(actor, *roles)
    filters = scope_of(actor).narrowed(org=org, region=region).filters()
    return filters["region_prefix"], filters["org"]


class _Catalogue:
    """The versions of one catalogue item a sweep needs, each read once."""

    def __init__(self, basic_code: str, to_version: int | None):
        self.basic_code = basic_code
        self.target = store.catalogue_version(basic_code, to_version)  # NotFound
        self.documents = {self.target.version: self.target.document}

    def document(self, version: int) -> dict:
        if version not in self.documents:
            self.documents[version] = store.catalogue_version(self.basic_code, version).document
        return self.documents[version]


def _sweep(basic_code: str, below: int | None, prefix: str | None, org: str | None,
           batch: int) -> Iterator[list[tuple]]:
    after = ""
    while True:
        rows = store.rebase_batch(basic_code, below, prefix, org, after, batch)
        if not rows:
            return
        yield rows
        after = rows[-1][0]


class RebaseService:
    """Rebase use cases. Every method is synchronous and runs off the event loop."""

    def __init__(self, items: LocalItemService):
        self.items = items

    # --- one item -------------------------------------------------------------------------------

    def conformance(self, impl_code: str, actor: Actor) -> dict:
        """The conformance report of CONTRACT.md §3 for the item's latest version, with its
        impl_code, basic_code and version. Raises NotFound, Forbidden."""
        head, record, report = self._compare(impl_code, actor, None, with_patch=True)
        return {"impl_code": impl_code, "basic_code": head.basic_code, "version": record.version, **report}

    def draft_findings(self, impl_code: str, document: dict, actor: Actor) -> list[dict]:
        """The conformance findings of an unsaved `document` of the item (an editor's draft) against the
        catalogue version its latest version is based on: what saving it would show on the comparison page
        (层层加码, a four-same element the newer catalogue changed …). Raises NotFound, Forbidden."""
        return self._compare(impl_code, actor, document, with_patch=False)[2]["findings"]

    def _compare(self, impl_code: str, actor: Actor, document: dict | None, with_patch: bool) -> tuple:
        """(head, latest version record, report) comparing `document` (default: the latest version's) with the
        catalogue version that version is based on and the newest one."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        record = store.local_version(impl_code, head.latest_version)
        catalogue = _Catalogue(head.basic_code, None)
        based_on = record.based_on_catalogue_version
        report = check(record.document if document is None else document, catalogue.document(based_on),
                       catalogue.target.document, based_on, catalogue.target.version, with_patch=with_patch)
        return head, record, report

    def rebase(self, impl_code: str, actor: Actor, to_version: int | None = None,
               resolutions: dict | None = None, if_match: int | None = None, remote_ip: str = "") -> dict:
        """Three-way merge of the item's latest version onto catalogue `to_version` (default latest).

        Returns {status: "up_to_date"} when already based on it; {status: "conflicts", document,
        conflicts} and writes nothing while conflicts remain unresolved; otherwise writes a new
        draft version based on the target → {status: "clean", document, conflicts: [], version,
        patch, warnings}. Raises Forbidden, NotFound, Stale (If-Match is not the latest version, or
        another write came first), Conflict item_in_review, Invalid (rebase_backwards, resolution
        errors of `plan`, validation errors of the merged document).
        """
        require_role(actor, *REBASE_ROLES)
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        if if_match is not None and if_match != head.latest_version:
            raise Stale(f"item {impl_code} is at version {head.latest_version}, not {if_match}",
                        details={"current_version": head.latest_version, "if_match": if_match})
        record = store.local_version(impl_code, head.latest_version)
        based_on = record.based_on_catalogue_version
        catalogue = _Catalogue(head.basic_code, to_version)
        target = catalogue.target.version
        out = {"impl_code": impl_code, "based_on_catalogue_version": based_on, "to_version": target}
        if target < based_on:
            raise invalid(f"the item already follows catalogue version {based_on}", "/to_version", "rebase_forward",
                          code="rebase_backwards", error_message=f"to_version must be at least {based_on}")
        if target == based_on:
            return dict(out, status="up_to_date", version=head.latest_version, conflicts=[])
        if head.status not in EDITABLE:  # the reviewed version must be the one published: items/local.py
            raise Conflict(f"the item is {head.status}; recall it or wait for review before rebasing",
                           code="item_in_review", details={"status": head.status, "editable": list(EDITABLE)})
        result = plan(catalogue.document(based_on), record.document, catalogue.target.document, resolutions,
                      validate=False)
        if result.conflicts:
            return dict(out, status="conflicts", version=head.latest_version, document=result.document,
                        conflicts=result.conflicts)
        saved = self.items.write_version(
            impl_code, result.document, actor, message=f"rebase onto catalogue v{target}",
            expected_version=head.latest_version, based_on=target,
            head_changes={"status": "draft", "name": result.document.get("name", head.name)},
            remote_ip=remote_ip, action="item.rebase")
        return dict(out, status="clean", based_on_catalogue_version=target, version=saved["version"],
                    document=result.document, conflicts=[], patch=saved["patch"], warnings=saved["warnings"])

    def preview(self, impl_code: str, actor: Actor, to_version: int | None = None) -> dict:
        """What `rebase` would do, writing nothing → {impl_code, version, based_on_catalogue_version,
        to_version, status: up_to_date | clean | conflicts | invalid, document (merged, each conflict
        on local's side), conflicts, errors (items/rules.py errors of a conflict-free merge)}.
        Raises Forbidden, NotFound, Invalid rebase_backwards."""
        head = store.local_head(impl_code)
        require_item_scope(actor, head.org, head.region_code)
        record = store.local_version(impl_code, head.latest_version)
        based_on = record.based_on_catalogue_version
        catalogue = _Catalogue(head.basic_code, to_version)
        target = catalogue.target.version
        out = {"impl_code": impl_code, "version": head.latest_version, "based_on_catalogue_version": based_on,
               "to_version": target, "local": record.document}
        if target < based_on:
            raise invalid(f"the item already follows catalogue version {based_on}", "/to_version", "rebase_forward",
                          code="rebase_backwards", error_message=f"to_version must be at least {based_on}")
        if target == based_on:
            return dict(out, status="up_to_date", document=record.document, conflicts=[], errors=[])
        result = plan(catalogue.document(based_on), record.document, catalogue.target.document)
        return dict(out, status=result.outcome, document=result.document, conflicts=result.conflicts,
                    errors=result.errors)

    # --- every item of one catalogue item ---------------------------------------------------------

    def impact(self, basic_code: str, actor: Actor, to_version: int | None = None, region: str | None = None,
               org: str | None = None, progress: Progress | None = None, batch: int = BATCH) -> dict:
        """Preview of rebasing every local item of `basic_code` based on an older catalogue version
        onto `to_version` (default latest); writes nothing → {basic_code, to_version, items, clean,
        conflicts, invalid, in_review, conflict_paths: {path: items}, invalid_rules: {"path rule":
        items}, by_base_version: {version: items}}. Raises Forbidden, NotFound."""
        prefix, org = scope_filters(actor, PREVIEW_ROLES, region, org)
        catalogue = _Catalogue(basic_code, to_version)
        target = catalogue.target
        total = store.count_local_of(basic_code, target.version, prefix, org)
        counts: Counter = Counter()
        paths: Counter = Counter()
        broken: Counter = Counter()
        bases: Counter = Counter()
        done = 0
        for rows in _sweep(basic_code, target.version, prefix, org, batch):
            for impl_code, version, based_on, status, _, _, document in rows:
                bases[str(based_on)] += 1
                result = plan(catalogue.document(based_on), document, target.document)
                outcome = result.outcome if status in EDITABLE else "in_review"
                counts[outcome] += 1
                paths.update(c["path"] for c in result.conflicts)
                broken.update(f"{e['path']} {e['rule']}" for e in result.errors)
            done += len(rows)
            if progress:
                progress(done, total)
        return {"basic_code": basic_code, "to_version": target.version, "items": done,
                **{k: counts[k] for k in ("clean", "conflicts", "invalid", "in_review")},
                "conflict_paths": dict(paths.most_common()), "invalid_rules": dict(broken.most_common()),
                "by_base_version": dict(sorted(bases.items()))}

    def rebase_all(self, basic_code: str, actor: Actor, to_version: int | None = None,
                   region: str | None = None, org: str | None = None, remote_ip: str = "",
                   progress: Progress | None = None, batch: int = BATCH) -> dict:
        """Rebase every local item of `basic_code` based on an older catalogue version onto
        `to_version` (default latest): each clean one gets one new draft version (verified id-aware
        patch, audit entry), written batch by batch with one transaction per batch; the rest are
        listed → {basic_code, to_version, items, rebased, conflicts, invalid, in_review, stale,
        conflicted: [{impl_code, version, paths}], invalid_items: [{impl_code, version, errors}],
        in_review_items: [{impl_code, status}], stale_items: [impl_code], conflict_paths}.
        `stale` items changed while the batch merged; running again picks them up.
        Raises Forbidden, NotFound, Invalid code patch_unverified (never expected).
        """
        prefix, org = scope_filters(actor, REBASE_ROLES, region, org)
        catalogue = _Catalogue(basic_code, to_version)
        target = catalogue.target
        message = f"rebase onto catalogue v{target.version}"
        total = store.count_local_of(basic_code, target.version, prefix, org)
        out: dict[str, Any] = {"basic_code": basic_code, "to_version": target.version, "items": 0, "rebased": 0,
                               "conflicted": [], "invalid_items": [], "in_review_items": [], "stale_items": []}
        paths: Counter = Counter()
        for rows in _sweep(basic_code, target.version, prefix, org, batch):
            now = utcnow()
            ready, audits = [], []
            for impl_code, version, based_on, status, _, _, document in rows:
                if status not in EDITABLE:
                    out["in_review_items"].append({"impl_code": impl_code, "status": status})
                    continue
                result = plan(catalogue.document(based_on), document, target.document)
                if result.conflicts:
                    paths.update(c["path"] for c in result.conflicts)
                    out["conflicted"].append({"impl_code": impl_code, "version": version,
                                              "paths": [c["path"] for c in result.conflicts]})
                    continue
                if result.errors:
                    out["invalid_items"].append({"impl_code": impl_code, "version": version,
                                                 "errors": result.errors})
                    continue
                ready.append({"impl_code": impl_code, "version": version + 1, "author": actor.username,
                              "created_at": now, "message": message, "based_on_catalogue_version": target.version,
                              "document": result.document,
                              "patch": diff_documents(document, result.document)})  # verified by applying
                audits.append({"at": now, "actor": actor.username, "action": "item.rebase", "target": impl_code,
                               "remote_ip": remote_ip or "", "details": {
                                   "version": version + 1, "message": message, "from_catalogue_version": based_on,
                                   "bulk": True}})
            if ready:
                written = self._write_batch(ready, audits, target.version, target.document.get("name", ""))
                out["rebased"] += len(written)
                out["stale_items"] += [r["impl_code"] for r in ready if r["impl_code"] not in written]
            out["items"] += len(rows)
            if progress:
                progress(out["items"], total)
        out.update(conflicts=len(out["conflicted"]), invalid=len(out["invalid_items"]),
                   in_review=len(out["in_review_items"]), stale=len(out["stale_items"]),
                   conflict_paths=dict(paths.most_common()))
        logger.info("bulk rebase of %s onto v%d by %s: %d rebased, %d conflicts, %d invalid", basic_code,
                    target.version, actor.username, out["rebased"], out["conflicts"], out["invalid"])
        return out

    @staticmethod
    def _write_batch(ready: list[dict], audits: list[dict], based_on: int, name: str) -> set[str]:
        """Write the rows whose head is still where they were merged from, in one transaction."""
        with store.transaction():
            heads = store.lock_local_versions([r["impl_code"] for r in ready])
            keep = [k for k, r in enumerate(ready)
                    if heads.get(r["impl_code"], (None, ""))[0] == r["version"] - 1
                    and heads[r["impl_code"]][1] in EDITABLE]
            if keep:
                store.append_rebased_versions([ready[k] for k in keep], based_on, name, [audits[k] for k in keep])
        return {ready[k]["impl_code"] for k in keep}

    def check_all(self, basic_code: str, actor: Actor, region: str | None = None, org: str | None = None,
                  with_patch: bool = False, progress: Progress | None = None, batch: int = BATCH) -> dict:
        """Conformance of every local item of `basic_code` (items/conformance.py check; patches only
        with `with_patch`) → {basic_code, latest_catalogue_version, items, outdated, with_errors,
        findings: {kind: items}, four_same_deviations: [impl_code]}. Raises Forbidden, NotFound."""
        prefix, org = scope_filters(actor, PREVIEW_ROLES, region, org)
        catalogue = _Catalogue(basic_code, None)
        latest = catalogue.target
        total = store.count_local_of(basic_code, None, prefix, org)
        kinds: Counter = Counter()
        out: dict[str, Any] = {"basic_code": basic_code, "latest_catalogue_version": latest.version, "items": 0,
                               "outdated": 0, "with_errors": 0, "four_same_deviations": []}
        for rows in _sweep(basic_code, None, prefix, org, batch):
            for impl_code, _, based_on, _, _, _, document in rows:
                report = check(document, catalogue.document(based_on), latest.document, based_on, latest.version,
                               with_patch=with_patch)
                found = {f["kind"] for f in report["findings"]}
                kinds.update(found)
                out["outdated"] += report["outdated"]
                out["with_errors"] += any(f["severity"] == ERROR for f in report["findings"])
                if "four_same_deviation" in found:
                    out["four_same_deviations"].append(impl_code)
            out["items"] += len(rows)
            if progress:
                progress(out["items"], total)
        out["findings"] = dict(kinds.most_common())
        return out
