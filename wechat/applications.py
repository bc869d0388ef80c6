"""Citizens' applications: submitting against the published guide with an Idempotency-Key, listing, progress lookup."""
from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable

from items import codes
from items.errors import (Conflict, Invalid, Malformed, NotFound, NotSignedIn, RateLimited,
                          error_details, invalid, not_an_object, rule_error)
from wechat import casework, progress, store
from wechat.identity import IdCipher
from wechat.workdays import WorkCalendar

logger = logging.getLogger(__name__)

PHONE = re.compile(r"1[3-9][0-9]{9}")  # an 11-digit mainland mobile number
IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,128}")
MAX_NAME = 50
# Second-factor lookups: the last-6 space is ~10⁶, so failures are counted per case and per client
# (wechat/identity.py); past the limit every attempt is refused until the window ends.
FACTOR_WINDOW_SECONDS = 15 * 60
MAX_FACTOR_FAILURES_PER_CASE = 5
MAX_FACTOR_FAILURES_PER_CLIENT = 20
_FACTOR_KEY = "govhall:hall-factor:"
GUIDE_CACHE_SIZE = 512


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _error(path: str, rule: str, code: str, message: str, **extra) -> dict:
    return {**rule_error(path, rule, message), "code": code, **extra}


class ApplicationService:
    """Submitting and looking up applications. Every method is synchronous and runs off the event loop."""

    def __init__(self, calendar: WorkCalendar, cipher: Callable[[], IdCipher], kv, clock: Callable, items):
        self.calendar = calendar
        self.items = items  # the items package's LocalItemService: published versions are read through it
        self._cipher = cipher
        self.kv = kv
        self._clock = clock
        self._guides: dict[tuple[str, int], dict] = {}

    # --- submitting ---------------------------------------------------------------------------------

    def submit(self, user_id: int, idempotency_key: str | None, body: object) -> tuple[dict, bool]:
        """File an application → ({case_no, status, promised_date}, created).

        `created` is False when the same key and the same body were filed before: the earlier case is
        answered again (a retry never makes a second case). Raises Malformed (idempotency_key_required,
        not_an_object), Invalid (idempotency_key_reused: same key, other body; application rules with
        details {errors: [{path, rule, message, code}]}), NotFound (item_not_found, item_not_published), Conflict
        (item_not_in_use).
        """
        if not isinstance(idempotency_key, str) or not IDEMPOTENCY_KEY.fullmatch(idempotency_key):
            raise invalid("send an Idempotency-Key header of 1 to 128 printable characters", "Idempotency-Key",
                          "printable_1_128", code="idempotency_key_required", kind=Malformed)
        if not isinstance(body, dict):
            raise not_an_object()
        cipher = self._cipher()
        # keyed, so the stored digest of a body holding an ID number cannot be brute-forced offline
        digest = cipher.blind_index(json.dumps(body, sort_keys=True, ensure_ascii=False), field="request")
        earlier = self._replay(user_id, idempotency_key, digest)
        if earlier is not None:
            return earlier, False
        impl_code = body.get("impl_code")
        if not isinstance(impl_code, str) or not impl_code:
            raise Invalid("impl_code is required", code="missing_fields", details=error_details(
                _error("/impl_code", "required", "missing_fields", "impl_code is required")))
        head = self.items.published_head(impl_code)
        # only what citizens can see may be applied for; the case is pinned to that version
        if head is None:
            raise NotFound("this item is not published", code="item_not_published", details={"impl_code": impl_code})
        guide = self._guide(impl_code, head.published_version)
        if guide.get("state", "in_use") != "in_use":
            raise Conflict("this item is not in use", code="item_not_in_use",
                           details={"impl_code": impl_code, "state": guide.get("state")})
        applicant, form, materials = self._validate(user_id, guide, body, cipher)
        try:
            with store.transaction():
                return self._file(user_id, idempotency_key, digest, head, guide, applicant, form, materials,
                                  cipher), True
        except store.DuplicateCase:
            # a concurrent retry with the same key stored its case first: answer with that one
            earlier = self._replay(user_id, idempotency_key, digest)
            if earlier is None:
                raise
            return earlier, False

    def _guide(self, impl_code: str, version: int) -> dict:
        """Return the document of a published version; versions never change, so they are kept in memory."""
        key = (impl_code, version)
        document = self._guides.get(key)
        if document is None:
            document = self.items.version_document(impl_code, version)
            if len(self._guides) >= GUIDE_CACHE_SIZE:
                self._guides.clear()
            self._guides[key] = document
        return document

    def _replay(self, user_id: int, key: str, digest: str) -> dict | None:
        case = store.case_by_idempotency_key(user_id, key)
        if case is None:
            return None
        if not hmac.compare_digest(case.request_digest, digest):
            raise invalid("this Idempotency-Key was used for a different application",
                          "Idempotency-Key", "same_key_same_body", code="idempotency_key_reused")
        return self._created(case)

    @staticmethod
    def _created(case) -> dict:
        return {"case_no": case.case_no, "status": case.state, "promised_date": progress.iso(case.promised_date)}

    def _validate(self, user_id: int, guide: dict, body: dict, cipher: IdCipher) -> tuple[dict, dict, list]:
        """Check the applicant, form and materials against the guide; raise Invalid naming every problem."""
        errors: list[dict] = []
        applicant = body.get("applicant")
        if not isinstance(applicant, dict):
            errors.append(_error("/applicant", "required", "missing_fields", "applicant {name, id_number, phone} is required"))
            applicant = {}
        name = applicant.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > MAX_NAME:
            errors.append(_error("/applicant/name", "required", "applicant_name_invalid",
                                 f"the applicant's name is 1 to {MAX_NAME} characters"))
        id_number = applicant.get("id_number")
        id_number = id_number.strip().upper() if isinstance(id_number, str) else None
        if not id_number or not codes.is_valid_id_number(id_number):
            errors.append(_error("/applicant/id_number", "gb11643", "id_number_invalid",
                                 "not a valid resident ID number (GB 11643: 18 characters, birth date, check character)"))
        phone = applicant.get("phone")
        phone = phone.strip() if isinstance(phone, str) else None
        if not phone or not PHONE.fullmatch(phone):
            errors.append(_error("/applicant/phone", "mainland_mobile", "phone_invalid",
                                 "the phone is an 11-digit mainland mobile number starting 13–19"))
        form = body.get("form", {})
        if not isinstance(form, dict):
            errors.append(_error("/form", "object", "form_invalid", "form is a JSON object"))
            form = {}
        materials = self._check_materials(user_id, guide, body.get("materials", []), errors)
        if errors:
            first = errors[0]
            raise Invalid(f"the application breaks {len(errors)} rule(s): {first['message']}", code=first["code"],
                          details=error_details(*errors))
        return {"name": name.strip(), "id_number": id_number, "phone": phone}, form, materials

    @staticmethod
    def _check_materials(user_id: int, guide: dict, given: object, errors: list[dict]) -> list[dict]:
        if not isinstance(given, list) or not all(isinstance(m, dict) for m in given):
            errors.append(_error("/materials", "list_of_objects", "materials_invalid",
                                 "materials is a list of {material_id, file_id}"))
            return []
        by_id = {m.get("id"): m for m in guide.get("materials") or [] if isinstance(m, dict)}
        uploads = store.uploads_of(user_id, [str(m.get("file_id")) for m in given if m.get("file_id")])
        kept, provided = [], set()
        for index, entry in enumerate(given):
            material_id, file_id = entry.get("material_id"), entry.get("file_id")
            if material_id not in by_id:
                errors.append(_error(f"/materials/{index}/material_id", "known_material", "unknown_material",
                                     "this material is not in the guide", material_id=material_id))
                continue
            upload = uploads.get(str(file_id)) if file_id else None
            if upload is None:
                # another user's file looks exactly like a missing one: file ids never leak ownership
                errors.append(_error(f"/materials/{index}/file_id", "own_upload", "file_not_found",
                                     "upload the file first; a file id is valid for its uploader only"))
                continue
            provided.add(material_id)
            kept.append({"material_id": material_id, "name": by_id[material_id].get("name"),
                         "file_id": upload.file_id, "sha256": upload.sha256, "content_type": upload.content_type,
                         "size": upload.size})
        for material in guide.get("materials") or []:
            # a required material fetched from the e-licence library need not be brought: DOMAIN.md §3 免提交
            if material.get("necessity") == "required" and not material.get("e_license") \
                    and material.get("id") not in provided:
                errors.append(_error("/materials", "required_material", "missing_required_material",
                                     f"the required material {material.get('name')} is missing",
                                     material_id=material.get("id"), name=material.get("name")))
        return kept

    def _file(self, user_id, key, digest, head, guide, applicant, form, materials, cipher: IdCipher) -> dict:
        now = self._clock()
        today = progress.china_day(now)
        serial = store.next_case_serial(head.impl_code, f"{today:%Y%m%d}")
        case_no = codes.make_case_no(head.impl_code, today, serial)
        protected = cipher.protect(applicant["id_number"], case_no=case_no)
        limit = guide.get("promised_limit") or guide.get("legal_limit")
        # provisional until acceptance: counted as if accepted today (DOMAIN.md §5)
        promised = self.calendar.due_date(today, limit) if limit else None
        case = store.insert_case({
            "case_no": case_no, "impl_code": head.impl_code, "guide_version": head.published_version,
            "item_name": guide.get("name") or head.name, "org": head.org,
            "org_name": (guide.get("org") or {}).get("name") or "", "region_code": head.region_code,
            "user": user_id, "idempotency_key": key, "request_digest": digest,
            "applicant_name": applicant["name"], "id_number_token": protected.token,
            "id_number_index": protected.index, "id_last6": protected.last6,
            "id_number_masked": protected.masked,
            "phone_token": cipher.encrypt(applicant["phone"], field="phone"),
            "phone_index": cipher.blind_index(applicant["phone"], field="phone"),
            "phone_masked": codes.mask_phone(applicant["phone"]),
            "form": form, "materials": materials,
            "time_limit": {"value": limit["value"], "unit": limit.get("unit", "workday")} if limit else None,
            "state": "submitted", "submitted_at": now, "promised_date": promised, "updated_at": now,
        })
        casework.record_change(case, None, "submitted", "submit", f"hall:{user_id}", "", now)
        logger.info("case %s filed for item %s", case_no, head.impl_code)
        return self._created(case)

    # --- reading ------------------------------------------------------------------------------------

    def list_mine(self, user_id: int, page: int = 1, size: int = 20) -> dict:
        """Return the citizen's own cases, newest first → {cases, total, page}."""
        rows, total = store.cases_of_user(user_id, page, size)
        today = progress.china_day(self._clock())
        return {"cases": [progress.summary(case, self.calendar, today) for case in rows], "total": total,
                "page": page}

    def progress_for_owner(self, user_id: int, case_no: str) -> dict:
        """Return the progress view of the citizen's own case. Raises NotFound (also for others' cases)."""
        case = store.find_case(case_no)
        if case is None or case.user_id != user_id:
            raise NotFound("no such case", code="case_not_found", details={"case_no": case_no})
        return progress.case_view(case, self.calendar, progress.china_day(self._clock()))

    def progress_by_factor(self, case_no: str, factor: str | None, client: str) -> dict:
        """Return the progress view of a case for whoever knows its number and a second factor.

        The factor is the last 6 characters of the ID number or the full phone number. Raises
        NotSignedIn (factor_required) without a factor, NotFound (case_not_found) for an unknown case
        or a wrong factor alike, RateLimited (too_many_attempts) after too many failures for the case
        or the client within FACTOR_WINDOW_SECONDS.
        """
        if not isinstance(factor, str) or not factor.strip():
            raise NotSignedIn("sign in, or give the last 6 characters of the ID number or the phone as ?factor=",
                              code="factor_required", details={"parameter": "factor"})
        case_key = _FACTOR_KEY + "case:" + _digest(case_no)
        client_key = _FACTOR_KEY + "client:" + _digest(client)
        case_failures, client_failures = self.kv.mget(case_key, client_key)
        if int(case_failures or 0) >= MAX_FACTOR_FAILURES_PER_CASE \
                or int(client_failures or 0) >= MAX_FACTOR_FAILURES_PER_CLIENT:
            raise RateLimited("too many failed lookups; try again later", code="too_many_attempts",
                              details={"retry_after_seconds": FACTOR_WINDOW_SECONDS})
        case = store.find_case(case_no)
        if case is None or not self._factor_matches(case, factor.strip()):
            pipe = self.kv.pipeline()
            for key in (case_key, client_key):
                pipe.incr(key)
                pipe.expire(key, FACTOR_WINDOW_SECONDS)
            pipe.execute()
            raise NotFound("no case with this number and factor", code="case_not_found",
                           details={"case_no": case_no})
        return progress.case_view(case, self.calendar, progress.china_day(self._clock()))

    def _factor_matches(self, case, factor: str) -> bool:
        cipher = self._cipher()
        if PHONE.fullmatch(factor):
            return any(hmac.compare_digest(case.phone_index, index)
                       for index in cipher.blind_indexes(factor, field="phone"))
        return cipher.last6_matches(case.id_last6, factor, case_no=case.case_no)
