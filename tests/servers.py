"""Real PostgreSQL and Redis servers for tests: given by environment, or started here when installed."""
from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_port(port: int, seconds: float = 20.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server meant for port {port} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class RedisServer:
    """A throwaway redis-server on a free port, or None when redis-server is not installed.

    `persistent=True` keeps an append-only file, so kill() then restart() on the same port comes back with
    the data, as a production Redis with AOF does (the fault tests)."""

    def __init__(self, persistent: bool = False):
        self.binary = shutil.which("redis-server")
        self.persistent = persistent
        self.proc = None
        self.dir = None
        self.url = None
        self.port = None

    def start(self) -> str | None:
        if not self.binary:
            return None
        self.dir = tempfile.mkdtemp(prefix="govhall-redis-")
        for attempt in range(3):  # a free port can be taken by another process before redis binds it
            self.port = free_port()
            try:
                self._launch()
                break
            except RuntimeError:
                if attempt == 2:
                    raise
        self.url = f"redis://127.0.0.1:{self.port}/0"
        return self.url

    def _launch(self) -> None:
        aof = ["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]
        self.proc = subprocess.Popen([self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      *aof, "--dir", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait_port(self.port, proc=self.proc)

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        self.proc.kill()
        self.proc.wait(10)

    def restart(self) -> None:
        """Start it again on the same port and directory."""
        self._launch()

    def freeze(self) -> None:
        """SIGSTOP the server: connections still open, nothing answers (a hung Redis)."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def _pg_bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PostgresServer:
    """A throwaway PostgreSQL cluster (run as the postgres user when we are root), or None if absent."""

    def __init__(self):
        self.initdb = _pg_bin("initdb")
        self.pg_ctl = _pg_bin("pg_ctl")
        self.dir = None
        self.url = None
        self.as_user: list[str] = []

    def start(self) -> str | None:
        if not (self.initdb and self.pg_ctl):
            return None
        self.dir = tempfile.mkdtemp(prefix="govhall-pg-")
        os.chmod(self.dir, 0o777)
        data = os.path.join(self.dir, "data")
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        subprocess.run(self.as_user + [self.initdb, "-D", data, "-U", "postgres", "--auth=trust",
                                       "-E", "UTF8", "--locale=C.UTF-8"], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for attempt in range(3):  # a free port can be taken by another process before the server binds it
            port = free_port()
            self._options = (f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                             "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
            try:
                self._pg_ctl("start")
                break
            except subprocess.CalledProcessError:
                if attempt == 2:
                    raise
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        return self.url

    def _pg_ctl(self, action: str, *extra: str) -> None:
        subprocess.run(self.as_user + [self.pg_ctl, "-D", os.path.join(self.dir, "data"), "-l",
                                       os.path.join(self.dir, "log"), "-w", "-o", self._options, *extra, action],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def restart(self) -> None:
        """Restart the server at once (-m immediate): every open connection is cut, as in a crash."""
        self._pg_ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        if self.dir and self.pg_ctl:
            subprocess.run(self.as_user + [self.pg_ctl, "-D", os.path.join(self.dir, "data"), "-m", "immediate",
                                           "stop"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            shutil.rmtree(self.dir, ignore_errors=True)


def create_database(admin_url: str, template: str | None = None) -> str:
    """A new database on the server of `admin_url`, empty or a copy of the database `template`; its URL.

    Copying a template is a file copy inside PostgreSQL: much cheaper than building the schema again.
    """
    import psycopg2
    name = "t_" + uuid.uuid4().hex[:12]
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        if template:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        else:
            cur.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 ENCODING \'UTF8\'')
    conn.close()
    return admin_url.rsplit("/", 1)[0] + "/" + name


def drop_database(admin_url: str, url: str) -> None:
    import psycopg2
    name = url.rsplit("/", 1)[1]
    conn = psycopg2.connect(admin_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()
