"""China's working-day calendar (public holidays and swapped working weekend days, 调休) and case due dates.

The calendar is built on the `chinese_calendar` package, which ships the State Council's official
holiday notices for the years it knows (2004–2026 in version 1.11). Each December the State Council
publishes next year's calendar (国务院办公厅关于XXXX年部分节假日安排的通知), usually before the
package is updated. To use it at once, an operator writes one JSON file per year:

    {"year": 2027,
     "source": "国办发明电〔2026〕N号",
     "holidays": ["2027-01-01", "2027-01-02", ...],   every day off for a holiday, weekends inside included
     "workdays": ["2027-02-07", ...]}                  every weekend day that becomes a working day

and loads it with `PUT /api/v1/admin/holidays/{year}` (stored in the database, so every process
counts with it: wechat/holidays.py), or with `WorkCalendar.from_file(path)` (or `from_directory(dir)` for every *.json in a
folder, or `calendar.load_year(spec)`). A loaded year replaces the package's data for that year
entirely, so a file can also correct the package. Per-day `overrides` given to the constructor win
over both (a local government's extra day off, say).

For a year that neither the package nor a loaded file knows, the calendar falls back to plain
weekends and logs one warning per year. That is the safer choice over refusing: refusing would stop
every application whose promised date falls into the next year from late November on (a 20-working-day
limit crosses New Year early), while the fallback only ignores holidays, which makes the promised
date earlier than the official one — a stricter promise for the department, never a later one for the
citizen. `knows_year()` lets a service mark such a date as provisional and recompute it once the
year is loaded.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

import chinese_calendar

from items.errors import Invalid, Malformed, invalid

logger = logging.getLogger(__name__)

UNITS = ("workday", "calendar_day")  # CONTRACT.md §2 time-limit units
_ONE_DAY = dt.timedelta(days=1)
_SATURDAY = 5


def _library_years() -> range:
    """The years whose official calendar the installed chinese_calendar package carries."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


LIBRARY_YEARS = _library_years()


class WorkCalendar:
    """Working days of mainland China; see the module docstring for loading a newly published year."""

    def __init__(self, overrides: Mapping[dt.date, bool] | None = None):
        # date -> True (working day) / False (day off); wins over loaded years and the package
        self._overrides: dict[dt.date, bool] = dict(overrides or {})
        # year -> (days off, swapped working days) from an official calendar file
        self._years: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}
        self._warned_years: set[int] = set()
        # years stored in the database (attach_store), refreshed now and then
        self._load_stored: Callable[[], Mapping[int, tuple[frozenset, frozenset]]] | None = None
        self._stored: dict[int, tuple[frozenset[dt.date], frozenset[dt.date]]] = {}
        self._stored_at: float | None = None
        self._refresh_seconds = 60.0

    # --- loading ------------------------------------------------------------------------------

    @classmethod
    def from_file(cls, path: str | Path, overrides: Mapping[dt.date, bool] | None = None) -> WorkCalendar:
        """Return a calendar with the year (or list of years) in the JSON file at `path` loaded.

        Raises Malformed (code calendar_file_malformed) when the file is not JSON, Invalid when a
        year's content breaks a rule of `load_year`; OSError when the file cannot be read.
        """
        calendar = cls(overrides)
        calendar.load_file(path)
        return calendar

    @classmethod
    def from_directory(cls, path: str | Path, overrides: Mapping[dt.date, bool] | None = None) -> WorkCalendar:
        """Return a calendar with every *.json file in the directory `path` loaded, in name order."""
        calendar = cls(overrides)
        for file in sorted(Path(path).glob("*.json")):
            calendar.load_file(file)
        return calendar

    def load_file(self, path: str | Path) -> list[int]:
        """Load one year object or a list of them from a JSON file; return the years loaded."""
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise invalid("the calendar file is not valid JSON", "", "json", code="calendar_file_malformed",
                          kind=Malformed, file=Path(path).name, reason=str(exc)) from None
        specs = data if isinstance(data, list) else [data]
        return [self.load_year(spec) for spec in specs]

    def load_year(self, spec: Mapping) -> int:
        """Load one year's official calendar {year, holidays, workdays[, source]}; return the year.

        Raises Invalid (code calendar_year_invalid) as `check_year` does.
        """
        year, holidays, workdays = check_year(spec)
        self._years[year] = (holidays, workdays)
        logger.info("loaded the official working-day calendar for %s (%s)", year, spec.get("source") or "no source")
        return year

    def attach_store(self, load: Callable[[], Mapping[int, tuple[frozenset, frozenset]]],
                     refresh_seconds: float = 60.0) -> None:
        """Also count with the years `load()` returns (the database's, loaded by a province admin).

        They win over files and the package. `load` runs on first use and again when `refresh_seconds`
        have passed, so a year loaded through another process is used here within that time.
        """
        self._load_stored = load
        self._refresh_seconds = refresh_seconds
        self._stored_at = None

    def refresh(self) -> None:
        """Read the stored years now (after this process stored one)."""
        if self._load_stored is not None:
            self._stored = dict(self._load_stored())
            self._stored_at = time.monotonic()

    def _stored_years(self) -> Mapping[int, tuple[frozenset, frozenset]]:
        if self._load_stored is not None and (
                self._stored_at is None or time.monotonic() - self._stored_at >= self._refresh_seconds):
            self.refresh()
        return self._stored

    # --- questions about single days ----------------------------------------------------------

    def knows_year(self, year: int) -> bool:
        """Return True when the official calendar of `year` is known (loaded or in the package)."""
        return year in self._stored_years() or year in self._years or year in LIBRARY_YEARS

    def origin(self, year: int) -> str | None:
        """Where the calendar of `year` comes from: "stored", "file", "package", or None (unknown)."""
        if year in self._stored_years():
            return "stored"
        if year in self._years:
            return "file"
        return "package" if year in LIBRARY_YEARS else None

    def is_workday(self, day: dt.date) -> bool:
        """Return True when `day` is a working day; unknown years fall back to plain weekends."""
        day = _as_date(day)
        if day in self._overrides:
            return self._overrides[day]
        loaded = self._stored_years().get(day.year) or self._years.get(day.year)
        if loaded is not None:
            holidays, workdays = loaded
            if day in workdays:
                return True
            return day not in holidays and day.weekday() < _SATURDAY
        if day.year in LIBRARY_YEARS:
            return chinese_calendar.is_workday(day)
        self._warn_unknown(day.year)
        return day.weekday() < _SATURDAY

    def next_workday(self, day: dt.date) -> dt.date:
        """Return `day` itself when it is a working day, else the first working day after it."""
        while not self.is_workday(day):
            day += _ONE_DAY
        return day

    # --- counting -----------------------------------------------------------------------------

    def add_workdays(self, start: dt.date, n: int) -> dt.date:
        """Return the n-th working day counted from the day after `start`; n = 0 returns `start`.

        Counting starts the day after acceptance: DOMAIN.md §5. Raises Invalid for a negative n.
        """
        _check_count(n, "n")
        day, counted = _as_date(start), 0
        while counted < n:
            day += _ONE_DAY
            if self.is_workday(day):
                counted += 1
        return day

    def workdays_between(self, a: dt.date, b: dt.date) -> int:
        """Return the number of working days after `a` up to and including `b` (negative when b < a).

        The inverse of add_workdays: workdays_between(d, add_workdays(d, n)) == n.
        """
        a, b = _as_date(a), _as_date(b)
        if b < a:
            return -self.workdays_between(b, a)
        count, day = 0, a
        while day < b:
            day += _ONE_DAY
            if self.is_workday(day):
                count += 1
        return count

    @staticmethod
    def add_calendar_days(start: dt.date, n: int) -> dt.date:
        """Return the date n calendar days after `start`. Raises Invalid for a negative n."""
        _check_count(n, "n")
        return _as_date(start) + dt.timedelta(days=n)

    def due_date(self, start: dt.date, limit: Mapping, paused: Sequence[tuple[dt.date, dt.date]] = ()) -> dt.date:
        """Return the date by which a case accepted on `start` must be finished.

        `limit` is a CONTRACT.md time limit {value, unit}; value 0 (即办件) is due on `start`.
        `paused` lists (from, to) intervals in which the clock stood still (correction requested,
        suspended): the days after `from` up to and including `to` are not counted, matching the rule
        that counting restarts the day after the complete materials arrive. Working-day limits skip
        the paused working days; calendar-day limits skip the paused calendar days and, when the last
        day is a day off, end on the next working day (民法典 第二百零三条). A pause outside the running
        clock (before acceptance or after the due date) changes nothing.
        Raises Invalid (code time_limit_invalid or pause_invalid) for a malformed limit or interval.
        """
        value, unit = _check_limit(limit)
        stopped = _paused_days(paused)
        day, counted = _as_date(start), 0
        while counted < value:
            day += _ONE_DAY
            if day in stopped:
                continue
            if unit == "calendar_day" or self.is_workday(day):
                counted += 1
        if unit == "calendar_day" and value > 0:
            day = self.next_workday(day)
        return day

    def _warn_unknown(self, year: int) -> None:
        if year not in self._warned_years:
            self._warned_years.add(year)
            logger.warning(
                "no official working-day calendar for %s: counting weekends only until the year's "
                "calendar file is loaded (see wechat/workdays.py)", year)


def check_year(spec: Mapping) -> tuple[int, frozenset[dt.date], frozenset[dt.date]]:
    """Return (year, days off, swapped working days) of one year's calendar {year, holidays, workdays}.

    Raises Invalid (code calendar_year_invalid) listing every broken rule: year an integer,
    dates ISO yyyy-mm-dd inside that year, no date both off and working, working days only on
    weekends (a swapped working day, 调休上班, is always a Saturday or Sunday).
    """
    errors: list[dict] = []
    year = spec.get("year") if isinstance(spec, Mapping) else None
    if not isinstance(year, int) or isinstance(year, bool) or not 1900 <= year <= 9999:
        raise invalid("a calendar year needs an integer `year`", "/year", "integer_year",
                      code="calendar_year_invalid", error_message="year must be an integer")
    holidays = _parse_dates(spec.get("holidays", []), year, "holidays", errors)
    workdays = _parse_dates(spec.get("workdays", []), year, "workdays", errors)
    for day in sorted(holidays & workdays):
        errors.append({"path": "/workdays", "rule": "not_both",
                       "message": f"{day.isoformat()} is listed as both a holiday and a working day"})
    for day in sorted(workdays):
        if day.weekday() < _SATURDAY:
            errors.append({"path": "/workdays", "rule": "weekend_only",
                           "message": f"{day.isoformat()} is a weekday; only weekend days are swapped"})
    if errors:
        raise Invalid(f"the calendar for {year} breaks {len(errors)} rule(s)",
                      code="calendar_year_invalid", details={"year": year, "errors": errors})
    return year, frozenset(holidays), frozenset(workdays)


def _as_date(day: dt.date) -> dt.date:
    """A datetime counts as its calendar day; the calendar has no notion of hours."""
    return day.date() if isinstance(day, dt.datetime) else day


def _check_count(n: object, name: str) -> None:
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        raise invalid(f"{name} must be a whole number of days ≥ 0",
                      f"/{name}", "non_negative_integer", code="day_count_invalid")


def _check_limit(limit: Mapping) -> tuple[int, str]:
    value = limit.get("value") if isinstance(limit, Mapping) else None
    unit = limit.get("unit", "workday") if isinstance(limit, Mapping) else None
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise invalid("a time limit needs a whole number of days ≥ 0",
                      "/value", "non_negative_integer", code="time_limit_invalid")
    if unit not in UNITS:
        raise invalid("a time limit's unit is workday or calendar_day",
                      "/unit", "one_of", code="time_limit_invalid", allowed=list(UNITS))
    return value, unit


def _paused_days(paused: Iterable[tuple[dt.date, dt.date]]) -> set[dt.date]:
    """The set of days on which the clock stood still; overlapping intervals count each day once."""
    days: set[dt.date] = set()
    for index, interval in enumerate(paused):
        try:
            begin, end = interval
        except (TypeError, ValueError):
            begin = end = None
        if isinstance(begin, dt.date) and isinstance(end, dt.date):
            begin, end = _as_date(begin), _as_date(end)
        if not isinstance(begin, dt.date) or not isinstance(end, dt.date) or end < begin:
            raise invalid("a pause is a (from, to) pair of dates with from ≤ to",
                          f"/paused/{index}", "date_interval", code="pause_invalid")
        day = begin
        while day < end:
            day += _ONE_DAY
            days.add(day)
    return days


def _parse_dates(raw: object, year: int, field: str, errors: list[dict]) -> set[dt.date]:
    if not isinstance(raw, list):
        errors.append({"path": f"/{field}", "rule": "list_of_dates", "message": f"{field} must be a list"})
        return set()
    dates: set[dt.date] = set()
    for index, text in enumerate(raw):
        try:
            day = dt.date.fromisoformat(text) if isinstance(text, str) and len(text) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors.append({"path": f"/{field}/{index}", "rule": "iso_date",
                           "message": f"{text!r} is not a yyyy-mm-dd date"})
        elif day.year != year:
            errors.append({"path": f"/{field}/{index}", "rule": "same_year",
                           "message": f"{text} is not in {year}"})
        else:
            dates.add(day)
    return dates
