"""Screenshots of the console's main pages for docs/console.md, made by driving the real app in Chromium.

    python -m scripts.console_screenshots [--out docs/console] [--chromium /usr/bin/chromium]

Starts the app on a temporary SQLite database with the console tests' seeded world
(tests/console/world.py), signs in as the demo editor, reviewer, admin and window staff
(tests/console/window_world.py) and saves one PNG per page.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from console.conftest import CHROMIUM_ARGS, CONTEXT, chromium_path, screenshot, sign_in  # noqa: E402
from console.conftest import Console  # noqa: E402
from console.reform_world import DAYS, seed_reform  # noqa: E402
from console.world import revise_catalogue, seed  # noqa: E402
from harness import RunningApp, make_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "console"))
    parser.add_argument("--chromium", default=chromium_path(shell=False))
    parser.add_argument("--only", choices=("reform", "window"), help="only the pages of one audience")
    args = parser.parse_args(argv)
    out = Path(args.out)
    from playwright.sync_api import sync_playwright
    if args.only != "window":
        with tempfile.TemporaryDirectory() as tmp:
            app = RunningApp(make_settings(f"sqlite:///{tmp}/govhall.db", upload_dir=f"{tmp}/uploads")).start()
            try:
                console = Console(app, seed(app.ctx))
                seed_reform(console.ctx)
                if args.only == "reform":
                    with sync_playwright() as playwright:
                        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS,
                                                             headless=True)
                        shoot_reform(console, out, browser.new_context(**CONTEXT).new_page())
                        browser.close()
                else:
                    shoot(console, out, args.chromium, sync_playwright)
            finally:
                app.stop()
    if args.only in (None, "window"):
        shoot_window_world(out, args.chromium, sync_playwright)
    print(f"screenshots written to {out}")
    return 0


def shoot_window_world(out: Path, chromium: str, sync_playwright) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        # the window workbench gets a world of its own: its item is published, not in review
        app = RunningApp(make_settings(f"sqlite:///{tmp}/govhall.db", upload_dir=f"{tmp}/uploads")).start()
        try:
            console = Console(app, seed(app.ctx))
            shoot_window(console, out, chromium, sync_playwright)
        finally:
            app.stop()


def shoot(console: Console, out: Path, chromium: str, sync_playwright) -> None:
    code = console.world["claimed"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(**CONTEXT).new_page()
        page.goto(console.url("/console/login"))
        screenshot(page, out / "login.png", full_page=False)
        sign_in(page, console, "editor_a")
        # a second item, one rule broken, so the list and the editor show findings
        page.goto(console.url("/console/coverage"))
        page.get_by_label("建设工程消防验收").check()
        page.get_by_label("燃气经营许可证核发").check()
        page.get_by_role("button", name="认领所选事项").click()
        screenshot(page, out / "coverage.png")
        page.goto(console.url(f"/console/items/{code}"))
        page.get_by_label("办理地点", exact=True).fill("卫东区政务服务中心一楼B区")
        page.get_by_label("咨询电话", exact=True).fill("0375-2345678")
        page.get_by_label("投诉电话", exact=True).fill("12345")
        page.get_by_label("环节名称").nth(1).fill("材料审查")  # the catalogue renames this step too: a conflict
        page.get_by_role("button", name="保存").first.click()
        revise_catalogue(console.ctx, console.world["basic_codes"][0],
                         lambda doc: doc["process"][1].update(name="技术审查"))
        page.get_by_label("承诺办结时限", exact=True).fill("20")
        page.get_by_role("button", name="保存").first.click()
        screenshot(page, out / "editor.png")
        page.goto(console.url("/console/items"))
        screenshot(page, out / "items.png")
        page.goto(console.url(f"/console/items/{code}/conformance"))
        screenshot(page, out / "conformance.png")
        page.goto(console.url(f"/console/items/{code}/history"))
        screenshot(page, out / "history.png")
        page.goto(console.url(f"/console/items/{code}/diff?from=1&to=2"))
        screenshot(page, out / "diff.png")
        page.goto(console.url(f"/console/items/{code}/rebase"))
        screenshot(page, out / "rebase.png")
        page.goto(console.url(f"/console/items/{code}/preview"))
        screenshot(page, out / "preview.png")
        page.goto(console.url(f"/console/items/{code}"))
        page.get_by_label("承诺办结时限", exact=True).fill("5")
        page.get_by_role("button", name="保存").first.click()
        page.get_by_role("button", name="提交审核").click()
        shoot_reviewer(console, out, browser.new_context(**CONTEXT).new_page(), code)
        shoot_admin(console, out, browser.new_context(**CONTEXT).new_page())
        shoot_reform(console, out, browser.new_context(**CONTEXT).new_page())
        shoot_directory(console, out, browser.new_context(**CONTEXT).new_page())
        browser.close()


def shoot_reviewer(console: Console, out: Path, page, code: str) -> None:
    sign_in(page, console, "reviewer")
    screenshot(page, out / "review-queue.png")
    page.goto(console.url(f"/console/review/{code}"))
    page.get_by_role("button", name="退回修改").click()  # no reason: the refusal beside the field
    screenshot(page, out / "review-item.png")


def shoot_admin(console: Console, out: Path, page) -> None:
    import json
    sign_in(page, console, "admin")
    screenshot(page, out / "catalogue.png")
    basic = console.world["basic_codes"][1]
    page.goto(console.url(f"/console/catalogue/{basic}"))
    page.get_by_label("环节名称 第2项").fill("技术审查")
    page.get_by_role("button", name="保存为新版本").click()
    screenshot(page, out / "catalogue-item.png")
    page.goto(console.url(f"/console/catalogue/{console.world['basic_codes'][0]}/impact"))
    screenshot(page, out / "impact.png")
    page.goto(console.url("/console/catalogue/import"))
    from console.world import basic_code, catalogue_document
    doc = catalogue_document(basic_code(40), "城镇污水排入排水管网许可")
    doc["legal_limit"]["value"] = -3
    page.get_by_label("目录文件").set_input_files(files=[{"name": "catalogue.json", "mimeType": "application/json",
                                                      "buffer": json.dumps([doc], ensure_ascii=False).encode()}])
    page.get_by_role("button", name="检查文件").click()
    screenshot(page, out / "import.png")
    page.goto(console.url("/console/synonyms"))
    page.get_by_label("词语", exact=True).fill("办施工证")
    page.get_by_label("展开为（用顿号或逗号分隔）").fill("建筑工程施工许可证、施工许可")
    page.get_by_role("button", name="保存同义词").click()
    screenshot(page, out / "synonyms.png")


def shoot_reform(console: Console, out: Path, page) -> None:
    sign_in(page, console, "reform_city")
    page.goto(console.url(f"/console/reform?as_of={DAYS[2]}&from={DAYS[0]}&to={DAYS[2]}"))
    page.wait_for_selector("#chart-item_type[data-ready='1']")
    page.locator("li.card[data-key=compression_ratio]").focus()   # the numerator and denominator on focus
    screenshot(page, out / "reform.png")
    page.locator("#table-region a").first.click()
    screenshot(page, out / "reform-drilldown.png")
    page.goto(console.url(f"/console/reform/report?month={DAYS[2]:%Y-%m}"))
    screenshot(page, out / "reform-report.png")
    page.emulate_media(media="print")
    screenshot(page, out / "reform-report-print.png", full_page=False)


def shoot_window(console: Console, out: Path, chromium: str, sync_playwright) -> None:
    from console.window_world import seed_cases
    cases = seed_cases(console)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_context(**CONTEXT).new_page()
        sign_in(page, console, "window_a")
        screenshot(page, out / "window-queue.png")
        page.goto(console.url(f"/console/cases/{cases['soon']}"))
        form = page.get_by_role("form", name="补齐补正", exact=True)
        form.get_by_label("建筑工程施工许可证核发申请表").check()
        form.get_by_role("button", name="补齐补正").click()  # no reason: the service's refusal at the form
        screenshot(page, out / "window-case.png")
        page.get_by_role("button", name="查看完整身份证号").click()
        page.locator("#h-applicant").scroll_into_view_if_needed()
        screenshot(page, out / "window-reveal-refused.png", full_page=False)
        page.get_by_label("查看完整身份证号的理由").fill("申请人到窗口核对身份")
        page.get_by_role("button", name="查看完整身份证号").click()
        screenshot(page, out / "window-reveal.png", full_page=False)
        page.goto(console.url("/console/rectifications"))
        screenshot(page, out / "window-rectifications.png")
        browser.close()


def shoot_directory(console: Console, out: Path, page) -> None:
    """The directory pages, each in the state that shows what it is for (a refusal, a report, a password)."""
    from console.world import ORG_A
    from items.codes import make_credit_code
    sign_in(page, console, "admin")
    page.goto(console.url("/console/directory/regions?parent=410400"))
    page.get_by_role("button", name="删除“卫东区”").click()  # in use: the refusal says by what
    screenshot(page, out / "directory-regions.png")
    page.goto(console.url("/console/directory/departments"))
    page.get_by_label("统一社会信用代码", exact=True).fill("11410402MB00000X9")
    page.get_by_label("部门名称", exact=True).fill("卫东区城市管理局")
    page.get_by_label("所在区划代码", exact=True).last.fill("410402")
    page.get_by_role("button", name="新增").click()
    screenshot(page, out / "directory-departments.png")
    page.goto(console.url(f"/console/directory/departments/{ORG_A}"))
    screenshot(page, out / "directory-department.png")
    page.goto(console.url(f"/console/directory/staff?org={ORG_A}"))
    page.get_by_label("用户名", exact=True).fill("editor_a3")
    page.get_by_role("button", name="新增账号").click()
    screenshot(page, out / "directory-staff.png")
    page.goto(console.url("/console/directory/staff/editor_b"))
    page.get_by_role("button", name="重置密码").click()
    screenshot(page, out / "directory-user.png")
    page.goto(console.url("/console/directory/import"))
    good, bad = make_credit_code("11410402MB0000011"), make_credit_code("11410402MB0000022")[:-1] + "0"
    csv = ("统一社会信用代码,部门名称,所在区划代码,层级\n"
           f"{good},卫东区城市管理局,410402,4\n{bad},卫东区应急管理局,410402,3\n")
    page.get_by_label("区划和部门文件").set_input_files(files=[{"name": "departments.csv", "mimeType": "text/csv",
                                                         "buffer": csv.encode("utf-8")}])
    page.get_by_role("button", name="检查文件").click()
    screenshot(page, out / "directory-import.png")
    page.goto(console.url("/console/password"))
    page.get_by_label("当前密码").fill("console-pass-1")
    page.get_by_label("新密码", exact=True).fill("short")
    page.get_by_label("再次输入新密码").fill("short")
    page.get_by_role("button", name="修改密码").click()
    screenshot(page, out / "password.png")


if __name__ == "__main__":
    raise SystemExit(main())
