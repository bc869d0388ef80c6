"""The hall search index of published local items and its synonym table, on SQLite FTS5 or PostgreSQL GIN."""
from __future__ import annotations

import json

import peewee as pw

from guides import search as analysis
from guides import synonyms
from items.errors import NotFound
from items.records import BaseRecord, JSONText, database, utcnow

FTS_TABLE = "search_fts"
FTS_COLUMNS = "name, alias, body, body3, body4, tags"  # analysis.FieldTerms, in order
RANK_SHIFT = 32  # rank = name length << 32 | id: ascending rank is "shorter names first", then oldest


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


def _terms(row: dict) -> analysis.FieldTerms:
    tags = analysis.tag_terms(row["region_code"], row["org_credit_code"], row["service_objects"])
    return analysis.field_terms(row["name"], row["aliases"], row["body"], tags)


def _values(t: analysis.FieldTerms) -> tuple[str, ...]:
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
                       (analysis.tsvector_literal(t), row["id"]))
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

    Returns {items: [{impl_code, name, org_name, highlight, badges}], total, page}, ranked name match >
    alias match > guide-text match; within each, starting with the query first, then shorter names.
    A single character searches names and aliases only. Raises Invalid query_required, query_too_long,
    invalid_region, invalid_service_object, invalid_page, invalid_size.
    """
    page, size = analysis.check_page(page, size)
    tags = []
    if region is not None:
        tags.append(analysis.region_tag(region))
    if org is not None:
        tags.append(analysis.ORG_MARK + str(org).strip().lower())
    if service_object is not None:
        tags.append(analysis.OBJECT_MARK + analysis.check_service_object(service_object).replace("_", ""))
    db = _db()
    query = analysis.analyze(q, synonym_table(analysis.normalize(q or "")))
    if query.code:
        hits, total = _code_hits(db, query, tags, page, size)
    elif _is_postgres(db):
        hits, total = _postgres_hits(db, query, (region, org, service_object), page, size)
    else:
        hits, total = _sqlite_hits(db, query, tags, page, size)
    return {"items": _page_items(db, hits, query), "total": total, "page": page}


def _fts_count(db, expr: str) -> int:
    return db.execute_sql(f"SELECT count(*) FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ?", (expr,)).fetchone()[0]


def _sqlite_hits(db, query, tags, page, size) -> tuple[list[tuple[int, int]], int]:
    """Return [(rank, tier)] of one page and the total, from FTS5 alone: each ranked slice is read in
    rowid (= rank) order and stops at the page, so a query matching most items costs one count."""
    plan = analysis.fts5_plan(query, tags)
    total = _fts_count(db, plan.any)
    hits: list[tuple[int, int]] = []
    skip = (page - 1) * size
    for tier, expr in plan.slices:
        if len(hits) == size or skip >= total:
            break
        got = db.execute_sql(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH ? ORDER BY rowid "
                             "LIMIT ? OFFSET ?", (expr, size - len(hits), skip)).fetchall()
        hits += [(rank, tier) for (rank,) in got]
        if got:
            skip = 0  # the page starts in this slice; the next slice continues it from its top
        elif skip:
            skip = max(0, skip - _fts_count(db, expr))  # the page lies beyond this slice: only deep pages count
    return hits, total


def _any(template: str, values) -> tuple[str, list]:
    """Return `template` OR-ed once per value (a value is one parameter or a tuple of them)."""
    values = [v if isinstance(v, tuple) else (v,) for v in values]
    if not values:
        return "1 = 0", []
    return "(" + " OR ".join([template] * len(values)) + ")", [p for v in values for p in v]


def _postgres_hits(db, query, filters, page, size) -> tuple[list[tuple[int, int]], int]:
    """Return [(rank, tier)] of one page and the total: GIN candidates, verified by substring tests.

    Bigrams of a longer query may all occur without the query; a NULL tier drops such candidates.
    """
    forms = query.forms
    name_sql, name_p = _any("strpos(d.name_norm, ?) > 0", forms)
    alias_sql, alias_p = _any("strpos(d.alias_norm, ?) > 0", forms)
    body_sql, body_p = _any("strpos(d.body, ?) > 0", [f for f in forms if len(f) > 1])
    name_first, name_first_p = _any("substr(d.name_norm, 1, ?) = ?", [(len(f), f) for f in forms])
    alias_first, alias_first_p = _any("strpos(d.alias_norm, ?) > 0", ["\n" + f for f in forms])
    if query.pinyin:
        name_sql, alias_sql = f"({name_sql} OR d.terms @@ ?::tsquery)", f"({alias_sql} OR d.terms @@ ?::tsquery)"
        name_p.append(analysis.tsquery_pinyin(query))
        alias_p.append(analysis.tsquery_pinyin(query, analysis.ALIAS_MARK + analysis.PINYIN_MARK))
        name_first = f"({name_first} OR d.terms @@ ?::tsquery)"
        alias_first = f"({alias_first} OR d.terms @@ ?::tsquery)"
        name_first_p.append(analysis.tsquery_pinyin(query, analysis.FIRST_MARK))
        alias_first_p.append(analysis.tsquery_pinyin(query, analysis.ALIAS_MARK + analysis.FIRST_MARK))
    where, where_p = ["d.terms @@ ?::tsquery"], [analysis.tsquery(query)]
    region, org, service_object = filters
    if region is not None:
        prefix = analysis.region_prefix(region)
        where.append("substr(d.region_code, 1, ?) = ?")
        where_p += [len(prefix), prefix]
    if org is not None:
        where.append("upper(d.org_credit_code) = ?")
        where_p.append(str(org).strip().upper())
    if service_object is not None:
        where.append("strpos(d.service_objects, ?) > 0")
        where_p.append("," + service_object + ",")
    scored = (f"WITH scored AS (SELECT d.rank, CASE WHEN {name_sql} THEN 0 WHEN {alias_sql} THEN 1 "
              f"WHEN {body_sql} THEN 2 END AS tier, CASE WHEN {name_first} THEN 0 ELSE 1 END AS name_first, "
              f"CASE WHEN {alias_first} THEN 0 ELSE 1 END AS alias_first "
              f"FROM search_doc d WHERE {' AND '.join(where)}) ")
    params = name_p + alias_p + body_p + name_first_p + alias_first_p + where_p
    sql = (scored + "SELECT rank, tier, count(*) OVER () FROM scored WHERE tier IS NOT NULL ORDER BY tier, "
           "CASE tier WHEN 0 THEN name_first WHEN 1 THEN alias_first ELSE 1 END, rank LIMIT ? OFFSET ?")
    rows = db.execute_sql(_sql(db, sql), params + [size, (page - 1) * size]).fetchall()
    if rows or page == 1:
        return [(r[0], r[1]) for r in rows], rows[0][2] if rows else 0
    count = scored + "SELECT count(*) FROM scored WHERE tier IS NOT NULL"
    return [], db.execute_sql(_sql(db, count), params).fetchone()[0]


def _code_hits(db, query, tags, page, size) -> tuple[list[tuple[int, int]], int]:
    """An implementation or basic code: its items, name tier, shorter names first; filters still apply."""
    rows = db.execute_sql(_sql(db, "SELECT rank, region_code, org_credit_code, service_objects FROM search_doc "
                                   "WHERE impl_code = ? OR basic_code = ? ORDER BY rank"),
                          (query.code, query.code)).fetchall()
    ranks = [r[0] for r in rows if set(tags) <= set(analysis.tag_terms(r[1], r[2], r[3]))]
    start = (page - 1) * size
    return [(rank, analysis.TIER_NAME) for rank in ranks[start:start + size]], len(ranks)


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
