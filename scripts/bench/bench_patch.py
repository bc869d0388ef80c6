"""PATCH throughput (versions/s) on SQLite through the service PATCH /items calls, against a plain UPDATE.

    python -m scripts.bench.bench_patch [--versions 2000] [--items 100] [--db /tmp/bench.db]

Scenarios, each in the same run on the same database file:
  baseline      one transaction per write, UPDATE of one stored document, no versioning, no validation
  one item      LocalItemService.revise on a single item: read head + latest version, apply the
                RFC 6902 patch, validate, diff and verify, insert version N+1, move the head, audit
  many items    the same, round-robin over --items items (no single hot row)
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from items import store
from items.codes import make_credit_code
from items.local import LocalItemService
from items.records import LocalVersionRecord
from items.scope import Actor
from server import db as dbmod

ORG = make_credit_code("11410402MB1234567")
CATALOGUE_ITEM = {
    "item_type": "01", "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条"}],
    "levels": ["4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "service_objects": ["enterprise"], "conditions": [{"id": "c1", "text": "已经办理用地批准手续"}],
    "materials": [{"id": f"m{i}", "name": f"材料{i}", "necessity": "required", "source": "applicant",
                   "form": "both", "originals": 1, "copies": 1, "e_license": "", "note": ""} for i in range(8)],
    "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
    "fees": [], "faq": [],
}


def setup(count: int) -> tuple[LocalItemService, Actor, list[str]]:
    """A department with `count` claimed items; returns the service, its editor and the impl codes."""
    service = LocalItemService()
    admin = Actor("bench-admin", "province_admin")
    editor = Actor("bench-editor", "editor", ORG, "410402")
    from items.catalogue import CatalogueService
    catalogue = CatalogueService()
    store.ensure_region("410402", "卫东区", None, "4")
    store.ensure_org(ORG, "卫东区住房和城乡建设局", "410402", "4")
    codes = []
    for i in range(1, count + 1):
        basic_code = f"000104{i:03d}000"
        catalogue.put(basic_code, dict(CATALOGUE_ITEM, basic_code=basic_code, name=f"基准事项{i}"), admin)
        codes.append(service.claim(basic_code, ORG, "4", "410402", editor)["impl_code"])
    return service, editor, codes


def run_revisions(service: LocalItemService, editor: Actor, codes: list[str], writes: int) -> float:
    """Seconds for `writes` revisions round-robin over `codes`, each with the current If-Match."""
    versions = {code: store.local_head(code).latest_version for code in codes}
    start = time.perf_counter()
    for i in range(writes):
        code = codes[i % len(codes)]
        ops = [{"op": "replace", "path": "/hours", "value": f"9:00-17:{i % 60:02d} #{i}"},
               {"op": "replace", "path": f"/materials/{i % 8}/copies", "value": i % 5}]
        versions[code] = service.revise(code, ops, versions[code], editor)["version"]
    return time.perf_counter() - start


def run_baseline(codes: list[str], writes: int) -> float:
    """Seconds for `writes` plain UPDATEs of version 1's stored document (no history kept)."""
    documents = {code: store.local_version(code, 1).document for code in codes}
    start = time.perf_counter()
    for i in range(writes):
        code = codes[i % len(codes)]
        document = dict(documents[code], hours=f"9:00-17:{i % 60:02d} #{i}")
        with store.transaction():
            (LocalVersionRecord.update(document=document)
             .where((LocalVersionRecord.impl_code == code) & (LocalVersionRecord.version == 1)).execute())
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", type=int, default=2000, help="writes per scenario")
    parser.add_argument("--items", type=int, default=100, help="items in the spread scenario")
    parser.add_argument("--db", default=None, help="SQLite file (default: a temporary one)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db or Path(tmp) / "bench.db")
        db = dbmod.connect(f"sqlite:///{path}")
        with db.connection_context():
            service, editor, codes = setup(args.items + 1)
            hot, spread = codes[:1], codes[1:]
            results = [("baseline: plain UPDATE, one item", args.versions, run_baseline(hot, args.versions)),
                       ("baseline: plain UPDATE, many items", args.versions, run_baseline(spread, args.versions)),
                       ("revise: one item", args.versions, run_revisions(service, editor, hot, args.versions)),
                       (f"revise: {len(spread)} items", args.versions,
                        run_revisions(service, editor, spread, args.versions))]
        db.close()
    base = args.versions / results[0][2]
    print(f"SQLite {path.name}: {args.versions} writes per scenario")
    print(f"{'scenario':40} {'writes':>7} {'seconds':>8} {'writes/s':>9} {'vs baseline':>11}")
    for name, writes, seconds in results:
        rate = writes / seconds
        print(f"{name:40} {writes:7d} {seconds:8.2f} {rate:9.0f} {rate / base:10.2f}x")


if __name__ == "__main__":
    main()
