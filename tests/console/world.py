"""A seeded world for console tests, screenshots and benchmarks: regions, two departments, staff with
real passwords, catalogue items, and one claimed item (import as `from console.world import seed`)."""
from __future__ import annotations

import copy

from items import store
from items.codes import make_credit_code
from items.scope import Actor

ORG_A = make_credit_code("11410402MB1234567")   # 卫东区住房和城乡建设局
ORG_B = make_credit_code("11410402MB7654321")   # 卫东区市场监督管理局
PASSWORD = "console-pass-1"
STAFF = (("admin", "province_admin", None, None), ("editor_a", "editor", ORG_A, "410402"),
         ("editor_a2", "editor", ORG_A, "410402"), ("editor_b", "editor", ORG_B, "410402"),
         ("reviewer", "reviewer", None, "410402"))
CATALOGUE_NAMES = ("建筑工程施工许可证核发", "建筑工程竣工验收备案", "房屋建筑工程质量监督登记",
                   "建设工程消防验收", "城市建筑垃圾处置核准", "燃气经营许可证核发")


def catalogue_document(basic_code: str, name: str) -> dict:
    """A catalogue item of CONTRACT.md §2 applying at city and county level."""
    return {
        "basic_code": basic_code, "name": name, "item_type": "01",
        "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "建筑工程开工前……"}],
        "levels": ["3", "4"], "state": "in_use",
        "legal_limit": {"value": 15, "unit": "workday", "note": ""},
        "service_objects": ["enterprise"],
        "conditions": [{"id": "c1", "text": "已经办理该建筑工程用地批准手续"}],
        "materials": [{"id": "m1", "name": f"{name}申请表", "necessity": "required", "source": "applicant",
                       "form": "both", "originals": 1, "copies": 0, "e_license": None, "note": ""},
                      {"id": "m2", "name": "营业执照", "necessity": "required", "source": "government",
                       "form": "electronic", "originals": 0, "copies": 0, "e_license": "营业执照", "note": ""}],
        "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""},
                    {"id": "p2", "name": "审查", "limit": {"value": 3, "unit": "workday"}, "note": ""},
                    {"id": "p3", "name": "决定", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
        "fees": [], "faq": [],
    }


def basic_code(n: int) -> str:
    return f"0001040{n:02d}000"


def seed(ctx, hash_passwords: bool = True) -> dict:
    """Regions, departments, staff (password PASSWORD), the catalogue of CATALOGUE_NAMES and one item
    claimed by ORG_A → {"claimed": impl_code, "basic_codes": [...]}. Runs on the caller's thread."""
    with ctx.db.connection_context():
        store.ensure_region("410000", "河南省", None, "2")
        store.ensure_region("410400", "平顶山市", "410000", "3")
        store.ensure_region("410402", "卫东区", "410400", "4")
        store.ensure_org(ORG_A, "卫东区住房和城乡建设局", "410402", "4")
        store.ensure_org(ORG_B, "卫东区市场监督管理局", "410402", "4")
        for name, role, org, region in STAFF:
            if hash_passwords:
                ctx.accounts.create_user(name, PASSWORD, role, org, region)
            else:
                store.save_user(name, "!", role, org, region)
        admin = Actor("admin", "province_admin")
        codes = []
        for n, name in enumerate(CATALOGUE_NAMES, start=2):
            codes.append(basic_code(n))
            ctx.catalogue.put(basic_code(n), catalogue_document(basic_code(n), name), admin)
        editor = Actor("editor_a", "editor", ORG_A, "410402")
        claimed = ctx.items.claim(codes[0], ORG_A, "4", "410402", editor)["impl_code"]
    return {"claimed": claimed, "basic_codes": codes}


def revise_catalogue(ctx, code: str, change) -> None:
    """Write a new catalogue version of `code` with `change(document)` applied (for rebase journeys)."""
    with ctx.db.connection_context():
        doc = copy.deepcopy(ctx.catalogue.get(code)["document"])
        change(doc)
        ctx.catalogue.put(code, doc, Actor("admin", "province_admin"))
