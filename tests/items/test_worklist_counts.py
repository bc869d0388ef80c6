"""The worklist's error and warning counts are stored with each version and equal the rule engine's, for
versions written by claims, revisions, rebases, raw inserts (NULL, counted on read) and migration 3."""
from __future__ import annotations

import copy

from console.world import ORG_A, seed
from items import rules, store
from items.records import LocalItemRecord, LocalVersionRecord
from items.scope import Actor
from items.worklist import worklist
from server.migrations import m0003_rule_counts

EDITOR = Actor("editor_a", "editor", ORG_A, "410402")


def _engine_counts(document) -> tuple[int, int]:
    findings = rules.validate(document, "local")
    return len(rules.errors_of(findings)), len(rules.warnings_of(findings))


def _broken(document: dict, how: int) -> dict:
    """Documents breaking different rules: errors (promised over legal), warnings, both, none."""
    doc = copy.deepcopy(document)
    if how % 4 == 0:
        doc["promised_limit"] = {"value": 999, "unit": "workday", "note": ""}
    elif how % 4 == 1:
        doc["complaint_phone"] = doc["phone"] = "0375-1234567"
        doc["legal_limit"] = {"value": 800, "unit": "workday", "note": ""}
    elif how % 4 == 2:
        doc["visits"] = 9
        doc["fees"] = [{"id": "f1", "name": "工本费"}]
    return doc


def _assert_worklist_matches_the_engine(items) -> int:
    """Every row's counts equal the engine's on its latest document → the sum of all counts."""
    page = worklist(items, EDITOR, size=50)
    documents = store.latest_documents([r["impl_code"] for r in page["items"]])
    for row in page["items"]:
        assert (row["errors"], row["warnings"]) == _engine_counts(documents[row["impl_code"]]), row["impl_code"]
    return sum(r["errors"] + r["warnings"] for r in page["items"])


def test_stored_counts_equal_the_rule_engine_for_every_way_a_version_is_written(running_app):
    ctx = running_app.ctx
    world = seed(ctx, hash_passwords=False)
    with ctx.db.connection_context():
        codes = [world["claimed"]] + [ctx.items.claim(b, ORG_A, "4", "410402", EDITOR)["impl_code"]
                                      for b in world["basic_codes"][1:]]
        for n, code in enumerate(codes):  # versions the services would refuse, as a legacy import leaves
            head = store.local_head(code)
            document = _broken(store.local_version(code, head.latest_version).document, n)
            with store.transaction():
                store.append_local_version(head, None, {"author": "import", "document": document, "patch": [],
                                                        "based_on_catalogue_version": 1}, {})
        stored = {r.impl_code: (r.rule_errors, r.rule_warnings) for r in LocalVersionRecord.select()
                  .join(LocalItemRecord, on=((LocalVersionRecord.impl_code == LocalItemRecord.impl_code)
                                             & (LocalVersionRecord.version == LocalItemRecord.latest_version)))}
        assert all(None not in counts for counts in stored.values())
        assert _assert_worklist_matches_the_engine(ctx.items) > 0  # the documents do break rules

        LocalVersionRecord.update(rule_errors=None, rule_warnings=None).execute()  # written before step 3
        _assert_worklist_matches_the_engine(ctx.items)
        m0003_rule_counts.apply(ctx.db)
        assert not LocalVersionRecord.select().where(LocalVersionRecord.rule_errors.is_null()).exists()
        for version in LocalVersionRecord.select():
            assert (version.rule_errors, version.rule_warnings) == _engine_counts(version.document)
        _assert_worklist_matches_the_engine(ctx.items)
