"""The province catalogue (基本目录): revise one item, import a file, read any version and its history."""
from __future__ import annotations

import gc
import logging
from typing import Callable

from items import conformance, importer, model, rules, store
from items.entry_match import match_entries
from items.errors import invalid, not_an_object
from items.clock import utcnow
from items.scope import Actor, require_role

logger = logging.getLogger(__name__)

def _catalogue_view(document: dict) -> dict:
    """The catalogue-block fields of `document`, not copied: model.normalize builds the copy."""
    return {k: document[k] for k in model.CATALOGUE_FIELDS if k in document}


def _without_ids(document: dict) -> dict:
    """`document` with the ids of its list entries removed (a copy; the input is left as it is)."""
    out = dict(document)
    for field in model.LIST_FIELDS:
        if isinstance(out.get(field), list):
            out[field] = [{k: v for k, v in e.items() if k != "id"} if isinstance(e, dict) else e
                          for e in out[field]]
    return out


def creation_patch(document: dict) -> list[dict]:
    """The RFC 6902 patch from nothing ({}) to `document`: one add per field."""
    return [{"op": "add", "path": "/" + key.replace("~", "~0").replace("/", "~1"), "value": value}
            for key, value in document.items()]


class CatalogueService:
    """Use cases of catalogue admins. Every method is synchronous and runs off the event loop."""

    def put(self, basic_code: str, document: dict, actor: Actor, message: str = "",
            remote_ip: str = "") -> dict:
        """Create or revise one catalogue item → {basic_code, version, patch, changed, warnings}.
        Raises Forbidden (not province_admin), Invalid (rule failures, code mismatch)."""
        require_role(actor, "province_admin")
        if not isinstance(document, dict):
            raise not_an_object("the catalogue item")
        if document.get("basic_code", basic_code) != basic_code:
            raise invalid("basic_code in the document differs from the URL", "/basic_code", "matches_url",
                          error_message=f"expected {basic_code}")
        document = dict(document, basic_code=basic_code)
        with store.transaction():
            head = store.catalogue_head(basic_code)
            previous = store.catalogue_version(basic_code).document if head else None
            prepared, renames = self._prepare(document, previous)
            findings = rules.validate(prepared, "catalogue")
            rules.raise_if_errors(findings)
            result = self._write([(prepared, previous, head.latest_version if head else 0)], actor, message)
            if result:
                store.audit(actor.username, "catalogue.put", basic_code, remote_ip,
                            {"version": result[0]["version"], "message": message})
        warnings = [f.as_dict() for f in rules.warnings_of(findings)]
        if not result:
            return {"basic_code": basic_code, "version": head.latest_version, "patch": [], "changed": False,
                    "warnings": warnings, "renames": renames}
        return dict(result[0], changed=True, warnings=warnings, renames=renames)

    @staticmethod
    def _prepare(document: dict, previous: dict | None) -> tuple[dict, list[dict]]:
        matched, renames = match_entries(previous, model.normalize(_catalogue_view(document)))
        return model.assign_ids(matched), renames

    @staticmethod
    def _write(batch: list[tuple[dict, dict | None, int]], actor: Actor, message: str) -> list[dict]:
        """Write version N+1 for each changed document of (document, previous, latest) → written rows."""
        now = utcnow()
        rows, out = [], []
        for document, previous, latest in batch:
            if previous is not None and previous == document:
                continue  # an unchanged item makes no new version
            patch = conformance.diff_documents(previous, document) if previous is not None else creation_patch(document)
            rows.append({"basic_code": document["basic_code"], "version": latest + 1, "author": actor.username,
                         "message": message, "document": document, "patch": patch, "created_at": now})
            out.append({"basic_code": document["basic_code"], "version": latest + 1, "patch": patch})
        if rows:
            store.insert_catalogue_versions(rows)
        return out

    def import_file(self, data: bytes, filename: str, actor: Actor, dry_run: bool = False,
                    message: str = "", remote_ip: str = "",
                    progress: Callable[[int, int], None] | None = None) -> dict:
        """Import a .json, .csv or .xlsx catalogue file (see _import_file)."""
        # An import holds every parsed row until all are valid (nothing is written otherwise); the cyclic
        # collector rescanning those long-lived documents cost ~15 % of a 100,000-row import, and
        # JSON documents hold no reference cycles to collect.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._import_file(data, filename, actor, dry_run, message, remote_ip, progress)
        finally:
            if was_enabled:
                gc.enable()

    def _import_file(self, data: bytes, filename: str, actor: Actor, dry_run: bool = False,
                    message: str = "", remote_ip: str = "",
                    progress: Callable[[int, int], None] | None = None) -> dict:
        """Import a .json, .csv or .xlsx catalogue file. Bad rows are reported row by row with field and
        rule; when any row is bad nothing is written. Returns the report (see docs/import-format.md)."""
        require_role(actor, "province_admin")
        parsed = importer.read_catalogue(data, filename)
        total = len(parsed.rows)
        report = {"format": parsed.format, "source": parsed.source, "rows": total, "created": 0, "updated": 0,
                  "unchanged": 0, "errors": [], "warnings": [], "renames": [], "dry_run": dry_run,
                  "written": False}
        # Only govhall JSON files carry ids of their own; tables and the Liaoning export number entries
        # by position, which says nothing about which entry is which, so those ids are set aside below.
        file_ids = parsed.format == "json" and parsed.source == "govhall"
        prepared_rows: list[tuple[int, dict, dict]] = []  # (row, document as read, with ids assigned)
        seen: dict[str, int] = {}
        for row in parsed.rows:
            errors = [dict(e) for e in row.errors]
            document = read = None
            if row.document is not None:
                # ids the file brings are kept apart from those assigned here: only the first are identity
                read = model.normalize(_catalogue_view(row.document))
                document = model.assign_ids(read)
                findings = rules.validate(document, "catalogue")
                errors += [{"field": f.path, "rule": f.rule, "message": f.message} for f in rules.errors_of(findings)]
                warnings = [dict(w) for w in getattr(row, "warnings", [])]
                warnings += [{"field": f.path, "rule": f.rule, "message": f.message} for f in rules.warnings_of(findings)]
                if warnings:
                    report["warnings"].append({"row": row.row, "basic_code": document.get("basic_code"),
                                               "warnings": warnings})
                code = document.get("basic_code")
                if code in seen:
                    errors.append({"field": "/basic_code", "rule": "unique_in_file",
                                   "message": f"basic code {code} also on row {seen[code]}"})
                elif code:
                    seen[code] = row.row
            if errors:
                report["errors"].append({"row": row.row, "basic_code": (document or {}).get("basic_code"),
                                         "errors": errors})
            else:
                prepared_rows.append((row.row, read, document))
        if report["errors"] or not prepared_rows:
            return report
        chunk = 1000
        done = 0
        with store.transaction():
            for start in range(0, len(prepared_rows), chunk):
                part = prepared_rows[start:start + chunk]
                codes_ = [doc["basic_code"] for _, _, doc in part]
                heads = store.catalogue_heads(codes_)
                previous = store.catalogue_documents([(c, heads[c].latest_version) for c in codes_ if c in heads])
                batch = []
                for row_no, read, doc in part:
                    prev = previous.get(doc["basic_code"])
                    if prev is not None:
                        matched, renames = match_entries(prev, read if file_ids else _without_ids(read))
                        doc = model.assign_ids(matched)
                        report["renames"] += [dict(r, row=row_no, basic_code=doc["basic_code"]) for r in renames]
                    batch.append((doc, prev, heads[doc["basic_code"]].latest_version if doc["basic_code"] in heads else 0))
                written = self._write(batch, actor, message or f"import {filename}") if not dry_run else [
                    {"basic_code": d["basic_code"], "version": n + 1} for d, p, n in batch if p != d]
                for row in written:
                    report["created" if row["version"] == 1 else "updated"] += 1
                report["unchanged"] += len(batch) - len(written)
                done += len(part)
                if progress:
                    progress(done, len(prepared_rows))
            if not dry_run:
                store.audit(actor.username, "catalogue.import", filename[:64], remote_ip,
                            {k: report[k] for k in ("rows", "created", "updated", "unchanged")})
        report["written"] = not dry_run
        return report

    def get(self, basic_code: str, version: int | None = None) -> dict:
        """One version of a catalogue item (latest by default). Raises NotFound."""
        record = store.catalogue_version(basic_code, version)
        head = store.catalogue_head(basic_code)
        return {"basic_code": basic_code, "version": record.version, "latest_version": head.latest_version,
                "author": record.author, "created_at": record.created_at.isoformat() + "Z",
                "message": record.message, "document": record.document}

    def versions(self, basic_code: str) -> dict:
        store.catalogue_version(basic_code)  # NotFound for an unknown item
        return {"basic_code": basic_code, "versions": [
            {"version": r.version, "author": r.author, "created_at": r.created_at.isoformat() + "Z",
             "message": r.message, "patch": r.patch} for r in store.catalogue_versions(basic_code)]}

    def diff(self, basic_code: str, from_version: int, to_version: int) -> dict:
        """The RFC 6902 patch between two versions."""
        a = store.catalogue_version(basic_code, from_version).document
        b = store.catalogue_version(basic_code, to_version).document
        return {"basic_code": basic_code, "from": from_version, "to": to_version, "patch": conformance.diff_documents(a, b)}

    def list(self, q=None, item_type=None, state=None, level=None, page=1, size=50) -> dict:
        rows, total = store.list_catalogue(q, item_type, state, level, page, size)
        return {"items": [{"basic_code": r.basic_code, "name": r.name, "item_type": r.item_type, "state": r.state,
                           "levels": r.levels.split(",") if r.levels else [], "version": r.latest_version,
                           "updated_at": r.updated_at.isoformat() + "Z"} for r in rows],
                "total": total, "page": page, "size": size}
