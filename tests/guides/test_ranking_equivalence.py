"""The ranking's shortcuts (sorted lists per form merged up to the page, partial entries built only when
the exact ones do not fill it, broad bigrams not scored alone) give what scoring every match does."""
from __future__ import annotations

import heapq
import math
import random

import pytest

from guides import query as understanding
from guides import coverage, ranking
from guides.search import normalize
from scripts.bench import bench_search

SITUATIONS = ("（变更）", "（补领）", "（注销）")


@pytest.fixture(scope="module")
def catalogue() -> ranking.ConceptIndex:
    """The 1,135 names of a real county's catalogue, each offered in one to three counties, some with a
    situation suffix, guide texts of shared material names (broad words in every item)."""
    rng = random.Random(7)
    rows = bench_search.guangan_rows(bench_search.EXTERNAL)
    idx = ranking.ConceptIndex()
    for i, row in enumerate(rows):
        name = normalize(row["name"])
        names = [name] + [name + normalize(s) for s in rng.sample(SITUATIONS, rng.randrange(3))]
        counties = rng.sample(("510102", "510103", "510104"), rng.randrange(1, 4))
        variants = [ranking.Variant(i * 10 + k, county, "ORG", "person", names[k % len(names)])
                    for k, county in enumerate(counties)]
        body = "\n".join(normalize(t) for t in (row["department"], *rng.sample(bench_search.MATERIALS, 3),
                                                 rng.choice(bench_search.CONDITIONS)))
        aliases = [normalize(row["name"][:4]) + "手续"] if i % 7 == 0 else []
        idx.put(ranking.Concept(str(i), names, aliases, body, variants))
    return idx


def scored_every_match(idx: ranking.ConceptIndex, form: str) -> dict[str, tuple[float, tuple[str, ...]]]:
    """Coverage of every item holding any known bigram of the form, as before the broad-bigram shortcut."""
    seams = idx.vocabulary.seams(form) if idx.vocabulary.words else set()
    pairs = list(dict.fromkeys(form[i:i + 2] for i in range(len(form) - 1) if i not in seams))
    known = [p for p in pairs if p in idx.postings]
    if not known:
        return {}
    weight = {p: math.log(1 + len(idx.concepts) / len(idx.postings[p])) for p in known}
    whole = sum(weight.values())
    out = {}
    for code in set().union(*(idx.postings[p] for p in known)):
        c = idx.concepts[code]
        covered, matched = 0.0, []
        for p in known:
            for text, field_weight in zip((c.name_blob, c.alias_blob, c.body), ranking.FIELD_WEIGHT):
                if p in text:
                    covered += weight[p] * field_weight
                    matched.append(p)
                    break
        if covered / whole >= ranking.MIN_COVERAGE:
            out[code] = (covered / whole, coverage.runs(form, matched))
    return out


def ranked_every_match(idx, forms, letters=None, keep=None) -> list[tuple]:
    """Every match offered in turn, the best key per item kept, all of them sorted: the plain ranking."""
    best: dict[str, tuple] = {}

    def offer(code, key, tier, coverage, form, matched):
        if (keep is None or code in keep) and (code not in best or key < best[code][0]):
            best[code] = (key, code, tier, coverage, form, tuple(matched))

    for form in forms:
        for code, (tier, length) in idx._exact(form.text).items():
            offer(code, (tier, -1.0, 0, length, idx.concepts[code].first_rank), tier, 1.0, form.text, (form.text,))
    if letters:
        for code, tier in idx._spelled(letters).items():
            c = idx.concepts[code]
            offer(code, (tier, -1.0, 0, c.name_len, c.first_rank), tier, 1.0, letters, ())
    for form in forms:
        if len(form.text) < 2:
            continue
        factor = ranking.FORM_WEIGHT.get(form.how, 1.0)
        for code, (share, matched) in scored_every_match(idx, form.text).items():
            coverage = share * factor
            c = idx.concepts[code]
            run = max((len(m) for m in matched), default=0)
            offer(code, (ranking.PARTIAL, -round(coverage, 4), -run, c.name_len, c.first_rank), ranking.PARTIAL,
                  coverage, form.text, matched)
    return sorted(best.values())


def queries(n: int) -> list[str]:
    rows = bench_search.guangan_rows(bench_search.EXTERNAL)
    picked = bench_search.query_set(rows, n, random.Random(11))
    # long forms mixing rare and broad words, as lexicon expansions make them (前期物业服务企业)
    picked += ["前期物业服务企业", "居民身份证补领", "营业执照变更登记", "企业法人登记证明", "出生医学证明补领"]
    return picked


def as_tuples(hits: list[ranking.Hit]) -> list[tuple]:
    return [(h.key, h.code, h.tier, h.coverage, h.form, h.matched) for h in hits]


def test_broad_bigrams_left_unscored_change_no_partial_match(catalogue):
    for q in queries(150):
        for form in understanding.understand(q, {}, catalogue.vocabulary)[0]:
            assert catalogue._partial(form.text) == scored_every_match(catalogue, form.text), form.text


def test_the_merged_page_and_total_equal_scoring_and_sorting_every_match(catalogue):
    for q in queries(150):
        forms, _ = understanding.understand(q, {"身份证": ["居民身份证"], "企业": ["法人"]}, catalogue.vocabulary)
        letters = q if q.isascii() and q.isalpha() else None
        plain = ranked_every_match(catalogue, forms, letters)
        for limit in (1, 20, 60, None):
            hits, total = catalogue.top(forms, letters, None, limit)
            assert total == len(plain), q
            assert as_tuples(hits) == plain[:limit], (q, limit)


def test_a_filtered_page_equals_filtering_every_match(catalogue):
    keep = catalogue.allowed("510103", None, None)
    assert keep and len(keep) < len(catalogue.concepts)
    for q in queries(60):
        forms, _ = understanding.understand(q, {}, catalogue.vocabulary)
        plain = ranked_every_match(catalogue, forms, keep=keep)
        hits, total = catalogue.top(forms, None, keep, 20)
        assert (as_tuples(hits), total) == (plain[:20], len(plain)), q


def test_a_long_form_with_broad_words_still_finds_the_item_holding_its_rare_word_only_in_the_guide_text():
    idx = ranking.ConceptIndex()

    def put(code, name, body=""):
        idx.put(ranking.Concept(code, [name], [], body, [ranking.Variant(len(idx.concepts), "510102", "ORG", "", "")]))

    for n in range(40):  # 企业 in every name: too light to reach the minimum coverage alone
        put(f"broad{n}", f"企业事项{n}")
    put("name", "物业管理")
    put("text", "企业备案", body="前期物业服务合同")  # 物业 in its guide text only, 企业 in its name
    hits = idx.rank([understanding.Form("前期物业服务企业", "literal")])
    assert [h.code for h in hits] == ["name", "text"]
    assert all(h.tier == ranking.PARTIAL and h.coverage >= ranking.MIN_COVERAGE for h in hits)


def test_what_was_worked_out_per_form_is_dropped_when_an_item_changes(catalogue):
    idx = ranking.ConceptIndex()
    idx.put(ranking.Concept("1", ["出生登记"], [], "", [ranking.Variant(1, "510102", "ORG", "", "")]))
    assert [h.code for h in idx.rank([understanding.Form("登记", "literal")])] == ["1"]
    idx.put(ranking.Concept("2", ["婚姻登记"], [], "", [ranking.Variant(2, "510102", "ORG", "", "")]))
    assert {h.code for h in idx.rank([understanding.Form("登记", "literal")])} == {"1", "2"}
    assert idx.top([understanding.Form("登记", "literal")], None, idx.allowed("510102", None, None), 1)[1] == 2


def test_guide_text_lookups_through_bigrams_equal_searching_every_text(catalogue):
    forms = {f.text for q in queries(150) for f in understanding.understand(q, {}, catalogue.vocabulary)[0]}
    forms |= {"经信局", "身份证", "申请人具有完全民事", "户籍在本辖区内", "授权委托"}
    for form in (f for f in forms if len(f) > 1):
        assert catalogue.in_text(form) == {code for code, c in catalogue.concepts.items() if form in c.body}, form
    small = ranking.ConceptIndex()
    for c in list(catalogue.concepts.values())[:50]:
        small.put(c)
    small.drop(next(iter(small.concepts)))
    for table in (small.postings, small.name_postings, small.start_postings, small.text_postings,
                  small.letter_postings):
        assert all(codes and codes <= set(small.concepts) for codes in table.values())


def exact_by_reading_every_name(idx: ranking.ConceptIndex, form: str) -> dict[str, tuple[int, int]]:
    """The exact tiers found by looking at every name, alias and guide text of every item in turn."""
    out = {}
    for code, c in idx.concepts.items():
        names = sorted(c.names, key=len)
        if any(n.startswith(form) for n in names):
            out[code] = (ranking.NAME_START, next(len(n) for n in names if n.startswith(form)))
        elif any(form in n for n in names):
            out[code] = (ranking.NAME, next(len(n) for n in names if form in n))
        elif any(a.startswith(form) for a in c.aliases):
            out[code] = (ranking.ALIAS_START, c.name_len)
        elif any(form in a for a in c.aliases):
            out[code] = (ranking.ALIAS, c.name_len)
        elif len(form) > 1 and form in c.body:
            out[code] = (ranking.TEXT, c.name_len)
    return out


def spelled_tier_by_reading_every_syllable(spellings, letters: str) -> int | None:
    best = None
    for full, bounds, initials in spellings:
        if full.startswith(letters) or initials.startswith(letters):
            return 0
        if any(full.startswith(letters, b) for b in bounds) or letters in initials:
            best = 1
    return best


def test_exact_tiers_and_name_lengths_equal_reading_every_name(catalogue):
    forms = {f.text for q in queries(150) for f in understanding.understand(q, {}, catalogue.vocabulary)[0]}
    forms |= {"身份证", "申请", "变更", "登记", "证明", "企业", "补领", "（变更）", "手续", "证"}
    for form in forms:
        assert catalogue._exact(form) == exact_by_reading_every_name(catalogue, form), form


def test_pinyin_tiers_equal_reading_every_syllable(catalogue):
    letters = ["sfz", "yyzz", "hz", "shenfen", "fenzheng", "zheng", "dj", "bg", "qiye", "ye", "z", "xkbg",
               "biangeng", "gengdeng", "ngd", "sq", "shouxu", "sx"]
    found = 0
    for text in letters:
        expected = {}
        for code, c in catalogue.concepts.items():
            tier = spelled_tier_by_reading_every_syllable(c.spelled, text)
            if tier is None:
                tier = spelled_tier_by_reading_every_syllable(c.alias_spelled, text)
                tier = None if tier is None else tier + ranking.ALIAS_START
            if tier is not None:
                expected[code] = tier
        assert catalogue._spelled(text) == expected, text
        found += bool(expected)
    assert found > len(letters) // 2  # the letters mostly find items: the comparison is not of empties
