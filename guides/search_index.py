"""The hall search index of published local items and its synonym table, on SQLite FTS5 or PostgreSQL GIN.

A search reads only its page: the ranked slices (name starts with, name contains, alias starts with,
alias contains, guide text) are each read in rank order and stop at the page. `total` (CONTRACT §3) is
then counted, but at most COUNT_CAP (guides.search) matches: a common word such as 户口 matches half the
province, and counting every match was the whole cost of the query. So `total` is the exact number of
matches when `total_exact` is true, and COUNT_CAP ("at least this many") when it is false. A page past
the cap is still read exactly; a page that reaches the last match gives the exact total again.
"""
from __future__ import annotations

import json

import peewee as pw

from guides import search as analysis
from guides import search_terms
from guides import synonyms
from items.errors import NotFound
from items.clock import utcnow
from items.records import BaseRecord, JSONText, database

FTS_TABLE = "search_fts"
FTS_COLUMNS = "name, alias, body, body3, body4, tags"  # search_terms.FieldTerms, in order
RANK_SHIFT = 32  # rank = name length << 32 | id: ascending rank is "shorter names first", then oldest
TERM_STATISTICS = 250  # PostgreSQL keeps ~10 × this many most common terms of search_doc.terms


class SearchDocRecord(BaseRecord):
    """One published local item as the hall finds it: only what index_item was given, nothing else."""
    rank = pw.BigIntegerField(unique=True, null=True)  # also the FTS5 rowid: FTS5 returns hits in this order
    impl_code = pw.CharField(max_length=31, unique=True)
    basic_code = pw.CharField(max_length=12, index=True)
    region_code = pw.CharField(max_length=12, index=True)
    org_credit_code = pw.CharField(max_length=18, index=True)
    org_name = pw.CharField(max_length=200)
    name = pw.CharField(max_length=300)
    name_norm = pw.TextField()
    name_len = pw.IntegerField()
    name_pinyin = pw.TextField()
    name_initials = pw.TextField()
    aliases = JSONText(default=list)
    alias_norm = pw.TextField(default="")
    body = pw.TextField(default="")  # normalised guide text, one segment per line
    service_objects = pw.CharField(max_length=200, default="")  # ",person,enterprise,"
    badges = JSONText(default=list)
    published_version = pw.IntegerField()
    indexed_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "search_doc"


class SynonymRecord(BaseRecord):
    """One operator-editable synonym: a citizen's term and the item-name words it stands for."""
    term = pw.CharField(max_length=64, unique=True)
    expansions = JSONText()
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "search_synonym"


MODELS = [SearchDocRecord, SynonymRecord]
_TERM_SOURCE = (SearchDocRecord.id, SearchDocRecord.rank, SearchDocRecord.name, SearchDocRecord.aliases,
                SearchDocRecord.body, SearchDocRecord.region_code, SearchDocRecord.org_credit_code,
                SearchDocRecord.service_objects)


def _is_postgres(db) -> bool:
    return isinstance(db, pw.PostgresqlDatabase)


def _db():
    return database.obj


def _sql(db, sql: str) -> str:
    return sql.replace("?", "%s") if _is_postgres(db) else sql


def create_search_schema(db) -> None:
    """Create what peewee's create_tables can't, after it ran: the FTS5 table or the GIN-indexed tsvector.

    On first install (the search structure did not exist yet) also seeds DEFAULT_SYNONYMS; `database`
    must already be initialised to `db`. Idempotent.
    """
    with db.atomic():
        if _is_postgres(db):
            # Bigram terms in a tsvector with GIN: pg_trgm cannot answer 2-character queries from its index.
            first = db.execute_sql(
                "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = 'search_doc' AND column_name = 'terms'").fetchone() is None
            db.execute_sql("ALTER TABLE search_doc ADD COLUMN IF NOT EXISTS terms tsvector")
            db.execute_sql("CREATE INDEX IF NOT EXISTS search_doc_terms ON search_doc USING gin (terms)")
            # "name starts with" as LIKE 'form%' under any collation; the org filter ignores case
            db.execute_sql("CREATE INDEX IF NOT EXISTS search_doc_name_prefix ON search_doc "
                           "(name_norm text_pattern_ops)")
            db.execute_sql("CREATE INDEX IF NOT EXISTS search_doc_org_upper ON search_doc (upper(org_credit_code))")
            # The planner guesses a term it has no statistics for at half the rarest one it has; with the
            # default 1,000 terms that is ~0.5% of a province, and ORDER BY rank LIMIT then walks the
            # rank index through every row for an alias term that occurs nowhere (400 ms at 100,000 items).
            stats, options = db.execute_sql(
                "SELECT a.attstattarget, c.reloptions FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
                "WHERE a.attrelid = 'search_doc'::regclass AND a.attname = 'terms'").fetchone()
            if stats != TERM_STATISTICS:  # ALTER TABLE locks the table: only when it changes anything
                db.execute_sql(f"ALTER TABLE search_doc ALTER COLUMN terms SET STATISTICS {TERM_STATISTICS}")
            # A row keeps its terms inline and uncompressed: a filter on terms otherwise decompresses them
            # on every row it looks at, which made a rank walk or a capped count twice as slow.
            if "toast_tuple_target=8160" not in (options or []):
                db.execute_sql("ALTER TABLE search_doc SET (toast_tuple_target = 8160)")
        else:
            columns = [r[1] for r in db.execute_sql(f"PRAGMA table_info({FTS_TABLE})").fetchall()]
            first = not columns
            stale = columns and ", ".join(columns) != FTS_COLUMNS  # written by earlier term rules
            if stale:
                db.execute_sql(f"DROP TABLE {FTS_TABLE}")
            # Contentless: terms are derived again from search_doc when an entry is deleted. Full detail:
            # a phrase of n-gram terms is an exact substring test, so hits need no verification.
            db.execute_sql(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5({FTS_COLUMNS}, "
                "content='', columnsize=0, tokenize='unicode61 remove_diacritics 0')")
            if stale:
                rebuild_index()
        if first and not SynonymRecord.select().exists():
            rows = [{"term": t, "expansions": e} for t, e in synonyms.DEFAULT_SYNONYMS.items()]
            SynonymRecord.insert_many(rows).execute()


def _terms(row: dict) -> search_terms.FieldTerms:
    tags = search_terms.tag_terms(row["region_code"], row["org_credit_code"], row["service_objects"])
    return search_terms.field_terms(row["name"], row["aliases"], row["body"], tags)


def _values(t: search_terms.FieldTerms) -> tuple[str, ...]:
    return t.name, t.alias, t.body, t.body3, t.body4, t.tags


def _drop_terms(db, row: dict) -> None:
    if not _is_postgres(db):
        t = _terms(row)
        db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {FTS_COLUMNS}) "
                       "VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)", (row["rank"], *_values(t)))


def _put_terms(db, row: dict) -> None:
    t = _terms(row)
    if _is_postgres(db):
        db.execute_sql("UPDATE search_doc SET terms = CAST(%s AS tsvector) WHERE id = %s",
                       (search_terms.tsvector_literal(t), row["id"]))
    else:
        db.execute_sql(f"INSERT INTO {FTS_TABLE}(rowid, {FTS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       (row["rank"], *_values(t)))


def _stored(impl_code: str) -> dict | None:
    return (SearchDocRecord.select(*_TERM_SOURCE).where(SearchDocRecord.impl_code == impl_code)
            .dicts().first())


def index_item(impl_code: str, doc: dict, published_version: int) -> None:
    """Make the published version of a local item searchable at once, replacing any earlier entry.

    Called by the publish service inside its transaction. Raises Invalid search_entry_invalid.
    """
    fields = analysis.entry_fields(impl_code, doc)
    fields["published_version"] = published_version
    fields["indexed_at"] = utcnow()
    db = _db()
    with db.atomic():
        old = _stored(fields["impl_code"])
        if old is None:
            row_id = SearchDocRecord.insert(**fields).execute()
        else:
            row_id = old["id"]
            _drop_terms(db, old)
        fields.update(id=row_id, rank=(fields["name_len"] << RANK_SHIFT) | row_id)
        SearchDocRecord.update(**fields).where(SearchDocRecord.id == row_id).execute()
        _put_terms(db, fields)


def remove_item(impl_code: str) -> bool:
    """Take a local item out of search (withdrawn); returns whether it was indexed."""
    db = _db()
    with db.atomic():
        old = _stored(impl_code)
        if old is None:
            return False
        _drop_terms(db, old)
        SearchDocRecord.delete().where(SearchDocRecord.id == old["id"]).execute()
    return True


def rebuild_index() -> int:
    """Derive every entry's terms again from search_doc (after a change of term rules); returns the count."""
    db = _db()
    count = 0
    with db.atomic():
        if not _is_postgres(db):
            db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
        for row in SearchDocRecord.select(*_TERM_SOURCE).dicts().iterator():
            _put_terms(db, row)
            count += 1
    return count


# ---- synonyms ------------------------------------------------------------------------------------

def synonym_table(text: str | None = None) -> dict[str, list[str]]:
    """Return the synonym table as {term: [expansions]}; only terms occurring in `text` when given."""
    if text is None:
        return {r.term: list(r.expansions) for r in SynonymRecord.select()}
    db = _db()
    pos = "strpos" if _is_postgres(db) else "instr"
    sql = _sql(db, f"SELECT term, expansions FROM search_synonym WHERE {pos}(?, term) > 0")
    return {term: json.loads(expansions) for term, expansions in db.execute_sql(sql, (text,))}


def list_synonyms() -> list[dict]:
    """Return [{term, expansions}] ordered by term."""
    return [{"term": r.term, "expansions": list(r.expansions)}
            for r in SynonymRecord.select().order_by(SynonymRecord.term)]


def set_synonym(term: str, expansions: list[str]) -> dict:
    """Create or replace one synonym; returns {term, expansions}. Raises Invalid synonym_invalid."""
    term, expansions = synonyms.check_synonym(term, expansions)
    with _db().atomic():
        (SynonymRecord.insert(term=term, expansions=expansions, updated_at=utcnow())
         .on_conflict(conflict_target=[SynonymRecord.term],
                      update={SynonymRecord.expansions: expansions, SynonymRecord.updated_at: utcnow()})
         .execute())
    return {"term": term, "expansions": expansions}


def delete_synonym(term: str) -> None:
    """Delete one synonym. Raises NotFound synonym_not_found."""
    if not SynonymRecord.delete().where(SynonymRecord.term == analysis.normalize(term or "")).execute():
        raise NotFound("no such synonym", code="synonym_not_found", details={"term": term})


# ---- search --------------------------------------------------------------------------------------

def search(q, region=None, org=None, service_object=None, page=1, size=20) -> dict:
    """Search published local items: CONTRACT §3 `GET /hall/search`.

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
    db = _db()
    query = analysis.analyze(q, synonym_table(analysis.normalize(q or "")))
    if query.code:
        hits, total, exact = _code_hits(db, query, prefix, org, service_object, page, size)
    elif _is_postgres(db):
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
            f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? ORDER BY rowid LIMIT ? OFFSET ?",
            (self.exprs[i], limit, offset))]

    def count(self, i: int | None, cap: int) -> int:
        expr = self.any if i is None else self.exprs[i]
        return self.db.execute_sql(f"SELECT count(*) FROM (SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} "
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
    rows = db.execute_sql(_sql(db, "SELECT rank, region_code, org_credit_code, service_objects FROM search_doc "
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
    records = {r[0]: r for r in db.execute_sql(_sql(db, (
        "SELECT rank, impl_code, name, org_name, aliases, body, badges FROM search_doc "
        f"WHERE rank IN ({marks})")), [rank for rank, _ in hits])}
    out = []
    for rank, tier in hits:
        _, impl_code, name, org_name, aliases, body, badges = records[rank]
        out.append({"impl_code": impl_code, "name": name, "org_name": org_name,
                    "highlight": analysis.result_highlight(tier, name, json.loads(aliases), body, query),
                    "badges": json.loads(badges)})
    return out
