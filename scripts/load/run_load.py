"""Load harness: hall search, guide reads, applications and editor PATCHes against govhall on PostgreSQL + Redis,
with one process and with several, reported side by side (throughput, p50, p99, statuses per kind).

    python -m scripts.load.run_load [--quick] [--processes 1,2] [--duration 30] [--concurrency 32] [--sqlite]

Starts a throwaway PostgreSQL (or, with --sqlite, a temp SQLite file) and redis-server, seeds a small province
(one published item with required materials, citizens with uploaded files, an editor with a draft), serves
govhall on 127.0.0.1 with N processes sharing one port (SO_REUSEPORT), and drives a fixed mix from
`--concurrency` concurrent clients for `--duration` seconds per process count. `--quick` is the bounded mode a
CI test runs (a few seconds, few clients). Only 127.0.0.1 is ever sent to.

Expected answers per kind: search and guide 200 (guide 304 never: no validators sent); applications 201;
PATCH 200, or 412 when another client's PATCH of the same draft got there first. Anything else, and any
5xx, is counted as an error and printed.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import random
import shutil
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "wechat"))

from scripts.bench.bench_http import HOST, start, stop, wait_ready  # noqa: E402
from servers import PostgresServer, RedisServer, create_database, free_port  # noqa: E402

HOT_QUERIES = ("施工许可", "建筑", "许可证", "sgxk", "办施工许可证", "核发")
EXPECTED = {"search": {200}, "guide": {200}, "apply": {201}, "patch": {200, 412}}
MIX = (("search", 50), ("guide", 35), ("apply", 10), ("patch", 5))  # weights: citizens read far more


def seed(env: dict, citizens: int) -> dict:
    """seed_world on the database and Redis that `env` names."""
    from server.app import Context
    from server.config import Settings

    ctx = Context(Settings.from_env(env))
    try:
        return seed_world(ctx, citizens)
    finally:
        ctx.close()


def seed_world(ctx, citizens: int) -> dict:
    """A published item, `citizens` signed-in citizens, and an editor with a draft; tokens and codes."""
    from hall_world import ID_NUMBER, ITEM, ORG_A, ORG_B, PHONE
    from items import store as item_store
    from items.scope import Actor

    with ctx.db.connection_context():
        for code, name, parent, level in (("410000", "河南省", None, "2"), ("410400", "平顶山市", "410000", "3"),
                                          ("410402", "卫东区", "410400", "4")):
            item_store.ensure_region(code, name, parent, level)
        item_store.ensure_org(ORG_A, "卫东区住房和城乡建设局", "410402", "4")
        item_store.ensure_org(ORG_B, "卫东区市场监督管理局", "410402", "4")
        admin = Actor("admin", "province_admin")
        editor_a = Actor("editor_a", "editor", ORG_A, "410402")
        editor_b = Actor("editor_b", "editor", ORG_B, "410402")
        ctx.catalogue.put(ITEM["basic_code"], dict(ITEM), admin)
        published = ctx.items.claim(ITEM["basic_code"], ORG_A, "4", "410402", editor_a)["impl_code"]
        doc = dict(ctx.items.get(published)["document"], aliases=["办施工许可证"],
                   promised_limit={"value": 5, "unit": "workday", "note": ""}, phone="0375-1234567",
                   complaint_phone="0375-7654321", location="卫东区政务服务中心", hours="工作日 9:00-17:00")
        ctx.items.write_version(published, doc, editor_a, expected_version=1)
        for action in ("submit", "approve", "publish"):
            getattr(ctx.workflow, action)(published, admin)
        draft = ctx.items.claim(ITEM["basic_code"], ORG_B, "4", "410402", editor_b)["impl_code"]
        users = [ctx.hall.ensure_hall_user(f"load-openid-{i}") for i in range(citizens)]
        return {"published": published, "draft": draft, "editor": ctx.accounts.issue_token(editor_b),
                "citizens": [ctx.hall.issue_citizen_token(u) for u in users],
                "applicant": {"name": "张三丰", "id_number": ID_NUMBER, "phone": PHONE}}


class Driver:
    """`concurrency` clients drawing requests from MIX until the deadline; statuses and times per kind."""

    def __init__(self, base: str, world: dict, rng: random.Random):
        import tornado.httpclient
        assert urllib.parse.urlsplit(base).hostname == HOST
        self.base, self.world, self.rng = base, world, rng
        self.client = tornado.httpclient.AsyncHTTPClient(force_instance=True, max_clients=1000)
        self.times: dict[str, list[float]] = collections.defaultdict(list)
        self.statuses: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.samples: list[str] = []
        self.files: dict[str, str] = {}

    async def fetch(self, method: str, path: str, headers: dict | None = None, body: bytes | None = None):
        import tornado.httpclient
        request = tornado.httpclient.HTTPRequest(self.base + path, method=method, headers=headers or {}, body=body,
                                                 request_timeout=60, allow_nonstandard_methods=True)
        return await self.client.fetch(request, raise_error=False)

    async def upload_files(self) -> None:
        from hall_world import PDF, multipart
        for token in self.world["citizens"]:
            body, ctype = multipart(PDF, "application/pdf")
            resp = await self.fetch("POST", "/api/v1/hall/uploads",
                                    {"Authorization": f"Bearer {token}", "Content-Type": ctype}, body)
            if resp.code != 201:
                raise RuntimeError(f"upload failed: {resp.code} {resp.body[:300]!r}")
            self.files[token] = json.loads(resp.body)["file_id"]

    async def one(self, kind: str):
        world = self.world
        if kind == "search":
            return await self.fetch("GET", "/api/v1/hall/search?" + urllib.parse.urlencode(
                {"q": self.rng.choice(HOT_QUERIES)}))
        if kind == "guide":
            return await self.fetch("GET", f"/api/v1/hall/items/{world['published']}")
        if kind == "apply":
            token = self.rng.choice(world["citizens"])
            body = {"impl_code": world["published"], "applicant": world["applicant"], "form": {"project": "某住宅楼"},
                    "materials": [{"material_id": "m1", "file_id": self.files[token]}]}
            return await self.fetch("POST", "/api/v1/hall/applications", {
                "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                "Idempotency-Key": uuid.uuid4().hex}, json.dumps(body, ensure_ascii=False).encode())
        auth = {"Authorization": f"Bearer {world['editor']}"}
        head = await self.fetch("GET", f"/api/v1/items/{world['draft']}", auth)
        if head.code != 200:
            return head
        ops = [{"op": "replace", "path": "/location", "value": f"卫东区政务服务中心{self.rng.randrange(100)}号窗口"}]
        return await self.fetch("PATCH", f"/api/v1/items/{world['draft']}", {
            **auth, "Content-Type": "application/json-patch+json", "If-Match": head.headers["ETag"]},
            json.dumps(ops, ensure_ascii=False).encode())

    async def client_loop(self, deadline: float) -> None:
        kinds, weights = zip(*MIX)
        while time.monotonic() < deadline:
            kind = self.rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            resp = await self.one(kind)
            self.times[kind].append(1000.0 * (time.perf_counter() - started))
            self.statuses[kind][resp.code] += 1
            if resp.code not in EXPECTED[kind] and len(self.samples) < 10:
                self.samples.append(f"{kind} {resp.code} {(resp.body or b'')[:300]!r}")

    async def run(self, concurrency: int, seconds: float) -> float:
        await self.upload_files()
        started = time.monotonic()
        await asyncio.gather(*(self.client_loop(started + seconds) for _ in range(concurrency)))
        self.client.close()
        return time.monotonic() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))] if ordered else float("nan")


def summarise(driver: Driver, elapsed: float) -> dict:
    """Per kind: requests/s, p50, p99, statuses and unexpected answers."""
    out = {}
    for kind, _ in MIX:
        times, statuses = driver.times[kind], driver.statuses[kind]
        unexpected = sum(n for code, n in statuses.items() if code not in EXPECTED[kind])
        out[kind] = {"rps": len(times) / elapsed, "p50": percentile(times, 0.5), "p99": percentile(times, 0.99),
                     "statuses": dict(statuses), "unexpected": unexpected,
                     "server_errors": sum(n for code, n in statuses.items() if code >= 500 or code == 599)}
    return out


def run(args, redis_url: str | None = None, postgres_admin: str | None = None) -> dict:
    """Start the servers (or use the given ones), seed, drive each process count; the report
    {processes: {kind: figures}, load_average, samples}."""
    workdir = Path(tempfile.mkdtemp(prefix="govhall-load-"))
    redis_server = None if redis_url else RedisServer()
    postgres = None if args.sqlite or postgres_admin else PostgresServer()
    report: dict = {"load_average": os.getloadavg()[0], "samples": []}
    try:
        redis_url = redis_url or redis_server.start()
        if not redis_url:
            raise RuntimeError("redis-server is not installed")
        if args.sqlite:
            database_url = f"sqlite:///{workdir}/govhall.db"
        else:
            admin = postgres_admin or postgres.start()
            if not admin:
                raise RuntimeError("PostgreSQL is not installed (or use --sqlite)")
            database_url = create_database(admin)
        env = dict(os.environ, GOVHALL_DATABASE_URL=database_url, GOVHALL_REDIS_URL=redis_url,
                   GOVHALL_VAR_DIR=str(workdir), GOVHALL_UPLOAD_DIR=str(workdir / "uploads"),
                   GOVHALL_SECRET_KEY="load-secret-key-0123456789", PYTHONPATH=str(REPO),
                   GOVHALL_AUTO_MIGRATE="1")  # a throwaway database: create the schema on start
        world = seed(env, citizens=4 if args.quick else 40)
        for n in (int(x) for x in args.processes.split(",")):
            port = free_port()
            procs = start("govhall", port, n, env, workdir / f"govhall-{n}.log")
            try:
                wait_ready(f"http://{HOST}:{port}/api/v1/health")
                driver = Driver(f"http://{HOST}:{port}", world, random.Random(n))
                elapsed = asyncio.run(driver.run(args.concurrency, args.duration))
                report[n] = summarise(driver, elapsed)
                report["samples"] += driver.samples
            finally:
                stop(procs)
    finally:
        if redis_server is not None:
            redis_server.stop()
        if postgres is not None:
            postgres.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return report


def print_report(report: dict) -> None:
    print(f"load average at start: {report['load_average']:.2f}; {os.cpu_count()} cores")
    print(f"{'processes':>9} {'kind':<7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'unexpected':>10}  statuses")
    for n, kinds in report.items():
        if not isinstance(n, int):
            continue
        for kind, r in kinds.items():
            print(f"{n:>9} {kind:<7} {r['rps']:>8.1f} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['unexpected']:>10}  "
                  f"{r['statuses']}")
    for sample in report["samples"]:
        print("unexpected:", sample)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="bounded: 4 clients, 3 s per process count")
    parser.add_argument("--processes", default="1,2")
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--sqlite", action="store_true", help="SQLite instead of a throwaway PostgreSQL")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.concurrency = min(args.duration, 3.0), min(args.concurrency, 4)
    report = run(args)
    print_report(report)
    bad = sum(r["unexpected"] for n, kinds in report.items() if isinstance(n, int) for r in kinds.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
