"""Reform-office statistics: hand-computed figures, exact roll-ups, rankings, comparisons and exports."""
from __future__ import annotations

import copy
import csv
import io
import sqlite3
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from items.errors import Invalid
from items.metrics import (
    FACT_COLUMNS, FACT_NAMES, ROW_METRICS, SCOPES, Totals, case_figures, compare, counts_in_statistics,
    impact_on_ratio, item_facts, rank, row,
)
from items.stats_export import STAT_COLUMNS, to_csv


def limit(value, unit="workday"):
    return {"value": value, "unit": unit, "note": ""}


def material(necessity, e_license=""):
    return {"id": "m", "name": "材料", "necessity": necessity, "source": "applicant", "form": "both",
            "originals": 1, "copies": 0, "e_license": e_license, "note": ""}


def item(**fields):
    doc = {"state": "in_use", "legal_limit": limit(10), "promised_limit": limit(5), "handling_type": "promised",
           "visits": 1, "online_depth": 3, "scope": None, "commitment": False, "materials": []}
    doc.update(fields)
    return doc


# Eight items chosen so every figure below can be checked by hand (see docs/statistics.md).
EIGHT = {
    "i1": item(legal_limit=None, promised_limit=limit(3), visits=2, online_depth=2,   # no legal limit
               materials=[material("required")]),
    "i2": item(legal_limit=limit(28, "calendar_day"), promised_limit=limit(14, "calendar_day"),   # 20 → 10 wd
               scope="cross_county"),
    "i3": item(legal_limit=limit(5), promised_limit=limit(0), handling_type="instant", online_depth=2,
               scope="nationwide"),
    "i4": item(legal_limit=limit(20), promised_limit=limit(4), visits=0, online_depth=4, scope="cross_province",
               materials=[material("required", "居民身份证"), material("required")]),
    "i5": item(legal_limit=limit(15), promised_limit=limit(15), commitment=True, scope="cross_city"),
    "i6": item(legal_limit=limit(10), promised_limit=limit(2), visits=0, scope="cross_city",   # certificate-free
               materials=[material("required", "居民身份证"), material("required", "营业执照"), material("optional")]),
    "i7": item(legal_limit=limit(8), promised_limit=limit(6), visits=2, online_depth=1,
               materials=[material("optional", "居民身份证")]),
    "i8": item(legal_limit=limit(12), promised_limit=None, visits=3, online_depth=1),   # no promised limit
}
FACTS = {key: item_facts(doc) for key, doc in EIGHT.items()}


def test_every_figure_of_eight_items_matches_the_hand_computation():
    # legal 20+5+20+15+10+8 = 78, promised 10+0+4+15+2+6 = 37 working days over items i2..i7;
    # per-item ratios 1/2, 1, 4/5, 0, 4/5, 1/4 sum to 67/20 over 6 items.
    assert row("all", "全部", Totals.of(FACTS.values())) == {
        "key": "all", "label": "全部", "items": 8,
        "instant": 1, "instant_ratio": float(Fraction(1, 8)),
        "with_limits": 6, "legal_days": 78.0, "promised_days": 37.0,
        "compression_ratio": float(Fraction(41, 78)), "compression_mean": float(Fraction(67, 120)),
        "excluded_no_legal_limit": 1, "excluded_no_promised_limit": 1,
        "visits_at_most_one": 5, "visits_at_most_one_ratio": 0.625,
        "zero_visit": 2, "zero_visit_ratio": 0.25,
        "full_online": 1, "full_online_ratio": 0.125,
        "online_capable": 6, "online_capable_ratio": 0.75,
        "commitment": 1, "commitment_ratio": 0.125,
        "certificate_free": 1, "certificate_free_ratio": 0.125,
        "nationwide": 1, "cross_province": 1, "cross_city": 2, "cross_county": 1,
    }


def test_row_carries_every_contract_field():
    contract = {"key", "label", "items", "instant", "instant_ratio", "with_limits", "legal_days", "promised_days",
                "compression_ratio", "compression_mean", "excluded_no_legal_limit", "visits_at_most_one",
                "zero_visit", "full_online", "commitment", "certificate_free"}
    assert contract <= set(row("k", "l", Totals()))


def test_calendar_days_count_as_five_sevenths_of_a_working_day():
    facts = FACTS["i2"]
    assert (facts.legal_units, facts.promised_units) == (20 * 700, 10 * 700)
    ten_calendar_days = item_facts(item(legal_limit=limit(10, "calendar_day")))
    assert row("k", "l", Totals.of([ten_calendar_days]))["legal_days"] == float(Fraction(50, 7))


def test_mixed_units_compare_in_working_days():
    facts = item_facts(item(legal_limit=limit(14, "calendar_day"), promised_limit=limit(5)))   # 10 wd vs 5 wd
    assert facts.compression_nano == 500_000_000


def test_half_days_are_kept_exactly():
    facts = item_facts(item(legal_limit=limit(2), promised_limit=limit(0.5)))
    assert facts.promised_units == 350 and facts.compression_nano == 750_000_000


def test_unit_defaults_to_working_days():
    assert item_facts(item(legal_limit={"value": 3})).legal_units == 2100


def test_item_without_legal_limit_is_counted_as_left_out_of_compression():
    assert FACTS["i1"].excluded_no_legal_limit == 1
    assert (FACTS["i1"].with_limits, FACTS["i1"].legal_units, FACTS["i1"].promised_units) == (0, 0, 0)


@pytest.mark.parametrize("legal", [limit(500), limit(0), {"value": None, "unit": "workday"}])
def test_sentinel_zero_and_empty_legal_limits_mean_no_legal_limit(legal):
    assert item_facts(item(legal_limit=legal)).excluded_no_legal_limit == 1


def test_the_no_limit_sentinel_is_configurable():
    facts = item_facts(item(legal_limit=limit(500)), no_limit_sentinel=None)
    assert facts.with_limits == 1 and facts.legal_units == 500 * 700


def test_promised_above_legal_gives_an_honest_negative_ratio():
    facts = item_facts(item(legal_limit=limit(10), promised_limit=limit(15)))
    assert facts.compression_nano == -500_000_000
    assert row("k", "l", Totals.of([facts]))["compression_ratio"] == -0.5


def test_item_with_legal_but_no_promised_limit_is_left_out_separately():
    assert (FACTS["i8"].excluded_no_legal_limit, FACTS["i8"].excluded_no_promised_limit) == (0, 1)


def test_certificate_free_needs_every_required_material_from_e_licences():
    assert [key for key, f in FACTS.items() if f.certificate_free] == ["i6"]


def test_item_with_only_optional_materials_is_not_certificate_free():
    assert item_facts(item(materials=[material("optional", "居民身份证")])).certificate_free == 0
    assert item_facts(item(materials=[])).certificate_free == 0


def test_deferrable_material_does_not_block_certificate_free():
    doc = item(materials=[material("required", "营业执照"), material("deferrable")])
    assert item_facts(doc).certificate_free == 1


def test_zero_visit_full_online_item_counts_in_every_visit_and_online_figure():
    f = FACTS["i4"]
    assert (f.zero_visit, f.visits_at_most_one, f.full_online, f.online_capable) == (1, 1, 1, 1)


def test_only_in_use_items_count():
    assert counts_in_statistics(item()) and not counts_in_statistics(item(state="suspended"))


@pytest.mark.parametrize(("field", "value", "code"), [
    ("legal_limit", limit(3, "month"), "unknown_time_unit"),
    ("promised_limit", limit(-1), "malformed_time_limit"),
    ("promised_limit", limit("5"), "malformed_time_limit"),
    ("promised_limit", limit(float("nan")), "malformed_time_limit"),
    ("legal_limit", 15, "malformed_time_limit"),
    ("visits", -1, "malformed_visits"),
    ("online_depth", True, "malformed_online_depth"),
])
def test_unreadable_fields_are_rejected_with_the_field_named(field, value, code):
    with pytest.raises(Invalid) as caught:
        item_facts(item(**{field: value}))
    assert caught.value.code == code and caught.value.details["errors"][0]["path"].startswith(f"/{field}")


def test_empty_group_has_null_ratios():
    empty = row("k", "l", Totals())
    assert empty["items"] == 0
    assert all(empty[name] is None for name in ROW_METRICS if name.endswith(("_ratio", "_mean")))


# --- roll-ups -------------------------------------------------------------------------------------------

limits = st.none() | st.builds(limit, st.integers(0, 60) | st.sampled_from([0.5, 1.5, 2.25]),
                               st.sampled_from(["workday", "calendar_day"]))
docs = st.builds(
    item, legal_limit=limits, promised_limit=limits,
    handling_type=st.sampled_from(["instant", "promised"]), visits=st.none() | st.integers(0, 4),
    online_depth=st.none() | st.integers(1, 4), scope=st.sampled_from([None, *SCOPES]), commitment=st.booleans(),
    materials=st.lists(st.builds(material, st.sampled_from(["required", "optional", "deferrable"]),
                                 st.sampled_from(["", "居民身份证"])), max_size=3),
)


@given(docs)
def test_each_item_is_either_compared_or_counted_as_left_out(doc):
    f = item_facts(doc)
    assert f.with_limits + f.excluded_no_legal_limit + f.excluded_no_promised_limit == f.items == 1


@given(st.lists(st.tuples(docs, st.integers(0, 3)), max_size=30))
def test_merged_group_totals_equal_the_totals_of_all_items(assigned):
    groups = {}
    for doc, group in assigned:
        groups.setdefault(group, Totals()).add(item_facts(doc))
    merged = Totals()
    for totals in groups.values():
        merged = merged.merge(totals)
    everything = Totals.of(item_facts(doc) for doc, _ in assigned)
    assert merged == everything
    assert row("all", "", merged) == row("all", "", everything)


@given(st.lists(st.lists(docs, min_size=1, max_size=8), min_size=1, max_size=4))
def test_a_rolled_up_share_lies_between_its_groups_shares(groups):
    rows = [row(i, "", Totals.of(map(item_facts, g))) for i, g in enumerate(groups)]
    rolled = row("all", "", Totals.of(item_facts(d) for g in groups for d in g))
    for name in ("instant_ratio", "zero_visit_ratio", "full_online_ratio"):
        assert min(r[name] for r in rows) <= rolled[name] <= max(r[name] for r in rows)


def test_rolled_up_ratio_is_a_ratio_of_sums_not_a_mean_of_group_ratios():
    county_a = Totals.of([FACTS["i3"]])                                   # 1 of 1 instant
    county_b = Totals.of([FACTS["i2"], FACTS["i4"], FACTS["i5"]])         # 0 of 3 instant
    city = row("city", "", county_a.merge(county_b))
    mean_of_ratios = (row("a", "", county_a)["instant_ratio"] + row("b", "", county_b)["instant_ratio"]) / 2
    assert city["instant_ratio"] == 0.25 and mean_of_ratios == 0.5


def test_sql_sums_of_fact_columns_give_the_same_totals():
    names = [name for name, _ in FACT_COLUMNS]
    assert tuple(names) == FACT_NAMES and all(kind is int for _, kind in FACT_COLUMNS)
    db = sqlite3.connect(":memory:")
    db.row_factory = sqlite3.Row
    db.execute(f"CREATE TABLE facts (grp TEXT, {', '.join(f'{n} INTEGER' for n in names)})")
    for key, facts in FACTS.items():
        db.execute(f"INSERT INTO facts VALUES (?, {', '.join('?' * len(names))})", (key[-1] in "1357", *facts))
    sums = ", ".join(f"SUM({n}) AS {n}" for n in names)
    by_group = {r["grp"]: Totals.from_sums(dict(r)) for r in db.execute(f"SELECT grp, {sums} FROM facts GROUP BY grp")}
    assert by_group["1"].merge(by_group["0"]) == Totals.of(FACTS.values())
    assert Totals.from_sums(dict(db.execute(f"SELECT {sums} FROM facts WHERE 0").fetchone())) == Totals()


def test_sums_read_from_postgres_numeric_are_accepted():
    sums = {name: Decimal(value) for name, value in Totals.of(FACTS.values()).sums.items()}
    assert Totals.from_sums(sums) == Totals.of(FACTS.values())


@pytest.mark.parametrize(("sums", "code"), [
    ({}, "missing_fact_column"),
    ({**dict.fromkeys(FACT_NAMES, 0), "legal_units": 1.5}, "non_integer_sum"),
])
def test_sums_that_do_not_fit_the_fact_columns_are_rejected(sums, code):
    with pytest.raises(Invalid) as caught:
        Totals.from_sums(sums)
    assert caught.value.code == code


# --- rankings, drill-down, comparison --------------------------------------------------------------------

def group_row(key, instant, items):
    return {**row(key, f"部门{key}", Totals()), "items": items, "instant": instant,
            "instant_ratio": instant / items if items else None}


def test_ranking_leaves_out_small_groups_and_ties_share_a_rank():
    rows = [group_row("a", 6, 10), group_row("b", 9, 10), group_row("c", 3, 5), group_row("d", 2, 2),
            group_row("e", 5, 10)]
    result = rank(rows, "instant_ratio", min_items=5)
    assert [(r["key"], r["rank"]) for r in result["ranked"]] == [("b", 1), ("a", 2), ("c", 2), ("e", 4)]
    assert [(r["key"], r["reason"]) for r in result["unranked"]] == [("d", "too_few_items")]


def test_ascending_ranking_puts_the_smallest_first():
    rows = [group_row("a", 6, 10), group_row("b", 9, 10)]
    assert [r["key"] for r in rank(rows, "instant_ratio", 0, descending=False)["ranked"]] == ["a", "b"]


def test_group_without_a_value_is_unranked():
    result = rank([row("x", "", Totals.of([FACTS["i1"]]))], "compression_ratio", min_items=1)
    assert result["ranked"] == [] and result["unranked"][0]["reason"] == "no_value"


@pytest.mark.parametrize(("by", "min_items", "code"), [("speed", 1, "unknown_metric"),
                                                       ("items", -1, "invalid_min_items")])
def test_ranking_rejects_unknown_metric_and_negative_minimum(by, min_items, code):
    with pytest.raises(Invalid) as caught:
        rank([], by, min_items)
    assert caught.value.code == code


def test_making_each_item_instant_would_move_the_share_by_one_eighth():
    impacts = impact_on_ratio(FACTS, "instant_ratio")
    assert [i["key"] for i in impacts] == ["i1", "i2", "i4", "i5", "i6", "i7", "i8"]
    assert {(i["impact"], i["ratio_if_fixed"]) for i in impacts} == {(0.125, 0.25)}


def test_compression_impact_is_the_items_promised_days_over_all_legal_days():
    impacts = impact_on_ratio(list(FACTS.items()), "compression_ratio")
    assert [(i["key"], i["impact"]) for i in impacts] == [
        ("i5", float(Fraction(15, 78))), ("i2", float(Fraction(10, 78))), ("i7", float(Fraction(6, 78))),
        ("i4", float(Fraction(4, 78))), ("i6", float(Fraction(2, 78)))]
    assert impacts[0]["ratio_if_fixed"] == float(Fraction(56, 78))


def test_compression_impact_matches_recomputing_with_the_item_fixed():
    for impact in impact_on_ratio(FACTS, "compression_ratio"):
        docs = copy.deepcopy(EIGHT)
        docs[impact["key"]]["promised_limit"] = limit(0)
        assert row("", "", Totals.of(map(item_facts, docs.values())))["compression_ratio"] == impact["ratio_if_fixed"]


def test_compression_mean_impact_brings_the_items_ratio_to_one():
    impacts = impact_on_ratio(FACTS, "compression_mean")
    assert [(i["key"], i["impact"]) for i in impacts] == [
        ("i5", float(Fraction(1, 6))), ("i7", float(Fraction(1, 8))), ("i2", float(Fraction(1, 12))),
        ("i4", float(Fraction(1, 30))), ("i6", float(Fraction(1, 30)))]


def test_impact_of_an_unknown_metric_is_rejected():
    with pytest.raises(Invalid) as caught:
        impact_on_ratio(FACTS, "legal_days")
    assert caught.value.code == "unknown_metric"


def test_comparison_gives_before_after_and_delta_per_group():
    before = [row("410402", "卫东区", Totals.of([FACTS["i2"], FACTS["i3"]])),
              row("410403", "新华区", Totals.of([FACTS["i7"]]))]
    after = [row("410402", "卫东区", Totals.of([FACTS["i2"], FACTS["i3"], FACTS["i4"], FACTS["i6"]])),
             row("410404", "石龙区", Totals.of([FACTS["i5"]]))]
    result = {entry["key"]: entry for entry in compare(before, after)}
    assert list(result) == ["410402", "410403", "410404"]
    assert result["410402"]["items"] == {"before": 2, "after": 4, "delta": 2}
    assert result["410402"]["zero_visit_ratio"] == {"before": 0.0, "after": 0.5, "delta": 0.5}
    assert result["410403"]["items"] == {"before": 1, "after": None, "delta": None}
    assert result["410404"]["label"] == "石龙区" and result["410404"]["commitment"]["after"] == 1


def test_comparison_rejects_a_group_listed_twice():
    one = row("k", "", Totals())
    with pytest.raises(Invalid) as caught:
        compare([one, one], [])
    assert caught.value.code == "duplicate_row_key"


# --- case-level figures ------------------------------------------------------------------------------------

def test_case_figures_are_computed_from_counts():
    figures = case_figures(40, 38, {"very_satisfied": 30, "satisfied": 5, "basic": 2, "dissatisfied": 2,
                                    "very_dissatisfied": 1}, 2)
    assert figures == {
        "finished": 40, "finished_on_time": 38, "on_time_ratio": 0.95,
        "ratings": 40, "ratings_by_level": {"very_satisfied": 30, "satisfied": 5, "basic": 2,
                                           "dissatisfied": 2, "very_dissatisfied": 1},
        "satisfied": 35, "satisfied_ratio": 0.875, "bad": 3, "bad_ratio": 0.075,
        "bad_rectified": 2, "rectification_ratio": float(Fraction(2, 3)),
    }


def test_case_figures_without_cases_have_null_ratios():
    figures = case_figures(0, 0, {}, 0)
    assert figures["ratings"] == 0
    assert [figures[k] for k in ("on_time_ratio", "satisfied_ratio", "bad_ratio", "rectification_ratio")] == [None] * 4


def test_satisfied_levels_can_include_basic_where_a_province_counts_it():
    figures = case_figures(1, 1, {"basic": 1, "dissatisfied": 1}, 0,
                           satisfied_levels=("very_satisfied", "satisfied", "basic"))
    assert figures["satisfied_ratio"] == 0.5


@pytest.mark.parametrize(("args", "code"), [
    ((1, 2, {}, 0), "count_exceeds_total"),
    ((1, 1, {"dissatisfied": 1}, 2), "count_exceeds_total"),
    ((-1, 0, {}, 0), "invalid_count"),
    ((1, 1, {"great": 1}, 0), "unknown_rating_level"),
])
def test_inconsistent_case_counts_are_rejected(args, code):
    with pytest.raises(Invalid) as caught:
        case_figures(*args)
    assert caught.value.code == code


# --- exports ------------------------------------------------------------------------------------------------

def test_every_export_column_is_a_row_field():
    assert [c.field for c in STAT_COLUMNS][:2] == ["key", "label"]
    assert {c.field for c in STAT_COLUMNS[2:]} == set(ROW_METRICS)
    assert all(c.percent == c.field.endswith(("_ratio", "_mean")) for c in STAT_COLUMNS)


def exported():
    result = {"as_of": "2024-06-30", "group_by": "region", "filters": {"item_type": "01", "region": None},
              "rows": [row("410402", "卫东区", Totals.of([FACTS[k] for k in ("i1", "i2", "i3")])),
                       row("410403", "=新华区", Totals.of([FACTS[k] for k in ("i4", "i5", "i6", "i7", "i8")]))],
              "total": row("4104", "平顶山市", Totals.of(FACTS.values()))}
    return to_csv(result)


def test_csv_starts_with_a_bom_and_a_header_block():
    text = exported()
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text[1:])))
    assert lines[1] == ["统计日期", "2024-06-30"]
    assert lines[2] == ["分组方式", "区划"]
    assert lines[3] == ["筛选条件", "事项类型=01"]
    assert lines[5] == [] and lines[6] == [c.header for c in STAT_COLUMNS]
    assert lines[6][2:9] == ["事项数", "即办件数", "即办件占比", "有法定及承诺时限事项数", "法定时限(工作日)合计",
                             "承诺时限合计", "法定时限压缩比"]


def test_csv_rows_and_totals_row_are_formatted_for_excel():
    lines = list(csv.reader(io.StringIO(exported()[1:])))
    table = [dict(zip(lines[6], line)) for line in lines[7:]]
    assert len(table) == 3
    first, second, total = table
    # 卫东区: i1 (no legal limit), i2 (20→10 wd), i3 (instant 5→0): compression 15/25, mean (1/2+1)/2
    assert (first["代码"], first["事项数"], first["即办件占比"]) == ("410402", "3", "33.33%")
    assert (first["法定时限(工作日)合计"], first["法定时限压缩比"], first["压缩比(逐项平均)"]) == ("25", "60.00%", "75.00%")
    assert second["名称"] == "'=新华区"
    assert (total["代码"], total["名称"], total["事项数"], total["法定时限压缩比"]) == ("合计", "", "8", "52.56%")
    assert (total["无法定时限未计入"], total["免证办占比"]) == ("1", "12.50%")


def test_csv_prints_fractional_days_to_two_places_and_empty_for_null():
    result = {"as_of": "2024-01-01", "group_by": "org", "rows": [
        row("a", "甲", Totals.of([item_facts(item(legal_limit=limit(10, "calendar_day")))])),
        row("b", "乙", Totals())], "total": None}
    lines = list(csv.reader(io.StringIO(to_csv(result)[1:])))
    first, empty = (dict(zip(lines[6], line)) for line in lines[7:])
    assert first["法定时限(工作日)合计"] == "7.14" and lines[3] == ["筛选条件", "无"]
    assert empty["事项数"] == "0" and empty["即办件占比"] == ""
