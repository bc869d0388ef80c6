"""Human-readable change summaries between two versions of an item, in the element names reviewers use."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from items.codes import ITEM_TYPES, LEVELS
from items.model import LIST_FIELDS

LABELS = {
    "basic_code": "基本编码", "name": "事项名称", "item_type": "事项类型", "basis": "设定依据",
    "levels": "行使层级", "state": "事项状态", "legal_limit": "法定时限", "service_objects": "服务对象",
    "conditions": "受理条件", "materials": "材料", "process": "办理流程", "fees": "收费", "faq": "常见问题",
    "impl_code": "实施编码", "level": "行使层级", "org": "实施主体", "region_code": "行政区划",
    "promised_limit": "承诺时限", "handling_type": "办件类型", "visits": "到办事现场次数",
    "online_depth": "网上办理深度", "channels": "办理渠道", "scope": "通办范围", "commitment": "告知承诺",
    "location": "办理地点", "hours": "办公时间", "phone": "咨询电话", "complaint_phone": "投诉电话",
    "result": "办理结果", "aliases": "口语化名称",
}
# Labels of entry fields inside list elements.
ENTRY_LABELS = {
    "name": "名称", "necessity": "必要性", "source": "来源", "form": "形式", "originals": "原件份数",
    "copies": "复印件份数", "e_license": "电子证照", "note": "备注", "text": "内容", "limit": "时限",
    "standard": "标准", "basis": "依据", "question": "问题", "answer": "答案", "kind": "类别",
    "title": "标题", "article": "条款",
}
VALUE_LABELS = {
    # 事项类型 and 行使层级 are codes in the document; staff read 行政许可 and 县, never "01" or "4".
    "item_type": ITEM_TYPES, "levels": LEVELS, "level": LEVELS,
    "handling_type": {"instant": "即办件", "promised": "承诺件"},
    "online_depth": {1: "I 信息公开", 2: "II 在线预约", 3: "III 在线预审", 4: "IV 全程网办"},
    "state": {"in_use": "在用", "suspended": "挂起", "cancelled": "取消"},
    "scope": {"nationwide": "全国通办", "cross_province": "跨省通办", "cross_city": "跨市通办",
              "cross_county": "跨县通办"},
    "channels": {"window": "窗口", "pc": "电脑端", "mobile": "移动端", "express": "邮寄", "other": "其他"},
    "necessity": {"required": "必要", "optional": "非必要", "deferrable": "容缺后补"},
    "source": {"applicant": "申请人自备", "government": "政府部门核发", "other": "其他"},
    "form": {"paper": "纸质", "electronic": "电子", "both": "纸质和电子"},
    "service_objects": {"person": "自然人", "enterprise": "企业法人", "institution": "事业单位",
                        "social_org": "社会组织", "government": "行政机关", "other": "其他"},
}
UNIT_LABELS = {"workday": "工作日", "calendar_day": "自然日"}
# The field that names an entry of each list in a summary line.
ENTRY_TITLE = {"basis": "title", "conditions": "text", "materials": "name", "process": "name", "fees": "name",
               "faq": "question"}
_ABSENT = object()


@dataclass(frozen=True)
class Change:
    """One change a reviewer reads: the element, what happened, old and new as displayed, and a line."""

    element: str
    label: str
    change: str  # added | removed | changed | reordered
    old: str | None
    new: str | None
    text: str

    def as_dict(self) -> dict:
        """Return {element, label, change, old, new, text}."""
        return asdict(self)


def display(field: str, value: Any) -> str:
    """Return `value` of element `field` as a reviewer reads it: "10 工作日", "即办件", "是", "无"."""
    if value is None or value is _ABSENT or value == "" or value == []:
        return "无"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, dict) and "value" in value and ("unit" in value or field.endswith("limit")):
        number = value["value"]
        if isinstance(number, float) and number.is_integer():
            number = int(number)
        unit = value.get("unit", "workday")
        text = f"{number} {UNIT_LABELS.get(unit, unit) if isinstance(unit, str) else unit}"
        return f"{text}（{value['note']}）" if value.get("note") else text
    labels = VALUE_LABELS.get(field, {})
    if isinstance(value, list):
        return "、".join(display(field, v) for v in value)
    if isinstance(value, dict):
        for key in ("name", "title", "text", "question"):
            if isinstance(value.get(key), str):
                return value[key]
        return "；".join(f"{ENTRY_LABELS.get(k, k)}: {display(k, v)}" for k, v in value.items())
    try:
        return str(labels.get(value, value))
    except TypeError:  # an unhashable value has no label
        return str(value)


def _entries(value: Any) -> dict | None:
    if not isinstance(value, list) or not all(isinstance(e, dict) and e.get("id") for e in value):
        return None
    index = {e["id"]: e for e in value}
    return index if len(index) == len(value) else None


def _entry_name(field: str, entry: dict) -> str:
    name = entry.get(ENTRY_TITLE.get(field, "name"))
    return name if isinstance(name, str) and name else str(entry.get("id"))


def _list_changes(field: str, label: str, old: dict, new: dict, order_old: list, order_new: list) -> list[Change]:
    out = []
    for entry_id, entry in new.items():
        if entry_id not in old:
            name = _entry_name(field, entry)
            out.append(Change(field, label, "added", None, name, f"{label} 新增: {name}"))
    for entry_id, entry in old.items():
        if entry_id not in new:
            name = _entry_name(field, entry)
            out.append(Change(field, label, "removed", name, None, f"{label} 删除: {name}"))
    for entry_id, entry in new.items():
        before = old.get(entry_id)
        if before is None or before == entry:
            continue
        name = _entry_name(field, before)
        parts = []
        for key in [k for k in entry if k != "id"] + [k for k in before if k not in entry]:
            was, now = before.get(key, _ABSENT), entry.get(key, _ABSENT)
            if was != now:
                parts.append(f"{ENTRY_LABELS.get(key, key)} {display(key, was)} → {display(key, now)}")
        detail = "，".join(parts)
        out.append(Change(field, label, "changed", name, _entry_name(field, entry),
                          f"{label} 修改: {name}（{detail}）"))
    kept_old = [i for i in order_old if i in new]
    kept_new = [i for i in order_new if i in old]
    if kept_old != kept_new:
        out.append(Change(field, label, "reordered", None, None, f"{label} 调整顺序"))
    return out


def summarize(before: dict | None, after: dict) -> list[Change]:
    """Return the changes from `before` to `after` (None: the first version), in document order.

    List elements with entry ids are compared entry by entry (added, removed, changed fields,
    reordered); any other element gives one line "label: old → new". Pure; never raises on odd shapes.
    """
    if not isinstance(after, dict):
        return []
    if before is None:
        return [Change("", "版本", "added", None, None, "首个版本")]
    out: list[Change] = []
    keys = list(after) + [k for k in before if k not in after]
    for field in keys:
        was, now = before.get(field, _ABSENT), after.get(field, _ABSENT)
        if was == now:
            continue
        label = LABELS.get(field, field)
        if field in LIST_FIELDS and was is not _ABSENT and now is not _ABSENT:
            old_index, new_index = _entries(was), _entries(now)
            if old_index is not None and new_index is not None:
                out += _list_changes(field, label, old_index, new_index, list(old_index), list(new_index))
                continue
        old_text, new_text = display(field, was), display(field, now)
        kind = "added" if was is _ABSENT else "removed" if now is _ABSENT else "changed"
        out.append(Change(field, label, kind, old_text, new_text, f"{label}: {old_text} → {new_text}"))
    return out


def summary_lines(before: dict | None, after: dict) -> list[str]:
    """Return the summary of `summarize` as display lines."""
    return [c.text for c in summarize(before, after)]
