"""The composition root: make_app(settings) builds the database, key-value store, thread pool, every
service with exactly the collaborators it uses, and the routes."""
from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import functools
import importlib
import logging

import redis
import tornado.web

from guides import search_index
from guides.lint import lint as guide_lint
from items.accounts import AccountService
from items import stats as item_stats
from items.catalogue import CatalogueService
from items.directory import DirectoryService
from items.directory_import import DirectoryImport
from items.local import LocalItemService
from items.passwords import Passwords
from items.rebase import RebaseService
from items.staff import StaffService
from items.stats import StatsService
from items.stats_summary import SummaryService
from items.workflow import WorkflowService
from server import console  # the staff console's pages at /console/ (server/console/)
from server import db as dbmod
from server.base import NotFoundHandler, log_request
from server.config import Settings
from server.kv import make_kv, make_loop_kv
from server.lifecycle import InFlight
from server.metrics import Metrics
from wechat.dev_gateway import DevWeChatGateway
from server.read_cache import HitTally, ReadCache
from wechat.gateway import WeChatGateway
from wechat.hall_service import HallService
from wechat.outbox import OutboxWorker

logger = logging.getLogger(__name__)

# Every handler module of the app (server.handlers.NAME), each ending in `routes = [...]`; a new module is
# added here, and a module listed here that does not import is an error at start.
# Tornado tries the patterns in this order on every request: the citizens' public reads (most of the traffic)
# first, so a search or a guide is matched against a handful of patterns, not fifty (their patterns overlap
# no other module's; where patterns overlap within a module, its own order decides).
HANDLER_MODULES = ["hall_public", "meta", "auth", "catalogue", "items", "workflow", "hall", "cases", "workbench",
                   "stats", "admin", "rebase", "directory", "staff", "ops"]


class Context:
    """Everything a handler needs, built once from settings and handed down (no I/O at import)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        # Operations (docs/operations.md): metrics, requests in flight for a graceful stop, and the schema
        # migrated here on the embedded default but only checked in production (`govhall migrate`).
        self.metrics = Metrics()
        self.in_flight = InFlight()
        self.db = dbmod.connect(settings.database_url, max_connections=settings.workers + 4,
                                migrate=settings.auto_migrate)
        self.kv = make_kv(settings.redis_url, settings.redis_timeout)
        self.read_cache = ReadCache(make_loop_kv(settings.redis_url, self.kv), max_entries=settings.hall_cache_entries,
                                    ttl=settings.hall_cache_ttl, check=settings.hall_cache_check)
        self.executor = concurrent.futures.ThreadPoolExecutor(max_workers=settings.workers,
                                                              thread_name_prefix="usecase")
        self.hit_tally = HitTally(lambda fn, *args: self.executor.submit(self._call, fn, *args))
        self.accounts = AccountService(self.kv, settings.token_ttl, Passwords(
            settings.password_hash_cost, settings.password_hash_memory_kib, settings.password_hash_workers,
            settings.password_hash_queue))
        self.catalogue = CatalogueService()
        self.directory = DirectoryService()
        self.directory_import = DirectoryImport()
        self.staff = StaffService(self.accounts)
        self.items = LocalItemService()
        self.rebase = RebaseService(self.items)
        self.hall = HallService(settings, self.kv, self.accounts, self.items)
        # Inside the publish / withdraw transaction, in this order: the statistics facts follow the
        # published versions, and the hall search follows them at once.
        self.workflow = WorkflowService(linter=guide_lint,
                                        publish_hooks=[item_stats.record_publish, index_published],
                                        withdraw_hooks=[item_stats.record_withdraw, unindex_withdrawn],
                                        after_commit=self.read_cache.invalidate)
        # Case figures come from the branch hall; items never import wechat, so the counter is handed in.
        self.stats = StatsService(rank_min_items=settings.rank_min_items, case_counts=self.hall.case_counts)
        self.stats_summary = SummaryService(self.stats)
        self.gateway = DevWeChatGateway() if settings.wechat_dev else WeChatGateway(
            settings.wechat_appid, settings.wechat_secret, settings.wechat_api_base, self.kv,
            timeout=settings.wechat_timeout)
        self._background: list[asyncio.Task] = []

    async def run(self, fn, *args, **kwargs):
        """Run a use case on the thread pool, on that thread's database connection."""
        return await self.compute(functools.partial(self._call, fn, *args, **kwargs))

    async def compute(self, fn, *args):
        """Run work that needs no database (writing a workbook or a CSV) on the thread pool: off the event
        loop, and without taking a database connection, so it answers while the database is down."""
        # A copy of the context goes along so the work's log lines carry the request id.
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self.executor, functools.partial(contextvars.copy_context().run, fn, *args))

    def _call(self, fn, *args, **kwargs):
        # Each pool thread keeps its own connection (peewee is per-thread); reopen when it was closed.
        try:
            self.db.connect(reuse_if_open=True)
            self.metrics.observe_pool(self.db)
            return fn(*args, **kwargs)
        except dbmod.UNAVAILABLE:  # the database is down or unreachable
            self.metrics.database_errors.inc()
            self._discard_connection()
            raise
        except redis.RedisError:
            self.metrics.redis_errors.inc()
            raise
        finally:
            if not self.db.in_transaction() and hasattr(self.db, "_pool"):
                self.db.close()  # hand a pooled PostgreSQL connection back

    def _discard_connection(self) -> None:
        """Drop this thread's pooled connection after it failed: a server restart leaves every pooled
        connection dead, and handing one back would fail the next request too (the pool reconnects)."""
        if not hasattr(self.db, "manual_close") or self.db.is_closed():
            return
        self.db._state.transactions.clear()  # the transaction ended with the connection
        try:
            self.db.manual_close()
        except Exception:  # noqa: BLE001 - closing a dead connection may fail too; forget it either way
            self.db._state.reset()

    def health(self) -> dict:
        """Whether the database and the key-value store answer, and `warnings` an operator should act on
        while the service still works (a missing holiday calendar year)."""
        out = {"ok": True, "database": "ok", "kv": "ok", "warnings": []}
        try:
            self.db.execute_sql("SELECT 1")
        except Exception as exc:  # noqa: BLE001 - health reports any failure
            out.update(ok=False, database=type(exc).__name__)
        try:
            self.kv.ping()
        except Exception as exc:  # noqa: BLE001
            out.update(ok=False, kv=type(exc).__name__)
        if out["database"] == "ok":
            out["warnings"] = self.hall.holidays.warnings()
        return out

    def start_background(self, interval: float = 2.0) -> None:
        """Start the outbox worker on the running event loop (govhall serve); its passes run on the pool.

        Without a WeChat appid there is nobody to send to: messages stay queued until one is configured.
        """
        if not self.settings.wechat_appid:
            logger.info("outbox worker not started: GOVHALL_WECHAT_APPID is not set")
            return
        worker = OutboxWorker(self.gateway, templates=dict(self.settings.wechat_templates) or None)

        async def loop() -> None:
            while True:
                try:
                    counts = await self.run(worker.run_once, 50)
                except Exception:  # noqa: BLE001 - a failed pass is logged and the next one tries again
                    logger.exception("outbox pass failed")
                    counts = {}
                if not counts.get("claimed"):
                    await asyncio.sleep(interval)

        self._background.append(asyncio.get_running_loop().create_task(loop()))

    def start_warming(self) -> None:
        """Load the search index on the pool now (govhall serve, as the port opens): the first citizen's
        search would otherwise wait seconds for it. /health/ready says `loading` until it is done."""
        from guides import hall_search
        hall_search.start_warming()
        self._background.append(asyncio.get_running_loop().create_task(self.run(hall_search.warm)))

    async def stop_background(self) -> None:
        """Cancel the background loops and wait until they stopped (a pass on the pool finishes first)."""
        tasks, self._background = self._background, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def close(self) -> None:
        for task in self._background:
            task.cancel()
        self._background.clear()
        self.executor.shutdown(wait=True)
        self.accounts.close()
        self.gateway.close()
        if self.read_cache.kv is not self.kv:
            self.read_cache.kv.close()
        self.kv.close()  # its pooled sockets, some perhaps to a Redis that died meanwhile
        if not self.db.is_closed():
            self.db.close()
        if hasattr(self.db, "close_all"):
            self.db.close_all()


def index_published(impl_code: str, version: int, document: dict, published_at) -> None:
    """Publish hook: the published version replaces the item's search entry."""
    search_index.index_item(impl_code, document, version)


def unindex_withdrawn(impl_code: str, withdrawn_at) -> None:
    """Withdraw hook: the item leaves the search."""
    search_index.remove_item(impl_code)


def collect_routes() -> list:
    """The routes of every handler module, in the order of HANDLER_MODULES."""
    modules = [importlib.import_module(f"server.handlers.{name}") for name in HANDLER_MODULES]
    return [route for module in modules for route in module.routes]


def make_app(settings: Settings | None = None, ctx: Context | None = None) -> tornado.web.Application:
    """The Tornado application with its context at `app.settings["ctx"]`."""
    settings = settings or Settings.from_env()
    ctx = ctx or Context(settings)
    app = tornado.web.Application(
        collect_routes() + console.routes(), ctx=ctx, default_handler_class=NotFoundHandler, log_function=log_request,
        debug=False, autoreload=False, compress_response=True,
        max_body_size=settings.import_max_bytes)
    app.ctx = ctx
    ctx.metrics.learn_routes(app)
    return app
