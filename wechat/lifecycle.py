"""The case (办件) life cycle of DOMAIN.md §5 as data and pure functions, its step records, and rating rules."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from items.errors import Conflict, Invalid, invalid, invalid_all

# --- states and actions --------------------------------------------------------------------------------

STATES = ("submitted", "accepted", "rejected", "in_progress", "correction_requested", "suspended",
          "finished", "delivered", "withdrawn")
STATE_LABELS = {
    "submitted": "已申报", "accepted": "已受理", "rejected": "不予受理", "in_progress": "办理中",
    "correction_requested": "补齐补正", "suspended": "特别程序", "finished": "办结", "delivered": "已送达",
    "withdrawn": "已撤回",
}
# What window staff may do: CONTRACT.md §3 POST /cases/{case_no}/actions.
STAFF_ACTIONS = ("accept", "reject", "request_correction", "resume", "suspend", "step", "finish", "deliver")
# An applicant may take back an application nobody has accepted yet (申请人撤回申请). Once accepted,
# withdrawing ends the case with a decision, so staff record it as finish(result="withdrawn") and the
# case keeps its steps and dates for 按期办结率; `withdrawn` is only the state of a never-accepted case.
APPLICANT_ACTIONS = ("withdraw",)
ACTIONS = STAFF_ACTIONS + APPLICANT_ACTIONS

# What the console's form for each staff action asks for: {name, type, required, ...} per field, exactly the
# rules wechat/casework.py enforces (one place: the console renders this, it never re-implements a rule).
_OPINION = {"name": "opinion", "type": "text", "max_length": 2000}
ACTION_FORMS: dict[str, dict] = {
    "accept": {"label": "受理", "fields": [dict(_OPINION, required=False)]},
    "reject": {"label": "不予受理", "fields": [dict(_OPINION, required=True)]},
    "request_correction": {"label": "补齐补正", "fields": [
        dict(_OPINION, required=True),
        {"name": "materials", "type": "material_ids", "required": False,
         "description": "the guide's materials the applicant must resubmit (一次性告知)"}], "clock": "stops"},
    "resume": {"label": "恢复办理", "fields": [dict(_OPINION, required=False)], "clock": "resumes"},
    "suspend": {"label": "特别程序", "fields": [dict(_OPINION, required=True, description="the reason")],
                "clock": "stops"},
    "step": {"label": "办理环节", "fields": [
        {"name": "step", "type": "object", "required": True, "fields": [
            {"name": "name", "type": "text", "required": True, "max_length": 100},
            {"name": "action", "type": "choice", "required": True, "choices": ["pass", "return", "other"]},
            {"name": "opinion", "type": "text", "required": False, "max_length": 2000}]},
        dict(_OPINION, required=False)]},
    "finish": {"label": "办结", "fields": [
        {"name": "result", "type": "choice", "required": True, "choices": ["approved", "refused", "withdrawn"]},
        dict(_OPINION, required=False)]},
    "deliver": {"label": "送达", "fields": [dict(_OPINION, required=False)]},
}

# The clock stands still while the applicant corrects materials or a special procedure runs: DOMAIN.md §5.
PAUSED_STATES = frozenset({"correction_requested", "suspended"})
CLOCK_RUNNING_STATES = frozenset({"accepted", "in_progress"})
TERMINAL_STATES = frozenset({"rejected", "delivered", "withdrawn"})
RATEABLE_STATES = frozenset({"finished", "delivered"})
FINISH_RESULTS = ("approved", "refused", "withdrawn")
RESULT_LABELS = {"approved": "准予", "refused": "不予", "withdrawn": "撤回"}

# The states a pause can return to; a correction requested before acceptance (材料不全, 一次性告知补正)
# returns to `submitted` and never started the clock.
RESUMABLE_STATES = ("submitted", "accepted", "in_progress")
_RESUME = "<state the pause came from>"

_ACTIVE = {
    "submitted": {"accept": "accepted", "reject": "rejected", "request_correction": "correction_requested",
                  "withdraw": "withdrawn"},
    "accepted": {"step": "in_progress", "request_correction": "correction_requested", "suspend": "suspended",
                 "finish": "finished"},
    "in_progress": {"step": "in_progress", "request_correction": "correction_requested",
                    "suspend": "suspended", "finish": "finished"},
    "finished": {"deliver": "delivered"},
    "rejected": {}, "delivered": {}, "withdrawn": {},
}
# A paused case before acceptance can still be accepted, rejected or taken back; after acceptance it
# can only resume or end (the applicant never corrected: 不予许可 or 撤回).
_PAUSED_BEFORE_ACCEPTANCE = {
    "correction_requested": {"resume": _RESUME, "accept": "accepted", "reject": "rejected",
                             "withdraw": "withdrawn"},
}
_PAUSED_AFTER_ACCEPTANCE = {
    "correction_requested": {"resume": _RESUME, "finish": "finished"},
    "suspended": {"resume": _RESUME, "finish": "finished"},
}


def _table(state: str, paused_from: str | None) -> dict[str, str]:
    if state not in STATES:
        raise invalid(f"unknown case state {state!r}", "/state", "one_of", code="unknown_state", allowed=list(STATES))
    if state not in PAUSED_STATES:
        return _ACTIVE[state]
    if paused_from is not None and paused_from not in RESUMABLE_STATES:
        raise invalid(f"a pause cannot come from {paused_from!r}",
                      "/paused_from", "one_of", code="paused_from_invalid", allowed=list(RESUMABLE_STATES))
    if paused_from == "submitted":
        if state not in _PAUSED_BEFORE_ACCEPTANCE:
            # suspension (特别程序) belongs to the examination of an accepted case
            raise invalid(f"{state} cannot come from submitted",
                          "/paused_from", "accepted_cases_only", code="paused_from_invalid")
        return _PAUSED_BEFORE_ACCEPTANCE[state]
    return _PAUSED_AFTER_ACCEPTANCE[state]


def allowed_actions(state: str, *, paused_from: str | None = None) -> tuple[str, ...]:
    """Return the actions allowed in `state`, in ACTIONS order.

    For a paused state, `paused_from` is the state the pause came from (default in_progress).
    Raises Invalid (unknown_state, paused_from_invalid) for values outside the life cycle.
    """
    table = _table(state, paused_from)
    return tuple(action for action in ACTIONS if action in table)


def transition(state: str, action: str, *, result: str | None = None, paused_from: str | None = None) -> str:
    """Return the state a case in `state` moves to under `action`.

    `finish` needs `result` ∈ FINISH_RESULTS and no other action takes one. `resume` returns to
    `paused_from` (the state before the pause; default in_progress). Raises Conflict
    (code illegal_transition, details state/action/allowed) when the action is not allowed in that
    state; Invalid for an unknown state or action (unknown_state, unknown_action) or a missing or
    misplaced result (finish_result_invalid, result_only_on_finish).
    """
    if action not in ACTIONS:
        raise invalid(f"unknown case action {action!r}",
                      "/action", "one_of", code="unknown_action", allowed=list(ACTIONS))
    table = _table(state, paused_from)
    target = table.get(action)
    if target is None:
        raise Conflict(f"a case that is {state} cannot {action}", code="illegal_transition",
                       details={"state": state, "action": action,
                                "allowed": [a for a in ACTIONS if a in table]})
    if action == "finish":
        if result not in FINISH_RESULTS:
            raise invalid("finishing a case needs a result",
                          "/result", "one_of", code="finish_result_invalid", allowed=list(FINISH_RESULTS))
    elif result is not None:
        raise invalid("only finish carries a result",
                      "/result", "finish_only", code="result_only_on_finish", action=action)
    if target == _RESUME:
        return paused_from or "in_progress"
    return target


def clock_change(event_action: str, from_state: str | None, to_state: str) -> str | None:
    """Return what a state change did to the working-day clock: starts, stops, resumes or None."""
    if event_action == "accept":
        return "starts"
    was_paused, now_paused = from_state in PAUSED_STATES, to_state in PAUSED_STATES
    if now_paused and not was_paused and from_state in CLOCK_RUNNING_STATES:
        return "stops"
    if was_paused and to_state in CLOCK_RUNNING_STATES:
        return "resumes"
    return None


def pauses_clock(state: str) -> bool:
    """Return True when the working-day clock stands still in `state` (DOMAIN.md §5)."""
    return state in PAUSED_STATES


def paused_intervals(history: Sequence[tuple[dt.date, str]], until: dt.date) -> list[tuple[dt.date, dt.date]]:
    """Return the (from, to) stretches spent in a paused state, for WorkCalendar.due_date.

    `history` lists (date entered, state) in order; a pause still running ends at `until`.
    """
    intervals = []
    for index, (entered, state) in enumerate(history):
        if state in PAUSED_STATES:
            left = history[index + 1][0] if index + 1 < len(history) else until
            intervals.append((entered, left))
    return intervals


# --- step records ------------------------------------------------------------------------------------

STEP_ACTIONS = {"pass": "通过", "return": "退回", "other": "其他"}


@dataclass(frozen=True, kw_only=True)
class CaseStep:
    """One step of a case in progress: who did what, with which opinion, from when to when.

    Raises Invalid (step_invalid, details errors [{path, rule, message}]) when built from bad values.
    """

    name: str
    action: str  # pass | return | other (通过 / 退回 / 其他)
    handler: str
    opinion: str = ""
    start: dt.datetime
    end: dt.datetime | None = None  # None while the step is open

    def __post_init__(self) -> None:
        errors = []
        for field in ("name", "handler"):
            value = getattr(self, field)
            if not isinstance(value, str) or not value.strip():
                errors.append({"path": f"/{field}", "rule": "required", "message": f"{field} is required"})
        if self.action not in STEP_ACTIONS:
            errors.append({"path": "/action", "rule": "one_of",
                           "message": f"action is one of {', '.join(STEP_ACTIONS)}"})
        if not isinstance(self.opinion, str):
            errors.append({"path": "/opinion", "rule": "text", "message": "opinion is text"})
        if not isinstance(self.start, dt.datetime):
            errors.append({"path": "/start", "rule": "datetime", "message": "start is a date and time"})
        if self.end is not None and not isinstance(self.end, dt.datetime):
            errors.append({"path": "/end", "rule": "datetime", "message": "end is a date and time"})
        elif self.end is not None and isinstance(self.start, dt.datetime) and _comparable(self.start, self.end) \
                and self.end < self.start:
            errors.append({"path": "/end", "rule": "end_after_start", "message": "end is before start"})
        if errors:
            raise invalid_all("the step record breaks a rule", errors, code="step_invalid")

    @property
    def action_label(self) -> str:
        """The action as the progress page shows it: 通过 / 退回 / 其他."""
        return STEP_ACTIONS[self.action]

    def to_dict(self) -> dict:
        """Return the step as JSON-ready data, dates in ISO 8601."""
        return {"name": self.name, "action": self.action, "handler": self.handler, "opinion": self.opinion,
                "start": self.start.isoformat(), "end": self.end.isoformat() if self.end else None}

    @classmethod
    def from_dict(cls, data: Mapping) -> CaseStep:
        """Return the step read from `to_dict` data. Raises Invalid (step_invalid) for bad data."""
        try:
            start = dt.datetime.fromisoformat(data["start"])
            end = dt.datetime.fromisoformat(data["end"]) if data.get("end") else None
        except (KeyError, TypeError, ValueError):
            raise Invalid("a step needs ISO 8601 start and end times", code="step_invalid",
                          details={"errors": [{"path": "/start", "rule": "datetime",
                                               "message": "start and end are ISO 8601 date-times"}]}) from None
        return cls(name=data.get("name"), action=data.get("action"), handler=data.get("handler"),
                   opinion=data.get("opinion") or "", start=start, end=end)


def _comparable(a: dt.datetime, b: dt.datetime) -> bool:
    return (a.tzinfo is None) == (b.tzinfo is None)


# --- ratings (好差评) ------------------------------------------------------------------------------------

RATING_LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
RATING_LABELS = {"very_satisfied": "非常满意", "satisfied": "满意", "basic": "基本满意",
                 "dissatisfied": "不满意", "very_dissatisfied": "非常不满意"}
# Stored by name; each interface maps its own codes: DOMAIN.md §5.
RATING_SCHEMES = {
    "gbt39046": {"1": "very_satisfied", "2": "satisfied", "3": "basic", "4": "dissatisfied",
                 "5": "very_dissatisfied"},
    "provincial": {"5": "very_satisfied", "4": "satisfied", "3": "basic", "2": "dissatisfied",
                   "1": "very_dissatisfied"},
}
BAD_LEVELS = frozenset({"dissatisfied", "very_dissatisfied"})  # 差评 = 不满意 + 非常不满意
SATISFIED_LEVELS = frozenset({"very_satisfied", "satisfied"})  # 满意率 counts 满意 or better: DOMAIN.md §4
RATING_KINDS = ("first", "follow_up")  # a first rating, then at most one 追评


def _scheme(scheme: str) -> dict[str, str]:
    if scheme not in RATING_SCHEMES:
        raise invalid(f"unknown rating code scheme {scheme!r}",
                      "/scheme", "one_of", code="rating_scheme_unknown", allowed=list(RATING_SCHEMES))
    return RATING_SCHEMES[scheme]


def check_level(level: object) -> str:
    """Return `level` when it is one of RATING_LEVELS. Raises Invalid (rating_level_invalid)."""
    if level not in RATING_LEVELS:
        raise invalid("unknown rating level",
                      "/level", "one_of", code="rating_level_invalid", allowed=list(RATING_LEVELS))
    return level  # type: ignore[return-value]


def level_from_code(code: str | int, scheme: str) -> str:
    """Return the level name for an interface's code (a string, or an int from a JSON number).

    Raises Invalid (rating_scheme_unknown, rating_code_invalid).
    """
    table = _scheme(scheme)
    key = str(code).strip() if isinstance(code, (str, int)) and not isinstance(code, bool) else None
    if key not in table:
        raise invalid(f"{code!r} is not a rating code of {scheme}",
                      "/code", "one_of", code="rating_code_invalid", scheme=scheme, allowed=sorted(table))
    return table[key]


def code_for_level(level: str, scheme: str) -> str:
    """Return the interface's code for a level, as a string. Raises Invalid for an unknown level or scheme."""
    table = _scheme(scheme)
    check_level(level)
    return next(code for code, name in table.items() if name == level)


def is_bad(level: str) -> bool:
    """Return True for a bad rating (差评), which must be verified, rectified and answered."""
    return check_level(level) in BAD_LEVELS


def is_satisfied(level: str) -> bool:
    """Return True for a rating that counts towards 满意率 (满意 or better)."""
    return check_level(level) in SATISFIED_LEVELS


def check_rating_allowed(case_state: str, existing_ratings: Sequence) -> str:
    """Return the kind of rating the case takes next: "first" or "follow_up" (追评).

    Raises Conflict (case_not_finished) unless the case is finished or delivered, and Conflict
    (rating_closed) when it already has a first rating and a follow-up.
    """
    if case_state not in RATEABLE_STATES:
        raise Conflict("only a finished case can be rated", code="case_not_finished",
                       details={"state": case_state, "allowed_states": sorted(RATEABLE_STATES)})
    if len(existing_ratings) >= len(RATING_KINDS):
        raise Conflict("this case already has a rating and a follow-up", code="rating_closed",
                       details={"existing": len(existing_ratings)})
    return RATING_KINDS[len(existing_ratings)]
