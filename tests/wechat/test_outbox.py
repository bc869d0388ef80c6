"""The outbox worker against the fake WeChat: nothing lost, nothing sent twice, nothing sent without consent."""
from __future__ import annotations

import collections
import datetime as dt
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st

from items.records import utcnow
from server.config import Secret
from wechat import store
from wechat.casework import PROGRESS_TEMPLATE
from wechat.gateway import WeChatGateway
from wechat.outbox import FIELD_LIMITS, GAVE_UP, SKIPPED, OutboxWorker, message_data

LAYOUT = {"thing1": "item_name", "phrase2": "state_label", "time3": "at", "thing4": "note"}


@pytest.fixture(scope="session")
def kit():
    """tests/harness.py: RunningApp and make_settings."""
    import harness
    return harness


@pytest.fixture
def app(kit, db_url, fake_wechat, tmp_path):
    settings = kit.make_settings(db_url, wechat_appid=fake_wechat.appid, wechat_secret=Secret(fake_wechat.secret),
                                 wechat_api_base=fake_wechat.base_url, wechat_timeout=2.0,
                                 upload_dir=str(tmp_path / "up"))
    running = kit.RunningApp(settings).start()
    yield running
    running.stop()


class Clock:
    """The worker's clock, moved by the test (naive UTC like the records)."""

    def __init__(self):
        self.now = utcnow() + dt.timedelta(seconds=1)

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def on_pool(app, fn, *args):
    """Run a storage call the way handlers do: on the app's pool, with its connection handling."""
    return app.ctx.executor.submit(app.ctx._call, fn, *args).result()


def citizen(app, openid: str, consents: int) -> int:
    user = on_pool(app, app.ctx.hall.ensure_hall_user, openid)
    on_pool(app, app.ctx.hall.add_consent, user.id, PROGRESS_TEMPLATE, consents)
    return user.id


def queue(app, user_id: int, openid: str, n: int) -> list[str]:
    """Queue n progress messages for one citizen; returns their case numbers."""
    cases = [f"CASE-{openid}-{i}" for i in range(n)]

    def work():
        with store.transaction():
            for case_no in cases:
                store.queue_message("subscribe_message", f"{case_no}:1", user_id, openid, PROGRESS_TEMPLATE,
                                    {"case_no": case_no, "item_name": "建筑工程施工许可证核发", "action": "accept",
                                     "state_label": "已受理", "at": "2026-10-09T02:00:00Z"}, utcnow())
    on_pool(app, work)
    return cases


def sent_cases(fake) -> list[str]:
    return [m["page"].split("case_no=")[1] for m in fake.sent]


def rows(app, openid=None):
    return on_pool(app, store.outbox_for, openid)


def consents(app, user_id) -> int:
    return on_pool(app, store.consent_count, user_id, PROGRESS_TEMPLATE)


def drain(app, worker, clock, rounds: int = 50) -> None:
    """Run passes, moving the clock past every backoff, until nothing is pending."""
    for _ in range(rounds):
        on_pool(app, worker.run_once, 100)
        if on_pool(app, store.pending_message_count) == 0:
            return
        clock.advance(worker.backoff_max)


# -- delivery ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["503", "refuse"])
def test_messages_queued_while_wechat_was_down_are_all_delivered_once_it_is_back(app, fake_wechat, how):
    clock = Clock()
    worker = OutboxWorker(app.ctx.gateway, clock=clock, backoff_base=10)
    user = citizen(app, "openid-alice", consents=5)
    cases = queue(app, user, "openid-alice", 5)
    fake_wechat.down = how

    for _ in range(3):  # the outage lasts several passes, with the backoff running out in between
        counts = on_pool(app, worker.run_once, 100)
        assert counts["sent"] == 0
        clock.advance(worker.backoff_max)
    fake_wechat.down = False
    drain(app, worker, clock)

    assert sorted(sent_cases(fake_wechat)) == sorted(cases)
    assert all(r.sent_at is not None and r.last_error == "" for r in rows(app))
    assert consents(app, user) == 0  # refunded after each failed attempt, spent once per delivery
    assert fake_wechat.tokens_issued == 1


def test_a_pass_during_an_outage_stops_at_the_first_failure_and_leaves_the_rest_their_turn(app, fake_wechat):
    clock = Clock()
    worker = OutboxWorker(app.ctx.gateway, clock=clock)
    user = citizen(app, "openid-bob", consents=4)
    queue(app, user, "openid-bob", 4)
    fake_wechat.down = "503"

    counts = on_pool(app, worker.run_once, 100)

    assert counts["retried"] == 1 and counts["claimed"] == 1
    assert sorted(r.attempts for r in rows(app)) == [0, 0, 0, 1]
    assert consents(app, user) == 4


def test_backoff_doubles_and_is_capped():
    worker = OutboxWorker(gateway=None, backoff_base=5, backoff_max=60)

    assert [worker.backoff(n).total_seconds() for n in range(1, 7)] == [5, 10, 20, 40, 60, 60]


def test_a_message_whose_worker_died_is_sent_after_its_lease_runs_out(app, fake_wechat):
    clock = Clock()
    worker = OutboxWorker(app.ctx.gateway, clock=clock, lease_seconds=120)
    user = citizen(app, "openid-carol", consents=1)
    queue(app, user, "openid-carol", 1)
    row = rows(app)[0]
    # a worker claims the row and dies before sending
    assert on_pool(app, store.claim_message, row.id, row.attempts, clock(), clock() + dt.timedelta(seconds=120))

    assert on_pool(app, worker.run_once, 10)["claimed"] == 0
    clock.advance(121)
    assert on_pool(app, worker.run_once, 10)["sent"] == 1
    assert len(fake_wechat.sent) == 1


def test_a_lost_claim_cannot_settle_the_row(app):
    user = citizen(app, "openid-dan", consents=1)
    queue(app, user, "openid-dan", 1)
    row = rows(app)[0]
    now = utcnow() + dt.timedelta(seconds=1)
    assert on_pool(app, store.claim_message, row.id, 0, now, now)  # lease already over
    assert on_pool(app, store.claim_message, row.id, 1, now, now + dt.timedelta(minutes=5))  # taken over

    assert not on_pool(app, store.settle_message, row.id, 1, now)
    assert not on_pool(app, store.reschedule_message, row.id, 1, now, "late")
    assert on_pool(app, store.settle_message, row.id, 2, now)


def test_a_message_wechat_keeps_refusing_is_given_up_after_max_attempts(app, fake_wechat):
    clock = Clock()
    worker = OutboxWorker(app.ctx.gateway, clock=clock, max_attempts=3)
    user = citizen(app, "openid-erin", consents=1)
    queue(app, user, "openid-erin", 1)
    fake_wechat.force_errcode("/cgi-bin/message/subscribe/send", 47003)  # template data rejected

    drain(app, worker, clock)

    row = rows(app)[0]
    assert (row.attempts, row.last_error.startswith(GAVE_UP)) == (3, True)
    assert fake_wechat.sent == []
    assert consents(app, user) == 1  # nothing was delivered, so nothing was spent


# -- consent ----------------------------------------------------------------------------------------

def test_without_consent_a_message_is_not_sent_and_is_marked_skipped(app, fake_wechat):
    clock = Clock()
    worker = OutboxWorker(app.ctx.gateway, clock=clock)
    user = citizen(app, "openid-fay", consents=2)
    cases = queue(app, user, "openid-fay", 3)

    counts = on_pool(app, worker.run_once, 100)

    assert (counts["sent"], counts["skipped"]) == (2, 1)
    assert sent_cases(fake_wechat) == cases[:2]
    skipped = [r for r in rows(app) if r.last_error]
    assert [r.last_error for r in skipped] == [SKIPPED + "no_consent"]
    assert consents(app, user) == 0
    assert on_pool(app, store.pending_message_count) == 0  # skipped is settled: never retried


def test_consent_counts_per_template(app, fake_wechat):
    worker = OutboxWorker(app.ctx.gateway, clock=Clock())
    user = on_pool(app, app.ctx.hall.ensure_hall_user, "openid-gus")
    on_pool(app, app.ctx.hall.add_consent, user.id, "another_template", 5)
    queue(app, user.id, "openid-gus", 1)

    assert on_pool(app, worker.run_once, 10)["skipped"] == 1
    assert fake_wechat.sent == []


def test_when_wechat_says_there_is_no_consent_the_message_is_skipped_and_the_count_cleared(app, fake_wechat):
    worker = OutboxWorker(app.ctx.gateway, clock=Clock())
    user = citizen(app, "openid-hal", consents=3)
    queue(app, user, "openid-hal", 1)
    fake_wechat.refuse_consent("openid-hal")

    counts = on_pool(app, worker.run_once, 10)

    assert counts["skipped"] == 1
    assert rows(app)[0].last_error == SKIPPED + "no_subscription_consent"
    assert consents(app, user) == 0


def test_consent_reported_over_http_lets_the_message_go(app, fake_wechat):
    user = on_pool(app, app.ctx.hall.ensure_hall_user, "openid-ivy")
    api = app.api()
    api.token = app.ctx.hall.issue_citizen_token(user)

    resp = api.post("/api/v1/hall/subscriptions", {"template_id": PROGRESS_TEMPLATE, "accepted": 1})

    assert resp.status == 200 and resp.json["count"] == 1
    queue(app, user.id, "openid-ivy", 1)
    assert on_pool(app, OutboxWorker(app.ctx.gateway, clock=Clock()).run_once, 10)["sent"] == 1


@pytest.mark.parametrize("body,code", [
    ({"template_id": "bad id!", "accepted": 1}, "invalid_template_id"),
    ({"template_id": PROGRESS_TEMPLATE, "accepted": -1}, "invalid_accepted"),
    ({"template_id": PROGRESS_TEMPLATE, "accepted": "2"}, "invalid_accepted"),
    ({"template_id": PROGRESS_TEMPLATE, "accepted": True}, "invalid_accepted"),
    ({"accepted": 1}, "missing_fields"),
])
def test_a_malformed_consent_report_is_422(app, body, code):
    user = on_pool(app, app.ctx.hall.ensure_hall_user, "openid-jo")
    api = app.api()
    api.token = app.ctx.hall.issue_citizen_token(user)

    resp = api.post("/api/v1/hall/subscriptions", body)

    assert resp.status == 422
    assert resp.error_code() == code


def test_a_consent_report_needs_a_signed_in_citizen(app):
    resp = app.api().post("/api/v1/hall/subscriptions", {"template_id": PROGRESS_TEMPLATE, "accepted": 1},
                          token=None)

    assert resp.status == 401
    assert resp.error_code() == "not_signed_in"


# -- two workers ------------------------------------------------------------------------------------

def test_two_workers_racing_send_each_message_exactly_once(app, fake_wechat):
    cases = []
    for n in range(8):
        user = citizen(app, f"openid-{n}", consents=6)
        cases += queue(app, user, f"openid-{n}", 6)
    # Another process: its own gateway on the same Redis, its own worker.
    other = WeChatGateway(fake_wechat.appid, fake_wechat.secret, fake_wechat.base_url, app.ctx.kv, timeout=2.0)
    workers = [OutboxWorker(app.ctx.gateway), OutboxWorker(other)]
    start = threading.Barrier(2)
    totals = collections.Counter()

    def run(worker):
        start.wait()
        while True:
            counts = on_pool(app, worker.run_once, 5)
            totals.update(counts)
            if not counts["claimed"] and not counts["lost"]:
                return

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()

    assert sorted(sent_cases(fake_wechat)) == sorted(cases)
    assert totals["sent"] == len(cases) and totals["skipped"] == 0
    assert on_pool(app, store.pending_message_count) == 0


# -- message data -----------------------------------------------------------------------------------

@given(st.text(min_size=0, max_size=80), st.text(min_size=0, max_size=20))
def test_message_values_always_fit_their_field_types(item_name, state_label):
    data = message_data(LAYOUT, {"item_name": item_name, "state_label": state_label, "action": "accept",
                                 "at": "2026-10-09T02:00:00Z"})

    assert set(data) == set(LAYOUT)
    for key, value in data.items():
        assert len(value["value"]) <= FIELD_LIMITS[key.rstrip("0123456789")]


def test_message_time_is_china_time():
    data = message_data(LAYOUT, {"item_name": "x", "state_label": "已受理", "action": "finish",
                                 "at": "2026-10-09T17:30:00Z"})

    assert data["time3"] == {"value": "2026-10-10 01:30"}
    assert data["thing4"] == {"value": "办件已办结"}
