"""`govhall serve`: sockets bound once, N processes forked, each building its app after the fork, graceful stop.

Nothing that holds a connection (database pool, Redis client, thread pool) exists before the fork: each
process builds its own in `make_app`. The parent only supervises: it forwards SIGTERM and SIGINT to the
processes (tornado's fork_processes does not, so a stopped parent would orphan them mid-request) and
starts a process again when one dies unexpectedly.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import shutil
import signal
import tempfile

import tornado.netutil

from server.config import Settings

logger = logging.getLogger("govhall")
MAX_RESTARTS = 100


class ServeRefused(SystemExit):
    """Serving these settings would be unsafe; the message says why and what to do."""


def check_processes(processes: int, settings: Settings) -> int:
    """The number of processes to run (0 = one per core). Raises ServeRefused for a shared-nothing setup."""
    count = processes or os.cpu_count() or 1
    if count > 1 and not settings.redis_url:
        raise ServeRefused("--processes > 1 needs a real Redis: set GOVHALL_REDIS_URL (the embedded stand-in "
                           "lives inside one process, so sign-ins and rate limits would not be shared)")
    return count


def prepare_schema(settings: Settings) -> None:
    """Migrate (embedded default) or check (production) the schema once, before anything is forked.

    Raises SchemaMismatch. The connection is closed again here: no process inherits it across the fork,
    and the processes only check, so they never run DDL side by side.
    """
    from server import db as dbmod, migrations
    db = dbmod.open_database(settings.database_url, max_connections=1)
    dbmod.records.database.initialize(db)
    try:
        if settings.auto_migrate:
            migrations.migrate(db)
        else:
            with db.connection_context():
                migrations.check(db)
    finally:
        if hasattr(db, "close_all"):
            db.close_all()


def serve(args, settings: Settings) -> int:
    """Bind, fork if asked, and serve until SIGTERM or SIGINT."""
    count = check_processes(args.processes, settings)
    prepare_schema(settings)
    settings = dataclasses.replace(settings, auto_migrate=False)
    sockets = tornado.netutil.bind_sockets(args.port, args.host)
    if count == 1:
        return asyncio.run(_serve_one(sockets, args, settings))
    made = None
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Before any import of prometheus_client: every process writes its metric values here.
        made = os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="govhall-metrics-")
    logger.info("govhall starting %d processes on http://%s:%d/api/v1/", count, args.host, args.port)
    try:
        return _supervise(count, lambda: asyncio.run(_serve_one(sockets, args, settings)))
    finally:
        if made:
            shutil.rmtree(made, ignore_errors=True)


def _supervise(count: int, child_main) -> int:
    children: dict[int, int] = {}
    stopping = False

    def forward(signum, frame) -> None:
        nonlocal stopping
        stopping = True
        for pid in list(children):
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    def start(slot: int) -> None:
        pid = os.fork()
        if pid == 0:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            code = 1
            try:
                code = child_main() or 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:  # noqa: BLE001 - logged; the parent restarts the process
                logger.exception("server process failed")
            finally:
                logging.shutdown()
                os._exit(code)
        children[pid] = slot

    # Handlers before the first fork, so a signal in between is not lost; children reset them.
    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for slot in range(count):
        start(slot)
    restarts = 0
    worst = 0
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        slot = children.pop(pid, None)
        if slot is None:
            continue
        from server.metrics import mark_process_dead
        mark_process_dead(pid)
        code = os.waitstatus_to_exitcode(status)
        worst = max(worst, abs(code))
        if not stopping and code != 0 and restarts < MAX_RESTARTS:
            logger.warning("server process %d exited with %d; starting another", pid, code)
            restarts += 1
            start(slot)
    return 1 if worst else 0


async def _serve_one(sockets, args, settings: Settings) -> int:
    import tornado.httpserver
    from server.app import make_app

    app = make_app(settings)
    server = tornado.httpserver.HTTPServer(app, xheaders=args.xheaders, max_body_size=settings.import_max_bytes)
    server.add_sockets(sockets)
    app.ctx.start_warming()
    logger.info("govhall listening on http://%s:%d/api/v1/ (pid %d, database %s, redis %s)", args.host,
                args.port, os.getpid(), settings.describe()["database_url"],
                settings.describe()["redis_url"] or "embedded")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    if not args.no_workers:
        app.ctx.start_background()
    await stop.wait()
    # Stop accepting, let requests in flight be answered, then stop workers and close the pools.
    server.stop()
    in_flight = app.ctx.in_flight.count
    logger.info("shutting down: %d request(s) in flight, waiting up to %.0fs", in_flight, settings.shutdown_timeout)
    if not await app.ctx.in_flight.drained(settings.shutdown_timeout):
        logger.warning("shutdown timeout: %d request(s) still in flight are cut off", app.ctx.in_flight.count)
    await app.ctx.stop_background()
    await server.close_all_connections()
    app.ctx.close()
    logger.info("stopped")
    return 0


def add_arguments(parser) -> None:
    """The serving options beyond host and port."""
    parser.add_argument("--processes", type=int, default=1,
                        help="processes sharing the port (0 = one per core); more than 1 needs GOVHALL_REDIS_URL")

