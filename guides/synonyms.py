"""Colloquial search words: the default synonym table and stripping of the verbs citizens wrap around a name."""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence

from items.errors import Invalid

# How citizens say it → how item names say it. Seeded into the operator-editable table on first install
# (guides.search_index.create_search_schema); operators change it with set_synonym/delete_synonym.
DEFAULT_SYNONYMS: dict[str, list[str]] = {
    "驾照": ["驾驶证", "机动车驾驶证"],
    "低保": ["最低生活保障"],
    "身份证": ["居民身份证"],
    "社保": ["社会保险"],
    "医保": ["医疗保障", "医疗保险"],
    "公积金": ["住房公积金"],
    "户口": ["户籍", "常住户口"],
    "营业执照": ["设立登记", "企业登记", "个体工商户登记"],
    "个体户": ["个体工商户"],
    "护照": ["普通护照", "出入境证件"],
    "港澳通行证": ["往来港澳通行证", "出入境证件"],
    "结婚证": ["结婚登记"],
    "离婚证": ["离婚登记"],
    "准生证": ["生育登记", "生育服务证"],
    "出生证": ["出生医学证明"],
    "残疾证": ["残疾人证"],
    "老年证": ["老年人优待证", "高龄津贴"],
    "房产证": ["不动产权证书", "不动产登记"],
    "过户": ["转移登记"],
    "车牌": ["机动车号牌", "机动车登记"],
    "行驶证": ["机动车行驶证"],
    "退休": ["退休审批", "基本养老金"],
    "养老金": ["基本养老金", "养老保险待遇"],
    "失业金": ["失业保险金"],
    "工伤": ["工伤认定", "工伤保险"],
    "无犯罪证明": ["无犯罪记录证明"],
    "迁户口": ["户口迁移", "户籍迁移"],
    "暂住证": ["居住证"],
    "卫生许可证": ["公共场所卫生许可"],
    "健康证": ["健康证明", "从业人员健康检查"],
    "食品许可证": ["食品经营许可", "食品生产许可"],
    "建房": ["农村村民住宅", "宅基地"],
    "宅基地": ["农村村民住宅用地"],
    "教师资格证": ["教师资格认定"],
    "特困": ["特困人员供养", "特困人员救助供养"],
    "残疾补贴": ["残疾人两项补贴"],
    "高龄补贴": ["高龄津贴"],
    "施工许可证": ["建筑工程施工许可"],
}

# Verbs and question frames wrapped around the thing asked for (口语化名称: DOMAIN.md §1):
# "办身份证" → 身份证, "护照怎么办" → 护照. Longest first so "如何办理" wins over "办理".
COLLOQUIAL_PREFIXES: tuple[str, ...] = tuple(sorted((
    "我要办理", "我想办理", "我要申请", "我想申请", "我要办", "我想办", "我要", "我想",
    "怎么办理", "如何办理", "怎样办理", "怎么申请", "如何申请", "怎样申请", "怎么办", "如何办", "怎样办",
    "去哪里办", "去哪办", "在哪里办", "在哪办", "哪里办", "怎么", "如何",
    "办理", "申请", "申办", "补办", "办",
), key=len, reverse=True))
COLLOQUIAL_SUFFIXES: tuple[str, ...] = tuple(sorted((
    "怎么办理", "如何办理", "怎样办理", "怎么申请", "如何申请", "怎么办", "如何办", "怎样办", "咋办",
    "去哪里办", "去哪办", "在哪里办", "在哪办", "哪里办",
    "需要什么材料", "需要哪些材料", "要什么材料", "需要什么", "要带什么", "的流程", "流程", "手续",
    "办理", "申请",
), key=len, reverse=True))

MIN_KEPT = 2  # never strip a query down to fewer than two characters: "办证" stays "办证"
MAX_VARIANTS = 12
MAX_TERM_CHARS = 32
MAX_EXPANSIONS = 10


def strip_colloquial(query: str) -> str:
    """Return `query` without the colloquial verbs around it; `query` itself when too little would remain."""
    text = query
    changed = True
    while changed:
        changed = False
        for prefix in COLLOQUIAL_PREFIXES:
            if text.startswith(prefix) and len(text) - len(prefix) >= MIN_KEPT:
                text, changed = text[len(prefix):], True
                break
        for suffix in COLLOQUIAL_SUFFIXES:
            if text.endswith(suffix) and len(text) - len(suffix) >= MIN_KEPT:
                text, changed = text[:-len(suffix)], True
                break
    return text


def expand(query: str, table: Mapping[str, Sequence[str]]) -> list[str]:
    """Return `query` first, then each form with a table term replaced by one of its expansions.

    Every term occurring in the query is replaced in turn (one term per variant keeps the list short);
    the list is de-duplicated and capped at MAX_VARIANTS.
    """
    variants = [query]
    for term in sorted(table, key=len, reverse=True):
        if not term or term not in query:
            continue
        for expansion in table[term]:
            if expansion in query:  # 居民身份证 already says 身份证's expansion
                continue
            candidate = query.replace(term, expansion)
            if candidate and candidate not in variants:
                variants.append(candidate)
    return variants[:MAX_VARIANTS]


def query_forms(query: str, table: Mapping[str, Sequence[str]]) -> list[str]:
    """Return the strings a query stands for: itself, without colloquial verbs, and their synonyms.

    The literal query always comes first, so nothing containing it is ever lost to the stripping.
    """
    forms: list[str] = []
    for base in dict.fromkeys((query, strip_colloquial(query))):
        for form in expand(base, table):
            if form not in forms:
                forms.append(form)
    return forms[:MAX_VARIANTS]


def check_synonym(term, expansions) -> tuple[str, list[str]]:
    """Return (term, expansions) trimmed and de-duplicated. Raises Invalid synonym_invalid naming the rule."""
    def bad(path: str, rule: str, message: str) -> Invalid:
        return Invalid(message, code="synonym_invalid",
                       details={"errors": [{"path": path, "rule": rule, "message": message}]})

    if not isinstance(term, str) or not 2 <= len(term.strip()) <= MAX_TERM_CHARS:
        raise bad("term", f"length:2..{MAX_TERM_CHARS}", f"a term has 2 to {MAX_TERM_CHARS} characters")
    # Stored as queries are matched: NFKC, case-folded, no whitespace (guides.search.normalize).
    term = "".join(unicodedata.normalize("NFKC", c).casefold() for c in term if not c.isspace())
    if not isinstance(expansions, (list, tuple)) or not all(isinstance(e, str) for e in expansions):
        raise bad("expansions", "list_of_text", "expansions is a list of texts")
    cleaned = list(dict.fromkeys(e.strip() for e in expansions if e.strip() and e.strip() != term))
    if not 1 <= len(cleaned) <= MAX_EXPANSIONS:
        raise bad("expansions", f"count:1..{MAX_EXPANSIONS}",
                  f"a term has 1 to {MAX_EXPANSIONS} expansions other than itself")
    if any(len(e) > MAX_TERM_CHARS for e in cleaned):
        raise bad("expansions", f"max_length:{MAX_TERM_CHARS}", f"an expansion has at most {MAX_TERM_CHARS} characters")
    return term, cleaned
