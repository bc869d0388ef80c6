"""The domain clock: the current time as naive UTC, and China time defined once.

China has kept UTC+8 without daylight saving since 1991, so a fixed offset is Asia/Shanghai exactly
and no time-zone database is needed.
"""
from __future__ import annotations

import datetime as dt

CHINA_OFFSET = dt.timedelta(hours=8)
CHINA = dt.timezone(CHINA_OFFSET, "Asia/Shanghai")


def utcnow() -> dt.datetime:
    """Now as naive UTC: how every timestamp is stored."""
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


def china_date(at_utc: dt.datetime) -> dt.date:
    """The China-time day a naive-UTC instant falls on."""
    return (at_utc + CHINA_OFFSET).date()
