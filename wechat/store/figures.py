"""What the statistics read of the cases, and the official holiday calendar by year."""
from __future__ import annotations

import datetime as dt

from items.clock import CHINA_OFFSET, utcnow
from wechat.records import CaseRecord, HolidayYearRecord, RatingRecord, RectificationRecord


# --- case figures for the statistics -----------------------------------------------------------------



def case_counts(region_prefix: str | None, since: dt.datetime | None, until: dt.datetime | None) -> dict:
    """Counts behind 按期办结率, 满意率 and 差评整改 for cases of a region in (since, until] (naive UTC).

    A case is on time when its China-time finishing day is not after its due date (the promised date
    moved by paused days). Ratings count the applicant's first rating of each case in the window.
    """
    cases = CaseRecord.select(CaseRecord.finished_at, CaseRecord.due_date, CaseRecord.promised_date).where(
        CaseRecord.finished_at.is_null(False))
    ratings = (RatingRecord.select(RatingRecord.id, RatingRecord.level).join(CaseRecord)
               .where(RatingRecord.kind == "first"))
    if region_prefix:
        cases = cases.where(CaseRecord.region_code.startswith(region_prefix))
        ratings = ratings.where(CaseRecord.region_code.startswith(region_prefix))
    if since:
        cases = cases.where(CaseRecord.finished_at > since)
        ratings = ratings.where(RatingRecord.at > since)
    if until:
        cases = cases.where(CaseRecord.finished_at <= until)
        ratings = ratings.where(RatingRecord.at <= until)
    finished = on_time = 0
    for case in cases:
        finished += 1
        due = case.due_date or case.promised_date
        if due is None or (case.finished_at + CHINA_OFFSET).date() <= due:
            on_time += 1
    by_level: dict[str, int] = {}
    rating_ids = []
    for rating in ratings:
        by_level[rating.level] = by_level.get(rating.level, 0) + 1
        rating_ids.append(rating.id)
    rectified = 0
    for start in range(0, len(rating_ids), 500):
        rectified += (RectificationRecord.select()
                      .where(RectificationRecord.rating.in_(rating_ids[start:start + 500]),
                             RectificationRecord.status.in_(("answered", "closed"))).count())
    return {"finished": finished, "finished_on_time": on_time, "ratings_by_level": by_level,
            "bad_rectified": rectified}


# --- the official holiday calendar ---------------------------------------------------------------

def holiday_years() -> dict[int, HolidayYearRecord]:
    """Every stored year of the official holiday calendar, by year."""
    return {row.year: row for row in HolidayYearRecord.select()}


def holiday_year(year: int) -> HolidayYearRecord | None:
    return HolidayYearRecord.get_or_none(HolidayYearRecord.year == year)


def save_holiday_year(year: int, holidays: list[str], workdays: list[str], source: str,
                      loaded_by: str) -> tuple[HolidayYearRecord, bool]:
    """Create or replace a year inside the caller's transaction; return (row, created)."""
    row = holiday_year(year)
    created = row is None
    row = row or HolidayYearRecord(year=year)
    row.holidays, row.workdays, row.source = holidays, workdays, source
    row.loaded_by, row.loaded_at = loaded_by, utcnow()
    row.save()
    return row, created
