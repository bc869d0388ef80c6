"""Editors' item pages beside the editor, in the browser: history and restore, the version diff, the
catalogue comparison, rebase with a conflict resolved, the guide preview; each passes axe-core."""
from __future__ import annotations

from console.conftest import axe_check, sign_in
from console.world import revise_catalogue

from playwright.sync_api import expect


def _save_field(page, label: str, value: str) -> None:
    page.get_by_label(label, exact=True).fill(value)
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("已保存")


def test_history_compares_two_versions_side_by_side_and_restores_one(console, page):
    code = console.world["claimed"]
    sign_in(page, console, "editor_a")
    page.goto(console.url(f"/console/items/{code}"))
    _save_field(page, "办公时间", "工作日 9:00-17:00")
    page.get_by_role("link", name="历史版本").click()
    axe_check(page)
    page.get_by_role("link", name="与上一版对比").first.click()
    row = page.get_by_role("row", name="办公时间")
    expect(row).to_contain_text("工作日 9:00-17:00")
    axe_check(page)
    page.get_by_role("link", name="历史版本", exact=True).click()
    page.get_by_role("button", name="恢复第1版").click()
    expect(page.get_by_role("status")).to_contain_text("已恢复")
    expect(page.get_by_label("办公时间", exact=True)).to_have_value("")


def test_catalogue_comparison_gives_four_same_verdicts_and_flags_an_added_material(console, page):
    code = console.world["claimed"]
    sign_in(page, console, "editor_a")
    page.goto(console.url(f"/console/items/{code}"))
    page.get_by_role("button", name="添加材料").click()
    page.get_by_role("group", name="材料 第3项").get_by_label("材料名称").fill("无犯罪记录证明")
    page.get_by_role("button", name="保存").first.click()
    # the comparison's finding stands beside the material in the editor too, not only on its own page
    expect(page.get_by_role("group", name="材料 第3项")).to_contain_text("层层加码")
    expect(page.get_by_role("group", name="材料 第1项")).not_to_contain_text("层层加码")
    page.get_by_role("link", name="对照目录").click()
    expect(page.get_by_role("row", name="事项名称")).to_contain_text("一致")
    expect(page.locator("main")).to_contain_text("无犯罪记录证明")
    expect(page.locator("main")).to_contain_text("层层加码")
    axe_check(page)


def test_outdated_item_is_flagged_previewed_and_rebased(console, page):
    code = console.world["claimed"]
    basic = console.world["basic_codes"][0]
    sign_in(page, console, "editor_a")
    page.goto(console.url(f"/console/items/{code}"))
    page.get_by_label("办公时间", exact=True).fill("工作日 9:00-17:00")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("已保存")

    def rename_step(doc):
        doc["process"][1]["name"] = "技术审查"
        doc["conditions"].append({"id": "c2", "text": "施工图设计文件已审查合格"})
    revise_catalogue(console.ctx, basic, rename_step)

    page.goto(console.url("/console/items?outdated=1"))
    expect(page.locator("tbody")).to_contain_text("需同步")
    page.goto(console.url(f"/console/items/{code}/rebase"))
    expect(page.locator("main")).to_contain_text("施工图设计文件已审查合格")  # the preview shows what comes in
    axe_check(page)
    page.get_by_role("button", name="确认同步并保存").click()
    expect(page.get_by_role("status")).to_contain_text("已同步")
    with console.ctx.db.connection_context():
        item = console.ctx.items.get(code)
    assert [s["name"] for s in item["document"]["process"]][1] == "技术审查"
    assert item["document"]["hours"] == "工作日 9:00-17:00"  # the local edit is kept
    assert item["based_on_catalogue_version"] == 2


def test_guide_preview_shows_what_citizens_will_read(console, page):
    code = console.world["claimed"]
    sign_in(page, console, "editor_a")
    page.goto(console.url(f"/console/items/{code}/preview"))
    guide = page.get_by_role("article")
    expect(guide).to_contain_text("申请材料")
    expect(guide).to_contain_text("无需提交，由电子证照库调取（营业执照）")
    axe_check(page)


def test_editor_journey_on_postgresql(console_pg, page):
    sign_in(page, console_pg, "editor_a")
    page.get_by_role("link", name="认领事项").click()
    page.get_by_label(console_pg.world and "建设工程消防验收").check()
    page.get_by_label("城市建筑垃圾处置核准").check()
    page.get_by_role("button", name="认领所选事项").click()
    expect(page.get_by_role("status")).to_contain_text("已认领")
    page.get_by_role("link", name="本部门事项").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    page.get_by_role("link", name="建设工程消防验收").click()
    page.get_by_label("到办事现场次数", exact=True).fill("2")
    page.get_by_label("网上办理深度", exact=True).select_option(label="IV 全程网办")
    page.get_by_role("button", name="保存").first.click()
    expect(page.locator("#f-visits-findings")).to_contain_text("全程网办")
    page.get_by_label("到办事现场次数", exact=True).fill("0")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("已保存")


def test_reviewer_is_refused_the_editor_pages(console, page):
    sign_in(page, console, "reviewer")
    page.goto(console.url("/console/items"))
    expect(page.get_by_role("alert")).to_contain_text("角色")
