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
