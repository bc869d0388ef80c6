"""Ratings (好差评) of finished cases: five levels by name, one first rating and one follow-up, rectification of bad ones."""
from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from items.errors import NotFound, invalid
from wechat import lifecycle, progress, store
from wechat.workdays import WorkCalendar

logger = logging.getLogger(__name__)

MAX_COMMENT = 500


class RatingService:
    """Citizens rate their own finished cases; synchronous, run off the event loop."""

    def __init__(self, calendar: WorkCalendar, clock: Callable[[], dt.datetime], rectification_workdays: int):
        self.calendar = calendar
        self._clock = clock
        self.rectification_workdays = rectification_workdays

    def rate(self, user_id: int, case_no: str, level: object, comment: object = "") -> dict:
        """Store the citizen's rating of their case → {case_no, kind, level, label, rectification}.

        The first rating is `first`, the next `follow_up` (追评); a bad one (不满意, 非常不满意) opens a
        rectification task due in `rectification_workdays` working days (DOMAIN.md §5), shown as
        {id, due_date, status}, else rectification is None. Raises NotFound (case_not_found, also for
        another citizen's case), Invalid (rating_level_invalid, comment_too_long), Conflict
        (case_not_finished, rating_closed).
        """
        level = lifecycle.check_level(level)
        comment = comment.strip() if isinstance(comment, str) else ""
        if len(comment) > MAX_COMMENT:
            raise invalid(f"a comment has at most {MAX_COMMENT} characters",
                          "/comment", "max_length", code="comment_too_long", max_length=MAX_COMMENT)
        with store.transaction():
            case = store.get_case(case_no, for_update=True)
            if case.user_id != user_id:
                raise NotFound("no such case", code="case_not_found", details={"case_no": case_no})
            kind = lifecycle.check_rating_allowed(case.state, store.ratings_of(case.id))
            now = self._clock()
            rating = store.insert_rating(case.id, level, comment, kind, now)
            task = None
            if lifecycle.is_bad(level):
                due = self.calendar.add_workdays(progress.china_day(now), self.rectification_workdays)
                task = store.insert_rectification(rating, case, due)
        if task is not None:
            logger.info("bad rating on case %s: rectification %s due %s", case_no, task.id, task.due_date)
        return {"case_no": case_no, "kind": kind, "level": level, "label": lifecycle.RATING_LABELS[level],
                "rectification": None if task is None else
                {"id": task.id, "due_date": progress.iso(task.due_date), "status": task.status}}
