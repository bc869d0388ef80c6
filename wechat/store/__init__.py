"""Storage of the branch hall: the only code that queries wechat/records.py.

One package, split by concept; callers use `from wechat import store` and `store.<function>`. What it
offers is listed here by name: records and peewee stay inside. The hall writes in the items package's
`transaction` (one database).
"""
from items.store import transaction
from wechat.store.people import (audit, audit_entries, ensure_hall_user, hall_user, insert_upload, uploads_of)
from wechat.store.cases import (DuplicateCase, case_by_idempotency_key, cases_of_user, corrections_of, events_of,
                                find_case, get_case, insert_case, insert_correction, insert_event, insert_step,
                                list_cases, next_case_serial, resolve_corrections, steps_of, update_case)
from wechat.store.ratings import (answer_rectification, insert_rating, insert_rectification, ratings_of,
                                  rectification, rectifications_of, rectifications_of_org)
from wechat.store.messages import (add_consent, claim_message, clear_consent, consent_count, due_messages, outbox_for,
                                   pending_message_count, queue_message, reschedule_message, settle_message,
                                   take_consent)
from wechat.store.figures import (case_counts, holiday_year, holiday_years, save_holiday_year)

__all__ = [
    "transaction", "audit", "audit_entries", "ensure_hall_user", "hall_user", "insert_upload",
    "uploads_of", "DuplicateCase", "case_by_idempotency_key", "cases_of_user", "corrections_of", "events_of",
    "find_case", "get_case", "insert_case", "insert_correction", "insert_event", "insert_step", "list_cases",
    "next_case_serial", "resolve_corrections", "steps_of", "update_case", "answer_rectification", "insert_rating",
    "insert_rectification", "ratings_of", "rectification", "rectifications_of", "rectifications_of_org",
    "add_consent", "claim_message", "clear_consent", "consent_count", "due_messages", "outbox_for",
    "pending_message_count", "queue_message", "reschedule_message", "settle_message", "take_consent", "case_counts",
    "holiday_year", "holiday_years", "save_holiday_year",
]
