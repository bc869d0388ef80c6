"""Ranking of catalogue items for a query, one entry per basic code: exact tiers first, then how much of
the query an item covers and where (name, alias, guide text)."""
from __future__ import annotations

import bisect
import heapq
import math
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from guides.query import Form, Vocabulary
from guides.search_terms import syllables

# Tiers: the whole form inside a name (starting it, then anywhere), inside an alias (likewise), inside the
# guide text, then partial: some of the query's words, ranked by coverage.
NAME_START, NAME, ALIAS_START, ALIAS, TEXT, PARTIAL = range(6)
FIELD_WEIGHT = (1.0, 0.8, 0.3)  # a word of the query found in a name, an alias, the guide text
MIN_COVERAGE = 0.3  # a partial match covers at least this share of the query's known words
FORM_WEIGHT = {"literal": 1.0, "stripped": 1.0, "lexicon": 1.0, "corrected": 0.95}
MEMO_SIZE = 4096  # forms and spellings remembered per index before starting afresh


@dataclass(frozen=True)
class Variant:
    """One local item of a catalogue item: where it is offered, and its place in name-length order."""
    rank: int
    region: str
    org: str
    objects: str
    name: str


def region_prefixes(code: str) -> tuple[str, ...]:
    """Return every prefix a region filter may ask for (guides.search.region_prefix) of an item's region."""
    code = code[:6] if code[6:] == "000000" else code
    cuts = [2, 4, 6] + ([9] if len(code) == 12 else []) + ([12] if len(code) == 12 and code[9:] != "000" else [])
    return tuple(dict.fromkeys(code[:n] for n in cuts))


def _spelled(text: str) -> tuple[str, frozenset[int], str]:
    parts = [s for s in syllables(text) if s]
    bounds, at = set(), 0
    for p in parts:
        bounds.add(at)
        at += len(p)
    return "".join(parts), frozenset(bounds), "".join(p[0] for p in parts)


@dataclass
class Concept:
    """A catalogue item as search sees it: its names and aliases over every local item, its guide-text
    lines, and its local items."""
    code: str
    names: list[str]
    aliases: list[str]
    body: str
    variants: list[Variant]
    regions: set[str] = field(default_factory=set)
    orgs: set[str] = field(default_factory=set)
    objects: set[str] = field(default_factory=set)
    spelled: list[tuple[str, frozenset[int], str]] = field(default_factory=list)
    alias_spelled: list[tuple[str, frozenset[int], str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        for v in self.variants:
            self.regions.update(region_prefixes(v.region))
            self.orgs.add(v.org)
            self.objects.update(o for o in v.objects.split(",") if o)
        self.spelled = [_spelled(n) for n in self.names]
        self.alias_spelled = [_spelled(a) for a in self.aliases]
        self.first_rank = min((v.rank for v in self.variants), default=0)
        self.name_len = min((len(n) for n in self.names), default=0)
        # one string per field: a containment test is one C call, not a Python loop over the names
        self.name_blob = "\x00".join(self.names)
        self.alias_blob = "\x00".join(self.aliases)

    def keeps(self, region: str | None, org: str | None, service_object: str | None) -> bool:
        return ((region is None or region in self.regions) and (org is None or org in self.orgs)
                and (service_object is None or service_object in self.objects))


@dataclass(frozen=True)
class Hit:
    """A ranked catalogue item: its sort key, tier, coverage and the form and words that matched."""
    key: tuple
    code: str
    tier: int
    coverage: float
    form: str
    matched: tuple[str, ...]


def grams(text: str) -> list[str]:
    """Return the distinct unigrams and bigrams the postings hold for a normalised text."""
    return list(dict.fromkeys([*text, *(text[i:i + 2] for i in range(len(text) - 1))]))


def _spelled_tier(spelled: Sequence[tuple[str, frozenset[int], str]], letters: str) -> int | None:
    best = None
    for full, bounds, initials in spelled:
        if full.startswith(letters) or initials.startswith(letters):
            return 0
        at = full.find(letters)
        while at >= 0 and at not in bounds:
            at = full.find(letters, at + 1)
        if at >= 0 or letters in initials:
            best = 1
    return best


class ConceptIndex:
    """Every catalogue item with a published local item, in memory, with postings of its names' and
    aliases' characters and bigrams, the guide texts end to end, and the vocabulary for correction."""

    def __init__(self) -> None:
        self.concepts: dict[str, Concept] = {}
        self.postings: dict[str, set[str]] = {}
        self.vocabulary = Vocabulary()
        self._blob: tuple[str, list[int], list[str]] | None = None
        # Per form (and per pinyin spelling), what the index says of it: pure functions of the index and
        # vocabulary, so kept until either changes (forget). Broad words (证明, 登记) recur in most queries.
        self._memo: dict[tuple[str, str], dict] = {}

    def forget(self) -> None:
        """Drop what was worked out per form: call after the items or the vocabulary changed."""
        self._memo = {}

    def _remembered(self, kind: str, text: str, work) -> dict:
        key = (kind, text)
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo = {}
            found = self._memo[key] = work(text)
        return found

    def put(self, concept: Concept) -> None:
        """Add or replace one catalogue item (no variants left: take it out)."""
        self.drop(concept.code)
        if not concept.variants:
            return
        self.concepts[concept.code] = concept
        for text in (*concept.names, *concept.aliases):
            for g in grams(text):
                self.postings.setdefault(g, set()).add(concept.code)
            self.vocabulary.add(text)
        self._blob = None
        self._memo = {}

    def drop(self, code: str) -> None:
        old = self.concepts.pop(code, None)
        if old is None:
            return
        for text in (*old.names, *old.aliases):
            for g in grams(text):
                codes = self.postings.get(g)
                if codes is not None:
                    codes.discard(code)
                    if not codes:
                        del self.postings[g]
        self._blob = None
        self._memo = {}

    def _texts(self) -> tuple[str, list[int], list[str]]:
        # One string of every guide text: str.find runs in C over it, a Python loop over items would not.
        if self._blob is None:
            codes = sorted(self.concepts)
            starts, parts, at = [], [], 0
            for code in codes:
                starts.append(at)
                parts.append(self.concepts[code].body)
                at += len(parts[-1]) + 1
            self._blob = ("\x00".join(parts), starts, codes)
        return self._blob

    def in_text(self, form: str) -> set[str]:
        """Return the codes whose guide text holds `form`."""
        blob, starts, codes = self._texts()
        found, at = set(), blob.find(form)
        while at >= 0:
            i = bisect.bisect_right(starts, at) - 1
            found.add(codes[i])
            end = starts[i + 1] if i + 1 < len(starts) else len(blob)
            at = blob.find(form, end)
        return found

    def _exact(self, form: str) -> dict[str, tuple[int, int]]:
        """Return {code: (tier, length of the matching name)} of the items holding the whole form."""
        out: dict[str, tuple[int, int]] = {}
        keys = grams(form) if len(form) == 1 else [form[i:i + 2] for i in range(len(form) - 1)]
        sets = [self.postings.get(k, set()) for k in keys]
        for code in set.intersection(*sets) if sets and all(sets) else ():
            c = self.concepts[code]
            if form in c.name_blob:
                lengths = [len(n) for n in c.names if n.startswith(form)]
                if lengths:
                    out[code] = (NAME_START, min(lengths))
                else:
                    out[code] = (NAME, min(len(n) for n in c.names if form in n))
            elif form in c.alias_blob:
                starts = c.alias_blob.startswith(form) or ("\x00" + form) in c.alias_blob
                out[code] = (ALIAS_START if starts else ALIAS, c.name_len)
        if len(form) > 1:
            for code in self.in_text(form):
                out.setdefault(code, (TEXT, self.concepts[code].name_len))
        return out

    def _partial(self, form: str) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Return {code: (coverage, matched words)} of items covering part of the form's known bigrams."""
        seams = self.vocabulary.seams(form) if self.vocabulary.words else set()
        pairs = list(dict.fromkeys(form[i:i + 2] for i in range(len(form) - 1) if i not in seams))
        known = [p for p in pairs if p in self.postings]
        if not known:
            return {}
        total = len(self.concepts) or 1
        weight = {p: math.log(1 + total / len(self.postings[p])) for p in known}
        whole = sum(weight.values())
        out = {}
        for code in set().union(*(self.postings[p] for p in known)):
            c = self.concepts[code]
            covered, matched = 0.0, []
            for p in known:  # a bigram holds no \x00, so it is in the blob only inside one name
                if p in c.name_blob:
                    covered += weight[p] * FIELD_WEIGHT[0]
                elif p in c.alias_blob:
                    covered += weight[p] * FIELD_WEIGHT[1]
                elif p in c.body:
                    covered += weight[p] * FIELD_WEIGHT[2]
                else:
                    continue
                matched.append(p)
            share = covered / whole
            if share >= MIN_COVERAGE:
                out[code] = (share, _runs(form, matched))
        return out

    def _spelled(self, letters: str) -> dict[str, int]:
        """Return {code: tier} of the items whose name or alias pinyin (full or initials) holds `letters`."""
        out = {}
        for code, c in self.concepts.items():
            tier = _spelled_tier(c.spelled, letters)
            if tier is None:
                tier = _spelled_tier(c.alias_spelled, letters)
                tier = None if tier is None else tier + ALIAS_START
            if tier is not None:
                out[code] = tier
        return out

    def rank(self, forms: Sequence[Form], letters: str | None = None,
             keep=lambda concept: True) -> list[Hit]:
        """Return the hits of the forms (and pinyin letters), best first, one per catalogue item."""
        return self.top(forms, letters, keep)[0]

    def top(self, forms: Sequence[Form], letters: str | None = None, keep=None,
            limit: int | None = None) -> tuple[list[Hit], int]:
        """Return the first `limit` hits (all when None), best first, and how many items match in all.

        Every match is scored (the total is exact) but only the page's hits are ordered: a broad word
        matches most items and sorting them all was most of a query's time.
        """
        best: dict[str, tuple] = {}  # code → (key, code, tier, coverage, form, matched): a Hit only at the end
        concepts = self.concepts
        kept: dict[str, bool] = {}

        def allowed(code: str) -> bool:
            found = kept.get(code)
            if found is None:
                found = kept[code] = bool(keep(concepts[code]))
            return found

        def offer(code: str, key: tuple, tier: int, coverage: float, form: str, matched) -> None:
            old = best.get(code)
            if (old is None or key < old[0]) and (keep is None or allowed(code)):
                best[code] = (key, code, tier, coverage, form, matched)

        exact_codes: set[str] = set()
        for form in forms:
            text = form.text
            found = self._remembered("exact", text, self._exact)
            exact_codes.update(found)
            for code, (tier, length) in found.items():
                offer(code, (tier, -1.0, 0, length, concepts[code].first_rank), tier, 1.0, text, (text,))
        if letters:
            found = self._remembered("letters", letters, self._spelled)
            exact_codes.update(found)
            for code, tier in found.items():
                c = concepts[code]
                offer(code, (tier, -1.0, 0, c.name_len, c.first_rank), tier, 1.0, letters, ())
        for form in forms:
            if len(form.text) < 2:
                continue
            factor = FORM_WEIGHT.get(form.how, 1.0)
            for code, (share, matched) in self._remembered("partial", form.text, self._partial).items():
                if code in exact_codes:
                    continue
                coverage = share * factor
                # among partial matches of equal coverage, the longer unbroken run of the query wins
                run = max((len(m) for m in matched), default=0)
                c = concepts[code]
                offer(code, (PARTIAL, -round(coverage, 4), -run, c.name_len, c.first_rank), PARTIAL, coverage,
                      form.text, matched)
        first = operator.itemgetter(0)
        chosen = (sorted(best.values(), key=first) if limit is None or limit >= len(best)
                  else heapq.nsmallest(limit, best.values(), key=first))
        return [Hit(key, code, tier, coverage, form, tuple(matched))
                for key, code, tier, coverage, form, matched in chosen], len(best)

    def suggest(self, prefix: str, letters: str | None, limit: int) -> list[dict]:
        """Return up to `limit` names and aliases starting with `prefix` (or spelled by `letters`)."""
        out: dict[str, dict] = {}
        ordered = sorted(self.concepts.values(), key=lambda c: (c.name_len, c.first_rank))
        for kind in ("name", "alias"):
            for c in ordered:
                texts = c.names if kind == "name" else c.aliases
                spelled = c.spelled if kind == "name" else c.alias_spelled
                for i, text in enumerate(texts):
                    hit = text.startswith(prefix) if prefix else False
                    if not hit and letters:
                        full, _, initials = spelled[i]
                        hit = full.startswith(letters) or initials.startswith(letters)
                    if hit and text not in out:
                        out[text] = {"text": text, "kind": kind, "basic_code": c.code}
                        if len(out) == limit:
                            return list(out.values())
        return list(out.values())


def _runs(form: str, pairs: Iterable[str]) -> tuple[str, ...]:
    """Return the longest runs of the form made of the matched bigrams: 居民身份证 from 居民, 民身 …"""
    matched = set(pairs)
    runs, current = [], ""
    for i in range(len(form) - 1):
        if form[i:i + 2] in matched:
            current = current + form[i + 1] if current else form[i:i + 2]
        elif current:
            runs.append(current)
            current = ""
    if current:
        runs.append(current)
    return tuple(dict.fromkeys(runs))
