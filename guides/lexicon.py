"""The citizens' lexicon data file: everyday and life-event words and the catalogue words they mean."""
from __future__ import annotations

import csv
import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

PATH = Path(__file__).resolve().parent / "data" / "lexicon.csv"


@dataclass(frozen=True)
class LexiconEntry:
    """One line of the file: the citizen's word, the catalogue words, and where the pairing comes from."""
    term: str
    expansions: tuple[str, ...]
    source: str


@functools.lru_cache(maxsize=1)
def entries() -> tuple[LexiconEntry, ...]:
    """Return the entries of the file (read on first use, not at import), checked as the API checks them.

    Raises Invalid synonym_invalid naming the first bad line's field.
    """
    from guides.synonyms import check_synonym  # the one place a lexicon entry is validated

    out: dict[str, LexiconEntry] = {}
    with open(PATH, encoding="utf-8", newline="") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            term, expansions = check_synonym(row["term"], row["expansions"].split(";"))
            out[term] = LexiconEntry(term, tuple(expansions), row["source"].strip())
    return tuple(out.values())


@functools.lru_cache(maxsize=1)
def version() -> str:
    """Return the version of the file: the first 16 hex digits of its SHA-256."""
    return hashlib.sha256(PATH.read_bytes()).hexdigest()[:16]
