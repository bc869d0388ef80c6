"""The operator-editable synonym table's use cases: list, read one, audited changes and promoted misses."""
from __future__ import annotations

from guides import search_index, search_log
from items.audit import audited
from items.errors import NotFound
from items.scope import Actor


def list_synonyms() -> list[dict]:
    """The whole table → [{term, expansions}]."""
    return search_index.list_synonyms()


def find_synonyms(q: str | None, page: int, size: int) -> dict:
    """One page of the table, optionally only entries whose term or an expansion contains `q`
    → {synonyms: [{term, expansions, source}], total, page, size}. The table is a few thousand entries at
    most: it is filtered here, the same way on every database."""
    entries = search_index.list_synonyms()
    if q:
        entries = [e for e in entries if q in e["term"] or any(q in x for x in e["expansions"])]
    start = (page - 1) * size
    return {"synonyms": entries[start:start + size], "total": len(entries), "page": page, "size": size}


def get_synonym(term: str) -> dict:
    """One synonym → {term, expansions}. Raises NotFound synonym_not_found."""
    for entry in search_index.list_synonyms():
        if entry["term"] == term:
            return entry
    raise NotFound("no such synonym", code="synonym_not_found", details={"term": term})


def change_synonym(actor: Actor, remote_ip: str, term: str, expansions: list | None, source: str | None = None) -> dict:
    """Create or replace (`expansions`) or delete (None) a synonym, audited: the synonym table changes
    what every citizen finds. Raises Invalid synonym_invalid, NotFound synonym_not_found."""
    if expansions is None:
        def delete() -> dict:
            search_index.delete_synonym(term)
            return {"term": term, "deleted": True}
        return audited(actor, "synonym.delete", remote_ip, delete, _term)
    return audited(actor, "synonym.put", remote_ip, lambda: search_index.set_synonym(term, expansions, source), _term)


def promote_miss(actor: Actor, remote_ip: str, query: str | None, expansions: list | None,
                 basic_code: str | None) -> dict:
    """Turn a missed query into a lexicon entry or a catalogue alias (search_log.promote), audited: like a
    synonym change, it changes what every citizen finds. Raises what search_log.promote raises."""
    return audited(actor, "search_miss.promote", remote_ip,
                   lambda: search_log.promote(query, expansions, basic_code), lambda result: result["query"])


def _term(result: dict) -> str:
    return result["term"]  # as stored: set_synonym normalises the term
