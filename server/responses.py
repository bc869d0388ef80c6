"""What every operation answers on success: JSON Schemas by handler and method, read by the OpenAPI generator
(which refuses an operation without one) and so checked by the fuzz test against every real answer.

An operation may instead declare `responses=` on its @operation; that declaration wins. Schemas name the
fields a client relies on (required) and their types; they leave other fields open, so adding a field to an
answer is not a breaking change. A figure that is a ratio is nullable: it is null when its denominator is 0.

Each status maps to a dict (the JSON Schema of its application/json body) or to a tuple of content types
(files, plain text); a dict inside the tuple is the JSON Schema of its application/json answer, for an
operation that answers JSON or a file by `format=` (`(ITEM_STATS, *CSV_OR_XLSX)`).
"""
from __future__ import annotations

from items import codes, metrics, stats, stats_summary
from server import schemas
from server.operations import obj

S, I, B, N = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
O, A = {"type": "object"}, {"type": "array"}
NS = {"type": "string", "nullable": True}
NI = {"type": "integer", "nullable": True}
NN = {"type": "number", "nullable": True}   # a ratio: null on 0/0
DATE = {"type": "string", "format": "date"}
CSV_OR_XLSX = ("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


def shape(**fields) -> dict:
    """An object whose listed fields are all required, each with the given schema."""
    return obj(fields, tuple(fields))


def page_of(name: str, item: dict = O, **more) -> dict:
    """A page of a list: {name: [item], total, page, size, …more}."""
    return shape(**{name: {"type": "array", "items": item}}, total=I, page=I, size=I, **more)


PATCH = {"type": "array", "items": obj({"op": S, "path": S}, ("op", "path"))}
REGION = shape(code=S, name=S, parent=NS, level=NS, kind=NS)
DEPARTMENT = shape(credit_code=S, name=S, region_code=S, level=NS)
USER = shape(username=S, role=S, org=NS, region=NS, disabled=B, created_at=S)
IMPORT_REPORT = O  # the importer's own report (counts per kind); rows in error are the 422 error body
TRANSITION = shape(impl_code=S, status=S)
NEW_VERSION = shape(impl_code=S, version=I)
CASE = shape(case_no=S, impl_code=S, item_name=S, guide_version=I, department=O)
DIFF = lambda key: shape(**{key: S}, **{"from": I, "to": I}, patch=PATCH)  # noqa: E731
CALENDAR_YEAR = shape(year=I, origin=S, holidays=A, workdays=A)


# --- statistics (items/stats.py, items/metrics.py, items/stats_summary.py) ---------------------------------
def _row_field(name: str) -> dict:
    if name.endswith(("_ratio", "_mean")):
        return NN
    return N if name.endswith("_days") else I


# metrics.row: one group's counts, working-day sums and ratios
STATS_ROW = shape(key=S, label=S, **{name: _row_field(name) for name in metrics.ROW_METRICS})
# by region a row also says its level and whether it is the base region's own departments (本级); by org, where
GROUP_ROW = {**STATS_ROW, "properties": {**STATS_ROW["properties"], "region_level": NS, "own": B, "region_code": NS}}
GROUP_BY = {"type": "string", "enum": list(stats.GROUPS)}
FILTERS = obj({name: S for name in stats.FILTERS}, additionalProperties=False)   # only the filters given
ITEM_STATS = shape(as_of=DATE, current=B, group_by=GROUP_BY, filters=FILTERS,
                   rows={"type": "array", "items": GROUP_ROW}, total=STATS_ROW)
RANKED = {"type": "array", "items": {**STATS_ROW, "properties": {**STATS_ROW["properties"], "rank": I},
                                     "required": [*STATS_ROW["required"], "rank"]}}
UNRANKED = {"type": "array", "items": {**STATS_ROW, "properties": {
    **STATS_ROW["properties"], "reason": {"type": "string", "enum": ["too_few_items", "no_value"]}},
    "required": [*STATS_ROW["required"], "reason"]}}
RANKINGS = shape(as_of=DATE, group_by=GROUP_BY, filters=FILTERS, by=S, descending=B, min_items=I,
                 ranked=RANKED, unranked=UNRANKED)
FACTS = shape(**{name: I for name in metrics.FACT_NAMES})
# impact and ratio_if_fixed come with a ratio metric only (a fact metric lists the items counted in it)
DRILLDOWN_ITEM = obj({"impl_code": S, "version": I, "name": S, "org": S, "org_name": NS, "region_code": S,
                      "level": S, "item_type": S, "impact": N, "ratio_if_fixed": N, "facts": FACTS},
                     ("impl_code", "version", "name", "org", "org_name", "region_code", "level", "item_type",
                      "facts"))
DRILLDOWN = shape(as_of=DATE, metric=S, filters=FILTERS, group=STATS_ROW, total=I, offset=I,
                  items={"type": "array", "items": DRILLDOWN_ITEM})
# metrics.compare: each figure at both dates; a group absent on one date has null there and a null delta
BEFORE_AFTER = shape(before=NN, after=NN, delta=NN)
COMPARED_ROW = shape(key=S, label=S, **{name: BEFORE_AFTER for name in metrics.ROW_METRICS})
CHANGED_ITEM = shape(impl_code=S, name=S, org=S, region_code=S,
                     change={"type": "string", "enum": ["published", "withdrawn", "revised"]},
                     version_before=NI, version_after=NI, moved={"type": "object", "additionalProperties": I})
COMPARE = shape(**{"from": DATE, "to": DATE}, group_by=GROUP_BY, filters=FILTERS,
                rows={"type": "array", "items": COMPARED_ROW}, total=COMPARED_ROW, changed_items_total=I,
                changed_items={"type": "array", "items": CHANGED_ITEM})
CLAIM_TOTAL = shape(key=S, label=S, applicable=I, claimed=I, claim_rate=NN)
CLAIM_ROW = shape(**CLAIM_TOTAL["properties"], level={"type": "string", "enum": list(codes.LEVELS)}, level_label=S)
CLAIMS = shape(region=NS, level=NS, rows={"type": "array", "items": CLAIM_ROW}, total=CLAIM_TOTAL)
CASE_FIGURES = shape(finished=I, finished_on_time=I, on_time_ratio=NN, ratings=I,
                     ratings_by_level=shape(**{level: I for level in metrics.RATING_LEVELS}),
                     satisfied=I, satisfied_ratio=NN, bad=I, bad_ratio=NN, bad_rectified=I, rectification_ratio=NN)
# note: null, or branch_hall_not_available when the app runs without the hall (zero counts, null ratios)
CASE_STATS = shape(region=NS, **{"from": {**DATE, "nullable": True}, "to": {**DATE, "nullable": True}},
                   figures=CASE_FIGURES, note=NS)
FIGURE_KEY = {"type": "string", "enum": list(stats_summary.FIGURE_KEYS)}
FIGURE_SOURCE = {"type": "string", "enum": sorted({f.source for f in stats_summary.FIGURES})}
# numerator and denominator are counts, or working days for the compression ratio
SUMMARY = shape(region=NS, as_of=DATE, current=B, figures={"type": "array", "items": shape(
    key=FIGURE_KEY, label=S, source=FIGURE_SOURCE, numerator=N, denominator=N, ratio=NN, dated=B)})
FIGURE_AT = shape(numerator=N, denominator=N, ratio=NN)
SUMMARY_COMPARE = shape(region=NS, **{"from": DATE, "to": DATE}, figures={"type": "array", "items": shape(
    key=FIGURE_KEY, label=S, source=FIGURE_SOURCE, dated=B, before=FIGURE_AT, after=FIGURE_AT, change=NN)})

SUCCESS: dict[str, dict] = {
    # meta and operations
    "ApiIndexHandler.get": {"200": shape(name=S, version=S)},
    "HealthHandler.get": {"200": shape(ok=B, database=S, kv=S, warnings=A),
                          "503": shape(ok=B, database=S, kv=S, warnings=A)},
    "OpenApiHandler.get": {"200": shape(openapi=S, info=O, paths=O, components=O)},
    "LiveHandler.get": {"200": shape(status=S, pid=I)},
    "ReadyHandler.get": {"200": shape(ready=B, pid=I, database=S, redis=S, schema=S)},
    # staff sign-in and accounts
    "LogoutHandler.post": {"200": shape(revoked=B)},
    "MeHandler.get": {"200": shape(user=schemas.ACTOR)},
    "UserListHandler.get": {"200": page_of("users", USER)},
    "UserListHandler.post": {"201": obj({**USER["properties"], "password": S}, tuple(USER["required"]))},
    "UserHandler.get": {"200": USER},
    "UserHandler.patch": {"200": USER},
    "UserPasswordHandler.post": {"200": obj({"username": S, "password": S}, ("username",))},
    "OwnPasswordHandler.post": {"200": shape(token=S, expires_in=I)},
    # province administration
    "AuditHandler.get": {"200": page_of("entries", shape(id=I, at=S, actor=S, action=S, target=S))},
    "HolidayListHandler.get": {"200": shape(years=A, today=S, warnings=A)},
    "HolidayYearHandler.get": {"200": CALENDAR_YEAR},
    "HolidayYearHandler.put": {"200": shape(year=I), "201": shape(year=I)},
    # the directory
    "RegionListHandler.get": {"200": page_of("regions", REGION)},
    "RegionListHandler.post": {"201": REGION},
    "RegionHandler.get": {"200": REGION},
    "RegionHandler.patch": {"200": REGION},
    "RegionHandler.delete": {"200": shape(deleted=S)},
    "DepartmentListHandler.get": {"200": page_of("departments", DEPARTMENT)},
    "DepartmentListHandler.post": {"201": DEPARTMENT},
    "DepartmentHandler.get": {"200": DEPARTMENT},
    "DepartmentHandler.patch": {"200": DEPARTMENT},
    "DepartmentHandler.delete": {"200": shape(deleted=S)},
    "DirectoryImportHandler.post": {"200": IMPORT_REPORT, "201": IMPORT_REPORT},
    # the catalogue
    "CatalogueListHandler.get": {"200": page_of("items")},
    "CatalogueItemHandler.get": {"200": shape(basic_code=S, version=I, latest_version=I)},
    "CatalogueItemHandler.put": {"200": shape(basic_code=S, version=I, patch=PATCH, changed=B),
                                 "201": shape(basic_code=S, version=I, patch=PATCH, changed=B)},
    "CatalogueVersionsHandler.get": {"200": shape(basic_code=S, versions=A)},
    "CatalogueDiffHandler.get": {"200": DIFF("basic_code")},
    "CatalogueImportHandler.post": {"200": IMPORT_REPORT, "201": IMPORT_REPORT},
    "CatalogueImpactHandler.get": {"200": shape(basic_code=S, to_version=I, items=I, clean=I, conflicts=I,
                                                invalid=I, in_review=I, conflict_paths=O)},
    "CatalogueRebaseAllHandler.post": {"200": shape(basic_code=S, to_version=I, items=I, rebased=I, conflicts=I,
                                                    invalid=I, in_review=I, stale=I, conflicted=A)},
    # local items
    "ItemListHandler.post": {"201": shape(impl_code=S)},
    "ItemListHandler.get": {"200": page_of("items", shape(impl_code=S, basic_code=S, name=S, org=S, status=S))},
    "BulkClaimHandler.post": {"200": shape(claimed=I, failed=I, results=A)},
    "CoverageHandler.get": {"200": shape(region_code=S, level=S, applicable=I, claimed=I, unclaimed_count=I,
                                         claim_rate=N, unclaimed=A)},
    "ItemHandler.patch": {"200": NEW_VERSION},
    "ItemHandler.put": {"200": NEW_VERSION},
    "ItemRestoreHandler.post": {"200": NEW_VERSION},
    "ItemVersionsHandler.get": {"200": shape(impl_code=S, latest_version=I)},
    "ItemVersionSummaryHandler.get": {"200": shape(impl_code=S, version=I, changes=A)},
    "ItemDiffHandler.get": {"200": DIFF("impl_code")},
    "TransitionHandler.post": {"200": TRANSITION},
    "EventsHandler.get": {"200": shape(impl_code=S, status=S, events=A)},
    "LintHandler.get": {"200": shape(impl_code=S, version=I, findings=A)},
    "ItemConformanceHandler.get": {"200": shape(impl_code=S, basic_code=S, version=I, outdated={}, findings=A)},
    "ItemRebaseHandler.post": {"200": shape(impl_code=S, status=S, to_version=I, conflicts=A)},
    # the branch hall
    "HallUploadHandler.post": {"201": shape(file_id=S, sha256=S, size=I, content_type=S)},
    "HallApplicationHandler.get": {"200": CASE},
    "HallRatingHandler.post": {"201": shape(case_no=S, kind=S, level=S, label=S)},
    "HallSuggestHandler.get": {"200": shape(suggestions=A, popular=A)},
    "HallSubscriptionHandler.post": {"200": shape(template_id=S, count=I)},
    "WeChatCallbackHandler.get": {"200": ("text/plain",)},
    "WeChatCallbackHandler.post": {"200": ("text/plain",)},
    "SearchMissListHandler.get": {"200": shape(misses=A)},
    "SearchMissPromoteHandler.post": {"200": obj({"query": S}, ("query",))},
    "SynonymListHandler.get": {"200": shape(synonyms=A)},
    "SynonymHandler.get": {"200": shape(term=S, expansions=A)},
    "SynonymHandler.put": {"200": shape(term=S, expansions=A)},
    "SynonymHandler.delete": {"200": shape(term=S, deleted=B)},
    # window staff
    "CaseListHandler.get": {"200": page_of("cases", shape(case_no=S, impl_code=S, item_name=S), today=S)},
    "CaseHandler.get": {"200": CASE},
    "CaseActionHandler.post": {"200": CASE},
    "RectificationAnswerHandler.post": {"200": shape(id=I, status=S, due_date=S)},
    "CaseFileHandler.get": {"200": ("application/pdf", "image/jpeg", "image/png")},
    "CaseGuideHandler.get": {"200": shape(case_no=S, impl_code=S, version=I, document=O)},
    "RevealHandler.post": {"200": shape(case_no=S, id_number=S, revealed_by=S, revealed_at=S)},
    "RevealAuditHandler.get": {"200": page_of("entries")},
    "RectificationListHandler.get": {"200": shape(rectifications=A, total=I, today=S)},
    # statistics: JSON answers described field by field (above); items and summary also export CSV/XLSX
    "ItemStatsHandler.get": {"200": (ITEM_STATS, *CSV_OR_XLSX)},
    "DrilldownHandler.get": {"200": DRILLDOWN},
    "CompareHandler.get": {"200": COMPARE},
    "ClaimStatsHandler.get": {"200": CLAIMS},
    "CaseStatsHandler.get": {"200": CASE_STATS},
    "RankingHandler.get": {"200": RANKINGS},
    "SummaryHandler.get": {"200": (SUMMARY, *CSV_OR_XLSX)},
    "SummaryCompareHandler.get": {"200": SUMMARY_COMPARE},
}


def success(handler: str, method: str) -> dict | None:
    """The success answers of `handler.method` from this table, or None when it has none."""
    return SUCCESS.get(f"{handler}.{method}")
