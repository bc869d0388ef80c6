"""The window workbench: the department's case queue, staff downloads of case files, ID-number reveals and
the rectifications waiting for an answer — every read of an applicant's files or full ID number audited."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from items.errors import NotFound, RateLimited, Unavailable, invalid
from items.scope import Actor, require_role
from items.clock import CHINA_OFFSET
from wechat import lifecycle, progress, store
from wechat.identity import IdCipher
from wechat.workdays import WorkCalendar

logger = logging.getLogger(__name__)

# Reveals are counted per staff member (settings.reveals_per_hour): a deliberate act, not a way to export
# the department's applicants.
REVEAL_WINDOW_SECONDS = 3600
MAX_REASON = 500
RECTIFICATION_STATES = ("open", "answered", "closed", "all")
_EXTENSIONS = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


@dataclass(frozen=True)
class CaseFile:
    """A file a staff member may download: where its bytes are and what to call it."""
    path: Path
    content_type: str
    size: int
    filename: str        # ASCII: <case_no>-<material_id>.<ext>
    display_name: str    # the material's name, for Content-Disposition's filename*


def staff_case(actor: Actor, case_no: str):
    """The case when the actor is window staff of its department. Raises Forbidden (role_required) for
    other roles and NotFound (case_not_found) for an unknown case or another department's alike, so a
    case number cannot be probed."""
    require_role(actor, "window_staff")
    case = store.find_case(case_no)
    if case is None or case.org != actor.org:
        raise NotFound("no such case", code="case_not_found", details={"case_no": case_no})
    return case


def _midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time()) - CHINA_OFFSET


class WorkbenchService:
    """Synchronous use cases of the window workbench, run off the event loop."""

    def __init__(self, calendar: WorkCalendar, clock: Callable[[], dt.datetime], kv,
                 cipher: Callable[[], IdCipher], path_of: Callable[[str], Path], items, reveals_per_hour: int = 10):
        self.calendar = calendar
        self.items = items  # the items package's LocalItemService: guide versions are read through it
        self.reveals_per_hour = reveals_per_hour
        self._clock = clock
        self.kv = kv
        self._cipher = cipher
        self._path_of = path_of

    def today(self) -> dt.date:
        return progress.china_day(self._clock())

    # --- the queue ------------------------------------------------------------------------------------

    def queue(self, actor: Actor, *, state: str | None = None, impl_code: str | None = None,
              received_from: dt.date | None = None, received_to: dt.date | None = None, due: str | None = None,
              case_no: str | None = None, page: int = 1, size: int = 50) -> dict:
        """The department's cases, newest first → {cases, total, page, size, today}; each row has its due date
        and due_status (on_time | due_soon | overdue, None while the clock is not running).

        Filters: state, impl_code, received (China days, inclusive), due status, case number prefix.
        Raises Forbidden (role_required), Invalid (unknown_state, unknown_due_status, dates_out_of_order).
        """
        require_role(actor, "window_staff")
        if state and state not in lifecycle.STATES:
            raise invalid("unknown case state", "state", "one_of",
                          code="unknown_state", error_message=f"state is one of {', '.join(lifecycle.STATES)}")
        if due and due not in progress.DUE_STATUSES:
            raise invalid("unknown due status", "due", "one_of",
                          code="unknown_due_status", error_message=f"due is one of {', '.join(progress.DUE_STATUSES)}")
        if received_from and received_to and received_to < received_from:
            raise invalid("received_to is before received_from", "received_to", "not_before_from",
                          code="dates_out_of_order", error_message="received_to ≥ received_from")
        today = self.today()
        states: tuple[str, ...] | None = (state,) if state else None
        window: dict = {}
        if due:
            # only a running clock has a due status: DOMAIN.md §5
            running = tuple(s for s in lifecycle.STATES if s in lifecycle.CLOCK_RUNNING_STATES)
            states = tuple(s for s in (states or running) if s in running)
            soon = self.calendar.add_workdays(today, progress.NEAR_DUE_WORKDAYS)
            window = {"overdue": {"due_before": today}, "due_soon": {"due_from": today, "due_to": soon},
                      "on_time": {"due_after": soon}}[due]
        if states == ():
            return {"cases": [], "total": 0, "page": page, "size": size, "today": today.isoformat()}
        rows, total = store.list_cases(
            actor.org, states, page=page, size=size, impl_code=impl_code, case_no_prefix=case_no,
            submitted_from=_midnight_utc(received_from) if received_from else None,
            submitted_to=_midnight_utc(received_to + dt.timedelta(days=1)) if received_to else None, **window)
        return {"cases": [progress.summary(case, self.calendar, today) for case in rows], "total": total,
                "page": page, "size": size, "today": today.isoformat()}

    # --- the guide a case was filed under ---------------------------------------------------------------

    def guide(self, actor: Actor, case_no: str) -> dict:
        """The local item version the case was filed under → {impl_code, version, document}.
        Raises Forbidden (role_required), NotFound (case_not_found)."""
        case = staff_case(actor, case_no)
        written_at = self.items.version_written_at(case.impl_code, case.guide_version)
        document = self.items.version_document(case.impl_code, case.guide_version)
        return {"case_no": case.case_no, "impl_code": case.impl_code, "version": case.guide_version,
                "published_at": progress.iso(written_at), "document": document}

    # --- files ------------------------------------------------------------------------------------------

    def file_for_download(self, actor: Actor, case_no: str, file_id: str, remote_ip: str = "") -> CaseFile:
        """A file of the case for its department's window staff, the download audited (who, when, which case
        and file) before a byte is sent. Raises Forbidden (role_required), NotFound (case_not_found,
        file_not_found: another department's case looks like no case), Unavailable (file_missing)."""
        case = staff_case(actor, case_no)
        material = next((m for m in case.materials or [] if m.get("file_id") == file_id), None)
        if material is None:
            raise NotFound("no such file in this case", code="file_not_found",
                           details={"case_no": case_no, "file_id": file_id})
        path = self._path_of(material["sha256"])
        if not path.is_file():
            raise Unavailable("the stored file is missing", code="file_missing", details={"case_no": case_no})
        with store.transaction():
            store.audit(actor.username, "case.file_download", case.case_no, remote_ip,
                        {"case_no": case.case_no, "file_id": file_id, "material_id": material.get("material_id"),
                         "sha256": material["sha256"]})
        kind = material.get("content_type") or "application/octet-stream"
        name = f"{case.case_no}-{material.get('material_id') or 'file'}.{_EXTENSIONS.get(kind, 'bin')}"
        return CaseFile(path=path, content_type=kind, size=path.stat().st_size, filename=name,
                        display_name=f"{material.get('name') or material.get('material_id')}"
                                     f".{_EXTENSIONS.get(kind, 'bin')}")

    # --- the full ID number -----------------------------------------------------------------------------

    def reveal(self, actor: Actor, case_no: str, reason: object, remote_ip: str = "") -> dict:
        """The applicant's full ID number, for window staff of the case's department who give a reason;
        audited with who/when/why and limited to `reveals_per_hour` per staff member.

        Raises Forbidden (role_required), NotFound (case_not_found), Invalid (reason_required,
        reason_too_short, reason_too_long), RateLimited (too_many_reveals, details retry_after_seconds).
        The number is never logged nor put into an error.
        """
        require_role(actor, "window_staff")
        text = reason.strip() if isinstance(reason, str) else ""
        if not text:
            raise invalid("a reason is required", "/reason", "required",
                          code="reason_required", error_message="say why the full number is needed")
        if len(text) < progress.REVEAL_REASON_MIN:
            raise invalid(f"a reason has at least {progress.REVEAL_REASON_MIN} characters", "/reason", "min_length",
                          code="reason_too_short", error_message=f"at least {progress.REVEAL_REASON_MIN} characters")
        if len(text) > MAX_REASON:
            raise invalid(f"a reason has at most {MAX_REASON} characters", "/reason", "max_length",
                          code="reason_too_long", error_message=f"at most {MAX_REASON} characters")
        case = staff_case(actor, case_no)
        self._count_reveal(actor.username)
        number = self._cipher().decrypt(case.id_number_token)
        now = self._clock()
        with store.transaction():
            store.audit(actor.username, "case.applicant_reveal", case.case_no, remote_ip,
                        {"case_no": case.case_no, "reason": text, "field": "id_number"})
        logger.info("case %s: full ID number shown to %s", case.case_no, actor.username)
        return {"case_no": case.case_no, "id_number": number, "revealed_by": actor.username,
                "revealed_at": progress.iso(now)}

    def _count_reveal(self, username: str) -> None:
        key = f"workbench:reveals:{username}"
        pipe = self.kv.pipeline()
        pipe.set(key, 0, ex=REVEAL_WINDOW_SECONDS, nx=True)  # the window starts with the first reveal
        pipe.incr(key)
        pipe.ttl(key)
        _, count, ttl = pipe.execute()
        if int(count) > self.reveals_per_hour:
            wait = int(ttl) if ttl and int(ttl) > 0 else REVEAL_WINDOW_SECONDS
            raise RateLimited(f"at most {self.reveals_per_hour} reveals an hour; try again later",
                              code="too_many_reveals", details={"retry_after_seconds": wait,
                                                                "limit": self.reveals_per_hour})

    def reveals(self, actor: Actor, page: int = 1, size: int = 50) -> dict:
        """The audit of full ID-number reveals, newest first → {entries, total, page, size}; province_admin."""
        require_role(actor, "province_admin")
        entries, total = store.audit_entries("case.applicant_reveal", page, size)
        return {"entries": entries, "total": total, "page": page, "size": size}

    # --- rectifications of bad ratings ------------------------------------------------------------------

    def rectifications(self, actor: Actor, state: str | None = "open") -> dict:
        """The department's rectification tasks (open by default), earliest due first → {rectifications,
        total, today}; each with its working-day deadline, working days left and overdue flag.
        Raises Forbidden (role_required), Invalid (unknown_state)."""
        require_role(actor, "window_staff")
        state = state or "open"
        if state not in RECTIFICATION_STATES:
            raise invalid("unknown rectification state", "state", "one_of",
                          code="unknown_state", error_message=f"state is one of {', '.join(RECTIFICATION_STATES)}")
        today = self.today()
        out = []
        for task, rating, case in store.rectifications_of_org(actor.org, None if state == "all" else state):
            open_ = task.status == "open"
            left = self.calendar.workdays_between(today, task.due_date) if open_ and today <= task.due_date else 0
            out.append({"id": task.id, "status": task.status, "case_no": case.case_no, "item_name": case.item_name,
                        "rating": {"level": rating.level, "label": lifecycle.RATING_LABELS.get(rating.level),
                                   "comment": rating.comment, "kind": rating.kind, "at": progress.iso(rating.at)},
                        "due_date": progress.iso(task.due_date), "workdays_left": left if open_ else None,
                        "overdue": open_ and today > task.due_date, "answer": task.answer,
                        "answered_by": task.answered_by, "answered_at": progress.iso(task.answered_at),
                        "answer_href": f"/api/v1/rectifications/{task.id}/answer"})
        return {"state": state, "rectifications": out, "total": len(out), "today": today.isoformat()}

