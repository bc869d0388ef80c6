"""Benchmark: server time of the reform dashboard for the whole demo province, beside the statistics API
requests that give the same figures (the baseline), measured in the same run.

    python -m scripts.bench.bench_dashboard [--rounds 50] [--as-of 2026-01-01]

Loads the demonstration province (scripts/demo.py: 平顶山市 and its counties, about 300 catalogue items,
the published local items, cases and ratings) into a temporary SQLite database, serves the real app on
127.0.0.1 and times sequential GETs as the province admin: /console/reform (the page: ten headline
figures, three charts, a ranking) against the five API calls it stands for (/stats/summary,
/stats/items?group_by=region|org|item_type, /stats/rankings), one by one and summed per round. Server
time is Tornado's request time from the access log hook. Prints p50 and p95 in milliseconds; target:
the page under 300 ms.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from items.scope import Actor  # noqa: E402
from scripts import demo  # noqa: E402
from scripts.bench.bench_console import percentile, timed, timed_app  # noqa: E402

API_CALLS = ("/api/v1/stats/summary", "/api/v1/stats/items?group_by=region", "/api/v1/stats/items?group_by=org",
             "/api/v1/stats/items?group_by=item_type", "/api/v1/stats/rankings?group_by=org&by=instant_ratio")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=50)
    parser.add_argument("--as-of", default="", help="also time the page and the API as of this date")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        app = timed_app(tmp)
        try:
            started = time.perf_counter()
            with app.ctx.db.connection_context():
                loaded = demo.load(app.ctx)
                demo.load_hall(app.ctx)
            print(f"demo province loaded in {time.perf_counter() - started:.0f} s: {loaded}")
            app.logged.clear()
            token = app.ctx.accounts.issue_token(Actor("admin", "province_admin"))
            api = {"Authorization": f"Bearer {token}"}
            cookie = {"Cookie": f"govhall_console={token}"}
            opener = urllib.request.build_opener()
            suffixes = [""] + ([f"as_of={args.as_of}"] if args.as_of else [])
            results: dict[str, list[float]] = {}
            for suffix in suffixes:
                label = f" as of {args.as_of}" if suffix else ""
                page, total = results.setdefault("dashboard page" + label, []), results.setdefault(
                    "API, 5 calls summed" + label, [])
                for _ in range(args.rounds):
                    timed(app, opener, "/console/reform" + (f"?{suffix}" if suffix else ""), cookie, page)
                    one_round = []
                    for call in API_CALLS:
                        sep = "&" if "?" in call else "?"
                        timed(app, opener, call + (sep + suffix if suffix else ""), api, one_round)
                        results.setdefault(call.split("/api/v1")[1] + label, []).append(one_round[-1])
                    total.append(sum(one_round))
        finally:
            app.stop()
    print(f"{'request':<52}{'p50 ms':>10}{'p95 ms':>10}   ({args.rounds} each, SQLite)")
    for name, values in results.items():
        print(f"{name:<52}{statistics.median(values):>10.1f}{percentile(values, 0.95):>10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
