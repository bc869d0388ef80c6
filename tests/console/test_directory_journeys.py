"""Province admins' directory journeys in the browser: import departments (the bad row is reported and nothing
is written; the fixed file imports), create an editor for a new department, and disable or re-role an
account whose owner is signed in elsewhere (the next click lands on sign-in; the API token dies too);
everyone changes their own password; other roles are refused the directory pages."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from console.conftest import axe_check, sign_in
from console.world import PASSWORD
from items.codes import make_credit_code

NEW_ORG = make_credit_code("11410402MB0000011")
OTHER_ORG = make_credit_code("11410402MB0000022")
HEADER = "统一社会信用代码,部门名称,所在区划代码,层级\n"


def _departments_file(tmp_path, bad: bool):
    broken = OTHER_ORG[:-1] + ("0" if OTHER_ORG[-1] != "0" else "1")  # a wrong check character
    path = tmp_path / ("bad.csv" if bad else "fixed.csv")
    path.write_text(HEADER + f"{NEW_ORG},卫东区城市管理局,410402,4\n"
                    f"{broken if bad else OTHER_ORG},卫东区应急管理局,410402,\n", encoding="utf-8")
    return path


def test_admin_imports_departments_after_the_dry_run_reports_the_bad_row(console, page, tmp_path):
    sign_in(page, console, "admin")
    page.get_by_role("link", name="导入区划和部门").click()
    axe_check(page)
    page.get_by_label("区划和部门文件").set_input_files(str(_departments_file(tmp_path, bad=True)))
    page.get_by_role("button", name="检查文件").click()
    expect(page.get_by_role("heading", name=re.compile("有错误，未写入"))).to_be_visible()
    bad_row = page.get_by_role("row", name=re.compile("credit_code_check_char"))
    expect(bad_row).to_contain_text("统一社会信用代码")
    expect(bad_row).to_contain_text("校验位不正确")
    expect(bad_row.get_by_role("cell").nth(1)).to_have_text("3")  # the file's third line (after the header)
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    axe_check(page)
    with console.ctx.db.connection_context():
        assert console.ctx.directory.list_departments(q="城市管理局")["total"] == 0  # nothing written

    page.get_by_label("区划和部门文件").set_input_files(str(_departments_file(tmp_path, bad=False)))
    page.get_by_role("button", name="检查文件").click()
    expect(page.get_by_role("heading", name=re.compile("可以导入"))).to_be_visible()
    with console.ctx.db.connection_context():
        assert console.ctx.directory.list_departments(q="城市管理局")["total"] == 0  # still a dry run
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text("部门新增 2 个")
    page.get_by_role("link", name="查看部门").click()
    expect(page.get_by_role("link", name="卫东区城市管理局")).to_be_visible()
    expect(page.get_by_role("link", name="卫东区应急管理局")).to_be_visible()
    axe_check(page)


def test_admin_creates_an_editor_for_a_new_department_who_signs_in_with_the_password_shown_once(
        console, page, second_page):
    sign_in(page, console, "admin")
    page.get_by_role("link", name="部门", exact=True).click()
    page.get_by_label("统一社会信用代码", exact=True).fill(NEW_ORG[:-1] + ("0" if NEW_ORG[-1] != "0" else "1"))
    page.get_by_label("部门名称", exact=True).fill("卫东区城市管理局")
    page.get_by_label("所在区划代码", exact=True).last.fill("410402")
    page.get_by_role("button", name="新增").click()
    expect(page.locator("#new-credit_code-error")).to_contain_text("校验位不正确")  # beside the field
    expect(page.get_by_label("统一社会信用代码", exact=True)).to_have_attribute("aria-invalid", "true")
    axe_check(page)
    page.get_by_label("统一社会信用代码", exact=True).fill(NEW_ORG)
    page.get_by_role("button", name="新增").click()
    expect(page.get_by_role("status")).to_contain_text("已保存部门")
    page.get_by_role("link", name="卫东区城市管理局").click()
    axe_check(page)
    page.get_by_role("link", name="为本部门新增账号").click()
    page.get_by_label("用户名", exact=True).fill("editor_new")
    page.get_by_label("角色", exact=True).last.select_option("editor")
    page.get_by_role("button", name="新增账号").click()
    password = page.locator("#once-password").inner_text()
    assert len(password) >= 8
    axe_check(page)
    page.reload()  # shown once: not on the list again
    expect(page.locator("#once-password")).to_have_count(0)
    sign_in(second_page, console, "editor_new", password)
    expect(second_page.get_by_role("heading", name="本部门事项")).to_be_visible()


def _api_token(page, console, username: str) -> str:
    answer = page.request.post(console.url("/api/v1/auth/login"), data={"username": username, "password": PASSWORD})
    assert answer.status == 200
    return answer.json()["token"]


def test_a_disabled_account_is_refused_at_its_next_click_and_on_the_api(console, page, second_page):
    sign_in(second_page, console, "editor_a")
    expect(second_page.get_by_role("heading", name="本部门事项")).to_be_visible()
    token = _api_token(second_page, console, "editor_a")
    sign_in(page, console, "admin")
    page.get_by_role("link", name="工作人员账号").click()
    page.get_by_label("角色", exact=True).first.select_option("editor")
    page.get_by_role("button", name="筛选").click()
    page.get_by_role("link", name="editor_a", exact=True).click()
    axe_check(page)
    page.get_by_role("button", name="停用账号").click()
    expect(page.get_by_role("status")).to_contain_text("已停用账号")

    second_page.get_by_role("link", name="认领事项").click()
    expect(second_page).to_have_url(re.compile(r"/console/login\?"))
    expect(second_page.get_by_role("alert")).to_contain_text("账号的角色、范围或密码已变更")
    axe_check(second_page)
    answer = second_page.request.get(console.url("/api/v1/items"), headers={"Authorization": f"Bearer {token}"})
    assert answer.status == 401
    sign_in(second_page, console, "editor_a")  # disabled: the password no longer opens the console
    expect(second_page.get_by_role("alert")).to_contain_text("用户名或密码不正确")


def test_a_role_change_ends_the_session_of_the_account(console, page, second_page):
    sign_in(second_page, console, "editor_b")
    expect(second_page.get_by_role("heading", name="本部门事项")).to_be_visible()
    sign_in(page, console, "admin")
    page.goto(console.url("/console/directory/staff/editor_b"))
    page.get_by_label("角色", exact=True).select_option("reviewer")
    page.get_by_label("区划代码", exact=True).fill("410402")
    page.get_by_role("button", name="保存角色和范围").click()
    expect(page.get_by_role("status")).to_contain_text("已保存账号")
    expect(page.get_by_role("main")).to_contain_text("审核人员")

    second_page.reload()
    expect(second_page).to_have_url(re.compile(r"/console/login\?"))
    expect(second_page.get_by_role("alert")).to_contain_text("账号的角色、范围或密码已变更")
    sign_in(second_page, console, "editor_b")
    expect(second_page.get_by_role("heading", name="待审核事项")).to_be_visible()


def test_a_region_in_use_is_not_deleted_and_the_page_says_what_uses_it(console, page):
    sign_in(page, console, "admin")
    page.get_by_role("link", name="行政区划").click()
    page.get_by_role("link", name="河南省").click()
    page.get_by_role("link", name="平顶山市").click()
    axe_check(page)
    page.get_by_role("button", name="删除“卫东区”").click()
    expect(page.get_by_role("alert")).to_contain_text("该区划仍在使用")
    expect(page.get_by_role("alert")).to_contain_text("部门 2 个")
    page.get_by_label("卫东区的新名称").fill("卫东区（新）")
    page.get_by_role("button", name="改名").click()
    expect(page.get_by_role("status")).to_contain_text("已保存行政区划")
    expect(page.get_by_role("link", name="卫东区（新）")).to_be_visible()


def test_staff_change_their_own_password_and_stay_signed_in_here_only(console, page, second_page):
    sign_in(second_page, console, "editor_a2")
    sign_in(page, console, "editor_a2")
    page.get_by_role("link", name="修改密码").click()
    page.get_by_label("当前密码").fill("wrong-password")
    page.get_by_label("新密码", exact=True).fill("new-pass-12345")
    page.get_by_label("再次输入新密码").fill("new-pass-12345")
    page.get_by_role("button", name="修改密码").click()
    expect(page.locator("#password-error")).to_contain_text("当前密码不正确")
    axe_check(page)
    page.get_by_label("当前密码").fill(PASSWORD)
    page.get_by_label("新密码", exact=True).fill("new-pass-12345")
    page.get_by_label("再次输入新密码").fill("new-pass-12345")
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_role("status")).to_contain_text("已修改密码")
    page.get_by_role("link", name="本部门事项").click()  # the cookie holds the fresh token
    expect(page.get_by_role("heading", name="本部门事项")).to_be_visible()
    second_page.reload()  # the other browser's session ended
    expect(second_page).to_have_url(re.compile(r"/console/login\?"))


@pytest.mark.parametrize("path", ["/console/directory/regions", "/console/directory/departments",
                                  "/console/directory/staff", "/console/directory/import",
                                  "/console/directory/staff/editor_a"])
def test_only_province_admins_open_the_directory_pages(console, page, path):
    sign_in(page, console, "reviewer")
    answer = page.goto(console.url(path))
    assert answer.status == 403
    expect(page.get_by_role("main")).to_contain_text("您的角色不能进行此操作")
    page.context.clear_cookies()
    page.goto(console.url(path))
    expect(page).to_have_url(re.compile(r"/console/login\?next="))
