"""The editor's worklist: one page of local items with their outdated flag and rule findings counted."""
from __future__ import annotations

from items import store
from items.local import LocalItemService
from items.scope import Actor


def worklist(items: LocalItemService, actor: Actor, status: str | None = None, outdated: bool = False,
             basic_code: str | None = None, page: int = 1, size: int = 50) -> dict:
    """The `items.list` page the actor may see, each row with `outdated` (a later catalogue version
    exists), `errors` and `warnings` (counts of items/rules.py findings on the latest version) →
    {items, total, page, size}. Raises what `LocalItemService.list` raises."""
    result = items.list(actor, status=status, basic_code=basic_code, outdated=outdated, page=page, size=size)
    rows = result["items"]
    # counted when each version was written (store.with_rule_counts): a page reads 50 pairs of numbers
    counts = store.latest_rule_counts([r["impl_code"] for r in rows])
    latest = store.catalogue_latest_versions([r["basic_code"] for r in rows])
    for row in rows:
        row["errors"], row["warnings"] = counts.get(row["impl_code"], (0, 0))
        row["latest_catalogue_version"] = latest.get(row["basic_code"])
        row["outdated"] = (row["latest_catalogue_version"] or 0) > row["based_on_catalogue_version"]
    return result


def review_queue(items: LocalItemService, actor: Actor, status: str = "submitted", page: int = 1,
                 size: int = 50) -> dict:
    """The reviewer's queue: the `items.list` page of items in `status` the actor may see (reviewers:
    their region), each row with `org_name`, `submitted_at` and `submitted_by` (the latest submit
    event) → {items, total, page, size}. Raises what `LocalItemService.list` raises."""
    result = items.list(actor, status=status, page=page, size=size)
    rows = result["items"]
    orgs = store.org_names(sorted({r["org"] for r in rows}))
    submits = store.last_events([r["impl_code"] for r in rows], "submit")
    for row in rows:
        org, event = orgs.get(row["org"]), submits.get(row["impl_code"])
        row["org_name"] = org.name if org else row["org"]
        row["submitted_at"] = event.at.isoformat() + "Z" if event else None
        row["submitted_by"] = event.actor if event else None
    return result
