"""Ranking of catalogue items for a query, one entry per basic code: exact tiers first, then how much of
the query an item covers and where (name, alias, guide text)."""
from __future__ import annotations

import functools
import heapq
import operator
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass, field
from typing import NamedTuple

from guides import coverage, spelling
from guides.coverage import FIELD_WEIGHT, MIN_COVERAGE  # noqa: F401 - part of this module's interface
from guides.query import Form, Vocabulary
from guides.ranked import Ranked, in_order

# Tiers: the whole form inside a name (starting it, then anywhere), inside an alias (likewise), inside the
# guide text, then partial: some of the query's words, ranked by coverage.
NAME_START, NAME, ALIAS_START, ALIAS, TEXT, PARTIAL = range(6)
FORM_WEIGHT = {"literal": 1.0, "stripped": 1.0, "lexicon": 1.0, "corrected": 0.95}
MEMO_SIZE = 32768  # worked-out forms, spellings and filters kept per index before starting afresh
_FIRST = operator.itemgetter(0)


class Variant(NamedTuple):
    """One local item of a catalogue item: where it is offered, and its place in name-length order.
    A named tuple: a province loads 100,000 of them per process, a frozen dataclass is slower to make."""
    rank: int
    region: str
    org: str
    objects: str
    name: str


@functools.lru_cache(maxsize=4096)  # a province has a few hundred regions and 100,000 local items
def region_prefixes(code: str) -> tuple[str, ...]:
    """Return every prefix a region filter may ask for (guides.search.region_prefix) of an item's region."""
    code = code[:6] if code[6:] == "000000" else code
    cuts = [2, 4, 6] + ([9] if len(code) == 12 else []) + ([12] if len(code) == 12 and code[9:] != "000" else [])
    return tuple(dict.fromkeys(code[:n] for n in cuts))


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
        self.orgs.update(v.org for v in self.variants)
        for region in {v.region for v in self.variants}:
            self.regions.update(region_prefixes(region))
        for objects in {v.objects for v in self.variants}:
            self.objects.update(o for o in objects.split(",") if o)
        self.spelled = [spelling.spelled(n) for n in self.names]
        self.alias_spelled = [spelling.spelled(a) for a in self.aliases]
        self.spellings = spelling.prepare(self.spelled)
        self.alias_spellings = spelling.prepare(self.alias_spelled)
        self.by_rank = sorted(self.variants, key=operator.attrgetter("rank"))  # the page shows the first kept
        self.first_rank = self.by_rank[0].rank if self.by_rank else 0
        self.name_len = min((len(n) for n in self.names), default=0)
        # one string per field: a containment test is one C call, not a Python loop over the names; the
        # names shortest first, so the first place a form is found is in the shortest name holding it
        self.name_blob = "\x00".join(sorted(self.names, key=len))
        self.alias_blob = "\x00".join(self.aliases)
        self.name_starts = "\x00" + self.name_blob + "\x00"  # "\x00" + form in it: a name starts with it
        self.alias_starts = "\x00" + self.alias_blob

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


def _text_grams(body: str) -> set[str]:
    return {body[i:i + 2] for i in range(len(body) - 1)}


class ConceptIndex:
    """Every catalogue item with a published local item, in memory, with postings of its names' and
    aliases' characters and bigrams, of its guide text's bigrams, and the vocabulary for correction."""

    def __init__(self) -> None:
        self.concepts: dict[str, Concept] = {}
        # code → (shortest name's length, first rank): sorting codes by it is one C call (order.__getitem__)
        self.order: dict[str, tuple[int, int]] = {}
        self.postings: dict[str, set[str]] = {}
        self.name_postings: dict[str, set[str]] = {}  # the bigrams of the names alone (coverage.scores)
        self.start_postings: dict[str, set[str]] = {}  # the first bigram of each name
        self.vocabulary = Vocabulary()
        # the bigrams of the guide texts: a province's texts are megabytes (every county's org name), too
        # long to scan per query
        self.text_postings: dict[str, set[str]] = {}
        # the letter pairs typed pinyin can start with (spelling.pairs): a letters query tests only the
        # items holding its first two letters, not every item's spellings
        self.letter_postings: dict[str, set[str]] = {}
        # Per form (and per pinyin spelling), what the index says of it: pure functions of the index and
        # vocabulary, so kept until either changes (forget). Broad words (证明, 登记) recur in most queries.
        self._memo: dict[tuple, object] = {}

    def forget(self) -> None:
        """Drop what was worked out per form: call after the items or the vocabulary changed."""
        self._memo = {}

    def _remembered(self, key: tuple, work):
        found = self._memo.get(key)
        if found is None:
            if len(self._memo) >= MEMO_SIZE:
                self._memo = {}
            found = self._memo[key] = work()
        return found

    def put(self, concept: Concept) -> None:
        """Add or replace one catalogue item (no variants left: take it out)."""
        self.drop(concept.code)
        if not concept.variants:
            return
        self.concepts[concept.code] = concept
        self.order[concept.code] = (concept.name_len, concept.first_rank)
        for postings, keys in self._keys(concept):
            for k in keys:
                postings.setdefault(k, set()).add(concept.code)
        for text in (*concept.names, *concept.aliases):
            self.vocabulary.add(text)
        self._memo = {}

    def drop(self, code: str) -> None:
        old = self.concepts.pop(code, None)
        if old is None:
            return
        del self.order[code]
        for postings, keys in self._keys(old):
            for k in keys:
                codes = postings.get(k)
                if codes is not None:
                    codes.discard(code)
                    if not codes:
                        del postings[k]
        self._memo = {}

    def _keys(self, c: Concept) -> Iterable[tuple[dict[str, set[str]], Iterable[str]]]:
        """Each postings table with the keys one item is posted under in it."""
        yield self.postings, {g for text in (*c.names, *c.aliases) for g in grams(text)}
        yield self.name_postings, {g for text in c.names for g in _text_grams(text)}
        yield self.start_postings, {text[:2] for text in c.names if len(text) > 1}
        yield self.text_postings, _text_grams(c.body)
        yield self.letter_postings, spelling.pairs([*c.spelled, *c.alias_spelled])

    def in_text(self, form: str) -> set[str]:
        """Return the codes whose guide text holds `form` (of two characters or more)."""
        sets = [self.text_postings.get(form[i:i + 2]) for i in range(len(form) - 1)]
        if not sets or not all(sets):
            return set()
        sets.sort(key=len)
        found = set(sets[0]).intersection(*sets[1:])
        if len(form) > 2:  # every bigram in the text, but the form too?
            concepts = self.concepts
            found = {code for code in found if form in concepts[code].body}
        return found

    def _exact(self, form: str) -> dict[str, tuple[int, int]]:
        """Return {code: (tier, length of the matching name)} of the items holding the whole form."""
        out, lazy = self._exact_groups(form)
        out = dict(out)
        for tier, codes in lazy:
            out.update((code, (tier, self._length(code, form, tier))) for code in codes)
        return out

    def _length(self, code: str, form: str, tier: int) -> int:
        """The length of the shortest name of the item holding the form (starting it for NAME_START), or of
        its shortest name when the form is not in a name."""
        c = self.concepts[code]
        if tier > NAME:
            return c.name_len
        blob = c.name_starts  # names shortest first: the first name found is the shortest
        at = blob.find("\x00" + form) + 1 if tier == NAME_START else blob.rfind("\x00", 0, blob.find(form)) + 1
        return blob.find("\x00", at) - at

    def _exact_groups(self, form: str) -> tuple[dict[str, tuple[int, int]], list[tuple[int, Set[str]]]]:
        """Return the items holding the whole form as {code: (tier, length)} and [(tier, codes)] whose lengths
        are left to _length, each tier in one of them only. A two-character form is a bigram: its tiers are
        set operations on the postings, with no look at any item (broad words are in most items)."""
        if len(form) == 2:
            starting = self.start_postings.get(form, frozenset())
            names = self.name_postings.get(form, frozenset())
            either = self.postings.get(form, frozenset())
            out = {code: (ALIAS_START if "\x00" + form in self.concepts[code].alias_starts else ALIAS,
                          self.concepts[code].name_len) for code in either - names}
            return out, [(NAME_START, starting), (NAME, names - starting),
                         (TEXT, self.text_postings.get(form, frozenset()) - either)]
        out: dict[str, tuple[int, int]] = {}
        keys = grams(form) if len(form) == 1 else [form[i:i + 2] for i in range(len(form) - 1)]
        sets = [self.postings.get(k, set()) for k in keys]
        start = "\x00" + form
        for code in set.intersection(*sets) if sets and all(sets) else ():
            c = self.concepts[code]
            if form in c.name_blob:
                tier = NAME_START if start in c.name_starts else NAME
                out[code] = (tier, self._length(code, form, tier))
            elif form in c.alias_blob:
                out[code] = (ALIAS_START if start in c.alias_starts else ALIAS, c.name_len)
        return out, [(TEXT, self.in_text(form) - out.keys())] if len(form) > 1 else []

    def _groups(self, form: str) -> list[tuple[float, tuple[str, ...], Set[str]]]:
        """Return [(coverage, matched bigrams, codes)] of items covering part of the form's known bigrams,
        remembered (coverage.groups)."""
        def work():
            seams = self.vocabulary.seams(form) if self.vocabulary.words else set()
            return coverage.groups(form, seams, len(self.concepts), self.postings, self.name_postings,
                                   self.text_postings)
        return self._remembered(("groups", form), work)

    def _partial(self, form: str) -> dict[str, tuple[float, tuple[str, ...]]]:
        """Return {code: (coverage, matched words)} of items covering part of the form's known bigrams."""
        out = {}
        for share, matched, codes in self._groups(form):
            out.update(dict.fromkeys(codes, (share, coverage.runs(form, matched))))
        return out

    def _spelled(self, letters: str) -> dict[str, int]:
        """Return {code: tier} of the items whose name or alias pinyin (full or initials) holds `letters`."""
        out = {}
        concepts = self.concepts
        codes = concepts if len(letters) < 2 else self.letter_postings.get(letters[:2], ())
        for code in codes:
            c = concepts[code]
            tier = spelling.tier(c.spellings, letters)
            if tier is None:
                tier = spelling.tier(c.alias_spellings, letters)
                tier = None if tier is None else tier + ALIAS_START
            if tier is not None:
                out[code] = tier
        return out

    def rank(self, forms: Sequence[Form], letters: str | None = None,
             keep=lambda concept: True) -> list[Hit]:
        """Return the hits of the forms (and pinyin letters), best first, one per catalogue item."""
        return self.top(forms, letters, {code for code, c in self.concepts.items() if keep(c)})[0]

    def allowed(self, region: str | None, org: str | None, service_object: str | None) -> frozenset[str]:
        """Return the codes the filters keep (Concept.keeps), worked out once per filter until a change."""
        return self._remembered(("allowed", region, org, service_object), lambda: frozenset(
            code for code, c in self.concepts.items() if c.keeps(region, org, service_object)))

    def _entries(self, kind: str, text: str, how: str = "") -> tuple[Ranked, frozenset[str]]:
        """Return one form's (or spelling's) matches as (key, code, tier, coverage, form, matched) entries in
        key order, made lazily (Ranked), and their codes; remembered, as most queries share a broad word
        (证明, 登记) with others."""
        def work() -> tuple[Ranked, frozenset[str]]:
            concepts = self.concepts
            buckets: dict[tuple, list] = {}
            if kind != "partial":
                found, lazy = self._exact_groups(text) if kind == "exact" else (self._spelled(text), [])
                matched = (text,) if kind == "exact" else ()
                for code, tier in found.items():  # exact: (tier, length of the name); letters: tier
                    tier, length = tier if kind == "exact" else (tier, concepts[code].name_len)
                    buckets.setdefault((tier, -1.0, 0, length), []).append(code)
                for tier, codes in lazy:  # (tier,) sorts before (tier, ...): but no tier is in both
                    if codes:
                        buckets[(tier,)] = codes

                def make(head: tuple, codes: list) -> Iterable[tuple]:
                    tier = head[0]
                    if len(head) > 1:
                        return sorted((((*head, concepts[code].first_rank), code, tier, 1.0, text, matched)
                                       for code in codes), key=_FIRST)
                    # the shortest name of an item is no longer than its shortest holding the form: lengths
                    # are looked up only as far as the page goes
                    order = self.order.__getitem__
                    exact = order if tier > NAME else (
                        lambda code: (self._length(code, text, tier), concepts[code].first_rank))
                    return (((tier, -1.0, 0, length, rank), code, tier, 1.0, text, matched)
                            for (length, rank), code in in_order(codes, order, exact))
                everything = frozenset(found).union(*(codes for _, codes in lazy))
                return Ranked(buckets, make, len(everything)), everything
            factor = FORM_WEIGHT.get(how, 1.0)
            found = self._groups(text)
            for share, matched, codes in found:
                cover, words = share * factor, coverage.runs(text, matched)
                # among partial matches of equal coverage, the longer unbroken run of the query wins
                run = max((len(m) for m in words), default=0)
                buckets.setdefault((PARTIAL, -round(cover, 4), -run), []).append((codes, cover, words))

            def make_partial(head: tuple, items: list) -> list[tuple]:
                out = []
                for codes, cover, words in items:
                    for code in codes:
                        c = concepts[code]
                        out.append(((*head, c.name_len, c.first_rank), code, PARTIAL, cover, text, words))
                out.sort(key=_FIRST)
                return out
            everything = frozenset().union(*(codes for _, _, codes in found))
            return Ranked(buckets, make_partial, len(everything)), everything
        return self._remembered((kind, text, how), work)

    def top(self, forms: Sequence[Form], letters: str | None = None, keep: Set[str] | None = None,
            limit: int | None = None) -> tuple[list[Hit], int]:
        """Return the first `limit` hits (all when None), best first, and how many items match in all;
        `keep` (Set of codes, see allowed) leaves out the other items.

        An item's hit is its best entry over every form (exact tiers before partial ones; on a tie the
        earlier form). Each form's entries are kept in key order (made a bucket at a time, see Ranked) and
        remembered, so a query merges them and stops at the page; the total is the size of the union of their codes (exact, not capped).
        Partial entries are built only when the exact ones do not fill the page: every exact key sorts
        before every partial one. A form of two characters has no partial matches of its own (its one
        bigram is the whole form, so they all match it whole).
        """
        exact = [self._entries("exact", form.text) for form in forms]
        if letters:
            exact.append(self._entries("letters", letters))
        partial = [form for form in forms if len(form.text) > 2]
        codes = [c for _, c in exact if c]
        codes += [c for c in (self._remembered(("scored", f.text), lambda f=f: frozenset().union(
            *(group for _, _, group in self._groups(f.text)))) for f in partial) if c]
        everything = frozenset().union(*codes) if len(codes) != 1 else codes[0]
        total = len(everything) if keep is None else len(everything & keep)
        stop = total if limit is None else min(limit, total)
        chosen: list[tuple] = []
        seen: set[str] = set()
        for stage in (exact, partial):
            if len(chosen) == stop:
                break
            if stage is partial:
                stage = [self._entries("partial", form.text, form.how) for form in partial]
            lists = [entries for entries, _ in stage if entries]
            # heapq.merge is stable: on equal keys the earlier list's entry comes first, as offered first
            merged = lists[0] if len(lists) == 1 else heapq.merge(*lists, key=_FIRST)
            for entry in merged:
                code = entry[1]
                if code in seen or (keep is not None and code not in keep):
                    continue
                seen.add(code)
                chosen.append(entry)
                if len(chosen) == stop:
                    break
        return [Hit(key, code, tier, coverage, form, tuple(matched))
                for key, code, tier, coverage, form, matched in chosen], total

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
