"""Cases for the window workbench pages, on top of console/world.py: window staff of both departments, the
claimed item published, citizens' applications with an uploaded file, and a case of each due status
(import as `from console.window_world import seed_cases`)."""
from __future__ import annotations

import datetime as dt
import sys
import uuid
from pathlib import Path

from console.world import ORG_A, ORG_B, PASSWORD
from items.codes import make_id_number
from items.scope import Actor

HALL_TESTS = str(Path(__file__).resolve().parents[1] / "wechat")  # the hall test world's sample files
if HALL_TESTS not in sys.path:
    sys.path.insert(0, HALL_TESTS)
from hall_world import PDF  # noqa: E402  (a real PDF: uploads are parsed, not only sniffed)

WINDOW_STAFF = (("window_a", ORG_A), ("window_b", ORG_B))
ID_NUMBER = make_id_number("11010519491231002")   # ends in X
PHONE = "13812345678"
PROMISED_WORKDAYS = 5
# The workbench's "today" (a Thursday): the overdue case was accepted three weeks before.
TODAY = (2026, 10, 8)


def at(ctx, year: int, month: int, day: int, hour: int = 10) -> None:
    """Set the hall's clock to `hour` o'clock China time on the given day."""
    moment = dt.datetime(year, month, day, hour) - dt.timedelta(hours=8)
    ctx.hall.clock = lambda: moment


def _multipart(content: bytes, content_type: str) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"scan.pdf\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode()
    return head + content + f"\r\n--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def _publish(ctx, impl_code: str) -> None:
    """Give the claimed item what the hall needs (promised limit, phones, place) and publish it."""
    editor = Actor("editor_a", "editor", ORG_A, "410402")
    reviewer = Actor("reviewer", "reviewer", None, "410402")
    with ctx.db.connection_context():
        current = ctx.items.get(impl_code)
        doc = current["document"]
        doc.update(promised_limit={"value": PROMISED_WORKDAYS, "unit": "workday", "note": ""},
                   phone="0375-1234567", complaint_phone="0375-7654321", location="卫东区政务服务中心",
                   hours="工作日 9:00-17:00")
        ctx.items.write_version(impl_code, doc, editor, expected_version=current["version"])
        ctx.workflow.submit(impl_code, editor)
        ctx.workflow.approve(impl_code, reviewer)
        ctx.workflow.publish(impl_code, reviewer)


class Filing:
    """Files applications as a citizen through the hall API and moves cases as window_a."""

    def __init__(self, console, impl_code: str):
        self.console = console
        self.impl_code = impl_code
        ctx = console.ctx
        user = ctx.hall.ensure_hall_user("openid-alice")
        self.citizen = console.app.api()
        self.citizen.token = ctx.hall.issue_citizen_token(user)
        self.staff = console.app.api()
        self.staff.token = ctx.accounts.issue_token(Actor("window_a", "window_staff", ORG_A, "410402"))

    def new_case(self, name: str = "张三丰") -> str:
        body, ctype = _multipart(PDF, "application/pdf")
        upload = self.citizen.post("/api/v1/hall/uploads", raw=body, headers={"Content-Type": ctype})
        assert upload.status in (200, 201), upload.body
        application = {"impl_code": self.impl_code,
                       "applicant": {"name": name, "id_number": ID_NUMBER, "phone": PHONE},
                       "form": {"project": "卫东区某住宅楼", "area": "12000平方米"},
                       "materials": [{"material_id": "m1", "file_id": upload.json["file_id"]}]}
        resp = self.citizen.post("/api/v1/hall/applications", application,
                                 headers={"Idempotency-Key": uuid.uuid4().hex})
        assert resp.status == 201, resp.body
        return resp.json["case_no"]

    def act(self, case_no: str, action: str, **fields) -> None:
        resp = self.staff.post(f"/api/v1/cases/{case_no}/actions", {"action": action, **fields})
        assert resp.status == 200, resp.body

    def rate(self, case_no: str, level: str, comment: str) -> None:
        resp = self.citizen.post(f"/api/v1/hall/applications/{case_no}/rating", {"level": level, "comment": comment})
        assert resp.status in (200, 201), resp.body


def seed_cases(console) -> dict:
    """Window staff (password PASSWORD), the claimed item published and, on TODAY: a case overdue, one due
    soon, one on time, one not accepted yet ("fresh"), and a finished case rated 不满意 (an open
    rectification) → {"late", "soon", "on_time", "fresh", "rated"}. The hall's clock is left at TODAY."""
    ctx = console.ctx
    with ctx.db.connection_context():
        for name, org in WINDOW_STAFF:
            ctx.accounts.create_user(name, PASSWORD, "window_staff", org, "410402")
    _publish(ctx, console.world["claimed"])
    filing = Filing(console, console.world["claimed"])
    at(ctx, 2026, 9, 17)
    late = filing.new_case("李四")
    at(ctx, 2026, 9, 18)
    filing.act(late, "accept")                      # due Thu 24 Sep: overdue on TODAY
    at(ctx, 2026, 9, 28)
    soon = filing.new_case("王五")
    filing.act(soon, "accept")                      # due Sat 10 Oct (调休): due soon
    rated = filing.new_case("赵六")
    filing.act(rated, "accept")
    filing.act(rated, "finish", result="approved")
    filing.rate(rated, "dissatisfied", "等候时间太长")
    at(ctx, *TODAY)
    on_time = filing.new_case("钱七")
    filing.act(on_time, "accept")                   # due Thu 15 Oct
    fresh = filing.new_case()
    return {"late": late, "soon": soon, "on_time": on_time, "fresh": fresh, "rated": rated}
