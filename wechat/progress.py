"""The case as people see it: business days in China, the running due date, overdue flags and the progress view."""
from __future__ import annotations

import datetime as dt

from items.clock import china_date
from items.errors import Conflict
from wechat import lifecycle, store
from wechat.workdays import WorkCalendar

NEAR_DUE_WORKDAYS = 2  # a running case due within this many working days is flagged near due
REVEAL_REASON_MIN = 4  # characters of reason a full ID number reveal needs (wechat/workbench.py)
DUE_STATUSES = ("on_time", "due_soon", "overdue")
DUE_LABELS = {"on_time": "按时", "due_soon": "即将到期", "overdue": "已超期"}


def china_day(at_utc: dt.datetime) -> dt.date:
    """Return the business day in China of a naive UTC time (dates and deadlines are Beijing dates)."""
    return china_date(at_utc)


def iso(value: dt.datetime | dt.date | None) -> str | None:
    """Return a stored time as ISO 8601 (UTC times marked Z), a date as yyyy-mm-dd, None as None."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def mask_name(name: str) -> str:
    """Return a name with only its first character shown: 张三丰 → 张**."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1) if len(name) > 1 else "*"


def pauses_since_acceptance(events: list) -> list[tuple[dt.date, str]]:
    """Return the (day entered, state) history from acceptance on, for lifecycle.paused_intervals."""
    accepted = [index for index, event in enumerate(events) if event.action == "accept"]
    if not accepted:
        return []
    return [(event.day, event.to_state) for event in events[accepted[-1]:]]


def running_due_date(case, events: list, calendar: WorkCalendar, today: dt.date) -> dt.date | None:
    """Return the due date as of `today`: the promised limit counted from acceptance, pauses skipped.

    A pause still running at `today` pushes the date on day by day; None before acceptance or when
    the guide has no time limit.
    """
    if case.accepted_at is None or not case.time_limit:
        return case.due_date
    paused = lifecycle.paused_intervals(pauses_since_acceptance(events), today)
    return calendar.due_date(china_day(case.accepted_at), case.time_limit, paused)


def flags(case, due: dt.date | None, calendar: WorkCalendar, today: dt.date) -> dict:
    """Return {overdue, near_due}: only a running clock can be late (DOMAIN.md §5)."""
    running = case.state in lifecycle.CLOCK_RUNNING_STATES and due is not None
    overdue = running and today > due
    near = running and not overdue and calendar.workdays_between(today, due) <= NEAR_DUE_WORKDAYS
    status = ("overdue" if overdue else "due_soon" if near else "on_time") if running else None
    return {"overdue": overdue, "near_due": near, "due_status": status,
            "due_label": DUE_LABELS.get(status) if status else None}


def case_view(case, calendar: WorkCalendar, today: dt.date, *, for_staff: bool = False) -> dict:
    """Return the progress view of a case: masked applicant, department, dates, steps, corrections,
    result and the rating entry. Never carries a full ID number or phone (DOMAIN.md §5)."""
    events = store.events_of(case.id)
    due = running_due_date(case, events, calendar, today)
    ratings = store.ratings_of(case.id)
    try:
        next_kind = lifecycle.check_rating_allowed(case.state, ratings)
    except Conflict:  # an unfinished or fully rated case just offers no rating entry
        next_kind = None
    view = {
        "case_no": case.case_no,
        "impl_code": case.impl_code,
        "item_name": case.item_name,
        "guide_version": case.guide_version,
        "department": {"credit_code": case.org, "name": case.org_name},
        "applicant": {"name": mask_name(case.applicant_name), "id_number": case.id_number_masked,
                      "phone": case.phone_masked},
        "state": case.state,
        "state_label": lifecycle.STATE_LABELS.get(case.state, case.state),
        "paused": lifecycle.pauses_clock(case.state),
        "result": case.result,
        "result_label": lifecycle.RESULT_LABELS.get(case.result) if case.result else None,
        "submitted_at": iso(case.submitted_at),
        "accepted_at": iso(case.accepted_at),
        "finished_at": iso(case.finished_at),
        "delivered_at": iso(case.delivered_at),
        "promised_date": iso(case.promised_date),
        "due_date": iso(due),
        **flags(case, due, calendar, today),
        "steps": [{"seq": s.seq, "name": s.name, "action": s.action,
                   "action_label": lifecycle.STEP_ACTIONS.get(s.action, s.action), "handler": s.handler,
                   "opinion": s.opinion, "start": iso(s.start), "end": iso(s.end)}
                  for s in store.steps_of(case.id)],
        "corrections": [{"opinion": c.opinion, "materials": c.materials or [], "requested_at": iso(c.requested_at),
                         "resolved_at": iso(c.resolved_at)} for c in store.corrections_of(case.id)],
        "history": [{"action": e.action, "from": e.from_state, "to": e.to_state, "opinion": e.opinion,
                     "at": iso(e.at), "day": iso(e.day)} for e in events],
        "rating": {"allowed": next_kind is not None, "next_kind": next_kind,
                   "levels": [{"level": level, "label": lifecycle.RATING_LABELS[level]}
                              for level in lifecycle.RATING_LEVELS],
                   "ratings": [{"level": r.level, "label": lifecycle.RATING_LABELS.get(r.level, r.level),
                                "comment": r.comment, "kind": r.kind, "at": iso(r.at)} for r in ratings]},
    }
    if for_staff:
        paused_from = case.paused_from if lifecycle.pauses_clock(case.state) else None
        allowed = [a for a in lifecycle.allowed_actions(case.state, paused_from=paused_from)
                   if a in lifecycle.STAFF_ACTIONS]
        base = f"/api/v1/cases/{case.case_no}"
        view.update({
            "allowed_actions": allowed,
            "action_forms": [{"action": a, **lifecycle.ACTION_FORMS[a]} for a in allowed],
            "form": case.form, "time_limit": case.time_limit,
            "materials": [dict(m, download=f"{base}/files/{m['file_id']}") if m.get("file_id") else dict(m)
                          for m in case.materials or []],
            "guide": {"impl_code": case.impl_code, "version": case.guide_version, "href": f"{base}/guide"},
            "timeline": [{"action": e.action, "from": e.from_state, "to": e.to_state, "actor": e.actor,
                          "opinion": e.opinion, "at": iso(e.at), "day": iso(e.day),
                          "clock": lifecycle.clock_change(e.action, e.from_state, e.to_state)} for e in events],
            "reveal": {"href": f"{base}/applicant/reveal", "reason_min_length": REVEAL_REASON_MIN},
            "rectifications": [{"id": r.id, "status": r.status, "due_date": iso(r.due_date), "answer": r.answer,
                                "answered_at": iso(r.answered_at)} for r in store.rectifications_of(case.id)],
        })
    return view


def summary(case, calendar: WorkCalendar, today: dt.date) -> dict:
    """Return the short form of a case for lists: no history, applicant masked."""
    due = case.due_date
    return {"case_no": case.case_no, "impl_code": case.impl_code, "item_name": case.item_name,
            "department": case.org_name, "applicant": mask_name(case.applicant_name),
            "phone": case.phone_masked, "state": case.state,
            "state_label": lifecycle.STATE_LABELS.get(case.state, case.state),
            "submitted_at": iso(case.submitted_at), "promised_date": iso(case.promised_date),
            "due_date": iso(due), **flags(case, due, calendar, today)}
