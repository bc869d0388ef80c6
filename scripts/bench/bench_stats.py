"""Benchmark: item statistics from facts rows (SQL sums) against loading every document and computing in Python.

    python -m scripts.bench.bench_stats [--items 500000] [--db PATH] [--repeat 3]

Builds a SQLite province (10 cities × 10 counties, ~200 departments), inserts one facts row per
published version in bulk (~20 % of items with earlier versions), derives the current totals and the
per-month/per-day net changes the publish hooks keep (store.rebuild_totals), and stores a realistic
document per version in a side table for the baseline. Each figure is checked equal to the baseline's.
Targets: ≤ 1 s current, ≤ 3 s as of a date. The "(… from facts rows)" lines sum the facts rows
directly, for comparison with the tables the hooks keep.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import peewee as pw

from items import metrics, records, store
from items.scope import Actor
from items.stats import StatsQuery, StatsService, day_of, end_of_day, facts_row
from server import db as dbmod

ADMIN = Actor(username="bench", role="province_admin")
AS_OF = dt.date(2025, 12, 31)
START = dt.datetime(2025, 1, 1)
SPAN_DAYS = 540
TYPES = ("01", "01", "01", "20", "20", "07", "04", "10")


class BenchDocumentRecord(records.BaseRecord):
    """The baseline's input: every published version's document, as the versions table keeps it."""
    impl_code = pw.CharField(max_length=31)
    version = pw.IntegerField()
    valid_from = pw.DateTimeField()
    valid_to = pw.DateTimeField(null=True)
    document = pw.TextField()


def province(rng: random.Random) -> tuple[list[tuple], list[tuple]]:
    """Regions (code, name, parent, level) and departments (credit, name, region, level)."""
    regions, orgs = [("410000", "河南省", None, "2")], []
    for c in range(1, 11):
        city = f"41{c:02d}00"
        regions.append((city, f"第{c}市", "410000", "3"))
        for j in range(5):
            orgs.append((f"11{city}MB{len(orgs):07d}X"[:18], f"第{c}市第{j + 1}局", city, "3"))
        for k in range(2, 12):
            county = f"41{c:02d}{k:02d}"
            regions.append((county, f"第{c}市第{k}县", city, "4"))
            for j in range(1 if k % 2 else 2):
                orgs.append((f"11{county}MB{len(orgs):07d}X"[:18], f"第{c}市第{k}县第{j + 1}局", county, "4"))
    rng.shuffle(orgs)
    return regions, orgs


def document(rng: random.Random, i: int, org: tuple, variant: int) -> dict:
    """A local item document of realistic size and variety (CONTRACT.md §2)."""
    item_type = TYPES[i % len(TYPES)]
    basic = f"00{item_type}{i % 97:02d}{i // 97 % 1000:03d}000"
    legal_value = rng.choice((None, 5, 10, 15, 20, 20, 30, 60, 500))
    unit = "calendar_day" if rng.random() < 0.15 else "workday"
    legal = None if legal_value is None else {"value": legal_value, "unit": unit, "note": ""}
    ceiling = legal_value if legal_value not in (None, 500) else 20
    promised = max(0, ceiling - rng.randint(0, ceiling) - variant)
    depth = rng.choice((1, 2, 3, 3, 4))
    visits = 0 if depth == 4 else rng.choice((0, 1, 1, 2))
    return {
        "basic_code": basic, "name": f"第{i}号事项{'许可证核发' if item_type == '01' else '服务'}", "item_type": item_type,
        "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国行政许可法", "article": "第十二条",
                   "text": "下列事项可以设定行政许可：直接涉及国家安全、公共安全、经济宏观调控、生态环境保护以及直接关系人身健康、"
                           "生命财产安全等特定活动，需要按照法定条件予以批准的事项。"}],
        "levels": ["3", "4"], "state": "in_use", "legal_limit": legal,
        "service_objects": rng.choice((["person"], ["enterprise"], ["person", "enterprise"])),
        "conditions": [{"id": f"c{n}", "text": f"申请人应当具备第{n}项条件，并提交真实、有效的申请材料。"} for n in range(3)],
        "materials": [{"id": f"m{n}", "name": f"申请材料{n}", "necessity": "required" if n < 2 else "optional",
                       "source": "applicant", "form": "both", "originals": 1, "copies": 1,
                       "e_license": "营业执照" if rng.random() < 0.3 else "", "note": ""} for n in range(4)],
        "process": [{"id": f"p{n}", "name": name, "limit": {"value": 1, "unit": "workday"}, "note": ""}
                    for n, name in enumerate(("受理", "审查", "决定", "送达"))],
        "fees": [], "faq": [{"id": "q1", "question": "办理需要多长时间？", "answer": "承诺时限内办结。"}],
        "impl_code": org[0] + org[3] + basic, "level": org[3], "org": {"credit_code": org[0], "name": org[1]},
        "region_code": org[2], "promised_limit": {"value": promised, "unit": "workday", "note": ""},
        "handling_type": "instant" if promised == 0 else "promised", "visits": visits, "online_depth": depth,
        "channels": ["window", "pc", "express"], "scope": rng.choice((None, None, "cross_city", "nationwide")),
        "commitment": rng.random() < 0.2, "location": "政务服务中心一楼综合窗口", "hours": "工作日 9:00-17:00",
        "phone": "0375-1234567", "complaint_phone": "0375-12345", "result": {"name": "许可证", "kind": "certificate"},
        "aliases": [],
    }


def bulk_insert(db: pw.Database, model, rows: list[dict]) -> None:
    """insert_many without peewee building SQL per value: one statement, executemany over the rows."""
    if not rows:
        return
    columns = list(rows[0])
    fields = [model._meta.fields[c] for c in columns]
    sql = (f'INSERT INTO "{model._meta.table_name}" ({", ".join(f.column_name for f in fields)}) '
           f'VALUES ({", ".join("?" * len(fields))})')
    db.cursor().executemany(sql, [[f.db_value(r[c]) for c, f in zip(columns, fields)] for r in rows])


def build(db: pw.Database, n_items: int, seed: int = 6) -> int:
    """Insert the province, facts rows and side documents → number of facts rows."""
    rng = random.Random(seed)
    regions, orgs = province(rng)
    with db.atomic():
        for region in regions:
            store.ensure_region(*region)
        for org in orgs:
            store.ensure_org(*org)
    facts, docs, total = [], [], 0

    def flush():
        nonlocal facts, docs
        with db.atomic():
            bulk_insert(db, records.ItemFactsRecord, facts)
            bulk_insert(db, BenchDocumentRecord, docs)
        facts, docs = [], []

    for i in range(n_items):
        org = orgs[i % len(orgs)]
        versions = rng.randint(2, 4) if rng.random() < 0.2 else 1
        times = sorted(START + dt.timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60)) for _ in range(versions))
        for v, valid_from in enumerate(times, start=1):
            doc = document(rng, i, org, versions - v)
            row = facts_row(doc["impl_code"], v, doc, valid_from)
            row["valid_to"] = times[v] if v < versions else None
            facts.append(row)
            docs.append({"impl_code": doc["impl_code"], "version": v, "valid_from": valid_from,
                         "valid_to": row["valid_to"], "document": json.dumps(doc, ensure_ascii=False)})
            total += 1
        if len(facts) >= 20000:
            flush()
            print(f"\r  {i + 1}/{n_items} items", end="", file=sys.stderr, flush=True)
    flush()
    print(file=sys.stderr)
    return total


def baseline(group_by: str, at: dt.datetime | None) -> dict:
    """Load every counted document and compute in Python with metrics.item_facts → {key: row}."""
    D = BenchDocumentRecord
    where = D.valid_to.is_null() if at is None else (D.valid_from < at) & (D.valid_to.is_null() | (D.valid_to >= at))
    groups: dict[str, metrics.Totals] = {}
    for (text,) in D.select(D.document).where(where).tuples().iterator():
        doc = json.loads(text)
        if not metrics.counts_in_statistics(doc):
            continue
        key = doc["region_code"][:4] + "00" if group_by == "region" else doc["org"]["credit_code"]
        groups.setdefault(key, metrics.Totals()).add(metrics.item_facts(doc))
    return {key: metrics.row(key, None, totals) for key, totals in groups.items()}


def timed(fn, repeat: int) -> tuple[float, float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return times[0], statistics.median(times), result


def same_figures(service_rows: list[dict], base: dict) -> bool:
    fields = [f for f in metrics.ROW_METRICS]
    return len(service_rows) == len(base) and all(
        all(r[f] == base[r["key"]][f] for f in fields) for r in service_rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=500_000)
    parser.add_argument("--db", help="SQLite file to build (default: a temporary file)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline-repeat", type=int, default=1)
    args = parser.parse_args(argv)
    workdir = tempfile.TemporaryDirectory(prefix="bench_stats_")
    path = Path(args.db or Path(workdir.name) / "bench.db")
    if path.exists():
        path.unlink()
    db = dbmod.open_database(f"sqlite:///{path}")
    records.database.initialize(db)
    db.create_tables([records.RegionRecord, records.OrgRecord, records.ItemFactsRecord, records.ItemFactsTotalRecord,
                      records.ItemFactsChangeRecord, BenchDocumentRecord])
    start = time.perf_counter()
    rows = build(db, args.items)
    with db.atomic():
        combinations = store.rebuild_totals(day_of)   # what the publish hooks keep in step, one row at a time
    changes = records.ItemFactsChangeRecord.select().count()
    build_s = time.perf_counter() - start
    service = StatsService()
    at = end_of_day(AS_OF)
    print(f"{args.items} items, {rows} facts rows, {combinations} current-total rows, {changes} change rows, built in {build_s:.0f} s "
          f"({path.stat().st_size / 1e6:.0f} MB incl. side documents); SQLite {db.server_version}")
    print(f"{'query':<28}{'facts: first':>14}{'median':>10}{'baseline':>12}{'speed-up':>10}  same figures")
    for group_by in ("region", "org"):
        for as_of in (None, AS_OF):
            label = f"by {group_by}, " + ("current" if as_of is None else f"as of {as_of}")
            first, median, result = timed(lambda: service.items(ADMIN, StatsQuery(group_by=group_by, as_of=as_of)),
                                          args.repeat)
            base_s, _, base = timed(lambda: baseline(group_by, None if as_of is None else at), args.baseline_repeat)
            same = same_figures(result["rows"], base)
            print(f"{label:<28}{first:>13.3f}s{median:>9.3f}s{base_s:>11.2f}s{base_s / median:>9.0f}×  {same}")
        # for reference: the same sums straight from the facts rows, without the tables the hooks keep
        for label, at_ in (("current", None), ("as of", at)):
            first, median, _ = timed(lambda: store.facts_sums(group_by, at_, from_rows=True), args.repeat)
            print(f"{'  (' + label + ' from facts rows)':<28}{first:>13.3f}s{median:>9.3f}s")
    db.close()
    workdir.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
