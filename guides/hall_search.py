"""Citizen search: one entry per catalogue item, ranked by how much of the query it covers and where.

A province publishes ~100,000 local items but only a few thousand catalogue items (四级四同: one basic
code, many counties). Ranking runs in memory over the catalogue items (guides.ranking), loaded once per
process and kept in step through the change log (guides.search_index): a query costs one read of the
log's head, the ranking, and one read of the page's local items. Code queries keep the per-item lookup
of guides.search_exact.
"""
from __future__ import annotations

import gc
import json
import logging
import threading
import weakref

from guides import query as understanding
from guides import ranking
from guides import search as analysis
from guides import search_exact, search_index, search_log
from guides.search_terms import TIER_ALIAS, TIER_NAME, TIER_TEXT, SearchQuery

FULL_RELOAD = 500  # more changed catalogue items than this since the last query: load everything again
FREEZE_AT = 20_000  # local items from which a full load freezes what it loaded out of the collector's way
POOR_COVERAGE = 0.6  # a best hit covering less of the query than this is logged as a poor result
SUGGESTIONS = 10
logger = logging.getLogger("govhall")
_DISPLAY_TIER = {ranking.NAME_START: TIER_NAME, ranking.NAME: TIER_NAME, ranking.ALIAS_START: TIER_ALIAS,
                 ranking.ALIAS: TIER_ALIAS, ranking.TEXT: TIER_TEXT, ranking.PARTIAL: TIER_TEXT}


class _State:
    """One database's ranking index, lexicon and log position; the lock serialises reload and ranking."""

    def __init__(self) -> None:
        self.index = ranking.ConceptIndex()
        self.lexicon: dict[str, list[str]] = {}
        self.seen = -1
        self.lock = threading.Lock()
        # normalised query → its forms and correction: jieba and pinyin work, the same until a change
        self.understood: dict[str, tuple] = {}

    def understand(self, text: str) -> tuple:
        found = self.understood.get(text)
        if found is None:
            if len(self.understood) >= ranking.MEMO_SIZE:
                self.understood = {}
            found = self.understood[text] = understanding.understand(text, self.lexicon, self.index.vocabulary)
        return found


# A cache of database content per database object, checked against the change log on every query.
_STATES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_STATES_LOCK = threading.Lock()


def _concepts(db, codes: list[str] | None) -> dict[str, ranking.Concept]:
    where, params = "", []
    if codes is not None:
        where = f"WHERE basic_code IN ({', '.join(['?'] * len(codes))})"
        params = codes
    grouped: dict[str, dict] = {}
    for rank, code, region, org, objects, name_norm, alias_norm, body in db.execute_sql(search_index.dialect_sql(
            db, "SELECT rank, basic_code, region_code, org_credit_code, service_objects, name_norm, alias_norm, "
                f"body FROM search_doc {where}"), params):
        g = grouped.get(code)
        if g is None:
            g = grouped[code] = {"names": {}, "aliases": {}, "lines": {}, "variants": []}
        g["names"][name_norm] = None
        if alias_norm:
            g["aliases"].update(dict.fromkeys(a for a in alias_norm.split("\n") if a))
        g["lines"].update(dict.fromkeys(body.split("\n")))
        g["variants"].append(ranking.Variant(rank, region, org.upper(), objects, name_norm))
    extra = search_log.extra_aliases(codes)
    out = {}
    for code in (codes if codes is not None else grouped):
        g = grouped.get(code, {"names": {}, "aliases": {}, "lines": {}, "variants": []})
        aliases = list(g["aliases"]) + [a for a in extra.get(code, ()) if a not in g["aliases"]]
        out[code] = ranking.Concept(code, list(g["names"]), aliases, "\n".join(g["lines"]), g["variants"])
    return out


def _load_lexicon(state: _State) -> None:
    state.lexicon = {analysis.normalize(k): [analysis.normalize(v) for v in vs]
                     for k, vs in search_index.synonym_table().items()}
    for word, expansions in state.lexicon.items():
        state.index.vocabulary.add(word, 2)
        for e in expansions:
            state.index.vocabulary.add(e)


def _state(db) -> _State:
    with _STATES_LOCK:
        state = _STATES.get(db)
        if state is None:
            state = _STATES[db] = _State()
        return state


def _refresh(db, state: _State) -> None:
    """Bring the state up to date with the change log. Caller holds state.lock."""
    oldest, head = db.execute_sql("SELECT min(id), max(id) FROM search_change").fetchone()
    head = head or 0
    if head == state.seen:
        return
    # search_index.changed prunes the log's oldest rows (a prefix): when the oldest row left is beyond the
    # next one this process needs, changes it has not seen may be gone, and only loading everything is safe.
    pruned = oldest is not None and oldest > state.seen + 1
    reload_all = state.seen < 0 or head < state.seen or pruned
    changes = [] if reload_all else [c for (c,) in db.execute_sql(
        search_index.dialect_sql(db, "SELECT DISTINCT basic_code FROM search_change WHERE id > ?"), (state.seen,))]
    if reload_all or search_index.EVERYTHING in changes or len(changes) > FULL_RELOAD:
        fresh = _State()
        for concept in _concepts(db, None).values():
            fresh.index.put(concept)
        _load_lexicon(fresh)
        fresh.index.vocabulary.prepare()
        state.index, state.lexicon = fresh.index, fresh.lexicon
        if sum(len(c.variants) for c in state.index.concepts.values()) >= FREEZE_AT:
            # A province's index is millions of objects that live as long as the process: a full
            # collection walked them all (~1 s under load, on whichever query it fell). Frozen, it
            # walks only what queries made since.
            gc.collect()
            gc.freeze()
    else:
        codes = [c for c in changes if c != search_index.LEXICON]
        if codes:
            for concept in _concepts(db, codes).values():
                state.index.put(concept)
        if search_index.LEXICON in changes:
            _load_lexicon(state)
        state.index.vocabulary.prepare()
    state.index.forget()
    state.understood = {}
    state.seen = head


# Whether this process was asked to load the index ahead of its first search (warm): None until then,
# "loading", "ok", or what failed (the first search then loads it).
_warming: dict[str, str | None] = {"state": None}


def start_warming() -> None:
    """Say the index is loading from now on (before warm runs on a pool thread): /health/ready waits."""
    _warming["state"] = "loading"


def warm() -> None:
    """Load the bound database's ranking index now (govhall serve, at start) rather than on the first
    search, which otherwise waits seconds for a province's items. Never raises: a failed load is logged and
    the first search tries again."""
    start_warming()
    try:
        db = search_index.database.obj
        state = _state(db)
        with state.lock:
            _refresh(db, state)
    except Exception as exc:  # noqa: BLE001 - the search loads on demand instead; readiness says why
        logger.warning("search index not loaded at start (%s): the first search loads it", type(exc).__name__)
        _warming["state"] = f"loads on the first search: {type(exc).__name__}"
        return
    _warming["state"] = "ok"


def warming() -> str:
    """`ok` (loaded, or loaded on demand), `loading`, or why loading at start failed."""
    return _warming["state"] or "ok"


def _pick(concept: ranking.Concept, prefix, org, service_object, home) -> ranking.Variant | None:
    """The local item shown for a catalogue item: one the filters keep, in the citizen's region first."""
    if prefix is None and org is None and service_object is None and home is None:
        return concept.by_rank[0] if concept.by_rank else None
    needle = None if service_object is None else f",{service_object},"
    first = None
    for v in concept.by_rank:  # in rank order: the first kept one, unless one in `home` comes later
        if ((prefix is None or v.region.startswith(prefix)) and (org is None or v.org == org)
                and (needle is None or needle in f",{v.objects},")):
            if home is None or v.region.startswith(home):
                return v
            if first is None:
                first = v
    return first


def search(q, region=None, org=None, service_object=None, page=1, size=20, home=None) -> dict:
    """Search published items: CONTRACT §3 `GET /hall/search`, one entry per catalogue item.

    Returns {items: [{impl_code, name, org_name, highlight, badges, basic_code, variants, matched_terms,
    match}], total, total_exact, page, did_you_mean}. `home` (a region code) puts the citizen's own
    county's local item forward without filtering. Raises Invalid query_required, query_too_long,
    invalid_region, invalid_service_object, invalid_page, invalid_size.
    """
    page, size = analysis.check_page(page, size)
    prefix = analysis.region_prefix(region) if region is not None else None
    home = analysis.region_prefix(home) if home is not None else None
    org = str(org).strip().upper() if org is not None else None
    if service_object is not None:
        service_object = analysis.check_service_object(service_object)
    db = search_index.database.obj
    parsed = analysis.analyze(q, {})
    if parsed.code:
        return search_exact.exact_search(q, region=region, org=org, service_object=service_object, page=page,
                                         size=size)
    text = parsed.text
    state = _state(db)
    with state.lock:
        _refresh(db, state)
        forms, corrected = state.understand(text)
        keep = (None if prefix is None and org is None and service_object is None
                else state.index.allowed(prefix, org, service_object))
        hits, total = state.index.top(forms, parsed.pinyin, keep, page * size)
        page_hits = hits[(page - 1) * size:page * size]
        chosen = [(h, state.index.concepts[h.code]) for h in page_hits]
    shown = [(h, c, _pick(c, prefix, org, service_object, home)) for h, c in chosen]
    shown = [(h, c, v) for h, c, v in shown if v is not None]
    items = _page_items(db, shown, parsed)
    literal_hit = hits and hits[0].tier < ranking.PARTIAL and hits[0].form == text
    # every hit is ranked in memory, so the total is exact (COUNT_CAP bounds the previous search only)
    result = {"items": items, "total": total, "total_exact": True, "page": page,
              "did_you_mean": corrected if corrected and not literal_hit else None}
    if page == 1:
        poor = not hits or (hits[0].tier == ranking.PARTIAL and hits[0].coverage < POOR_COVERAGE)
        search_log.note(db, text, prefix, found=bool(hits), poor=poor)
    return result


def _page_items(db, shown, parsed) -> list[dict]:
    if not shown:
        return []
    ranks = [v.rank for _, _, v in shown]
    rows = {r[0]: r for r in db.execute_sql(search_index.dialect_sql(db, (
        "SELECT rank, impl_code, name, org_name, aliases, body, badges FROM search_doc "
        f"WHERE rank IN ({', '.join(['?'] * len(ranks))})")), ranks)}
    out = []
    for hit, concept, variant in shown:
        row = rows.get(variant.rank)
        if row is None:  # withdrawn between the ranking and this read
            continue
        _, impl_code, name, org_name, aliases, body, badges = row
        marks = SearchQuery(hit.form, hit.matched or (hit.form,), pinyin=parsed.pinyin)
        out.append({"impl_code": impl_code, "name": name, "org_name": org_name,
                    "highlight": analysis.result_highlight(_DISPLAY_TIER[hit.tier], name, json.loads(aliases),
                                                           body, marks),
                    "badges": json.loads(badges), "basic_code": concept.code,
                    "variants": len(concept.variants), "matched_terms": list(hit.matched),
                    "match": "partial" if hit.tier == ranking.PARTIAL else "whole"})
    return out


def suggest(q, region=None, limit=SUGGESTIONS) -> dict:
    """Type-ahead: {suggestions: [{text, kind, basic_code}], popular: [{query, count}]}.

    Names and aliases starting with `q` (or spelled by its pinyin letters or initials), then the
    region's frequent queries. An empty `q` gives the frequent queries only. Raises Invalid
    query_too_long, invalid_region.
    """
    prefix = analysis.region_prefix(region) if region is not None else None
    text = analysis.normalize(q or "")
    if len(text) > analysis.MAX_QUERY_CHARS:
        raise analysis.invalid("query_too_long", "q", f"max_length:{analysis.MAX_QUERY_CHARS}",
                               f"a query has at most {analysis.MAX_QUERY_CHARS} characters")
    db = search_index.database.obj
    suggestions = []
    if text:
        letters = text if text.isascii() and text.isalpha() else None
        state = _state(db)
        with state.lock:
            _refresh(db, state)
            suggestions = state.index.suggest(text, letters, limit)
    return {"suggestions": suggestions, "popular": search_log.popular(prefix, limit)}
