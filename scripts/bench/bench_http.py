"""HTTP benchmark: `wrk` against a bare Tornado handler and against govhall on demo data, in one run.

    python -m scripts.bench.bench_http [--stack postgresql|embedded] [--duration 10] [--connections 32]
                                       [--processes 1,2] [--rounds 3] [--db PATH]

Serves, on 127.0.0.1 only: a bare Tornado handler (the baseline: what the server itself carries) at one process
and at each N of `--processes` (what a second process can gain on this machine at all), then
`govhall serve --processes N` for each N of `--processes` (the production command: processes sharing one
port). `--stack postgresql` (the default, production) starts a throwaway PostgreSQL and redis-server and
builds the demo province there with `govhall demo`; `--stack embedded` serves the embedded default: a
temporary SQLite demo file (or `--db`) and the in-process Redis stand-in, which runs one process only.
For each it runs `wrk -t2 -c<connections> -d<duration> --latency` on: the bare handler, GET /api/v1/health,
GET /api/v1/hall/search?q=身份证 and a published guide, in `--rounds` interleaved rounds with every server
running throughout, and prints the median round's requests/s (with the range), p50 and p99, each figure as a
share of the bare handler's at one process, and with several processes the share of one process's figure.

Needs wrk (/usr/bin/wrk; .ci/run installs it); redis-server and PostgreSQL for `--stack postgresql`.
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

from servers import PostgresServer, RedisServer, create_database, free_port  # noqa: E402

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


def start_govhall(port: int, processes: int, env: dict, log: Path) -> list[subprocess.Popen]:
    """`govhall serve --processes N` on 127.0.0.1:port; its parent forwards SIGTERM to the processes."""
    with open(log, "ab") as out:
        return [subprocess.Popen([str(Path(sys.executable).with_name("govhall")), "serve", "--host", HOST,
                                  "--port", str(port), "--processes", str(processes)],
                                 cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)]


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


def median_run(runs: list[dict]) -> dict:
    """The run of median requests/s among `runs` (its own latencies with it), and the range of requests/s."""
    ordered = sorted(runs, key=lambda r: r["rps"])
    return dict(ordered[(len(ordered) - 1) // 2], low=ordered[0]["rps"], high=ordered[-1]["rps"],
                errors=sum(r["errors"] for r in runs))


def build_demo(env: dict) -> None:
    """`govhall demo` into the database `env` names."""
    subprocess.run([str(Path(sys.executable).with_name("govhall")), "demo"], cwd=REPO, check=True, env=env,
                   stdout=subprocess.DEVNULL)


class Stack:
    """The database and Redis govhall is served on: PostgreSQL + redis-server, or the embedded default."""

    def __init__(self, kind: str, db: Path | None, workdir: Path):
        self.kind, self.db, self.workdir = kind, db, workdir
        self.redis = RedisServer() if kind == "postgresql" else None
        self.postgres = PostgresServer() if kind == "postgresql" else None

    def env(self) -> dict:
        """The environment of `govhall demo` and `govhall serve`, with the demo province built."""
        env = dict(os.environ, GOVHALL_VAR_DIR=str(self.workdir), GOVHALL_SECRET_KEY="bench-secret-key-0123456789",
                   GOVHALL_AUTO_MIGRATE="1",  # the demo database is built (or upgraded) by the benchmark itself
                   GOVHALL_LOG_FORMAT="json", PYTHONPATH=str(REPO))
        env.pop("GOVHALL_REDIS_URL", None)
        if self.kind == "embedded":
            if self.db is None:
                self.db = self.workdir / "demo.db"
                build_demo(dict(env, GOVHALL_DATABASE_URL=f"sqlite:///{self.db}"))
            env["GOVHALL_DATABASE_URL"] = f"sqlite:///{self.db}"
            return env
        env["GOVHALL_REDIS_URL"] = self.redis.start() or ""
        admin = self.postgres.start()
        if not (admin and env["GOVHALL_REDIS_URL"]):
            raise RuntimeError("--stack postgresql needs PostgreSQL and redis-server installed")
        env["GOVHALL_DATABASE_URL"] = create_database(admin)
        build_demo(env)
        return env

    def stop(self) -> None:
        for server in (self.redis, self.postgres):
            if server is not None:
                server.stop()


def a_published_guide(base: str) -> str:
    with urllib.request.urlopen(base + "/api/v1/hall/search?" + urllib.parse.urlencode({"q": "身份证"})) as resp:
        hits = json.loads(resp.read())["items"]
    if not hits:
        raise RuntimeError("the demo has no published item for 身份证")
    return f"/api/v1/hall/items/{hits[0]['impl_code']}"


def print_table(rows: list[tuple[str, int, dict]]) -> None:
    """requests/s, share of the bare handler, share of one process's figure (several processes), p50, p99."""
    bare = rows[0][2]["rps"]  # the bare handler at one process
    one = {label: r["rps"] for label, n, r in rows if n == 1}
    print(f"\n{'what':<36} {'procs':>5} {'req/s':>9} {'range':>13} {'of bare':>8} {'of 1 proc':>9} {'p50 ms':>8} "
          f"{'p99 ms':>8} {'non-2xx':>8}")
    for label, n, r in rows:
        scale = f"{r['rps'] / one[label]:.2f}x" if n > 1 and one.get(label) else ""
        spread = f"{r['low']:.0f}-{r['high']:.0f}"
        print(f"{label:<36} {n:>5} {r['rps']:>9.0f} {spread:>13} {r['rps'] / bare:>8.0%} {scale:>9} "
              f"{r['p50']:>8.2f} {r['p99']:>8.2f} {r['errors']:>8}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--serve", choices=("bare", "govhall"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; each figure is their median")
    parser.add_argument("--processes", default="1,2", help="govhall process counts to measure, e.g. 1,2")
    parser.add_argument("--stack", choices=("postgresql", "embedded"), default="postgresql",
                        help="PostgreSQL + redis-server (production), or the embedded SQLite and stand-in")
    parser.add_argument("--db", type=Path, help="--stack embedded: an existing demo SQLite file (default: build one)")
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.port)
        return 0
    if not shutil.which("wrk"):
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="govhall-bench-http-"))
    stack = Stack(args.stack, args.db, workdir)
    counts = [int(x) for x in args.processes.split(",")]
    if args.stack == "embedded" and any(n > 1 for n in counts):
        print("the embedded stand-in serves one process only (several need GOVHALL_REDIS_URL): measuring 1")
        counts = [1]
    rows: list[tuple[str, int, dict]] = []
    running: list[list[subprocess.Popen]] = []
    try:
        env = stack.env()
        print(f"load average before: {os.getloadavg()[0]:.2f}; {os.cpu_count()} cores; wrk -t2 "
              f"-c{args.connections} -d{args.duration}s, {args.rounds} round(s); stack {args.stack}: database "
              f"{env['GOVHALL_DATABASE_URL']}, redis {env.get('GOVHALL_REDIS_URL') or 'in-process stand-in'}")
        # Every server runs for the whole benchmark (an idle one costs nothing), and the rounds interleave
        # them: each figure is the median of its rounds, so a slow minute of a shared machine falls on every
        # configuration alike instead of on whichever was measured then.
        targets: list[tuple[str, int, str]] = []
        # The bare handler at every process count too: what this machine lets any server gain from a second
        # process (wrk, PostgreSQL and Redis share its cores), the ceiling for govhall's own scaling.
        for n in sorted(set(counts) | {1}):
            port = free_port()
            running.append(start("bare", port, n, env, workdir / "bare.log"))
            wait_ready(f"http://{HOST}:{port}/bare")
            targets.append(("bare Tornado handler", n, f"http://{HOST}:{port}/bare"))
        for n in counts:
            port = free_port()
            base = f"http://{HOST}:{port}"
            running.append(start_govhall(port, n, env, workdir / f"govhall-{n}.log"))
            wait_ready(base + "/api/v1/health")
            search = "/api/v1/hall/search?" + urllib.parse.urlencode({"q": "身份证"})
            for label, path in (("health", "/api/v1/health"), ("hall search q=身份证", search),
                                ("published guide", a_published_guide(base))):
                targets.append((label, n, base + path))
        time.sleep(2)  # every process of every server listening
        samples: dict[int, list[dict]] = {i: [] for i in range(len(targets))}
        for _ in range(args.rounds):
            for i, (_, _, url) in enumerate(targets):
                samples[i].append(wrk(url, args.duration, args.connections))
        rows = [(label, n, median_run(samples[i])) for i, (label, n, _) in enumerate(targets)]
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        for procs in running:
            stop(procs)
        stack.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
