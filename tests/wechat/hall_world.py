"""A branch hall to test against: two departments with window staff, a published item with required
materials, citizens with tokens, a settable clock, and multipart uploads."""
from __future__ import annotations

import copy
import datetime as dt
import uuid

from items import store as item_store
from items.codes import make_credit_code, make_id_number
from items.scope import Actor

ORG_A = make_credit_code("11410402MB1234567")  # 卫东区住房和城乡建设局
ORG_B = make_credit_code("11410402MB7654321")  # 卫东区市场监督管理局
ID_NUMBER = make_id_number("11010519491231002")  # ends in X
OTHER_ID_NUMBER = make_id_number("41040219900307123")
PHONE = "13812345678"


def sample_pdf(pages: int = 1) -> bytes:
    """A real one-page PDF, as a scanner would send (uploads are parsed, not only sniffed)."""
    import io
    import pypdf
    writer, out = pypdf.PdfWriter(), io.BytesIO()
    for _ in range(pages):
        writer.add_blank_page(width=595, height=842)
    writer.write(out)
    return out.getvalue()


def sample_image(fmt: str, size: tuple[int, int] = (16, 12)) -> bytes:
    """A real small photo in `fmt` ("PNG" or "JPEG")."""
    import io
    from PIL import Image
    out = io.BytesIO()
    Image.new("RGB", size, (200, 120, 40)).save(out, format=fmt)
    return out.getvalue()


PDF = sample_pdf()
PNG = sample_image("PNG")
JPEG = sample_image("JPEG")

ITEM = {
    "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
    "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "建筑工程开工前"}],
    "levels": ["3", "4"], "state": "in_use",
    "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "service_objects": ["person", "enterprise"],
    "conditions": [{"id": "c1", "text": "已经办理该建筑工程用地批准手续"}],
    "materials": [
        {"id": "m1", "name": "建筑工程施工许可证申请表", "necessity": "required", "source": "applicant",
         "form": "both", "originals": 1, "copies": 0, "e_license": "", "note": ""},
        {"id": "m2", "name": "居民身份证", "necessity": "required", "source": "government",
         "form": "electronic", "originals": 0, "copies": 0, "e_license": "居民身份证", "note": ""},
        {"id": "m3", "name": "施工合同", "necessity": "optional", "source": "applicant",
         "form": "paper", "originals": 0, "copies": 1, "e_license": "", "note": ""},
    ],
    "process": [{"id": "p1", "name": "受理", "limit": {"value": 1, "unit": "workday"}, "note": ""}],
    "fees": [], "faq": [],
}
PROMISED_WORKDAYS = 5


def force_published_for_tests(impl_code: str) -> None:
    """Test-only: mark the latest version of a claimed item published without the review workflow."""
    head = item_store.local_head(impl_code)
    item_store.update_local_head(impl_code, status="published", published_version=head.latest_version)


def multipart(content: bytes, content_type: str, filename: str = "scan", field: str = "file") -> tuple[bytes, str]:
    """Return (body, Content-Type) of a multipart/form-data request carrying one file."""
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Hall:
    """The world of one running app: departments, staff, a published item and citizens."""

    def __init__(self, running_app):
        self.app = running_app
        self.ctx = ctx = running_app.ctx
        with ctx.db.connection_context():
            item_store.ensure_region("410000", "河南省", None, "2")
            item_store.ensure_region("410400", "平顶山市", "410000", "3")
            item_store.ensure_region("410402", "卫东区", "410400", "4")
            item_store.ensure_org(ORG_A, "卫东区住房和城乡建设局", "410402", "4")
            item_store.ensure_org(ORG_B, "卫东区市场监督管理局", "410402", "4")
            # staff sign in through accounts elsewhere; here their tokens are issued directly
            admin = Actor(username="admin", role="province_admin")
            editor = Actor(username="editor_a", role="editor", org=ORG_A, region="410402")
            reviewer = Actor(username="reviewer", role="reviewer", region="410402")
            ctx.catalogue.put(ITEM["basic_code"], copy.deepcopy(ITEM), admin)
            self.impl_code = ctx.items.claim(ITEM["basic_code"], ORG_A, "4", "410402", editor)["impl_code"]
            doc = ctx.items.get(self.impl_code)["document"]
            doc.update(promised_limit={"value": PROMISED_WORKDAYS, "unit": "workday", "note": ""},
                       phone="0375-1234567", complaint_phone="0375-7654321", location="卫东区政务服务中心",
                       hours="工作日 9:00-17:00")
            ctx.items.write_version(self.impl_code, doc, editor, expected_version=1)
            workflow = getattr(ctx, "workflow", None)
            if workflow is not None:
                workflow.submit(self.impl_code, editor)
                workflow.approve(self.impl_code, reviewer)
                workflow.publish(self.impl_code, reviewer)
            else:
                force_published_for_tests(self.impl_code)
        self.staff_a = self.staff(Actor(username="window_a", role="window_staff", org=ORG_A, region="410402"))
        self.staff_b = self.staff(Actor(username="window_b", role="window_staff", org=ORG_B, region="410402"))
        self.editor = self.staff(editor)

    def staff(self, actor: Actor):
        """Return an Api signed in as `actor`."""
        api = self.app.api()
        api.token = self.ctx.accounts.issue_token(actor)
        return api

    # --- time ------------------------------------------------------------------------------------

    def at(self, year: int, month: int, day: int, hour: int = 10) -> None:
        """Set the hall's clock to `hour` o'clock China time on the given day."""
        moment = dt.datetime(year, month, day, hour) - dt.timedelta(hours=8)
        self.ctx.hall.clock = lambda: moment

    # --- citizens ---------------------------------------------------------------------------------

    def citizen(self, openid: str = "openid-alice"):
        """Return an Api signed in as the hall user of `openid` (created on first use); `.user_id` set."""
        user = self.ctx.hall.ensure_hall_user(openid)
        api = self.app.api()
        api.token = self.ctx.hall.issue_citizen_token(user)
        api.user_id = user.id
        api.openid = openid
        return api

    def upload(self, api, content: bytes = PDF, content_type: str = "application/pdf"):
        body, ctype = multipart(content, content_type)
        return api.post("/api/v1/hall/uploads", raw=body, headers={"Content-Type": ctype})

    def body(self, file_id: str | None, **applicant) -> dict:
        """An application for the published item carrying m1 as `file_id` (m2 comes from e-licences)."""
        person = {"name": "张三丰", "id_number": ID_NUMBER, "phone": PHONE}
        person.update(applicant)
        materials = [{"material_id": "m1", "file_id": file_id}] if file_id else []
        return {"impl_code": self.impl_code, "applicant": person, "form": {"project": "卫东区某住宅楼"},
                "materials": materials}

    def submit(self, api, body: dict, key: str | None = None):
        headers = {"Idempotency-Key": key or uuid.uuid4().hex}
        return api.post("/api/v1/hall/applications", body, headers=headers)

    def new_case(self, api=None) -> str:
        """File a valid application and return its case number."""
        api = api or self.citizen()
        file_id = self.upload(api).json["file_id"]
        resp = self.submit(api, self.body(file_id))
        assert resp.status == 201, resp.body
        return resp.json["case_no"]

    # --- staff -----------------------------------------------------------------------------------

    def act(self, case_no: str, action: str, api=None, **fields):
        return (api or self.staff_a).post(f"/api/v1/cases/{case_no}/actions", {"action": action, **fields})

    def finished_case(self, citizen) -> str:
        """File, accept and finish (approved) a case of `citizen`; return its case number."""
        case_no = self.new_case(citizen)
        assert self.act(case_no, "accept").status == 200
        assert self.act(case_no, "finish", result="approved").status == 200
        return case_no
