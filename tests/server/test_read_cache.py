"""The hall's read cache: hits under the current generation only, invalidated across processes by publish and
withdraw, HTTP validators on guides, and the database path whenever Redis cannot be asked."""
from __future__ import annotations

import copy
import email.utils
import time
import urllib.parse

import fakeredis
import pytest
import redis

from harness import RunningApp, make_settings
from items import store
from items.codes import make_credit_code
from items.scope import Actor
from server.read_cache import GENERATION_KEY, CachedAnswer, ReadCache
from servers import free_port

ORG = make_credit_code("11511602MB0000011")
ADMIN = Actor(username="admin", role="province_admin")
EDITOR = Actor(username="editor-police", role="editor", org=ORG)
CATALOGUE = {
    "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国护照法", "article": "第五条", "text": "……"}],
    "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "conditions": [{"id": "c1", "text": "中国公民"}],
    "materials": [{"id": "m1", "name": "居民身份证", "necessity": "required", "source": "applicant", "form": "both",
                   "originals": 1, "copies": 0, "e_license": "", "note": ""}],
    "process": [], "fees": [], "faq": [],
}


# -- the cache itself ------------------------------------------------------------------------------

class SwitchableKv:
    """fakeredis that can be switched off, the way a Redis that went away answers redis-py."""

    def __init__(self, server=None):
        self.real = fakeredis.FakeRedis(server=server, decode_responses=True)
        self.down = False

    def __getattr__(self, name):
        method = getattr(self.real, name)

        def call(*args, **kwargs):
            if self.down:
                raise redis.exceptions.ConnectionError("Connection refused")
            return method(*args, **kwargs)
        return call


def test_an_answer_is_served_only_under_the_generation_it_was_read_at():
    cache = ReadCache(fakeredis.FakeRedis(decode_responses=True))
    generation = cache.generation()
    cache.put(generation, ("guide", "x"), CachedAnswer.of(b"{}"))

    assert cache.get(cache.generation(), ("guide", "x")).body == b"{}"
    cache.invalidate()
    assert cache.get(cache.generation(), ("guide", "x")) is None


def test_an_invalidation_in_one_process_ends_the_hits_of_another_within_the_check_interval():
    server = fakeredis.FakeServer()
    now = [0.0]
    reader, writer = (ReadCache(fakeredis.FakeRedis(server=server, decode_responses=True), check=0.1,
                                clock=lambda: now[0]) for _ in range(2))
    reader.put(reader.generation(), ("search", "护照"), CachedAnswer.of(b"[1]"))

    writer.invalidate()
    assert writer.get(writer.generation(), ("search", "护照")) is None  # the writer's own process at once

    now[0] += 0.1
    assert reader.get(reader.generation(), ("search", "护照")) is None


class CountingRedis(fakeredis.FakeRedis):
    """Counts the GETs a cache sends."""
    gets = 0

    def get(self, name):
        type(self).gets += 1
        return super().get(name)


def test_hits_within_the_check_interval_ask_redis_nothing():
    now = [0.0]
    CountingRedis.gets = 0
    cache = ReadCache(CountingRedis(decode_responses=True), check=0.1, clock=lambda: now[0])
    cache.put(cache.generation(), ("guide", "x"), CachedAnswer.of(b"{}"))
    asked = CountingRedis.gets
    for _ in range(100):
        assert cache.get(cache.generation(), ("guide", "x")).body == b"{}"
        now[0] += 0.0005
    assert CountingRedis.gets == asked  # a hundred hits in 50 ms: no round trip
    now[0] += 0.1
    cache.generation()
    assert CountingRedis.gets == asked + 1


def test_a_redis_that_lost_its_data_starts_a_generation_never_used_before():
    kv = fakeredis.FakeRedis(decode_responses=True)
    now = [0.0]
    cache = ReadCache(kv, clock=lambda: now[0])
    before = cache.generation()
    cache.put(before, ("guide", "x"), CachedAnswer.of(b"{}"))
    kv.flushall()

    now[0] += cache.check
    after = cache.generation()
    assert after != before and cache.get(after, ("guide", "x")) is None


def test_without_redis_nothing_is_cached_and_a_missed_invalidation_is_made_when_redis_returns():
    now = [0.0]
    kv = SwitchableKv()
    cache = ReadCache(kv, retry_after=1.0, clock=lambda: now[0])
    before = cache.generation()
    cache.put(before, ("guide", "x"), CachedAnswer.of(b"old"))

    kv.down = True
    cache.invalidate()  # Redis is unreachable: the number cannot move yet
    assert cache.generation() is None
    cache.put(None, ("guide", "x"), CachedAnswer.of(b"new"))
    assert cache.get(None, ("guide", "x")) is None

    kv.down = False
    now[0] += 1.5
    assert cache.generation() != before  # the pending invalidation went out first


def test_entries_expire_after_the_ttl_and_the_oldest_leave_first():
    now = [0.0]
    cache = ReadCache(fakeredis.FakeRedis(decode_responses=True), max_entries=2, ttl=10, clock=lambda: now[0])
    generation = cache.generation()
    for key in ("a", "b", "c"):
        cache.put(generation, (key,), CachedAnswer.of(key.encode()))
    assert cache.get(generation, ("a",)) is None and cache.get(generation, ("c",)).body == b"c"
    now[0] = 11
    assert cache.get(generation, ("c",)) is None


# -- over HTTP ---------------------------------------------------------------------------------------

def publish_one(ctx) -> str:
    """Claim, fill and publish one item through the services; its impl_code."""
    with ctx.db.connection_context():
        for code, name, parent, level in (("510000", "四川省", None, "2"), ("511600", "广安市", "510000", "3"),
                                          ("511602", "广安区", "511600", "4")):
            store.ensure_region(code, name, parent, level)
        store.ensure_org(ORG, "广安区公安分局", "511602", "4")
        ctx.catalogue.put("000120002000", dict(copy.deepcopy(CATALOGUE), basic_code="000120002000",
                                               name="普通护照签发", item_type="01", service_objects=["person"]), ADMIN)
        code = ctx.items.claim("000120002000", ORG, "4", "511602", EDITOR)["impl_code"]
        item = ctx.items.get(code)
        ctx.items.replace(code, dict(item["document"], promised_limit={"value": 5, "unit": "workday", "note": ""},
                                     phone="0826-2345678", complaint_phone="0826-12345", location="广安区政务服务中心",
                                     hours="工作日 9:00-17:00", handling_type="promised", visits=1, online_depth=3,
                                     channels=["window", "pc"]), item["latest_version"], EDITOR)
        for action in ("submit", "approve", "publish"):
            getattr(ctx.workflow, action)(code, ADMIN, "")
    return code


def search(api, q: str) -> list[str]:
    resp = api.get("/api/v1/hall/search?" + urllib.parse.urlencode({"q": q}), token=None)
    assert resp.status == 200, resp.body
    return [hit["impl_code"] for hit in resp.json["items"]]


@pytest.fixture
def two_processes(sqlite_url, redis_server_url, tmp_path):
    """Two apps on one database and one Redis, as `govhall serve --processes 2` runs them."""
    redis.Redis.from_url(redis_server_url).flushdb()
    apps = [RunningApp(make_settings(sqlite_url, redis_server_url, upload_dir=str(tmp_path / "up"))).start()
            for _ in range(2)]
    code = publish_one(apps[0].ctx)
    yield apps, code
    for app in apps:
        app.stop()


def test_a_withdraw_in_one_process_is_seen_within_the_check_interval_by_the_other_that_cached_the_guide(
        two_processes):
    (reader, writer), code = two_processes
    public = reader.api()
    assert public.get(f"/api/v1/hall/items/{code}", token=None).status == 200
    assert public.get(f"/api/v1/hall/items/{code}", token=None).status == 200
    assert code in search(public, "护照") and code in search(public, "护照")
    assert reader.ctx.read_cache.hits >= 2  # the second reads came from the cache

    admin = writer.api()
    admin.token = writer.ctx.accounts.issue_token(ADMIN)
    assert admin.post(f"/api/v1/items/{code}/withdraw", {"comment": "政策调整"}).status == 200
    time.sleep(reader.ctx.read_cache.check)  # the reader reads the generation again after this long

    gone = public.get(f"/api/v1/hall/items/{code}", token=None)
    assert gone.status == 404 and gone.error_code() == "guide_not_found"
    assert code not in search(public, "护照")


def test_a_republish_in_one_process_shows_the_new_version_in_the_other(two_processes):
    (reader, writer), code = two_processes
    public = reader.api()
    first = public.get(f"/api/v1/hall/items/{code}", token=None).json["guide_version"]
    ctx = writer.ctx
    with ctx.db.connection_context():
        ctx.workflow.withdraw(code, ADMIN, "改期限")
        item = ctx.items.get(code)
        ctx.items.replace(code, dict(item["document"], visits=0), item["latest_version"], EDITOR)
        for action in ("submit", "approve", "publish"):
            getattr(ctx.workflow, action)(code, ADMIN, "")
    time.sleep(reader.ctx.read_cache.check)

    assert public.get(f"/api/v1/hall/items/{code}", token=None).json["guide_version"] > first


@pytest.fixture
def one_app(sqlite_url, tmp_path):
    app = RunningApp(make_settings(sqlite_url, upload_dir=str(tmp_path / "up"))).start()
    app.code = publish_one(app.ctx)
    yield app
    app.stop()


def test_a_guide_carries_validators_and_answers_304_to_a_current_copy(one_app):
    public, path = one_app.api(), f"/api/v1/hall/items/{one_app.code}"
    first = public.get(path, token=None)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]
    assert first.status == 200 and etag and email.utils.parsedate_to_datetime(modified)
    assert first.headers["Cache-Control"] == "no-cache"

    assert public.get(path, token=None, headers={"If-None-Match": etag}).status == 304
    assert public.get(path, token=None, headers={"If-Modified-Since": modified}).status == 304
    assert public.get(path, token=None, headers={"If-None-Match": '"other"'}).status == 200
    earlier = email.utils.formatdate(email.utils.parsedate_to_datetime(modified).timestamp() - 60, usegmt=True)
    assert public.get(path, token=None, headers={"If-Modified-Since": earlier}).status == 200
    assert public.get(path, token=None, headers={"If-Modified-Since": "not a date"}).status == 200


def test_a_withdrawn_guide_no_longer_answers_304_to_its_old_etag(one_app):
    public, path = one_app.api(), f"/api/v1/hall/items/{one_app.code}"
    etag = public.get(path, token=None).headers["ETag"]
    with one_app.ctx.db.connection_context():
        one_app.ctx.workflow.withdraw(one_app.code, ADMIN, "停办")

    resp = public.get(path, token=None, headers={"If-None-Match": etag})
    assert resp.status == 404 and resp.error_code() == "guide_not_found"


def test_without_redis_guides_and_search_answer_from_the_database_and_sign_in_is_503(sqlite_url, tmp_path):
    nowhere = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    app = RunningApp(make_settings(sqlite_url, nowhere, upload_dir=str(tmp_path / "up"))).start()
    try:
        code = publish_one(app.ctx)
        public = app.api()
        assert public.get(f"/api/v1/hall/items/{code}", token=None).status == 200
        assert code in search(public, "护照")
        assert app.ctx.read_cache.stats()["entries"] == 0

        resp = public.post("/api/v1/auth/login", {"username": "admin", "password": "whatever"}, token=None)
        assert resp.status == 503 and resp.error_code() == "dependency_unavailable"
        assert resp.json["error"]["details"]["dependency"] == "redis"
    finally:
        app.stop()


def test_a_search_answered_from_the_cache_still_counts_towards_popular_queries(one_app):
    from guides import search_log
    public = one_app.api()
    for _ in range(3):
        assert one_app.code in search(public, "护照")
    assert one_app.ctx.read_cache.hits >= 2

    def count() -> int:
        with one_app.ctx.db.connection_context():
            return next((r["count"] for r in search_log.popular(None, 20) if r["query"] == "护照"), 0)

    deadline = time.monotonic() + 20  # hits are counted on the pool after their answer went out
    while count() < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert count() == 3


def test_a_cached_guide_asked_with_gzip_is_the_same_answer_compressed_and_plain_otherwise(one_app):
    import gzip
    public, path = one_app.api(), f"/api/v1/hall/items/{one_app.code}"
    plain = public.get(path, token=None)
    assert plain.status == 200 and plain.headers.get("Content-Encoding") is None
    zipped = [public.get(path, token=None, headers={"Accept-Encoding": "gzip"}) for _ in range(2)]  # hits: the first compresses, the second reuses
    for answer in zipped:
        assert answer.status == 200 and answer.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in answer.headers["Vary"]
        assert gzip.decompress(answer.body) == plain.body and answer.headers["ETag"] == plain.headers["ETag"]
    assert zipped[0].body == zipped[1].body
    assert public.get(path, token=None, headers={"Accept-Encoding": "gzip",
                                                 "If-None-Match": plain.headers["ETag"]}).status == 304


def test_hit_tally_hands_counts_over_once_per_interval_and_settle_writes_them_at_once():
    import asyncio
    import concurrent.futures
    import threading
    from collections import Counter

    from server.read_cache import HitTally

    received: list[Counter] = []
    pool = concurrent.futures.ThreadPoolExecutor(1)

    async def main():
        tally = HitTally(lambda fn, *args: pool.submit(fn, *args), interval=0.05)
        for key in (("护照",), ("护照",), ("低保",)):
            tally.add(received.append, key)
        await asyncio.sleep(0.2)  # the scheduled hand-over: one Counter for the three hits
        tally.add(received.append, ("社保",))
        await tally.settle()  # at once, without waiting for the interval
        return list(received)

    # a loop of its own on a thread of its own: browser tests may leave one running on this thread
    outcome: dict = {}
    runner = threading.Thread(target=lambda: outcome.update(seen=asyncio.run(main())))
    runner.start()
    runner.join(30)
    pool.shutdown()
    assert outcome["seen"] == [Counter({("护照",): 2, ("低保",): 1}), Counter({("社保",): 1})]


def test_a_burst_of_requests_for_one_cold_guide_computes_it_once_and_answers_all_alike(one_app, monkeypatch):
    import concurrent.futures
    import threading
    from server.handlers import hall_public

    calls, real = [], hall_public.guide_entry

    def slow_guide_entry(items, impl_code):
        calls.append(impl_code)
        time.sleep(0.3)  # long enough for the whole burst to arrive while it is computed
        return real(items, impl_code)

    monkeypatch.setattr(hall_public, "guide_entry", slow_guide_entry)
    barrier = threading.Barrier(8)

    def read(_):
        barrier.wait()
        return one_app.api().get(f"/api/v1/hall/items/{one_app.code}", token=None)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(read, range(8)))
    assert [a.status for a in answers] == [200] * 8
    assert len({a.headers["ETag"] for a in answers}) == 1 and len({a.body for a in answers}) == 1
    assert calls == [one_app.code]  # one computation for the burst, not eight


def test_a_burst_for_an_unknown_guide_gets_the_same_404_for_every_caller(one_app):
    import concurrent.futures
    code = one_app.code[:-1] + ("1" if one_app.code[-1] != "1" else "2")
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        answers = list(pool.map(lambda _: one_app.api().get(f"/api/v1/hall/items/{code}", token=None), range(6)))
    assert {(a.status, a.error_code()) for a in answers} == {(404, "guide_not_found")}
