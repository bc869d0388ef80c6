"""Reviewers' and catalogue admins' journeys in the browser: publish what an editor submitted and find it in
the hall; import a catalogue (the dry-run report shows the bad row; the fixed file imports); revise a
catalogue item so the editor meets real conflicts, settles each one and resubmits; the bulk rebase with
its progress page; the synonym table; and who is refused which page."""
from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from console.conftest import axe_check, sign_in
from console.world import CATALOGUE_NAMES, basic_code, catalogue_document


def _submit_as_editor(page, console, code: str) -> None:
    sign_in(page, console, "editor_a")
    page.goto(console.url(f"/console/items/{code}"))
    page.get_by_label("办理地点", exact=True).fill("卫东区政务服务中心")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("已保存")
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_role("status")).to_contain_text("已提交审核")


def test_reviewer_publishes_what_the_editor_submitted_and_the_hall_finds_it(console, page, second_page):
    code = console.world["claimed"]
    _submit_as_editor(page, console, code)
    sign_in(second_page, console, "reviewer")
    expect(second_page.get_by_role("heading", name="待审核事项")).to_be_visible()
    row = second_page.get_by_role("row", name=re.compile(CATALOGUE_NAMES[0]))
    expect(row).to_contain_text("卫东区住房和城乡建设局")
    expect(row).to_contain_text("editor_a")
    axe_check(second_page)
    second_page.get_by_role("link", name=CATALOGUE_NAMES[0]).click()
    expect(second_page.get_by_role("row", name=re.compile("办理地点"))).to_contain_text("卫东区政务服务中心")
    second_page.get_by_role("button", name="退回修改").click()  # no reason given: the service refuses
    expect(second_page.locator("#comment-reject-error")).to_contain_text("请填写理由")
    axe_check(second_page)
    second_page.get_by_role("button", name="审核通过").click()
    expect(second_page.get_by_role("status")).to_contain_text("已审核通过")
    second_page.get_by_role("button", name="发布", exact=True).click()
    expect(second_page.get_by_role("status")).to_contain_text("已发布")
    found = second_page.request.get(console.url("/api/v1/hall/search"), params={"q": CATALOGUE_NAMES[0]}).json()
    assert code in json.dumps(found)


def _catalogue_file(tmp_path, name: str, bad: bool):
    doc = catalogue_document(basic_code(40), "城镇污水排入排水管网许可")
    if bad:
        doc["legal_limit"] = {"value": -3, "unit": "workday"}
    path = tmp_path / name
    path.write_text(json.dumps([doc], ensure_ascii=False), encoding="utf-8")
    return path


def test_admin_import_shows_the_dry_run_report_then_the_fixed_file_imports(console, page, tmp_path):
    sign_in(page, console, "admin")
    page.get_by_role("link", name="导入目录").click()
    page.get_by_label("目录文件").set_input_files(str(_catalogue_file(tmp_path, "bad.json", bad=True)))
    page.get_by_role("button", name="检查文件").click()
    report = page.get_by_role("table", name=re.compile("出错的行"))
    expect(report).to_contain_text("法定时限")
    expect(report).to_contain_text("legal_limit_value")
    expect(page.get_by_role("button", name="确认导入")).to_have_count(0)
    axe_check(page)
    with console.ctx.db.connection_context():
        assert console.ctx.catalogue.list("城镇污水")["total"] == 0   # the dry run wrote nothing
    page.get_by_label("目录文件").set_input_files(str(_catalogue_file(tmp_path, "fixed.json", bad=False)))
    page.get_by_role("button", name="检查文件").click()
    expect(page.get_by_role("heading", name=re.compile("可以导入"))).to_be_visible()
    page.get_by_role("button", name="确认导入").click()
    expect(page.get_by_role("status")).to_contain_text("新增 1 项")
    page.get_by_role("link", name="基本目录").click()
    page.get_by_label("事项名称或基本编码").fill("城镇污水")
    page.get_by_role("button", name="搜索").click()
    expect(page.locator("tbody tr")).to_have_count(1)
    expect(page.locator("tbody")).to_contain_text("行政许可")
    axe_check(page)


def test_catalogue_change_meets_real_conflicts_the_editor_settles_each_and_the_reviewer_republishes(
        console, page, second_page):
    code, basic = console.world["claimed"], console.world["basic_codes"][0]
    sign_in(page, console, "editor_a")   # the department renames three things the catalogue renames too
    page.goto(console.url(f"/console/items/{code}"))
    steps = page.get_by_label("环节名称")
    steps.nth(0).fill("窗口受理")
    steps.nth(1).fill("材料审查")
    steps.nth(2).fill("作出决定")
    page.get_by_role("button", name="保存").first.click()
    expect(page.get_by_role("status")).to_contain_text("已保存")

    sign_in(second_page, console, "admin")
    second_page.goto(console.url(f"/console/catalogue/{basic}"))
    second_page.get_by_label("环节名称 第1项").fill("受理申请")
    second_page.get_by_label("环节名称 第2项").fill("技术审查")
    second_page.get_by_label("环节名称 第3项").fill("审批决定")
    second_page.get_by_label("修订说明").fill("环节名称按新规范")
    second_page.get_by_role("button", name="保存为新版本").click()
    expect(second_page.get_by_role("status")).to_contain_text("新版本")
    expect(second_page.get_by_role("row", name=re.compile("办理流程"))).to_contain_text("技术审查")
    axe_check(second_page)
    second_page.get_by_role("link", name="变更影响与批量同步").click()
    expect(second_page.locator(".figures")).to_contain_text("有冲突")
    expect(second_page.get_by_role("table", name=re.compile("冲突所在要素"))).to_contain_text("办理流程")
    axe_check(second_page)

    page.goto(console.url("/console/items?outdated=1"))
    expect(page.locator("tbody")).to_contain_text("需同步")
    page.goto(console.url(f"/console/items/{code}/rebase"))
    expect(page.get_by_role("group", name=re.compile("冲突"))).to_have_count(3)
    axe_check(page)
    page.get_by_label(re.compile("^采用目录的：受理申请")).check()
    page.get_by_label(re.compile("^保留本地的：材料审查")).check()
    page.locator("#c2-edit").check()
    page.get_by_label("冲突 3 自行填写的内容").fill("审批并作出决定")
    page.get_by_role("button", name="确认同步并保存").click()
    expect(page.get_by_role("status")).to_contain_text("已同步")
    with console.ctx.db.connection_context():
        item = console.ctx.items.get(code)
    assert [s["name"] for s in item["document"]["process"]] == ["受理申请", "材料审查", "审批并作出决定"]
    assert item["based_on_catalogue_version"] == 2
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_role("status")).to_contain_text("已提交审核")

    sign_in(second_page, console, "reviewer")
    second_page.get_by_role("link", name=CATALOGUE_NAMES[0]).click()
    second_page.get_by_role("button", name="审核通过").click()
    second_page.get_by_role("button", name="发布", exact=True).click()
    expect(second_page.get_by_role("status")).to_contain_text("已发布")


def test_bulk_rebase_shows_its_progress_and_report(console, page):
    basic = console.world["basic_codes"][0]
    sign_in(page, console, "admin")
    page.goto(console.url(f"/console/catalogue/{basic}"))
    page.get_by_label("受理条件 第1项").fill("已经依法取得建设用地规划许可")
    page.get_by_role("button", name="保存为新版本").click()
    page.goto(console.url(f"/console/catalogue/{basic}/impact"))
    expect(page.locator(".figures")).to_contain_text("可自动同步")
    page.get_by_role("button", name=re.compile("批量同步")).click()
    expect(page.get_by_role("status")).to_contain_text("同步完成", timeout=30_000)
    expect(page.get_by_role("status")).to_contain_text("已同步 1 项")
    axe_check(page)
    with console.ctx.db.connection_context():
        item = console.ctx.items.get(console.world["claimed"])
    assert item["document"]["conditions"][0]["text"] == "已经依法取得建设用地规划许可"


def test_admin_adds_and_removes_a_synonym(console, page):
    sign_in(page, console, "admin")
    page.get_by_role("link", name="同义词").click()
    page.get_by_label("词语", exact=True).fill("办施工证")
    page.get_by_label("展开为（用顿号或逗号分隔）").fill("建筑工程施工许可证、施工许可")
    page.get_by_role("button", name="保存同义词").click()
    expect(page.get_by_role("status")).to_contain_text("已保存同义词")
    # the saved entry is shown by itself, not somewhere among hundreds
    expect(page.get_by_role("row", name=re.compile("办施工证"))).to_contain_text("施工许可")
    expect(page.get_by_text(re.compile("含“办施工证”的共 1 条"))).to_be_visible()
    axe_check(page)
    page.get_by_role("button", name="删除“办施工证”").click()
    expect(page.get_by_role("status")).to_contain_text("已删除同义词")
    expect(page.get_by_role("row", name=re.compile("办施工证"))).to_have_count(0)


def test_the_synonym_table_is_searched_by_an_expansion_and_paged(console, page):
    sign_in(page, console, "admin")
    page.goto(console.url("/console/synonyms"))
    total = int(re.search(r"共 (\d+) 条", page.get_by_text(re.compile(r"共 \d+ 条")).inner_text()).group(1))
    assert total > 50  # the lexicon: more than one page
    expect(page.get_by_role("row")).to_have_count(51)  # the header and one page of 50
    page.get_by_role("navigation", name="翻页").get_by_role("link", name="下一页").click()
    expect(page.get_by_text(re.compile(r"第 2 / \d+ 页")).first).to_be_visible()
    page.get_by_label("查找词语或展开词").fill("身份证")
    page.get_by_role("button", name="查找", exact=True).click()
    rows = page.get_by_role("row").filter(has_not=page.get_by_role("columnheader"))
    expect(rows.first).to_be_visible()
    for text in rows.all_inner_texts():
        assert "身份证" in text
    page.get_by_label("查找词语或展开词").fill("没有这样的词")
    page.get_by_role("button", name="查找", exact=True).click()
    expect(page.get_by_text("没有含“没有这样的词”的同义词。")).to_be_visible()


@pytest.mark.parametrize("username, path", [
    ("editor_a", "/console/catalogue"), ("editor_a", "/console/catalogue/import"), ("editor_a", "/console/synonyms"),
    ("reviewer", "/console/catalogue"), ("reviewer", "/console/synonyms"), ("editor_a", "/console/review"),
])
def test_roles_are_refused_pages_that_are_not_theirs(console, page, username, path):
    sign_in(page, console, username)
    response = page.goto(console.url(path))
    assert response.status == 403
    expect(page.get_by_role("alert")).to_contain_text("角色")


def test_anonymous_visitors_are_sent_to_sign_in_from_admin_and_review_pages(console, page):
    for path in ("/console/review", "/console/catalogue", f"/console/catalogue/{console.world['basic_codes'][0]}/impact"):
        page.goto(console.url(path))
        expect(page).to_have_url(re.compile("/console/login"))
