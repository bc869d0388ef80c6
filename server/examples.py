"""Request-body examples by handler and method: one valid body per main write, shown in the OpenAPI description.

The generator puts each on its operation's JSON media types as `example`; schemathesis's explicit phase sends
it as it is, so the fuzz test reaches these writes' success answers (tests/fuzz seeds the places they name:
广安市广安区 and its 住房和城乡建设局). Bodies only: path parameters and headers are the caller's.
"""
from __future__ import annotations

from items.codes import make_credit_code

REGION = "511602"                                   # 四川省广安市广安区
DEPARTMENT = make_credit_code("11511602MB0000011")  # 广安区住房和城乡建设局
CATALOGUE_ITEM = "000104003000"                     # 建设工程消防验收, claimed in the example below

BODIES: dict[str, object] = {
    # province administration: the directory, accounts, the working-day calendar, search synonyms
    "RegionListHandler.post": {"code": "511621", "name": "岳池县", "parent": "511600", "level": "4"},
    "RegionHandler.patch": {"name": "广安区"},
    "DepartmentListHandler.post": {"credit_code": make_credit_code("11511602MB0000029"),
                                   "name": "广安区市场监督管理局", "region_code": REGION, "level": "4"},
    "DepartmentHandler.patch": {"name": "广安区住房和城乡建设局"},
    "UserListHandler.post": {"username": "guangan-editor", "password": "Guangan-2026-editor", "role": "editor",
                             "org": DEPARTMENT},
    "UserHandler.patch": {"disabled": False},
    # 国办发明电〔2025〕7号: the 2026 holidays and the weekend days worked instead
    "HolidayYearHandler.put": {
        "holidays": ["2026-01-01", "2026-01-02", "2026-01-03", "2026-02-15", "2026-02-16", "2026-02-17",
                     "2026-02-18", "2026-02-19", "2026-02-20", "2026-02-21", "2026-02-22", "2026-02-23",
                     "2026-04-04", "2026-04-05", "2026-04-06", "2026-05-01", "2026-05-02", "2026-05-03",
                     "2026-05-04", "2026-05-05", "2026-06-19", "2026-06-20", "2026-06-21", "2026-09-25",
                     "2026-09-26", "2026-09-27", "2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04",
                     "2026-10-05", "2026-10-06", "2026-10-07"],
        "workdays": ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"],
        "source": "国办发明电〔2025〕7号"},
    "SynonymHandler.put": {"expansions": ["营业执照", "工商登记"], "source": "广安区政务服务中心窗口常见问法"},
    # local items: claim, edit, the editorial workflow
    "ItemListHandler.post": {"basic_code": CATALOGUE_ITEM, "org_credit_code": DEPARTMENT, "level": "4",
                             "region_code": REGION},
    "ItemHandler.patch": [{"op": "add", "path": "/phone", "value": "0826-2338110"}],
    "TransitionHandler.post": {"comment": "承诺时限已按本地实际压缩，请审核"},
    # the branch hall and the window
    "HallSubscriptionHandler.post": {"template_id": "TMPL_case_progress_01", "accepted": 1},
    "HallRatingHandler.post": {"level": "satisfied", "comment": "窗口一次性告知了所需材料，没有多跑"},
    "RevealHandler.post": {"reason": "申请人来电核对身份信息"},
    "CaseActionHandler.post": {"action": "accept", "opinion": "材料齐全，符合法定形式，予以受理"},
}


def body(handler: str, method: str) -> object | None:
    """The example body of `handler.method`, or None when it has none."""
    return BODIES.get(f"{handler}.{method}")
