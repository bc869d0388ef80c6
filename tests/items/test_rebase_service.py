"""Rebase service: the promised-limit rule on pure documents, then bulk paths on SQLite and PostgreSQL."""
from __future__ import annotations

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from items import codes, store
from items.catalogue import CatalogueService
from items.errors import Conflict, Forbidden, Invalid
from items.local import LocalItemService
from items.rebase import LIMIT_PATH, RebaseService, plan
from items.records import AuditRecord, LocalVersionRecord
from items.scope import Actor

BASIC = "000104002000"
ADMIN = Actor(username="admin", role="province_admin")


def limit(value: float) -> dict:
    return {"value": value, "unit": "workday", "note": ""}


def material(mid: str, name: str) -> dict:
    return {"id": mid, "name": name, "necessity": "required", "source": "applicant", "form": "both",
            "originals": 1, "copies": 1, "e_license": "", "note": ""}


def catalogue_doc() -> dict:
    return {"basic_code": BASIC, "name": "建筑工程施工许可证核发", "item_type": "01",
            "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "……"}],
            "levels": ["3", "4"], "state": "in_use", "legal_limit": limit(15), "service_objects": ["enterprise"],
            "conditions": [], "materials": [material("m1", "申请表"), material("m2", "规划许可证"),
                                            material("m3", "施工合同")],
            "process": [], "fees": [], "faq": []}


def local_doc(catalogue: dict, promised: float) -> dict:
    credit = codes.make_credit_code("11410402MB1234567")
    doc = {k: copy.deepcopy(v) for k, v in catalogue.items() if k != "levels"}
    doc.update({"impl_code": credit + "4" + BASIC, "level": "4", "org": {"credit_code": credit, "name": "住建局"},
                "region_code": "410402", "promised_limit": limit(promised), "handling_type": "promised",
                "visits": 1, "online_depth": 2, "channels": ["window"], "scope": None, "commitment": False,
                "location": "", "hours": "", "phone": "", "complaint_phone": "", "result": None, "aliases": []})
    return doc


def cut(catalogue: dict, value: float) -> dict:
    return dict(catalogue, legal_limit=limit(value))


# --- the promised-limit rule (pure) ----------------------------------------------------------------

def test_a_promise_left_at_the_claimed_legal_limit_follows_a_legal_cut():
    base = catalogue_doc()
    result = plan(base, local_doc(base, 15), cut(base, 10))
    assert result.outcome == "clean"
    assert result.document["promised_limit"] == limit(10) and result.document["legal_limit"] == limit(10)


def test_a_chosen_promise_above_the_new_legal_limit_is_a_conflict_and_a_value_settles_it():
    base = catalogue_doc()
    local = local_doc(base, 12)
    result = plan(base, local, cut(base, 10))
    assert [(c["path"], c["rule"]) for c in result.conflicts] == [(LIMIT_PATH, "promised_within_legal")]
    assert result.document["promised_limit"] == limit(12)  # local's side while unresolved
    settled = plan(base, local, cut(base, 10), {LIMIT_PATH: limit(8)})
    assert settled.outcome == "clean" and settled.document["promised_limit"] == limit(8)


def test_a_legal_cut_to_zero_settled_by_the_catalogue_makes_an_instant_item():
    base = catalogue_doc()
    settled = plan(base, local_doc(base, 12), cut(base, 0), {LIMIT_PATH: "catalogue"})
    assert settled.outcome == "clean"
    assert settled.document["promised_limit"]["value"] == 0 and settled.document["handling_type"] == "instant"


def test_a_promise_within_the_new_legal_limit_is_kept_and_resolving_it_is_an_unknown_path():
    base = catalogue_doc()
    local = local_doc(base, 5)
    assert plan(base, local, cut(base, 10)).document["promised_limit"] == limit(5)
    with pytest.raises(Invalid) as raised:
        plan(base, local, cut(base, 10), {LIMIT_PATH: "catalogue"})
    assert raised.value.code == "unknown_conflict_path"


def test_the_promised_limit_conflict_needs_its_own_resolution_of_the_right_shape():
    base = catalogue_doc()
    local = local_doc(base, 12)
    with pytest.raises(Invalid) as missing:
        plan(base, local, cut(base, 10), {})
    assert missing.value.code == "unresolved_conflicts"
    with pytest.raises(Invalid) as shape:
        plan(base, local, cut(base, 10), {LIMIT_PATH: 7})
    assert shape.value.code == "invalid_resolution"


def test_a_merge_that_breaks_a_rule_is_invalid_not_clean():
    base = catalogue_doc()
    local = dict(local_doc(base, 5), visits=9)
    result = plan(base, local, cut(base, 10))
    assert result.outcome == "invalid"
    assert [(e["path"], e["rule"]) for e in result.errors] == [("/visits", "visits_range")]


@settings(max_examples=60, deadline=None)
@given(promised=st.integers(0, 30), legal=st.integers(1, 30))
def test_a_clean_rebase_never_promises_more_than_the_legal_limit(promised, legal):
    base = catalogue_doc()
    local = local_doc(base, promised)
    if promised == 0:
        local["handling_type"] = "instant"
    result = plan(base, local, cut(base, legal))
    if result.outcome == "clean":
        assert result.document["promised_limit"]["value"] <= legal
    else:
        assert promised > legal and promised != 15
        assert [c["path"] for c in result.conflicts] == [LIMIT_PATH]


# --- on real storage -------------------------------------------------------------------------------

ORGS = [codes.make_credit_code(f"11410402MB{n:07d}") for n in range(1, 6)]


@pytest.fixture
def stack(db_url):
    from server import db as dbmod
    db = dbmod.connect(db_url)
    with db.connection_context():
        store.ensure_region("410400", "平顶山市", None, "3")
        store.ensure_region("410402", "卫东区", "410400", "4")
        for n, credit in enumerate(ORGS, 1):
            store.ensure_org(credit, f"卫东区第{n}局", "410402", "4")
        catalogue, items = CatalogueService(), LocalItemService()
        catalogue.put(BASIC, catalogue_doc(), ADMIN)
        impl_codes = [items.claim(BASIC, credit, "4", "410402", ADMIN)["impl_code"] for credit in ORGS]
        yield catalogue, items, RebaseService(items), impl_codes
    db.close()


def editor(n: int) -> Actor:
    return Actor(username=f"ed{n}", role="editor", org=ORGS[n])


def revise(items: LocalItemService, impl_code: str, change, actor: Actor = ADMIN) -> None:
    doc = copy.deepcopy(items.get(impl_code)["document"])
    change(doc)
    items.write_version(impl_code, doc, actor, message="local edit")


def test_bulk_rebase_walks_every_batch_reports_progress_and_lists_what_it_left(stack):
    catalogue, items, service, impl_codes = stack
    revise(items, impl_codes[1], lambda d: d["materials"][2].update(copies=4))   # edits what the catalogue drops
    revise(items, impl_codes[2], lambda d: d["promised_limit"].update(value=12))  # above the coming cut
    revise(items, impl_codes[3], lambda d: d["materials"].reverse())
    store.update_local_head(impl_codes[4], status="submitted")
    new = catalogue_doc()
    new["materials"] = new["materials"][:2]
    new["legal_limit"] = limit(10)
    catalogue.put(BASIC, new, ADMIN)

    seen = []
    report = service.rebase_all(BASIC, ADMIN, progress=lambda done, total: seen.append((done, total)), batch=2)
    assert seen == [(2, 5), (4, 5), (5, 5)]
    assert (report["items"], report["rebased"], report["conflicts"], report["in_review"]) == (5, 2, 2, 1)
    assert {c["impl_code"]: c["paths"] for c in report["conflicted"]} == {
        impl_codes[1]: ["/materials/m3"], impl_codes[2]: [LIMIT_PATH]}
    assert report["in_review_items"] == [{"impl_code": impl_codes[4], "status": "submitted"}]
    assert report["conflict_paths"] == {"/materials/m3": 1, LIMIT_PATH: 1}
    for impl in (impl_codes[0], impl_codes[3]):
        item = items.get(impl)
        assert item["based_on_catalogue_version"] == 2 and item["status"] == "draft"
        assert item["document"]["promised_limit"] == limit(10) and "m3" not in [m["id"] for m in
                                                                               item["document"]["materials"]]
    assert [m["id"] for m in items.get(impl_codes[3])["document"]["materials"]] == ["m2", "m1"]
    audit = AuditRecord.select().where((AuditRecord.action == "item.rebase")
                                       & (AuditRecord.target == impl_codes[0])).get()
    assert audit.details["version"] == 2 and audit.details["from_catalogue_version"] == 1


def test_an_item_written_while_its_batch_merges_is_left_stale_not_overwritten(stack, monkeypatch):
    catalogue, items, service, impl_codes = stack
    catalogue.put(BASIC, cut(catalogue_doc(), 12), ADMIN)
    real = store.rebase_batch

    def with_a_concurrent_edit(*args, **kwargs):
        rows = real(*args, **kwargs)
        if rows and rows[0][0] == impl_codes[0]:
            revise(items, impl_codes[0], lambda d: d.update(phone="0375-1234567"))
        return rows
    monkeypatch.setattr(store, "rebase_batch", with_a_concurrent_edit)
    report = service.rebase_all(BASIC, ADMIN)
    assert report["stale_items"] == [impl_codes[0]] and report["rebased"] == 4
    kept = items.get(impl_codes[0])
    assert (kept["version"], kept["based_on_catalogue_version"]) == (2, 1)
    assert kept["document"]["phone"] == "0375-1234567"
    monkeypatch.setattr(store, "rebase_batch", real)
    assert service.rebase_all(BASIC, ADMIN)["rebased"] == 1


def test_impact_preview_matches_what_the_bulk_rebase_then_does(stack):
    catalogue, items, service, impl_codes = stack
    revise(items, impl_codes[0], lambda d: d["materials"][0].update(note="本地说明"))
    new = catalogue_doc()
    new["materials"][0]["note"] = "省级说明"
    catalogue.put(BASIC, new, ADMIN)
    versions = LocalVersionRecord.select().count()
    preview = service.impact(BASIC, ADMIN)
    assert LocalVersionRecord.select().count() == versions
    done = service.rebase_all(BASIC, ADMIN)
    assert (preview["clean"], preview["conflicts"]) == (done["rebased"], done["conflicts"]) == (4, 1)
    assert preview["conflict_paths"] == done["conflict_paths"] == {"/materials/m1/note": 1}


def test_bulk_conformance_counts_findings_and_names_four_same_deviations(stack):
    catalogue, items, service, impl_codes = stack
    tampered = copy.deepcopy(items.get(impl_codes[2])["document"])
    tampered["basis"][0]["article"] = "第八条"
    LocalVersionRecord.update(document=tampered).where(LocalVersionRecord.impl_code == impl_codes[2]).execute()
    revise(items, impl_codes[3], lambda d: d["materials"].append(material("m9", "本地加码材料")))
    catalogue.put(BASIC, cut(catalogue_doc(), 12), ADMIN)
    report = service.check_all(BASIC, ADMIN)
    assert (report["items"], report["outdated"], report["with_errors"]) == (5, 5, 1)
    assert report["four_same_deviations"] == [impl_codes[2]]
    assert report["findings"]["material_added"] == 1
    assert service.check_all(BASIC, editor(3))["items"] == 1


def test_scope_of_the_bulk_operations_follows_the_actor(stack):
    _, _, service, impl_codes = stack
    with pytest.raises(Forbidden):
        service.rebase_all(BASIC, editor(0), org=ORGS[1])
    with pytest.raises(Forbidden):
        service.rebase_all(BASIC, Actor(username="rev", role="reviewer", region="410400"))
    with pytest.raises(Forbidden):
        service.impact(BASIC, Actor(username="rev", role="reviewer", region="410300"), region="410402")
    assert service.impact(BASIC, Actor(username="rev", role="reviewer", region="410400"))["items"] == 0


def test_single_rebase_of_an_item_in_review_is_refused(stack):
    catalogue, _, service, impl_codes = stack
    catalogue.put(BASIC, cut(catalogue_doc(), 12), ADMIN)
    store.update_local_head(impl_codes[0], status="submitted")
    with pytest.raises(Conflict) as raised:
        service.rebase(impl_codes[0], ADMIN)
    assert raised.value.code == "item_in_review"


def test_the_rebase_command_previews_then_rebases_with_a_json_summary(stack, db_url, monkeypatch, capsys):
    catalogue, items, _, impl_codes = stack
    catalogue.put(BASIC, cut(catalogue_doc(), 12), ADMIN)
    monkeypatch.setenv("GOVHALL_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVHALL_SECRET_KEY", "test-secret-key-0123456789")
    from server.cli import main
    assert main(["rebase", "--basic-code", BASIC, "--dry-run"]) == 0
    preview = json.loads(capsys.readouterr().out)
    assert (preview["items"], preview["clean"]) == (5, 5)
    assert items.get(impl_codes[0])["version"] == 1
    assert main(["rebase", "--basic-code", BASIC, "--org", ORGS[0]]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["items"], summary["rebased"]) == (1, 1)
    assert items.get(impl_codes[0])["based_on_catalogue_version"] == 2


def test_an_unsaved_draft_is_compared_with_the_catalogue_it_is_based_on(stack):
    catalogue, items, service, impl_codes = stack
    draft = copy.deepcopy(items.get(impl_codes[0])["document"])
    draft["materials"].append(material("m9", "本地加码材料"))
    found = {(f["path"], f["kind"], f["severity"]) for f in service.draft_findings(impl_codes[0], draft, editor(0))}
    assert ("/materials/m9", "material_added", "warning") in found
    assert items.get(impl_codes[0])["version"] == 1  # nothing saved
    renamed = dict(catalogue_doc(), name=catalogue_doc()["name"] + "（变更）")
    catalogue.put(BASIC, renamed, ADMIN)  # a newer catalogue changes a four-same element
    kinds = {f["kind"] for f in service.draft_findings(impl_codes[0], draft, editor(0))}
    assert "four_same_outdated" in kinds
    with pytest.raises(Forbidden):
        service.draft_findings(impl_codes[0], draft, editor(1))
