"""Benchmark: conformance and bulk rebase of N local items claimed from one catalogue item, beside baselines.

    python -m scripts.bench.bench_rebase [--items 10000] [--database-url sqlite:///…|postgresql://…]

Sets up one catalogue item and N local items claimed from it, each with its department's edits
(materials reordered, a local material added, the promised limit changed, now and then a note the
catalogue also edits or a material it drops), then revises the catalogue the way a law amendment
does (a material dropped, one added, the legal limit cut, a basis article amended, materials
reordered). Measures, through the same service the HTTP handlers call: bulk conformance checks/s,
the impact preview and the bulk rebase; and, on the same documents in memory, two baselines:
jsonpatch make_patch of whole documents, and naive replay of the catalogue's index-based patch
onto every local item, counting the items that replay corrupts.
"""
from __future__ import annotations

import argparse
import copy
import random
import sys
import tempfile
import time
from pathlib import Path

from items import codes, model, patches, store
from items.catalogue import CatalogueService
from items.conformance import check, diff_documents
from items.errors import DomainError
from items.local import LocalItemService
from items.rebase import RebaseService, plan
from items.records import LocalItemRecord, LocalVersionRecord, OrgRecord, utcnow
from items.scope import Actor

BASIC = "000104002000"
ADMIN = Actor(username="bench", role="province_admin")
COUNTIES = ["410402", "410403", "410404", "410411", "410421", "410422"]


def _material(name: str, note: str = "", necessity: str = "required") -> dict:
    return {"name": name, "necessity": necessity, "source": "applicant", "form": "both", "originals": 1,
            "copies": 1, "e_license": "", "note": note}


def catalogue_v1() -> dict:
    """A construction-permit catalogue item of realistic size (12 materials, 3 basis sources)."""
    names = ["建筑工程施工许可证申请表", "建设工程用地规划许可证", "建设工程规划许可证", "施工合同", "中标通知书",
             "施工图设计文件审查合格书", "安全施工措施资料", "质量安全监督登记表", "建设资金落实证明",
             "监理合同", "项目负责人承诺书", "授权委托书"]
    return {
        "basic_code": BASIC, "name": "建筑工程施工许可证核发", "item_type": "01",
        "basis": [
            {"kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条",
             "text": "建筑工程开工前，建设单位应当按照国家有关规定向工程所在地县级以上人民政府建设行政主管部门"
                     "申请领取施工许可证；但是，国务院建设行政主管部门确定的限额以下的小型工程除外。"},
            {"kind": "法律", "title": "中华人民共和国建筑法", "article": "第八条",
             "text": "申请领取施工许可证，应当具备下列条件：已经办理该建筑工程用地批准手续……" * 3},
            {"kind": "部门规章", "title": "建筑工程施工许可管理办法", "article": "第二条",
             "text": "在中华人民共和国境内从事各类房屋建筑及其附属设施的建造、装修装饰……" * 2}],
        "levels": ["3", "4"], "state": "in_use",
        "legal_limit": {"value": 15, "unit": "workday", "note": "自受理之日起"},
        "service_objects": ["enterprise", "institution"],
        "conditions": [{"text": t} for t in ("已经办理该建筑工程用地批准手续", "已经取得规划许可证",
                                             "已经确定建筑施工企业", "有满足施工需要的资金安排、施工图纸及技术资料")],
        "materials": [_material(n, "原件核验，复印件留存" if k % 3 == 0 else "") for k, n in enumerate(names)],
        "process": [{"name": n, "limit": {"value": d, "unit": "workday"}, "note": ""}
                    for n, d in (("受理", 1), ("审查", 8), ("决定", 3), ("制证", 2), ("送达", 1))],
        "fees": [],
        "faq": [{"question": "施工许可证办理需要多长时间？", "answer": "法定15个工作日，承诺时限以各地公布为准。"},
                {"question": "限额以下的小型工程是否需要办理？", "answer": "工程投资额在30万元以下或者建筑面积在300平方米以下的可以不申请。"}],
    }


def catalogue_v2(v1: dict) -> dict:
    """The law amendment: a material dropped, one added, the legal limit cut, an article amended, a
    material's note edited, and the materials reordered (the last two to the front)."""
    doc = copy.deepcopy(v1)
    doc["materials"] = [m for m in doc["materials"] if m["name"] != "监理合同"]
    doc["materials"].append(dict(_material("工程质量安全承诺书"), id="m-quality-pledge"))
    doc["materials"] = doc["materials"][-2:] + doc["materials"][:-2]
    doc["materials"] = [dict(m, note="可通过电子证照库调取") if m["name"] == "施工图设计文件审查合格书" else m
                        for m in doc["materials"]]
    doc["legal_limit"] = {"value": 10, "unit": "workday", "note": "自受理之日起"}
    doc["basis"][1] = dict(doc["basis"][1], text="申请领取施工许可证，应当具备下列条件：（修订）" + doc["basis"][1]["text"])
    return doc


def local_edits(doc: dict, rng: random.Random, edited_by_catalogue: str, dropped: str) -> dict:
    """One department's edits on its claimed copy."""
    doc = copy.deepcopy(doc)
    if rng.random() < 0.7:
        rng.shuffle(doc["materials"])
    if rng.random() < 0.5:
        doc["materials"].append(dict(_material("本地补充材料：项目备案证明", note="本市投资项目备案要求"),
                                     id=f"m-local-{rng.randrange(1000)}"))
    promised = rng.choice([15, 12, 10, 8, 5, 5, 3, 3, 1])  # 12 exceeds the coming cut: a decision
    doc["promised_limit"] = {"value": promised, "unit": "workday", "note": ""}
    if rng.random() < 0.05:  # the same note the catalogue edits: a conflict
        next(m for m in doc["materials"] if m["id"] == edited_by_catalogue)["note"] = "本地要求加盖公章"
    if rng.random() < 0.03:  # an edit to the material the catalogue drops: a conflict
        next(m for m in doc["materials"] if m["id"] == dropped)["copies"] = 2
    doc.update(visits=rng.choice([0, 1, 1, 2]), online_depth=3, channels=["window", "pc", "express"],
               phone="0375-2345678", complaint_phone="0375-12345", location="市民服务中心二楼住建窗口",
               hours="工作日 9:00-17:00", aliases=["办施工许可证"])
    return doc


def setup(items_n: int, seed: int) -> tuple[dict, dict]:
    """Write the catalogue item and `items_n` claimed local items (each at version 2 after its edits)."""
    catalogue = CatalogueService()
    catalogue.put(BASIC, catalogue_v1(), ADMIN, message="bench v1")
    v1 = catalogue.get(BASIC)["document"]
    by_name = {m["name"]: m["id"] for m in v1["materials"]}
    edited, dropped = by_name["施工图设计文件审查合格书"], by_name["监理合同"]
    rng = random.Random(seed)
    now = utcnow()
    store.ensure_region("410400", "平顶山市", None, "3")
    for county in COUNTIES:
        store.ensure_region(county, f"区县{county}", "410400", "4")
    # Bulk rows straight into the tables: setting up is not what is measured.
    for start in range(0, items_n, 1000):
        orgs, heads, versions = [], [], []
        for n in range(start, min(items_n, start + 1000)):
            county = COUNTIES[n % len(COUNTIES)]
            credit = codes.make_credit_code(f"11{county}MB{n:07d}"[:17])
            orgs.append({"credit_code": credit, "name": f"第{n}号住建部门", "region_code": county, "level": "4"})
            claimed = model.local_defaults(v1, {"credit_code": credit, "name": f"第{n}号住建部门"}, "4", county)
            edited_doc = local_edits(claimed, rng, edited, dropped)
            impl = claimed["impl_code"]
            heads.append({"impl_code": impl, "basic_code": BASIC, "org": credit, "level": "4", "region_code": county,
                          "name": v1["name"], "status": "draft", "latest_version": 2, "based_on_catalogue_version": 1,
                          "created_at": now, "updated_at": now})
            versions.append({"impl_code": impl, "version": 1, "author": "bench", "created_at": now, "message": "claim",
                             "based_on_catalogue_version": 1, "document": claimed, "patch": []})
            versions.append({"impl_code": impl, "version": 2, "author": "bench", "created_at": now,
                             "message": "local edits", "based_on_catalogue_version": 1, "document": edited_doc,
                             "patch": diff_documents(claimed, edited_doc, verify=False)})
        with store.transaction():
            for chunk in range(0, len(orgs), 200):
                OrgRecord.insert_many(orgs[chunk:chunk + 200]).execute()
                LocalItemRecord.insert_many(heads[chunk:chunk + 200]).execute()
            for chunk in range(0, len(versions), 200):
                LocalVersionRecord.insert_many(versions[chunk:chunk + 200]).execute()
    catalogue.put(BASIC, catalogue_v2(v1), ADMIN, message="bench v2: law amended")
    return v1, catalogue.get(BASIC)["document"]


class Clock:
    """Wall and process-CPU seconds of each measure (CPU excludes other load on the machine)."""

    def __init__(self):
        self.rows: list[tuple[str, float, float, int, str]] = []

    def run(self, name: str, count: int, fn, *args, note: str = "", **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        result = fn(*args, **kwargs)
        self.rows.append((name, time.perf_counter() - wall, time.process_time() - cpu, count, note))
        return result

    def note(self, text: str) -> None:
        name, wall, cpu, count, _ = self.rows[-1]
        self.rows[-1] = (name, wall, cpu, count, text)

    def table(self) -> str:
        width = max(len(r[0]) for r in self.rows)
        lines = [f"{'measure'.ljust(width)} |   wall s |    cpu s | per s (wall) | per s (cpu) | note",
                 f"{'-' * width}-|----------|----------|--------------|-------------|-----"]
        for name, wall, cpu, count, note in self.rows:
            lines.append(f"{name.ljust(width)} | {wall:8.2f} | {cpu:8.2f} | {count / wall:12,.0f} | "
                         f"{count / cpu if cpu else 0:11,.0f} | {note}")
        return "\n".join(lines)


def baselines(clock: Clock, v1: dict, v2: dict, documents: list[dict]) -> None:
    """In memory, on the same local documents: the correct merge, the stored patch two ways, and
    naive replay of the catalogue's own index-based v1→v2 patch."""
    n = len(documents)
    plans = clock.run("three-way merge + validate, in memory", n, lambda: [plan(v1, d, v2) for d in documents])
    clean = [(d, p.document) for d, p in zip(documents, plans) if p.outcome == "clean"]
    ops = clock.run("id-aware diff + verify (bulk stores it)", len(clean),
                    lambda: [len(diff_documents(d, m)) for d, m in clean])
    clock.note(f"{sum(ops) / max(1, len(clean)):.1f} ops/item")
    ops = clock.run("baseline: jsonpatch make_patch, whole doc", len(clean),
                    lambda: [len(patches.make_patch(d, m)) for d, m in clean])
    clock.note(f"{sum(ops) / max(1, len(clean)):.1f} ops/item (verified the same way)")
    catalogue_patch = patches.make_patch(v1, v2)
    outcome = {"corrupted": 0, "raised": 0, "blind": 0}

    def replay():
        for d, p in zip(documents, plans):
            try:
                replayed = patches.apply_patch(d, catalogue_patch)
            except DomainError:
                outcome["raised"] += 1
                continue
            if p.outcome != "clean":
                outcome["blind"] += 1  # applied without a word where an editor must decide
            elif replayed != p.document:
                outcome["corrupted"] += 1
    clock.run("baseline: naive replay of catalogue patch", n, replay)
    clock.note(f"{len(catalogue_patch)} index ops; corrupts {outcome['corrupted']:,} of {len(clean):,} clean items, "
               f"raises on {outcome['raised']:,}, overrides {outcome['blind']:,} needing a decision")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--seed", type=int, default=4)
    args = parser.parse_args(argv)
    from server import db as dbmod

    n = args.items
    clock = Clock()
    with tempfile.TemporaryDirectory() as tmp:
        db = dbmod.connect(args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}")
        with db.connection_context():
            setup_start = time.perf_counter()
            setup(n, args.seed)
            setup_s = time.perf_counter() - setup_start
            v1 = store.catalogue_version(BASIC, 1).document
            v2 = store.catalogue_version(BASIC, 2).document
            service = RebaseService(LocalItemService())
            conf = clock.run("conformance, bulk (DB load + check)", n, service.check_all, BASIC, ADMIN,
                             note="target ≥ 2,000/s")
            clock.run("conformance, bulk with RFC 6902 patch", n, service.check_all, BASIC, ADMIN, with_patch=True,
                      note="what GET …/conformance computes per item")
            documents = [row[-1] for rows in _all_rows() for row in rows]
            clock.run("conformance, in memory (check only)", n,
                      lambda docs=documents: [check(d, v1, v2, 1, 2, with_patch=False) for d in docs])
            impact = clock.run("impact preview (DB load, merge, validate)", n, service.impact, BASIC, ADMIN,
                               note="writes nothing")
            baselines(clock, v1, v2, documents)
            del documents
            done = clock.run("bulk rebase (merge, verify, write, audit)", n, service.rebase_all, BASIC, ADMIN)
            clock.note(f"target ≤ 20 s; {done['rebased']:,} saved, {done['conflicts']:,} conflicts, "
                       f"{done['invalid']:,} invalid")
        db.close()

    print(f"\n{n:,} local items of one catalogue item on {db.__class__.__name__} (setup {setup_s:.1f} s); "
          f"outdated before the rebase: {conf['outdated']:,}")
    print(f"impact preview: clean {impact['clean']:,} · conflicts {impact['conflicts']:,} · "
          f"invalid {impact['invalid']:,}; conflict paths {impact['conflict_paths']}\n")
    print(clock.table())
    return 0


def _all_rows():
    after = ""
    while True:
        rows = store.rebase_batch(BASIC, None, after=after, limit=1000)
        if not rows:
            return
        yield rows
        after = rows[-1][0]


if __name__ == "__main__":
    sys.exit(main())
