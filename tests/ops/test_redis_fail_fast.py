"""Sign-in while Redis is dead or hung: one 503 dependency_unavailable at once, never a retry loop on the request."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import pytest

from harness import RunningApp, make_settings

REDIS_TIMEOUT = 0.5
# What a citizen's app waits before it gives up. redis-py's own default retries a command three times with a
# backoff of up to 10 s; one sign-in makes five commands, so with retries it could not answer within this.
CLIENT_PATIENCE = 6.0


def sign_in(app: RunningApp, username: str, password: str) -> tuple[int, dict]:
    """POST /auth/login with the client's patience as its timeout → (status, body)."""
    request = urllib.request.Request(app.base + "/api/v1/auth/login", method="POST",
                                     data=json.dumps({"username": username, "password": password}).encode(),
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=CLIENT_PATIENCE) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def app(postgres_url, redis_that_dies, tmp_path):
    running = RunningApp(make_settings(postgres_url, redis_that_dies.url, redis_timeout=REDIS_TIMEOUT,
                                       upload_dir=str(tmp_path / "up"))).start()
    with running.ctx.db.connection_context():
        running.ctx.accounts.create_user("keeper", "keeper-password-0123", "province_admin", None, None)
    yield running
    running.stop()


def assert_dependency_unavailable(status: int, body: dict) -> None:
    assert status == 503, body
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == "dependency_unavailable"
    assert body["error"]["details"]["dependency"] == "redis"


@pytest.mark.parametrize("fault", ["killed", "hung"])
def test_sign_in_with_redis_down_is_503_within_the_clients_patience_and_recovers(app, redis_that_dies, fault):
    assert sign_in(app, "keeper", "keeper-password-0123")[0] == 200  # pooled connections to Redis are open
    if fault == "killed":
        redis_that_dies.kill()
    else:
        redis_that_dies.freeze()
    try:
        for _ in range(3):  # each attempt fails on its own: no request waits behind another's retries
            assert_dependency_unavailable(*sign_in(app, "keeper", "keeper-password-0123"))
        assert_dependency_unavailable(*sign_in(app, "keeper", "a wrong password"))
    finally:
        if fault == "killed":
            redis_that_dies.restart()
        else:
            redis_that_dies.thaw()
    deadline = time.monotonic() + 10  # the pool notices the server is back on its next command
    while True:
        status, body = sign_in(app, "keeper", "keeper-password-0123")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert status == 200 and body["token"], body
