"""The window workbench in the browser: the queue by due status, a case taken through its whole life cycle,
audited downloads and ID-number reveals, another department's 404, and rectifications answered; axe on each."""
from __future__ import annotations

import logging
from pathlib import Path

import pytest
from playwright.sync_api import expect

from console.conftest import axe_check, sign_in
from console.window_world import ID_NUMBER, PDF, seed_cases
from console.world import PASSWORD


@pytest.fixture
def cases(console):
    return seed_cases(console)


def admin_api(console):
    api = console.app.api()
    api.login("admin", PASSWORD)
    return api


def open_case(page, console, case_no: str) -> None:
    page.goto(console.url(f"/console/cases/{case_no}"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(case_no)


def act(page, action_label: str, **fill) -> None:
    form = page.get_by_role("form", name=action_label, exact=True)
    for label, value in fill.items():
        form.get_by_label(label).fill(value)
    form.get_by_role("button", name=action_label, exact=True).click()


def test_queue_shows_due_status_as_text_and_colour_and_filters_it(console, page, cases):
    sign_in(page, console, "window_a")
    expect(page).to_have_url(console.url("/console/cases"))
    late = page.get_by_role("row").filter(has_text=cases["late"])
    badge = late.locator(".due")
    expect(badge).to_have_text("已超期")
    colours = badge.evaluate("e => [getComputedStyle(e).backgroundColor, getComputedStyle(e).color]")
    assert colours == ["rgb(180, 35, 24)", "rgb(255, 255, 255)"]
    expect(page.get_by_role("row").filter(has_text=cases["soon"]).locator(".due")).to_have_text("即将到期")
    expect(page.get_by_role("row").filter(has_text=cases["on_time"]).locator(".due")).to_have_text("按时")
    expect(page.get_by_role("row").filter(has_text=cases["fresh"])).to_contain_text("未计时")
    axe_check(page)

    page.get_by_label("到期情况").select_option("overdue")
    page.get_by_role("button", name="查询").click()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(cases["late"])

    page.goto(console.url("/console/cases"))
    page.get_by_label("办件编号").fill(cases["on_time"])
    page.get_by_label("状态").select_option("accepted")
    page.get_by_role("button", name="查询").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(cases["on_time"])

    page.goto(console.url("/console/cases?received_from=2026-10-08&received_to=2026-10-01"))
    expect(page.get_by_role("alert")).to_contain_text("结束日不能早于开始日")
    page.goto(console.url("/console/cases?received_from=2026-10-08"))
    expect(rows).to_have_count(2)
    page.get_by_label("事项").select_option(label="建筑工程施工许可证核发")
    page.get_by_role("button", name="查询").click()
    expect(rows).to_have_count(2)


def test_window_staff_take_a_case_from_acceptance_to_delivery(console, page, cases):
    case_no = cases["fresh"]
    sign_in(page, console, "window_a")
    page.get_by_role("link", name=case_no).click()
    expect(page.locator("main")).to_contain_text("张**")
    expect(page.locator("main")).not_to_contain_text(ID_NUMBER)
    expect(page.locator("main")).to_contain_text("第 2 版")          # the guide version it was filed under
    axe_check(page)

    act(page, "受理")
    expect(page.get_by_role("status")).to_contain_text("已受理")
    expect(page.get_by_role("row").filter(has_text="受理").first).to_contain_text("开始计时")

    act(page, "补齐补正")                                            # no reason: the service refuses
    expect(page.get_by_role("form", name="补齐补正").get_by_role("alert")).to_contain_text("请填写意见")
    form = page.get_by_role("form", name="补齐补正", exact=True)
    form.get_by_label("建筑工程施工许可证核发申请表").check()
    act(page, "补齐补正", **{"补正告知（缺什么、为什么）（必填）": "申请表缺少建设单位盖章"})
    expect(page.get_by_role("status")).to_contain_text("暂停计时")
    expect(page.locator("main")).to_contain_text("需补正：建筑工程施工许可证核发申请表")
    expect(page.get_by_role("row").filter(has_text="申请表缺少建设单位盖章")).to_contain_text("暂停计时")

    act(page, "恢复办理")
    expect(page.get_by_role("status")).to_contain_text("已恢复办理")
    expect(page.get_by_role("row").filter(has_text="恢复办理")).to_contain_text("恢复计时")

    form = page.get_by_role("form", name="办理环节", exact=True)
    form.get_by_label("环节名称（必填）").fill("审查")
    form.get_by_label("通过").check()
    form.get_by_label("环节意见（选填）").fill("材料齐全，符合条件")
    form.get_by_role("button", name="办理环节").click()
    expect(page.get_by_role("status")).to_contain_text("已记录办理环节")
    expect(page.locator("main")).to_contain_text("审查：通过（window_a） 材料齐全，符合条件")

    act(page, "办结")                                                # no result chosen
    expect(page.get_by_role("form", name="办结").get_by_role("alert")).to_be_visible()
    page.get_by_role("form", name="办结", exact=True).get_by_label("准予").check()
    act(page, "办结")
    expect(page.get_by_role("status")).to_contain_text("已办结")
    act(page, "送达")
    expect(page.get_by_role("status")).to_contain_text("已送达")
    expect(page.locator(".case-facts")).to_contain_text("已送达（准予）")
    expect(page.locator("main")).to_contain_text("没有可办理的操作")
    axe_check(page)

    staff = console.app.api()
    staff.login("window_a", PASSWORD)
    timeline = staff.get(f"/api/v1/cases/{case_no}").json["timeline"]
    assert [e["action"] for e in timeline] == ["submit", "accept", "request_correction", "resume", "step", "finish",
                                               "deliver"]


def test_suspending_needs_a_reason_and_stops_the_clock(console, page, cases):
    sign_in(page, console, "window_a")
    open_case(page, console, cases["on_time"])
    act(page, "特别程序")
    expect(page.get_by_role("form", name="特别程序").get_by_role("alert")).to_contain_text("请填写意见")
    act(page, "特别程序", **{"特别程序的理由（必填）": "需现场勘验"})
    expect(page.get_by_role("status")).to_contain_text("暂停计时")
    expect(page.locator(".case-facts")).to_contain_text("未计时")


def test_downloading_a_material_streams_the_file_and_is_audited(console, page, cases):
    case_no = cases["late"]
    sign_in(page, console, "window_a")
    open_case(page, console, case_no)
    with page.expect_download() as info:
        page.get_by_role("link", name="下载 建筑工程施工许可证核发申请表").click()
    download = info.value
    assert download.suggested_filename == "建筑工程施工许可证核发申请表.pdf"
    assert Path(download.path()).read_bytes() == PDF
    audit = admin_api(console).get("/api/v1/audit?action=case.file_download")
    assert audit.status == 200, audit.body
    entries = audit.json["entries"]
    assert [(e["actor"], e["target"], e["details"]["material_id"]) for e in entries] == [("window_a", case_no, "m1")]


def test_revealing_the_id_number_needs_a_reason_is_audited_and_never_cached(console, page, cases, caplog):
    caplog.set_level(logging.DEBUG)
    case_no = cases["late"]
    sign_in(page, console, "window_a")
    open_case(page, console, case_no)
    page.get_by_role("button", name="查看完整身份证号").click()
    reason = page.get_by_label("查看完整身份证号的理由")
    expect(page.get_by_role("alert")).to_contain_text("请填写查看完整身份证号的理由")
    expect(reason).to_have_attribute("aria-invalid", "true")
    axe_check(page)
    assert admin_api(console).get("/api/v1/reveals").json["total"] == 0

    reason.fill("申请人到窗口核对身份")
    with page.expect_response(lambda r: r.url.endswith("/reveal")) as info:
        page.get_by_role("button", name="查看完整身份证号").click()
    response = info.value
    assert response.status == 200
    assert "no-store" in response.headers["cache-control"]
    expect(page.locator(".revealed")).to_have_text(ID_NUMBER)
    assert ID_NUMBER not in page.url and all(ID_NUMBER not in c["value"] for c in page.context.cookies())
    axe_check(page)
    entries = admin_api(console).get("/api/v1/reveals").json["entries"]
    assert [(e["actor"], e["target"], e["details"]["reason"]) for e in entries] == [
        ("window_a", case_no, "申请人到窗口核对身份")]

    page.get_by_role("link", name="返回办件").click()                 # shown once: the case page masks it again
    expect(page.locator("main")).not_to_contain_text(ID_NUMBER)
    assert ID_NUMBER not in caplog.text


def test_the_eleventh_reveal_in_an_hour_is_refused_with_retry_after(console, page, cases):
    case_no = cases["late"]
    staff = console.app.api()
    staff.login("window_a", PASSWORD)
    for _ in range(10):  # the limit counts the staff member's reveals, through the API or the console
        assert staff.post(f"/api/v1/cases/{case_no}/applicant/reveal", {"reason": "核对身份信息"}).status == 200
    sign_in(page, console, "window_a")
    open_case(page, console, case_no)
    page.get_by_label("查看完整身份证号的理由").fill("申请人到窗口核对身份")
    with page.expect_response(lambda r: r.url.endswith("/reveal")) as info:
        page.get_by_role("button", name="查看完整身份证号").click()
    assert info.value.status == 429 and 0 < int(info.value.headers["retry-after"]) <= 3600
    expect(page.get_by_role("alert")).to_contain_text("每小时上限")
    expect(page.locator("main")).not_to_contain_text(ID_NUMBER)
    assert admin_api(console).get("/api/v1/reveals").json["total"] == 10


def test_another_department_gets_a_404_for_the_case_its_files_and_its_number(console, page, cases):
    case_no = cases["late"]
    sign_in(page, console, "window_b")
    expect(page.locator("tbody tr")).to_have_count(0)
    response = page.goto(console.url(f"/console/cases/{case_no}"))
    assert response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("没有找到该办件")
    staff_a = console.app.api()
    staff_a.login("window_a", PASSWORD)
    file_id = staff_a.get(f"/api/v1/cases/{case_no}").json["materials"][0]["file_id"]
    response = page.goto(console.url(f"/console/cases/{case_no}/files/{file_id}"))
    assert response.status == 404
    # the reveal form posted with window_b's own CSRF token
    token = page.context.cookies()
    xsrf = next(c["value"] for c in token if c["name"] == "_xsrf")
    answer = page.request.post(console.url(f"/console/cases/{case_no}/reveal"),
                               form={"reason": "核对身份信息", "_xsrf": xsrf})
    assert answer.status == 404 and ID_NUMBER not in answer.text()
    admin = admin_api(console)
    assert admin.get("/api/v1/reveals").json["total"] == 0
    assert admin.get("/api/v1/audit?action=case.file_download").json["total"] == 0


def test_other_roles_cannot_open_the_workbench(console, page, cases):
    sign_in(page, console, "editor_a")
    expect(page.get_by_role("navigation", name="主导航")).not_to_contain_text("办件")
    for path in ("/console/cases", f"/console/cases/{cases['late']}", "/console/rectifications"):
        response = page.goto(console.url(path))
        assert response.status == 403, path
        expect(page.get_by_role("alert")).to_contain_text("您的角色不能进行此操作")


def test_reveal_without_a_csrf_token_is_refused(console, page, cases):
    sign_in(page, console, "window_a")
    answer = page.request.post(console.url(f"/console/cases/{cases['late']}/reveal"), form={"reason": "核对身份信息"})
    assert answer.status == 403 and ID_NUMBER not in answer.text()


def test_bad_ratings_wait_for_rectification_and_are_answered_here(console, page, cases):
    sign_in(page, console, "window_a")
    page.get_by_role("link", name="差评整改").click()
    staff = console.app.api()
    staff.login("window_a", PASSWORD)
    listed = staff.get("/api/v1/rectifications").json["rectifications"][0]
    task = page.get_by_role("region", name=cases["rated"])
    expect(task).to_contain_text("不满意：“等候时间太长”")
    expect(task).to_contain_text(listed["due_date"])
    expect(task.locator(".due")).to_have_text("已超期" if listed["overdue"] else f"剩 {listed['workdays_left']} 个工作日")
    axe_check(page)
    task.get_by_role("button", name="提交答复").click()
    task = page.get_by_role("region", name=cases["rated"])
    expect(task.get_by_role("alert")).to_contain_text("请填写整改答复")
    task.get_by_label(f"整改答复（办件 {cases['rated']}）").fill("已约谈窗口人员，增设取号机")
    task.get_by_role("button", name="提交答复").click()
    expect(page.get_by_role("status")).to_contain_text("整改答复已提交")
    expect(page.locator("main")).to_contain_text("没有待整改的整改任务")
    page.get_by_role("link", name="已答复").click()
    expect(page.get_by_role("region", name=cases["rated"])).to_contain_text("已约谈窗口人员，增设取号机")


def test_queue_and_case_actions_work_the_same_on_postgresql(console_pg, page):
    cases = seed_cases(console_pg)
    sign_in(page, console_pg, "window_a")
    expect(page.get_by_role("row").filter(has_text=cases["late"]).locator(".due")).to_have_text("已超期")
    open_case(page, console_pg, cases["fresh"])
    act(page, "受理")
    expect(page.get_by_role("status")).to_contain_text("已受理")
    act(page, "特别程序", **{"特别程序的理由（必填）": "需现场勘验"})
    expect(page.get_by_role("status")).to_contain_text("暂停计时")
    act(page, "恢复办理")
    expect(page.locator(".case-facts")).to_contain_text("按时")
