"""Sample documents shared by test packages (import as `from samples import …`; tests/ is on sys.path)."""
from __future__ import annotations


def building_permit() -> dict:
    """A catalogue item of CONTRACT.md §2: 建筑工程施工许可证核发, applying at city and county level."""
    return {
        "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
        "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条",
                   "text": "建筑工程开工前……"}],
        "levels": ["3", "4"], "state": "in_use",
        "legal_limit": {"value": 15, "unit": "workday", "note": ""},
        "service_objects": ["enterprise"],
        "conditions": [{"id": "c1", "text": "已经办理该建筑工程用地批准手续"}],
        "materials": [{"id": "m1", "name": "建筑工程施工许可证申请表", "necessity": "required", "source": "applicant",
                       "form": "both", "originals": 1, "copies": 0, "e_license": "", "note": ""}],
        "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
        "fees": [], "faq": [],
    }
