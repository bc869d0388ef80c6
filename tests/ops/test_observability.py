"""Liveness, readiness, /metrics and its access rule, JSON logs and the request id on every log line."""
from __future__ import annotations

import io
import json
import logging
import os
import time

import pytest
import tornado.httpserver

from harness import Api, RunningApp, make_settings
from server import logs
from server.config import Secret


@pytest.fixture
def app(sqlite_url, tmp_path):
    app = RunningApp(make_settings(sqlite_url, upload_dir=str(tmp_path / "uploads"))).start()
    yield app
    app.stop()


def test_live_answers_with_the_process_id(app):
    resp = app.api().get("/api/v1/health/live", token=None)
    assert resp.status == 200
    assert resp.json == {"status": "live", "pid": os.getpid()}


def test_ready_checks_database_redis_and_schema(db_url, kv_url, tmp_path):
    app = RunningApp(make_settings(db_url, kv_url, upload_dir=str(tmp_path / "u"))).start()
    try:
        resp = app.api().get("/api/v1/health/ready", token=None)
        assert resp.status == 200
        assert resp.json["ready"] is True
        assert (resp.json["database"], resp.json["redis"], resp.json["schema"]) == ("ok", "ok", "ok")
    finally:
        app.stop()


def test_ready_is_503_while_the_search_index_loads_at_start_then_200(app):
    from guides import hall_search
    hall_search.start_warming()
    try:
        resp = app.api().get("/api/v1/health/ready", token=None)
        assert resp.status == 503 and resp.json["error"]["details"]["search"] == "loading"
    finally:
        app.ctx.executor.submit(app.ctx._call, hall_search.warm).result()
    resp = app.api().get("/api/v1/health/ready", token=None)
    assert resp.status == 200 and resp.json["search"] == "ok"


def test_ready_is_503_with_the_error_body_when_redis_is_down(sqlite_url, tmp_path):
    app = RunningApp(make_settings(sqlite_url, "redis://127.0.0.1:9/0", upload_dir=str(tmp_path / "u"))).start()
    try:
        resp = app.api().get("/api/v1/health/ready", token=None)
        assert resp.status == 503
        assert resp.error_code() == "not_ready"
        details = resp.json["error"]["details"]
        assert details["redis"].startswith("unavailable") and details["database"] == "ok"
    finally:
        app.stop()


def test_metrics_count_requests_by_route_pattern_not_raw_path(app):
    api = app.api()
    for code in ("000104002000", "000104002001"):
        api.get(f"/api/v1/catalogue/items/{code}", token=None)
    resp = api.get("/metrics", token=None)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/plain")
    text = resp.body.decode()
    line = [l for l in text.splitlines() if l.startswith("govhall_http_requests_total{")
            and 'route="/api/v1/catalogue/items/{}"' in l]
    assert line and float(line[0].rsplit(" ", 1)[1]) == 2.0
    assert "000104002000" not in text
    assert "govhall_http_request_duration_seconds_bucket" in text
    assert "govhall_outbox_backlog 0.0" in text
    assert "govhall_database_errors_total 0.0" in text and "govhall_redis_errors_total" in text


def _behind_proxy(app: RunningApp) -> tuple[tornado.httpserver.HTTPServer, Api]:
    """A second listener with xheaders, so a test can send as a non-loopback client (X-Real-Ip)."""
    import asyncio
    from servers import free_port
    port = free_port()

    async def listen():
        server = tornado.httpserver.HTTPServer(app.app, xheaders=True)
        server.listen(port, "127.0.0.1")
        return server

    server = asyncio.run_coroutine_threadsafe(listen(), app.loop).result(10)
    return server, Api(f"http://127.0.0.1:{port}")


def _stop_proxy(app: RunningApp, server) -> None:
    import asyncio

    async def stop():
        server.stop()
        await server.close_all_connections()
    asyncio.run_coroutine_threadsafe(stop(), app.loop).result(10)


# role or credential × where from → status (the authorisation matrix of /metrics)
@pytest.mark.parametrize("token_setting, sent, remote, status", [
    ("", None, "loopback", 200),
    ("", None, "remote", 403),
    ("", "staff", "remote", 403),          # a staff token (even province_admin's) is no metrics token
    ("m-token", None, "loopback", 401),
    ("m-token", "wrong", "remote", 401),
    ("m-token", "m-token", "remote", 200),
    ("m-token", "staff", "loopback", 401),
])
def test_metrics_access(sqlite_url, tmp_path, token_setting, sent, remote, status):
    app = RunningApp(make_settings(sqlite_url, upload_dir=str(tmp_path / "u"),
                                   metrics_token=Secret(token_setting))).start()
    try:
        token, proxy = sent, None
        if sent == "staff":
            app.ctx.accounts.create_user("boss", "boss-password-1", "province_admin", None, None)
            token = app.api().login("boss", "boss-password-1")
        headers = {}
        api, proxy = app.api(), None
        if remote == "remote":
            proxy, api = _behind_proxy(app)
            headers["X-Real-Ip"] = "203.0.113.9"
        resp = api.get("/metrics", token=token, headers=headers)
        assert resp.status == status
        if status != 200:
            assert resp.error_code() in ("metrics_loopback_only", "not_signed_in", "bad_metrics_token")
    finally:
        if proxy is not None:
            _stop_proxy(app, proxy)
        app.stop()


def test_json_log_lines_of_one_request_share_its_id_also_from_the_thread_pool(app):
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.RequestIdFilter())
    handler.setFormatter(logs.JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    probe = logging.getLogger("items.probe")

    def use_case():
        probe.info("inside the use case")
        return {}

    from server.handlers import meta
    original = app.ctx.health
    app.ctx.health = lambda: (use_case(), original())[1]
    try:
        resp = app.api().get("/api/v1/health", token=None, headers={"X-Request-Id": "req-abc123"})
        # the access line is written just after the response is sent: wait for it, not for a time
        deadline = time.monotonic() + 30
        while "govhall.access" not in stream.getvalue() and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        app.ctx.health = original
        root.removeHandler(handler)
        root.setLevel(old_level)
    assert resp.headers["X-Request-Id"] == "req-abc123"
    lines = [json.loads(l) for l in stream.getvalue().splitlines()]
    probe_line = next(l for l in lines if l["message"] == "inside the use case")
    access = next(l for l in lines if l["logger"] == "govhall.access")
    assert probe_line["request_id"] == access["request_id"] == "req-abc123"
    assert access["route"] == "/api/v1/health" and access["status"] == 200
    assert meta  # the health route is served by server.handlers.meta


def test_a_forged_request_id_is_replaced(app):
    resp = app.api().get("/api/v1/health/live", token=None, headers={"X-Request-Id": "x\" injected=1"})
    assert resp.headers["X-Request-Id"] != "x\" injected=1"
    assert resp.headers["X-Request-Id"].isalnum()


def test_json_log_format_from_the_command_line(tmp_path):
    import subprocess
    import sys
    from pathlib import Path
    env = dict(os.environ, GOVHALL_LOG_FORMAT="json", GOVHALL_VAR_DIR=str(tmp_path / "var"),
               GOVHALL_DATABASE_URL=f"sqlite:///{tmp_path}/g.db", GOVHALL_AUTO_MIGRATE="1")
    done = subprocess.run([sys.executable, "-m", "server.cli", "migrate"], cwd=Path(__file__).resolve().parents[2],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(l["logger"] == "server.migrations" and l["request_id"] == "-" for l in lines)
