"""The citizen's guide rendered from a published version: what to bring, time limits in Chinese, badges."""
from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from guides.render import render_guide, render_limit, time_limits, what_to_bring

DOC = {
    "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01", "state": "in_use",
    "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "promised_limit": {"value": 5, "unit": "workday", "note": ""},
    "service_objects": ["person", "enterprise"],
    "conditions": [{"id": "c1", "text": "已经办理该建筑工程用地批准手续"}],
    "materials": [
        {"id": "m1", "name": "建筑工程施工许可证申请表", "necessity": "required", "source": "applicant",
         "form": "both", "originals": 1, "copies": 2, "e_license": "", "note": ""},
        {"id": "m2", "name": "居民身份证", "necessity": "required", "source": "government",
         "form": "both", "originals": 1, "copies": 1, "e_license": "居民身份证", "note": ""},
        {"id": "m3", "name": "施工合同", "necessity": "deferrable", "source": "applicant",
         "form": "electronic", "originals": 0, "copies": 0, "e_license": "", "note": "可后补"},
    ],
    "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""},
                {"id": "p2", "name": "审查", "limit": None, "note": ""}],
    "fees": [], "faq": [{"id": "q1", "question": "可以网上办吗？", "answer": "可以。"}],
    "impl_code": "11410402MB1234567X4000104002000", "level": "4",
    "org": {"credit_code": "11410402MB1234567X", "name": "卫东区住房和城乡建设局"}, "region_code": "410402",
    "handling_type": "promised", "visits": 0, "online_depth": 4, "channels": ["pc", "mobile", "express"],
    "scope": "cross_province", "commitment": True, "location": "卫东区政务服务中心二楼", "hours": "工作日 9:00-17:00",
    "phone": "0375-1234567", "complaint_phone": "0375-12345", "result": {"name": "建筑工程施工许可证", "kind": "certificate"},
    "aliases": ["办施工许可证"],
}


def material(guide, material_id):
    return next(m for m in guide["materials"] if m["id"] == material_id)


def test_guide_carries_the_published_version_it_was_rendered_from():
    guide = render_guide(DOC["impl_code"], DOC, 7)

    assert (guide["impl_code"], guide["guide_version"], guide["name"]) == (DOC["impl_code"], 7, DOC["name"])


def test_a_material_from_the_e_licence_library_need_not_be_brought():
    guide = render_guide(DOC["impl_code"], DOC, 1)

    provide = material(guide, "m2")["provide"]
    assert provide["bring"] is False
    assert (provide["originals"], provide["copies"], provide["e_license"]) == (0, 0, "居民身份证")
    assert "无需提交" in provide["text"]
    assert guide["materials_from_e_license"] == 1


def test_originals_and_copies_are_spelled_out():
    guide = render_guide(DOC["impl_code"], DOC, 1)

    m1 = material(guide, "m1")
    assert m1["provide"]["text"] == "原件1份、复印件2份（可提交电子版）"
    assert (m1["necessity_label"], m1["source_label"]) == ("必要", "申请人自备")
    m3 = material(guide, "m3")
    assert (m3["provide"]["text"], m3["provide"]["bring"], m3["necessity_label"]) == ("提交电子版", False, "容缺后补")
    assert guide["materials_to_bring"] == 1


def test_time_limits_are_written_with_their_units_in_chinese():
    limits = render_guide(DOC["impl_code"], DOC, 1)["time_limits"]

    assert (limits["legal_text"], limits["promised_text"], limits["instant"]) == ("15个工作日", "5个工作日", False)
    assert limits["text"] == "承诺5个工作日内办结"
    assert render_limit({"value": 30, "unit": "calendar_day"})["text"] == "30个自然日"
    assert render_limit({"value": 0.5, "unit": "workday"})["text"] == "0.5个工作日"


def test_an_instant_item_says_即办():
    limits = time_limits(dict(DOC, handling_type="instant", promised_limit={"value": 0, "unit": "workday"}))

    assert (limits["instant"], limits["promised_text"], limits["text"]) == (True, "即办", "即办")


def test_no_legal_limit_and_the_500_sentinel_read_as_no_limit():
    assert time_limits(dict(DOC, legal_limit=None))["legal_text"] == "无法定办结时限"
    assert time_limits(dict(DOC, legal_limit={"value": 500, "unit": "workday"}))["legal"] is None


def test_place_hours_phones_faq_fees_and_badges_are_there():
    guide = render_guide(DOC["impl_code"], DOC, 1)

    assert (guide["location"], guide["hours"]) == ("卫东区政务服务中心二楼", "工作日 9:00-17:00")
    assert (guide["phone"], guide["complaint_phone"]) == ("0375-1234567", "0375-12345")
    assert guide["faq"] == [{"id": "q1", "question": "可以网上办吗？", "answer": "可以。"}]
    assert (guide["fees"], guide["fee_text"]) == ([], "不收费")
    assert [b["label"] for b in guide["badges"]] == ["零跑动", "全程网办", "跨省通办"]
    assert (guide["visits_text"], guide["online_depth_label"], guide["scope_label"]) == \
        ("零跑动（不用到现场）", "全程网办", "跨省通办")
    assert [p["limit_text"] for p in guide["process"]] == ["1个工作日", ""]
    assert guide["item_type_label"] == "行政许可"


def test_fees_when_charged():
    doc = dict(DOC, fees=[{"id": "f1", "name": "工本费", "standard": "10元/本", "basis": "某物价文件"}])

    guide = render_guide(DOC["impl_code"], doc, 1)

    assert guide["fee_text"] == "收费"
    assert guide["fees"][0]["standard"] == "10元/本"


def test_a_sparse_document_still_renders():
    guide = render_guide("X", {"name": "某事项"}, 1)

    assert guide["materials"] == [] and guide["time_limits"]["text"] == "以窗口告知为准"
    assert guide["visits"] is None and guide["result"] is None


@given(st.fixed_dictionaries({}, optional={
    "originals": st.one_of(st.integers(-3, 5), st.none(), st.text(max_size=2)),
    "copies": st.one_of(st.integers(-3, 5), st.none(), st.booleans()),
    "form": st.sampled_from(["paper", "electronic", "both", None, "fax"]),
    "e_license": st.one_of(st.none(), st.text(max_size=10)),
}))
def test_what_to_bring_never_fails_and_never_asks_for_negative_counts(entry):
    provide = what_to_bring(entry)

    assert provide["originals"] >= 0 and provide["copies"] >= 0
    assert provide["text"]
    if provide["e_license"]:
        assert provide["bring"] is False


def test_the_guide_is_json_and_does_not_change_the_document():
    before = json.dumps(DOC, sort_keys=True, ensure_ascii=False)

    json.dumps(render_guide(DOC["impl_code"], DOC, 1), ensure_ascii=False)

    assert json.dumps(DOC, sort_keys=True, ensure_ascii=False) == before
