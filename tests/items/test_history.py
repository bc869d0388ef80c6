"""Change summaries a reviewer reads: element labels in Chinese, old → new, list entries by id."""
from __future__ import annotations

import copy

from hypothesis import given
from hypothesis import strategies as st

from items.history import display, summarize, summary_lines

BASE = {
    "name": "建筑工程施工许可证核发",
    "promised_limit": {"value": 10, "unit": "workday", "note": ""},
    "handling_type": "promised", "visits": 1, "online_depth": 2, "commitment": False,
    "channels": ["window"], "phone": "",
    "materials": [{"id": "m1", "name": "申请表", "necessity": "required", "copies": 1},
                  {"id": "m2", "name": "身份证", "necessity": "required", "copies": 1}],
}


def changed(**updates) -> dict:
    doc = copy.deepcopy(BASE)
    doc.update(updates)
    return doc


def test_promised_limit_change_reads_old_to_new_in_working_days():
    after = changed(promised_limit={"value": 5, "unit": "workday", "note": ""})
    assert summary_lines(BASE, after) == ["承诺时限: 10 工作日 → 5 工作日"]


def test_added_material_is_named():
    after = changed(materials=BASE["materials"] + [{"id": "m3", "name": "施工合同", "necessity": "required"}])
    assert summary_lines(BASE, after) == ["材料 新增: 施工合同"]


def test_removed_and_edited_materials_are_named_with_the_field_that_changed():
    after = changed(materials=[dict(BASE["materials"][0], copies=2, necessity="deferrable")])
    lines = summary_lines(BASE, after)
    assert "材料 删除: 身份证" in lines
    assert "材料 修改: 申请表（必要性 必要 → 容缺后补，复印件份数 1 → 2）" in lines


def test_reordering_entries_is_one_line():
    after = changed(materials=list(reversed(BASE["materials"])))
    assert summary_lines(BASE, after) == ["材料 调整顺序"]


def test_enumerations_and_booleans_use_their_chinese_words():
    after = changed(handling_type="instant", promised_limit={"value": 0, "unit": "workday", "note": ""},
                    online_depth=4, commitment=True, channels=["window", "express"])
    lines = summary_lines(BASE, after)
    assert "办件类型: 承诺件 → 即办件" in lines
    assert "网上办理深度: II 在线预约 → IV 全程网办" in lines
    assert "告知承诺: 否 → 是" in lines
    assert "办理渠道: 窗口 → 窗口、邮寄" in lines


def test_empty_value_reads_as_none_and_a_new_field_as_added():
    after = changed(phone="0375-1234567", hours="9:00-17:00")
    changes = {c.element: c for c in summarize(BASE, after)}
    assert changes["phone"].text == "咨询电话: 无 → 0375-1234567"
    assert changes["hours"].change == "added"


def test_first_version_and_unchanged_documents():
    assert summary_lines(None, BASE) == ["首个版本"]
    assert summary_lines(BASE, copy.deepcopy(BASE)) == []


def test_calendar_days_and_no_limit_display():
    assert display("legal_limit", {"value": 20, "unit": "calendar_day"}) == "20 自然日"
    assert display("legal_limit", {"value": 2.0, "unit": ["odd"], "note": "含公示"}) == "2 ['odd']（含公示）"
    assert display("legal_limit", None) == "无"


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=5),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                                        max_size=3), max_leaves=8)


@given(st.dictionaries(st.sampled_from(["name", "materials", "promised_limit", "channels", "x"]), json_values),
       st.dictionaries(st.sampled_from(["name", "materials", "promised_limit", "channels", "x"]), json_values))
def test_any_two_documents_summarize_and_only_equal_ones_give_no_change(before, after):
    changes = summarize(before, after)
    assert all(isinstance(c.text, str) and c.text for c in changes)
    assert (changes == []) == (before == after)
    assert {c.element for c in changes} <= set(before) | set(after)
