"""Application submit benchmark: cases/s of HallService submit (token check in Redis, validation, encryption,
history, outbox) on SQLite, beside a plain insert of the same case rows in the same run.

    python -m scripts.bench.bench_applications [--cases 2000] [--threads 8] [--redis-url redis://...]

The submit runs what POST /hall/applications runs after parsing: the bearer token is checked in the
key-value store (a real Redis: --redis-url, else GOVHALL_TEST_REDIS_URL, else a redis-server started
here; the in-process stand-in only when none is installed, and the table says so), then
ApplicationService.submit validates against the published guide, encrypts the ID number and phone,
takes the next case serial and writes the case, its history event and its outbox row in one
transaction. Sequential runs measure latency; threaded runs go through the app's bounded pool, as
requests do. The baseline inserts the same case rows (values prepared beforehand, nothing
validated, encrypted, counted or queued), one transaction each, on the same database settings.
"""
from __future__ import annotations

import argparse
import copy
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from items import store as item_store
from scripts import demo_hall
from items.codes import make_credit_code, make_id_number
from items.records import utcnow
from items.scope import Actor
from server.app import Context
from server.config import Secret, Settings
from wechat import store
from wechat.records import CaseRecord

ORG = make_credit_code("11410402MB1234567")
ITEM = {
    "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
    "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "…"}],
    "levels": ["4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "service_objects": ["person"], "conditions": [{"id": "c1", "text": "…"}],
    "materials": [{"id": "m1", "name": "申请表", "necessity": "required", "source": "applicant", "form": "both",
                   "originals": 1, "copies": 0, "e_license": "", "note": ""},
                  {"id": "m2", "name": "居民身份证", "necessity": "required", "source": "government",
                   "form": "electronic", "originals": 0, "copies": 0, "e_license": "居民身份证", "note": ""}],
    "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
    "fees": [], "faq": [],
}
PDF = demo_hall.PDF  # uploads are parsed: a real one-page PDF
CITIZENS = 50


def real_redis(url: str | None):
    """Return (url, server to stop or None, label)."""
    url = url or os.environ.get("GOVHALL_TEST_REDIS_URL")
    if url:
        return url, None, "redis (given)"
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))
    from servers import RedisServer  # the test suite's throwaway server
    server = RedisServer()
    started = server.start()
    if started:
        return started, server, "redis-server (started)"
    return None, None, "in-process stand-in (no redis-server installed)"


def publish(ctx) -> str:
    item_store.ensure_region("410000", "河南省", None, "2")
    item_store.ensure_region("410400", "平顶山市", "410000", "3")
    item_store.ensure_region("410402", "卫东区", "410400", "4")
    item_store.ensure_org(ORG, "卫东区住房和城乡建设局", "410402", "4")
    admin = Actor(username="bench", role="province_admin")
    ctx.catalogue.put(ITEM["basic_code"], copy.deepcopy(ITEM), admin)
    impl_code = ctx.items.claim(ITEM["basic_code"], ORG, "4", "410402", admin)["impl_code"]
    doc = ctx.items.get(impl_code)["document"]
    doc.update(promised_limit={"value": 5, "unit": "workday", "note": ""}, phone="0375-1234567",
               complaint_phone="0375-7654321", location="政务服务中心", hours="9:00-17:00")
    ctx.items.write_version(impl_code, doc, admin, expected_version=1)
    for action in ("submit", "approve", "publish"):
        getattr(ctx.workflow, action)(impl_code, admin)
    return impl_code


def citizens(ctx) -> list[tuple[str, int, str]]:
    """(token, user id, file id) of CITIZENS hall users, each with one uploaded PDF."""
    out = []
    for index in range(CITIZENS):
        user = ctx.hall.ensure_hall_user(f"bench-openid-{index}")
        upload = ctx.hall.uploads.save(user.id, PDF, "application/pdf")
        out.append((ctx.hall.issue_citizen_token(user), user.id, upload["file_id"]))
    return out


def body(impl_code: str, file_id: str, index: int) -> dict:
    return {"impl_code": impl_code, "applicant": {"name": "张三", "id_number": make_id_number(f"41040219900307{index % 1000:03d}"),
                                                  "phone": f"138{index % 10**8:08d}"},
            "form": {"n": index}, "materials": [{"material_id": "m1", "file_id": file_id}]}


def run_submits(ctx, impl_code, people, start: int, count: int, threads: int, tag: str) -> list[float]:
    def one(index: int) -> float:
        token, _, file_id = people[index % len(people)]
        began = time.perf_counter()
        actor = ctx.accounts.authenticate(token)
        result, created = ctx.hall.applications.submit(actor.user_id, f"{tag}-{index}", body(impl_code, file_id, index))
        assert created and result["case_no"]
        return time.perf_counter() - began

    indexes = range(start, start + count)
    if threads <= 1:
        return [ctx._call(one, i) for i in indexes]
    return list(ctx.executor.map(lambda i: ctx._call(one, i), indexes))


def baseline_rows(impl_code: str, people, count: int) -> list[dict]:
    now = utcnow()
    rows = []
    for index in range(count):
        _, user_id, file_id = people[index % len(people)]
        rows.append({"case_no": f"{impl_code}20260101{index + 1:04d}",  # another day than the submits
                     "impl_code": impl_code, "guide_version": 2, "item_name": ITEM["name"], "org": ORG,
                     "org_name": "卫东区住房和城乡建设局", "region_code": "410402", "user": user_id,
                     "idempotency_key": f"baseline-{index}", "request_digest": "0" * 64, "applicant_name": "张三",
                     "id_number_token": "v1." + "A" * 60, "id_number_index": "0" * 64, "id_last6": "0" * 64,
                     "id_number_masked": "410***********1234", "phone_token": "v1." + "B" * 48,
                     "phone_index": "0" * 64, "phone_masked": "138****0000", "form": {"n": index},
                     "materials": [{"material_id": "m1", "file_id": file_id}],
                     "time_limit": {"value": 5, "unit": "workday"}, "state": "submitted", "submitted_at": now,
                     "promised_date": dt.date(2026, 10, 12), "updated_at": now})
    return rows


def run_baseline(ctx, rows: list[dict], threads: int) -> list[float]:
    def one(row: dict) -> float:
        began = time.perf_counter()
        with store.transaction():
            CaseRecord.insert(**row).execute()
        return time.perf_counter() - began

    if threads <= 1:
        return [ctx._call(one, row) for row in rows]
    return list(ctx.executor.map(lambda r: ctx._call(one, r), rows))


def line(name: str, threads: int, times: list[float], wall: float) -> str:
    ordered = sorted(times)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (f"| {name:<34} | {threads:>7} | {len(times):>5} | {len(times) / wall:>9.0f} | "
            f"{statistics.median(ordered) * 1000:>7.2f} | {p99 * 1000:>7.2f} |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--redis-url")
    args = parser.parse_args(argv)
    cases = min(args.cases, 4000)  # two runs share one day's 9999 serials
    redis_url, server, kv_label = real_redis(args.redis_url)
    with tempfile.TemporaryDirectory(prefix="govhall-bench-") as tmp:
        settings = Settings(database_url=f"sqlite:///{tmp}/bench.db", redis_url=redis_url,
                            secret_key=Secret("bench-secret-key-0123456789"), upload_dir=f"{tmp}/uploads",
                            workers=args.threads)
        ctx = Context(settings)
        try:
            moment = dt.datetime(2026, 9, 28, 2, 0)
            ctx.hall.clock = lambda: moment
            with ctx.db.connection_context():
                impl_code = publish(ctx)
                people = citizens(ctx)
                rows = baseline_rows(impl_code, people, 2 * cases)
            results = []
            for threads, offset in ((1, 0), (args.threads, cases)):
                began = time.perf_counter()
                times = run_submits(ctx, impl_code, people, offset, cases, threads, "bench")
                results.append(line("submit (service, SQLite + " + ("Redis" if redis_url else "stand-in") + ")",
                                    threads, times, time.perf_counter() - began))
                began = time.perf_counter()
                times = run_baseline(ctx, rows[offset:offset + cases], threads)
                results.append(line("baseline: plain insert of the rows", threads, times,
                                    time.perf_counter() - began))
        finally:
            ctx.close()
            if server is not None:
                server.stop()
    print(f"key-value store: {kv_label}; database: SQLite (WAL) temp file; {cases} cases per run")
    print("| variant                            | threads | cases |   cases/s | p50 ms  | p99 ms  |")
    print("|------------------------------------|---------|-------|-----------|---------|---------|")
    for row in results:
        print(row)


if __name__ == "__main__":
    main()
