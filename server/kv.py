"""The key-value store: a real Redis server, or the in-process stand-in on the embedded default."""
from __future__ import annotations

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def _no_retry() -> Retry:
    # redis-py retries a failed command three times with a growing backoff by default: on a hung Redis one
    # sign-in (five commands) then waited minutes. A request fails once, fast, with 503 dependency_unavailable;
    # the client retries the request when Redis is back.
    return Retry(NoBackoff(), 0)


def make_kv(url: str | None, timeout: float = 1.0) -> redis.Redis:
    """A redis-py client for `url` whose commands fail after `timeout` seconds without retrying, or
    fakeredis (same API, in this process) when url is None."""
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=timeout,
                                    socket_connect_timeout=min(timeout, 0.5), health_check_interval=30,
                                    retry=_no_retry())
    import fakeredis
    return fakeredis.FakeRedis(decode_responses=True)


def make_loop_kv(url: str | None, fallback: redis.Redis) -> redis.Redis:
    """A client for the few Redis reads made on the event loop (the read cache's generation): a short
    timeout and no retries, so a dead or hung Redis costs a request milliseconds, not the loop seconds.
    On the embedded default the in-process stand-in `fallback` serves."""
    if not url:
        return fallback
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.25, socket_connect_timeout=0.25,
                                retry=_no_retry())
