"""The key-value store: a real Redis server, or the in-process stand-in on the embedded default."""
from __future__ import annotations

import redis


def make_kv(url: str | None) -> redis.Redis:
    """A redis-py client for `url`, or fakeredis (same API, in this process) when url is None."""
    if url:
        return redis.Redis.from_url(url, decode_responses=True, socket_timeout=5,
                                    socket_connect_timeout=5, health_check_interval=30)
    import fakeredis
    return fakeredis.FakeRedis(decode_responses=True)


def make_loop_kv(url: str | None, fallback: redis.Redis) -> redis.Redis:
    """A client for the few Redis reads made on the event loop (the read cache's generation): a short
    timeout and no retries, so a dead or hung Redis costs a request milliseconds, not the loop seconds.
    On the embedded default the in-process stand-in `fallback` serves."""
    if not url:
        return fallback
    from redis.backoff import NoBackoff
    from redis.retry import Retry
    return redis.Redis.from_url(url, decode_responses=True, socket_timeout=0.25, socket_connect_timeout=0.25,
                                retry=Retry(NoBackoff(), 0))
