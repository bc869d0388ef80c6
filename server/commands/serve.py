"""`govhall serve`: the HTTP service (creates or upgrades the tables at start)."""
from __future__ import annotations

import asyncio
import logging
import signal

from server.config import Settings

HELP = "run the HTTP service"
logger = logging.getLogger("govhall")


def configure(parser) -> None:
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8888)
    parser.add_argument("--xheaders", action="store_true", help="trust X-Forwarded-For from a reverse proxy")
    parser.add_argument("--no-workers", action="store_true", help="do not run background workers in this process")


def run(args, settings: Settings) -> int:
    import tornado.httpserver
    from server.app import make_app

    async def main() -> None:
        app = make_app(settings)
        server = tornado.httpserver.HTTPServer(app, xheaders=args.xheaders,
                                               max_body_size=settings.import_max_bytes)
        server.listen(args.port, args.host)
        logger.info("govhall listening on http://%s:%d/api/v1/ (database %s, redis %s)", args.host, args.port,
                    settings.describe()["database_url"], settings.describe()["redis_url"] or "embedded")
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        workers = getattr(app.ctx, "start_background", None)
        if workers and not args.no_workers:
            workers()
        await stop.wait()
        logger.info("shutting down")
        server.stop()
        await server.close_all_connections()
        app.ctx.close()

    asyncio.run(main())
    return 0
