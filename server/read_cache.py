"""Citizens' hot reads (published guides, hall searches) kept in each process and invalidated across processes
by one generation number in Redis that every publish, withdraw and synonym change moves on."""
from __future__ import annotations

import asyncio
import functools
import gzip
import hashlib
import logging
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import redis.exceptions

logger = logging.getLogger(__name__)

GENERATION_KEY = "govhall:hall:generation"
REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


@dataclass(frozen=True)
class CachedAnswer:
    """One cached answer: the exact bytes sent, their ETag and, for guides, the Last-Modified date."""
    body: bytes
    etag: str
    last_modified: float | None = None
    meta: dict = field(default_factory=dict)  # what the handler needs to know about the answer on a hit

    @functools.cached_property
    def gzipped(self) -> bytes:
        """The body gzip-compressed, made on the first hit that asks for it and kept (level 6, as Tornado's
        compress_response; mtime 0, so every process sends the same bytes)."""
        return gzip.compress(self.body, compresslevel=6, mtime=0)

    @classmethod
    def of(cls, body: bytes, last_modified: float | None = None, meta: dict | None = None) -> "CachedAnswer":
        return cls(body, '"%s"' % hashlib.sha256(body).hexdigest()[:32], last_modified, meta or {})


class ReadCache:
    """A bounded LRU of answers, each stored under the generation it was read at.

    A hit is valid only under the generation Redis holds, which a process reads at most once per `check`
    seconds (a GET on the loop, on a client with a short timeout; 0.1 s by default) instead of on every
    request: a hit then costs no round trip, and another process's publish ends this process's hits within
    `check` seconds. The writing process itself forgets its entries at once. Writers move the generation on
    *after* their transaction has committed, so a reader that raced the write stored its answer under the
    old number and nobody reads it again once the new number is read. When Redis cannot be asked, nothing is
    read from or put into the cache (callers take the database path) and this process forgets what it held;
    an invalidation that could not reach Redis is retried until it does, and `ttl` bounds what any process
    can serve in the meantime.
    """

    def __init__(self, kv, max_entries: int = 4096, ttl: float = 60.0, retry_after: float = 1.0,
                 clock=time.monotonic, check: float = 0.1):
        self.kv = kv
        self.check = check
        self._known: tuple[str, float] | None = None  # (generation, when it was read)
        self.max_entries = max_entries
        self.ttl = ttl
        self.retry_after = retry_after
        self.clock = clock
        self._entries: OrderedDict[tuple, tuple[str, float, CachedAnswer]] = OrderedDict()
        self._down_until = 0.0
        self._pending_bump = False
        self._retry_scheduled = False
        self.hits = self.misses = 0
        # answers being computed, by (generation, key): concurrent misses of one key wait for one computation
        self.in_flight: dict[tuple, asyncio.Future] = {}

    # --- reading ------------------------------------------------------------------------------------

    def generation(self) -> str | None:
        """The generation answers may be cached under now, or None when Redis cannot be asked."""
        now = self.clock()
        if now < self._down_until:
            return None
        if self._known is not None and now - self._known[1] < self.check and not self._pending_bump:
            return self._known[0]
        try:
            if self._pending_bump:
                self.kv.incr(GENERATION_KEY)
                self._pending_bump = False
            value = self.kv.get(GENERATION_KEY)
            if value is None:
                # A Redis that lost its data starts from the clock, never from a number used before.
                self.kv.set(GENERATION_KEY, str(time.time_ns()), nx=True)
                value = self.kv.get(GENERATION_KEY)
        except REDIS_ERRORS as exc:
            self._went_down(now, exc)
            return None
        self._known = (value, now)
        return value

    def get(self, generation: str | None, key: tuple) -> CachedAnswer | None:
        """The answer stored for `key` under `generation`, if it is still fresh."""
        if generation is None:
            return None
        found = self._entries.get(key)
        if found is None or found[0] != generation or self.clock() - found[1] > self.ttl:
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return found[2]

    def put(self, generation: str | None, key: tuple, entry: CachedAnswer) -> None:
        """Keep `entry` for `key` under the generation read *before* the answer was computed."""
        if generation is None:
            return
        self._entries[key] = (generation, self.clock(), entry)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    # --- invalidating -------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Move the generation on: every process stops serving what it cached (this one at once, the others
        within `check` seconds). Call after the commit."""
        try:
            self.kv.incr(GENERATION_KEY)
            self._pending_bump = False
        except REDIS_ERRORS as exc:
            self._pending_bump = True
            self._went_down(self.clock(), exc)
            self._schedule_retry()
        # After the new number exists: a generation read racing this call is forgotten here, so the next
        # request of this process reads the new number.
        self._known = None
        self._entries.clear()

    def _went_down(self, now: float, exc: Exception) -> None:
        if self._down_until <= now:
            logger.warning("read cache off for %.1fs: redis unavailable (%s)", self.retry_after, type(exc).__name__)
        self._down_until = now + self.retry_after
        self._entries.clear()
        self._known = None

    def _schedule_retry(self) -> None:
        # Other processes may still hold answers under the old number: keep trying to move it on.
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not on a loop (scripts): the next generation() read retries
        if self._retry_scheduled:
            return
        self._retry_scheduled = True

        def retry() -> None:
            self._retry_scheduled = False
            if self._pending_bump:
                self._down_until = 0.0
                self.generation()
                if self._pending_bump:
                    self._schedule_retry()

        loop.call_later(self.retry_after, retry)

    def stats(self) -> dict:
        return {"entries": len(self._entries), "hits": self.hits, "misses": self.misses}


class HitTally:
    """What cache hits skipped and still owe (a search's count for 热门搜索), tallied on the loop and handed to
    each sink on the thread pool once per `interval`: a hit itself makes no pool hop and no per-request work
    beyond a dictionary increment. Counts not yet handed over when the process stops are lost (≤ interval)."""

    def __init__(self, submit: Callable, interval: float = 1.0):
        self.submit = submit  # submit(fn, *args) -> Future, on the use-case pool
        self.interval = interval
        self._counts: dict[Callable, Counter] = {}
        self._scheduled = False

    def add(self, sink: Callable[[Counter], None], key: tuple) -> None:
        """Count `key` once for `sink`, which later receives a Counter of keys. Call on the event loop."""
        self._counts.setdefault(sink, Counter())[key] += 1
        if not self._scheduled:
            self._scheduled = True
            asyncio.get_running_loop().call_later(self.interval, self.flush)

    def flush(self) -> None:
        counts, self._counts, self._scheduled = self._counts, {}, False
        for sink, tally in counts.items():
            self.submit(sink, tally).add_done_callback(_log_failure)

    async def settle(self) -> None:
        """Hand over what this process has tallied and wait until it is written: a request that reads the
        counts back (热门搜索, the misses report) sees every query this process answered before it."""
        counts, self._counts = self._counts, {}
        for future in [self.submit(sink, tally) for sink, tally in counts.items()]:
            future.add_done_callback(_log_failure)
            await asyncio.wait([asyncio.wrap_future(future)])


def _log_failure(future) -> None:
    if future.exception() is not None:
        logger.warning("handing over cached hits failed: %s", type(future.exception()).__name__)
