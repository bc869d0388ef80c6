"""What citizens searched for: misses (no or poor results) for the admins' report, frequent queries per
region (热门搜索), and the aliases admins add to catalogue items from the report."""
from __future__ import annotations

import logging
import re
import threading
import time
import weakref
from collections import Counter

from guides import search as analysis
from guides import search_index, synonyms
from guides.search_index import SearchAliasRecord, SearchMissRecord, SearchPopularRecord, changed, database
from items.errors import NotFound
from items.clock import utcnow

FLUSH_EVERY, FLUSH_SECONDS = 200, 30.0  # counts are written in batches, on a thread of their own
MAX_REPORT = 200
# A query that may carry someone's data (an ID or phone number, an e-mail) is never stored.
_PERSONAL = re.compile(r"\d{6,}|@|\d{17}[\dx]")
_BASIC_CODE = re.compile(r"\d{12}")
log = logging.getLogger(__name__)


class _Pending:
    def __init__(self) -> None:
        self.popular: Counter = Counter()
        self.misses: Counter = Counter()
        self.zero: Counter = Counter()
        self.since = time.monotonic()
        self.lock = threading.Lock()
        self.writer: threading.Thread | None = None  # the flush under way off the request path, if any


_PENDING: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per database object
_PENDING_LOCK = threading.Lock()


def _pending(db) -> _Pending:
    with _PENDING_LOCK:
        if db not in _PENDING:
            _PENDING[db] = _Pending()
        return _PENDING[db]


def note(db, text: str, region: str | None, found: bool, poor: bool, count: int = 1) -> None:
    """Count one query `count` times (first pages only): as frequent when it found something, as a miss when poor."""
    if _PERSONAL.search(text):
        return
    pending = _pending(db)
    with pending.lock:
        if found:
            pending.popular[("", text)] += count
            if region:
                pending.popular[(region, text)] += count
        if poor:
            pending.misses[text] += count
            if not found:
                pending.zero[text] += count
        due = (sum(pending.misses.values()) + sum(pending.popular.values()) >= FLUSH_EVERY
               or time.monotonic() - pending.since >= FLUSH_SECONDS)
        if due and (pending.writer is None or not pending.writer.is_alive()):
            # the upserts would otherwise land on the one query that made the batch full (a p99 spike)
            pending.writer = threading.Thread(target=_flush_behind, args=(db,), name="search-log-flush",
                                              daemon=True)
            pending.writer.start()


def _flush_behind(db) -> None:
    try:
        with db.connection_context():
            flush(db)
    except Exception as exc:  # counts are statistics: a failed batch is logged, never a citizen's error
        log.warning("search counts not written: %s", type(exc).__name__)


def flush(db=None) -> None:
    """Write the pending counts: one upsert per distinct query."""
    db = db or database.obj
    pending = _pending(db)
    with pending.lock:
        popular, misses, zero = pending.popular, pending.misses, pending.zero
        pending.popular, pending.misses, pending.zero = Counter(), Counter(), Counter()
        pending.since = time.monotonic()
    if not popular and not misses:
        return
    search_index.add_counts(db, misses, zero, popular, utcnow())


def popular(region_prefix: str | None, limit: int) -> list[dict]:
    """Return the region's most frequent queries that found something: [{query, count}]."""
    flush()
    rows = (SearchPopularRecord.select(SearchPopularRecord.query, SearchPopularRecord.count)
            .where(SearchPopularRecord.region == (region_prefix or ""))
            .order_by(SearchPopularRecord.count.desc(), SearchPopularRecord.query).limit(limit))
    return [{"query": r.query, "count": r.count} for r in rows]


def misses(limit=50) -> list[dict]:
    """Return the most frequent misses: [{query, count, zero_count, last_seen}]. Raises Invalid invalid_limit."""
    try:
        limit = int(limit)
    except (TypeError, ValueError):
        limit = 0
    if not 1 <= limit <= MAX_REPORT:
        raise analysis.invalid("invalid_limit", "limit", f"range:1..{MAX_REPORT}", f"limit is 1..{MAX_REPORT}")
    flush()
    rows = SearchMissRecord.select().order_by(SearchMissRecord.count.desc(), SearchMissRecord.query).limit(limit)
    return [{"query": r.query, "count": r.count, "zero_count": r.zero_count,
             "last_seen": r.last_seen.isoformat() if hasattr(r.last_seen, "isoformat") else str(r.last_seen)}
            for r in rows]


def extra_aliases(codes: list[str] | None) -> dict[str, list[str]]:
    """Return {basic_code: [alias]} of the aliases added from the report (all when codes is None)."""
    query = SearchAliasRecord.select(SearchAliasRecord.basic_code, SearchAliasRecord.alias)
    if codes is not None:
        query = query.where(SearchAliasRecord.basic_code.in_(codes))
    out: dict[str, list[str]] = {}
    for code, alias in query.tuples():
        out.setdefault(code, []).append(alias)
    return out


def promote(query: str, expansions=None, basic_code=None) -> dict:
    """Turn a query into a lexicon entry (`expansions`) or an alias of a catalogue item (`basic_code`),
    and take it off the report. Returns {query, as, ...}. Runs inside the caller's transaction.

    Raises Invalid promote_invalid (neither or both given, bad code), synonym_invalid; NotFound
    item_not_found when no published item has the basic code.
    """
    def bad(path, rule, message):
        return analysis.invalid("promote_invalid", path, rule, message)

    text = analysis.normalize(query if isinstance(query, str) else "")
    if not 2 <= len(text) <= synonyms.MAX_TERM_CHARS:
        raise bad("/query", f"length:2..{synonyms.MAX_TERM_CHARS}", "the query has 2 to 32 characters")
    if (expansions is None) == (basic_code is None):
        raise bad("/expansions", "one_of:expansions,basic_code", "give expansions (a lexicon entry) or basic_code (an alias)")
    if expansions is not None:
        entry = search_index.set_synonym(text, expansions, "admin: promoted miss")
        result = {"query": text, "as": "synonym", "expansions": entry["expansions"]}
    else:
        if not isinstance(basic_code, str) or not _BASIC_CODE.fullmatch(basic_code):
            raise bad("/basic_code", "pattern:\\d{12}", "basic_code is the 12-digit catalogue code")
        from guides.search_index import SearchDocRecord
        if not SearchDocRecord.select().where(SearchDocRecord.basic_code == basic_code).exists():
            raise NotFound("no published item has this basic code", code="item_not_found",
                           details={"basic_code": basic_code})
        (SearchAliasRecord.insert(basic_code=basic_code, alias=text)
         .on_conflict_ignore().execute())
        changed(basic_code)
        result = {"query": text, "as": "alias", "basic_code": basic_code}
    SearchMissRecord.delete().where(SearchMissRecord.query == text).execute()
    return result

