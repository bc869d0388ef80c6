"""Search text analysis without a database: normalisation, terms, queries, synonyms, highlights, badges."""
from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guides import search, search_terms, synonyms
from items.errors import Invalid

CJK_AND_PUNCT = "身份证居民办理申请（）()、，,<>&\"'８8abCT 　·"
TERM_CHARS = re.compile(r"[a-z0-9\u4e00-\u9fcc]+")


@given(st.text(alphabet=st.characters(), max_size=40), st.data())
def test_a_substring_of_a_text_normalises_to_a_substring_of_the_normalised_text(text, data):
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    assert search.normalize(text[start:end]) in search.normalize(text)


def test_normalisation_folds_width_case_and_drops_whitespace():
    assert search.normalize("居民 身份证（ＣＴ）８") == "居民身份证(ct)8"


@given(st.text(alphabet=st.characters(), max_size=40))
def test_normalised_characters_point_back_to_their_raw_characters(text):
    norm, origin = search_terms.normalize_mapped(text)
    assert norm == search.normalize(text)
    assert len(origin) == len(norm)
    assert origin == sorted(origin)
    assert all(search.normalize(text[i]).find(c) >= 0 for c, i in zip(norm, origin))


@given(st.text(alphabet=st.characters(), min_size=1, max_size=30))
def test_every_term_is_one_word_to_any_tokenizer(text):
    norm = search.normalize(text)
    for t in search_terms.bigram_terms(norm) + [search_terms.term(c) for c in norm] + search_terms.pinyin_terms(text):
        assert TERM_CHARS.fullmatch(t), t


def test_punctuation_bigrams_are_spelled_in_hex_and_chinese_bigrams_stay_plain():
    assert search_terms.bigram_terms("身份证") == ["身份", "份证"]
    assert search_terms.bigram_terms("(新") == ["x00002800" + "65b0"]
    assert search_terms.ngram_sequence("身份证明", 3) == ["身份证", "份证明"]


def test_pinyin_gives_full_spelling_and_initials_from_every_syllable():
    assert search_terms.pinyin_strings("居民身份证") == ("juminshenfenzheng", "jmsfz")
    terms = search_terms.pinyin_terms("居民身份证")
    assert {"pjuminshenfenzheng", "pjmsfz", "pshenfenzheng", "psfz", "pzheng", "pz"} <= set(terms)


def test_pinyin_keeps_ascii_letters_and_digits_and_skips_punctuation():
    assert search_terms.pinyin_strings("（CT）检查８") == ("ctjiancha8", "ctjc8")


@pytest.mark.parametrize("query, stripped", [
    ("办身份证", "身份证"), ("护照怎么办", "护照"), ("怎么办理护照", "护照"), ("申请低保", "低保"),
    ("我要办理结婚证", "结婚证"), ("低保申请需要什么材料", "低保"), ("办证", "办证"), ("办理", "办理"),
    ("居民身份证", "居民身份证"),
])
def test_colloquial_verbs_are_stripped_but_never_below_two_characters(query, stripped):
    assert synonyms.strip_colloquial(query) == stripped


def test_query_forms_keep_the_literal_first_then_stripped_and_synonyms():
    forms = synonyms.query_forms("办驾照", synonyms.DEFAULT_SYNONYMS)
    assert forms[0] == "办驾照"
    assert {"驾照", "驾驶证", "机动车驾驶证"} <= set(forms)


def test_an_expansion_already_in_the_query_is_not_applied_again():
    assert synonyms.expand("居民身份证", {"身份证": ["居民身份证"]}) == ["居民身份证"]


def test_default_synonyms_are_about_thirty_believable_pairs():
    table = synonyms.DEFAULT_SYNONYMS
    assert len(table) >= 30
    assert table["驾照"][0] == "驾驶证" and table["低保"] == ["最低生活保障"]
    for t, expansions in table.items():
        assert synonyms.check_synonym(t, expansions) == (t, expansions)


@pytest.mark.parametrize("term, expansions, path", [
    ("", ["a"], "term"), ("驾", ["驾驶证"], "term"), ("驾照", [], "expansions"), ("驾照", ["驾照"], "expansions"),
    ("驾照", "驾驶证", "expansions"), ("驾照", ["驾" * 33], "expansions"),
])
def test_a_malformed_synonym_is_rejected_naming_the_field(term, expansions, path):
    with pytest.raises(Invalid) as caught:
        synonyms.check_synonym(term, expansions)
    assert caught.value.code == "synonym_invalid"
    assert caught.value.details["errors"][0]["path"] == path


def test_an_empty_query_is_rejected_as_required():
    with pytest.raises(Invalid) as caught:
        search.analyze("  \u3000 ", {})
    assert caught.value.code == "query_required"


def test_an_overlong_query_is_rejected():
    with pytest.raises(Invalid) as caught:
        search.analyze("证" * 65, {})
    assert caught.value.code == "query_too_long"


def test_a_code_query_is_looked_up_as_a_code_not_as_pinyin():
    q = search.analyze("11410402mb1234567x4000104002000", {})
    assert q.code == "11410402MB1234567X4000104002000" and q.pinyin is None
    assert search.analyze("000104002000", {}).code == "000104002000"


def test_ascii_letters_are_searched_as_text_and_as_pinyin():
    q = search.analyze("SFZ", {})
    assert q.forms == ("sfz",) and q.pinyin == "sfz"
    plan = search_terms.fts5_plan(q)
    assert plan.slices[0] == (search_terms.TIER_NAME, '(name : (^"sf fz" OR "qsfz"*))')
    assert '"psfz"*' in plan.any and '"apsfz"*' in plan.any
    postgres = search_terms.postgres_plan(q)
    assert "'psfz':*" in postgres.any[1][0] and "'apsfz':*" in postgres.any[1][0]
    assert postgres.slices[0][1] == ("(d.name_norm LIKE %s OR d.terms @@ %s::tsquery)", ("sfz%", "'qsfz':*"))


def test_a_single_character_searches_names_and_aliases_only():
    q = search.analyze("证", {})
    plan = search_terms.fts5_plan(q)
    assert plan.any == '(name : ("证")) OR (alias : ("a证"))'
    assert plan.slices[0][1] == '(name : (^"证"*))' and '"boa a证"*' in plan.slices[2][1]
    assert search_terms.postgres_plan(q).any == ("d.terms @@ %s::tsquery", ("('证') | ('a证')",))


def test_a_longer_query_is_a_phrase_of_its_ngrams_in_every_ranked_slice():
    plan = search_terms.fts5_plan(search.analyze("身份证明", {}), ["r5116"])
    name, first = '(name : ("身份 份证 证明"))', '(name : (^"身份 份证 证明"))'
    alias, alias_first = '(alias : ("a身份 a份证 a证明"))', '(alias : ("boa a身份 a份证 a证明"))'
    text = '((body4 : "t身份证明"))'
    only = ' AND tags : "r5116"'
    assert plan.slices == (
        (0, f"({first}){only}"), (0, f"({name} NOT {first}){only}"),
        (1, f"({alias_first} NOT {name}){only}"), (1, f"({alias} NOT ({name} OR {alias_first})){only}"),
        (2, f"({text} NOT ({name} OR {alias})){only}"))
    assert plan.any == f"({name} OR {alias} OR {text}){only}"


def test_postgres_verifies_only_the_forms_its_terms_cannot_answer_exactly():
    two = search_terms.postgres_plan(search.analyze("户口", {}))
    assert two.any == ("d.terms @@ %s::tsquery", ("('户口') | ('a户口') | ('t户口')",))
    three = search_terms.postgres_plan(search.analyze("身份证", {}))
    assert three.any == (
        "(d.terms @@ %s::tsquery OR (d.terms @@ %s::tsquery AND strpos(d.name_norm, %s) > 0) "
        "OR (d.terms @@ %s::tsquery AND strpos(d.alias_norm, %s) > 0))",
        ("('t身份证')", "('身份' & '份证')", "身份证", "('a身份' & 'a份证')", "身份证"))
    four = search_terms.postgres_plan(search.analyze("身份证明", {}))
    assert "strpos(d.body, %s)" in four.any[0] and "('t身份证' & 't份证明')" in four.any[1]


def test_postgres_name_start_is_an_escaped_like_prefix_of_every_form():
    plan = search_terms.postgres_plan(search.analyze("办身份证", {"身份证": ["居民身份证"]}))
    assert plan.slices[0][1][1] == ("办身份证%", "办居民身份证%", "身份证%", "居民身份证%")
    assert search_terms.postgres_plan(search.analyze("a_%\\", {})).slices[0][1][1] == ("a\\_\\%\\\\%",)


@pytest.mark.parametrize("prefix, bounds", [("51", ("51", "52")), ("511602", ("511602", "511603")),
                                            ("511609", ("511609", "511610")), ("511602001", ("511602001", "511602002"))])
def test_a_postgres_region_filter_is_the_range_of_codes_with_the_prefix(prefix, bounds):
    assert search_terms.postgres_filters(prefix, None, None) == (
        "d.region_code >= %s AND d.region_code < %s", bounds)
    assert search_terms.postgres_filters("99", None, None) == ("d.region_code >= %s", ("99",))


def test_a_guide_text_query_is_one_term_up_to_four_characters_then_a_phrase_of_4_grams():
    def text_slice(q):
        return search_terms.fts5_plan(search.analyze(q, {})).slices[-1][1].split(" NOT ")[0]
    assert text_slice("材料") == '((body : "t材料"))'
    assert text_slice("申请材") == '((body3 : "t申请材"))'
    assert text_slice("居民身份证明") == '((body4 : "t居民身份 t民身份证 t身份证明"))'


def test_a_form_containing_another_form_is_searched_only_for_starting_with_it():
    plan = search_terms.fts5_plan(search.analyze("办身份证", {"身份证": ["居民身份证"]}))
    assert plan.any == '(name : ("身份 份证")) OR (alias : ("a身份 a份证")) OR ((body3 : "t身份证"))'
    first = plan.slices[0][1]
    assert '^"身份 份证"' in first and '^"居民 民身 身份 份证"' in first and '^"办身 身份 份证"' in first


def test_index_terms_keep_text_order_and_spell_each_field_its_own_way():
    terms = search_terms.field_terms("身份证", ["办证"], "甲乙丙\n丁戊", ["r51"])
    assert terms.name.split()[:5] == ["身份", "份证", "身", "份", "证"]
    assert {"pshenfenzheng", "psfz", "qshenfenzheng", "qsfz", "pzheng"} <= set(terms.name.split())
    assert terms.alias.split()[:4] == ["boa", "a办证", "a办", "a证"] and "apbz" in terms.alias.split()
    assert terms.body == "bos t甲乙 t乙丙 bos t丁戊" and terms.body3 == "bos t甲乙丙 bos"
    assert terms.body4 == "bos bos"
    assert terms.tags == "r51"


def test_tags_hold_every_region_prefix_the_org_and_service_objects():
    assert search_terms.tag_terms("511602000000", "11511602MB0000001X", ",person,social_org,") == [
        "r51", "r5116", "r511602", "o11511602mb0000001x", "sperson", "ssocialorg"]
    assert search_terms.tag_terms("511602001002", "c", "")[:5] == ["r51", "r5116", "r511602", "r511602001",
                                                             "r511602001002"]


@pytest.mark.parametrize("code, prefix", [
    ("510000", "51"), ("511600", "5116"), ("511602", "511602"), ("511602000000", "511602"),
    ("511602001000", "511602001"), ("511602001002", "511602001002"),
])
def test_a_region_filter_keeps_everything_under_the_region(code, prefix):
    assert search.region_prefix(code) == prefix


@pytest.mark.parametrize("code", ["5116", "51160a", "5116020000", None, ""])
def test_a_malformed_region_is_rejected(code):
    with pytest.raises(Invalid) as caught:
        search.region_prefix(code)
    assert caught.value.code == "invalid_region"


@pytest.mark.parametrize("page, size, code", [(0, 20, "invalid_page"), ("x", 20, "invalid_page"),
                                              (1, 0, "invalid_size"), (1, 101, "invalid_size")])
def test_bad_paging_is_rejected(page, size, code):
    with pytest.raises(Invalid) as caught:
        search.check_page(page, size)
    assert caught.value.code == code


def test_highlight_marks_the_match_and_escapes_the_rest():
    q = search.analyze("身份证", {})
    assert search.highlight("<b>居民身份证&办理</b>", q.forms) == "&lt;b&gt;居民<em>身份证</em>&amp;办理&lt;/b&gt;"


def test_highlight_marks_the_raw_characters_of_a_normalised_match():
    q = search.analyze("(新", {})
    assert search.highlight("许可（新办）", q.forms) == "许可<em>（新</em>办）"


@given(st.text(alphabet=CJK_AND_PUNCT, min_size=1, max_size=20), st.data())
def test_a_highlight_is_the_escaped_raw_text_with_one_marked_match(raw, data):
    start = data.draw(st.integers(0, len(raw) - 1))
    end = data.draw(st.integers(start + 1, len(raw)))
    form = search.normalize(raw[start:end])
    marked = search.highlight(raw, [form] if form else ["\0"])
    if not form:
        assert marked is None
        return
    assert marked.count("<em>") == 1 and marked.count("</em>") == 1
    inner = marked.split("<em>")[1].split("</em>")[0]
    assert form in search.normalize(html.unescape(inner))
    assert html.unescape(marked.replace("<em>", "").replace("</em>", "")) == raw


def test_pinyin_highlight_marks_the_characters_spelled():
    assert search.pinyin_highlight("居民身份证申领", "sfz") == "居民<em>身份证</em>申领"
    assert search.pinyin_highlight("居民身份证申领", "shenfenzh") == "居民<em>身份证</em>申领"
    assert search.pinyin_highlight("居民身份证申领", "xyz") is None


def test_a_guide_text_hit_shows_a_marked_snippet_of_its_line():
    body = "某某局\n" + "甲" * 30 + "无犯罪记录证明<原件>" + "乙" * 30
    got = search.snippet(body, ["无犯罪记录"])
    assert got == "…" + "甲" * 16 + "<em>无犯罪记录</em>证明&lt;原件&gt;" + "乙" * 10 + "…"


def test_badges_are_stable_codes_with_labels_in_a_fixed_order():
    doc = {"handling_type": "instant", "visits": 0, "online_depth": 4, "scope": "nationwide"}
    assert search.badges(doc) == [{"code": "instant", "label": "即办"}, {"code": "zero_visit", "label": "零跑动"},
                                  {"code": "full_online", "label": "全程网办"},
                                  {"code": "cross_province", "label": "跨省通办"}]
    assert search.badges({"scope": "cross_province"}) == [{"code": "cross_province", "label": "跨省通办"}]


def test_no_badge_without_its_condition():
    doc = {"handling_type": "promised", "visits": False, "online_depth": 3, "scope": "cross_city"}
    assert search.badges(doc) == []
    assert search.badges({}) == []


def test_the_entry_of_a_document_holds_guide_text_aliases_and_badges():
    doc = {"name": "居民身份证申领", "region_code": "511602", "aliases": ["办身份证", " ", 3],
           "org": {"credit_code": "11511602MB1234567X", "name": "广安区公安分局"},
           "service_objects": ["person", "nonsense"], "conditions": [{"id": "c1", "text": "年满 16 周岁"}],
           "materials": [{"id": "m1", "name": "户口簿"}], "faq": [{"id": "q1", "question": "多久", "answer": "20天"}],
           "handling_type": "instant"}
    fields = search.entry_fields("11511602MB1234567X4000104002000", doc)
    assert fields["aliases"] == ["办身份证"] and fields["alias_norm"] == "\n办身份证"
    assert fields["body"] == "广安区公安分局\n年满16周岁\n户口簿\n多久\n20天"
    assert fields["service_objects"] == ",person,"
    assert fields["name_initials"] == "jmsfzsl"
    assert fields["badges"] == [{"code": "instant", "label": "即办"}]


@pytest.mark.parametrize("path", ["name", "region_code", "org.credit_code", "org.name"])
def test_an_entry_without_a_required_field_is_rejected_naming_it(path):
    doc = {"name": "x", "region_code": "511602", "org": {"credit_code": "c", "name": "n"}}
    holder, key = (doc["org"], path[4:]) if path.startswith("org.") else (doc, path)
    del holder[key]
    with pytest.raises(Invalid) as caught:
        search.entry_fields("i" * 31, doc)
    assert caught.value.code == "search_entry_invalid"
    assert caught.value.details["errors"][0]["path"] == path


def test_postgres_terms_are_every_distinct_term_verbatim():
    literal = search_terms.tsvector_literal(search_terms.FieldTerms("身份 psfz", "a身份", "bos t身份", "bos"))
    assert literal == "'身份' 'psfz' 'a身份' 'bos' 't身份'"
