"""Storage of the items package: the only code that queries items/records.py.

One package, split by concept; callers use `from items import store` and `store.<function>`. What it
offers is listed here by name: records and peewee stay inside the storage packages (`one_row`, which takes
a query, serves wechat/store too).
"""
from items.store.catalogue import (catalogue_documents, catalogue_head, catalogue_heads, catalogue_version,
                                   catalogue_versions, insert_catalogue_versions, list_catalogue)
from items.store.core import BATCH, is_postgres, one_row, transaction
from items.store.directory import (active_admins, all_orgs, audit, audit_entries, create_user, delete_org,
                                   delete_region, ensure_org, ensure_region, find_orgs, find_regions, find_users,
                                   get_org, get_region, get_user, list_orgs, list_regions, org_references,
                                   orgs_named, region_references, save_user, set_password_hash, update_user)
from items.store.local import (append_local_version, append_rebased_versions, catalogue_applying,
                               catalogue_latest_versions, claimed_basic_codes, count_local_of, insert_local_item,
                               insert_workflow_event, last_events, latest_documents, latest_rule_counts, list_local,
                               local_exists,
                               local_head, local_version, local_version_documents, local_versions,
                               lock_local_versions, move_local_status, rebase_batch, update_local_head,
                               workflow_events)
from items.store.stats import (FACT_DIMENSIONS, add_to_totals, catalogue_in_use_levels, change_sums, claimed_codes,
                               close_open_facts, facts_changes, facts_items, facts_sums, insert_facts, org_names,
                               published_without_facts, rebuild_totals, regions_under)

__all__ = [
    "BATCH", "is_postgres", "one_row", "transaction",
    "active_admins", "all_orgs", "audit", "audit_entries", "create_user", "delete_org", "delete_region",
    "ensure_org", "ensure_region", "find_orgs", "find_regions", "find_users", "get_org", "get_region", "get_user",
    "list_orgs", "list_regions", "org_references", "orgs_named", "region_references", "save_user",
    "set_password_hash", "update_user",
    "catalogue_documents", "catalogue_head", "catalogue_heads", "catalogue_version", "catalogue_versions",
    "insert_catalogue_versions", "list_catalogue",
    "append_local_version", "append_rebased_versions", "catalogue_applying", "catalogue_latest_versions",
    "claimed_basic_codes", "count_local_of", "last_events", "latest_documents", "latest_rule_counts",
    "insert_local_item", "insert_workflow_event", "list_local", "local_exists", "local_head",
    "local_version", "local_version_documents", "local_versions", "lock_local_versions", "move_local_status",
    "rebase_batch", "update_local_head", "workflow_events",
    "FACT_DIMENSIONS", "add_to_totals", "catalogue_in_use_levels", "change_sums", "claimed_codes",
    "close_open_facts", "facts_changes", "facts_items", "facts_sums", "insert_facts", "org_names",
    "published_without_facts", "rebuild_totals", "regions_under",
]
