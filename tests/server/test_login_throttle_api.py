"""Sign-in throttling and the hashing pool, on SQLite and PostgreSQL (and a real Redis for the throttle).

Failures slow down one client on one username (and one client over many usernames); they never lock
a username for everyone, and a burst of failed sign-ins does not stall other requests.
"""
from __future__ import annotations

import concurrent.futures
import threading

import pytest

from harness import RunningApp, make_settings

from items import login_throttle
from items.errors import NotSignedIn, RateLimited, Unavailable
from items.login_throttle import ADDRESS_FREE_FAILURES, MAX_DELAY, PAIR_FREE_FAILURES, delay_after
from items.passwords import Passwords

FAST = {"password_hash_cost": 1, "password_hash_memory_kib": 1024}
PASSWORD = "admin-password"


@pytest.fixture
def app(db_url, tmp_path):
    running = RunningApp(make_settings(db_url, upload_dir=str(tmp_path / "uploads"), **FAST)).start()
    with running.ctx.db.connection_context():
        running.ctx.accounts.create_user("admin", PASSWORD, "province_admin")
    yield running
    running.stop()


def login(ctx, username: str, password: str, ip: str):
    with ctx.db.connection_context():
        return ctx.accounts.login(username, password, ip)


def fail_until_throttled(ctx, username: str, ip: str) -> int:
    """Fail sign-ins until the client must wait → how many failures it took."""
    for n in range(1, 100):
        try:
            login(ctx, username, "wrong-password", ip)
        except NotSignedIn:
            continue
        except RateLimited:
            return n - 1
    raise AssertionError("never throttled")


def test_delays_double_after_the_free_failures_and_stop_growing():
    waits = [delay_after(n, 3) for n in range(1, 9)]
    assert waits == [0, 0, 0, 1, 2, 4, 8, 16]
    assert delay_after(500, 3) == MAX_DELAY


def test_a_client_failing_on_admin_waits_but_admin_signs_in_from_another_client(app):
    ctx = app.ctx
    assert fail_until_throttled(ctx, "admin", "203.0.113.7") == PAIR_FREE_FAILURES + 1
    with pytest.raises(RateLimited) as caught:
        login(ctx, "admin", PASSWORD, "203.0.113.7")  # even the right password waits: no guessing while throttled
    assert caught.value.code == "too_many_attempts" and caught.value.details["retry_after_seconds"] >= 1
    assert login(ctx, "admin", PASSWORD, "198.51.100.20")["user"]["username"] == "admin"


def test_failures_spread_over_many_usernames_throttle_the_address(app):
    ctx = app.ctx
    for n in range(ADDRESS_FREE_FAILURES + 1):
        with pytest.raises(NotSignedIn):
            login(ctx, f"nobody-{n}", "wrong-password", "203.0.113.9")
    with pytest.raises(RateLimited):
        login(ctx, "admin", PASSWORD, "203.0.113.9")
    assert login(ctx, "admin", PASSWORD, "198.51.100.21")["token"]


def test_a_successful_sign_in_forgets_that_clients_failures(app):
    ctx = app.ctx
    for _ in range(PAIR_FREE_FAILURES):
        with pytest.raises(NotSignedIn):
            login(ctx, "admin", "wrong-password", "203.0.113.10")
    assert login(ctx, "admin", PASSWORD, "203.0.113.10")["token"]
    assert fail_until_throttled(ctx, "admin", "203.0.113.10") == PAIR_FREE_FAILURES + 1


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_throttle_state_lives_in_redis_shared_by_processes(db_url, kv_url, tmp_path):
    settings = make_settings(db_url, kv_url, upload_dir=str(tmp_path / "uploads"), **FAST)
    first, second = RunningApp(settings).start(), RunningApp(settings).start()
    try:
        with first.ctx.db.connection_context():
            first.ctx.accounts.create_user("admin", PASSWORD, "province_admin")
        fail_until_throttled(first.ctx, "admin", "203.0.113.11")
        if kv_url:  # a real Redis: the second process sees the first one's throttle
            with pytest.raises(RateLimited):
                login(second.ctx, "admin", "wrong-password", "203.0.113.11")
    finally:
        first.stop()
        second.stop()


def test_throttled_sign_in_is_429_with_retry_after_and_the_error_body(app):
    api = app.api()
    statuses = [api.post("/api/v1/auth/login", {"username": "admin", "password": "wrong-password"}, token=None)
                for _ in range(PAIR_FREE_FAILURES + 2)]
    assert [r.status for r in statuses] == [401] * (PAIR_FREE_FAILURES + 1) + [429]
    last = statuses[-1]
    assert last.error_code() == "too_many_attempts"
    assert int(last.headers["Retry-After"]) == last.json["error"]["details"]["retry_after_seconds"] >= 1


def test_forty_concurrent_failed_sign_ins_leave_health_answering(db_url, tmp_path):
    # a real cost, a small pool and a short queue: most of the burst waits or is turned away
    settings = make_settings(db_url, upload_dir=str(tmp_path / "uploads"), password_hash_cost=2,
                             password_hash_memory_kib=16 * 1024, password_hash_workers=2, password_hash_queue=4)
    running = RunningApp(settings).start()
    try:
        api = running.api()
        started = threading.Barrier(41)

        def fail(n: int):
            started.wait()
            return api.post("/api/v1/auth/login", {"username": f"user-{n}", "password": "wrong-password"},
                            token=None)

        with concurrent.futures.ThreadPoolExecutor(max_workers=40) as pool:
            futures = [pool.submit(fail, n) for n in range(40)]
            started.wait()
            health = [api.get("/api/v1/health", token=None) for _ in range(5)]
            answers = [f.result() for f in futures]
        assert [h.status for h in health] == [200] * 5
        assert {a.status for a in answers} <= {401, 429, 503}
        assert 401 in {a.status for a in answers}
        for answer in answers:
            code = answer.error_code()
            if answer.status == 503:
                assert code == "sign_in_busy" and answer.headers["Retry-After"] == "1"
    finally:
        running.stop()


def test_the_hashing_pool_refuses_work_beyond_its_queue_instead_of_waiting():
    passwords = Passwords(cost=1, memory_kib=64, workers=1, queue=2)
    gate = threading.Event()
    try:
        held = [passwords.submit(gate.wait, 30) for _ in range(3)]
        with pytest.raises(Unavailable) as caught:
            passwords.submit(gate.wait, 30)
        assert caught.value.code == "sign_in_busy" and caught.value.details["retry_after_seconds"] == 1
        gate.set()
        assert all(f.result(30) for f in held)
        assert passwords.submit(passwords.verify, None, "x").result(30) == (False, None)
    finally:
        gate.set()
        passwords.close()


def test_hashes_follow_the_cost_setting_and_old_hashes_are_replaced_on_sign_in():
    cheap, dearer = Passwords(cost=1, memory_kib=64), Passwords(cost=2, memory_kib=128)
    try:
        stored = cheap.hash(PASSWORD)
        assert "t=1" in stored and "m=64" in stored
        assert cheap.verify(stored, PASSWORD) == (True, None)
        ok, new_hash = dearer.verify(stored, PASSWORD)
        assert ok and "t=2" in new_hash and "m=128" in new_hash
        assert dearer.verify(stored, "wrong") == (False, None)
    finally:
        cheap.close()
        dearer.close()


def test_keys_hold_no_username_or_address_in_clear(app):
    with pytest.raises(NotSignedIn):
        login(app.ctx, "admin", "wrong-password", "203.0.113.12")
    keys = [k for k in app.ctx.kv.keys(login_throttle.PREFIX + "*")]
    assert keys and not any("admin" in k or "203.0.113.12" in k for k in keys)
