"""The branch hall for citizens: uploads, applications, progress and ratings (CONTRACT.md §3 /hall)."""
from __future__ import annotations

from items.errors import UnsupportedType, invalid
from server.base import BaseHandler
from server import limits, schemas
from server.operations import Body, header, obj, operation, page_params, query

# The multipart envelope around one file: boundaries, part headers and the form field names.
MULTIPART_ALLOWANCE = 16 * 1024


class HallUploadHandler(BaseHandler):
    @operation(body=Body(obj({"file": {"type": "string", "format": "binary"}}, ("file",)), ("multipart/form-data",),
                         "upload_max_bytes", allowance=MULTIPART_ALLOWANCE, too_large_code="upload_too_large"))
    async def post(self) -> None:
        """Upload one file (multipart field `file`; PDF, JPEG or PNG, sniffed from the bytes) → 201
        {file_id, sha256, size, content_type}. 413 beyond settings.upload_max_bytes, 415 for other types.
        The file is stored by sha256, mode 0600, and its file_id is usable by its uploader only."""
        actor = await self.authenticate("citizen")
        ctype = self.request.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if ctype != "multipart/form-data":
            raise UnsupportedType("send multipart/form-data with a `file` part", code="unsupported_media_type",
                                  details={"accepted": ["multipart/form-data"]})
        files = self.request.files.get("file") or []
        if len(files) != 1:
            raise invalid("send exactly one file in the multipart field `file`",
                          "/file", "exactly_one", code="file_required")
        part = files[0]
        result = await self.run(self.ctx.hall.uploads.save, actor.user_id, part["body"], part.get("content_type"))
        self.send(result, 201)


class HallApplicationListHandler(BaseHandler):
    @operation(header("Idempotency-Key", max_length=128, required=False,
                      description="any 1 to 128 printable characters; a retry sends the same key"),
               body=Body(schemas.APPLICATION, max_bytes=limits.FORM_BODY),
               responses={"201": schemas.CASE_FILED, "200": schemas.CASE_FILED})
    async def post(self) -> None:
        """File an application (header Idempotency-Key required) → 201 {case_no, status, promised_date}.

        A retry with the same key and the same body answers 200 with the case the first request made
        (header Idempotent-Replayed: true), however many retries run at once; the same key with a
        different body is 422 idempotency_key_reused. A missing key is 400 idempotency_key_required.
        Validation failures are 422 with details {errors: [{path, rule, message, code}]}; an unpublished item is 404."""
        actor = await self.authenticate("citizen")
        body = self.json_body()
        result, created = await self.run(self.ctx.hall.applications.submit, actor.user_id,
                                         self.header("Idempotency-Key"), body)
        self.set_header("Location", f"/api/v1/hall/applications/{result['case_no']}")
        if not created:
            self.set_header("Idempotent-Replayed", "true")
        self.send(result, 201 if created else 200)

    @operation(*page_params(max_size=100), responses={"200": schemas.CASE_LIST})
    async def get(self) -> None:
        """The signed-in citizen's cases, newest first → {cases, total, page}."""
        actor = await self.authenticate("citizen")
        page, size = self.page_args()
        self.send(await self.run(self.ctx.hall.applications.list_mine, actor.user_id, page, size))


class HallApplicationHandler(BaseHandler):
    @operation(query("factor", max_length=18, description="last 6 characters of the ID number, or the phone"))
    async def get(self, case_no: str) -> None:
        """A case's progress: for its signed-in owner, or for anyone with `?factor=` (last 6 characters
        of the ID number, or the phone). Wrong factors are counted; too many answer 429. Masked
        applicant, steps, dates, due date, corrections, result and the rating entry; never a full ID number."""
        factor = self.get_query_argument("factor", None)
        service = self.ctx.hall.applications
        if self.bearer_token() and not factor:
            actor = await self.authenticate("citizen")
            self.send(await self.run(service.progress_for_owner, actor.user_id, case_no))
            return
        self.send(await self.run(service.progress_by_factor, case_no, factor, self.remote_ip))


class HallRatingHandler(BaseHandler):
    @operation(body=Body(schemas.RATING, max_bytes=limits.FORM_BODY))
    async def post(self, case_no: str) -> None:
        """Rate one's own finished case {level, comment}: level ∈ very_satisfied, satisfied, basic,
        dissatisfied, very_dissatisfied → 201 {case_no, kind, level, label, rectification}. One first
        rating and one follow-up; 409 before the case is finished and after the follow-up."""
        actor = await self.authenticate("citizen")
        body = self.json_object(required=("level",))
        if not isinstance(body.get("comment", ""), str):
            raise invalid("comment is text", "/comment", "string")
        result = await self.run(self.ctx.hall.ratings.rate, actor.user_id, case_no, body["level"],
                                body.get("comment", ""))
        self.send(result, 201)


routes = [
    (r"/api/v1/hall/uploads", HallUploadHandler),
    (r"/api/v1/hall/applications", HallApplicationListHandler),
    (r"/api/v1/hall/applications/([^/]+)", HallApplicationHandler),
    (r"/api/v1/hall/applications/([^/]+)/rating", HallRatingHandler),
]
