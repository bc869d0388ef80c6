"""The outbox worker: sends queued subscribe messages once each, within the citizen's consent, retrying while WeChat is down."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Mapping

from items.errors import Conflict, Invalid, Unavailable, invalid
from items.clock import CHINA_OFFSET, utcnow
from wechat import store

logger = logging.getLogger(__name__)

# What WeChat accepts per subscribe-message field type (value lengths, 订阅消息参数值内容限制).
FIELD_LIMITS = {"thing": 20, "phrase": 5, "character_string": 32, "name": 10, "number": 32, "letter": 32,
                "symbol": 5, "amount": 10, "phone_number": 17, "car_number": 8, "time": 40, "date": 40}
# Logical template (as casework queues it) → WeChat template field → payload key. A template's fields
# are chosen when it is picked in the WeChat console; this is the progress template the hall uses.
DEFAULT_LAYOUTS: dict[str, dict[str, str]] = {
    "case_progress": {"thing1": "item_name", "phrase2": "state_label", "time3": "at", "thing4": "note"},
}
DEFAULT_PAGE = "pages/case/detail"
NOTES = {"accept": "申请已受理", "reject": "申请未被受理，请查看原因", "request_correction": "请补齐补正材料",
         "suspend": "办件进入特别程序", "resume": "办件继续办理", "step": "办件有新进展",
         "finish": "办件已办结", "deliver": "办理结果已送达", "withdraw": "申请已撤回"}
SKIPPED = "skipped: "  # last_error prefix of a row settled without sending
GAVE_UP = "gave_up: "


@dataclasses.dataclass
class Counts:
    """What one pass of the worker did."""
    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    retried: int = 0
    gave_up: int = 0
    lost: int = 0  # claims another worker took first, or that expired under us

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _china_time(iso_utc: str | None) -> str:
    if not iso_utc:
        return ""
    try:
        at = dt.datetime.fromisoformat(iso_utc.rstrip("Z"))
    except ValueError:
        return ""
    return (at + CHINA_OFFSET).strftime("%Y-%m-%d %H:%M")


def _clip(key: str, value: str) -> str:
    kind = key.rstrip("0123456789")
    limit = FIELD_LIMITS.get(kind, 20)
    return value if len(value) <= limit else value[:limit - 1] + "…"


def message_data(layout: Mapping[str, str], payload: Mapping) -> dict:
    """Return the WeChat `data` of one message: {field: {value}} with each value cut to its type's limit."""
    values = dict(payload)
    values["at"] = _china_time(payload.get("at"))
    values.setdefault("note", NOTES.get(payload.get("action") or "", "办件状态有更新"))
    return {key: {"value": _clip(key, str(values.get(source) or ""))} for key, source in layout.items()}


def backlog() -> int:
    """Messages queued and not sent yet (the metrics' gauge)."""
    return store.pending_message_count()


class OutboxWorker:
    """Claims due outbox rows with a lease, spends one consent per message and sends it through the gateway.

    Every method is synchronous (database and WeChat calls): run it off the event loop. Several workers,
    in one process or many, may run at once: a row is claimed by compare-and-set on its attempt number,
    so each message is sent by one worker. A message is sent again only if its worker dies between
    WeChat's answer and the write that settles the row (WeChat's send has no idempotency key).
    """

    def __init__(self, gateway, clock: Callable[[], dt.datetime] = utcnow,
                 templates: Mapping[str, str] | None = None,
                 layouts: Mapping[str, Mapping[str, str]] | None = None, page: str = DEFAULT_PAGE,
                 backoff_base: float = 5.0, backoff_max: float = 3600.0, max_attempts: int = 20,
                 lease_seconds: float | None = None):
        self.gateway = gateway
        self.clock = clock
        self.templates = dict(templates or {})  # logical template → WeChat template id (identity if absent)
        self.layouts = dict(DEFAULT_LAYOUTS if layouts is None else layouts)
        self.page = page
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.max_attempts = max_attempts
        # Longer than the slowest send: a token refresh waiting on the lock, then a send and its retry.
        timeout = float(getattr(gateway, "timeout", 5.0))
        self.lease = dt.timedelta(seconds=lease_seconds if lease_seconds is not None else 6 * timeout + 30)

    def template_id(self, template: str) -> str:
        """Return WeChat's template id of a logical template (consents are counted under it)."""
        return self.templates.get(template, template)

    def backoff(self, attempt: int) -> dt.timedelta:
        """Return the wait before attempt `attempt + 1`: doubling from backoff_base, capped at backoff_max."""
        return dt.timedelta(seconds=min(self.backoff_base * 2 ** max(attempt - 1, 0), self.backoff_max))

    def run_once(self, limit: int = 50) -> dict:
        """Send up to `limit` due messages → counts {claimed, sent, skipped, retried, gave_up, lost}.

        Stops early when WeChat is down (the remaining rows keep their turn). Raises nothing for a
        single message's failure; database errors propagate.
        """
        counts = Counts()
        for row in store.due_messages(self.clock(), limit):
            outcome, wechat_down = self._deliver(row)
            setattr(counts, outcome, getattr(counts, outcome) + 1)
            if outcome != "lost":
                counts.claimed += 1
            if wechat_down:
                break
        if counts.claimed:
            logger.info("outbox pass: %s", counts.as_dict())
        return counts.as_dict()

    def _deliver(self, row) -> tuple[str, bool]:
        """Claim, spend consent, send and settle one row → (outcome, whether WeChat as a whole is down)."""
        outcome, failure = self._attempt(row)
        # Unreachable, timing out or answering 5xx (no errcode): later rows wait for the backoff too.
        down = isinstance(failure, Unavailable) and failure.details.get("errcode") is None
        return outcome, down

    def _attempt(self, row) -> tuple[str, Exception | None]:
        now = self.clock()
        attempt = row.attempts + 1
        template_id = self.template_id(row.template)
        with store.transaction():
            if not store.claim_message(row.id, row.attempts, now, now + self.lease):
                return "lost", None
            # The consent is spent in the claim's transaction and given back if the send fails: a
            # message is never sent beyond what the citizen agreed to (DOMAIN.md §6).
            consented = row.user_id is not None and store.take_consent(row.user_id, template_id)
            if not consented:
                settled = store.settle_message(row.id, attempt, now, SKIPPED + "no_consent")
        if not consented:
            logger.info("outbox message %s skipped: no consent for template %s", row.id, template_id)
            return ("skipped" if settled else "lost"), None
        failure = self._send(row, template_id)
        now = self.clock()
        with store.transaction():
            if failure is None:
                return ("sent" if store.settle_message(row.id, attempt, now) else "lost"), None
            if isinstance(failure, Conflict):
                # WeChat counts consents too and says none is left: believe it, and do not retry.
                store.clear_consent(row.user_id, template_id)
                ok = store.settle_message(row.id, attempt, now, SKIPPED + failure.code)
                return ("skipped" if ok else "lost"), failure
            store.add_consent(row.user_id, template_id, 1)
            reason = f"{failure.code}: {failure.details.get('reason') or failure.details.get('errcode') or ''}"
            if attempt >= self.max_attempts:
                ok = store.settle_message(row.id, attempt, now, GAVE_UP + reason)
                logger.warning("outbox message %s given up after %s attempts (%s)", row.id, attempt, reason)
                return ("gave_up" if ok else "lost"), failure
            ok = store.reschedule_message(row.id, attempt, now + self.backoff(attempt), reason)
            return ("retried" if ok else "lost"), failure

    def _send(self, row, template_id: str) -> Conflict | Unavailable | Invalid | None:
        layout = self.layouts.get(row.template)
        if layout is None:
            return invalid("no field layout for this template", "template", "known_template",
                           code="unknown_template", template=row.template, reason="unknown_template")
        payload = row.payload if isinstance(row.payload, dict) else {}
        page = self.page + (f"?case_no={payload['case_no']}" if payload.get("case_no") else "")
        try:
            self.gateway.send_subscribe_message(row.openid, template_id, message_data(layout, payload), page=page)
        except (Conflict, Unavailable) as exc:
            return exc
        return None
