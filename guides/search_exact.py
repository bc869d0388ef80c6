"""The previous hall search: the whole query as exact phrases of n-grams in ranked slices (name starts
with, name contains, alias starts with, alias contains, guide text), one entry per local item.

A search reads only its page: each slice is read in rank order and stops at the page. `total`
(CONTRACT §3) is counted up to COUNT_CAP (guides.search) matches: exact when `total_exact` is true.
Kept as the baseline the evaluation and the benchmark print beside guides.hall_search, and for code
queries, which still answer one entry per local item.
"""
from __future__ import annotations

import json

from guides import search as analysis
from guides import search_index
from guides import search_terms


def exact_search(q, region=None, org=None, service_object=None, page=1, size=20) -> dict:
    """The previous hall search, kept as the evaluation's and benchmark's baseline: every match of the
    whole query, one entry per local item.

    Returns {items: [{impl_code, name, org_name, highlight, badges}], total, total_exact, page}, ranked
    name match > alias match > guide-text match; within each, starting with the query first, then shorter
    names. `total` is exact up to COUNT_CAP matches, else COUNT_CAP with total_exact false (module
    docstring). A single character searches names and aliases only. Raises Invalid query_required,
    query_too_long, invalid_region, invalid_service_object, invalid_page, invalid_size.
    """
    page, size = analysis.check_page(page, size)
    prefix = analysis.region_prefix(region) if region is not None else None
    org = str(org).strip() if org is not None else None
    if service_object is not None:
        service_object = analysis.check_service_object(service_object)
    db = search_index.database.obj
    query = analysis.analyze(q, search_index.synonym_table(analysis.normalize(q or "")))
    if query.code:
        hits, total, exact = _code_hits(db, query, prefix, org, service_object, page, size)
    elif search_index.is_postgres(db):
        hits, total, exact = _ranked(_PostgresSlices(db, query, prefix, org, service_object), page, size)
    else:
        hits, total, exact = _ranked(_Fts5Slices(db, query, prefix, org, service_object), page, size)
    return {"items": _page_items(db, hits, query), "total": total, "total_exact": exact, "page": page}


class _Fts5Slices:
    """The ranked slices of a query in FTS5: each read in rowid (= rank) order straight from the index."""

    def __init__(self, db, query, prefix, org, service_object):
        tags = [search_terms.REGION_MARK + prefix] if prefix is not None else []
        if org is not None:
            tags.append(search_terms.ORG_MARK + org.lower())
        if service_object is not None:
            tags.append(search_terms.OBJECT_MARK + service_object.replace("_", ""))
        plan = search_terms.fts5_plan(query, tags)
        self.db, self.any = db, plan.any
        self.tiers, self.exprs = [tier for tier, _ in plan.slices], [expr for _, expr in plan.slices]

    def read(self, i: int, limit: int, offset: int) -> list[int]:
        return [rank for (rank,) in self.db.execute_sql(
            f"SELECT rowid FROM {search_index.FTS_TABLE} WHERE {search_index.FTS_TABLE} MATCH ? ORDER BY rowid LIMIT ? OFFSET ?",
            (self.exprs[i], limit, offset))]

    def count(self, i: int | None, cap: int) -> int:
        expr = self.any if i is None else self.exprs[i]
        return self.db.execute_sql(f"SELECT count(*) FROM (SELECT rowid FROM {search_index.FTS_TABLE} WHERE {search_index.FTS_TABLE} "
                                   "MATCH ? LIMIT ?)", (expr, cap)).fetchone()[0]


class _PostgresSlices:
    """The ranked slices of a query in PostgreSQL: GIN terms, verified where they are only candidates.

    GIN has no order, so the plan is chosen here rather than left to ORDER BY rank LIMIT: the planner
    assumes hits spread evenly over the rank index, but rank is name length, and a name word found only
    in long names made it walk 70,000 rows. So the capped count runs first. Up to COUNT_CAP hits, a
    slice is read from its GIN bitmap and sorted (rank + 0 keeps the rank index out). Past it, one walk
    of the WALK_ROWS lowest ranks finds every slice's first hits; a slice it does not fill is read
    from its bitmap. With a region or org filter the filtered rows are few: bitmaps only.
    """
    WALK_ROWS = 2000

    def __init__(self, db, query, prefix, org, service_object):
        plan = search_terms.postgres_plan(query)
        self.db, self.any = db, plan.any
        self.tiers, self.preds = [tier for tier, _ in plan.slices], [pred for _, pred in plan.slices]
        self.filters = search_terms.postgres_filters(prefix, org, service_object)
        self.may_walk = prefix is None and org is None
        self.found = self._count(self.any, analysis.COUNT_CAP + 1)
        self.walked: list[list[int]] | None = None

    def _count(self, pred, cap: int) -> int:
        sql = (f"SELECT count(*) FROM (SELECT 1 FROM search_doc d WHERE {pred[0]} AND {self.filters[0]} "
               "LIMIT %s) s")
        return self.db.execute_sql(sql, (*pred[1], *self.filters[1], cap)).fetchone()[0]

    def count(self, i: int | None, cap: int) -> int:
        if i is None and cap == analysis.COUNT_CAP + 1:
            return self.found
        return self._count(self.any if i is None else self.preds[i], cap)

    def _walk(self) -> list[list[int]]:
        which = " ".join(f"WHEN {sql} THEN {i}" for i, (sql, _) in enumerate(self.preds))
        sql = (f"SELECT d.rank, CASE {which} END FROM (SELECT * FROM search_doc ORDER BY rank LIMIT %s) d "
               f"WHERE {self.any[0]} AND {self.filters[0]} ORDER BY d.rank")
        params = (*(v for _, ps in self.preds for v in ps), self.WALK_ROWS, *self.any[1], *self.filters[1])
        out: list[list[int]] = [[] for _ in self.preds]
        for rank, i in self.db.execute_sql(sql, params):
            if i is not None:  # the slices cover every hit; a NULL would be a plan out of step with them
                out[i].append(rank)
        return out

    def read(self, i: int, limit: int, offset: int) -> list[int]:
        if self.found > analysis.COUNT_CAP and self.may_walk:
            if self.walked is None:
                self.walked = self._walk()
            if len(self.walked[i]) >= offset + limit:
                return self.walked[i][offset:offset + limit]
        pred = self.preds[i]
        sql = (f"SELECT d.rank FROM search_doc d WHERE {pred[0]} AND {self.filters[0]} "
               "ORDER BY d.rank + 0 LIMIT %s OFFSET %s")
        return [rank for (rank,) in self.db.execute_sql(sql, (*pred[1], *self.filters[1], limit, offset))]


def _ranked(slices, page: int, size: int) -> tuple[list[tuple[int, int]], int, bool]:
    """Return [(rank, tier)] of one page, the total and whether it is exact.

    Slices are read in order, each from its top once the page has started in an earlier one; a page that
    lies beyond a slice skips it by a count bounded by the rows still to skip. When the page ends before
    the last slice, `total` is a count bounded by COUNT_CAP (+1 tells "more").
    """
    hits: list[tuple[int, int]] = []
    skip = (page - 1) * size
    for i, tier in enumerate(slices.tiers):
        if len(hits) == size:
            break
        got = slices.read(i, size - len(hits), skip)
        hits += [(rank, tier) for rank in got]
        if got:
            skip = 0
        elif skip:
            skip -= slices.count(i, skip)
    else:
        if len(hits) < size:  # every slice read to its end: the total is what came before and here
            return hits, (page - 1) * size - skip + len(hits), True
    found = slices.count(None, analysis.COUNT_CAP + 1)
    return hits, min(found, analysis.COUNT_CAP), found <= analysis.COUNT_CAP


def _code_hits(db, query, prefix, org, service_object, page, size) -> tuple[list[tuple[int, int]], int, bool]:
    """An implementation or basic code: its items, name tier, shorter names first; filters still apply."""
    rows = db.execute_sql(search_index.dialect_sql(db, "SELECT rank, region_code, org_credit_code, service_objects FROM search_doc "
                                   "WHERE impl_code = ? OR basic_code = ? ORDER BY rank"),
                          (query.code, query.code)).fetchall()
    ranks = [r[0] for r in rows
             if (prefix is None or r[1].startswith(prefix)) and (org is None or r[2].upper() == org.upper())
             and (service_object is None or f",{service_object}," in r[3])]
    start = (page - 1) * size
    return [(rank, search_terms.TIER_NAME) for rank in ranks[start:start + size]], len(ranks), True


def _page_items(db, hits: list[tuple[int, int]], query) -> list[dict]:
    if not hits:
        return []
    marks = ", ".join(["?"] * len(hits))
    # Raw SQL: on a 1 ms query, building the statement through the ORM costs a quarter of the time.
    records = {r[0]: r for r in db.execute_sql(search_index.dialect_sql(db, (
        "SELECT rank, impl_code, name, org_name, aliases, body, badges FROM search_doc "
        f"WHERE rank IN ({marks})")), [rank for rank, _ in hits])}
    out = []
    for rank, tier in hits:
        _, impl_code, name, org_name, aliases, body, badges = records[rank]
        out.append({"impl_code": impl_code, "name": name, "org_name": org_name,
                    "highlight": analysis.result_highlight(tier, name, json.loads(aliases), body, query),
                    "badges": json.loads(badges)})
    return out
