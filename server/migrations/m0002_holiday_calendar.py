"""Migration 2: the holiday calendar years province admins load (wechat/records.py HolidayYearRecord).

A database already at step 1 gains the table; on a new database step 1 made it from the models already,
so this step finds it there and changes nothing.
"""
from __future__ import annotations

import peewee as pw


def apply(db: pw.Database) -> None:
    from wechat.records import HolidayYearRecord
    db.create_tables([HolidayYearRecord], safe=True)
