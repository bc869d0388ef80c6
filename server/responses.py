"""What every operation answers on success: JSON Schemas by handler and method, read by the OpenAPI generator
(which refuses an operation without one) and so checked by the fuzz test against every real answer.

An operation may instead declare `responses=` on its @operation; that declaration wins. Schemas name the
fields a client relies on (required) and their types; they leave other fields open, so adding a field to an
answer is not a breaking change.
"""
from __future__ import annotations

from server import schemas
from server.operations import obj

S, I, B, N = {"type": "string"}, {"type": "integer"}, {"type": "boolean"}, {"type": "number"}
O, A = {"type": "object"}, {"type": "array"}
NS = {"type": "string", "nullable": True}
NI = {"type": "integer", "nullable": True}
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
    # statistics: figures by group are open objects; their fields follow items/metrics.py
    "ItemStatsHandler.get": {"200": ("application/json", *CSV_OR_XLSX)},
    "DrilldownHandler.get": {"200": O},
    "CompareHandler.get": {"200": O},
    "ClaimStatsHandler.get": {"200": O},
    "CaseStatsHandler.get": {"200": O},
    "RankingHandler.get": {"200": O},
    "SummaryHandler.get": {"200": ("application/json", *CSV_OR_XLSX)},
    "SummaryCompareHandler.get": {"200": shape(region=NS, figures={}, **{"from": S, "to": S})},
}


def success(handler: str, method: str) -> dict | None:
    """The success answers of `handler.method` from this table, or None when it has none."""
    return SUCCESS.get(f"{handler}.{method}")
