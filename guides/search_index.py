"""The hall search index of published local items, its lexicon (synonym table) and change log, on SQLite
FTS5 or PostgreSQL GIN.

Every change of what search sees (an item indexed or removed, a lexicon entry or a search alias
changed) appends to search_change, so each process's in-memory ranking index (guides.hall_search)
reloads only the catalogue items that changed; the log keeps its newest CHANGES_KEPT rows, and a process
further behind loads everything again. The n-gram terms serve guides.search_exact.
"""
from __future__ import annotations

import json

import peewee as pw

from guides import search as analysis
from guides import search_terms
from guides import lexicon, synonyms
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
    """One lexicon entry, editable by province admins: a citizen's word and the catalogue words it means."""
    term = pw.CharField(max_length=64, unique=True)
    expansions = JSONText()
    source = pw.CharField(max_length=200, default="")
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "search_synonym"


class SearchAliasRecord(BaseRecord):
    """A word citizens use for a catalogue item, added from the misses report (beside editors' aliases)."""
    basic_code = pw.CharField(max_length=12, index=True)
    alias = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "search_alias"
        indexes = ((("basic_code", "alias"), True),)


class SearchChangeRecord(BaseRecord):
    """One change of what search sees: a basic code, LEXICON for the lexicon, EVERYTHING after a rebuild."""
    basic_code = pw.CharField(max_length=12)
    changed_at = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "search_change"


class SearchMissRecord(BaseRecord):
    """A query that found nothing or little, counted (the normalised text only: no one's data)."""
    query = pw.CharField(max_length=64, unique=True)
    count = pw.IntegerField(default=0)
    zero_count = pw.IntegerField(default=0)  # of which found nothing at all
    last_seen = pw.DateTimeField(default=utcnow)

    class Meta:
        table_name = "search_miss"


class SearchPopularRecord(BaseRecord):
    """How often a query that found something was asked in a region ("" for the whole province)."""
    region = pw.CharField(max_length=12)
    query = pw.CharField(max_length=64)
    count = pw.IntegerField(default=0)

    class Meta:
        table_name = "search_popular"
        indexes = ((("region", "query"), True),)


LEXICON, EVERYTHING = "", "*"
MODELS = [SearchDocRecord, SynonymRecord, SearchAliasRecord, SearchChangeRecord, SearchMissRecord,
          SearchPopularRecord]
_TERM_SOURCE = (SearchDocRecord.id, SearchDocRecord.rank, SearchDocRecord.basic_code, SearchDocRecord.name,
                SearchDocRecord.aliases,
                SearchDocRecord.body, SearchDocRecord.region_code, SearchDocRecord.org_credit_code,
                SearchDocRecord.service_objects)


def is_postgres(db) -> bool:
    return isinstance(db, pw.PostgresqlDatabase)


def _db():
    return database.obj


def dialect_sql(db, sql: str) -> str:
    return sql.replace("?", "%s") if is_postgres(db) else sql


def create_search_schema(db) -> None:
    """Create what peewee's create_tables can't, after it ran: the FTS5 table or the GIN-indexed tsvector.

    On first install (the search structure did not exist yet) also seeds DEFAULT_SYNONYMS; `database`
    must already be initialised to `db`. Idempotent.
    """
    with db.atomic():
        if is_postgres(db):
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
        if "source" not in {c.name for c in db.get_columns("search_synonym")}:  # tables of earlier versions
            db.execute_sql("ALTER TABLE search_synonym ADD COLUMN source VARCHAR(200) NOT NULL DEFAULT ''")
        db.execute_sql("CREATE TABLE IF NOT EXISTS search_state (key VARCHAR(64) PRIMARY KEY, "
                       "value VARCHAR(200) NOT NULL)")
        if first and not SynonymRecord.select().exists():
            rows = [{"term": t, "expansions": e, "source": "default"} for t, e in synonyms.DEFAULT_SYNONYMS.items()]
            SynonymRecord.insert_many(rows).execute()
        seed_lexicon(db)


def seed_lexicon(db) -> int:
    """Add the entries of the lexicon data file (guides.lexicon) once per version of the file: a word
    already in the table (an admin's edit) is kept, and a word an admin deleted stays deleted until the
    file changes. Returns how many entries were added."""
    version = lexicon.version()
    row = db.execute_sql(dialect_sql(db, "SELECT value FROM search_state WHERE key = ?"), ("lexicon",)).fetchone()
    if row is not None and row[0] == version:
        return 0
    have = {t for (t,) in SynonymRecord.select(SynonymRecord.term).tuples()}
    rows = [{"term": e.term, "expansions": list(e.expansions), "source": e.source}
            for e in lexicon.entries() if e.term not in have]
    for start in range(0, len(rows), 500):
        SynonymRecord.insert_many(rows[start:start + 500]).execute()
    if row is None:
        db.execute_sql(dialect_sql(db, "INSERT INTO search_state (key, value) VALUES (?, ?)"), ("lexicon", version))
    else:
        db.execute_sql(dialect_sql(db, "UPDATE search_state SET value = ? WHERE key = ?"), (version, "lexicon"))
    changed(LEXICON)
    return len(rows)


def add_counts(db, misses: dict, zero: dict, popular: dict, now) -> None:
    """Add query counts (guides.search_log): {query: n} misses, of which {query: n} found nothing, and
    {(region, query): n} frequent queries; one statement per table."""
    with db.atomic():
        if misses:
            (SearchMissRecord.insert_many([{"query": t, "count": n, "zero_count": zero.get(t, 0), "last_seen": now}
                                           for t, n in misses.items()])
             .on_conflict(conflict_target=[SearchMissRecord.query],
                          update={SearchMissRecord.count: SearchMissRecord.count + pw.EXCLUDED.count,
                                  SearchMissRecord.zero_count: SearchMissRecord.zero_count + pw.EXCLUDED.zero_count,
                                  SearchMissRecord.last_seen: pw.EXCLUDED.last_seen}).execute())
        if popular:
            (SearchPopularRecord.insert_many([{"region": r, "query": t, "count": n}
                                              for (r, t), n in popular.items()])
             .on_conflict(conflict_target=[SearchPopularRecord.region, SearchPopularRecord.query],
                          update={SearchPopularRecord.count: SearchPopularRecord.count + pw.EXCLUDED.count})
             .execute())


# The change log keeps its newest CHANGES_KEPT rows: a process further behind than that loads the whole index
# again (guides.hall_search._refresh), as it would after FULL_RELOAD changes anyway. Pruned every PRUNE_EVERY
# changes, so a busy province's log stays a few thousand rows instead of growing with every publish.
CHANGES_KEPT = 5_000
PRUNE_EVERY = 1_000


def changed(basic_code: str) -> None:
    """Log a change of what search sees (module docstring), pruning the oldest rows now and then."""
    new_id = SearchChangeRecord.insert(basic_code=basic_code).execute()
    if new_id and new_id % PRUNE_EVERY == 0:
        SearchChangeRecord.delete().where(SearchChangeRecord.id <= new_id - CHANGES_KEPT).execute()


def _terms(row: dict) -> search_terms.FieldTerms:
    tags = search_terms.tag_terms(row["region_code"], row["org_credit_code"], row["service_objects"])
    return search_terms.field_terms(row["name"], row["aliases"], row["body"], tags)


def _values(t: search_terms.FieldTerms) -> tuple[str, ...]:
    return t.name, t.alias, t.body, t.body3, t.body4, t.tags


def _drop_terms(db, row: dict) -> None:
    if not is_postgres(db):
        t = _terms(row)
        db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {FTS_COLUMNS}) "
                       "VALUES ('delete', ?, ?, ?, ?, ?, ?, ?)", (row["rank"], *_values(t)))


def _put_terms(db, row: dict) -> None:
    t = _terms(row)
    if is_postgres(db):
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
        changed(fields["basic_code"])
        if old is not None and old["basic_code"] != fields["basic_code"]:
            changed(old["basic_code"])


def remove_item(impl_code: str) -> bool:
    """Take a local item out of search (withdrawn); returns whether it was indexed."""
    db = _db()
    with db.atomic():
        old = _stored(impl_code)
        if old is None:
            return False
        _drop_terms(db, old)
        SearchDocRecord.delete().where(SearchDocRecord.id == old["id"]).execute()
        changed(old["basic_code"])
    return True


def rebuild_index() -> int:
    """Derive every entry's terms again from search_doc (after a change of term rules); returns the count."""
    db = _db()
    count = 0
    with db.atomic():
        if not is_postgres(db):
            db.execute_sql(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")
        for row in SearchDocRecord.select(*_TERM_SOURCE).dicts().iterator():
            _put_terms(db, row)
            count += 1
        changed(EVERYTHING)
    return count


# ---- synonyms ------------------------------------------------------------------------------------

def synonym_table(text: str | None = None) -> dict[str, list[str]]:
    """Return the synonym table as {term: [expansions]}; only terms occurring in `text` when given."""
    if text is None:
        return {r.term: list(r.expansions) for r in SynonymRecord.select()}
    db = _db()
    pos = "strpos" if is_postgres(db) else "instr"
    sql = dialect_sql(db, f"SELECT term, expansions FROM search_synonym WHERE {pos}(?, term) > 0")
    return {term: json.loads(expansions) for term, expansions in db.execute_sql(sql, (text,))}


def list_synonyms() -> list[dict]:
    """Return [{term, expansions, source}] ordered by term."""
    return [{"term": r.term, "expansions": list(r.expansions), "source": r.source}
            for r in SynonymRecord.select().order_by(SynonymRecord.term)]


def set_synonym(term: str, expansions: list[str], source: str | None = None) -> dict:
    """Create or replace one lexicon entry; returns {term, expansions, source}. Raises Invalid
    synonym_invalid (source: at most 200 characters of text)."""
    term, expansions = synonyms.check_synonym(term, expansions)
    if source is not None and (not isinstance(source, str) or len(source) > 200):
        raise analysis.invalid("synonym_invalid", "source", "max_length:200", "source is a text of at most 200 characters")
    update = {SynonymRecord.expansions: expansions, SynonymRecord.updated_at: utcnow()}
    if source is not None:
        update[SynonymRecord.source] = source.strip()
    with _db().atomic():
        (SynonymRecord.insert(term=term, expansions=expansions, source=(source or "admin").strip(),
                              updated_at=utcnow())
         .on_conflict(conflict_target=[SynonymRecord.term], update=update)
         .execute())
        changed(LEXICON)
        stored = SynonymRecord.get(SynonymRecord.term == term)
    return {"term": term, "expansions": expansions, "source": stored.source}


def delete_synonym(term: str) -> None:
    """Delete one lexicon entry. Raises NotFound synonym_not_found."""
    with _db().atomic():
        if not SynonymRecord.delete().where(SynonymRecord.term == analysis.normalize(term or "")).execute():
            raise NotFound("no such synonym", code="synonym_not_found", details={"term": term})
        changed(LEXICON)


# ---- search --------------------------------------------------------------------------------------
