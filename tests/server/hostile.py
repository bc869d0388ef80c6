"""The hostile-input tests' world: one seeded app per database per module, a raw HTTP client that sends bytes as
given, the error envelope check, and a recorder of ERROR lines and tracebacks in the log."""
from __future__ import annotations

import http.client
import json
import logging

import pytest

from authz_world import World, _token, seeded_app
from harness import assert_validation_details

PATCH_TYPE = "application/json-patch+json"
HUGE_INT = "9" * 40


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def world(request, tmp_path_factory):
    """One app per database for the whole module, seeded as the authorisation matrix seeds it (items, cases,
    ratings, rectifications); `impl` is a draft item of the editor `a` at version 1."""
    with seeded_app(request, tmp_path_factory, "hostile") as seeded:
        yield {"app": seeded.app, "seed": seeded, "impl": seeded.values["work"],
               **{name: _api(seeded, role) for name, role in (("a", "editor_own"), ("admin", "province_admin"),
                                                               ("window", "window_own"), ("citizen", "citizen"))}}


def _api(seeded: World, role: str):
    api = seeded.app.api()
    api.token = _token(seeded, role)
    return api


class Recorder(logging.Handler):
    """Every record at ERROR or above, and any record carrying a traceback."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.bad: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.levelno >= logging.ERROR or record.exc_info or "Traceback" in text:
            self.bad.append(text[:300])


@pytest.fixture
def log_watch():
    recorder = Recorder()
    root = logging.getLogger()
    root.addHandler(recorder)
    yield recorder
    root.removeHandler(recorder)


def raw(app, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    """One request over a fresh connection, bytes as given (no client-side encoding or checks)."""
    conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=60)
    conn.putrequest(method, path, skip_accept_encoding=True)
    for name, value in (headers or {}).items():
        conn.putheader(name, value)
    if body is not None:
        conn.putheader("Content-Length", str(len(body)))
    conn.endheaders(body)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp.status, data


def assert_error(status: int, data: bytes, where):
    assert 400 <= status < 500, (where, status, data[:300])
    body = json.loads(data)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, (where, body)
    assert_validation_details(status, body["error"]["details"])
