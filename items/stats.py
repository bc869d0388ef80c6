"""Reform-office statistics: facts kept by publish/withdraw hooks, grouped figures, drill-down, comparisons."""
from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from typing import Mapping

from items import codes, metrics, model, store
from items.errors import Forbidden, Malformed, invalid
from items.clock import CHINA, china_date, utcnow
from items.scope import Actor, region_prefix, scope_of

logger = logging.getLogger(__name__)

SHANGHAI = CHINA  # the offices' clock (items/clock.py)
GROUPS = ("region", "org", "item_type", "level")
FILTERS = ("region", "org", "item_type", "level", "service_object")
REGION_SCOPED_ROLES = ("reform_office", "reviewer")
MAX_DRILLDOWN = 1000


# --- the hooks the workflow calls inside its publish / withdraw transaction ---------------------------

def _naive_utc(at: dt.datetime) -> dt.datetime:
    if at.tzinfo is not None:
        at = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return at


def facts_row(impl_code: str, version: int, document: Mapping, valid_from: dt.datetime,
              no_limit_sentinel: int | None = metrics.DEFAULT_NO_LIMIT_SENTINEL) -> dict:
    """Return the ItemFactsRecord columns of one published version. Raises Invalid for unreadable limits."""
    facts = metrics.item_facts(document, no_limit_sentinel=no_limit_sentinel)
    objects = [str(o) for o in document.get("service_objects") or ()]
    return {"impl_code": impl_code, "version": version, "name": str(document.get("name") or ""),
            "org": str((document.get("org") or {}).get("credit_code") or ""),
            "region_code": _leaf(str(document.get("region_code") or "")),
            "level": str(document.get("level") or ""), "item_type": str(document.get("item_type") or ""),
            "basic_code": str(document.get("basic_code") or ""),
            "service_objects": "," + ",".join(objects) + "," if objects else "",
            "valid_from": _naive_utc(valid_from), "valid_to": None, **facts._asdict()}


def record_publish(impl_code: str, version: int, document: Mapping, published_at: dt.datetime) -> None:
    """Hook for publish: close the item's current facts row at `published_at` and open the new version's.

    Only in-use items count (metrics.counts_in_statistics): publishing a suspended or cancelled version
    closes the old row and opens none. Runs inside the caller's transaction. Raises Conflict
    (facts_out_of_order) when `published_at` precedes the current row, Invalid for unreadable limits.
    """
    at = _naive_utc(published_at)
    _close(impl_code, at)
    if metrics.counts_in_statistics(document):
        row = facts_row(impl_code, version, document, at)
        store.insert_facts([row])
        store.add_to_totals(row, 1, day_of(at))


def record_withdraw(impl_code: str, withdrawn_at: dt.datetime) -> None:
    """Hook for withdraw: the item stops counting at `withdrawn_at`. Raises Conflict (facts_out_of_order)."""
    _close(impl_code, _naive_utc(withdrawn_at))


def _close(impl_code: str, at: dt.datetime) -> None:
    closed = store.close_open_facts(impl_code, at)
    if closed is not None:
        store.add_to_totals(closed, -1, day_of(at))   # the totals follow the open rows exactly


# --- queries --------------------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class StatsQuery:
    """What a statistics request asks for: grouping, filters and the date (None = now)."""
    group_by: str = "region"
    region: str | None = None
    org: str | None = None
    item_type: str | None = None
    level: str | None = None
    service_object: str | None = None
    as_of: dt.date | None = None

    def filters(self) -> dict:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name)}


def parse_date(value: str, name: str = "as_of") -> dt.date:
    """Return the date of a YYYY-MM-DD text. Raises Malformed (bad_date)."""
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise invalid(f"{name} must be a date YYYY-MM-DD", name, "date", code="bad_date", kind=Malformed) from None


def parse_query(params: Mapping[str, str | None]) -> StatsQuery:
    """Return the StatsQuery of request parameters. Raises Malformed (bad_date, bad_parameter)."""
    def get(name):
        value = params.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else None

    group_by = get("group_by") or "region"
    checks = {"group_by": (group_by, GROUPS), "item_type": (get("item_type"), tuple(codes.ITEM_TYPES)),
              "level": (get("level"), tuple(codes.LEVELS)),
              "service_object": (get("service_object"), model.SERVICE_OBJECTS)}
    for name, (value, allowed) in checks.items():
        if value is not None and value not in allowed:
            raise invalid(f"{name} must be one of {', '.join(allowed)}", name, "one_of", code="bad_parameter",
                          kind=Malformed, allowed=list(allowed))
    region = get("region")
    if region is not None and not codes.is_valid_region_code(region):
        raise invalid("region must be a GB/T 2260 code", "region", "region_code", code="bad_parameter",
                      kind=Malformed)
    as_of = get("as_of")
    return StatsQuery(group_by=group_by, region=_leaf(region) if region else None, org=get("org"),
                 item_type=get("item_type"), level=get("level"), service_object=get("service_object"),
                 as_of=parse_date(as_of) if as_of else None)


def end_of_day(day: dt.date) -> dt.datetime:
    """The instant a day ends in Asia/Shanghai, as naive UTC: `as_of` counts what was published then."""
    midnight = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), SHANGHAI)
    return midnight.astimezone(dt.timezone.utc).replace(tzinfo=None)


def day_of(at: dt.datetime) -> dt.date:
    """The Asia/Shanghai day a naive-UTC instant falls on (the day whose as_of first counts it)."""
    return china_date(at)


def today() -> dt.date:
    return dt.datetime.now(SHANGHAI).date()


def _leaf(code: str) -> str:
    # 410402000000 names the same place as 410402 (codes.region_level): group them together.
    return code[:6] if len(code) == 12 and code.endswith("000000") else code


def _region_child(base: str | None, leaf: str) -> str:
    """The row a leaf region rolls up into under `base`: base itself or the child of base containing it."""
    node = leaf
    while node != base and (parent := codes.parent_region(node)) not in (None, base):
        node = parent
    return node


class StatsService:
    """Figures for reform offices and reviewers. Every method is synchronous and runs off the event loop."""

    def __init__(self, *, rank_min_items: int = 5, case_counts=None):
        self.case_counts = case_counts   # the branch hall's counter, set where the hall is wired
        self.rank_min_items = rank_min_items

    # --- scope ----------------------------------------------------------------------------------------

    @staticmethod
    def scoped_region(actor: Actor, region: str | None) -> str | None:
        """The region the actor may see figures of → the asked region or their own.

        Raises Forbidden (role_required for other roles, out_of_scope for a region outside theirs).
        """
        if actor.role not in ("province_admin", *REGION_SCOPED_ROLES):
            raise Forbidden("statistics need the role reform_office, reviewer or province_admin",
                            code="role_required",
                            details={"required": ["province_admin", *REGION_SCOPED_ROLES], "role": actor.role})
        scope = scope_of(actor)
        if region is None and scope.region:
            return _leaf(scope.region)
        return scope.narrowed(region=region).region

    def _scoped(self, actor: Actor, query: StatsQuery) -> StatsQuery:
        return dataclasses.replace(query, region=self.scoped_region(actor, query.region))

    @staticmethod
    def _store_filters(query: StatsQuery) -> dict:
        return {"region_prefix": region_prefix(query.region) if query.region else None, "org": query.org,
                "item_type": query.item_type, "level": query.level, "service_object": query.service_object}

    @staticmethod
    def _at(query: StatsQuery) -> dt.datetime | None:
        return end_of_day(query.as_of) if query.as_of else None

    # --- grouped figures ------------------------------------------------------------------------------

    def _grouped(self, query: StatsQuery) -> tuple[list[dict], metrics.Totals]:
        """Rows of metrics.row per group and the total, computed from SQL sums."""
        # current: the totals table; as of a day: the net changes up to that day (both kept by the hooks)
        filters = self._store_filters(query)
        sums = (store.change_sums(query.group_by, query.as_of, **filters) if query.as_of
                else store.facts_sums(query.group_by, **filters))
        leaves = {r["key"]: metrics.Totals.from_sums(r) for r in sums}
        total = metrics.Totals()
        for totals in leaves.values():
            total = total.merge(totals)
        if query.group_by == "region":
            return self._region_rows(query.region, leaves), total
        if query.group_by == "org":
            orgs = store.org_names(list(leaves))
            return [dict(metrics.row(k, orgs[k].name if k in orgs else k, t),
                         region_code=orgs[k].region_code if k in orgs else None)
                    for k, t in leaves.items()], total
        labels = codes.ITEM_TYPES if query.group_by == "item_type" else codes.LEVELS
        return [metrics.row(k, labels.get(k, k), t) for k, t in leaves.items()], total

    def _region_rows(self, base: str | None, leaves: dict[str, metrics.Totals]) -> list[dict]:
        # Sums are per exact region code in SQL; a child row merges the sums of every leaf under it,
        # so a city row equals the sum of its counties and its own departments (DOMAIN.md §4).
        if base is None:
            provinces = {leaf[:2] for leaf in leaves}
            base = next(iter(provinces)) + "0000" if len(provinces) == 1 else None
        children: dict[str, metrics.Totals] = {}
        for leaf, totals in leaves.items():
            key = _region_child(base, _leaf(leaf)) if base else leaf[:2] + "0000"
            children[key] = children.get(key, metrics.Totals()).merge(totals)
        names = {r.code: r.name for r in store.regions_under(base and region_prefix(base))}
        rows = []
        for key in sorted(children):
            own = key == base   # the base region's own departments, beside its children
            label = names.get(key, key) + ("本级" if own else "")
            rows.append(dict(metrics.row(key, label, children[key]), region_level=codes.region_level(key),
                             own=own))
        return rows

    def items(self, actor: Actor, query: StatsQuery) -> dict:
        """CONTRACT.md §4: {as_of, current, group_by, filters, rows, total}. Raises Forbidden."""
        query = self._scoped(actor, query)
        rows, total = self._grouped(query)
        return {"as_of": (query.as_of or today()).isoformat(), "current": query.as_of is None,
                "group_by": query.group_by, "filters": query.filters(), "rows": rows,
                "total": metrics.row("total", "合计", total)}

    def rankings(self, actor: Actor, query: StatsQuery, by: str = "instant_ratio", min_items: int | None = None,
                 descending: bool = True) -> dict:
        """metrics.rank over the groups of `query`, leaving out groups under min_items (settings default).

        Raises Forbidden, Malformed (unknown_metric: `by` is a query parameter), Invalid (invalid_min_items).
        """
        if by not in metrics.ROW_METRICS:
            raise invalid(f"unknown metric {by!r}", "by", "one_of", code="unknown_metric", kind=Malformed,
                          allowed=sorted(metrics.ROW_METRICS))
        query = self._scoped(actor, query)
        rows, _ = self._grouped(query)
        rows = [r for r in rows if not r.get("own")]   # 本级 is not a peer of the children it sits above
        ranked = metrics.rank(rows, by, self.rank_min_items if min_items is None else min_items, descending)
        return {"as_of": (query.as_of or today()).isoformat(), "group_by": query.group_by,
                "filters": query.filters(), **ranked}

    # --- the items behind a figure --------------------------------------------------------------------

    def drilldown(self, actor: Actor, query: StatsQuery, metric: str, limit: int = 100, offset: int = 0) -> dict:
        """The items behind one figure of one group (the filters of `query`).

        A ratio of metrics.IMPACT_METRICS lists the items holding it back, largest impact first
        (metrics.impact_on_ratio); a fact name (e.g. excluded_no_legal_limit) lists the items counted in
        it. Raises Forbidden, Malformed (unknown_metric: `metric` is a query parameter).
        """
        query = self._scoped(actor, query)
        if metric not in metrics.IMPACT_METRICS and metric not in metrics.FACT_NAMES:
            raise invalid(f"unknown metric {metric!r}", "metric", "one_of", code="unknown_metric", kind=Malformed,
                          allowed=sorted({*metrics.IMPACT_METRICS, *metrics.FACT_NAMES}))
        rows = {r["impl_code"]: r for r in store.facts_items(self._at(query), **self._store_filters(query))}
        facts = {code: metrics.ItemFacts(*(r[n] for n in metrics.FACT_NAMES)) for code, r in rows.items()}
        if metric in metrics.IMPACT_METRICS:
            entries = metrics.impact_on_ratio(facts, metric)
        else:
            entries = [{"key": code} for code, f in facts.items() if getattr(f, metric)]
        page = entries[offset:offset + min(limit, MAX_DRILLDOWN)]
        orgs = store.org_names(sorted({rows[e["key"]]["org"] for e in page}))
        items = []
        for entry in page:
            r = rows[entry.pop("key")]
            org = orgs.get(r["org"])
            items.append({"impl_code": r["impl_code"], "version": r["version"], "name": r["name"],
                          "org": r["org"], "org_name": org.name if org else None, "region_code": r["region_code"],
                          "level": r["level"], "item_type": r["item_type"], **entry,
                          "facts": {n: r[n] for n in metrics.FACT_NAMES}})
        return {"as_of": (query.as_of or today()).isoformat(), "metric": metric, "filters": query.filters(),
                "group": metrics.row("group", "所选范围", metrics.Totals.of(facts.values())),
                "total": len(entries), "offset": offset, "items": items}

    # --- two dates ----------------------------------------------------------------------------------

    def compare(self, actor: Actor, query: StatsQuery, before: dt.date, after: dt.date, limit: int = 200) -> dict:
        """Figures at the end of two days side by side, and the items whose facts changed between them.

        Each changed item: change published | withdrawn | revised, versions and the facts that moved.
        Raises Forbidden, Invalid (dates_out_of_order).
        """
        if after < before:
            raise invalid("to must not be before from", "to", "to_not_before_from", code="dates_out_of_order")
        query = self._scoped(actor, query)
        rows_a, total_a = self._grouped(dataclasses.replace(query, as_of=before))
        rows_b, total_b = self._grouped(dataclasses.replace(query, as_of=after))
        left, entered = store.facts_changes(end_of_day(before), end_of_day(after), **self._store_filters(query))
        was, now = {r["impl_code"]: r for r in left}, {r["impl_code"]: r for r in entered}
        changed = []
        for code in sorted({*was, *now}):
            a, b = was.get(code), now.get(code)
            moved = {n: (b[n] if b else 0) - (a[n] if a else 0) for n in metrics.FACT_NAMES}
            moved = {n: d for n, d in moved.items() if d}
            same_group = a and b and all(a[k] == b[k] for k in ("org", "region_code", "level", "item_type"))
            if same_group and not moved:
                continue   # a revision that moved no figure
            one = b or a
            changed.append({"impl_code": code, "name": one["name"], "org": one["org"],
                            "region_code": one["region_code"],
                            "change": "revised" if a and b else "published" if b else "withdrawn",
                            "version_before": a["version"] if a else None, "version_after": b["version"] if b else None,
                            "moved": moved})
        return {"from": before.isoformat(), "to": after.isoformat(), "group_by": query.group_by,
                "filters": query.filters(), "rows": metrics.compare(rows_a, rows_b),
                "total": metrics.compare([metrics.row("total", "合计", total_a)],
                                         [metrics.row("total", "合计", total_b)])[0],
                "changed_items_total": len(changed), "changed_items": changed[:limit]}

    # --- claim rate and case-level figures ------------------------------------------------------------

    def claims(self, actor: Actor, region: str | None = None, level: str | None = None) -> dict:
        """认领率 per region at the region's own level: claimed in-use catalogue items that apply at that
        level ÷ all such items (DOMAIN.md §4). Raises Forbidden, Malformed (bad_parameter)."""
        region = self.scoped_region(actor, _leaf(region) if region else None)
        if level is not None and level not in codes.LEVELS:
            raise invalid("level must be a GB/T 39046 level digit", "level", "one_of", code="bad_parameter",
                          kind=Malformed, allowed=list(codes.LEVELS))
        prefix = region_prefix(region) if region else None
        applicable: dict[str, set[str]] = {}
        for basic_code, levels in store.catalogue_in_use_levels().items():
            for one in levels:
                applicable.setdefault(one, set()).add(basic_code)
        claimed: dict[tuple[str, str], set[str]] = {}
        for region_code, item_level, basic_code in store.claimed_codes(prefix):
            if basic_code in applicable.get(item_level, ()):
                claimed.setdefault((_leaf(region_code), item_level), set()).add(basic_code)
        regions = {_leaf(r.code): r for r in store.regions_under(prefix)}
        level_of = {"province": "2", "city": "3", "county": "4", "township": "5", "village": "6"}
        places = {code: (r.level if r.level in codes.LEVELS else level_of.get(codes.region_level(code) or ""))
                  for code, r in regions.items()}
        for code, _ in claimed:
            places.setdefault(code, level_of.get(codes.region_level(code) or ""))
        rows, total_claimed, total_applicable = [], 0, 0
        for code in sorted(places):
            at_level = places[code]
            if not at_level or (level and at_level != level):
                continue
            n_applicable = len(applicable.get(at_level, ()))
            n_claimed = len(claimed.get((code, at_level), ()))
            total_claimed += n_claimed
            total_applicable += n_applicable
            rows.append({"key": code, "label": regions[code].name if code in regions else code,
                         "level": at_level, "level_label": codes.LEVELS[at_level], "applicable": n_applicable,
                         "claimed": n_claimed, "claim_rate": _ratio(n_claimed, n_applicable)})
        return {"region": region, "level": level, "rows": rows,
                "total": {"key": "total", "label": "合计", "applicable": total_applicable,
                          "claimed": total_claimed, "claim_rate": _ratio(total_claimed, total_applicable)}}

    def cases(self, actor: Actor, region: str | None = None, since: dt.date | None = None,
              until: dt.date | None = None) -> dict:
        """Case-level figures (按期办结率, 满意率, 差评整改), kept apart from item figures.

        They come from `self.case_counts(region_prefix, since, until)` → {finished, finished_on_time,
        ratings_by_level, bad_rectified}, which the branch hall provides (items never import it); until
        it is set the answer has zero counts, null ratios and a note. Raises Forbidden.
        """
        region = self.scoped_region(actor, _leaf(region) if region else None)
        note = None
        if self.case_counts is not None:
            counts = self.case_counts(region_prefix(region) if region else None,
                                      end_of_day(since - dt.timedelta(days=1)) if since else None,
                                      end_of_day(until) if until else None)
        else:
            note = "branch_hall_not_available"
            counts = {"finished": 0, "finished_on_time": 0, "ratings_by_level": {}, "bad_rectified": 0}
        figures = metrics.case_figures(counts["finished"], counts["finished_on_time"],
                                       counts["ratings_by_level"], counts["bad_rectified"])
        return {"region": region, "from": since and since.isoformat(), "to": until and until.isoformat(),
                "figures": figures, "note": note}

    # --- facts for items published before the hooks existed ------------------------------------------

    def backfill(self) -> int:
        """Open a facts row for every published item that has none, from its published version's time,
        and rebuild the current totals from the open rows. Returns how many rows were opened."""
        opened = 0
        with store.transaction():
            for head, version in store.published_without_facts():
                if metrics.counts_in_statistics(version.document):
                    store.insert_facts([facts_row(head.impl_code, version.version, version.document,
                                                  version.created_at or utcnow())])
                    opened += 1
            store.rebuild_totals(day_of)
        return opened


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None
