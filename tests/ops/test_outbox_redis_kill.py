"""Redis killed (SIGKILL) while citizens file applications and the outbox sends their notifications: sign-in
and filing answer 503 with the error body, search and guides keep answering, and once Redis is back every
queued message reaches WeChat exactly once (deliveries counted at the fake WeChat against the outbox rows)."""
from __future__ import annotations

import collections
import sys
import time
import urllib.parse
import uuid
from pathlib import Path

from background import Background
from harness import RunningApp, make_settings
from server.config import Secret
from wechat.casework import PROGRESS_TEMPLATE
from wechat.outbox import OutboxWorker
from wechat.records import CaseRecord, ConsentRecord, HallUserRecord, OutboxRecord

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))
from fake_wechat import FakeWeChat  # noqa: E402 - WeChat's API on 127.0.0.1
from hall_world import PDF, multipart  # noqa: E402
from scripts.load.run_load import seed_world  # noqa: E402

CITIZENS = 4
CONSENTS = 500  # more than the test can use: a message is never skipped for want of consent


class Filers(Background):
    """Each citizen files applications in a loop; a 503 is retried with the same Idempotency-Key, as the
    mini program does, until it is answered or the test stops."""

    def __init__(self, app: RunningApp, world: dict, files: dict[str, str]):
        super().__init__()
        self.app, self.world, self.files = app, world, files
        self.statuses: collections.Counter = collections.Counter()
        self.unexpected: list = []
        self.filed: list[str] = []  # case numbers answered 201 (or replayed 200)
        for token in world["citizens"]:
            self.spawn(self._file, token)

    def _file(self, token: str) -> None:
        api = self.app.api()
        body = {"impl_code": self.world["published"], "applicant": self.world["applicant"],
                "form": {"project": "某住宅楼"}, "materials": [{"material_id": "m1", "file_id": self.files[token]}]}
        while not self.stopping.is_set():
            key = uuid.uuid4().hex
            while not self.stopping.is_set():
                resp = api.post("/api/v1/hall/applications", body, token=token, headers={"Idempotency-Key": key})
                self.statuses[resp.status] += 1
                if resp.status in (200, 201):
                    self.filed.append(resp.json["case_no"])
                    break
                if resp.status != 503 or resp.error_code() != "dependency_unavailable":
                    self.unexpected.append((resp.status, resp.body[:300]))
                    break
                time.sleep(0.05)


class Sender(Background):
    """The outbox worker passing every 50 ms on the app's pool, with backoffs short enough for a test."""

    def __init__(self, app: RunningApp):
        super().__init__()
        self.app = app
        self.worker = OutboxWorker(app.ctx.gateway, backoff_base=0.2, backoff_max=1.0, lease_seconds=30)
        self.totals: collections.Counter = collections.Counter()
        self.errors: list[str] = []
        self.spawn(self._loop)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            try:
                self.totals.update(self.app.ctx.executor.submit(self.app.ctx._call, self.worker.run_once, 50).result())
            except Exception as exc:  # noqa: BLE001 - a pass that fails is recorded; the next one tries again
                self.errors.append(type(exc).__name__)
            time.sleep(0.05)


def on_pool(app: RunningApp, fn, *args):
    return app.ctx.executor.submit(app.ctx._call, fn, *args).result()


def outbox_rows() -> list[tuple[str, object, str | None]]:
    return [(row.payload["case_no"], row.sent_at, row.last_error) for row in OutboxRecord.select()]


def consents_left() -> dict[str, int]:
    return {openid: count for openid, count in ConsentRecord.select(HallUserRecord.openid, ConsentRecord.count)
            .join(HallUserRecord).where(ConsentRecord.template_id == PROGRESS_TEMPLATE).tuples()}


def test_a_redis_kill_under_load_loses_no_outbox_message_and_sends_none_twice(postgres_url, redis_that_dies,
                                                                               tmp_path):
    wechat = FakeWeChat().start()
    app = RunningApp(make_settings(postgres_url, redis_that_dies.url, upload_dir=str(tmp_path / "up"),
                                   wechat_appid=wechat.appid, wechat_secret=Secret(wechat.secret),
                                   wechat_api_base=wechat.base_url, wechat_timeout=2.0, redis_timeout=0.5)).start()
    try:
        world = seed_world(app.ctx, citizens=CITIZENS)
        for n in range(CITIZENS):
            user = on_pool(app, app.ctx.hall.ensure_hall_user, f"load-openid-{n}")
            on_pool(app, app.ctx.hall.add_consent, user.id, PROGRESS_TEMPLATE, CONSENTS)
        files = {}
        for token in world["citizens"]:
            body, ctype = multipart(PDF, "application/pdf")
            upload = app.api().post("/api/v1/hall/uploads", raw=body, content_type=ctype, token=token)
            assert upload.status == 201, upload.body
            files[token] = upload.json["file_id"]
        reader = app.api()
        search = "/api/v1/hall/search?" + urllib.parse.urlencode({"q": "施工许可"})
        guide = f"/api/v1/hall/items/{world['published']}"

        wechat.delay = 0.02  # sends take a while, so the kill lands in the middle of a backlog being sent
        with Filers(app, world, files) as filers:
            time.sleep(1.5)  # a backlog builds up before the sender starts
            with Sender(app) as sender:
                time.sleep(0.1)
                redis_that_dies.kill()
                outage: collections.Counter = collections.Counter()
                for _ in range(5):
                    login = reader.post("/api/v1/auth/login", {"username": "admin", "password": "x"}, token=None)
                    assert login.status == 503 and login.error_code() == "dependency_unavailable", login.body
                    assert login.json["error"]["details"]["dependency"] == "redis"
                    for path in (search, guide):
                        outage[reader.get(path, token=None).status] += 1
                    time.sleep(0.2)
                filed_before_restart = len(filers.filed)
                redis_that_dies.restart()
                time.sleep(1.5)
        assert outage == {200: 10}, outage
        assert filers.statuses[503] > 0, filers.statuses  # filing really met the dead Redis
        assert not filers.unexpected, filers.unexpected
        assert len(filers.filed) > filed_before_restart, filers.statuses  # filing recovered

        assert sender.totals["retried"] > 0, sender.totals  # sends met the dead Redis (the token lives there)
        with Sender(app) as sender:
            deadline = time.monotonic() + 60
            while on_pool(app, _backlog) and time.monotonic() < deadline:
                time.sleep(0.2)
        assert not sender.errors, sender.errors

        rows = on_pool(app, outbox_rows)
        cases = on_pool(app, lambda: [c.case_no for c in CaseRecord.select(CaseRecord.case_no)])
        delivered = collections.Counter(m["page"].split("case_no=")[1] for m in wechat.sent)
        assert sorted(c for c, _, _ in rows) == sorted(cases)  # one submit notification per case, none lost
        assert set(filers.filed) <= set(cases)
        assert len(filers.filed) == len(set(filers.filed))  # a retried filing never made a second case
        assert all(sent_at is not None and not error for _, sent_at, error in rows), rows  # sent, not skipped
        assert delivered == collections.Counter(cases), (delivered - collections.Counter(cases),
                                                         collections.Counter(cases) - delivered)
        per_citizen = collections.Counter(m["touser"] for m in wechat.sent)
        # every consent spent on a send that failed while Redis was down was given back
        assert on_pool(app, consents_left) == {f"load-openid-{n}": CONSENTS - per_citizen[f"load-openid-{n}"]
                                               for n in range(CITIZENS)}
    finally:
        app.stop()
        wechat.stop()


def _backlog() -> int:
    from wechat import outbox
    return outbox.backlog()
