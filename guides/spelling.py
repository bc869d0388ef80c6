"""Pinyin spellings of names and aliases, prepared so that finding typed letters in them is a few C calls."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from guides.search_terms import syllables


def spelled(text: str) -> tuple[str, frozenset[int], str]:
    """Return a text's full pinyin, the offsets where its syllables start, and its initials."""
    parts = [s for s in syllables(text) if s]
    bounds, at = set(), 0
    for p in parts:
        bounds.add(at)
        at += len(p)
    return "".join(parts), frozenset(bounds), "".join(p[0] for p in parts)


class Spellings(NamedTuple):
    """The spellings of one item's names (or aliases) joined by \\x00, letters never holding \\x00:
    `starts` holds every full spelling and every initials string, `syllable_starts` every full spelling
    cut at each syllable start, `initials` every initials string."""
    starts: str
    syllable_starts: str
    initials: str


def prepare(spellings: Sequence[tuple[str, frozenset[int], str]]) -> Spellings:
    """Join the spellings (see spelled) once, at load: a letters query tests every item in the province."""
    fulls = [full for full, _, _ in spellings]
    initials = "\x00".join(i for _, _, i in spellings)
    cut = "\x00".join(full[b:] for full, bounds, _ in spellings for b in sorted(bounds))
    return Spellings("\x00" + "\x00".join(fulls) + "\x00" + initials, "\x00" + cut, initials)


def tier(spellings: Spellings, letters: str) -> int | None:
    """Return 0 when a spelling (full or initials) starts with `letters`, 1 when the letters start at a
    syllable of one or lie inside the initials, else None."""
    needle = "\x00" + letters
    if needle in spellings.starts:
        return 0
    if needle in spellings.syllable_starts or letters in spellings.initials:
        return 1
    return None


def pairs(spellings: Iterable[tuple[str, frozenset[int], str]]) -> set[str]:
    """Return the two letters at each syllable start of the full spellings and at each place in the
    initials: letters (two or more) found by tier begin with one of them."""
    out = set()
    for full, bounds, initials in spellings:
        out.update(full[b:b + 2] for b in bounds)
        out.update(initials[i:i + 2] for i in range(len(initials) - 1))
    return out
