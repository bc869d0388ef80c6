"""Citizen search text analysis: normalisation, n-gram and pinyin terms, query analysis, highlights, badges."""
from __future__ import annotations

import functools
import html
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin

from guides import synonyms
from items.errors import Invalid

MAX_QUERY_CHARS = 64
MAX_PAGE_SIZE = 100
PINYIN_CAP = 32  # pinyin terms keep this many letters: enough for any name a citizen types out
# Term shapes never collide within a field: n-grams are 1–3 characters or HEX_MARK + 6/12/18 hex digits;
# pinyin terms are PINYIN_MARK/FIRST_MARK + at least 2 letters in queries; START and ALIAS_START are
# 3 letters; alias and guide-text terms carry their field's mark; tags live in their own column.
PINYIN_MARK, FIRST_MARK, HEX_MARK, START, ALIAS_START = "p", "q", "x", "bos", "boa"
ALIAS_MARK, TEXT_MARK = "a", "t"
TEXT_NGRAMS = (2, 3, 4)  # guide-text columns body, body3, body4
REGION_MARK, ORG_MARK, OBJECT_MARK = "r", "o", "s"
SNIPPET_CHARS = 16

# Ranking tiers: name match above alias match above guide-text match (ordering within a tier is SQL's).
TIER_NAME, TIER_ALIAS, TIER_TEXT = 0, 1, 2

SERVICE_OBJECTS = frozenset({"person", "enterprise", "institution", "social_org", "government", "other"})

# Stable codes first, labels for the hall: CONTRACT §3 `badges`.
BADGE_LABELS = {"instant": "即办", "zero_visit": "零跑动", "full_online": "全程网办", "cross_province": "跨省通办"}

_BASIC_CODE = re.compile(r"\d{12}")
_IMPL_CODE = re.compile(r"[0-9a-z]{18}\d{13}")
_PINYIN_QUERY = re.compile(r"[a-z]{2,}")
_REGION_CODE = re.compile(r"\d{6}|\d{12}")


def invalid(code: str, path: str, rule: str, message: str) -> Invalid:
    """Return the Invalid (422) for one search parameter, in the details shape of items/errors.py."""
    return Invalid(message, code=code, details={"errors": [{"path": path, "rule": rule, "message": message}]})


# ---- normalisation -------------------------------------------------------------------------------

def _fold(char: str) -> str:
    if char.isspace():
        return ""
    return unicodedata.normalize("NFKC", char).casefold().replace(" ", "")


def normalize(text: str) -> str:
    """Return `text` as both index and queries see it: per-character NFKC, case-folded, no whitespace.

    Per character (not per string) so a substring of a raw name always normalises to a substring of the
    normalised name: （ and ( or ８ and 8 match each other.
    """
    return "".join(_fold(c) for c in text)


def normalize_mapped(text: str) -> tuple[str, list[int]]:
    """Return normalize(text) and, for each of its characters, the index of the raw character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold(char)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), origin


# ---- index terms ---------------------------------------------------------------------------------

def _plain(char: str) -> bool:
    # Characters every tokenizer keeps as word characters: ASCII alnum and the CJK block of Unicode 6.1
    # (SQLite's unicode61 tables); everything else is spelled in hex so punctuation is searchable too.
    return "a" <= char <= "z" or "0" <= char <= "9" or "\u4e00" <= char <= "\u9fcc"


def term(gram: str) -> str:
    """Return the index term for a 1- to 3-character normalised string."""
    if all(_plain(c) for c in gram):
        return gram
    return HEX_MARK + "".join(f"{ord(c):06x}" for c in gram)


def bigram_sequence(segment: str) -> list[str]:
    """Return the terms of the overlapping bigrams of a normalised segment, in order (phrase positions)."""
    return [term(segment[i:i + 2]) for i in range(len(segment) - 1)]


def bigram_terms(segment: str) -> list[str]:
    """Return the distinct bigram terms of a normalised segment."""
    return list(dict.fromkeys(bigram_sequence(segment)))


@functools.lru_cache(maxsize=4096)
def syllables(norm: str) -> tuple[str | None, ...]:
    """Return one pinyin syllable per character of a normalised string (None for punctuation).

    Han runs go to pypinyin whole, so its phrase table picks the reading (重庆 → chong qing);
    ASCII letters and digits stand for themselves.
    """
    out: list[str | None] = []
    for run in re.findall(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]+", norm):
        if "\u3400" <= run[0] <= "\u9fff":
            readings = lazy_pinyin(run, style=Style.NORMAL)
            if len(readings) != len(run):
                readings = [lazy_pinyin(c, style=Style.NORMAL)[0] for c in run]
            out.extend(r if r.isascii() and r.isalpha() else None for r in readings)
        else:
            out.extend(c if c.isascii() and c.isalnum() else None for c in run)
    return tuple(out)


def pinyin_strings(text: str) -> tuple[str, str]:
    """Return the full pinyin and the initials of `text`: 身份证 → ("shenfenzheng", "sfz")."""
    parts = [s for s in syllables(normalize(text)) if s]
    return "".join(parts), "".join(s[0] for s in parts)


def pinyin_terms(text: str) -> list[str]:
    """Return the pinyin terms of `text`: full pinyin and initials from every syllable to the end.

    A query then matches as a term prefix, i.e. as a substring starting on a syllable (sfz, shenfen);
    the whole-text spellings are also marked with FIRST_MARK to rank "starts with" first.
    """
    parts = [s for s in syllables(normalize(text)) if s]
    out: dict[str, None] = {}
    for i in range(len(parts)):
        out[PINYIN_MARK + "".join(parts[i:])[:PINYIN_CAP]] = None
        out[PINYIN_MARK + "".join(s[0] for s in parts[i:])[:PINYIN_CAP]] = None
    if parts:
        out[FIRST_MARK + "".join(parts)[:PINYIN_CAP]] = None
        out[FIRST_MARK + "".join(s[0] for s in parts)[:PINYIN_CAP]] = None
    return list(out)


def ngram_sequence(segment: str, n: int) -> list[str]:
    """Return the terms of the overlapping n-grams of a normalised segment, in order."""
    return [term(segment[i:i + n]) for i in range(len(segment) - n + 1)]


def _short_text_terms(text: str, mark: str = "") -> list[str]:
    norm = normalize(text)
    out = bigram_sequence(norm) + [term(c) for c in norm] + pinyin_terms(text)
    return [mark + t for t in out] if mark else out


@dataclass(frozen=True)
class FieldTerms:
    """Space-separated index terms per field, in text order so that a phrase of terms is a substring."""
    name: str
    alias: str
    body: str
    body3: str = ""
    body4: str = ""
    tags: str = ""


def field_terms(name: str, aliases: Sequence[str], body: str, tags: Sequence[str] = ()) -> FieldTerms:
    """Return the index terms of one entry; `body` is the normalised guide text, segments split by newline.

    Each field spells its terms its own way (alias ALIAS_MARK…, guide text TEXT_MARK…) so a term's hit
    list holds one field only: a name query never walks the guide texts of the whole province.
    Names and aliases: bigrams, unigrams (single-character queries), pinyin; ALIAS_START opens each
    alias. Guide text: bigrams, and apart trigrams and 4-grams, so that a query of 2–4 characters is one
    term and a longer one a short phrase (a province's guide texts make long hit lists); START between
    lines so that no phrase spans two lines.
    Deterministic: contentless FTS deletes derive them again from the stored fields.
    """
    lines = body.split("\n")
    text = [" ".join(t for line in lines for t in (START, *(TEXT_MARK + g for g in ngram_sequence(line, n))))
            for n in TEXT_NGRAMS]
    return FieldTerms(
        " ".join(_short_text_terms(name)),
        " ".join(t for alias in aliases for t in (ALIAS_START, *_short_text_terms(alias, ALIAS_MARK))),
        *text, " ".join(tags))


def tag_terms(region_code: str, org_credit_code: str, service_objects: str) -> list[str]:
    """Return the filter terms of an entry: every region prefix a filter may ask for, org, service objects."""
    code = region_code[:6] if region_code[6:] == "000000" else region_code
    cuts = [2, 4, 6] + ([9] if len(code) == 12 else []) + ([12] if len(code) == 12 and code[9:] != "000" else [])
    tags = list(dict.fromkeys(REGION_MARK + code[:n] for n in cuts))
    tags.append(ORG_MARK + org_credit_code.lower())
    tags += [OBJECT_MARK + o.replace("_", "") for o in service_objects.split(",") if o]
    return tags


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


def tsvector_literal(terms: FieldTerms) -> str:
    """Return the PostgreSQL tsvector literal of an entry's terms (each field spells its own terms).

    Built as a literal (not to_tsvector) so every term is kept verbatim: no parser, no stemming.
    """
    fields = (terms.name, terms.alias, terms.body, terms.body3)  # 4-grams: only FTS5 phrases need them
    return " ".join(f"'{t}'" for t in dict.fromkeys(t for text in fields for t in text.split()))


# ---- queries -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Query:
    """An analysed query: the literal first in `forms`, then colloquial-stripped and synonym forms."""
    text: str
    forms: tuple[str, ...]
    pinyin: str | None = None
    code: str | None = None


def analyze(q: str | None, synonym_table: Mapping[str, Sequence[str]]) -> Query:
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
        return Query(text, (text,), code=text.upper())
    table = {normalize(k): [normalize(v) for v in vs] for k, vs in synonym_table.items() if normalize(k)}
    forms = tuple(f for f in synonyms.query_forms(text, table) if f)
    pinyin = text[:PINYIN_CAP] if _PINYIN_QUERY.fullmatch(text) else None
    return Query(text, forms, pinyin=pinyin)


def minimal_forms(query: Query) -> list[str]:
    """Return the forms that contain no other form: a longer one finds nothing more ("居民身份证" ⊂ hits
    of "身份证"), so only these are searched; all forms still decide "starts with"."""
    return [f for f in query.forms if not any(g != f and g in f for g in query.forms)]


def _name_phrase(form: str, mark: str = "") -> str:
    terms = [term(form)] if len(form) == 1 else bigram_sequence(form)
    return '"' + " ".join(mark + t for t in terms) + '"'


def _name_start(form: str) -> str:
    # ^ anchors a phrase at the first term of the field; a single character is the prefix of the first bigram
    return f'^"{term(form)}"*' if len(form) == 1 else "^" + _name_phrase(form)


def _alias_start(form: str) -> str:
    if len(form) == 1:
        return f'"{ALIAS_START} {ALIAS_MARK}{term(form)}"*'
    return '"' + " ".join([ALIAS_START] + [ALIAS_MARK + t for t in bigram_sequence(form)]) + '"'


def _text_phrase(form: str) -> str:
    if len(form) == 2:
        return f'(body : "{TEXT_MARK}{term(form)}")'
    n = min(len(form), TEXT_NGRAMS[-1])
    return f'(body{n} : "' + " ".join(TEXT_MARK + t for t in ngram_sequence(form, n)) + '")'


@dataclass(frozen=True)
class Fts5Plan:
    """SQLite FTS5 MATCH expressions: any hit, and the ranked slices, each excluding the earlier ones."""
    any: str
    slices: tuple[tuple[int, str], ...]


def fts5_plan(query: Query, tags: Sequence[str] = ()) -> Fts5Plan:
    """Return the FTS5 expressions of a query: exact (phrases of n-grams), so no verification is needed.

    Slices in rank order: name starts with, name contains, alias starts with, alias contains, guide text.
    """
    def union(parts):
        return "(" + " OR ".join(parts) + ")"

    letters = query.pinyin
    minimal = minimal_forms(query)
    name = "(name : " + union([_name_phrase(f) for f in minimal]
                              + ([f'"{PINYIN_MARK}{letters}"*'] if letters else [])) + ")"
    name_first = "(name : " + union([_name_start(f) for f in query.forms]
                                    + ([f'"{FIRST_MARK}{letters}"*'] if letters else [])) + ")"
    alias = "(alias : " + union([_name_phrase(f, ALIAS_MARK) for f in minimal]
                                + ([f'"{ALIAS_MARK}{PINYIN_MARK}{letters}"*'] if letters else [])) + ")"
    alias_first = "(alias : " + union([_alias_start(f) for f in query.forms]
                                      + ([f'"{ALIAS_MARK}{FIRST_MARK}{letters}"*'] if letters else [])) + ")"
    slices = [(TIER_NAME, name_first), (TIER_NAME, f"{name} NOT {name_first}"),
              (TIER_ALIAS, f"{alias_first} NOT {name}"), (TIER_ALIAS, f"{alias} NOT ({name} OR {alias_first})")]
    everything = [name, alias]
    texts = [_text_phrase(f) for f in minimal if len(f) > 1]  # single characters: names and aliases only
    if texts:
        slices.append((TIER_TEXT, f"{union(texts)} NOT ({name} OR {alias})"))
        everything.append(union(texts))
    any_hit = " OR ".join(everything)
    if tags:
        only = " AND ".join(f'tags : "{t}"' for t in tags)
        any_hit = f"({any_hit}) AND {only}"
        slices = [(tier, f"({expr}) AND {only}") for tier, expr in slices]
    return Fts5Plan(any_hit, tuple(slices))


def tsquery(query: Query) -> str:
    """Return the PostgreSQL tsquery of every candidate: per field, all n-grams of a form.

    Candidates only: the n-grams of a longer query may all occur without the query, so the caller verifies.
    """
    groups = []
    for form in minimal_forms(query):
        grams = [term(form)] if len(form) == 1 else bigram_terms(form)
        groups.append("(" + " & ".join(f"'{t}'" for t in grams) + ")")
        groups.append("(" + " & ".join(f"'{ALIAS_MARK}{t}'" for t in grams) + ")")
        if len(form) > 1:
            text = [term(form)] if len(form) == 2 else list(dict.fromkeys(ngram_sequence(form, 3)))
            groups.append("(" + " & ".join(f"'{TEXT_MARK}{t}'" for t in text) + ")")
    if query.pinyin:
        groups += [tsquery_pinyin(query), tsquery_pinyin(query, ALIAS_MARK + PINYIN_MARK)]
    return " | ".join(groups)


def tsquery_pinyin(query: Query, mark: str = PINYIN_MARK) -> str:
    return f"'{mark}{query.pinyin}':*"


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


def region_tag(code: str) -> str:
    """Return the tag term a region filter asks for (see region_prefix). Raises Invalid invalid_region."""
    return REGION_MARK + region_prefix(code)


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


def highlight(raw: str, forms: Sequence[str]) -> str | None:
    """Return `raw` HTML-escaped with its earliest (then longest) match of any form in <em>, or None."""
    norm, origin = normalize_mapped(raw)
    span = _best_span(norm, forms)
    if span is None:
        return None
    return _mark(raw, origin[span[0]], origin[span[1] - 1] + 1)


def pinyin_highlight(raw: str, letters: str) -> str | None:
    """Return `raw` with the characters whose pinyin (full or initials) spells `letters` in <em>, or None."""
    norm, origin = normalize_mapped(raw)
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


def result_highlight(tier: int, name: str, aliases: Sequence[str], body: str | None, query: Query) -> str:
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
