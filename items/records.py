"""Storage of the catalogue, local items, their versions, regions, organisations and staff (peewee)."""
from __future__ import annotations

import json

import peewee as pw

from items.clock import utcnow  # noqa: F401 - the records' timestamp default; importable here as before

# Bound in server.db.connect(): SQLite on the embedded default, PostgreSQL in production.
database = pw.DatabaseProxy()


class JSONText(pw.TextField):
    """A JSON value kept as UTF-8 text (ensure_ascii=False: 中文 stays readable in the database)."""

    def db_value(self, value):
        if value is None:
            return None
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=False)

    def python_value(self, value):
        if value is None:
            return None
        return json.loads(value)


class BaseRecord(pw.Model):
    class Meta:
        database = database
        legacy_table_names = False


class RegionRecord(BaseRecord):
    """A GB/T 2260 region (province, city, county, township)."""
    code = pw.CharField(max_length=12, primary_key=True)
    name = pw.CharField(max_length=100)
    parent = pw.CharField(max_length=12, null=True, index=True)
    level = pw.CharField(max_length=1)  # GB/T 39046 level digit: 2 province, 3 city, 4 county, 5 township


class OrgRecord(BaseRecord):
    """An implementing body (department) identified by its credit code."""
    credit_code = pw.CharField(max_length=18, primary_key=True)
    name = pw.CharField(max_length=200)
    region_code = pw.CharField(max_length=12, index=True)
    level = pw.CharField(max_length=1)


class UserRecord(BaseRecord):
    """A staff account; citizens are HallUserRecord in wechat/."""
    username = pw.CharField(max_length=64, unique=True)
    password_hash = pw.CharField(max_length=255)
    role = pw.CharField(max_length=32)
    org = pw.CharField(max_length=18, null=True)
    region = pw.CharField(max_length=12, null=True)
    active = pw.BooleanField(default=True)
    created_at = pw.DateTimeField(default=utcnow)


class CatalogueItemRecord(BaseRecord):
    """The head of one catalogue item: its latest version and the columns lists filter on."""
    basic_code = pw.CharField(max_length=12, primary_key=True)
    name = pw.CharField(max_length=300, index=True)
    item_type = pw.CharField(max_length=4, index=True)
    state = pw.CharField(max_length=16)
    levels = pw.CharField(max_length=32)  # "2,3,4"
    latest_version = pw.IntegerField()
    updated_at = pw.DateTimeField(default=utcnow)


class VersionColumns(BaseRecord):
    """What every stored version holds: number, author, time, message, the full document and the
    RFC 6902 patch from the previous version. Not a table: the catalogue and local items extend it."""
    version = pw.IntegerField()
    author = pw.CharField(max_length=64)
    created_at = pw.DateTimeField(default=utcnow)
    message = pw.TextField(default="")
    document = JSONText()
    patch = JSONText()


class CatalogueVersionRecord(VersionColumns):
    """One version of a catalogue item."""
    basic_code = pw.CharField(max_length=12)

    class Meta:
        indexes = ((("basic_code", "version"), True),)


class LocalItemRecord(BaseRecord):
    """The head of one local item (实施清单 entry): workflow status, published and latest versions."""
    impl_code = pw.CharField(max_length=31, primary_key=True)
    basic_code = pw.CharField(max_length=12, index=True)
    org = pw.CharField(max_length=18, index=True)
    level = pw.CharField(max_length=1)
    region_code = pw.CharField(max_length=12, index=True)
    name = pw.CharField(max_length=300)
    status = pw.CharField(max_length=16, index=True)  # draft | submitted | approved | published | withdrawn
    latest_version = pw.IntegerField()
    published_version = pw.IntegerField(null=True)
    approved_version = pw.IntegerField(null=True)
    based_on_catalogue_version = pw.IntegerField()
    created_at = pw.DateTimeField(default=utcnow)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("basic_code", "based_on_catalogue_version"), False),)


class LocalVersionRecord(VersionColumns):
    """One version of a local item; `based_on_catalogue_version` is the catalogue version it follows.

    `rule_errors` and `rule_warnings` count items/rules.py findings on the document, written with the
    version (a version never changes) so a worklist page reads them instead of running the rule engine."""
    impl_code = pw.CharField(max_length=31)
    based_on_catalogue_version = pw.IntegerField()
    rule_errors = pw.IntegerField(null=True)
    rule_warnings = pw.IntegerField(null=True)

    class Meta:
        indexes = ((("impl_code", "version"), True),)


class AuditRecord(BaseRecord):
    """Append-only log of every write: who, what, when, from where."""
    at = pw.DateTimeField(default=utcnow, index=True)
    actor = pw.CharField(max_length=64)
    action = pw.CharField(max_length=64)
    target = pw.CharField(max_length=64, index=True)
    remote_ip = pw.CharField(max_length=64, default="")
    details = JSONText(default=dict)


class WorkflowEventRecord(BaseRecord):
    """One review-workflow transition of a local item: which version, from and to which status, by whom."""
    impl_code = pw.CharField(max_length=31, index=True)
    version = pw.IntegerField()
    action = pw.CharField(max_length=16)  # submit | recall | approve | reject | publish | withdraw
    from_status = pw.CharField(max_length=16)
    to_status = pw.CharField(max_length=16)
    actor = pw.CharField(max_length=64)
    at = pw.DateTimeField(default=utcnow, index=True)
    comment = pw.TextField(default="")


MODELS = [RegionRecord, OrgRecord, UserRecord, CatalogueItemRecord, CatalogueVersionRecord,
          LocalItemRecord, LocalVersionRecord, AuditRecord, WorkflowEventRecord]


# --- statistics ---

from items.metrics import FACT_COLUMNS  # noqa: E402  (pure module; only the column list is needed)


class ItemFactsRecord(BaseRecord):
    """One published version of a local item as additive integer facts, valid over [valid_from, valid_to).

    Written by the publish/withdraw hooks (items/stats.py); valid_to NULL marks the current version.
    Times are naive UTC like every other timestamp here.
    """
    impl_code = pw.CharField(max_length=31)
    version = pw.IntegerField()
    name = pw.CharField(max_length=300, default="")
    org = pw.CharField(max_length=18)
    region_code = pw.CharField(max_length=12)
    level = pw.CharField(max_length=1)
    item_type = pw.CharField(max_length=4)
    basic_code = pw.CharField(max_length=12)
    service_objects = pw.TextField(default="")  # ",person,enterprise," so one LIKE matches one object
    valid_from = pw.DateTimeField()
    valid_to = pw.DateTimeField(null=True)

    class Meta:
        indexes = (
            (("impl_code", "valid_to"), False),   # close the open row of an item on publish/withdraw
            (("valid_to", "region_code"), False),  # current figures of a region (valid_to IS NULL)
            (("region_code", "valid_from"), False),  # as-of figures of a region
            (("org", "valid_to"), False),          # one department's figures
        )


class ItemFactsTotalRecord(BaseRecord):
    """Sums of the current facts rows per combination of the grouping and filter columns.

    Kept in step by the same hooks, in the same transaction, so current figures sum a few thousand
    rows instead of every item; items/stats.py can rebuild it from the facts rows.
    """
    region_code = pw.CharField(max_length=12)
    org = pw.CharField(max_length=18)
    level = pw.CharField(max_length=1)
    item_type = pw.CharField(max_length=4)
    service_objects = pw.TextField(default="")

    class Meta:
        indexes = ((("region_code", "org", "level", "item_type", "service_objects"), True),)


class ItemFactsChangeRecord(BaseRecord):
    """Net change of the totals per month ("m", period "2025-12") and per day ("d", "2025-12-31") in
    Asia/Shanghai, per combination: figures as of a day add the months before it and that month's days."""
    kind = pw.CharField(max_length=1)
    period = pw.CharField(max_length=10)
    region_code = pw.CharField(max_length=12)
    org = pw.CharField(max_length=18)
    level = pw.CharField(max_length=1)
    item_type = pw.CharField(max_length=4)
    service_objects = pw.TextField(default="")

    class Meta:
        indexes = ((("kind", "period", "region_code", "org", "level", "item_type", "service_objects"), True),)


# One BIGINT column per fact (metrics.FACT_COLUMNS): sums of billionths pass 2**31 after three items.
for _fact, _ in FACT_COLUMNS:
    for _model in (ItemFactsRecord, ItemFactsTotalRecord, ItemFactsChangeRecord):
        _model._meta.add_field(_fact, pw.BigIntegerField(default=0))

MODELS += [ItemFactsRecord, ItemFactsTotalRecord, ItemFactsChangeRecord]
