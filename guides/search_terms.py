"""Search terms: normalisation, the n-gram and pinyin index terms of an entry, and the FTS5 / tsquery
expressions that find them."""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass


PINYIN_CAP = 32  # pinyin terms keep this many letters: enough for any name a citizen types out
# Term shapes never collide within a field: n-grams are 1–3 characters or HEX_MARK + 6/12/18 hex digits;
# pinyin terms are PINYIN_MARK/FIRST_MARK + at least 2 letters in queries; START and ALIAS_START are
# 3 letters; alias and guide-text terms carry their field's mark; tags live in their own column.
PINYIN_MARK, FIRST_MARK, HEX_MARK, START, ALIAS_START = "p", "q", "x", "bos", "boa"
ALIAS_MARK, TEXT_MARK = "a", "t"
TEXT_NGRAMS = (2, 3, 4)  # guide-text columns body, body3, body4
REGION_MARK, ORG_MARK, OBJECT_MARK = "r", "o", "s"

# Ranking tiers: name match above alias match above guide-text match (ordering within a tier is SQL's).
TIER_NAME, TIER_ALIAS, TIER_TEXT = 0, 1, 2


# ---- normalisation -------------------------------------------------------------------------------

@functools.lru_cache(maxsize=16384)  # a few thousand distinct characters; NFKC per call was most of normalize
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


@functools.lru_cache(maxsize=65536)  # a province's guide texts repeat the same n-grams in every county
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


@functools.lru_cache(maxsize=65536)
def _han_syllables(run: str) -> tuple[str | None, ...]:
    # Cached per Han run, not per string: 证明（补领） and 证明（变更） share the pypinyin call of 证明,
    # so loading a province's names costs one call per distinct run (pypinyin is the load's main cost).
    # Imported here: its phrase table takes ~0.3 s to load, which a process that never reads pinyin
    # (a worker serving cases, `govhall migrate`) should not pay at start.
    from pypinyin import Style, lazy_pinyin
    readings = lazy_pinyin(run, style=Style.NORMAL)
    if len(readings) != len(run):
        readings = [lazy_pinyin(c, style=Style.NORMAL)[0] for c in run]
    return tuple(r if r.isascii() and r.isalpha() else None for r in readings)


@functools.lru_cache(maxsize=16384)
def syllables(norm: str) -> tuple[str | None, ...]:
    """Return one pinyin syllable per character of a normalised string (None for punctuation).

    Han runs go to pypinyin whole, so its phrase table picks the reading (重庆 → chong qing);
    ASCII letters and digits stand for themselves.
    """
    out: list[str | None] = []
    for run in re.findall(r"[\u3400-\u9fff]+|[^\u3400-\u9fff]+", norm):
        if "\u3400" <= run[0] <= "\u9fff":
            out.extend(_han_syllables(run))
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



def tsvector_literal(terms: FieldTerms) -> str:
    """Return the PostgreSQL tsvector literal of an entry's terms (each field spells its own terms).

    Built as a literal (not to_tsvector) so every term is kept verbatim: no parser, no stemming.
    """
    fields = (terms.name, terms.alias, terms.body, terms.body3)  # 4-grams: only FTS5 phrases need them
    return " ".join(f"'{t}'" for t in dict.fromkeys(t for text in fields for t in text.split()))


# ---- query expressions -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SearchQuery:
    """An analysed query: the literal first in `forms`, then colloquial-stripped and synonym forms."""
    text: str
    forms: tuple[str, ...]
    pinyin: str | None = None
    code: str | None = None


def minimal_forms(query: SearchQuery) -> list[str]:
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


def fts5_plan(query: SearchQuery, tags: Sequence[str] = ()) -> Fts5Plan:
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


# PostgreSQL: a predicate is (SQL with %s placeholders over search_doc d, parameters). The tsvector keeps
# terms without positions, so a form longer than its field's one-term n-grams is a candidate the SQL
# verifies with strpos; shorter forms are exact and need no verification (fewer guessed selectivities).
Predicate = tuple[str, tuple]


def _or(*parts: Predicate | None) -> Predicate:
    parts = [p for p in parts if p is not None]
    return "(" + " OR ".join(sql for sql, _ in parts) + ")", tuple(v for _, ps in parts for v in ps)


def _and_not(part: Predicate, *excluded: Predicate) -> Predicate:
    out = _or(*excluded)
    return f"({part[0]} AND NOT {out[0]})", part[1] + out[1]


Arm = tuple[str, str | None, str | None]  # (tsquery, column, needle): the terms, and the needle in column


def _arm(terms: Sequence[str], column: str | None = None, needle: str | None = None) -> Arm:
    return "(" + " & ".join(f"'{t}'" for t in dict.fromkeys(terms)) + ")", column, needle


def _match(arms: Sequence[Arm]) -> Predicate | None:
    """Return the predicate "any arm holds": the exact arms as one tsquery, each candidate arm verified.

    Not "(all terms) AND (arms)": the planner then ran one GIN scan per arm, each with the whole tsquery
    again, or one GIN scan of every dense term at once (35–50 ms for 营业执照's count, against 15 ms).
    """
    if not arms:
        return None
    exact = [tsq for tsq, _, needle in arms if needle is None]
    parts = [("d.terms @@ %s::tsquery", (" | ".join(exact),))] if exact else []
    parts += [(f"(d.terms @@ %s::tsquery AND strpos(d.{column}, %s) > 0)", (tsq, needle))
              for tsq, column, needle in arms if needle is not None]
    return parts[0] if len(parts) == 1 else _or(*parts)


def _like_prefix(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


@dataclass(frozen=True)
class PostgresPlan:
    """PostgreSQL predicates of a query: any hit, and the ranked slices as in Fts5Plan."""
    any: Predicate
    slices: tuple[tuple[int, Predicate], ...]


def postgres_plan(query: SearchQuery) -> PostgresPlan:
    """Return the PostgreSQL predicates of a query: GIN-indexed terms, verified where they are candidates.

    "Name starts with" is `name_norm LIKE 'form%'`, which a text_pattern_ops index answers.
    """
    letters = query.pinyin
    minimal = minimal_forms(query)

    def grams(form: str, mark: str = "") -> list[str]:
        return [mark + t for t in ([term(form)] if len(form) == 1 else bigram_terms(form))]

    def spelled(mark: str) -> list[Arm]:
        return [(f"'{mark}{letters}':*", None, None)] if letters else []

    name = [_arm(grams(f), "name_norm", f if len(f) > 2 else None) for f in minimal] + spelled(PINYIN_MARK)
    alias = ([_arm(grams(f, ALIAS_MARK), "alias_norm", f if len(f) > 2 else None) for f in minimal]
             + spelled(ALIAS_MARK + PINYIN_MARK))
    # guide text: 2- and 3-grams are terms; a longer form is a candidate of its 3-grams
    text = [_arm([TEXT_MARK + t for t in (ngram_sequence(f, 3) if len(f) > 3 else [term(f)])], "body",
                 f if len(f) > 3 else None) for f in minimal if len(f) > 1]
    name_first = _or(*[("d.name_norm LIKE %s", (_like_prefix(f),)) for f in query.forms],
                     _match(spelled(FIRST_MARK)))
    # a leading newline per alias in alias_norm: "\nform" is "an alias starts with form"
    alias_first = _match([_arm(grams(f, ALIAS_MARK), "alias_norm", "\n" + f) for f in query.forms]
                         + spelled(ALIAS_MARK + FIRST_MARK))
    in_name, in_alias = _match(name), _match(alias)
    slices = [(TIER_NAME, name_first), (TIER_NAME, _and_not(in_name, name_first)),
              (TIER_ALIAS, _and_not(alias_first, in_name)), (TIER_ALIAS, _and_not(in_alias, in_name, alias_first))]
    if text:
        slices.append((TIER_TEXT, _and_not(_match(text), in_name, in_alias)))
    return PostgresPlan(_match(name + alias + text), tuple(slices))


def postgres_filters(region_prefix: str | None, org: str | None, service_object: str | None) -> Predicate:
    """Return the filter predicate ("TRUE" for none): region as a code range the region_code index answers."""
    parts: list[Predicate] = []
    if region_prefix is not None:
        # digit strings: every code starting with the prefix lies in [prefix, prefix + 1)
        upper = str(int(region_prefix) + 1).zfill(len(region_prefix))
        if len(upper) > len(region_prefix):  # all nines: no upper bound
            parts.append(("d.region_code >= %s", (region_prefix,)))
        else:
            parts.append(("d.region_code >= %s AND d.region_code < %s", (region_prefix, upper)))
    if org is not None:
        parts.append(("upper(d.org_credit_code) = %s", (org.strip().upper(),)))
    if service_object is not None:
        parts.append(("strpos(d.service_objects, %s) > 0", ("," + service_object + ",",)))
    if not parts:
        return "TRUE", ()
    return " AND ".join(sql for sql, _ in parts), tuple(v for _, ps in parts for v in ps)
