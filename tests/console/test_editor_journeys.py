"""Editors' journeys in a real headless Chromium, controls found by label and role: claim, fix a rule
error, submit; two editors saving the same item; the CSRF refusal; sign-out and expiry."""
from __future__ import annotations

import re

from console.conftest import axe_check, sign_in
from console.world import CATALOGUE_NAMES

from playwright.sync_api import expect


def test_editor_claims_is_shown_a_rule_error_fixes_it_and_submits(console, page):
    sign_in(page, console, "editor_a")
    expect(page.get_by_role("heading", name="本部门事项")).to_be_visible()
    axe_check(page)
    page.get_by_role("link", name="认领事项").click()
    axe_check(page)
    page.get_by_label(CATALOGUE_NAMES[1]).check()
    page.get_by_role("button", name="认领所选事项").click()
    expect(page.get_by_role("status")).to_contain_text("已认领")
    expect(page.get_by_role("heading", name=CATALOGUE_NAMES[1], level=1)).to_be_visible()
    axe_check(page)

    promised = page.get_by_label("承诺办结时限", exact=True)
    promised.fill("20")  # the legal limit is 15 working days
    page.get_by_role("button", name="保存").first.click()
    expect(page.locator("#f-promised_limit-value-findings")).to_contain_text("承诺时限不能超过法定时限")
    expect(page.get_by_label("承诺办结时限", exact=True)).to_have_value("20")  # nothing typed is lost
    axe_check(page)

    page.get_by_label("承诺办结时限", exact=True).fill("5")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_role("status")).to_contain_text("已提交审核")
    expect(page.locator(".item-head")).to_contain_text("已提交审核")


def test_live_validation_shows_the_rule_beside_the_field_before_saving(console, page):
    sign_in(page, console, "editor_a")
    page.goto(console.url(f"/console/items/{console.world['claimed']}"))
    page.get_by_label("承诺办结时限", exact=True).fill("30")
    expect(page.locator("#f-promised_limit-value-findings")).to_contain_text("承诺时限不能超过法定时限")
    page.get_by_label("承诺办结时限", exact=True).fill("10")
    expect(page.locator("#f-promised_limit-value-findings")).to_be_empty()


def test_second_editor_saving_the_same_item_sees_the_conflict_and_loses_nothing(console, page, second_page):
    code = console.world["claimed"]
    sign_in(page, console, "editor_a")
    sign_in(second_page, console, "editor_a2")
    page.goto(console.url(f"/console/items/{code}"))
    second_page.goto(console.url(f"/console/items/{code}"))

    page.get_by_label("办理地点", exact=True).fill("卫东区政务服务中心一楼")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("已保存")

    second_page.get_by_label("咨询电话", exact=True).fill("0375-1234567")
    second_page.get_by_role("button", name="保存").first.click()
    expect(second_page.get_by_role("heading", name=re.compile("保存冲突"))).to_be_visible()
    conflict = second_page.locator(".conflict")
    expect(conflict).to_contain_text("卫东区政务服务中心一楼")      # what the other editor changed
    expect(conflict).to_contain_text("0375-1234567")               # and mine
    expect(second_page.get_by_label("咨询电话", exact=True)).to_have_value("0375-1234567")
    axe_check(second_page)
    second_page.get_by_role("button", name="保存").first.click()
    expect(second_page.get_by_role("status")).to_contain_text("已保存")
    with console.ctx.db.connection_context():
        latest = console.ctx.items.get(code)["document"]
    assert latest["phone"] == "0375-1234567"
    assert latest["location"] == ""  # the second save was taken with both changes in view


def test_a_post_without_the_csrf_token_is_refused(console, page):
    sign_in(page, console, "editor_a")
    code = console.world["claimed"]
    response = page.request.post(console.url(f"/console/items/{code}/submit"), form={"comment": ""})
    assert response.status == 403
    assert "CSRF" in response.text()
    with console.ctx.db.connection_context():
        assert console.ctx.items.get(code)["status"] == "draft"


def test_list_entries_are_added_moved_and_removed_without_script(console, browser):
    context = browser.new_context(locale="zh-CN", java_script_enabled=False, bypass_csp=True)
    page = context.new_page()
    try:
        sign_in(page, console, "editor_a")
        page.goto(console.url(f"/console/items/{console.world['claimed']}"))
        page.get_by_role("button", name="下移环节第1项").click()
        expect(page.get_by_label("环节名称").first).to_have_value("审查")
        page.get_by_role("button", name="添加材料").click()
        new = page.get_by_role("group", name="材料 第3项")
        new.get_by_label("材料名称").fill("授权委托书")
        page.get_by_role("button", name="删除材料第1项").click()
        page.get_by_role("button", name="保存").first.click()
        expect(page.get_by_role("status")).to_contain_text("已保存")
    finally:
        context.close()
    with console.ctx.db.connection_context():
        doc = console.ctx.items.get(console.world["claimed"])["document"]
    assert [s["name"] for s in doc["process"]] == ["审查", "受理", "决定"]
    assert [m["name"] for m in doc["materials"]][-1] == "授权委托书"
    assert len(doc["materials"]) == 2


def test_sign_out_revokes_the_token_and_an_expired_session_returns_to_sign_in(console, page):
    sign_in(page, console, "editor_a")
    cookie = next(c for c in page.context.cookies() if c["name"] == "govhall_console")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/console"
    page.get_by_role("button", name="退出登录").click()
    expect(page.get_by_role("status")).to_contain_text("已退出登录")
    with console.ctx.db.connection_context():
        import pytest
        from items.errors import NotSignedIn
        with pytest.raises(NotSignedIn):
            console.ctx.accounts.authenticate(cookie["value"])
    sign_in(page, console, "editor_a")
    token = next(c for c in page.context.cookies() if c["name"] == "govhall_console")["value"]
    console.ctx.accounts.revoke(token)  # what expiry does to the token in the store
    page.goto(console.url("/console/items"))
    expect(page.get_by_role("alert")).to_contain_text("登录已过期")
