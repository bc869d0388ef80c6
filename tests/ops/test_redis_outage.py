"""Redis killed while citizens read: search and guides keep answering from the database, sign-in and
applications answer 503 dependency_unavailable with the error body, and everything recovers when it returns."""
from __future__ import annotations

import sys
import urllib.parse
import uuid
from collections import Counter
from pathlib import Path

from background import Background
from harness import RunningApp, make_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))
from scripts.load.run_load import seed_world  # noqa: E402


class Readers(Background):
    """Citizens searching and reading the guide from background threads until stopped; statuses counted."""

    def __init__(self, app, impl_code: str, threads: int = 4):
        super().__init__()
        self.api, self.impl_code = app.api(), impl_code
        self.statuses: Counter = Counter()
        self.bodies: list[bytes] = []
        for _ in range(threads):
            self.spawn(self._read)

    def _read(self) -> None:
        paths = ("/api/v1/hall/search?" + urllib.parse.urlencode({"q": "施工许可"}),
                 f"/api/v1/hall/items/{self.impl_code}")
        n = 0
        while not self.stopping.is_set():
            resp = self.api.get(paths[n % 2], token=None)
            self.statuses[resp.status] += 1
            if resp.status != 200 and len(self.bodies) < 5:
                self.bodies.append(resp.body[:300])
            n += 1


def apply(api, world: dict, token: str):
    body = {"impl_code": world["published"], "applicant": world["applicant"], "form": {"project": "某住宅楼"},
            "materials": []}
    return api.post("/api/v1/hall/applications", body, token=token, headers={"Idempotency-Key": uuid.uuid4().hex})


def test_while_redis_is_down_reads_answer_and_writes_are_503_then_all_recover(sqlite_url, tmp_path,
                                                                             redis_that_dies):
    app = RunningApp(make_settings(sqlite_url, redis_that_dies.url, upload_dir=str(tmp_path / "up"))).start()
    try:
        world = seed_world(app.ctx, citizens=1)
        api, citizen = app.api(), world["citizens"][0]
        before = apply(api, world, citizen)
        assert before.status in (201, 422), before.body  # 422: the required material is missing; Redis answered

        with Readers(app, world["published"]) as readers:
            redis_that_dies.kill()
            login = api.post("/api/v1/auth/login", {"username": "admin", "password": "x"}, token=None)
            assert login.status == 503 and login.error_code() == "dependency_unavailable"
            during = apply(api, world, citizen)
            assert during.status == 503 and during.error_code() == "dependency_unavailable"
            assert during.json["error"]["details"]["dependency"] == "redis"
            guide = api.get(f"/api/v1/hall/items/{world['published']}", token=None)
            assert guide.status == 200 and guide.json["impl_code"] == world["published"]

            redis_that_dies.restart()
            after = apply(api, world, citizen)
            assert after.status == before.status, after.body  # the citizen's session survived (AOF)
        assert set(readers.statuses) == {200}, (readers.statuses, readers.bodies)
        assert readers.statuses[200] > 0
    finally:
        app.stop()
