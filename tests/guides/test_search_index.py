"""The hall search index on real storage (SQLite FTS5 and PostgreSQL), over the real Guang'an item names."""
from __future__ import annotations

import csv
import functools
import random

import peewee
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from guides import hall_search, lexicon, search_exact
from guides import query as understanding
from guides import search as analysis
from guides import search_terms
from guides import search_index
from guides.synonyms import DEFAULT_SYNONYMS
from items.errors import Invalid, NotFound
from items.records import database
from name_index import containing

REGION = "511602000000"  # 广安市广安区, as the source writes it


def make_code(n: int) -> str:
    return f"1151{n:014d}"


def item_doc(name, *, org_code="11511602MB0000001X", org_name="广安区政务服务局", region="511602",
             aliases=(), conditions=(), materials=(), **local):
    return {"name": name, "region_code": region, "org": {"credit_code": org_code, "name": org_name},
            "aliases": list(aliases), "service_objects": local.pop("service_objects", ["person"]),
            "conditions": [{"id": f"c{i}", "text": t} for i, t in enumerate(conditions)],
            "materials": [{"id": f"m{i}", "name": t} for i, t in enumerate(materials)], **local}


def publish(n: int, name: str, **kw) -> str:
    impl = make_code(n) + "4" + f"{n:012d}"
    search_index.index_item(impl, item_doc(name, **kw), 1)
    return impl


def everything(q, **filters) -> tuple[list[dict], int]:
    """All hits of a query, page by page at the largest page size."""
    hits, page = [], 1
    while True:
        res = hall_search.search(q, page=page, size=analysis.MAX_PAGE_SIZE, **filters)
        hits += res["items"]
        if len(hits) >= res["total"] or not res["items"]:
            return hits, res["total"]
        page += 1


# ---- the real 1,135 Guang'an items ----------------------------------------------------------------

@pytest.fixture(scope="module")
def guangan_rows(external):
    with open(external / "sczwfw-guangan-items" / "items_flat.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 1135
    return rows


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def guangan_db(request, tmp_path_factory, guangan_rows, open_search_database):
    """Every Guang'an item published, the department as org name; yields (db, [(impl_code, name)])."""
    with open_search_database(request.param, tmp_path_factory.mktemp("guangan"), request) as db:
        departments = {d: i for i, d in enumerate(sorted({r["department"] for r in guangan_rows}))}
        items = []
        with db.atomic():
            for n, row in enumerate(guangan_rows):
                impl = make_code(departments[row["department"]]) + "4" + f"{n:012d}"
                doc = item_doc(row["name"], org_code=make_code(departments[row["department"]]),
                               org_name=row["department"], region=row["areaCode"])
                search_index.index_item(impl, doc, 1)
                items.append((impl, row["name"]))
        yield db, tuple(items)


@pytest.fixture
def guangan(guangan_db):
    db, items = guangan_db
    database.initialize(db)  # another test may have bound the proxy to its own database meanwhile
    return items


@functools.lru_cache(maxsize=4)
def normalized(items: tuple) -> tuple:
    return tuple((impl, analysis.normalize(name)) for impl, name in items)


@functools.lru_cache(maxsize=4)
def lexicon_of(db) -> dict:
    return {analysis.normalize(k): [analysis.normalize(v) for v in vs] for k, vs in search_index.synonym_table().items()}


def assert_finds_every_name_containing(q: str, items) -> None:
    hits, total = everything(q)
    found = [h["impl_code"] for h in hits]
    assert len(found) == total == len(set(found))
    wanted = containing(q, items)
    assert wanted <= set(found), (q, sorted(wanted - set(found))[:3])
    # Name matches of the query (or a form it stands for) come first, before alias and guide-text hits.
    forms = [f.text for f in understanding.understand(analysis.normalize(q), lexicon_of(database.obj), None)[0]]
    by_name = set().union(*(containing(f, normalized(items)) for f in forms))
    if analysis.analyze(q, {}).pinyin is None:
        assert set(found[:len(by_name)]) == by_name, q


def real_bigrams(items) -> list[str]:
    bigrams = sorted({name[i:i + 2] for _, name in items for i in range(len(name) - 1)})
    assert len(bigrams) > 5000
    return [q for q in bigrams if analysis.normalize(q)]


def test_two_character_substrings_of_real_names_find_every_item_containing_them(guangan):
    """On SQLite every bigram of the 1,135 names. The ranking runs in memory on either database; what
    PostgreSQL adds is loading the index from its rows and fetching each page, so there every fourth bigram
    and the first of every name (each item is asked for): an item loaded or fetched wrongly fails there as it
    would here, at under a third of the queries (5,000 searches' round trips made the slowest test)."""
    every = real_bigrams(guangan)
    queries = every
    if search_index.is_postgres(database.obj):
        firsts = {analysis.normalize(name)[:2] for _, name in guangan}
        queries = sorted(set(every[::4]) | (firsts & set(every)))
    for q in queries:
        assert_finds_every_name_containing(q, guangan)


def test_random_longer_substrings_of_real_names_find_every_item_containing_them(guangan):
    rng = random.Random(20250402)
    names = [name for _, name in guangan]
    queries = set()
    while len(queries) < 400:
        name = rng.choice(names)
        size = rng.randint(3, 6)
        if len(name) >= size:
            start = rng.randint(0, len(name) - size)
            queries.add(name[start:start + size])
    for q in sorted(queries):
        assert_finds_every_name_containing(q, guangan)


def test_whole_real_names_rank_the_item_itself_first(guangan):
    for impl, name in random.Random(7).sample(guangan, 60):
        if name in ("最低生活保障",):  # a synonym target: equal-length names tie on length alone
            continue
        first = hall_search.search(name, size=5)["items"][0]
        assert analysis.normalize(first["name"]) == analysis.normalize(name)
        assert first["highlight"].startswith("<em>")


def test_pinyin_initials_of_real_names_find_them(guangan):
    rng = random.Random(11)
    for impl, name in rng.sample(guangan, 80):
        han = [c for c in name if "\u4e00" <= c <= "\u9fff"]
        if len(han) < 4:
            continue
        start = rng.randint(0, len(han) - 3)
        _, initials = search_terms.pinyin_strings("".join(han[start:start + 3]))
        hits, _ = everything(initials)
        assert impl in {h["impl_code"] for h in hits}, (name, initials)


def test_full_pinyin_and_initials_find_identity_card_items(guangan):
    for q in ("sfz", "shenfenzheng", "jmsfz", "ShenFen"):
        items = hall_search.search(q, size=50)["items"]
        assert any(h["name"].startswith("居民身份证") for h in items), q
    top = hall_search.search("jmsfz", size=3)["items"][0]
    assert top["highlight"].startswith("<em>居民身份证</em>")


def test_a_single_character_finds_every_name_containing_it(guangan):
    for q in ("证", "（", "8", "８", "婚"):
        hits, _ = everything(q)
        wanted = {impl for impl, name in guangan if analysis.normalize(q) in analysis.normalize(name)}
        assert wanted == {h["impl_code"] for h in hits}, q


def test_colloquial_queries_and_synonyms_find_the_official_names(guangan):
    cases = {"驾照": "驾驶证", "办身份证": "居民身份证", "低保怎么办理": "最低生活保障", "户口": "户口",
             "我要申请教师资格证": "教师资格"}
    for q, official in cases.items():
        names = [h["name"] for h in hall_search.search(q, size=10)["items"]]
        assert names and all(official in n or q in n for n in names[:1]), (q, names)
        assert any(official in n for n in names), (q, names)


def test_a_region_filter_on_the_city_finds_the_county_items(guangan):
    total = hall_search.search("证明")["total"]
    assert total > 0
    assert hall_search.search("证明", region="511600")["total"] == total  # 广安市 → its 广安区
    assert hall_search.search("证明", region="510000")["total"] == total  # 四川省
    assert hall_search.search("证明", region="511602")["total"] == total
    assert hall_search.search("证明", region="511700")["total"] == 0  # 达州市
    assert hall_search.search("证明", region="511603")["total"] == 0  # 前锋区


def test_an_org_filter_keeps_one_department(guangan):
    impl, name = next((i, n) for i, n in guangan if "居民身份证" in n)
    hits, _ = everything("证", org=impl[:18])
    assert hits and all(h["impl_code"].startswith(impl[:18]) for h in hits)
    assert {h["org_name"] for h in hits} == {hits[0]["org_name"]}


# ---- one database per test ------------------------------------------------------------------------

def test_name_match_ranks_above_alias_above_guide_text_then_prefix_then_shorter(search_db):
    text = publish(1, "某某事项", conditions=["须持登记证明原件"])
    alias = publish(2, "户籍迁移", aliases=["办登记证明"])
    inside_long = publish(3, "临时婚姻登记证明补发")
    inside = publish(4, "婚姻登记证明")
    prefix_long = publish(5, "登记证明开具（含补开）")
    prefix = publish(6, "登记证明开具")
    hits = hall_search.search("登记证明")["items"]
    assert [h["impl_code"] for h in hits] == [prefix, prefix_long, inside, inside_long, alias, text]
    assert hits[0]["highlight"] == "<em>登记证明</em>开具"
    assert hits[4]["highlight"] == "办<em>登记证明</em>"
    assert hits[5]["highlight"] == "须持<em>登记证明</em>原件"


def test_the_org_name_is_searchable_as_guide_text(search_db):
    impl = publish(1, "某某事项", org_name="广安区退役军人事务局")
    hits = hall_search.search("退役军人")["items"]
    assert [h["impl_code"] for h in hits] == [impl]
    assert hits[0]["org_name"] == "广安区退役军人事务局"


def test_highlights_escape_html_in_names(search_db):
    publish(1, "<script>alert(1)</script>身份证&明")
    hit = hall_search.search("身份证&")["items"][0]
    assert hit["highlight"] == "&lt;script&gt;alert(1)&lt;/script&gt;<em>身份证&amp;</em>明"
    assert hit["name"] == "<script>alert(1)</script>身份证&明"


def test_results_carry_badges(search_db):
    publish(1, "护照签发", handling_type="instant", visits=0, online_depth=4, scope="cross_province")
    publish(2, "护照加注", handling_type="promised", visits=1, online_depth=2, scope=None)
    hits = {h["name"]: h["badges"] for h in hall_search.search("护照")["items"]}
    assert [b["code"] for b in hits["护照签发"]] == ["instant", "zero_visit", "full_online", "cross_province"]
    assert [b["label"] for b in hits["护照签发"]] == ["即办", "零跑动", "全程网办", "跨省通办"]
    assert hits["护照加注"] == []


def test_an_item_never_indexed_is_never_found(search_db):
    publish(1, "普通护照签发")
    # A draft exists elsewhere but the publish service never indexed it.
    assert hall_search.search("出入境通行证")["total"] == 0
    assert [h["name"] for h in hall_search.search("护照")["items"]] == ["普通护照签发"]


def test_a_removed_item_is_never_found_again(search_db):
    impl = publish(1, "普通护照签发", aliases=["办护照"])
    other = publish(2, "护照加注")
    assert search_index.remove_item(impl) is True
    for q in ("护照", "普通护照", "办护照", "hz", "putong", "护", impl):
        assert impl not in {h["impl_code"] for h in everything(q)[0]}, q
    assert [h["impl_code"] for h in hall_search.search("护照")["items"]] == [other]
    assert search_index.remove_item(impl) is False


def test_republishing_replaces_the_old_terms(search_db):
    impl = publish(1, "普通护照签发", aliases=["办护照"], conditions=["持户口簿"])
    search_index.index_item(impl, item_doc("居民身份证申领", conditions=["持户口本"]), 2)
    for q in ("护照", "签发", "户口簿", "hz", "办护照"):
        assert hall_search.search(q)["total"] == 0, q
    assert [h["impl_code"] for h in hall_search.search("身份证申")["items"]] == [impl]
    assert hall_search.search("户口本")["total"] == 1
    assert search_index.SearchDocRecord.get(impl_code=impl).published_version == 2


def test_a_document_without_a_name_is_not_indexed(search_db):
    with pytest.raises(Invalid) as caught:
        search_index.index_item("x" * 31, {"region_code": "511602", "org": {"credit_code": "c", "name": "n"}}, 1)
    assert caught.value.details["errors"][0]["path"] == "name"
    assert search_index.SearchDocRecord.select().count() == 0


def test_region_filter_accepts_twelve_digit_codes_on_both_sides(search_db):
    county = publish(1, "护照签发", region="511602000000")
    town = publish(2, "护照加注", region="511602001000")
    other_city = publish(3, "护照换发", region="511702")
    def found(region):
        return {h["impl_code"] for h in hall_search.search("护照", region=region)["items"]}
    assert found("511600") == {county, town}
    assert found("511602001000") == {town}
    assert found("510000") == {county, town, other_city}


def test_service_object_filter(search_db):
    person = publish(1, "护照签发", service_objects=["person"])
    firm = publish(2, "护照代办备案", service_objects=["enterprise", "social_org"])
    assert [h["impl_code"] for h in hall_search.search("护照", service_object="enterprise")["items"]] == [firm]
    assert [h["impl_code"] for h in hall_search.search("护照", service_object="person")["items"]] == [person]
    with pytest.raises(Invalid) as caught:
        hall_search.search("护照", service_object="alien")
    assert caught.value.code == "invalid_service_object"


def test_a_code_finds_its_item(search_db):
    impl = publish(1, "护照签发")
    publish(2, "护照加注")
    assert [h["impl_code"] for h in hall_search.search(impl.lower())["items"]] == [impl]
    assert [h["impl_code"] for h in hall_search.search(impl[-12:])["items"]] == [impl]


def test_pages_split_the_ranked_hits_and_keep_the_total(search_db):
    impls = {publish(n, "证明" + "甲" * n) for n in range(1, 8)}
    pages = [hall_search.search("证明", page=p, size=3) for p in (1, 2, 3, 4)]
    assert [len(p["items"]) for p in pages] == [3, 3, 1, 0]
    assert {p["total"] for p in pages} == {7} and [p["page"] for p in pages] == [1, 2, 3, 4]
    assert {h["impl_code"] for p in pages for h in p["items"]} == impls
    assert [h["name"] for h in pages[0]["items"]] == ["证明甲", "证明甲甲", "证明甲甲甲"]


def test_pages_run_on_across_ranked_slices(search_db):
    publish(1, "某某事项", conditions=["须持登记证明原件"])
    publish(2, "户籍迁移", aliases=["办登记证明"])
    publish(3, "户籍迁移补办", aliases=["婚姻登记证明补办"])
    publish(4, "婚姻登记证明")
    publish(5, "登记证明开具（含补开）")
    publish(6, "登记证明开具")
    ranked = [h["impl_code"] for h in hall_search.search("登记证明")["items"]]
    assert len(ranked) == 6
    for size in (1, 2, 4):
        paged = [h["impl_code"] for p in range(1, 8) for h in hall_search.search("登记证明", page=p, size=size)["items"]]
        assert paged == ranked, size
    assert hall_search.search("登记证明", page=9, size=1) == {"items": [], "total": 6, "total_exact": True, "page": 9,
                                                         "did_you_mean": None}


def test_the_previous_search_caps_its_total_marked_inexact_and_pages_stay_exact(search_db, monkeypatch):
    monkeypatch.setattr(analysis, "COUNT_CAP", 3)
    impls = [publish(n, "证明" + "甲" * n, conditions=["须持证明原件"] if n % 2 else ()) for n in range(1, 8)]
    publish(8, "某某事项", conditions=["须持证明原件"])
    first = search_exact.exact_search("证明", page=1, size=2)
    assert (first["total"], first["total_exact"]) == (3, False)
    pages = [search_exact.exact_search("证明", page=p, size=2) for p in range(1, 6)]
    assert [h["impl_code"] for p in pages for h in p["items"]][:7] == impls
    assert [len(p["items"]) for p in pages] == [2, 2, 2, 2, 0]
    assert [(p["total"], p["total_exact"]) for p in pages] == [(3, False)] * 4 + [(8, True)]
    assert (search_exact.exact_search("证明", size=100)["total"], search_exact.exact_search("证明", size=100)["total_exact"]) \
        == (8, True)
    # PostgreSQL past the cap walks the lowest ranks first; a walk too short for a slice falls back to its bitmap
    monkeypatch.setattr(search_exact._PostgresSlices, "WALK_ROWS", 3)
    assert [search_exact.exact_search("证明", page=p, size=2) for p in range(1, 6)] == pages
    monkeypatch.setattr(analysis, "COUNT_CAP", 8)
    assert search_exact.exact_search("证明", size=2)["total_exact"] is True


def test_the_total_counts_every_catalogue_item_found_exactly(search_db, monkeypatch):
    monkeypatch.setattr(analysis, "COUNT_CAP", 3)
    impls = [publish(n, "证明" + "甲" * n) for n in range(1, 8)]
    pages = [hall_search.search("证明", page=p, size=2) for p in range(1, 6)]
    assert [h["impl_code"] for p in pages for h in p["items"]] == impls
    assert {(p["total"], p["total_exact"]) for p in pages} == {(7, True)}


# SQLite only: PostgreSQL keeps the terms in a column of search_doc, so no separate table can go stale.
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_an_index_written_by_earlier_term_rules_is_rebuilt(search_db):
    impl = publish(1, "普通护照签发")
    search_db.execute_sql("DROP TABLE search_fts")
    search_db.execute_sql("CREATE VIRTUAL TABLE search_fts USING fts5(name, body, content='')")
    search_index.create_search_schema(search_db)
    assert [h["impl_code"] for h in hall_search.search("护照")["items"]] == [impl]


def test_bad_parameters_are_rejected_before_searching(search_db):
    for kwargs, code in (({"q": ""}, "query_required"), ({"q": "证明", "region": "5116"}, "invalid_region"),
                         ({"q": "证明", "size": 0}, "invalid_size"), ({"q": "证明", "page": 0}, "invalid_page")):
        with pytest.raises(Invalid) as caught:
            hall_search.search(**kwargs)
        assert caught.value.code == code


def test_synonyms_are_seeded_once_and_editable(search_db):
    seeded = {s["term"]: s["source"] for s in search_index.list_synonyms()}
    assert {t: seeded[t] for t in DEFAULT_SYNONYMS} == dict.fromkeys(DEFAULT_SYNONYMS, "default")
    assert set(seeded) == set(DEFAULT_SYNONYMS) | {e.term for e in lexicon.entries()}
    publish(1, "机动车驾驶证补领")
    publish(2, "机动车行驶证补领")
    assert [h["name"] for h in hall_search.search("驾照")["items"]][:1] == ["机动车驾驶证补领"]
    search_index.delete_synonym("驾照")
    assert hall_search.search("驾照")["total"] == 0
    assert search_index.set_synonym(" 车本 ", ["驾驶证", "行驶证", "驾驶证"]) == {
        "term": "车本", "expansions": ["驾驶证", "行驶证"], "source": "admin"}
    assert hall_search.search("车本")["total"] == 2
    search_index.set_synonym("车本", ["行驶证"])
    assert [h["name"] for h in hall_search.search("车本补领")["items"]][:1] == ["机动车行驶证补领"]
    search_index.create_search_schema(search_db)  # a restart must not bring 驾照 back
    assert "驾照" not in {s["term"] for s in search_index.list_synonyms()}
    with pytest.raises(NotFound) as caught:
        search_index.delete_synonym("驾照")
    assert caught.value.code == "synonym_not_found"


def test_rebuilding_the_index_keeps_every_hit(search_db):
    impls = [publish(1, "普通护照签发", aliases=["办护照"]), publish(2, "护照加注", conditions=["普通护照原件"])]
    before = [h["impl_code"] for h in hall_search.search("普通护照")["items"]]
    assert search_index.rebuild_index() == 2
    assert [h["impl_code"] for h in hall_search.search("普通护照")["items"]] == before == impls


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.text(alphabet="身份证明（）()、,<&>ab８8 居", min_size=1, max_size=12), min_size=1, max_size=6),
       st.data())
def test_any_substring_of_any_indexed_name_finds_it(search_db, names, data):
    names = [n for n in names if analysis.normalize(n)]
    if not names:
        return
    impls = [publish(n, name) for n, name in enumerate(names)]
    try:
        name = data.draw(st.sampled_from(names))
        start = data.draw(st.integers(0, len(name) - 1))
        q = name[start:data.draw(st.integers(start + 1, len(name)))]
        if analysis.normalize(q):
            found = {h["impl_code"] for h in everything(q)[0]}
            wanted = {i for i, n in zip(impls, names) if analysis.normalize(q) in analysis.normalize(n)}
            assert wanted <= found
    finally:
        for impl in impls:
            search_index.remove_item(impl)


# ---- the benchmark's bulk build ---------------------------------------------------------------------

def index_snapshot(db) -> tuple[list, list]:
    """Every stored column but the time of indexing, and every index term with its place."""
    columns = [f.column_name for f in search_index.SearchDocRecord._meta.sorted_fields if f.name != "indexed_at"]
    rows = db.execute_sql(f"SELECT {', '.join(columns)} FROM search_doc ORDER BY id").fetchall()
    if isinstance(db, peewee.SqliteDatabase):
        db.execute_sql("CREATE VIRTUAL TABLE IF NOT EXISTS temp.fts_terms USING fts5vocab(main, search_fts, instance)")
        terms = db.execute_sql("SELECT term, doc, col, offset FROM temp.fts_terms ORDER BY 1, 2, 3, 4").fetchall()
    else:
        terms = db.execute_sql("SELECT id, terms::text FROM search_doc ORDER BY id").fetchall()
    return rows, terms


def test_the_benchmark_bulk_build_writes_the_rows_and_terms_index_item_writes(
        search_db, tmp_path, request, open_search_database, guangan_rows):
    from scripts.bench import bench_search

    docs = list(bench_search.documents(guangan_rows, 400, random.Random(3)))
    for impl, doc in docs:
        search_index.index_item(impl, doc, 1)
    expected = index_snapshot(search_db)
    kind = "sqlite" if isinstance(search_db, peewee.SqliteDatabase) else "postgresql"
    with open_search_database(kind, tmp_path / "bulk", request) as bulk_db:
        assert bench_search.bulk_build(docs) == 400
        got = index_snapshot(bulk_db)
        impl = search_index.SearchDocRecord.get(id=400).impl_code
        search_index.index_item(impl, docs[-1][1], 2)  # the id sequence follows the bulk ids
        search_index.index_item(make_code(9) + "4" + "9" * 12, item_doc("新事项"), 1)
        assert search_index.SearchDocRecord.select(peewee.fn.max(search_index.SearchDocRecord.id)).scalar() == 401
    database.initialize(search_db)
    assert len(expected[0]) == 400 and len(expected[1]) >= 400
    assert got == expected


def test_warming_loads_the_index_so_the_first_search_does_not_load_it(guangan_db, guangan):
    db, items = guangan_db
    hall_search._STATES.pop(db, None)  # as in a process just started
    hall_search.start_warming()
    assert hall_search.warming() == "loading"
    hall_search.warm()
    assert hall_search.warming() == "ok"
    state = hall_search._STATES[db]
    loaded, seen = state.index, state.seen
    assert seen >= 0 and len(loaded.concepts) > 1000
    found = hall_search.search(items[0][1])
    assert found["total"] >= 1 and state.index is loaded and state.seen == seen


def test_the_change_log_is_pruned_and_a_process_behind_it_loads_everything_again(search_db, monkeypatch):
    monkeypatch.setattr(search_index, "PRUNE_EVERY", 4)
    monkeypatch.setattr(search_index, "CHANGES_KEPT", 3)
    publish(1, "护照签发")
    assert [h["name"] for h in hall_search.search("护照")["items"]] == ["护照签发"]  # this process has seen it

    for n in range(2, 12):  # ten more changes while this process does not search: the log is pruned twice
        publish(n, f"第{n}类营业执照核发")
    rows = search_index.SearchChangeRecord.select().count()
    assert rows <= 3 + 4  # at most CHANGES_KEPT plus the changes since the last pruning

    found = everything("营业执照")[0]
    assert len(found) == 10  # the changes pruned before this process read them are not lost
    assert [h["name"] for h in hall_search.search("护照")["items"]] == ["护照签发"]
