"""Prometheus metrics: request counts and latency by route, outbox backlog, pool use, database and Redis errors.

With several processes (`serve --processes N`) every process writes its values to files under
PROMETHEUS_MULTIPROC_DIR, which the serving CLI sets before this module is imported, and a scrape of any
process adds them up (prometheus_client's multiprocess mode).
"""
from __future__ import annotations

import os
import re

import prometheus_client as prom
from prometheus_client import multiprocess

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    """The service's metrics; one per Context, registered in its own registry (tests build many)."""

    def __init__(self):
        # In multiprocess mode values live in files and a scrape collects them into a fresh registry.
        self.registry = None if multiprocess_mode() else prom.CollectorRegistry()
        reg = {"registry": self.registry}
        self.requests = prom.Counter("govhall_http_requests", "HTTP requests answered, by route pattern",
                                     ["method", "route", "status"], **reg)
        self.latency = prom.Histogram("govhall_http_request_duration_seconds",
                                      "Time to answer an HTTP request, by route pattern", ["method", "route"],
                                      buckets=LATENCY_BUCKETS, **reg)
        self.database_errors = prom.Counter("govhall_database_errors", "Database errors raised in use cases",
                                            **reg)
        self.redis_errors = prom.Counter("govhall_redis_errors", "Redis errors raised in use cases", **reg)
        self.outbox_backlog = prom.Gauge("govhall_outbox_backlog", "WeChat messages queued and not yet sent",
                                         multiprocess_mode="mostrecent", **reg)
        self.pool_in_use = prom.Gauge("govhall_db_pool_connections_in_use",
                                      "Pooled database connections in use, per process",
                                      multiprocess_mode="liveall", **reg)
        self.pool_open = prom.Gauge("govhall_db_pool_connections_open",
                                    "Pooled database connections open (in use or idle), per process",
                                    multiprocess_mode="liveall", **reg)
        self._routes: dict[type, list[tuple[re.Pattern, str]]] = {}

    def learn_routes(self, app) -> None:
        """Map handler classes to their route patterns, so the label is the pattern, never a raw path."""
        for rule in app.wildcard_router.rules:
            regex = getattr(rule.matcher, "regex", None)
            if regex is not None:
                self._routes.setdefault(rule.target, []).append((regex, _pattern_label(regex.pattern)))

    def route_of(self, handler) -> str:
        candidates = self._routes.get(type(handler), [])
        if len(candidates) == 1:
            return candidates[0][1]
        for regex, label in candidates:
            if regex.match(handler.request.path):
                return label
        return "unmatched"

    def observe(self, handler) -> str:
        """Count one answered request; returns its route label."""
        route = self.route_of(handler)
        method = handler.request.method or "-"
        self.requests.labels(method, route, str(handler.get_status())).inc()
        self.latency.labels(method, route).observe(handler.request.request_time())
        return route

    def observe_pool(self, db) -> None:
        if hasattr(db, "_in_use"):  # playhouse's pooled databases
            self.pool_in_use.set(len(db._in_use))
            self.pool_open.set(len(db._in_use) + len(db._connections))

    def render(self) -> tuple[bytes, str]:
        """The exposition text of every process's values, and its content type."""
        if self.registry is None:
            registry = prom.CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
        else:
            registry = self.registry
        return prom.generate_latest(registry), prom.CONTENT_TYPE_LATEST


def _pattern_label(pattern: str) -> str:
    """`/api/v1/items/(?P<impl_code>[^/]+)/diff$` → `/api/v1/items/{impl_code}/diff`."""
    label = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", pattern)
    label = re.sub(r"\([^)]*\)", "{}", label)
    return label.rstrip("$").replace("\\.", ".")


def mark_process_dead(pid: int) -> None:
    """Drop a finished process's live gauges (called by the supervisor when a child exits)."""
    if multiprocess_mode():
        multiprocess.mark_process_dead(pid)
