"""The operator-editable synonym table's use cases: list, read one, audited changes and promoted misses."""
from __future__ import annotations

from guides import search_index, search_log
from items.audit import audited
from items.errors import NotFound
from items.scope import Actor


def list_synonyms() -> list[dict]:
    """The whole table → [{term, expansions}]."""
    return search_index.list_synonyms()


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
