"""Working-day arithmetic over China's official calendar, loaded years, and case due dates."""
from __future__ import annotations

import datetime as dt
import json
import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from items.errors import Invalid, Malformed
from wechat.workdays import LIBRARY_YEARS, WorkCalendar

D = dt.date
WORKDAY = {"unit": "workday"}

# TEST DATA, invented: a plausible 2027 calendar shaped like the State Council's notices. It is not the
# official 2027 calendar (unpublished when this was written); never copy it into a production file.
INVENTED_2027 = {
    "year": 2027,
    "source": "test data, not an official notice",
    "holidays": ["2027-01-01", "2027-01-02", "2027-01-03",
                 "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09", "2027-02-10",
                 "2027-02-11", "2027-02-12", "2027-02-13", "2027-02-14"],
    "workdays": ["2027-02-20"],
}

# A year far outside any published calendar, for the weekend-only fallback.
UNKNOWN_YEAR = 2099


def limit(value: int, unit: str = "workday") -> dict:
    return {"value": value, "unit": unit, "note": ""}


@pytest.fixture
def calendar() -> WorkCalendar:
    return WorkCalendar()


# --- the official calendar as chinese_calendar ships it --------------------------------------------

def test_the_installed_package_knows_2026(calendar):
    assert 2026 in LIBRARY_YEARS
    assert calendar.knows_year(2026)


def test_national_day_2026_is_off_from_october_1_to_7(calendar):
    # chinese_calendar 1.11: 国庆节 2026-10-01..10-07 off; 10-08 (Thursday) is an ordinary working day
    assert not any(calendar.is_workday(D(2026, 10, day)) for day in range(1, 8))
    assert calendar.is_workday(D(2026, 10, 8))


def test_swapped_working_weekend_days_of_national_day_2026_are_workdays(calendar):
    assert calendar.is_workday(D(2026, 9, 20))  # Sunday, 调休上班
    assert calendar.is_workday(D(2026, 10, 10))  # Saturday, 调休上班
    assert not calendar.is_workday(D(2026, 10, 11))  # the Sunday after stays off


def test_five_workdays_from_the_day_before_national_day_end_on_october_13(calendar):
    # 10-08 Thu, 10-09 Fri, 10-10 Sat (swapped), 10-12 Mon, 10-13 Tue
    assert calendar.add_workdays(D(2026, 9, 30), 5) == D(2026, 10, 13)


def test_due_date_can_fall_on_the_swapped_working_saturday(calendar):
    # accepted Monday 09-28: 09-29, 09-30, 10-08, 10-09, 10-10 (Saturday, 调休上班)
    assert calendar.due_date(D(2026, 9, 28), limit(5)) == D(2026, 10, 10)


def test_one_workday_after_a_friday_before_a_swapped_sunday_is_that_sunday(calendar):
    assert calendar.add_workdays(D(2026, 9, 18), 1) == D(2026, 9, 20)


def test_spring_festival_2026_is_skipped_and_its_swapped_saturday_counts(calendar):
    # 02-14 Saturday is 调休上班, 02-15..02-23 off
    assert calendar.add_workdays(D(2026, 2, 12), 3) == D(2026, 2, 24)
    assert calendar.workdays_between(D(2026, 2, 13), D(2026, 2, 27)) == 5  # 14, 24, 25, 26, 27
    assert calendar.is_workday(D(2026, 2, 28))


# --- counting rules ---------------------------------------------------------------------------------

def test_counting_starts_the_day_after_acceptance(calendar):
    # accepted Monday 2026-03-02: the first working day counted is Tuesday
    assert calendar.add_workdays(D(2026, 3, 2), 1) == D(2026, 3, 3)


def test_zero_days_is_due_on_the_day_of_acceptance(calendar):
    assert calendar.due_date(D(2026, 3, 2), limit(0)) == D(2026, 3, 2)  # 即办件


def test_workdays_between_is_negative_when_the_end_is_earlier(calendar):
    assert calendar.workdays_between(D(2026, 3, 9), D(2026, 3, 2)) == -5


def test_a_datetime_counts_as_its_day(calendar):
    assert calendar.add_workdays(dt.datetime(2026, 9, 30, 17, 45), 5) == D(2026, 10, 13)


def test_negative_day_counts_are_rejected(calendar):
    with pytest.raises(Invalid) as caught:
        calendar.add_workdays(D(2026, 3, 2), -1)
    assert caught.value.code == "day_count_invalid"
    with pytest.raises(Invalid):
        calendar.add_calendar_days(D(2026, 3, 2), -1)


def test_calendar_day_limit_ending_on_a_holiday_moves_to_the_next_working_day(calendar):
    # 7 calendar days after 09-24 is 10-01 (National Day): 民法典 §203 moves the end to 10-08
    assert calendar.add_calendar_days(D(2026, 9, 24), 7) == D(2026, 10, 1)
    assert calendar.due_date(D(2026, 9, 24), limit(7, "calendar_day")) == D(2026, 10, 8)


@pytest.mark.parametrize("bad", [{"value": 5, "unit": "hour"}, {"value": -1, "unit": "workday"},
                                 {"value": "5", "unit": "workday"}, {"value": True}, None])
def test_malformed_time_limits_are_rejected(calendar, bad):
    with pytest.raises(Invalid) as caught:
        calendar.due_date(D(2026, 3, 2), bad)
    assert caught.value.code == "time_limit_invalid"


def test_a_limit_without_unit_counts_working_days(calendar):
    assert calendar.due_date(D(2026, 3, 2), {"value": 5}) == D(2026, 3, 9)


# --- pauses (correction requested, suspended) --------------------------------------------------------

def test_a_pause_pushes_the_due_date_by_the_working_days_paused(calendar):
    # without pause: due Monday 03-09; paused 03-05 and 03-06 (two working days)
    assert calendar.due_date(D(2026, 3, 2), limit(5)) == D(2026, 3, 9)
    assert calendar.due_date(D(2026, 3, 2), limit(5), [(D(2026, 3, 4), D(2026, 3, 6))]) == D(2026, 3, 11)


def test_a_pause_over_a_weekend_costs_only_its_working_days(calendar):
    # paused 03-07 Sat, 03-08 Sun, 03-09 Mon: one working day
    assert calendar.due_date(D(2026, 3, 2), limit(5), [(D(2026, 3, 6), D(2026, 3, 9))]) == D(2026, 3, 10)


def test_a_pause_requested_and_resumed_on_the_same_day_costs_nothing(calendar):
    assert calendar.due_date(D(2026, 3, 2), limit(5), [(D(2026, 3, 4), D(2026, 3, 4))]) == D(2026, 3, 9)


def test_overlapping_pauses_count_each_day_once(calendar):
    paused = [(D(2026, 3, 4), D(2026, 3, 6)), (D(2026, 3, 5), D(2026, 3, 6))]
    assert calendar.due_date(D(2026, 3, 2), limit(5), paused) == D(2026, 3, 11)


def test_pauses_outside_the_running_clock_change_nothing(calendar):
    before_acceptance = (D(2026, 2, 25), D(2026, 3, 2))
    after_due_date = (D(2026, 3, 20), D(2026, 3, 25))
    assert calendar.due_date(D(2026, 3, 2), limit(5), [before_acceptance, after_due_date]) == D(2026, 3, 9)


def test_a_pause_across_national_day_counts_only_working_days(calendar):
    # accepted 09-28; paused 09-30..10-09 holds three working days (09-30, 10-08, 10-09)
    paused = [(D(2026, 9, 29), D(2026, 10, 9))]
    assert calendar.due_date(D(2026, 9, 28), limit(5), paused) == D(2026, 10, 14)


def test_a_pause_on_a_calendar_day_limit_skips_calendar_days(calendar):
    # 10 calendar days from 03-02 is 03-12; three paused days move it to 03-15 (Sunday) -> Monday 03-16
    assert calendar.due_date(D(2026, 3, 2), limit(10, "calendar_day"), [(D(2026, 3, 4), D(2026, 3, 7))]) \
        == D(2026, 3, 16)


@pytest.mark.parametrize("bad", [(D(2026, 3, 6), D(2026, 3, 4)), (D(2026, 3, 6),), ("2026-03-04", "2026-03-06")])
def test_malformed_pauses_are_rejected(calendar, bad):
    with pytest.raises(Invalid) as caught:
        calendar.due_date(D(2026, 3, 2), limit(5), [bad])
    assert caught.value.code == "pause_invalid"
    assert caught.value.details["errors"][0]["path"] == "/paused/0"


# --- loading a newly published year ------------------------------------------------------------------

def test_a_loaded_year_counts_its_holidays_and_swapped_days(calendar):
    assert calendar.load_year(INVENTED_2027) == 2027
    assert calendar.knows_year(2027)
    assert not calendar.is_workday(D(2027, 1, 1))
    assert not calendar.is_workday(D(2027, 2, 12))  # a Friday inside the invented Spring Festival
    assert calendar.is_workday(D(2027, 2, 20))  # the invented swapped Saturday
    assert calendar.is_workday(D(2027, 2, 15))
    # accepted 2027-02-04 (Thu): 02-05 Fri, then 02-15 Mon .. 02-19 Fri, 02-20 Sat
    assert calendar.add_workdays(D(2027, 2, 4), 7) == D(2027, 2, 20)


def test_a_due_date_crossing_new_year_uses_the_loaded_year(calendar):
    calendar.load_year(INVENTED_2027)
    # accepted Wed 2026-12-30: 12-31 Thu, then 01-04 Mon (01-01..01-03 off)
    assert calendar.due_date(D(2026, 12, 30), limit(2)) == D(2027, 1, 4)


def test_a_year_file_is_loaded_from_disk(tmp_path):
    path = tmp_path / "2027.json"
    path.write_text(json.dumps(INVENTED_2027), encoding="utf-8")
    calendar = WorkCalendar.from_file(path)
    assert calendar.knows_year(2027)
    assert not calendar.is_workday(D(2027, 2, 8))


def test_every_year_file_in_a_directory_is_loaded(tmp_path):
    (tmp_path / "2027.json").write_text(json.dumps(INVENTED_2027), encoding="utf-8")
    (tmp_path / "2028.json").write_text(json.dumps({"year": 2028, "holidays": ["2028-01-01"], "workdays": []}),
                                        encoding="utf-8")
    calendar = WorkCalendar.from_directory(tmp_path)
    assert calendar.knows_year(2027) and calendar.knows_year(2028)
    assert not calendar.is_workday(D(2028, 1, 1))


def test_a_file_that_is_not_json_is_malformed(tmp_path):
    path = tmp_path / "2027.json"
    path.write_text("{year: 2027", encoding="utf-8")
    with pytest.raises(Malformed) as caught:
        WorkCalendar.from_file(path)
    assert caught.value.code == "calendar_file_malformed"


def test_a_loaded_year_replaces_the_packages_data_for_that_year(calendar):
    # a correcting file for 2026 without National Day: October 1 (Thursday) becomes a working day
    calendar.load_year({"year": 2026, "holidays": [], "workdays": []})
    assert calendar.is_workday(D(2026, 10, 1))


def test_a_year_file_breaking_rules_lists_every_broken_rule(calendar):
    spec = {"year": 2027, "holidays": ["2027-02-20", "2026-12-31", "2027-13-01"],
            "workdays": ["2027-02-20", "2027-02-19"]}
    with pytest.raises(Invalid) as caught:
        calendar.load_year(spec)
    assert caught.value.code == "calendar_year_invalid"
    rules = {(e["path"], e["rule"]) for e in caught.value.details["errors"]}
    assert rules == {("/holidays/1", "same_year"), ("/holidays/2", "iso_date"),
                     ("/workdays", "not_both"), ("/workdays", "weekend_only")}
    assert not calendar.knows_year(2027)


@pytest.mark.parametrize("spec", [{"holidays": []}, {"year": "2027"}, {"year": True}, []])
def test_a_year_spec_without_an_integer_year_is_rejected(calendar, spec):
    with pytest.raises(Invalid) as caught:
        calendar.load_year(spec)
    assert caught.value.code == "calendar_year_invalid"


def test_overrides_win_over_the_package_and_loaded_years():
    extra_day_off = D(2026, 10, 8)
    extra_working_day = D(2027, 1, 2)
    calendar = WorkCalendar({extra_day_off: False, extra_working_day: True})
    calendar.load_year(INVENTED_2027)
    assert not calendar.is_workday(extra_day_off)
    assert calendar.is_workday(extra_working_day)
    assert calendar.add_workdays(D(2026, 9, 30), 1) == D(2026, 10, 9)


# --- a year nobody knows ------------------------------------------------------------------------------

def test_an_unknown_year_falls_back_to_weekends_and_warns_once(calendar, caplog):
    assert not calendar.knows_year(UNKNOWN_YEAR)
    with caplog.at_level(logging.WARNING, logger="wechat.workdays"):
        monday = D(UNKNOWN_YEAR, 1, 5)
        assert monday.weekday() == 0
        assert calendar.is_workday(monday)
        assert not calendar.is_workday(monday + dt.timedelta(days=5))
        assert calendar.add_workdays(monday, 5) == monday + dt.timedelta(days=7)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert str(UNKNOWN_YEAR) in warnings[0].getMessage()


# --- properties ---------------------------------------------------------------------------------------

known_dates = st.dates(min_value=D(min(LIBRARY_YEARS), 1, 1), max_value=D(max(LIBRARY_YEARS), 10, 1))
SHARED = WorkCalendar()


@settings(max_examples=200)
@given(start=known_dates, n=st.integers(min_value=1, max_value=40))
def test_adding_workdays_lands_on_a_workday_and_counts_back_to_n(start, n):
    due = SHARED.add_workdays(start, n)
    assert SHARED.is_workday(due)
    assert due > start
    assert SHARED.workdays_between(start, due) == n


@settings(max_examples=200)
@given(start=known_dates, n=st.integers(min_value=0, max_value=30),
       pause_at=st.integers(min_value=0, max_value=10), pause_len=st.integers(min_value=0, max_value=10))
def test_a_pause_inside_the_clock_adds_exactly_its_working_days(start, n, pause_at, pause_len):
    begin = start + dt.timedelta(days=pause_at)
    end = begin + dt.timedelta(days=pause_len)
    unpaused_due = SHARED.due_date(start, limit(n))
    due = SHARED.due_date(start, limit(n), [(begin, end)])
    if begin < unpaused_due:  # the pause starts while the clock runs
        assert due == SHARED.add_workdays(start, n + SHARED.workdays_between(begin, end))
    else:
        assert due == unpaused_due
