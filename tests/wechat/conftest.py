"""Fixtures for the WeChat side: the fake WeChat server, and key-value stores (fakeredis and a real Redis)."""
from __future__ import annotations

import sys
from pathlib import Path

import fakeredis
import pytest
import redis

HERE = Path(__file__).resolve().parent
# fake_wechat is a plain module beside this file, importable by other suites once this folder is on the path.
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from fake_wechat import FakeWeChat  # noqa: E402


@pytest.fixture
def fake_wechat():
    """A started FakeWeChat (appid/secret on the object); stopped after the test."""
    fake = FakeWeChat().start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture(params=["fakeredis", "fakeredis-decoded", "redis"])
def kv_factory(request):
    """A function returning a new client on one shared store per call: each call is another process.

    fakeredis both with bytes and with decoded responses; a real Redis through tests/conftest.py's
    redis_server_url (skipped there when redis-server is not installed).
    """
    clients: list = []
    if request.param == "redis":
        url = request.getfixturevalue("redis_server_url")
        with redis.Redis.from_url(url) as admin:
            admin.flushdb()

        def make():
            clients.append(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5))
            return clients[-1]
    else:
        server = fakeredis.FakeServer()
        decoded = request.param == "fakeredis-decoded"

        def make():
            clients.append(fakeredis.FakeRedis(server=server, decode_responses=decoded))
            return clients[-1]
    try:
        yield make
    finally:
        for client in clients:
            client.close()
