"""The demonstration province behind `govhall demo`: places, departments, staff, catalogue, local items.

`load(ctx)` builds 河南省 › 平顶山市 with its ten county-level regions, the departments of the city and of
three counties (valid GB 32100 credit codes), a catalogue of about three hundred items of every item
type, and the local items each department claims, fills in and publishes through the editorial
workflow, then about 150 cases of 40 citizens with their ratings (scripts/demo_hall.py). It is
idempotent: a second run finds everything in place and writes nothing.

Demo staff accounts (demonstration passwords, not for production):

    admin                        province_admin   demo-admin
    editor-<region>-<dept>       editor           demo-editor     e.g. editor-410400-gaj
    window-<region>-scjg         window_staff     demo-window     e.g. window-410403-scjg
    reviewer-<region>            reviewer         demo-reviewer   e.g. reviewer-410400, reviewer-410421
    reform-410000, reform-410400 reform_office    demo-reform

Department keys: gaj 公安, scjg 市场监管, zjj 住建, rsj 人社, mzj 民政, wjw 卫健, jtj 交通, zrzy 自然资源,
ybj 医保, swj 税务, jyj 教育, sthj 生态环境, gjj 公积金, wlj 文旅, nyj 农业农村, slj 水利, yjj 应急.
"""
from __future__ import annotations

import copy
import json
import logging
import random
from dataclasses import dataclass
from typing import Callable

from items import codes, model, store
from items.errors import Invalid, Unavailable
from items.scope import Actor
from scripts import demo_hall
from scripts.demo_plan import num
from scripts import demo_paperwork as paperwork
from scripts import demo_vocabulary as vocab

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
CATALOGUE_FILE = "demo-catalogue.json"
# Workflow steps from each status towards "published" (items/workflow.py TRANSITIONS).
NEXT_ACTION = {"draft": "submit", "withdrawn": "submit", "submitted": "approve", "approved": "publish"}
ENFORCEMENT = ("02", "03", "06")  # items the government starts: no application, no online handling
WINDOW_DEPARTMENT = "scjg"  # the demo's window staff serve at the market-regulation windows
IN_PERSON = ("身份证", "护照", "通行证", "婚", "驾驶证核发", "出生登记")  # fingerprints, photos, vows


@dataclass(frozen=True)
class Department:
    """One implementing body of the demonstration: its domain key, name, region and level."""

    key: str
    name: str
    region_code: str
    region_name: str
    level: str

    @property
    def credit_code(self) -> str:
        # 1 机构编制 + 1 机关, the region, and a 9-character organisation code: GB 32100 layout
        return codes.make_credit_code(f"11{self.region_code}MB{num(self.name) % 10_000_000:07d}")

    @property
    def phone(self) -> str:
        return f"{vocab.AREA_CODE}-{2_000_000 + num('phone:' + self.name) % 8_000_000}"


@dataclass(frozen=True)
class Spec:
    """One catalogue item of the demonstration with the local words its guide uses."""

    domain: str
    basic_code: str
    document: dict
    result: str
    aliases: tuple[str, ...]


# --- the catalogue ------------------------------------------------------------------------------

TYPE_CONDITIONS = {
    "01": "申请材料齐全、符合法定形式", "04": "纳税人或缴费人依法负有缴纳义务",
    "05": "申请人符合给付条件且未重复享受同类待遇", "07": "申请人提交的材料真实、有效",
    "08": "符合奖励条件并经评审认定", "09": "争议当事人依法提出裁决申请，且争议属于本机关裁决范围",
    "10": "材料齐全、符合规定形式", "20": "申请人信息真实、完整",
    "02": "违法事实清楚、证据确凿", "03": "有证据证明存在违法行为且情况紧急", "06": "依据年度检查计划或投诉举报线索",
}
TYPE_STEPS = {
    "02": ("立案", "调查取证", "告知", "决定", "送达"), "03": ("审批", "告知", "实施", "解除或处理"),
    "06": ("制定检查计划", "实施检查", "结果处理"), "05": ("受理", "审核", "公示", "给付"),
}
FORM_NAMES = {"04": "申报表", "08": "推荐表", "09": "裁决申请书", "10": "备案表"}
LIMIT_NOTES = {"02": "自立案之日起计算", "03": "自实施之日起计算"}


def _legal_limit(text: str, item_type: str) -> dict | None:
    if text == "-":
        return None
    unit = "calendar_day" if text.endswith("c") else "workday"
    return {"value": int(text.rstrip("c")), "unit": unit, "note": LIMIT_NOTES.get(item_type, "")}


def _materials(domain: vocab.Domain, item_type: str, name: str, objects: list[str]) -> list[dict]:
    if item_type in ("03", "06"):
        return []
    if item_type == "02":
        return [dict(_material("陈述申辩材料", "applicant", "", "optional", "当事人要求陈述申辩时提交"), id="m1")]
    out = [_material(*paperwork.IDENTITY_MATERIALS[objects[0]])]
    out.append(_material(name.split("（")[0] + FORM_NAMES.get(item_type, "申请表"), "applicant", ""))
    picks = domain.materials[num(name) % len(domain.materials):][:1 + num("more:" + name) % 2]
    for i, (m_name, source, licence) in enumerate(picks):
        deferrable = item_type == "01" and i == len(picks) - 1 and num("defer:" + name) % 4 == 0
        out.append(_material(m_name, source, licence, "deferrable" if deferrable else "required",
                             "可容缺受理，承诺期限内补齐" if deferrable else ""))
    if objects[0] == "person":
        out.append(_material("授权委托书", "applicant", "", "optional", "委托他人代办时提交"))
    return [dict(m, id=f"m{i}") for i, m in enumerate(out, 1)]


def _material(name: str, source: str, licence: str, necessity: str = "required", note: str = "") -> dict:
    if licence and not note:
        note = "可通过电子证照库调取，免于提交"
    return {"name": name, "necessity": necessity, "source": source, "form": "electronic" if licence else "both",
            "originals": 0 if licence else 1, "copies": 0 if licence else 1, "e_license": licence or None,
            "note": note}


def _process(item_type: str, legal: dict | None) -> list[dict]:
    names = TYPE_STEPS.get(item_type, ("受理", "审查", "决定", "送达") if item_type in ("01", "07", "09")
                           else ("受理", "审核", "办结"))
    days = model.to_days(legal)
    steps = []
    for i, name in enumerate(names):
        limit = None
        if days is not None and item_type not in ENFORCEMENT:
            first_or_last = 1 if days >= 3 else 0
            middle = int(days) - 2 * first_or_last
            limit = {"value": middle if i == 1 else first_or_last if i in (0, 2) else 0, "unit": "workday"}
        steps.append({"id": f"p{i + 1}", "name": name, "limit": limit, "note": ""})
    return steps


def _faq(item_type: str, name: str, fee: tuple | None) -> list[dict]:
    if item_type in ENFORCEMENT:
        pairs = [("对处理结果不服怎么办？", "可以依法申请行政复议或者提起行政诉讼。")]
    else:
        pairs = [(f"办理{name}收费吗？", f"收费：{fee[0]}，{fee[1]}。依据{fee[2]}。" if fee else "不收费。"),
                 ("可以委托他人代为办理吗？", "不可以，需申请人本人到场。" if any(w in name for w in IN_PERSON)
                  else "可以。代办人需提供本人居民身份证和申请人签署的授权委托书。")]
        pairs.append(("如何查询办理进度？", "凭办件编号在政务服务网或政务服务小程序的“办件查询”中查询，也可拨打咨询电话。"))
    return [{"id": f"q{i}", "question": q, "answer": a} for i, (q, a) in enumerate(pairs, 1)]


def catalogue_specs() -> list[Spec]:
    """The demonstration catalogue: every vocabulary line as one item, or one sub-item per variant."""
    specs = []
    for domain in vocab.DOMAINS:
        for seq, line in enumerate(domain.items.strip().splitlines(), 1):
            item_type, name, levels, limit, result, aliases, objects, variants, fee_key, cite = line.split("|")
            law_index, article = cite.split(":")
            kind, title, _ = domain.laws[int(law_index)]
            basis = [{"id": "b1", "kind": kind, "title": title, "article": article, "text": f"《{title}》{article}"}]
            local_law = next((law for law in domain.laws if law[0] == "地方性法规" and law[1] != title), None)
            if local_law and num("local:" + name) % 3 == 0:
                basis.append({"id": "b2", "kind": local_law[0], "title": local_law[1], "article": local_law[2][0],
                              "text": f"《{local_law[1]}》{local_law[2][0]}"})
            source = "41" if kind == "地方性法规" else "00"  # a province's own item carries its prefix
            fee = paperwork.FEES.get(fee_key)
            parts = [v for v in variants.split(",") if v] or [""]
            for sub, variant in enumerate(parts, 1 if variants else 0):
                full = f"{name}（{variant}）" if variant else name
                who = [paperwork.OBJECT_LETTERS[c] for c in objects]
                legal = _legal_limit(limit, item_type)
                doc = {
                    "basic_code": f"{source}{item_type}{domain.digits}{seq:03d}{sub:03d}", "name": full,
                    "item_type": item_type, "basis": basis, "levels": levels.split(","), "state": "in_use",
                    "legal_limit": legal, "service_objects": who,
                    "conditions": [{"id": f"c{i}", "text": t} for i, t in enumerate(
                        (TYPE_CONDITIONS[item_type],) + ((domain.conditions[num(full) % 2],)
                                                         if item_type not in ENFORCEMENT else ()), 1)],
                    "materials": _materials(domain, item_type, full, who),
                    "process": _process(item_type, legal),
                    "fees": [{"id": "f1", "name": fee[0], "standard": fee[1], "basis": fee[2]}] if fee else [],
                    "faq": _faq(item_type, full, fee),
                }
                words = tuple(a for a in aliases.split(",") if a) if sub <= 1 else ()
                specs.append(Spec(domain.key, doc["basic_code"], doc, result, words))
    return specs


# --- local elements -----------------------------------------------------------------------------

SCOPES = ((None, 40), ("cross_county", 20), ("cross_city", 20), ("cross_province", 12), ("nationwide", 8))
FLOORS = "一二三"


def _pick(rng: random.Random, weighted) -> object:
    values, weights = zip(*weighted)
    return rng.choices(values, weights)[0]


def _promised(rng: random.Random, item_type: str, legal: dict | None) -> dict | None:
    """A promised limit ≤ the legal limit (DOMAIN.md §3); 0 means an instant item."""
    days = model.to_days(legal)
    if item_type in ENFORCEMENT:
        if legal is None:
            return None
        return {"value": int(legal["value"] * rng.choice((0.5, 0.75, 1))), "unit": legal["unit"], "note": ""}
    if days == 0 or rng.random() < (0.2 if item_type == "01" else 0.35):
        return {"value": 0, "unit": "workday", "note": "即时办结"}
    if days is None:
        return {"value": rng.choice((1, 3, 5, 10)), "unit": "workday", "note": ""}
    if legal["unit"] == "calendar_day" and rng.random() < 0.5:
        return {"value": max(1, int(legal["value"] * rng.choice((0.25, 0.5, 1)))), "unit": "calendar_day", "note": ""}
    whole = int(days)
    if whole < 1:
        return {"value": 0, "unit": "workday", "note": "即时办结"}
    return {"value": max(1, int(whole * rng.choice((0.1, 0.2, 0.25, 1 / 3, 0.5, 0.6, 1)))), "unit": "workday",
            "note": ""}


def local_document(current: dict, spec: Spec, dept: Department) -> dict:
    """The local elements `dept` fills in for `spec`, varied but valid (items/rules.py), on top of
    `current` (the claimed document). Deterministic per implementation code."""
    doc = copy.deepcopy(current)
    rng = random.Random(num(doc["impl_code"]))
    item_type, name = doc["item_type"], doc["name"]
    promised = _promised(rng, item_type, doc.get("legal_limit"))
    instant = promised is not None and model.to_days(promised) == 0
    if item_type in ENFORCEMENT:
        depth, visits, channels, scope = 1, 1, ["window"], None
    else:
        in_person = any(w in name for w in IN_PERSON)
        depth = _pick(rng, ((1, 10), (2, 25), (3, 35), (4, 0 if in_person else 30)))
        visits = 0 if depth == 4 else rng.choice((0, 1)) if depth == 3 and not in_person else \
            1 if depth >= 2 else rng.choice((1, 2))
        channels = ["window"] + (["pc"] if depth >= 2 else []) + (["mobile"] if depth >= 3 else [])
        if (visits == 0 and depth < 4) or rng.random() < 0.3:
            channels.append("express")  # no visit and not fully online: results go out by post, DOMAIN.md §3
        scope = _pick(rng, SCOPES)
    window = 1 + num("window:" + dept.name) % 30
    doc.update({
        "promised_limit": promised,
        "handling_type": "instant" if instant else "promised",  # promised 0 ⇔ 即办件: DOMAIN.md §3
        "visits": visits, "online_depth": depth, "channels": channels, "scope": scope,
        "commitment": item_type in ("01", "07") and rng.random() < 0.25,
        "location": f"{dept.region_name}政务服务中心{FLOORS[window % 3]}楼{window}号窗口（{dept.name}）",
        "hours": vocab.HOURS if window % 2 else vocab.HOURS_WINTER,
        "phone": dept.phone, "complaint_phone": f"{vocab.AREA_CODE}-{vocab.COMPLAINT_PHONE}",
        "result": {"name": spec.result, "kind": "certificate" if spec.result.endswith(("证", "照", "证书", "卡", "标志"))
                   else "document"} if spec.result else None,
        "aliases": list(spec.aliases),
    })
    return doc


def publish_target(impl_code: str) -> str:
    """Where the demonstration leaves an item: most published, some awaiting review, a few drafts."""
    share = num("publish:" + impl_code) % 100
    return "published" if share < 85 else "submitted" if share < 93 else "draft"


def departments() -> list[Department]:
    """Every department of the demonstration, city first, with a deterministic valid credit code."""
    city_code, city = vocab.CITY
    counties = dict(vocab.COUNTIES)
    out = []
    for domain in vocab.DOMAINS:
        name = vocab.CITY_STYLE.get(domain.key, "{city}" + domain.name).format(city=city)
        out.append(Department(domain.key, name, city_code, city, "3"))
    for region, keys in vocab.COUNTY_DEPARTMENTS.items():
        county = counties[region]
        for key in keys:
            domain = next(d for d in vocab.DOMAINS if d.key == key)
            style = vocab.DISTRICT_STYLE.get(key) if county.endswith("区") else None
            name = (style or "{county}" + domain.name).format(city=city, county=county, county_short=county[:-1])
            out.append(Department(key, name, region, county, "4"))
    return out


def load(ctx, progress: Progress | None = None) -> dict:
    """Load the demonstration province into ctx's database → a summary of what exists and what changed.

    Raises Unavailable(workflow_missing) when ctx has no workflow service to publish through, and
    Invalid when the generated catalogue fails the importer's rules (a defect of the vocabulary).
    """
    ctx.db.connect(reuse_if_open=True)
    depts = departments()
    _load_places(depts)
    staff = _load_staff(ctx, depts)
    catalogue = _load_catalogue(ctx, staff["admin"])
    local = _load_local_items(ctx, depts, staff, progress)
    hall = load_hall(ctx)
    return {
        "province": {"code": vocab.PROVINCE[0], "name": vocab.PROVINCE[1]},
        "city": {"code": vocab.CITY[0], "name": vocab.CITY[1]},
        "regions": 2 + len(vocab.COUNTIES),
        "departments": len(depts),
        "catalogue": catalogue,
        "local_items": local,
        "hall": hall,
        "accounts": {"created": staff["created"], "existing": staff["existing"],
                     "passwords": dict(paperwork.STAFF_PASSWORDS),
                     "usernames": ["admin", "editor-<region>-<dept>", "window-<region>-scjg",
                                   "reviewer-<region>", "reform-410000", "reform-410400"]},
    }


def _load_places(depts: list[Department]) -> None:
    province, city = vocab.PROVINCE, vocab.CITY
    with store.transaction():
        store.ensure_region(province[0], province[1], None, "2")
        store.ensure_region(city[0], city[1], province[0], "3")
        for code, name in vocab.COUNTIES:
            store.ensure_region(code, name, city[0], "4")
        for dept in depts:
            store.ensure_org(dept.credit_code, dept.name, dept.region_code, dept.level)


def _staff_plan(depts: list[Department]) -> list[tuple[str, str, str | None, str | None]]:
    """(username, role, org, region) of every demo account."""
    plan: list[tuple[str, str, str | None, str | None]] = [("admin", "province_admin", None, None)]
    for dept in depts:
        plan.append((f"editor-{dept.region_code}-{dept.key}", "editor", dept.credit_code, dept.region_code))
        # one window account per region: each argon2 hash costs ~0.4 s, and the demo should load fast
        if dept.key == WINDOW_DEPARTMENT:
            plan.append((f"window-{dept.region_code}-{dept.key}", "window_staff", dept.credit_code,
                         dept.region_code))
    for region in sorted({d.region_code for d in depts}):
        plan.append((f"reviewer-{region}", "reviewer", None, region))
    plan += [("reform-410000", "reform_office", None, "410000"), ("reform-410400", "reform_office", None, "410400")]
    return plan


def _load_staff(ctx, depts: list[Department]) -> dict:
    """Create the demo accounts that do not exist yet; existing ones (and their passwords) stay as they are."""
    actors: dict[str, Actor] = {}
    created = existing = 0
    for username, role, org, region in _staff_plan(depts):
        user = store.get_user(username)
        if user is None:
            actors[username] = ctx.accounts.create_user(username, paperwork.STAFF_PASSWORDS[role], role, org, region)
            created += 1
        else:
            actors[username] = Actor(username=user.username, role=user.role, org=user.org, region=user.region,
                                     user_id=user.id)
            existing += 1
    return {"admin": actors["admin"], "actors": actors, "created": created, "existing": existing}


def _load_catalogue(ctx, admin: Actor) -> dict:
    """Import the generated catalogue through the catalogue service; a dry run first, so an unchanged
    catalogue writes nothing (not even an audit entry)."""
    documents = [spec.document for spec in catalogue_specs()]
    data = json.dumps({"items": documents}, ensure_ascii=False).encode()
    report = ctx.catalogue.import_file(data, CATALOGUE_FILE, admin, dry_run=True)
    if report["errors"]:
        raise Invalid("the demonstration catalogue fails the import rules", code="demo_catalogue_invalid",
                      details={"errors": report["errors"][:20]})
    if report["created"] or report["updated"]:
        report = ctx.catalogue.import_file(data, CATALOGUE_FILE, admin, message="demonstration catalogue")
    by_type: dict[str, int] = {}
    for doc in documents:
        by_type[doc["item_type"]] = by_type.get(doc["item_type"], 0) + 1
    return {"items": len(documents), "created": report["created"], "updated": report["updated"],
            "unchanged": report["unchanged"], "by_type": dict(sorted(by_type.items()))}


def _load_local_items(ctx, depts: list[Department], staff: dict, progress: Progress | None) -> dict:
    specs = catalogue_specs()
    plan = [(dept, spec) for dept in depts for spec in specs
            if spec.domain == dept.key and dept.level in spec.document["levels"]]
    heads = {h.impl_code: h for h in store.list_local(region_prefix="41", page=1, size=1_000_000)[0]}
    counts = {"planned": len(plan), "claimed": 0, "revised": 0, "workflow_steps": 0}
    actors = staff["actors"]
    for done, (dept, spec) in enumerate(plan, 1):
        editor = actors[f"editor-{dept.region_code}-{dept.key}"]
        reviewer = actors[f"reviewer-{dept.region_code}"]
        impl_code = codes.make_impl_code(dept.credit_code, dept.level, spec.basic_code)
        if impl_code not in heads:
            ctx.items.claim(spec.basic_code, dept.credit_code, dept.level, dept.region_code, editor)
            counts["claimed"] += 1
        current = ctx.items.get(impl_code)
        desired = local_document(current["document"], spec, dept)
        if desired != current["document"]:
            if current["status"] in ("submitted", "approved"):  # locked while in review
                _workflow(ctx, "recall", impl_code, editor)
            ctx.items.replace(impl_code, desired, current["latest_version"], editor,
                              message="demonstration local elements")
            counts["revised"] += 1
        counts["workflow_steps"] += _advance(ctx, impl_code, publish_target(impl_code), editor, reviewer)
        if progress:
            progress(done, len(plan))
    counts.update(_status_counts())
    return counts


def _advance(ctx, impl_code: str, target: str, editor: Actor, reviewer: Actor) -> int:
    """Move an item through the workflow towards `target` (published, submitted or draft) → steps taken.
    An item already further along than its target is left where it is."""
    steps = 0
    status = store.local_head(impl_code).status
    while True:
        if target == "draft" or status == target or status not in NEXT_ACTION:
            return steps  # "published" with nothing newer on top is the end of the road
        if target == "submitted" and status != "draft" and status != "withdrawn":
            return steps
        action = NEXT_ACTION[status]
        if action == "publish":
            moved = _publish(ctx, impl_code, reviewer)
        else:
            moved = _workflow(ctx, action, impl_code, editor if action == "submit" else reviewer)
        status = moved["status"]  # what the step left the item in: no second read
        steps += 1


def _workflow(ctx, action: str, impl_code: str, actor: Actor) -> dict:
    workflow = getattr(ctx, "workflow", None)
    if workflow is None:
        raise Unavailable("the workflow module (items/workflow.py, ctx.workflow) is missing: local items were "
                          "claimed and filled as drafts but cannot be submitted or published; run "
                          "`govhall demo` again once it is installed", code="workflow_missing",
                          details={"impl_code": impl_code, "action": action})
    return getattr(workflow, action)(impl_code, actor, comment="demonstration data")


def _publish(ctx, impl_code: str, actor: Actor) -> dict:
    """Publish an approved item through ctx.workflow, never by writing status columns.
    Raises Unavailable(workflow_missing) when the context has no workflow service."""
    return _workflow(ctx, "publish", impl_code, actor)


def _status_counts() -> dict:
    rows = store.list_local(region_prefix="41", page=1, size=1_000_000)[0]
    by_status: dict[str, int] = {}
    published_by_type: dict[str, int] = {}
    for head in rows:
        by_status[head.status] = by_status.get(head.status, 0) + 1
        if head.published_version is not None:
            kind = head.basic_code[2:4]
            published_by_type[kind] = published_by_type.get(kind, 0) + 1
    return {"total": len(rows), "by_status": dict(sorted(by_status.items())),
            "published_by_type": dict(sorted(published_by_type.items()))}


def load_hall(ctx) -> dict:
    """Cases and ratings of the branch hall (scripts/demo_hall.py) → their summary; nothing until the
    context has a hall service (ctx.hall). Raises what the hall's services raise for a refused move."""
    if getattr(ctx, "hall", None) is None:
        return {"loaded": False, "reason": "ctx.hall is absent: no cases or ratings yet"}
    return demo_hall.load(ctx, departments())
