"""Browser harness for console pages: the app with a seeded world, a headless Chromium page, sign-in,
axe-core checks and screenshots. Reuse these fixtures for new console pages:

    def test_something(console, page):          # console: the seeded app on SQLite
        sign_in(page, console, "editor_a")      # or any STAFF name from console/world.py
        page.goto(console.url("/console/items"))
        page.get_by_label("状态").select_option("draft")
        axe_check(page)                         # fails on serious or critical violations

`console_pg` is the same world on PostgreSQL. Chromium is Debian's: GOVHALL_TEST_CHROMIUM, else its
headless shell, else the full browser (`chromium_path`); without one the tests skip, and fail instead in
CI (CI=true or GOVHALL_TEST_REQUIRE_SERVERS=1).
"""
from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness import RunningApp, make_settings
from worlds import upload_dir
from console.world import PASSWORD, seed

VENDOR = Path(__file__).resolve().parent / "vendor"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]
# axe impacts that fail a page (WCAG 2.1 AA; GB/T 37668).
BLOCKING_IMPACTS = ("serious", "critical")
# bypass_csp lets axe_check inject the vendored axe-core; the pages themselves allow no inline script.
CONTEXT = {"locale": "zh-CN", "viewport": {"width": 1280, "height": 900}, "bypass_csp": True}


def chromium_path(shell: bool = True) -> str | None:
    """Debian's Chromium: GOVHALL_TEST_CHROMIUM, else (with `shell`) chromium-headless-shell, else chromium.

    The headless shell is the same Blink and V8 as the browser, built without the desktop browser around
    them (it is what Playwright itself runs for headless Chromium): the journeys cost about 2.5 times less
    CPU in it than in the full browser (docs/benchmarks.md). GOVHALL_TEST_CHROMIUM=/usr/bin/chromium runs
    them in the full browser; the documentation's screenshots are taken there.
    """
    chosen = os.environ.get("GOVHALL_TEST_CHROMIUM")
    if chosen:
        return chosen  # the browser fixture says so when it does not exist
    names = ("chromium-headless-shell", "chromium") if shell else ("chromium",)
    return next(filter(None, (shutil.which(name) for name in names)), None)


def _skip_or_fail(reason: str):
    if os.environ.get("CI") == "true" or os.environ.get("GOVHALL_TEST_REQUIRE_SERVERS") == "1":
        pytest.fail(reason + " (CI: no skipping)")
    pytest.skip(reason)


@dataclass
class Console:
    """A running app with a seeded world: `url(path)`, `ctx` (services), `world` (what seed returned)."""
    app: RunningApp
    world: dict

    @property
    def ctx(self):
        return self.app.ctx

    def url(self, path: str) -> str:
        return self.app.base + path


def _console(worlds, kind: str, tmp_path):
    url, world, after = worlds.database(kind, seed, tmp_path)
    app = RunningApp(make_settings(url, upload_dir=upload_dir(tmp_path))).start()
    return Console(app, world), after


@pytest.fixture
def console(seeded_worlds, tmp_path):
    """The app on a temp-file SQLite with the seeded world (a copy of the world seeded once per session)."""
    running, after = _console(seeded_worlds, "sqlite", tmp_path)
    yield running
    running.app.stop()
    after()


@pytest.fixture
def console_pg(seeded_worlds, tmp_path):
    """The same world on PostgreSQL."""
    running, after = _console(seeded_worlds, "postgresql", tmp_path)
    yield running
    running.app.stop()
    after()


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the session (Playwright drives Debian's chromium; nothing downloaded)."""
    path = chromium_path()
    if not path:
        _skip_or_fail("Chromium is not installed (apt-get install chromium-headless-shell or chromium)")
    if not os.path.exists(path):
        _skip_or_fail(f"GOVHALL_TEST_CHROMIUM names {path}, which does not exist")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _skip_or_fail("Playwright for Python is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh browser context (its own cookies) and page, Chinese locale, wide enough for tables."""
    context = browser.new_context(**CONTEXT)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


@pytest.fixture
def second_page(browser):
    """Another person's browser: a separate context, so a separate sign-in."""
    context = browser.new_context(**CONTEXT)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def sign_in(page, console: Console, username: str, password: str = PASSWORD) -> None:
    """Sign in through the sign-in form, as a person would."""
    page.goto(console.url("/console/login"))
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()


def axe_check(page) -> list[dict]:
    """Run axe-core (vendored, injected here; the pages never load it) on the current page and fail on
    any serious or critical violation → the other violations, for tests that want them."""
    page.add_script_tag(path=str(VENDOR / "axe.min.js"))
    # resultTypes: only violations are reported node by node (passes are not collected: half the time)
    result = page.evaluate("""async () => await axe.run(document, {
        runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
        resultTypes: ['violations']})""")
    blocking = [v for v in result["violations"] if v.get("impact") in BLOCKING_IMPACTS]
    assert not blocking, "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in blocking)
    return result["violations"]


def screenshot(page, path: Path, full_page: bool = True) -> Path:
    """Save a PNG of the page (used by scripts/console_screenshots.py too)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=full_page)
    return path
