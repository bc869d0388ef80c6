"""Item statistics for reform offices: per-item additive facts, exact roll-ups, rankings, exports."""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Iterable, Mapping, NamedTuple

from items.errors import Invalid, invalid

# Time limits are stored as integers so SQL SUM is exact and order-free: one working day is 700 units,
# one calendar day 500 units (5/7 of a working day). docs/statistics.md, "the unit rule".
UNITS_PER_WORKDAY = 700
_UNITS_PER_DAY = {"workday": 700, "calendar_day": 500}
# Per-item compression ratios are summed as integers in billionths (compression_mean's numerator).
NANO = 10**9
# Epoint systems store 500 for "no legal limit": DOMAIN.md §3.
DEFAULT_NO_LIMIT_SENTINEL = 500
SCOPES = ("nationwide", "cross_province", "cross_city", "cross_county")
RATING_LEVELS = ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")


class ItemFacts(NamedTuple):
    """The additive facts of one item: every field is an integer, every roll-up is a plain SUM."""

    items: int = 1
    instant: int = 0
    with_limits: int = 0                # has a usable legal limit and a promised limit
    legal_units: int = 0                # legal limit in 1/700 working day, only when with_limits
    promised_units: int = 0             # promised limit in 1/700 working day, only when with_limits
    compression_nano: int = 0           # per-item (legal − promised) / legal in billionths
    excluded_no_legal_limit: int = 0
    excluded_no_promised_limit: int = 0
    visits_at_most_one: int = 0
    zero_visit: int = 0
    full_online: int = 0                # online depth IV
    online_capable: int = 0             # online depth ≥ II (可网办)
    commitment: int = 0
    certificate_free: int = 0
    nationwide: int = 0
    cross_province: int = 0
    cross_city: int = 0
    cross_county: int = 0


FACT_NAMES: tuple[str, ...] = ItemFacts._fields
# Ordered (column, type) for a storage layer; store as 64-bit integers (BIGINT): sums of billionths
# pass 2**31 after three items.
FACT_COLUMNS: tuple[tuple[str, type], ...] = tuple((name, int) for name in FACT_NAMES)


def counts_in_statistics(doc: Mapping) -> bool:
    """Return True when the item's state lets it count (in use); publication is the caller's filter."""
    return doc.get("state") == "in_use"


def _limit_units(doc: Mapping, name: str) -> tuple[int | None, object]:
    """Return (units, raw value) of a time limit; units None when absent. Raises Invalid when unreadable."""
    limit = doc.get(name)
    if limit is None:
        return None, None
    if not isinstance(limit, Mapping):
        raise invalid(f"{name} is not an object", f"/{name}", "time_limit_object", code="malformed_time_limit")
    value, unit = limit.get("value"), limit.get("unit") or "workday"   # working days by default: DOMAIN §1
    if value is None:
        return None, None
    if unit not in _UNITS_PER_DAY:
        raise invalid(f"{name} has an unknown unit",
                      f"/{name}/unit", "unit_workday_or_calendar_day", code="unknown_time_unit")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        raise invalid(f"{name} value must be a number ≥ 0",
                      f"/{name}/value", "non_negative_number", code="malformed_time_limit")
    # A float is taken as the decimal it prints as (0.1 day is 70 units, not a binary approximation).
    exact = Fraction(value) if isinstance(value, int) else Fraction(repr(value))
    return round(exact * _UNITS_PER_DAY[unit]), value


def _count_field(doc: Mapping, name: str) -> int | None:
    value = doc.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(f"{name} must be a whole number ≥ 0",
                      f"/{name}", "non_negative_integer", code=f"malformed_{name}")
    return value


def _certificate_free(doc: Mapping) -> bool:
    # Every required material comes from the e-licence library, and there is at least one: DOMAIN §4.
    required = [m for m in doc.get("materials") or () if m.get("necessity") == "required"]
    return bool(required) and all(str(m.get("e_license") or "").strip() for m in required)


def item_facts(doc: Mapping, *, no_limit_sentinel: int | None = DEFAULT_NO_LIMIT_SENTINEL) -> ItemFacts:
    """Return the additive facts of one local item document (CONTRACT.md §2).

    A legal limit that is null, zero or equal to `no_limit_sentinel` counts as "no legal limit".
    Raises Invalid for an unreadable time limit, visits or online depth.
    """
    legal, legal_value = _limit_units(doc, "legal_limit")
    if legal == 0 or (no_limit_sentinel is not None and legal_value == no_limit_sentinel):
        legal = None
    promised, _ = _limit_units(doc, "promised_limit")
    with_limits = legal is not None and promised is not None
    visits = _count_field(doc, "visits")
    depth = _count_field(doc, "online_depth")
    scope = doc.get("scope")
    return ItemFacts(
        items=1,
        instant=int(doc.get("handling_type") == "instant"),
        with_limits=int(with_limits),
        legal_units=legal if with_limits else 0,
        promised_units=promised if with_limits else 0,
        # Not clamped: promised above legal breaks DOMAIN §3 and shows as a negative ratio.
        compression_nano=round(Fraction(legal - promised, legal) * NANO) if with_limits else 0,
        excluded_no_legal_limit=int(legal is None),
        excluded_no_promised_limit=int(legal is not None and promised is None),
        visits_at_most_one=int(visits is not None and visits <= 1),
        zero_visit=int(visits == 0),
        full_online=int(depth == 4),
        online_capable=int(depth is not None and depth >= 2),
        commitment=int(bool(doc.get("commitment"))),
        certificate_free=int(_certificate_free(doc)),
        **{name: int(scope == name) for name in SCOPES},
    )


@dataclass
class Totals:
    """Sums of ItemFacts over a group; merging two groups' totals equals the totals of their union."""

    sums: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FACT_NAMES, 0))

    def __getitem__(self, name: str) -> int:
        return self.sums[name]

    def add(self, facts: ItemFacts) -> None:
        """Add one item's facts in place."""
        for name, value in zip(FACT_NAMES, facts):
            self.sums[name] += value

    def merge(self, other: Totals) -> Totals:
        """Return new totals covering both groups (department → county → city)."""
        return Totals({name: self.sums[name] + other.sums[name] for name in FACT_NAMES})

    @classmethod
    def of(cls, facts: Iterable[ItemFacts]) -> Totals:
        """Return the totals of the given items' facts."""
        totals = cls()
        for one in facts:
            totals.add(one)
        return totals

    @classmethod
    def from_sums(cls, sums: Mapping) -> Totals:
        """Return totals from a SQL row of SUM(column) AS column; NULL (no rows) reads as 0.

        Raises Invalid (missing_fact_column, non_integer_sum) when the row does not fit FACT_COLUMNS.
        """
        out = {}
        for name in FACT_NAMES:
            if name not in sums:
                raise invalid(f"sum of {name} missing", f"/{name}", "fact_columns", code="missing_fact_column")
            value = sums[name] if sums[name] is not None else 0
            if isinstance(value, bool) or int(value) != value:   # PostgreSQL sums BIGINT as NUMERIC
                raise invalid(f"sum of {name} is not a whole number",
                              f"/{name}", "integer_sums", code="non_integer_sum")
            out[name] = int(value)
        return cls(out)


def _ratio(numerator: int, denominator: int) -> float | None:
    # Exact rational first, one correct rounding to float last: equal ratios compare equal.
    return float(Fraction(numerator, denominator)) if denominator else None


_COUNTED_SHARES = ("visits_at_most_one", "zero_visit", "full_online", "online_capable",
                   "commitment", "certificate_free")


def row(key, label, totals: Totals) -> dict:
    """Return the CONTRACT.md §4 statistics row of a group: counts, working-day sums and ratios (None on 0/0)."""
    s = totals.sums
    items, with_limits = s["items"], s["with_limits"]
    out = {
        "key": key, "label": label, "items": items,
        "instant": s["instant"], "instant_ratio": _ratio(s["instant"], items),
        "with_limits": with_limits,
        "legal_days": float(Fraction(s["legal_units"], UNITS_PER_WORKDAY)),
        "promised_days": float(Fraction(s["promised_units"], UNITS_PER_WORKDAY)),
        "compression_ratio": _ratio(s["legal_units"] - s["promised_units"], s["legal_units"]),
        "compression_mean": _ratio(s["compression_nano"], NANO * with_limits),
        "excluded_no_legal_limit": s["excluded_no_legal_limit"],
        "excluded_no_promised_limit": s["excluded_no_promised_limit"],
    }
    for name in _COUNTED_SHARES:
        out[name] = s[name]
        out[f"{name}_ratio"] = _ratio(s[name], items)
    for name in SCOPES:
        out[name] = s[name]
    return out


ROW_METRICS: tuple[str, ...] = tuple(name for name in row(None, None, Totals()) if name not in ("key", "label"))


def _unknown_metric(metric: str, allowed: Iterable[str]) -> Invalid:
    return invalid(f"unknown metric {metric!r}", "metric", "one_of", code="unknown_metric",
                   allowed=sorted(allowed))


def rank(rows: Iterable[Mapping], by: str, min_items: int, descending: bool = True) -> dict:
    """Return {by, descending, min_items, ranked, unranked}: rows ranked by `by`, ties sharing a rank.

    Groups with fewer than `min_items` items, or without a value for `by` (0/0), are listed in
    `unranked` with a `reason` instead. Raises Invalid (unknown_metric, invalid_min_items).
    """
    if by not in ROW_METRICS:
        raise _unknown_metric(by, ROW_METRICS)
    if isinstance(min_items, bool) or not isinstance(min_items, int) or min_items < 0:
        raise invalid("min_items must be a whole number ≥ 0", "min_items", "non_negative_integer",
                      code="invalid_min_items")
    candidates, unranked = [], []
    for one in rows:
        if one["items"] < min_items:
            unranked.append({**one, "reason": "too_few_items"})
        elif one.get(by) is None:
            unranked.append({**one, "reason": "no_value"})
        else:
            candidates.append(one)
    candidates.sort(key=lambda r: (-r[by] if descending else r[by], str(r["key"])))
    ranked, previous, place = [], None, 0
    for position, one in enumerate(candidates, start=1):
        if one[by] != previous:   # competition ranking: 1, 2, 2, 4 (并列)
            place, previous = position, one[by]
        ranked.append({**one, "rank": place})
    return {"by": by, "descending": descending, "min_items": min_items,
            "ranked": ranked, "unranked": unranked}


_FLAG_OF_RATIO = {"instant_ratio": "instant", **{f"{n}_ratio": n for n in _COUNTED_SHARES}}
IMPACT_METRICS = (*_FLAG_OF_RATIO, "compression_ratio", "compression_mean")


def impact_on_ratio(facts: Mapping[str, ItemFacts] | Iterable[tuple[str, ItemFacts]], metric: str) -> list[dict]:
    """Return, per item that would move a group's `metric` if fixed, {key, impact, ratio_if_fixed}.

    Fixed means: the flag set (e.g. made instant: +1/items), or for compression_ratio the promised
    limit brought to 0 (+promised/Σlegal), or for compression_mean the item's ratio brought to 1.
    Sorted by impact, largest first, then key. Raises Invalid (unknown_metric).
    """
    pairs = list(facts.items() if isinstance(facts, Mapping) else facts)
    totals = Totals.of(f for _, f in pairs)
    if metric in _FLAG_OF_RATIO:
        flag, denominator = _FLAG_OF_RATIO[metric], totals["items"]
        current = Fraction(totals[flag], denominator or 1)
        gains = {key: Fraction(1, denominator) for key, f in pairs if not getattr(f, flag)}
    elif metric == "compression_ratio":
        legal = totals["legal_units"]
        current = Fraction(legal - totals["promised_units"], legal or 1)
        gains = {key: Fraction(f.promised_units, legal) for key, f in pairs if f.with_limits and f.promised_units}
    elif metric == "compression_mean":
        counted = totals["with_limits"]
        current = Fraction(totals["compression_nano"], NANO * (counted or 1))
        gains = {key: Fraction(NANO - f.compression_nano, NANO * counted)
                 for key, f in pairs if f.with_limits and f.compression_nano < NANO}
    else:
        raise _unknown_metric(metric, IMPACT_METRICS)
    order = sorted(gains, key=lambda key: (-gains[key], str(key)))
    return [{"key": key, "impact": float(gains[key]), "ratio_if_fixed": float(current + gains[key])}
            for key in order]


def compare(rows_a: Iterable[Mapping], rows_b: Iterable[Mapping]) -> list[dict]:
    """Return per key {key, label, <metric>: {before, after, delta}} from rows at two dates.

    A group present on one date only has None on the other side and a None delta.
    Raises Invalid (duplicate_row_key) when a key repeats within one date.
    """
    def by_key(rows, side):
        keyed = {}
        for one in rows:
            if one["key"] in keyed:
                raise invalid("a group appears twice",
                              f"/{side}", "unique_keys", code="duplicate_row_key", key=one["key"])
            keyed[one["key"]] = one
        return keyed

    before, after = by_key(rows_a, "rows_a"), by_key(rows_b, "rows_b")
    out = []
    for key in [*before, *(k for k in after if k not in before)]:
        a, b = before.get(key, {}), after.get(key, {})
        entry = {"key": key, "label": (b or a).get("label")}
        for metric in ROW_METRICS:
            if metric in a or metric in b:
                x, y = a.get(metric), b.get(metric)
                entry[metric] = {"before": x, "after": y,
                                 "delta": y - x if x is not None and y is not None else None}
        out.append(entry)
    return out


def case_figures(finished: int, finished_on_time: int, ratings_by_level: Mapping[str, int],
                 bad_rectified: int, *, satisfied_levels: Iterable[str] = ("very_satisfied", "satisfied")) -> dict:
    """Return the case-level figures: 按期办结率, 满意率, 差评 and their rectification rate.

    satisfied = ratings 满意 or better (DOMAIN §4), bad (差评) = 不满意 + 非常不满意.
    Raises Invalid when a count is negative, a level is unknown, or a part exceeds its whole.
    """
    counts = {"finished": finished, "finished_on_time": finished_on_time, "bad_rectified": bad_rectified,
              **{f"ratings_by_level.{k}": v for k, v in ratings_by_level.items()}}
    for name, value in counts.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise invalid(f"{name} must be a whole number ≥ 0",
                          f"/{name}", "non_negative_integer", code="invalid_count")
    levels = dict.fromkeys(RATING_LEVELS, 0)
    satisfied_levels = tuple(satisfied_levels)
    for level in (*ratings_by_level, *satisfied_levels):
        if level not in levels:
            raise invalid(f"unknown rating level {level!r}",
                          "/level", "one_of", code="unknown_rating_level", allowed=list(RATING_LEVELS))
    levels.update(ratings_by_level)
    ratings = sum(levels.values())
    satisfied = sum(levels[level] for level in satisfied_levels)
    bad = levels["dissatisfied"] + levels["very_dissatisfied"]
    for part, whole, path, rule in ((finished_on_time, finished, "finished_on_time", "on_time_within_finished"),
                                    (bad_rectified, bad, "bad_rectified", "rectified_within_bad")):
        if part > whole:
            raise invalid("a part exceeds its whole", f"/{path}", rule, code="count_exceeds_total")
    return {"finished": finished, "finished_on_time": finished_on_time,
            "on_time_ratio": _ratio(finished_on_time, finished),
            "ratings": ratings, "ratings_by_level": levels,
            "satisfied": satisfied, "satisfied_ratio": _ratio(satisfied, ratings),
            "bad": bad, "bad_ratio": _ratio(bad, ratings),
            "bad_rectified": bad_rectified, "rectification_ratio": _ratio(bad_rectified, bad)}
