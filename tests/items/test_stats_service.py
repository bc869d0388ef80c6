"""Statistics service on real storage: items published through the workflow, every figure by hand."""
from __future__ import annotations

import datetime as dt
import io
from fractions import Fraction

import pytest
from harness import make_settings
from openpyxl import load_workbook

from items import codes, metrics, stats, stats_export, store
from items.errors import Conflict, Forbidden, Invalid, Malformed
from items.scope import Actor
from items.stats import StatsQuery, end_of_day

ADMIN = Actor(username="admin", role="province_admin")
SHANGHAI = dt.timezone(dt.timedelta(hours=8))

REGIONS = [("410000", "河南省", None, "2"), ("410300", "洛阳市", "410000", "3"), ("410302", "老城区", "410300", "4"),
           ("410400", "平顶山市", "410000", "3"), ("410402", "卫东区", "410400", "4"),
           ("410411", "湛河区", "410400", "4")]
ORGS = {  # key → (credit code prefix of 17, name, region, level)
    "A": ("11410402MB0000001", "卫东区住房和城乡建设局", "410402", "4"),
    "B": ("11410402MB0000002", "卫东区市场监督管理局", "410402", "4"),
    "C": ("11410411MB0000003", "湛河区住房和城乡建设局", "410411", "4"),
    "D": ("11410400MB0000004", "平顶山市住房和城乡建设局", "410400", "3"),
    "E": ("11410302MB0000005", "老城区住房和城乡建设局", "410302", "4"),
}
CREDIT = {key: codes.make_credit_code(prefix) for key, (prefix, *_rest) in ORGS.items()}


def limit(value, unit="workday"):
    return {"value": value, "unit": unit, "note": ""}


def catalogue_item(basic_code, name, legal, levels, service_objects, materials=()):
    return {"basic_code": basic_code, "name": name, "item_type": basic_code[2:4],
            "basis": [{"id": "b1", "kind": "法律", "title": f"{name}条例", "article": "第一条", "text": "……"}],
            "levels": levels, "state": "in_use", "legal_limit": legal, "service_objects": service_objects,
            "conditions": [], "materials": list(materials), "process": [], "fees": [], "faq": []}


E_LICENCE = {"id": "m1", "name": "营业执照", "necessity": "required", "source": "government", "form": "electronic",
             "originals": 0, "copies": 0, "e_license": "营业执照", "note": ""}
PAPER = {"id": "m1", "name": "申请表", "necessity": "required", "source": "applicant", "form": "paper",
         "originals": 1, "copies": 0, "e_license": "", "note": ""}
CATALOGUE = {
    "K1": catalogue_item("000104001000", "施工许可", limit(20), ["3", "4"], ["enterprise"], [E_LICENCE]),
    "K2": catalogue_item("000104002000", "商品房预售许可", limit(28, "calendar_day"), ["3", "4"],
                         ["person", "enterprise"], [PAPER]),
    "K3": catalogue_item("002004001000", "住房政策咨询", None, ["3", "4"], ["person"]),   # no legal limit
    "K4": catalogue_item("000704001000", "房屋登记确认", limit(10), ["4"], ["person"]),   # suspended later
    "K5": catalogue_item("000104003000", "拆除工程备案", limit(15), ["4"], ["enterprise"]),   # withdrawn
    "K6": catalogue_item("000104004000", "资质核准", limit(5), ["4"], ["enterprise"]),   # stays a draft
    "K7": catalogue_item("000104005000", "规划许可", limit(60), ["3"], ["enterprise"]),
}
# The local elements of each item: (org, catalogue item, changes to the claimed version).
ITEMS = {
    "i1": ("A", "K1", {"promised_limit": limit(5), "visits": 1, "online_depth": 3}),
    "i2": ("A", "K2", {"promised_limit": limit(14, "calendar_day"), "visits": 0, "online_depth": 4,
                       "channels": ["pc", "mobile"], "scope": "cross_province"}),
    "i3": ("B", "K3", {"promised_limit": limit(0), "handling_type": "instant", "visits": 1, "online_depth": 2,
                       "commitment": True}),
    "i4": ("C", "K1", {"promised_limit": limit(0), "handling_type": "instant", "visits": 1, "online_depth": 3}),
    "i5": ("D", "K7", {"promised_limit": limit(30), "visits": 2, "online_depth": 1}),
    "i6": ("E", "K2", {"promised_limit": limit(28, "calendar_day"), "visits": 1, "online_depth": 2}),
    "i7": ("A", "K4", {"promised_limit": limit(3), "visits": 1, "online_depth": 2}),
    "i8": ("C", "K5", {"promised_limit": limit(5), "visits": 1, "online_depth": 2}),
    "i9": ("B", "K6", {"promised_limit": limit(1), "visits": 1, "online_depth": 2}),
}
COUNTED = ("i1", "i2", "i3", "i4", "i5", "i6")


def setup_province(ctx) -> dict[str, str]:
    """Regions, departments, catalogue, and the nine items → their implementation codes."""
    for region in REGIONS:
        store.ensure_region(*region)
    for key, (_prefix, name, region, level) in ORGS.items():
        store.ensure_org(CREDIT[key], name, region, level)
    for doc in CATALOGUE.values():
        ctx.catalogue.put(doc["basic_code"], doc, ADMIN)
    impl = {}
    for key, (org, cat, changes) in ITEMS.items():
        _, _, region, level = ORGS[org]
        claimed = ctx.items.claim(CATALOGUE[cat]["basic_code"], CREDIT[org], level, region, ADMIN)
        impl[key] = code = claimed["impl_code"]
        document = dict(ctx.items.get(code)["document"], **changes)
        ctx.items.write_version(code, document, ADMIN, "local elements", expected_version=1)
    return impl


def publish(ctx, code) -> None:
    for action in ("submit", "approve", "publish"):
        getattr(ctx.workflow, action)(code, ADMIN)


@pytest.fixture
def ctx(db_url, tmp_path):
    from server.app import Context
    context = Context(make_settings(db_url, upload_dir=str(tmp_path / "uploads")))
    yield context
    context.close()


@pytest.fixture
def province(ctx):
    """The fixed set, published through the workflow: six counted, one suspended, one withdrawn, one draft."""
    impl = setup_province(ctx)
    for key in (*COUNTED, "i7", "i8"):
        publish(ctx, impl[key])
    ctx.workflow.withdraw(impl["i8"], ADMIN, "事项调整")
    # the catalogue suspends K4; the local item follows it (as a rebase writes it) and is republished
    suspended = dict(CATALOGUE["K4"], state="suspended")
    version = ctx.catalogue.put(suspended["basic_code"], suspended, ADMIN)["version"]
    head = ctx.items.get(impl["i7"])
    ctx.items.write_version(impl["i7"], dict(head["document"], state="suspended"), ADMIN, "rebase",
                            expected_version=head["version"], based_on=version, head_changes={"status": "draft"})
    publish(ctx, impl["i7"])
    return impl


def expected(key, label, *, items, instant, legal, promised, ratios, no_legal=0, at_most_one, zero=0, full=0,
             capable, commitment=0, cert=0, cross_province=0, **extra):
    """A CONTRACT §4 row written from hand counts: `legal`/`promised` in working days, `ratios` the
    per-item compression ratios of the items with both limits."""
    out = {"key": key, "label": label, "items": items, "instant": instant,
           "instant_ratio": float(Fraction(instant, items)), "with_limits": len(ratios),
           "legal_days": float(legal), "promised_days": float(promised),
           "compression_ratio": float(Fraction(legal - promised, legal)) if legal else None,
           "compression_mean": float(sum(ratios, Fraction(0)) / len(ratios)) if ratios else None,
           "excluded_no_legal_limit": no_legal, "excluded_no_promised_limit": 0}
    for name, value in (("visits_at_most_one", at_most_one), ("zero_visit", zero), ("full_online", full),
                        ("online_capable", capable), ("commitment", commitment), ("certificate_free", cert)):
        out[name], out[f"{name}_ratio"] = value, float(Fraction(value, items))
    out.update(nationwide=0, cross_province=cross_province, cross_city=0, cross_county=0, **extra)
    return out


# Per item, by hand: i1 20→5 wd (3/4), i2 28→14 calendar days = 20→10 wd (1/2), i3 no legal limit,
# i4 20→0 (1), i5 60→30 (1/2), i6 28→28 calendar days = 20→20 wd (0).
PINGDINGSHAN = dict(items=5, instant=2, legal=120, promised=45, ratios=[Fraction(3, 4), Fraction(1, 2), 1,
                                                                          Fraction(1, 2)],
                    no_legal=1, at_most_one=4, zero=1, full=1, capable=4, commitment=1, cert=2, cross_province=1)
WEIDONG = dict(items=3, instant=1, legal=40, promised=15, ratios=[Fraction(3, 4), Fraction(1, 2)], no_legal=1,
               at_most_one=3, zero=1, full=1, capable=3, commitment=1, cert=1, cross_province=1)
ZHANHE = dict(items=1, instant=1, legal=20, promised=0, ratios=[1], at_most_one=1, capable=1, cert=1)
CITY_OWN = dict(items=1, instant=0, legal=60, promised=30, ratios=[Fraction(1, 2)], at_most_one=0, capable=0)
LAOCHENG = dict(items=1, instant=0, legal=20, promised=20, ratios=[0], at_most_one=1, capable=1)


def test_province_figures_by_city_match_the_hand_computation(ctx, province):
    result = ctx.stats.items(ADMIN, StatsQuery(group_by="region"))
    assert result["rows"] == [
        expected("410300", "洛阳市", **LAOCHENG, region_level="city", own=False),
        expected("410400", "平顶山市", **PINGDINGSHAN, region_level="city", own=False),
    ]
    assert result["total"] == expected(
        "total", "合计", items=6, instant=2, legal=140, promised=65,
        ratios=[Fraction(3, 4), Fraction(1, 2), 1, Fraction(1, 2), 0], no_legal=1, at_most_one=5, zero=1, full=1,
        capable=5, commitment=1, cert=2, cross_province=1)
    assert result["current"] is True and result["filters"] == {}


def test_city_rows_are_its_counties_and_its_own_departments_and_roll_up_exactly(ctx, province):
    office = Actor(username="pds", role="reform_office", region="410400")
    city = ctx.stats.items(office, StatsQuery(group_by="region"))
    assert city["rows"] == [
        expected("410400", "平顶山市本级", **CITY_OWN, region_level="city", own=True),
        expected("410402", "卫东区", **WEIDONG, region_level="county", own=False),
        expected("410411", "湛河区", **ZHANHE, region_level="county", own=False),
    ]
    province_row = next(r for r in ctx.stats.items(ADMIN, StatsQuery())["rows"] if r["key"] == "410400")
    assert {k: v for k, v in city["total"].items() if k not in ("key", "label")} == \
        {k: v for k, v in province_row.items() if k not in ("key", "label", "region_level", "own")}
    # recomputed from the leaves: the published documents themselves
    leaves = [ctx.items.get(province[k], version=ctx.items.get(province[k])["published_version"])["document"]
              for k in ("i1", "i2", "i3", "i4", "i5")]
    assert city["total"] == metrics.row("total", "合计", metrics.Totals.of(map(metrics.item_facts, leaves)))
    merged = metrics.Totals()
    for one in city["rows"]:
        merged = merged.merge(metrics.Totals.of(
            metrics.item_facts(d) for d in leaves if d["region_code"] == one["key"]))
    assert metrics.row("total", "合计", merged) == city["total"]


def test_grouping_by_org_type_and_level_and_filters(ctx, province):
    office = Actor(username="wd", role="reform_office", region="410402")
    by_org = ctx.stats.items(office, StatsQuery(group_by="org"))
    assert [(r["key"], r["label"], r["items"], r["instant"]) for r in by_org["rows"]] == [
        (CREDIT["A"], "卫东区住房和城乡建设局", 2, 0), (CREDIT["B"], "卫东区市场监督管理局", 1, 1)]
    by_type = ctx.stats.items(ADMIN, StatsQuery(group_by="item_type"))
    assert [(r["key"], r["label"], r["items"]) for r in by_type["rows"]] == [("01", "行政许可", 5), ("20", "公共服务", 1)]
    by_level = ctx.stats.items(ADMIN, StatsQuery(group_by="level"))
    assert [(r["key"], r["label"], r["items"]) for r in by_level["rows"]] == [("3", "市", 1), ("4", "县", 5)]
    person = ctx.stats.items(ADMIN, StatsQuery(group_by="level", service_object="person"))
    assert person["total"]["items"] == 3   # i2, i6 (K2) and i3 (K3)
    services = ctx.stats.items(ADMIN, StatsQuery(item_type="20"))["total"]
    assert services == expected("total", "合计", items=1, instant=1, legal=0, promised=0, ratios=[], no_legal=1,
                                at_most_one=1, capable=1, commitment=1)


def test_drilldown_lists_items_holding_a_figure_back_largest_impact_first(ctx, province):
    office = Actor(username="pds", role="reform_office", region="410400")
    instant = ctx.stats.drilldown(office, StatsQuery(), "instant_ratio")
    assert [i["impl_code"] for i in instant["items"]] == sorted(province[k] for k in ("i1", "i2", "i5"))
    assert {i["impact"] for i in instant["items"]} == {0.2}
    assert instant["items"][0]["ratio_if_fixed"] == float(Fraction(3, 5))
    compression = ctx.stats.drilldown(office, StatsQuery(), "compression_ratio")
    # promised days over the city's 120 legal days: i5 30, i2 10, i1 5
    assert [(i["impl_code"], i["impact"]) for i in compression["items"]] == [
        (province["i5"], float(Fraction(30, 120))), (province["i2"], float(Fraction(10, 120))),
        (province["i1"], float(Fraction(5, 120)))]
    assert compression["items"][0]["org_name"] == "平顶山市住房和城乡建设局"
    left_out = ctx.stats.drilldown(ADMIN, StatsQuery(), "excluded_no_legal_limit")
    assert [i["impl_code"] for i in left_out["items"]] == [province["i3"]] and left_out["total"] == 1
    with pytest.raises(Malformed) as err:  # the metric is a query parameter
        ctx.stats.drilldown(ADMIN, StatsQuery(), "nonsense")
    assert err.value.code == "unknown_metric"


def test_rankings_leave_out_small_groups(ctx, province):
    ranked = ctx.stats.rankings(ADMIN, StatsQuery(group_by="org"), by="instant_ratio", min_items=1)
    assert [(r["key"], r["rank"]) for r in ranked["ranked"]] == [
        (CREDIT["B"], 1), (CREDIT["C"], 1), (CREDIT["E"], 3), (CREDIT["D"], 3), (CREDIT["A"], 3)]   # ties by code
    assert ctx.stats.rankings(ADMIN, StatsQuery(group_by="org"), by="instant_ratio", min_items=2)["ranked"] == [
        dict(next(r for r in ctx.stats.items(ADMIN, StatsQuery(group_by="org"))["rows"] if r["key"] == CREDIT["A"]),
             rank=1)]
    default = ctx.stats.rankings(ADMIN, StatsQuery(group_by="org"))   # settings.rank_min_items = 5
    assert default["min_items"] == 5 and default["ranked"] == []
    assert {r["reason"] for r in default["unranked"]} == {"too_few_items"}


def test_claim_rate_per_region_at_its_level(ctx, province):
    claims = ctx.stats.claims(Actor(username="pds", role="reform_office", region="410400"))
    rows = {r["key"]: (r["level"], r["applicable"], r["claimed"], r["claim_rate"]) for r in claims["rows"]}
    # in use at level 3: K1 K2 K3 K7 (4); at level 4: K1 K2 K3 K5 K6 (5; K4 is suspended).
    # 卫东区 claimed K1 K2 K4 (A) and K3 K6 (B, K6 still a draft): K4 no longer applies → 4 of 5.
    assert rows == {"410400": ("3", 4, 1, 0.25), "410402": ("4", 5, 4, 0.8), "410411": ("4", 5, 2, 0.4)}
    assert claims["total"]["claim_rate"] == float(Fraction(1 + 4 + 2, 4 + 5 + 5))


def test_case_figures_are_zero_with_a_note_until_the_branch_hall_counts_cases():
    result = stats.StatsService().cases(ADMIN)
    assert result["note"] == "branch_hall_not_available"
    assert result["figures"]["finished"] == 0 and result["figures"]["on_time_ratio"] is None
    calls = []

    def case_counts(prefix, since, until):
        calls.append((prefix, since, until))
        return {"finished": 8, "finished_on_time": 6, "bad_rectified": 1,
                "ratings_by_level": {"very_satisfied": 5, "satisfied": 2, "basic": 1, "dissatisfied": 2}}

    office = Actor(username="wd", role="reform_office", region="410402")
    counted = stats.StatsService(case_counts=case_counts).cases(office, None, dt.date(2026, 1, 1),
                                                                       dt.date(2026, 6, 30))
    # the counter gets the office's region and the two day ends, as naive UTC
    assert calls == [("410402", dt.datetime(2025, 12, 31, 16), dt.datetime(2026, 6, 30, 16))]
    figures = counted["figures"]
    assert counted["note"] is None
    assert (figures["on_time_ratio"], figures["satisfied_ratio"], figures["bad"], figures["rectification_ratio"]) \
        == (0.75, 0.7, 2, 0.5)


def test_scope_of_reform_offices_reviewers_and_editors(ctx, province):
    county = Actor(username="wd", role="reform_office", region="410402")
    with pytest.raises(Forbidden) as err:
        ctx.stats.items(county, StatsQuery(region="410400"))
    assert err.value.code == "out_of_scope"
    with pytest.raises(Forbidden):
        ctx.stats.drilldown(county, StatsQuery(region="410411"), "instant_ratio")
    with pytest.raises(Forbidden) as err:
        ctx.stats.items(Actor(username="ed", role="editor", org=CREDIT["A"]), StatsQuery())
    assert err.value.code == "role_required"
    reviewer = Actor(username="rv", role="reviewer", region="410400")
    assert ctx.stats.items(reviewer, StatsQuery(region="410402"))["total"]["items"] == 3
    assert ctx.stats.items(county, StatsQuery())["total"]["items"] == 3   # defaults to the office's region


def test_xlsx_has_header_block_chinese_headers_percent_formats_and_totals(ctx, province):
    result = ctx.stats.items(ADMIN, StatsQuery(group_by="region", item_type="01"))
    sheet = load_workbook(io.BytesIO(stats_export.to_xlsx(result))).active
    assert sheet["A1"].value == "政务服务事项统计"
    assert (sheet["A2"].value, sheet["B2"].value) == ("统计日期", result["as_of"])
    assert (sheet["A4"].value, sheet["B4"].value) == ("筛选条件", "事项类型=01")
    header = [c.value for c in sheet[8]]
    assert header == [c.header for c in stats_export.STAT_COLUMNS]
    ratio_col = header.index("即办件占比") + 1
    data = sheet.cell(10, 1)
    assert data.value == "410400"   # 410300 on line 9, 平顶山市 on line 10
    cell = sheet.cell(10, ratio_col)
    assert cell.value == float(Fraction(1, 4)) and cell.number_format == "0.00%"
    total_line = [c.value for c in sheet[11]]
    assert total_line[0] == "合计" and total_line[header.index("事项数")] == 5
    # legal 20+20+20+60+20 = 140, promised 5+10+0+30+20 = 65 working days over the five 行政许可 items
    assert sheet.cell(11, header.index("法定时限压缩比") + 1).value == float(Fraction(75, 140))
    assert sheet.cell(11, header.index("法定时限压缩比") + 1).number_format == "0.00%"
    assert sheet.max_row == 11


def test_xlsx_keeps_formula_like_names_as_text():
    result = {"as_of": "2026-06-30", "group_by": "org", "filters": {}, "total": None,
              "rows": [{"key": "X", "label": "=HYPERLINK(\"http://x\")", "items": 1}]}
    sheet = load_workbook(io.BytesIO(stats_export.to_xlsx(result))).active
    assert sheet["B9"].value == "=HYPERLINK(\"http://x\")" and sheet["B9"].data_type == "s"


def at(day, hour=0, minute=0):
    """An instant in Asia/Shanghai."""
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


def test_as_of_follows_publish_revision_and_withdraw_at_day_ends(ctx):
    impl = setup_province(ctx)
    x, y = impl["i1"], impl["i4"]
    doc_x = ctx.items.get(x)["document"]
    day = dt.date(2026, 6, 30)
    with store.transaction():
        stats.record_publish(x, 2, doc_x, at(dt.date(2026, 3, 1), 10))
        # revised to instant late on 30 June: that day counts the new version
        stats.record_publish(x, 3, dict(doc_x, promised_limit=limit(0), handling_type="instant"), at(day, 23, 30))
        # withdrawn at midnight: still published at the end of 30 June, gone on 1 July
        stats.record_withdraw(x, at(day + dt.timedelta(days=1)))
        stats.record_publish(y, 2, ctx.items.get(y)["document"], at(day + dt.timedelta(days=1)))

    def figures(d):
        total = ctx.stats.items(ADMIN, StatsQuery(as_of=d))["total"]
        return total["items"], total["instant"]

    assert figures(dt.date(2026, 2, 28)) == (0, 0)
    assert figures(dt.date(2026, 6, 29)) == (1, 0)
    assert figures(day) == (1, 1)
    assert figures(dt.date(2026, 7, 1)) == (1, 1)   # x withdrawn, y (instant) published
    assert ctx.stats.items(ADMIN, StatsQuery())["total"]["items"] == 1
    changes = ctx.stats.compare(ADMIN, StatsQuery(), dt.date(2026, 6, 29), day)
    assert [(c["impl_code"], c["change"], c["version_before"], c["version_after"], c["moved"])
            for c in changes["changed_items"]] == [
        (x, "revised", 2, 3, {"instant": 1, "promised_units": -3500, "compression_nano": 250_000_000})]
    assert changes["total"]["instant_ratio"] == {"before": 0.0, "after": 1.0, "delta": 1.0}
    moved = ctx.stats.compare(ADMIN, StatsQuery(), dt.date(2026, 6, 29), dt.date(2026, 7, 1))
    assert {(c["impl_code"], c["change"]) for c in moved["changed_items"]} == {(x, "withdrawn"), (y, "published")}
    with pytest.raises(Invalid):
        ctx.stats.compare(ADMIN, StatsQuery(), day, dt.date(2026, 6, 29))


def test_as_of_is_the_end_of_the_day_in_shanghai():
    assert end_of_day(dt.date(2026, 6, 30)) == dt.datetime(2026, 6, 30, 16, 0)


def test_a_publish_before_the_current_version_began_is_refused(ctx):
    impl = setup_province(ctx)
    doc = ctx.items.get(impl["i1"])["document"]
    stats.record_publish(impl["i1"], 2, doc, at(dt.date(2026, 5, 1)))
    with pytest.raises(Conflict) as err:
        stats.record_publish(impl["i1"], 3, doc, at(dt.date(2026, 4, 1)))
    assert err.value.code == "facts_out_of_order"


def test_the_workflow_calls_the_hooks_once_per_publish_even_with_several_contexts(ctx, province, db_url, tmp_path):
    from server.app import Context
    second = Context(make_settings(db_url, upload_dir=str(tmp_path / "uploads2")))
    try:
        code = province["i1"]
        head = ctx.items.get(code)
        ctx.items.write_version(code, dict(head["document"], visits=0, channels=["window", "express"]), ADMIN,
                                "no visit", expected_version=head["version"], head_changes={"status": "draft"})
        publish(ctx, code)
        rows = store.facts_items(None, org=CREDIT["A"])
        assert [(r["impl_code"], r["zero_visit"]) for r in rows if r["impl_code"] == code] == [(code, 1)]
    finally:
        second.close()


def test_current_and_dated_totals_stay_equal_to_the_facts_rows_and_to_a_rebuild(ctx, province):
    kept = {group_by: store.facts_sums(group_by) for group_by in stats.GROUPS}
    for group_by, rows in kept.items():
        assert rows == store.facts_sums(group_by, from_rows=True)
    day = stats.today()
    as_of = {group_by: store.change_sums(group_by, day) for group_by in stats.GROUPS}
    assert as_of == {group_by: store.facts_sums(group_by, end_of_day(day)) for group_by in stats.GROUPS}
    store.rebuild_totals(stats.day_of)
    assert {group_by: store.facts_sums(group_by) for group_by in stats.GROUPS} == kept
    assert {group_by: store.change_sums(group_by, day) for group_by in stats.GROUPS} == as_of
    assert sum(r["items"] for r in kept["org"]) == len(COUNTED)


# --- any sequence of publishes and withdrawals --------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PLACES = [("11410402MB0000001", "410402"), ("11410411MB0000003", "410411"), ("11410302MB0000005", "410302")]
documents = st.fixed_dictionaries({
    "state": st.sampled_from(["in_use", "in_use", "suspended"]),
    "legal_limit": st.sampled_from([None, limit(10), limit(28, "calendar_day"), limit(500)]),
    "promised_limit": st.sampled_from([None, limit(0), limit(3), limit(7, "calendar_day")]),
    "handling_type": st.sampled_from(["instant", "promised"]),
    "visits": st.integers(0, 3), "online_depth": st.integers(1, 4),
    "scope": st.sampled_from([None, "nationwide", "cross_city"]), "commitment": st.booleans(),
    "service_objects": st.sampled_from([["person"], ["enterprise"], ["person", "enterprise"]]),
    "item_type": st.sampled_from(["01", "20"]), "level": st.sampled_from(["3", "4"]),
})
events = st.lists(st.tuples(st.integers(0, 4), st.booleans(), st.integers(1, 3 * 24 * 60), documents),
                  min_size=1, max_size=25)


@pytest.fixture
def facts_db(sqlite_url):
    from server import db as dbmod
    database = dbmod.connect(sqlite_url)
    yield database
    database.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=events)
def test_figures_at_every_day_equal_recomputation_from_the_documents_live_then(facts_db, history):
    from items.records import ItemFactsChangeRecord, ItemFactsRecord, ItemFactsTotalRecord
    for model in (ItemFactsRecord, ItemFactsTotalRecord, ItemFactsChangeRecord):
        model.delete().execute()
    now, live, timeline = dt.datetime(2026, 1, 1, tzinfo=SHANGHAI), {}, []
    for item, publishing, minutes, doc in history:
        now += dt.timedelta(minutes=minutes)
        credit, region = PLACES[item % len(PLACES)]
        code = f"{credit}X{doc['level']}00{doc['item_type']}0400{item}000"
        if publishing:
            document = dict(doc, org={"credit_code": credit, "name": "局"}, region_code=region, materials=[])
            stats.record_publish(code, len(timeline) + 1, document, now)
            live[code] = document
        else:
            stats.record_withdraw(code, now)
            live.pop(code, None)
        timeline.append((now.date(), {k: v for k, v in live.items() if metrics.counts_in_statistics(v)}))
    service = stats.StatsService()
    for day in sorted({d for d, _ in timeline}):
        counted = [docs for d, docs in timeline if d <= day][-1]
        for group_by, key_of in (("region", lambda d: d["region_code"][:4] + "00"), ("level", lambda d: d["level"])):
            result = service.items(ADMIN, StatsQuery(group_by=group_by, as_of=day))
            expected_rows = {}
            for document in counted.values():
                expected_rows.setdefault(key_of(document), metrics.Totals()).add(metrics.item_facts(document))
            assert {r["key"]: {k: v for k, v in r.items() if k in metrics.ROW_METRICS} for r in result["rows"]} == {
                k: {m: v for m, v in metrics.row(k, None, t).items() if m in metrics.ROW_METRICS}
                for k, t in expected_rows.items()}
            assert result["total"] == metrics.row("total", "合计", metrics.Totals.of(
                metrics.item_facts(d) for d in counted.values()))
    current = timeline[-1][1]
    assert service.items(ADMIN, StatsQuery())["total"] == metrics.row(
        "total", "合计", metrics.Totals.of(metrics.item_facts(d) for d in current.values()))
    for group_by in stats.GROUPS:
        assert store.facts_sums(group_by) == store.facts_sums(group_by, from_rows=True)


def test_govhall_stats_prints_a_table_and_writes_a_workbook(ctx, province, db_url, monkeypatch, tmp_path, capsys):
    from server.cli import main
    monkeypatch.setenv("GOVHALL_DATABASE_URL", db_url)
    monkeypatch.setenv("GOVHALL_SECRET_KEY", "test-secret-key-0123456789")
    assert main(["stats", "--group-by", "level"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].split()[:3] == ["代码", "名称", "事项数"]
    assert [line.split()[:3] for line in lines[2:]] == [["3", "市", "1"], ["4", "县", "5"], ["合计", "6", "33.33%"]]
    target = tmp_path / "stats.xlsx"
    assert main(["stats", "--region", "410400", "--format", "xlsx", "--output", str(target)]) == 0
    sheet = load_workbook(target).active
    assert (sheet["A4"].value, sheet["B4"].value) == ("筛选条件", "区划=410400")
    assert sheet["A12"].value == "合计" and sheet["C12"].value == 5
