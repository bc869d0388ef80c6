"""Facts rows, running totals and dated changes behind the statistics (items/stats.py)."""
from __future__ import annotations

import datetime as dt

import peewee as pw

from items.errors import Conflict
from items.metrics import FACT_NAMES
from items.records import (CatalogueItemRecord, ItemFactsChangeRecord, ItemFactsRecord, ItemFactsTotalRecord,
                           LocalItemRecord, LocalVersionRecord, OrgRecord, RegionRecord)
from items.store.core import BATCH
from items.store.local import local_version


# --- statistics ---


FACT_DIMENSIONS = ("region_code", "org", "level", "item_type", "service_objects")


def close_open_facts(impl_code: str, at: dt.datetime) -> dict | None:
    """End the current facts row of an item at `at` → that row's columns, or None when there was none.

    Raises Conflict (facts_out_of_order) when `at` lies before that row began: intervals never invert.
    """
    F = ItemFactsRecord
    current = F.select().where((F.impl_code == impl_code) & F.valid_to.is_null()).dicts().first()
    if current is None:
        return None
    if at < current["valid_from"]:
        raise Conflict(f"item {impl_code} was last published after {at.isoformat()}", code="facts_out_of_order",
                       details={"impl_code": impl_code, "at": at.isoformat(),
                                "current_from": current["valid_from"].isoformat()})
    F.update(valid_to=at).where(F.id == current["id"]).execute()
    return current


def _upsert(model, keys: dict, row: dict, sign: int) -> None:
    values = {**keys, **{d: row[d] for d in FACT_DIMENSIONS}, **{n: sign * row[n] for n in FACT_NAMES}}
    model.insert(values).on_conflict(
        conflict_target=[getattr(model, c) for c in (*keys, *FACT_DIMENSIONS)],
        update={getattr(model, n): getattr(model, n) + getattr(pw.EXCLUDED, n) for n in FACT_NAMES}).execute()


def add_to_totals(row: dict, sign: int, day: dt.date) -> None:
    """Add (sign 1) or subtract (sign −1) one facts row to the current totals of its combination and
    to the net changes of `day` and of its month."""
    _upsert(ItemFactsTotalRecord, {}, row, sign)
    _upsert(ItemFactsChangeRecord, {"kind": "m", "period": day.isoformat()[:7]}, row, sign)
    _upsert(ItemFactsChangeRecord, {"kind": "d", "period": day.isoformat()}, row, sign)


def rebuild_totals(day_of) -> int:
    """Recompute the current totals and the net changes from the facts rows; `day_of(datetime)` gives
    the day an instant falls on. Returns the number of current combinations."""
    F, T, C = ItemFactsRecord, ItemFactsTotalRecord, ItemFactsChangeRecord
    T.delete().execute()
    C.delete().execute()
    dims = [getattr(F, d) for d in FACT_DIMENSIONS]
    source = (F.select(*dims, *(pw.fn.SUM(getattr(F, n)) for n in FACT_NAMES))
              .where(F.valid_to.is_null()).group_by(*dims))
    T.insert_from(source, [*(getattr(T, d) for d in FACT_DIMENSIONS), *(getattr(T, n) for n in FACT_NAMES)]).execute()
    changes: dict[tuple, list[int]] = {}
    query = F.select(F.valid_from, F.valid_to, *dims, *(getattr(F, n) for n in FACT_NAMES)).tuples().iterator()
    for valid_from, valid_to, *rest in query:
        key, facts = tuple(rest[:len(FACT_DIMENSIONS)]), rest[len(FACT_DIMENSIONS):]
        for at, sign in ((valid_from, 1), (valid_to, -1)):
            if at is None:
                continue
            day = day_of(at).isoformat()
            for bucket in (("m", day[:7]), ("d", day)):
                sums = changes.setdefault((*bucket, *key), [0] * len(FACT_NAMES))
                for i, value in enumerate(facts):
                    sums[i] += sign * value
    columns = ("kind", "period", *FACT_DIMENSIONS, *FACT_NAMES)
    rows = [dict(zip(columns, (*key, *sums))) for key, sums in changes.items()]
    for start in range(0, len(rows), BATCH):
        C.insert_many(rows[start:start + BATCH]).execute()
    return T.select().count()


def change_sums(group_by: str, day: dt.date, **filters) -> list[dict]:
    """SUM of every fact per group as of the end of `day`: the net changes of the months before it
    and of its month's days up to it → [{key, <fact>: sum}] without groups that net to no item."""
    C = ItemFactsChangeRecord
    month = day.isoformat()[:7]
    column = getattr(C, "region_code" if group_by == "region" else group_by)
    when = (((C.kind == "m") & (C.period < month))
            | ((C.kind == "d") & (C.period >= month + "-01") & (C.period <= day.isoformat())))
    sums = [pw.fn.SUM(getattr(C, name)).alias(name) for name in FACT_NAMES]
    query = (C.select(column.alias("key"), *sums).where(when, *_where(C, None, **filters))
             .group_by(column).order_by(column))
    return [r for r in query.dicts() if r["items"]]


def insert_facts(rows: list[dict]) -> None:
    """Insert facts rows (columns of ItemFactsRecord) in batches."""
    for start in range(0, len(rows), BATCH):
        ItemFactsRecord.insert_many(rows[start:start + BATCH]).execute()


def _prefix_range(column, prefix: str):
    # A range instead of LIKE so the (region_code, …) index serves it on SQLite and PostgreSQL alike.
    return (column >= prefix) & (column < prefix[:-1] + chr(ord(prefix[-1]) + 1))


def _where(model, at: dt.datetime | None = None, region_prefix: str | None = None, org: str | None = None,
           item_type: str | None = None, level: str | None = None, service_object: str | None = None) -> list:
    conds = [_valid_at(at)] if model is ItemFactsRecord else []
    if region_prefix:
        conds.append(_prefix_range(model.region_code, region_prefix))
    if org:
        conds.append(model.org == org)
    if item_type:
        conds.append(model.item_type == item_type)
    if level:
        conds.append(model.level == level)
    if service_object:
        conds.append(model.service_objects.contains(f",{service_object},"))
    return conds


def _valid_at(at: dt.datetime | None):
    F = ItemFactsRecord
    if at is None:
        return F.valid_to.is_null()
    # valid at the instant `at` over half-open [valid_from, valid_to): valid_to ≥ at keeps an item that
    # was withdrawn exactly at `at` (the end of the day), valid_from < at drops one published at it.
    return (F.valid_from < at) & (F.valid_to.is_null() | (F.valid_to >= at))


def _facts_where(at: dt.datetime | None, **filters):
    conds = _where(ItemFactsRecord, at, **filters)
    out = conds[0]
    for cond in conds[1:]:
        out &= cond
    return out


def facts_sums(group_by: str, at: dt.datetime | None = None, *, from_rows: bool = False, **filters) -> list[dict]:
    """SUM of every fact per group ("region" groups by exact region code) → [{key, <fact>: sum}].

    Current figures (at None) come from the totals table unless `from_rows`; figures at an instant
    from the facts rows valid then.
    """
    model = ItemFactsTotalRecord if at is None and not from_rows else ItemFactsRecord
    column = getattr(model, "region_code" if group_by == "region" else group_by)
    sums = [pw.fn.SUM(getattr(model, name)).alias(name) for name in FACT_NAMES]
    conds = _where(model, at, **filters)
    if model is ItemFactsTotalRecord:
        conds.append(model.items != 0)   # combinations whose items were all withdrawn
    query = model.select(column.alias("key"), *sums).where(*conds)
    return list(query.group_by(column).order_by(column).dicts())


def facts_items(at: dt.datetime | None = None, **filters) -> list[dict]:
    """The facts rows of every item counted at `at` (current when None), ordered by implementation code."""
    F = ItemFactsRecord
    columns = [F.impl_code, F.version, F.name, F.org, F.region_code, F.level, F.item_type,
               *(getattr(F, name) for name in FACT_NAMES)]
    return list(F.select(*columns).where(_facts_where(at, **filters)).order_by(F.impl_code).dicts())


def facts_changes(before: dt.datetime, after: dt.datetime, **filters) -> tuple[list[dict], list[dict]]:
    """Rows counted at `before` but not at `after`, and rows counted at `after` but not at `before`."""
    F = ItemFactsRecord
    columns = [F.impl_code, F.version, F.name, F.org, F.region_code, F.level, F.item_type,
               *(getattr(F, name) for name in FACT_NAMES)]
    left = (_facts_where(before, **filters) & F.valid_to.is_null(False) & (F.valid_to < after))
    entered = (_facts_where(after, **filters) & (F.valid_from >= before))
    return (list(F.select(*columns).where(left).order_by(F.impl_code).dicts()),
            list(F.select(*columns).where(entered).order_by(F.impl_code).dicts()))


def org_names(credit_codes: list[str]) -> dict[str, OrgRecord]:
    """Organisations by credit code, for labels."""
    out = {}
    for start in range(0, len(credit_codes), BATCH):
        chunk = credit_codes[start:start + BATCH]
        for org in OrgRecord.select().where(OrgRecord.credit_code.in_(chunk)):
            out[org.credit_code] = org
    return out


def regions_under(prefix: str | None) -> list[RegionRecord]:
    """Registered regions whose code starts with `prefix` (all when None), by code."""
    query = RegionRecord.select().order_by(RegionRecord.code)
    if prefix:
        query = query.where(_prefix_range(RegionRecord.code, prefix))
    return list(query)


def catalogue_in_use_levels() -> dict[str, list[str]]:
    """basic code → levels of every in-use catalogue item (the denominator of the claim rate)."""
    query = (CatalogueItemRecord.select(CatalogueItemRecord.basic_code, CatalogueItemRecord.levels)
             .where(CatalogueItemRecord.state == "in_use"))
    return {r.basic_code: [p for p in r.levels.split(",") if p] for r in query}


def claimed_codes(region_prefix: str | None) -> list[tuple[str, str, str]]:
    """Distinct (region_code, level, basic_code) of local items in any status: claiming is the act counted."""
    L = LocalItemRecord
    query = L.select(L.region_code, L.level, L.basic_code).distinct()
    if region_prefix:
        query = query.where(_prefix_range(L.region_code, region_prefix))
    return list(query.tuples())


def published_without_facts() -> list[tuple[LocalItemRecord, LocalVersionRecord]]:
    """Published local items that have no current facts row, with their published version."""
    F, L = ItemFactsRecord, LocalItemRecord
    has_facts = F.select(F.impl_code).where(F.valid_to.is_null())
    heads = list(L.select().where((L.status == "published") & L.published_version.is_null(False)
                                  & L.impl_code.not_in(has_facts)))
    return [(h, local_version(h.impl_code, h.published_version)) for h in heads]
