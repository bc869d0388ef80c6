"""Citizen search: the indexed entry of a published item, query analysis, filters, highlights and badges."""
from __future__ import annotations

import functools
import html
import re
from collections.abc import Mapping, Sequence

from guides import synonyms
from guides.search_terms import (PINYIN_CAP, TIER_ALIAS, TIER_TEXT, SearchQuery, normalize,
                                 normalize_mapped, pinyin_strings, syllables)
from items import errors
from items.errors import Invalid

MAX_QUERY_CHARS = 64
MAX_PAGE_SIZE = 100
COUNT_CAP = 1000  # a search counts at most this many matches for `total` (guides.search_index docstring)
SNIPPET_CHARS = 16

SERVICE_OBJECTS = frozenset({"person", "enterprise", "institution", "social_org", "government", "other"})

# Stable codes first, labels for the hall: CONTRACT §3 `badges`.
BADGE_LABELS = {"instant": "即办", "zero_visit": "零跑动", "full_online": "全程网办", "cross_province": "跨省通办"}

_BASIC_CODE = re.compile(r"\d{12}")
_IMPL_CODE = re.compile(r"[0-9a-z]{18}\d{13}")
_PINYIN_QUERY = re.compile(r"[a-z]{2,}")
_REGION_CODE = re.compile(r"\d{6}|\d{12}")


def invalid(code: str, path: str, rule: str, message: str) -> Invalid:
    """Return the Invalid for one search parameter (items.errors.invalid); the hall's HTTP handler
    answers it as 400, a bad query parameter."""
    return errors.invalid(message, path, rule, code=code)


# ---- the indexed entry ---------------------------------------------------------------------------

def _texts(entries, *keys: str) -> list[str]:
    out = []
    for entry in entries or ():
        if isinstance(entry, Mapping):
            out.extend(str(entry[k]) for k in keys if isinstance(entry.get(k), str) and entry[k].strip())
    return out


def guide_body(doc: Mapping) -> str:
    """Return the normalised searchable guide text: org name, conditions, material names, FAQ, one per line."""
    org = doc.get("org") or {}
    raw = [org.get("name") or ""] + _texts(doc.get("conditions"), "text") + _texts(doc.get("materials"), "name")
    raw += _texts(doc.get("faq"), "question", "answer")
    return "\n".join(n for n in (normalize(t) for t in raw) if n)


def badges(doc: Mapping) -> list[dict]:
    """Return the hall badges of a local item document as [{code, label}] in a fixed order."""
    visits = doc.get("visits")
    earned = {
        "instant": doc.get("handling_type") == "instant",
        "zero_visit": isinstance(visits, int) and not isinstance(visits, bool) and visits == 0,
        "full_online": doc.get("online_depth") == 4,  # IV 全程网办: DOMAIN.md §1
        "cross_province": doc.get("scope") in ("cross_province", "nationwide"),
    }
    return [{"code": code, "label": label} for code, label in BADGE_LABELS.items() if earned[code]]


def _required_text(doc: Mapping, path: str, max_length: int) -> str:
    value = doc
    for key in path.split("."):
        value = value.get(key) if isinstance(value, Mapping) else None
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise invalid("search_entry_invalid", path, "required_text",
                      f"{path} is a non-empty text of at most {max_length} characters")
    return value.strip()


def entry_fields(impl_code: str, doc: Mapping) -> dict:
    """Return the stored fields of the search entry of a published local item document.

    Raises Invalid search_entry_invalid naming the first missing or malformed field.
    """
    impl_code = _required_text({"impl_code": impl_code}, "impl_code", 31)
    name = _required_text(doc, "name", 300)
    region = _required_text(doc, "region_code", 12)
    if not _REGION_CODE.fullmatch(region):
        raise invalid("search_entry_invalid", "region_code", "gb_t_2260", "region_code is 6 or 12 digits")
    aliases = [a.strip() for a in doc.get("aliases") or () if isinstance(a, str) and normalize(a)]
    objects = [o for o in doc.get("service_objects") or () if o in SERVICE_OBJECTS]
    full, initials = pinyin_strings(name)
    return {
        "impl_code": impl_code,
        "basic_code": str(doc.get("basic_code") or impl_code[-12:])[:12],
        "region_code": region,
        "org_credit_code": _required_text(doc, "org.credit_code", 18),
        "org_name": _required_text(doc, "org.name", 200),
        "name": name,
        "name_norm": normalize(name),
        "name_len": len(normalize(name)),
        "name_pinyin": full,
        "name_initials": initials,
        "aliases": aliases,
        # a leading newline per alias lets one substring test find "alias starts with the query"
        "alias_norm": "".join("\n" + normalize(a) for a in aliases),
        "body": guide_body(doc),
        "service_objects": "," + ",".join(objects) + "," if objects else "",
        "badges": badges(doc),
    }


# ---- queries -------------------------------------------------------------------------------------

def analyze(q: str | None, synonym_table: Mapping[str, Sequence[str]]) -> SearchQuery:
    """Return the analysed query. A single character searches names and aliases only (its unigram).

    Raises Invalid query_required (nothing left after normalisation) or query_too_long.
    """
    text = normalize(q or "")
    if not text:
        raise invalid("query_required", "q", "required", "a search needs a query")
    if len(text) > MAX_QUERY_CHARS:
        raise invalid("query_too_long", "q", f"max_length:{MAX_QUERY_CHARS}",
                      f"a query has at most {MAX_QUERY_CHARS} characters")
    if _BASIC_CODE.fullmatch(text) or _IMPL_CODE.fullmatch(text):
        return SearchQuery(text, (text,), code=text.upper())
    table = {normalize(k): [normalize(v) for v in vs] for k, vs in synonym_table.items() if normalize(k)}
    forms = tuple(f for f in synonyms.query_forms(text, table) if f)
    pinyin = text[:PINYIN_CAP] if _PINYIN_QUERY.fullmatch(text) else None
    return SearchQuery(text, forms, pinyin=pinyin)


# ---- filters -------------------------------------------------------------------------------------

def region_prefix(code: str) -> str:
    """Return the code prefix a region filter keeps: province xx0000 → xx, city xxxx00 → xxxx, county all 6.

    12-digit codes drop an empty village then township part first. Raises Invalid invalid_region.
    """
    if not isinstance(code, str) or not _REGION_CODE.fullmatch(code):
        raise invalid("invalid_region", "region", "gb_t_2260", "region is a 6- or 12-digit GB/T 2260 code")
    if len(code) == 12:
        if code[9:] != "000":
            return code
        if code[6:9] != "000":
            return code[:9]
        code = code[:6]
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def check_page(page, size) -> tuple[int, int]:
    """Return (page, size) as ints; raises Invalid invalid_page / invalid_size."""
    try:
        page, size = int(page), int(size)
    except (TypeError, ValueError):
        raise invalid("invalid_page", "page", "integer", "page and size are integers") from None
    if page < 1:
        raise invalid("invalid_page", "page", "min:1", "page starts at 1")
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid("invalid_size", "size", f"range:1..{MAX_PAGE_SIZE}", f"size is 1..{MAX_PAGE_SIZE}")
    return page, size


def check_service_object(value: str) -> str:
    """Return the service object; raises Invalid invalid_service_object when CONTRACT §2 does not list it."""
    if value not in SERVICE_OBJECTS:
        raise invalid("invalid_service_object", "service_object", "enum",
                      "service_object is one of " + ", ".join(sorted(SERVICE_OBJECTS)))
    return value


# ---- highlights ----------------------------------------------------------------------------------

def _mark(raw: str, start: int, end: int) -> str:
    return html.escape(raw[:start]) + "<em>" + html.escape(raw[start:end]) + "</em>" + html.escape(raw[end:])


def _best_span(norm: str, forms: Sequence[str]) -> tuple[int, int] | None:
    best = None
    for form in forms:
        at = norm.find(form)
        if at >= 0 and (best is None or (at, -len(form)) < (best[0], best[0] - best[1])):
            best = (at, at + len(form))
    return best


@functools.lru_cache(maxsize=8192)  # a province repeats each name in every county: fold it once
def _mapped(raw: str) -> tuple[str, tuple[int, ...]]:
    norm, origin = normalize_mapped(raw)
    return norm, tuple(origin)


def highlight(raw: str, forms: Sequence[str]) -> str | None:
    """Return `raw` HTML-escaped with its earliest (then longest) match of any form in <em>, or None."""
    norm, origin = _mapped(raw)
    span = _best_span(norm, forms)
    if span is None:
        return None
    return _mark(raw, origin[span[0]], origin[span[1] - 1] + 1)


def pinyin_highlight(raw: str, letters: str) -> str | None:
    """Return `raw` with the characters whose pinyin (full or initials) spells `letters` in <em>, or None."""
    norm, origin = _mapped(raw)
    sylls = [(i, s) for i, s in enumerate(syllables(norm)) if s]
    for k in range(len(sylls)):
        for part in (lambda s: s, lambda s: s[0]):
            spelled, end = "", k
            while end < len(sylls) and len(spelled) < len(letters):
                spelled += part(sylls[end][1])
                end += 1
            if spelled.startswith(letters):
                return _mark(raw, origin[sylls[k][0]], origin[sylls[end - 1][0]] + 1)
    return None


def snippet(body: str, forms: Sequence[str]) -> str | None:
    """Return the guide-text line around the match, at most SNIPPET_CHARS either side, marked and escaped."""
    for line in body.split("\n"):
        span = _best_span(line, forms)
        if span is None:
            continue
        start, end = max(0, span[0] - SNIPPET_CHARS), min(len(line), span[1] + SNIPPET_CHARS)
        text = _mark(line[start:end], span[0] - start, span[1] - start)
        return ("…" if start else "") + text + ("…" if end < len(line) else "")
    return None


def result_highlight(tier: int, name: str, aliases: Sequence[str], body: str | None, query: SearchQuery) -> str:
    """Return the highlight of one hit: its name, else the matching alias, else a guide-text snippet."""
    found = highlight(name, query.forms)
    if found is None and query.pinyin:
        found = pinyin_highlight(name, query.pinyin)
    if found is None and tier >= TIER_ALIAS:
        for alias in aliases:
            found = highlight(alias, query.forms) or (query.pinyin and pinyin_highlight(alias, query.pinyin))
            if found:
                break
    if found is None and tier >= TIER_TEXT and body:
        found = snippet(body, query.forms)
    return found or html.escape(name)
