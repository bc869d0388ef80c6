"""Published items across a small province for the reform dashboard: two cities, three counties, their
departments and reform offices, items published on known days (import as `from console.reform_world import
seed_reform`). Items enter the statistics through the publish hook itself (items.stats.record_publish)."""
from __future__ import annotations

import datetime as dt
import random

from items import store
from items.codes import make_credit_code
from items.stats import record_publish
from console.world import PASSWORD, catalogue_document

# (code, name, parent, level)
REGIONS = (("410000", "河南省", None, "2"), ("410400", "平顶山市", "410000", "3"), ("410402", "卫东区", "410400", "4"),
           ("410403", "石龙区", "410400", "4"), ("410300", "洛阳市", "410000", "3"), ("410302", "老城区", "410300", "4"))
# (credit seed, name, region, level)
ORGS = (("11410402MB1234567", "卫东区住房和城乡建设局", "410402", "4"),
        ("11410402MB7654321", "卫东区市场监督管理局", "410402", "4"),
        ("11410403MB1111111", "石龙区行政审批服务局", "410403", "4"),
        ("11410400MB2222222", "平顶山市自然资源和规划局", "410400", "3"),
        ("11410300MB3333333", "洛阳市行政审批服务局", "410300", "3"),
        ("11410302MB4444444", "老城区民政局", "410302", "4"))
OFFICES = (("reform_city", "reform_office", "410400"), ("reform_county", "reform_office", "410402"),
           ("reform_luoyang", "reform_office", "410300"))
ITEM_TYPES = ("01", "01", "20", "07", "10")
# Items are published on these days (China time, 10:00); the dashboard tests compare the ends of them.
DAYS = (dt.date(2026, 3, 2), dt.date(2026, 5, 11), dt.date(2026, 7, 20))


def local_document(rng: random.Random, n: int, org: tuple, code: str) -> dict:
    """A published local item (CONTRACT.md §2) of department `org` with varied reform facts."""
    item_type = ITEM_TYPES[n % len(ITEM_TYPES)]
    basic = f"00{item_type}{n:04d}000"
    doc = catalogue_document(basic, f"第{n}号{org[1][:3]}事项")
    legal = rng.choice((5, 10, 15, 20, 30))
    promised = rng.choice((0, legal // 2, legal - 1, legal))
    depth = rng.choice((2, 3, 4, 4))
    doc.update(item_type=item_type, level=org[3], region_code=org[2], impl_code=code + org[3] + basic,
               org={"credit_code": code, "name": org[1]},
               legal_limit={"value": legal, "unit": "workday", "note": ""},
               promised_limit={"value": promised, "unit": "workday", "note": ""},
               handling_type="instant" if promised == 0 else "promised",
               visits=0 if depth == 4 else rng.choice((1, 1, 2)), online_depth=depth,
               channels=["window", "pc"], scope=None, commitment=rng.random() < 0.3,
               location="政务服务中心一楼综合窗口", hours="工作日 9:00-17:00", phone="0375-1234567",
               complaint_phone="12345", result={"name": "批准文书", "kind": "certificate"}, aliases=[])
    if rng.random() < 0.4:
        doc["materials"][0]["e_license"] = "身份证"
    return doc


def seed_reform(ctx, per_org: int = 8, seed: int = 10, hash_passwords: bool = True) -> dict:
    """Regions, departments, reform offices (password PASSWORD) and `per_org` items per department, a
    third of them published on each day of DAYS → {"days": DAYS, "items": n}. Runs on the caller's thread.
    The tests' world (console.world.seed) may run before: regions and departments are upserted."""
    rng = random.Random(seed)
    count = 0
    with ctx.db.connection_context():
        for region in REGIONS:
            store.ensure_region(*region)
        orgs = [(make_credit_code(c), name, region, level) for c, name, region, level in ORGS]
        for code, name, region, level in orgs:
            store.ensure_org(code, name, region, level)
        for name, role, region in OFFICES:
            if store.get_user(name) is None:
                if hash_passwords:
                    ctx.accounts.create_user(name, PASSWORD, role, None, region)
                else:
                    store.save_user(name, "!", role, None, region)
        with store.transaction():
            for o, org in enumerate(orgs):
                for n in range(per_org):
                    doc = local_document(rng, o * 1000 + n, org, org[0])
                    day = DAYS[n % len(DAYS)]
                    at = dt.datetime.combine(day, dt.time(2, 0))   # 10:00 in China, as naive UTC
                    record_publish(doc["impl_code"], 1, doc, at)
                    count += 1
    return {"days": DAYS, "items": count}
