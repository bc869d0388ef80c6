"""Versioned storage on SQLite and PostgreSQL: random edits keep a chain of verified patches, and file
imports of every format write all rows or none."""
from __future__ import annotations

import csv
import io
import json
import uuid

import jsonpatch
import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness import make_settings
from items import codes, store
from items.errors import Stale
from items.scope import Actor
from samples import building_permit
from server.app import Context

ADMIN = Actor(username="admin", role="province_admin")
ORG = codes.make_credit_code("11410402MB1234567")
EDITOR = Actor(username="editor", role="editor", org=ORG, region="410402")


@pytest.fixture
def ctx(db_url):
    context = Context(make_settings(db_url))
    with context.db.connection_context():
        store.ensure_region("410402", "卫东区", "410400", "4")
        store.ensure_org(ORG, "卫东区住房和城乡建设局", "410402", "4")
    yield context
    context.close()


edit = st.one_of(
    st.tuples(st.just("promised"), st.integers(1, 15)),
    st.tuples(st.just("visits"), st.integers(0, 3)),
    st.tuples(st.just("location"), st.text("政务服务中心一二三号窗口", min_size=1, max_size=12)),
    st.tuples(st.just("add_material"), st.text("材料证明表书", min_size=1, max_size=6)),
    st.tuples(st.just("drop_material"), st.integers(0, 5)),
    st.tuples(st.just("reverse_materials"), st.none()),
)


def apply_edit(doc: dict, kind: str, value, n: int) -> dict:
    doc = json.loads(json.dumps(doc))
    if kind == "promised":
        doc["promised_limit"] = {"value": value, "unit": "workday", "note": ""}
        doc["handling_type"] = "promised"
    elif kind == "visits":
        doc["visits"] = value
        doc["online_depth"] = min(doc["online_depth"], 3) if value else 4
    elif kind == "location":
        doc["location"] = value
    elif kind == "add_material":
        doc["materials"].append({"id": f"m-local-{uuid.uuid4().hex[:8]}", "name": value, "necessity": "optional", "source": "applicant",
                                 "form": "paper", "originals": 1, "copies": 0, "e_license": None,
                                 "note": "本地补充"})
    elif kind == "drop_material" and len(doc["materials"]) > 1:
        del doc["materials"][value % len(doc["materials"])]
    elif kind == "reverse_materials":
        doc["materials"].reverse()
    return doc


@settings(max_examples=8, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(edits=st.lists(edit, min_size=1, max_size=12))
def test_every_stored_patch_reproduces_its_version(ctx, edits):
    with ctx.db.connection_context():
        basic_code = "000104002000"
        if store.catalogue_head(basic_code) is None:
            ctx.catalogue.put(basic_code, building_permit(), ADMIN)
        impl_code = codes.make_impl_code(ORG, "4", basic_code)
        if not store.local_exists(basic_code, ORG, "4"):
            ctx.items.claim(basic_code, ORG, "4", "410402", EDITOR)
        head = store.local_head(impl_code)
        doc = store.local_version(impl_code, head.latest_version).document
        version = head.latest_version
        for n, (kind, value) in enumerate(edits):
            new = apply_edit(doc, kind, value, n + version)
            if new == doc:
                continue
            written = ctx.items.write_version(impl_code, new, EDITOR, expected_version=version)
            version, doc = written["version"], new
        with pytest.raises(Stale):  # a writer that read an old version never overwrites a newer one
            ctx.items.write_version(impl_code, apply_edit(doc, "location", "旧窗口", 0), EDITOR,
                                    expected_version=version - 1 if version > 1 else 99)
        history = store.local_versions(impl_code)
        assert [h.version for h in history] == list(range(1, version + 1))
        rebuilt: dict = {}
        for record in history:
            rebuilt = jsonpatch.apply_patch(rebuilt, record.patch)
            assert rebuilt == store.local_version(impl_code, record.version).document
        assert rebuilt == doc


def rows_as_table(items: list[dict]) -> list[list[str]]:
    header = ["基本编码", "事项名称", "事项类型", "设定依据", "行使层级", "法定办结时限", "申请材料"]
    rows = [header]
    for item in items:
        rows.append([item["basic_code"], item["name"], item["item_type"], item["basis"], item["levels"],
                     item["limit"], item["materials"]])
    return rows


GOOD = [
    {"basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
     "basis": "【法律】《中华人民共和国建筑法》第七条 建筑工程开工前……", "levels": "3,4", "limit": "15",
     "materials": "建筑工程施工许可证申请表|必要|申请人自备|纸质和电子|1|0|"},
    {"basic_code": "000723001000", "name": "居民身份证申领", "item_type": "07",
     "basis": "【法律】《中华人民共和国居民身份证法》第八条 居民身份证由……", "levels": "4", "limit": "60",
     "materials": "居民户口簿|必要|申请人自备|纸质|1|0|居民户口簿"},
]
BAD_ROW = {"basic_code": "000104003000", "name": "", "item_type": "01", "basis": "", "levels": "3",
           "limit": "十五", "materials": "申请表|可能|申请人自备|纸质|1|0|"}


def as_csv(items: list[dict]) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows(rows_as_table(items))
    return out.getvalue().encode("utf-8-sig")


def as_xlsx(items: list[dict]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows_as_table(items):
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("fmt,encode", [("csv", as_csv), ("xlsx", as_xlsx)])
def test_a_file_with_a_bad_row_writes_nothing_then_the_good_file_imports(ctx, fmt, encode):
    with ctx.db.connection_context():
        report = ctx.catalogue.import_file(encode(GOOD + [BAD_ROW]), f"catalogue.{fmt}", ADMIN)
        assert report["written"] is False and [r["row"] for r in report["errors"]] == [4]
        fields = {e["field"] for e in report["errors"][0]["errors"]}
        assert {"name", "legal_limit"} <= fields and any("materials" in f for f in fields)
        assert store.list_catalogue()[1] == 0
        report = ctx.catalogue.import_file(encode(GOOD), f"catalogue.{fmt}", ADMIN)
        assert (report["created"], report["written"]) == (2, True)
        doc = ctx.catalogue.get("000723001000")["document"]
        assert doc["legal_limit"] == {"value": 60, "unit": "workday", "note": ""}
        assert doc["materials"][0]["e_license"] == "居民户口簿" and doc["basis"][0]["kind"] == "法律"
        again = ctx.catalogue.import_file(encode(GOOD), f"catalogue.{fmt}", ADMIN)
        assert (again["unchanged"], again["created"], again["updated"]) == (2, 0, 0)
