"""Storage of the branch hall (peewee): hall users, uploads, cases with their history, ratings, the outbox."""
from __future__ import annotations

import peewee as pw

from items.clock import utcnow
from items.records import BaseRecord, JSONText


class HallUserRecord(BaseRecord):
    """A citizen of the branch hall, known by the mini-program's openid (DOMAIN.md §6)."""
    openid = pw.CharField(max_length=64, unique=True)
    unionid = pw.CharField(max_length=64, null=True)
    created_at = pw.DateTimeField(default=utcnow)


class UploadRecord(BaseRecord):
    """One uploaded file of one citizen; the bytes live under settings.upload_dir by sha256."""
    file_id = pw.CharField(max_length=32, unique=True)
    sha256 = pw.CharField(max_length=64, index=True)
    size = pw.IntegerField()
    content_type = pw.CharField(max_length=64)
    owner = pw.ForeignKeyField(HallUserRecord, backref="uploads", on_delete="CASCADE")
    created_at = pw.DateTimeField(default=utcnow)


class CaseSerialRecord(BaseRecord):
    """The last case serial handed out per implementation code and day (the 4 digits of the case number)."""
    impl_code = pw.CharField(max_length=31)
    day = pw.CharField(max_length=8)  # yyyyMMdd, as in the case number
    last = pw.IntegerField(default=0)

    class Meta:
        indexes = ((("impl_code", "day"), True),)


class CaseRecord(BaseRecord):
    """One application (办件): pinned to the published guide version it was filed under.

    The ID number and phone are stored encrypted (wechat/identity.py), with blind indexes and a
    case-bound last-6 digest for lookups, and their masks for display; never in plaintext.
    """
    case_no = pw.CharField(max_length=50, unique=True)
    impl_code = pw.CharField(max_length=31, index=True)
    guide_version = pw.IntegerField()
    item_name = pw.CharField(max_length=300)
    org = pw.CharField(max_length=18, index=True)
    org_name = pw.CharField(max_length=200)
    region_code = pw.CharField(max_length=12, index=True)
    user = pw.ForeignKeyField(HallUserRecord, backref="cases", on_delete="RESTRICT")
    idempotency_key = pw.CharField(max_length=128)
    request_digest = pw.CharField(max_length=64)  # keyed HMAC of the request body: same key, other body → 422
    applicant_name = pw.CharField(max_length=100)
    id_number_token = pw.TextField()
    id_number_index = pw.CharField(max_length=64, index=True)
    id_last6 = pw.CharField(max_length=64)
    id_number_masked = pw.CharField(max_length=32)
    phone_token = pw.TextField()
    phone_index = pw.CharField(max_length=64)
    phone_masked = pw.CharField(max_length=32)
    form = JSONText(default=dict)
    materials = JSONText(default=list)
    time_limit = JSONText(null=True)  # the promised limit {value, unit} of the pinned guide version
    state = pw.CharField(max_length=24, index=True)
    paused_from = pw.CharField(max_length=24, null=True)
    result = pw.CharField(max_length=16, null=True)
    submitted_at = pw.DateTimeField(default=utcnow)
    accepted_at = pw.DateTimeField(null=True)
    promised_date = pw.DateField(null=True)
    due_date = pw.DateField(null=True, index=True)
    finished_at = pw.DateTimeField(null=True)
    delivered_at = pw.DateTimeField(null=True)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "idempotency_key"), True), (("org", "state"), False))


class CaseEventRecord(BaseRecord):
    """One state change of a case: the history that dates, pauses and notifications come from."""
    case = pw.ForeignKeyField(CaseRecord, backref="events", on_delete="CASCADE")
    from_state = pw.CharField(max_length=24, null=True)
    to_state = pw.CharField(max_length=24)
    action = pw.CharField(max_length=24)
    actor = pw.CharField(max_length=64)
    opinion = pw.TextField(default="")
    at = pw.DateTimeField(default=utcnow)
    day = pw.DateField()  # the business day in China (UTC+8) the change happened on


class StepRecord(BaseRecord):
    """One step of a case in progress (wechat/lifecycle.py CaseStep)."""
    case = pw.ForeignKeyField(CaseRecord, backref="steps", on_delete="CASCADE")
    seq = pw.IntegerField()
    name = pw.CharField(max_length=100)
    action = pw.CharField(max_length=16)  # pass | return | other
    handler = pw.CharField(max_length=64)
    opinion = pw.TextField(default="")
    start = pw.DateTimeField()
    end = pw.DateTimeField(null=True)

    class Meta:
        indexes = ((("case", "seq"), True),)


class CorrectionRecord(BaseRecord):
    """A correction request (补齐补正): what the applicant must add, and when it was settled."""
    case = pw.ForeignKeyField(CaseRecord, backref="corrections", on_delete="CASCADE")
    opinion = pw.TextField()
    materials = JSONText(default=list)  # the guide's material ids to resubmit (一次性告知)
    requested_by = pw.CharField(max_length=64)
    requested_at = pw.DateTimeField(default=utcnow)
    resolved_at = pw.DateTimeField(null=True)


class RatingRecord(BaseRecord):
    """A rating (好差评) stored by level name; one first rating and one follow-up per case."""
    case = pw.ForeignKeyField(CaseRecord, backref="ratings", on_delete="CASCADE")
    level = pw.CharField(max_length=24)
    comment = pw.TextField(default="")
    kind = pw.CharField(max_length=16)  # first | follow_up
    at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("case", "kind"), True),)


class RectificationRecord(BaseRecord):
    """The task a bad rating opens: verify, rectify and answer within working days (DOMAIN.md §5)."""
    rating = pw.ForeignKeyField(RatingRecord, unique=True, on_delete="CASCADE")
    case = pw.ForeignKeyField(CaseRecord, on_delete="CASCADE")
    org = pw.CharField(max_length=18, index=True)
    due_date = pw.DateField()
    status = pw.CharField(max_length=16, default="open")  # open | answered | closed
    answer = pw.TextField(default="")
    answered_by = pw.CharField(max_length=64, null=True)
    answered_at = pw.DateTimeField(null=True)
    created_at = pw.DateTimeField(default=utcnow)


class OutboxRecord(BaseRecord):
    """A message to send, written in the transaction of the change it reports; a worker sends it.

    Pending while sent_at is null; `dedupe_key` (case number + event id) keeps a retried change from
    queueing twice.
    """
    kind = pw.CharField(max_length=32)  # subscribe_message
    dedupe_key = pw.CharField(max_length=100, unique=True)
    user = pw.ForeignKeyField(HallUserRecord, null=True, on_delete="SET NULL")
    openid = pw.CharField(max_length=64)
    template = pw.CharField(max_length=64)
    payload = JSONText(default=dict)
    created_at = pw.DateTimeField(default=utcnow)
    attempts = pw.IntegerField(default=0)
    next_attempt_at = pw.DateTimeField(default=utcnow, index=True)
    sent_at = pw.DateTimeField(null=True, index=True)
    last_error = pw.TextField(default="")


class ConsentRecord(BaseRecord):
    """How many subscribe messages of one template a citizen has consented to and not yet used (DOMAIN.md §6)."""
    user = pw.ForeignKeyField(HallUserRecord, on_delete="CASCADE")
    template_id = pw.CharField(max_length=64)
    count = pw.IntegerField(default=0)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("user", "template_id"), True),)


class HolidayYearRecord(BaseRecord):
    """One year's official holiday calendar loaded by a province admin; every process counts with it."""
    year = pw.IntegerField(unique=True)
    holidays = JSONText(default=list)  # ISO dates off, weekends inside holidays included
    workdays = JSONText(default=list)  # ISO weekend dates that are working days (调休上班)
    source = pw.CharField(max_length=200, default="")
    loaded_by = pw.CharField(max_length=64)
    loaded_at = pw.DateTimeField(default=utcnow)


MODELS = [HallUserRecord, UploadRecord, CaseSerialRecord, CaseRecord, CaseEventRecord, StepRecord,
          CorrectionRecord, RatingRecord, RectificationRecord, OutboxRecord, ConsentRecord, HolidayYearRecord]
