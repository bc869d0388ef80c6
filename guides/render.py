"""The citizen's guide (办事指南): a published local item version rendered for the branch hall."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guides.search import badges as search_badges
from items.codes import ITEM_TYPES

UNIT_WORDS = {"workday": "个工作日", "calendar_day": "个自然日"}
NECESSITY_LABELS = {"required": "必要", "optional": "非必要", "deferrable": "容缺后补"}
SOURCE_LABELS = {"applicant": "申请人自备", "government": "政府部门核发", "other": "其他"}
FORM_LABELS = {"paper": "纸质", "electronic": "电子", "both": "纸质和电子"}
HANDLING_LABELS = {"instant": "即办件", "promised": "承诺件"}
ONLINE_DEPTH_LABELS = {1: "信息公开", 2: "在线咨询与预约", 3: "网上预审", 4: "全程网办"}
CHANNEL_LABELS = {"window": "窗口办理", "pc": "网上办理（电脑端）", "mobile": "掌上办理（手机端）",
                  "express": "快递邮寄", "other": "其他"}
SCOPE_LABELS = {"nationwide": "全国通办", "cross_province": "跨省通办", "cross_city": "全市通办",
                "cross_county": "全县通办"}
SERVICE_OBJECT_LABELS = {"person": "自然人", "enterprise": "企业法人", "institution": "事业法人",
                         "social_org": "社会组织法人", "government": "行政机关", "other": "其他组织"}
STATE_LABELS = {"in_use": "在用", "suspended": "暂停", "cancelled": "取消"}
# Epoint systems store 500 for "no legal limit" (DOMAIN.md §3); never show it as a real time limit.
NO_LIMIT_SENTINEL = 500


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _number(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _entries(doc: Mapping, field: str) -> list[Mapping]:
    return [e for e in doc.get(field) or () if isinstance(e, Mapping)]


def render_limit(limit: Any) -> dict | None:
    """Return {value, unit, text} of a `{value, unit}` time limit (text "15个工作日", "即办" for 0), or
    None when there is no limit (null, malformed, or the no-limit sentinel)."""
    if not isinstance(limit, Mapping):
        return None
    value = limit.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
        return None
    if value >= NO_LIMIT_SENTINEL:
        return None
    unit = limit.get("unit") or "workday"
    if unit not in UNIT_WORDS:
        return None
    text = "即办" if value == 0 else _number(value) + UNIT_WORDS[unit]
    out = {"value": value, "unit": unit, "text": text}
    if _text(limit.get("note")):
        out["note"] = _text(limit["note"])
    return out


def time_limits(doc: Mapping) -> dict:
    """Return the legal and promised limits with their Chinese text and whether the item is 即办.

    即办 is the handling type or a promised limit of 0 (promised = 0 ⇔ 即办件: DOMAIN.md §3).
    """
    legal = render_limit(doc.get("legal_limit"))
    promised = render_limit(doc.get("promised_limit"))
    instant = doc.get("handling_type") == "instant" or (promised is not None and promised["value"] == 0)
    if instant:
        summary = "即办"
    elif promised is not None:
        summary = "承诺" + promised["text"] + "内办结"
    elif legal is not None:
        summary = "法定" + legal["text"] + "内办结"
    else:
        summary = "以窗口告知为准"
    return {"legal": legal, "legal_text": legal["text"] if legal else "无法定办结时限",
            "promised": promised, "promised_text": "即办" if instant else (promised["text"] if promised else "未承诺"),
            "instant": instant, "text": summary}


def what_to_bring(material: Mapping) -> dict:
    """Return how a citizen provides one material: {bring, originals, copies, electronic, e_license, text}.

    A material the e-licence library supplies (免提交) need not be brought at all (DOMAIN.md §3).
    """
    e_license = _text(material.get("e_license"))
    originals, copies = _count(material.get("originals")), _count(material.get("copies"))
    form = material.get("form")
    if e_license:
        return {"bring": False, "originals": 0, "copies": 0, "electronic": False, "e_license": e_license,
                "text": f"无需提交，由电子证照库调取（{e_license}）"}
    parts = []
    if originals:
        parts.append(f"原件{originals}份")
    if copies:
        parts.append(f"复印件{copies}份")
    electronic = form in ("electronic", "both")
    if form == "electronic" and not parts:
        text = "提交电子版"
    elif parts:
        text = "、".join(parts) + ("（可提交电子版）" if electronic else "")
    else:
        text = "按窗口要求提供"
    return {"bring": bool(parts) or form != "electronic", "originals": originals, "copies": copies,
            "electronic": electronic, "e_license": None, "text": text}


def render_material(material: Mapping) -> dict:
    necessity = material.get("necessity") or "required"
    return {"id": material.get("id"), "name": _text(material.get("name")), "necessity": necessity,
            "necessity_label": NECESSITY_LABELS.get(necessity, necessity),
            "source_label": SOURCE_LABELS.get(material.get("source") or "", ""),
            "form_label": FORM_LABELS.get(material.get("form") or "", ""),
            "provide": what_to_bring(material), "note": _text(material.get("note"))}


def _visits_text(visits: Any) -> str | None:
    if not isinstance(visits, int) or isinstance(visits, bool) or visits < 0:
        return None
    if visits == 0:
        return "零跑动（不用到现场）"
    if visits == 1:
        return "最多跑一次"
    return f"到现场{visits}次"


def render_guide(impl_code: str, doc: Mapping, guide_version: int) -> dict:
    """Return the guide of one published local item version, labelled in Chinese for citizens.

    `guide_version` is the published version the guide shows; an application filed from it is pinned
    to it. Pure: the same document always renders the same guide.
    """
    org = doc.get("org") if isinstance(doc.get("org"), Mapping) else {}
    materials = [render_material(m) for m in _entries(doc, "materials")]
    fees = [{"id": f.get("id"), "name": _text(f.get("name")), "standard": _text(f.get("standard")),
             "basis": _text(f.get("basis"))} for f in _entries(doc, "fees")]
    process = []
    for step in _entries(doc, "process"):
        limit = render_limit(step.get("limit"))
        process.append({"id": step.get("id"), "name": _text(step.get("name")), "limit": limit,
                        "limit_text": limit["text"] if limit else "", "note": _text(step.get("note"))})
    depth = doc.get("online_depth")
    visits = doc.get("visits")
    scope = doc.get("scope")
    result = doc.get("result") if isinstance(doc.get("result"), Mapping) else None
    return {
        "impl_code": impl_code,
        "guide_version": guide_version,
        "name": _text(doc.get("name")),
        "basic_code": doc.get("basic_code"),
        "item_type": doc.get("item_type"),
        "item_type_label": ITEM_TYPES.get(doc.get("item_type") or "", ""),
        "state": doc.get("state") or "in_use",
        "state_label": STATE_LABELS.get(doc.get("state") or "in_use", ""),
        "org": {"credit_code": org.get("credit_code"), "name": _text(org.get("name"))},
        "region_code": doc.get("region_code"),
        "service_objects": [{"code": o, "label": SERVICE_OBJECT_LABELS.get(o, o)}
                            for o in doc.get("service_objects") or () if isinstance(o, str)],
        "conditions": [{"id": c.get("id"), "text": _text(c.get("text"))} for c in _entries(doc, "conditions")],
        "materials": materials,
        "materials_to_bring": sum(1 for m in materials if m["provide"]["bring"]),
        "materials_from_e_license": sum(1 for m in materials if m["provide"]["e_license"]),
        "process": process,
        "time_limits": time_limits(doc),
        "handling_type": doc.get("handling_type"),
        "handling_label": HANDLING_LABELS.get(doc.get("handling_type") or "", ""),
        "visits": visits if isinstance(visits, int) and not isinstance(visits, bool) else None,
        "visits_text": _visits_text(visits),
        "online_depth": depth if depth in ONLINE_DEPTH_LABELS else None,
        "online_depth_label": ONLINE_DEPTH_LABELS.get(depth, "") if isinstance(depth, int) else "",
        "channels": [{"code": c, "label": CHANNEL_LABELS.get(c, c)}
                     for c in doc.get("channels") or () if isinstance(c, str)],
        "scope": scope, "scope_label": SCOPE_LABELS.get(scope or "", ""),
        "commitment": bool(doc.get("commitment")),
        "fees": fees,
        "fee_text": "收费" if fees else "不收费",
        "location": _text(doc.get("location")),
        "hours": _text(doc.get("hours")),
        "phone": _text(doc.get("phone")),
        "complaint_phone": _text(doc.get("complaint_phone")),
        "faq": [{"id": q.get("id"), "question": _text(q.get("question")), "answer": _text(q.get("answer"))}
                for q in _entries(doc, "faq")],
        "result": {"name": _text(result.get("name")), "kind": _text(result.get("kind"))} if result else None,
        "aliases": [a for a in doc.get("aliases") or () if isinstance(a, str) and a.strip()],
        "badges": search_badges(doc),
    }
