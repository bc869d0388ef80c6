"""Console benchmark: server time of the editor's item list and the item editor for a department with
2,000 items, beside the API's own list and item read in the same run (the baseline).

    python -m scripts.bench.bench_console [--items 2000] [--rounds 200]

Builds a temporary SQLite world with one department holding `--items` claimed items, serves the real
app on 127.0.0.1, signs in once for the console (cookie) and once for the API (bearer), and times
sequential GETs: /console/items?page=N against /api/v1/items?page=N, and /console/items/{code}
against /api/v1/items/{code}. Server time is Tornado's request time from the access log hook, so
the client's own time is left out. Prints p50 and p95 in milliseconds.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from console.world import ORG_A, catalogue_document, seed  # noqa: E402
from harness import RunningApp, make_settings  # noqa: E402
from items.scope import Actor  # noqa: E402


def build(app, n: int) -> list[str]:
    """Catalogue items and `n` claims of ORG_A (the seeded one plus n-1 more)."""
    ctx = app.ctx
    world = seed(ctx, hash_passwords=False)
    admin, editor = Actor("admin", "province_admin"), Actor("editor_a", "editor", ORG_A, "410402")
    codes = [world["claimed"]]
    with ctx.db.connection_context():
        for k in range(n - 1):
            basic = f"0001{k // 1000 + 50:02d}{k % 1000:03d}000"
            ctx.catalogue.put(basic, catalogue_document(basic, f"基准事项{k:04d}"), admin)
            codes.append(ctx.items.claim(basic, ORG_A, "4", "410402", editor)["impl_code"])
    return codes


def timed(app, opener, url: str, headers: dict, times: list) -> None:
    request = urllib.request.Request(app.base + url, headers=headers)
    with opener.open(request, timeout=60) as response:
        response.read()
    deadline = time.perf_counter() + 5
    while not app.logged and time.perf_counter() < deadline:  # the log hook runs as the response ends
        time.sleep(0.0005)
    times.append(app.logged.pop())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def timed_app(tmp: str) -> RunningApp:
    """The app on a SQLite file under `tmp`, started, recording each request's server time (ms) in
    `app.logged` as the access log measures it."""
    app = RunningApp(make_settings(f"sqlite:///{tmp}/govhall.db", upload_dir=f"{tmp}/uploads"))
    original = app.app.settings["log_function"]
    app.logged = []

    def log(handler):
        app.logged.append(1000.0 * handler.request.request_time())
        original(handler)
    app.app.settings["log_function"] = log
    return app.start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        app = timed_app(tmp)
        try:
            started = time.perf_counter()
            codes = build(app, args.items)
            print(f"built {len(codes)} items in {time.perf_counter() - started:.0f} s")
            editor = Actor("editor_a", "editor", ORG_A, "410402")
            token = app.ctx.accounts.issue_token(editor)
            api = {"Authorization": f"Bearer {token}"}
            cookie = {"Cookie": f"govhall_console={token}"}
            opener = urllib.request.build_opener()
            pages = max(1, args.items // 50)
            results = {name: [] for name in ("console list", "api list", "console editor", "api item")}
            rng = random.Random(7)
            for _ in range(args.rounds):
                page = rng.randint(1, pages)
                code = rng.choice(codes)
                timed(app, opener, f"/console/items?page={page}", cookie, results["console list"])
                timed(app, opener, f"/api/v1/items?page={page}", api, results["api list"])
                timed(app, opener, f"/console/items/{code}", cookie, results["console editor"])
                timed(app, opener, f"/api/v1/items/{code}", api, results["api item"])
        finally:
            app.stop()
    print(f"{'request':<16}{'p50 ms':>10}{'p95 ms':>10}   ({args.rounds} each, {args.items} items, SQLite)")
    for name, values in results.items():
        print(f"{name:<16}{statistics.median(values):>10.1f}{percentile(values, 0.95):>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
