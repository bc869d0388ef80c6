"""Benchmark: requests per second of `govhall serve --processes 2` beside one process, same database and Redis.

    python -m scripts.bench.bench_processes --db-url postgresql://… --redis-url redis://… [--seconds 10]
                                            [--clients 8] [--path /api/v1/health/ready]

Starts `govhall serve` as a subprocess on a free 127.0.0.1 port for each process count in turn (after
`govhall migrate`), sends the path from `--clients` threads on fresh connections for `--seconds`, and
prints answers per second and latency percentiles; the one-process run is the baseline of the same run.
The client threads run on the same machine, so on few cores they compete with the server for CPU.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as resp:
        resp.read()
        return resp.status


def measure(processes: int, env: dict, path: str, seconds: float, clients: int) -> dict:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "server.cli", "serve", "--port", str(port), "--processes",
                             str(processes), "--no-workers"], cwd=REPO, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if _get(base + "/api/v1/health/ready") == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("serve did not start") from None
                time.sleep(0.2)
        time.sleep(2)  # every process listening
        latencies: list[float] = []
        errors = [0]
        stop = time.monotonic() + seconds

        def client() -> None:
            mine = []
            while time.monotonic() < stop:
                t0 = time.perf_counter()
                try:
                    _get(base + path)
                    mine.append(time.perf_counter() - t0)
                except OSError:
                    errors[0] += 1
            latencies.extend(mine)

        threads = [threading.Thread(target=client) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        latencies.sort()
        q = statistics.quantiles(latencies, n=100)
        return {"processes": processes, "answers": len(latencies), "per_second": len(latencies) / seconds,
                "p50_ms": 1000 * q[49], "p99_ms": 1000 * q[98], "errors": errors[0]}
    finally:
        proc.terminate()
        proc.wait(60)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--redis-url", required=True)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--path", default="/api/v1/health/ready")
    parser.add_argument("--counts", default="1,2", help="process counts to measure; the first is the baseline")
    args = parser.parse_args(argv)
    env = dict(os.environ, GOVHALL_DATABASE_URL=args.db_url, GOVHALL_REDIS_URL=args.redis_url,
               GOVHALL_SECRET_KEY=os.environ.get("GOVHALL_SECRET_KEY", "bench-secret-key"))
    subprocess.run([sys.executable, "-m", "server.cli", "migrate"], cwd=REPO, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    rows = [measure(int(n), env, args.path, args.seconds, args.clients) for n in args.counts.split(",")]
    base = rows[0]["per_second"]
    print(f"GET {args.path}, {args.clients} clients, {args.seconds:.0f} s each, {os.cpu_count()} cores")
    print(f"{'processes':>9} {'answers':>8} {'per s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6} {'vs 1':>6}")
    for r in rows:
        print(f"{r['processes']:>9} {r['answers']:>8} {r['per_second']:>8.0f} {r['p50_ms']:>8.1f} "
              f"{r['p99_ms']:>8.1f} {r['errors']:>6} {r['per_second'] / base:>5.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
