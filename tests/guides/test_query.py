"""Query understanding and ranking of catalogue items, without a database."""
from __future__ import annotations

from guides import query as understanding
from guides import ranking
from guides.search import normalize


def concept(code: str, name: str, aliases=(), body="", region="511602") -> ranking.Concept:
    variant = ranking.Variant(int(code), region, "ORG", "person", normalize(name))
    return ranking.Concept(code, [normalize(name)], [normalize(a) for a in aliases], body, [variant])


def index(*concepts: ranking.Concept, lexicon=None) -> ranking.ConceptIndex:
    out = ranking.ConceptIndex()
    for c in concepts:
        out.put(c)
    for word in lexicon or ():
        out.vocabulary.add(word)
    return out


def ranked(idx: ranking.ConceptIndex, q: str, lexicon=None) -> list[str]:
    forms, _ = understanding.understand(normalize(q), lexicon or {}, idx.vocabulary)
    return [h.code for h in idx.rank(forms)]


CATALOGUE = (concept("1", "居民身份证补领", ["身份证丢了"]), concept("2", "居民身份证申领"),
             concept("3", "户口迁移登记（迁出）"), concept("4", "内地居民结婚登记", body="须持户口簿"),
             concept("5", "住房公积金提取（购房提取）"), concept("6", "生育登记"))


def test_question_and_filler_words_are_stripped_anywhere():
    assert understanding.strip_fillers("去哪里办理结婚登记需要带什么材料") == "结婚登记"
    assert understanding.strip_fillers("身份证丢了怎么办") == "身份证丢"
    assert understanding.strip_fillers("怎么办") == "怎么办"  # nothing would be left


def test_words_in_another_order_find_the_item():
    idx = index(*CATALOGUE)
    assert ranked(idx, "补领身份证")[0] == "1"
    assert ranked(idx, "户口迁出")[0] == "3"
    assert ranked(idx, "提取公积金")[0] == "5"


def test_a_whole_question_finds_the_item_it_asks_about():
    assert ranked(index(*CATALOGUE), "去哪里办理结婚登记需要带什么材料")[0] == "4"


def test_homophones_are_corrected_against_the_indexed_vocabulary():
    idx = index(*CATALOGUE)
    forms, corrected = understanding.understand("身分证补领", {}, idx.vocabulary)
    assert corrected == "身份证补领"
    assert [h.code for h in idx.rank(forms)][0] == "1"
    assert understanding.understand("户口签移", {}, idx.vocabulary)[1] == "户口迁移"


def test_a_known_query_is_never_corrected():
    idx = index(*CATALOGUE)
    assert understanding.understand("结婚登记", {}, idx.vocabulary)[1] is None


def test_life_event_words_reach_the_items_through_the_lexicon():
    lexicon = {"生二胎": ["生育登记"]}
    assert ranked(index(*CATALOGUE, lexicon=lexicon), "生二胎", lexicon)[0] == "6"


def test_whole_matches_rank_name_then_alias_then_text_then_partial():
    idx = index(concept("1", "户口登记"), concept("2", "某某事项", ["户口登记证明"]),
                concept("3", "其他事项", body="户口登记"), concept("4", "户口迁移登记"))
    assert ranked(idx, "户口登记") == ["1", "2", "3", "4"]


def test_a_partial_match_covers_at_least_the_minimum_share_of_the_query():
    idx = index(*CATALOGUE)
    hits = idx.rank(understanding.understand("结婚证明补领", {}, idx.vocabulary)[0])
    assert all(h.coverage >= ranking.MIN_COVERAGE for h in hits)


def test_one_entry_per_catalogue_item_and_filters_by_region():
    idx = index(concept("1", "出生登记", region="511602"), concept("2", "出生医学证明", region="511603"))
    hits = idx.rank([understanding.Form("出生", "literal")], keep=lambda c: c.keeps("511603", None, None))
    assert [h.code for h in hits] == ["2"]


def test_pinyin_initials_and_full_spelling_find_names():
    idx = index(*CATALOGUE)
    assert idx.rank([], "jmsfz")[0].code in {"1", "2"}
    assert {h.code for h in idx.rank([], "shenfenzheng")} == {"1", "2"}


def test_suggestions_complete_names_and_aliases_by_prefix_and_initials():
    idx = index(*CATALOGUE)
    assert [s["text"] for s in idx.suggest("居民", None, 5)] == ["居民身份证补领", "居民身份证申领"]
    assert idx.suggest("", "sfz", 5)[0]["kind"] == "alias"
