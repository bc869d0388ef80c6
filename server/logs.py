"""Log setup: text or JSON lines, and the request id carried into every log line written for a request."""
from __future__ import annotations

import contextvars
import datetime
import json
import logging
import os

# Set by the base handler for each request; executor calls run in a copy of the context (Context.run),
# so log lines of use cases on the thread pool carry the id too.
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(process)d rid=%(request_id)s]: %(message)s"


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record (`-` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, pid, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "pid": record.process or os.getpid(),
        }
        for key in ("status", "method", "path", "route", "duration_ms"):
            if hasattr(record, key):
                out[key] = getattr(record, key)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def setup_logging(log_format: str = "text", verbose: bool = False, stream=None) -> None:
    """Configure the root logger once for a command: `text` lines or `json` objects, with request ids.

    Like logging.basicConfig, it leaves a root logger that already has handlers alone (a host program or
    a test runner configured it).
    """
    root = logging.getLogger()
    if root.handlers:
        return
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # urllib3 logs whole request URLs at DEBUG, and WeChat's carry the app secret and login codes.
    logging.getLogger("urllib3").setLevel(logging.INFO)
