"""Fixtures for the WeChat side: the fake WeChat server, and key-value stores (fakeredis and a real Redis)."""
from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import fakeredis
import pytest
import redis

HERE = Path(__file__).resolve().parent
# fake_wechat is a plain module beside this file, importable by other suites once this folder is on the path;
# the checkout itself must be importable too (wechat/, items/) when pytest runs without `python -m`.
for folder in (HERE, HERE.parents[1]):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from fake_wechat import FakeWeChat  # noqa: E402

REDIS_SERVER = shutil.which("redis-server") or ("/usr/bin/redis-server"
                                                 if Path("/usr/bin/redis-server").exists() else None)


@pytest.fixture
def fake_wechat():
    """A started FakeWeChat (appid/secret on the object); stopped after the test."""
    fake = FakeWeChat().start()
    try:
        yield fake
    finally:
        fake.stop()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def redis_server_url(tmp_path_factory):
    """A throwaway redis-server on a free port for the session, or a skip when none is installed."""
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed here: only the in-process fakeredis runs")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        probe = redis.Redis.from_url(url, socket_connect_timeout=1)
        try:
            for _ in range(100):
                try:
                    probe.ping()
                    break
                except redis.ConnectionError:
                    if process.poll() is not None:
                        pytest.skip(f"redis-server exited at start (code {process.returncode})")
                    time.sleep(0.05)
            else:
                pytest.skip("redis-server did not answer within 5 s")
        finally:
            probe.close()
        yield url
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(params=["fakeredis", "fakeredis-decoded", "redis"])
def kv_factory(request):
    """A function returning a new client on one shared store per call: each call is another process.

    fakeredis both with bytes and with decoded responses; a real Redis when redis-server is installed.
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
