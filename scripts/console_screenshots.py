"""Screenshots of the console's main pages for docs/console.md, made by driving the real app in Chromium.

    python -m scripts.console_screenshots [--out docs/console] [--chromium /usr/bin/chromium]

Starts the app on a temporary SQLite database with the console tests' seeded world
(tests/console/world.py), signs in as the demo editor and saves one PNG per page.
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
from console.world import revise_catalogue, seed  # noqa: E402
from harness import RunningApp, make_settings  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO / "docs" / "console"))
    parser.add_argument("--chromium", default=chromium_path())
    args = parser.parse_args(argv)
    out = Path(args.out)
    from playwright.sync_api import sync_playwright
    with tempfile.TemporaryDirectory() as tmp:
        app = RunningApp(make_settings(f"sqlite:///{tmp}/govhall.db", upload_dir=f"{tmp}/uploads")).start()
        try:
            console = Console(app, seed(app.ctx))
            shoot(console, out, args.chromium, sync_playwright)
        finally:
            app.stop()
    print(f"screenshots written to {out}")
    return 0


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
    page.get_by_label("词语").fill("办施工证")
    page.get_by_label("展开为（用顿号或逗号分隔）").fill("建筑工程施工许可证、施工许可")
    page.get_by_role("button", name="保存同义词").click()
    screenshot(page, out / "synonyms.png")


if __name__ == "__main__":
    raise SystemExit(main())
