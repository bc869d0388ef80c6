"""Window staff's casework: the life cycle of DOMAIN.md §5 applied to stored cases, with due dates and notifications."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from items.errors import Conflict, Forbidden, Invalid, NotFound, invalid
from items.scope import Actor, require_role, scope_of
from wechat import lifecycle, progress, store
from wechat.workdays import WorkCalendar

logger = logging.getLogger(__name__)

PROGRESS_TEMPLATE = "case_progress"  # the logical subscribe-message template; the sender maps it to WeChat's id
# A reason is owed to the applicant for these: 一次性告知 of what is missing, why it is refused or paused.
OPINION_REQUIRED = frozenset({"reject", "request_correction", "suspend"})
MAX_OPINION = 2000


def record_change(case, from_state: str | None, to_state: str, action: str, actor: str, opinion: str,
                  now: dt.datetime) -> None:
    """Write the history event of a state change and queue the applicant's progress notification,
    inside the caller's transaction: the outbox row commits or rolls back with the change."""
    event = store.insert_event(case, from_state, to_state, action, actor, opinion, now, progress.china_day(now))
    user = store.hall_user(case.user_id)
    payload = {"case_no": case.case_no, "item_name": case.item_name, "action": action, "state": to_state,
               "state_label": lifecycle.STATE_LABELS.get(to_state, to_state), "result": case.result,
               "at": progress.iso(now), "day": progress.iso(event.day)}
    store.queue_message("subscribe_message", f"{case.case_no}:{event.id}", user.id, user.openid,
                        PROGRESS_TEMPLATE, payload, now)


def require_case_scope(actor: Actor, case) -> None:
    """Raise Forbidden (role_required) unless the actor is window staff, and NotFound (case_not_found) when
    the case is another department's: it answers like an unknown number, so case numbers cannot be probed."""
    require_role(actor, "window_staff")
    if not scope_of(actor).covers(case.org, None):
        raise NotFound("no such case", code="case_not_found", details={"case_no": case.case_no})


def _material_ids(action: str, materials: object) -> list[str]:
    """The material ids of a correction request. Raises Invalid (materials_invalid, materials_only_on_correction)."""
    if materials is None or materials == []:
        return []
    if action != "request_correction":
        raise Invalid("only request_correction lists materials", code="materials_only_on_correction",
                      details={"errors": [{"path": "/materials", "rule": "request_correction_only",
                                           "message": "materials go with request_correction"}]})
    if not isinstance(materials, list) or not all(isinstance(m, str) and m for m in materials):
        raise Invalid("materials is a list of material ids", code="materials_invalid",
                      details={"errors": [{"path": "/materials", "rule": "list_of_ids",
                                           "message": "materials is a list of the guide's material ids"}]})
    return list(dict.fromkeys(materials))


def _check_guide_materials(guide: dict, material_ids: list[str]) -> None:
    """Raise Invalid (unknown_material) naming each id that is not a material of the case's guide version."""
    known = {m.get("id") for m in guide.get("materials") or [] if isinstance(m, dict)}
    errors = [{"path": f"/materials/{i}", "rule": "known_material", "message": f"{m} is not in the guide"}
              for i, m in enumerate(material_ids) if m not in known]
    if errors:
        raise Invalid("a material to resubmit is not in the guide", code="unknown_material",
                      details={"errors": errors})


class CaseworkService:
    """Listing, reading and moving cases for window staff; synchronous, run off the event loop."""

    def __init__(self, calendar: WorkCalendar, clock: Callable[[], dt.datetime], items):
        self.calendar = calendar
        self.items = items  # the items package's LocalItemService: guide versions are read through it
        self._clock = clock

    def today(self) -> dt.date:
        return progress.china_day(self._clock())

    def list(self, actor: Actor, state: str | None = None, overdue: bool = False, near_due: bool = False,
             page: int = 1, size: int = 50) -> dict:
        """Return the cases of the actor's department → {cases, total, page}; filters by state, overdue
        (due date passed, clock running) and near due (due within NEAR_DUE_WORKDAYS working days).

        Raises Forbidden (role_required), Invalid (unknown_state).
        """
        require_role(actor, "window_staff")
        org = scope_of(actor).org  # never None for window staff: scope_of refuses an account without one
        today = self.today()
        states: tuple[str, ...] | None = None
        if state:
            if state not in lifecycle.STATES:
                raise invalid("unknown case state",
                              "/state", "one_of", code="unknown_state", allowed=list(lifecycle.STATES))
            states = (state,)
        due_before = due_from = due_to = None
        if overdue or near_due:
            running = tuple(lifecycle.CLOCK_RUNNING_STATES)
            states = tuple(s for s in (states or running) if s in running)
            if overdue:
                due_before = today
            if near_due:
                due_from, due_to = today, self.calendar.add_workdays(today, progress.NEAR_DUE_WORKDAYS)
        if states == ():  # a state filter that excludes every running state: nothing can be late
            return {"cases": [], "total": 0, "page": page}
        rows, total = store.list_cases(org, states, due_before, due_from, due_to, page, size)
        return {"cases": [progress.summary(case, self.calendar, today) for case in rows], "total": total,
                "page": page}

    def get(self, actor: Actor, case_no: str) -> dict:
        """Return the staff view of a case. Raises NotFound (case_not_found, also for another department's)."""
        case = store.get_case(case_no)
        require_case_scope(actor, case)
        return progress.case_view(case, self.calendar, self.today(), for_staff=True)

    def act(self, actor: Actor, case_no: str, action: str, opinion: str | None = None, result: str | None = None,
            step: dict | None = None, materials: object = None) -> dict:
        """Apply a staff action to a case in one transaction (history, dates, outbox) → the staff view.

        Raises NotFound (also for another department's case), Conflict (illegal_transition, case_changed),
        Invalid (unknown_action, finish_result_invalid, result_only_on_finish, opinion_required,
        step_invalid, materials_invalid). `materials` (request_correction only) lists the ids of the
        guide's materials the applicant must resubmit.
        """
        case = self.perform(actor, case_no, action, opinion, result, step, materials)
        return progress.case_view(case, self.calendar, self.today(), for_staff=True)

    def perform(self, actor: Actor, case_no: str, action: str, opinion: str | None = None,
                result: str | None = None, step: dict | None = None, materials: object = None):
        """`act` without reading the staff view back (its five reads): for callers acting on many cases,
        like the demo's loader → the case record as stored. Raises what `act` raises."""
        if action not in lifecycle.STAFF_ACTIONS:
            raise invalid("unknown case action",
                          "/action", "one_of", code="unknown_action", allowed=list(lifecycle.STAFF_ACTIONS))
        opinion = (opinion or "").strip()
        if len(opinion) > MAX_OPINION:
            raise invalid(f"an opinion has at most {MAX_OPINION} characters",
                          "/opinion", "max_length", code="opinion_too_long", max_length=MAX_OPINION)
        if action in OPINION_REQUIRED and not opinion:
            raise invalid(f"{action} needs an opinion telling the applicant why",
                          "/opinion", "required", code="opinion_required", action=action)
        resubmit = _material_ids(action, materials)
        with store.transaction():
            case = store.get_case(case_no, for_update=True)
            require_case_scope(actor, case)
            if resubmit:
                _check_guide_materials(self.items.version_document(case.impl_code, case.guide_version), resubmit)
            paused = lifecycle.pauses_clock(case.state)
            before = case.state
            target = lifecycle.transition(before, action, result=result,
                                          paused_from=case.paused_from if paused else None)
            now = self._clock()
            changes = self._changes(case, action, target, result, now)
            if action == "step":
                self._record_step(case, actor, opinion, step, now)
            elif action == "request_correction":
                store.insert_correction(case.id, opinion, actor.username, now, resubmit)
            elif action in ("resume", "accept") and before == "correction_requested":
                store.resolve_corrections(case.id, now)
            store.update_case(case, before, changes)
            record_change(case, before, target, action, actor.username, opinion, now)
            if action == "resume" and case.accepted_at is not None:
                # the clock restarts: the due date moves by the working days it stood still
                due = progress.running_due_date(case, store.events_of(case.id), self.calendar, self.today())
                store.update_case(case, target, {"due_date": due})
        logger.info("case %s: %s → %s by %s", case_no, before, target, actor.username)
        return case

    def _changes(self, case, action: str, target: str, result: str | None, now: dt.datetime) -> dict:
        changes: dict = {"state": target}
        if lifecycle.pauses_clock(target):
            changes["paused_from"] = case.state  # where resume returns to
        else:
            changes["paused_from"] = None
        if action == "accept":
            changes["accepted_at"] = now
            if case.time_limit:
                # counting starts the day after acceptance, in working days: DOMAIN.md §5
                due = self.calendar.due_date(progress.china_day(now), case.time_limit)
                changes.update(promised_date=due, due_date=due)
        elif action == "finish":
            changes.update(result=result, finished_at=now)
        elif action == "deliver":
            changes["delivered_at"] = now
        return changes

    @staticmethod
    def _record_step(case, actor: Actor, opinion: str, raw: dict | None, now: dt.datetime) -> None:
        raw = raw if isinstance(raw, dict) else {}
        steps = store.steps_of(case.id)
        start = steps[-1].end if steps and steps[-1].end else (case.accepted_at or case.submitted_at)
        step = lifecycle.CaseStep(name=raw.get("name") or "", action=raw.get("action") or "pass",
                                  handler=raw.get("handler") or actor.username,
                                  opinion=raw.get("opinion") if isinstance(raw.get("opinion"), str) else opinion,
                                  start=start, end=now)
        store.insert_step(case.id, len(steps) + 1, step.name, step.action, step.handler, step.opinion,
                          step.start, step.end)

    def answer_rectification(self, actor: Actor, rectification_id: int, answer: str) -> dict:
        """Record the department's answer to a bad rating → {id, status, due_date, answered_at, late}.

        Raises NotFound (rectification_not_found), Forbidden (out_of_scope), Conflict
        (rectification_answered), Invalid (answer_required).
        """
        answer = (answer or "").strip() if isinstance(answer, str) else ""
        if not answer:
            raise invalid("an answer is required", "/answer", "required", code="answer_required")
        with store.transaction():
            task = store.rectification(rectification_id, for_update=True)
            require_role(actor, "window_staff")
            if not scope_of(actor).covers(task.org, None):
                raise Forbidden("this rectification belongs to another department", code="out_of_scope",
                                details={"id": rectification_id})
            if task.status != "open":
                raise Conflict("this rectification was answered already", code="rectification_answered",
                               details={"id": rectification_id, "status": task.status})
            now = self._clock()
            store.answer_rectification(task, answer, actor.username, now)
        return {"id": task.id, "status": task.status, "due_date": progress.iso(task.due_date),
                "answered_at": progress.iso(task.answered_at), "late": self.today() > task.due_date}
