"""The console's navigation: which pages each role sees. Page modules add their entries to NAV."""
from __future__ import annotations

# (url, label, roles that see it), in display order. A role's home is its first entry.
NAV: list[tuple[str, str, tuple[str, ...]]] = [
    ("/console/items", "本部门事项", ("editor",)),
    ("/console/coverage", "认领事项", ("editor",)),
    ("/console/review", "待审核事项", ("reviewer", "province_admin")),
    ("/console/catalogue", "基本目录", ("province_admin",)),
    ("/console/catalogue/import", "导入目录", ("province_admin",)),
    ("/console/synonyms", "同义词", ("province_admin",)),
    ("/console/reform", "改革指标", ("reform_office", "province_admin")),
    ("/console/cases", "办件", ("window_staff",)),
    ("/console/rectifications", "差评整改", ("window_staff",)),
    ("/console/directory/regions", "行政区划", ("province_admin",)),
    ("/console/directory/departments", "部门", ("province_admin",)),
    ("/console/directory/staff", "工作人员账号", ("province_admin",)),
    ("/console/directory/import", "导入区划和部门", ("province_admin",)),
]


def navigation(actor, current_path: str) -> list[dict]:
    """The entries `actor` may open → [{url, label, current}]; none when nobody is signed in."""
    if actor is None:
        return []
    out = [{"url": url, "label": label, "current": current_path == url or current_path.startswith(url + "/")}
           for url, label, roles in NAV if actor.role in roles]
    # Only the most specific entry is current (导入目录 under 基本目录 is not both).
    best = max((e["url"] for e in out if e["current"]), key=len, default=None)
    for entry in out:
        entry["current"] = entry["url"] == best
    return out
