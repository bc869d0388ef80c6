"""HTTP benchmark: `wrk` against a bare Tornado handler and against govhall on demo data, in one run.

    python -m scripts.bench.bench_http [--duration 10] [--connections 32] [--processes 1,2] [--db PATH]

Serves, on 127.0.0.1 only: a bare Tornado handler (the baseline: what the server itself carries), then
govhall with `--processes` N processes sharing one port (SO_REUSEPORT), one demo database (built with
`govhall demo` into a temporary SQLite file unless `--db` names one) and one throwaway redis-server (the
read cache's generation lives there). For each it runs `wrk -t2 -c<connections> -d<duration> --latency`
on: the bare handler, GET /api/v1/health, GET /api/v1/hall/search?q=身份证 and a published guide, and prints
requests/s, p50 and p99, with each govhall figure as a share of the bare handler's.

Needs wrk (/usr/bin/wrk; .ci/run installs it) and redis-server.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from servers import RedisServer, free_port  # noqa: E402

HOST = "127.0.0.1"  # never anything else


def serve(kind: str, port: int) -> None:
    """Child mode: serve the bare handler or govhall on `port` with SO_REUSEPORT, until SIGTERM."""
    import asyncio
    import logging

    import tornado.httpserver
    import tornado.netutil
    import tornado.web

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    class Bare(tornado.web.RequestHandler):
        def get(self) -> None:
            self.set_header("Content-Type", "application/json; charset=utf-8")
            self.finish(b'{"ok": true}')

    async def main() -> None:
        if kind == "bare":
            app = tornado.web.Application([(r"/bare", Bare)], log_function=lambda handler: None)
        else:
            from server.app import make_app
            app = make_app()
        server = tornado.httpserver.HTTPServer(app)
        server.add_sockets(tornado.netutil.bind_sockets(port, HOST, reuse_port=True))
        stop = asyncio.Event()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()

    asyncio.run(main())


def wait_ready(url: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                resp.read()
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def start(kind: str, port: int, processes: int, env: dict, log: Path) -> list[subprocess.Popen]:
    with open(log, "ab") as out:  # the children keep their own copies of the descriptor
        return [subprocess.Popen([sys.executable, "-m", "scripts.bench.bench_http", "--serve", kind, "--port",
                                  str(port)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
                for _ in range(processes)]


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def wrk(url: str, duration: int, connections: int) -> dict:
    """Requests/s and latency percentiles (ms) from one wrk run against `url`."""
    assert urllib.parse.urlsplit(url).hostname == HOST
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url],
                         capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)

    def pct(label: str) -> float:
        value, unit = re.search(rf"^\s+{label}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return {"rps": rps, "p50": pct("50"), "p99": pct("99"), "errors": int(non2xx.group(1)) if non2xx else 0}


def demo_database(path: Path | None, workdir: Path, env: dict) -> Path:
    if path:
        return path
    path = workdir / "demo.db"
    subprocess.run([str(Path(sys.executable).with_name("govhall")), "demo"], cwd=REPO, check=True,
                   env=dict(env, GOVHALL_DATABASE_URL=f"sqlite:///{path}"), stdout=subprocess.DEVNULL)
    return path


def a_published_guide(base: str) -> str:
    with urllib.request.urlopen(base + "/api/v1/hall/search?" + urllib.parse.urlencode({"q": "身份证"})) as resp:
        hits = json.loads(resp.read())["items"]
    if not hits:
        raise RuntimeError("the demo has no published item for 身份证")
    return f"/api/v1/hall/items/{hits[0]['impl_code']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", choices=("bare", "govhall"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--processes", default="1,2", help="govhall process counts to measure, e.g. 1,2")
    parser.add_argument("--db", type=Path, help="an existing demo SQLite file (default: build one)")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return 0
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="govhall-bench-http-"))
    redis_server = RedisServer()
    rows: list[tuple[str, dict]] = []
    try:
        env = dict(os.environ, GOVHALL_VAR_DIR=str(workdir), GOVHALL_REDIS_URL=redis_server.start() or "",
                   GOVHALL_AUTO_MIGRATE="1",  # the demo database is built (or upgraded) by the benchmark itself
                   GOVHALL_SECRET_KEY="bench-secret-key-0123456789", PYTHONPATH=str(REPO))
        db = demo_database(args.db, workdir, env)
        env["GOVHALL_DATABASE_URL"] = f"sqlite:///{db}"
        print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores; wrk -t2 "
              f"-c{args.connections} -d{args.duration}s; database {db}; redis {env['GOVHALL_REDIS_URL']}")

        port = free_port()
        procs = start("bare", port, 1, env, workdir / "bare.log")
        try:
            wait_ready(f"http://{HOST}:{port}/bare")
            rows.append(("bare Tornado handler", wrk(f"http://{HOST}:{port}/bare", args.duration, args.connections)))
        finally:
            stop(procs)

        for n in (int(x) for x in args.processes.split(",")):
            port = free_port()
            base = f"http://{HOST}:{port}"
            procs = start("govhall", port, n, env, workdir / f"govhall-{n}.log")
            try:
                wait_ready(base + "/api/v1/health")
                guide = a_published_guide(base)
                search = "/api/v1/hall/search?" + urllib.parse.urlencode({"q": "身份证"})
                for label, path in (("health", "/api/v1/health"), ("hall search q=身份证", search),
                                    ("published guide", guide)):
                    rows.append((f"{label} ({n} process{'es' if n > 1 else ''})",
                                 wrk(base + path, args.duration, args.connections)))
            finally:
                stop(procs)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        redis_server.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    bare = rows[0][1]["rps"]
    print(f"\n{'what':<40} {'req/s':>9} {'of bare':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for label, r in rows:
        print(f"{label:<40} {r['rps']:>9.0f} {r['rps'] / bare:>8.0%} {r['p50']:>8.2f} {r['p99']:>8.2f} "
              f"{r['errors']:>8}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
