"""Partial matches: how much of a form's known bigrams an item covers, weighted by rarity and by where it
holds them (name, alias, guide text)."""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Set

FIELD_WEIGHT = (1.0, 0.8, 0.3)  # a word of the query found in a name, an alias, the guide text
MIN_COVERAGE = 0.3  # a partial match covers at least this share of the query's known words
_EMPTY: frozenset[str] = frozenset()


def groups(form: str, seams: Set[int], total: int, postings: Mapping[str, Set[str]],
           name_postings: Mapping[str, Set[str]], text_postings: Mapping[str, Set[str]]
           ) -> list[tuple[float, tuple[str, ...], Set[str]]]:
    """Return [(coverage, matched bigrams, codes)] of the items covering at least MIN_COVERAGE of the form's
    known bigrams (those not across a seam of its words), one group per way of covering them.

    `postings` holds the items per bigram of their names and aliases, `name_postings` of their names only,
    `text_postings` of their guide texts; `total` is the number of items.
    """
    pairs = list(dict.fromkeys(form[i:i + 2] for i in range(len(form) - 1) if i not in seams))
    known = [p for p in pairs if p in postings]
    if not known:
        return []
    weights = [(p, math.log(1 + (total or 1) / len(postings[p]))) for p in known]
    whole = sum(w for _, w in weights)
    candidates = set().union(*(postings[p] for p in known))
    # Broad bigrams (企业, 服务 in 前期物业服务企业) are in most items, but together they weigh less than
    # the minimum coverage: an item holding none of the others anywhere (name, alias or guide text)
    # cannot reach it, so only items holding one of the others are scored. Exact, not a cap.
    broad, light = set(), 0.0
    for p, w in sorted(weights, key=lambda pw: (pw[1], pw[0])):
        if (light + w) / whole >= MIN_COVERAGE * (1 - 1e-9):
            break
        broad.add(p)
        light += w
    if broad:
        narrow = [p for p in known if p not in broad]
        candidates &= set().union(*(postings[p] for p in narrow), *(text_postings.get(p, ()) for p in narrow))
    # Where each item holds each bigram first (0 name, 1 alias, 2 guide text, 3 nowhere), two bits per
    # bigram: the candidates are split by set operations into the few groups of one signature, each
    # scored once, instead of searching every item's names per bigram.
    split_up = [(0, candidates)]
    for p, _ in weights:
        fields = (name_postings.get(p, _EMPTY), postings[p], text_postings.get(p, _EMPTY))
        split = []
        for signature, codes in split_up:
            for field, holding in enumerate(fields):
                part = codes & holding
                if part:
                    split.append((signature * 4 + field, part))
                    codes = codes - part
            if codes:
                split.append((signature * 4 + 3, codes))
        split_up = split
    out = []
    for signature, codes in split_up:
        where = []
        for _ in weights:
            signature, field = divmod(signature, 4)
            where.append(field)
        covered, matched = 0.0, []
        for (p, w), field in zip(weights, reversed(where)):
            if field < 3:
                covered += w * FIELD_WEIGHT[field]
                matched.append(p)
        if covered / whole >= MIN_COVERAGE:
            out.append((covered / whole, tuple(matched), codes))
    return out


def runs(form: str, pairs: Iterable[str]) -> tuple[str, ...]:
    """Return the longest runs of the form made of the matched bigrams: 居民身份证 from 居民, 民身 …"""
    matched = set(pairs)
    found, current = [], ""
    for i in range(len(form) - 1):
        if form[i:i + 2] in matched:
            current = current + form[i + 1] if current else form[i:i + 2]
        elif current:
            found.append(current)
            current = ""
    if current:
        found.append(current)
    return tuple(dict.fromkeys(found))
