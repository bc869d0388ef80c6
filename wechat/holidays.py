"""The official holiday calendar by year as province admins load it: stored, read back, and the health warning."""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import chinese_calendar

from items.audit import audited
from items.errors import Invalid, Malformed, NotFound, invalid, not_an_object
from items.scope import Actor, require_role
from wechat import store
from wechat.progress import china_day
from wechat.workdays import LIBRARY_YEARS, WorkCalendar, check_year

# The State Council publishes next year's calendar in November or December (国办发明电): from
# 1 November on, a missing next year is worth an operator's attention.
WARN_FROM_MONTH = 11
SOURCE_MAX = 200


def stored_years() -> dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]]:
    """Every stored year as (days off, swapped working days), for WorkCalendar.attach_store."""
    return {row.year: (frozenset(map(dt.date.fromisoformat, row.holidays)),
                       frozenset(map(dt.date.fromisoformat, row.workdays)))
            for row in store.holiday_years().values()}


class HolidayService:
    """Load and read years of the working-day calendar (province admins load, any staff reads)."""

    def __init__(self, calendar: WorkCalendar, clock: Callable[[], dt.datetime]):
        self.calendar = calendar
        self._clock = clock

    def today(self) -> dt.date:
        return china_day(self._clock())

    def put_year(self, actor: Actor, year_text: str, body: object, remote_ip: str = "") -> tuple[dict, bool]:
        """Store `{holidays, workdays, source}` as the official calendar of the year; return (view, created).

        Raises Forbidden unless province_admin; Malformed for a year that is not a number; Invalid
        (calendar_year_invalid) listing every broken rule, nothing stored.
        """
        require_role(actor, "province_admin")
        year = _year(year_text)
        spec = _checked_body(body, year, self.today())
        year, holidays, workdays = check_year(spec)
        source = spec.get("source") or ""
        def save() -> dict:
            row, created = store.save_holiday_year(year, sorted(d.isoformat() for d in holidays),
                                                   sorted(d.isoformat() for d in workdays), source, actor.username)
            return {"row": row, "created": created, "source": source, "holidays": len(holidays),
                    "workdays": len(workdays)}
        saved = audited(actor, "holiday_calendar.put", remote_ip, save, lambda _: str(year),
                        details=lambda out: {k: out[k] for k in ("source", "holidays", "workdays")})
        row, created = saved["row"], saved["created"]
        self.calendar.refresh()  # this process at once; the others within their refresh interval
        return _view(row), created

    def get_year(self, actor: Actor, year_text: str) -> dict:
        """The calendar the working-day counting uses for the year, and where it comes from.

        Raises Forbidden for citizens, NotFound (holiday_calendar_missing) for an unknown year.
        """
        require_role(actor, "province_admin", "editor", "reviewer", "reform_office", "window_staff")
        year = _year(year_text)
        row = store.holiday_year(year)
        if row is not None:
            return _view(row)
        origin = self.calendar.origin(year)
        if origin is None:
            raise NotFound(f"no official holiday calendar for {year} is loaded", code="holiday_calendar_missing",
                           details={"year": year})
        if origin == "file":
            holidays, workdays = self.calendar._years[year]
        else:
            holidays = {d for d in chinese_calendar.holidays if d.year == year}
            workdays = {d for d in chinese_calendar.workdays if d.year == year and d.weekday() >= 5}
        return {"year": year, "origin": origin, "holidays": sorted(d.isoformat() for d in holidays),
                "workdays": sorted(d.isoformat() for d in workdays)}

    def list_years(self, actor: Actor) -> dict:
        """{years: [{year, origin, source, loaded_at}], today, warnings} — every year the calendar knows."""
        require_role(actor, "province_admin", "editor", "reviewer", "reform_office", "window_staff")
        rows = store.holiday_years()
        years = [{"year": y, "origin": "package", "source": "", "loaded_at": None}
                 for y in LIBRARY_YEARS if y not in rows]
        years += [{"year": y, "origin": "stored", "source": r.source, "loaded_at": r.loaded_at.isoformat() + "Z"}
                  for y, r in rows.items()]
        return {"years": sorted(years, key=lambda e: e["year"]), "today": self.today().isoformat(),
                "warnings": self.warnings()}

    def warnings(self) -> list[dict]:
        """A warning per year the counting will soon need and does not know: this year, and from 1
        November next year (due dates of long time limits cross New Year from then on)."""
        today = self.today()
        needed = [today.year] + ([today.year + 1] if today.month >= WARN_FROM_MONTH else [])
        return [{"code": "holiday_calendar_missing", "year": year,
                 "message": f"load the official holiday calendar for {year}: PUT /api/v1/admin/holidays/{year}"}
                for year in needed if not self.calendar.knows_year(year)]


def _year(text: str) -> int:
    if not (isinstance(text, str) and text.isdigit() and len(text) == 4):
        raise invalid("the year is four digits, e.g. 2027", "year", "four_digits", code="bad_parameter",
                      kind=Malformed, value=text)
    return int(text)


def _checked_body(body: object, year: int, today: dt.date) -> dict:
    """The body as a check_year spec for `year`; Invalid for rules beyond the dates themselves."""
    if not isinstance(body, dict):
        raise not_an_object()
    errors = []
    if body.get("year", year) != year:
        errors.append({"path": "/year", "rule": "matches_path", "message": f"the path names {year}"})
    if not LIBRARY_YEARS.start <= year <= today.year + 1:
        errors.append({"path": "/year", "rule": "year_in_range",
                       "message": f"a calendar is loaded for {LIBRARY_YEARS.start}…{today.year + 1}"})
    if not isinstance(body.get("holidays"), list) or not body["holidays"]:
        # every official calendar has days off (New Year at least); an empty list is a mistake
        errors.append({"path": "/holidays", "rule": "required", "message": "list every day off of the year"})
    if not isinstance(body.get("workdays", []), list):
        errors.append({"path": "/workdays", "rule": "list_of_dates", "message": "workdays must be a list"})
    source = body.get("source", "")
    if not isinstance(source, str) or len(source) > SOURCE_MAX:
        errors.append({"path": "/source", "rule": f"text_max:{SOURCE_MAX}",
                       "message": "source is the notice's number, e.g. 国办发明电〔2026〕7号"})
    if errors:
        raise Invalid(f"the calendar for {year} breaks {len(errors)} rule(s)", code="calendar_year_invalid",
                      details={"year": year, "errors": errors})
    return {**body, "year": year, "workdays": body.get("workdays", [])}


def _view(row) -> dict:
    return {"year": row.year, "origin": "stored", "holidays": list(row.holidays), "workdays": list(row.workdays),
            "source": row.source, "loaded_by": row.loaded_by, "loaded_at": row.loaded_at.isoformat() + "Z"}
