"""Browser benchmark: the CPU a console journey costs in Debian's chromium-headless-shell (what the browser
tests run in) beside the full chromium browser (the baseline), the same journey in the same run.

    python -m scripts.bench.bench_browser [--journeys 6] [--rounds 2]

Serves the real app on a temporary SQLite database with the console tests' seeded world
(tests/console/world.py). Each journey is what a browser test does: a new browser context, sign-in
through the form, four page loads, an axe-core check on every other journey and a screenshot. The
machine's busy CPU time (from /proc/stat, every process: browser, renderers, the app serving it, the
Playwright driver) is summed over the journeys; the rounds alternate the two browsers. Run it on an
otherwise idle machine.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from console.conftest import CHROMIUM_ARGS, CONTEXT, Console, axe_check, sign_in  # noqa: E402
from console.world import seed  # noqa: E402
from harness import RunningApp, make_settings  # noqa: E402

BROWSERS = {"chromium-headless-shell": "/usr/bin/chromium-headless-shell", "chromium (baseline)": "/usr/bin/chromium"}
PAGES = ("/console/items", "/console/directory/staff", "/console/items", "/console/directory/staff")


def busy_seconds() -> float:
    """CPU seconds every process of the machine has spent busy since boot: user, nice, system, irq and
    softirq (not idle, I/O wait, time stolen by a hypervisor, or guest time, which user already holds)."""
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in stat.readline().split()[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def journeys(browser, console: Console, count: int) -> tuple[float, float]:
    """Run `count` journeys → (busy CPU seconds, wall seconds)."""
    busy, started = busy_seconds(), time.perf_counter()
    for n in range(count):
        context = browser.new_context(**CONTEXT)
        page = context.new_page()
        sign_in(page, console, "admin")
        for path in PAGES:
            page.goto(console.url(path))
        if n % 2 == 0:
            axe_check(page)
        page.screenshot()
        context.close()
    return busy_seconds() - busy, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--journeys", type=int, default=6)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    missing = [path for path in BROWSERS.values() if not os.path.exists(path)]
    if missing:
        print(f"not installed: {', '.join(missing)} (apt-get install chromium chromium-headless-shell)")
        return 2
    from playwright.sync_api import sync_playwright
    results: dict[str, list[tuple[float, float]]] = {name: [] for name in BROWSERS}
    with tempfile.TemporaryDirectory() as tmp:
        app = RunningApp(make_settings(f"sqlite:///{tmp}/govhall.db", upload_dir=f"{tmp}/uploads")).start()
        try:
            console = Console(app, seed(app.ctx))
            with sync_playwright() as playwright:
                for _ in range(args.rounds):
                    for name, path in BROWSERS.items():
                        browser = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
                        journeys(browser, console, 1)  # warm: the browser's first page and the app's caches
                        results[name].append(journeys(browser, console, args.journeys))
                        browser.close()
        finally:
            app.stop()
    print(f"{'browser':<26}{'CPU s/journey':>15}{'wall s/journey':>16}"
          f"   ({args.journeys} journeys × {args.rounds} rounds)")
    for name, runs in results.items():
        cpu = statistics.median(c / args.journeys for c, _ in runs)
        wall = statistics.median(w / args.journeys for _, w in runs)
        print(f"{name:<26}{cpu:>15.2f}{wall:>16.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
