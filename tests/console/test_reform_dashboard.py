"""The reform dashboard in Chromium: cards equal to the API's figures at a date, two dates compared, a chart
opened into its drill-down, the XLSX export equal to the screen, the printable report, and who may see what."""
from __future__ import annotations

import io
import re
import subprocess
import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from console.conftest import axe_check, sign_in
from console.reform_world import DAYS, seed_reform
from server.console.reform import number, percent


@pytest.fixture
def reform(console):
    seed_reform(console.ctx)
    return console


def api_as(console, username: str):
    api = console.app.api()
    api.login(username, "console-pass-1")
    return api


def cards_on_screen(page) -> dict:
    out = {}
    for card in page.locator("li.card").all():
        out[card.get_attribute("data-key")] = (card.locator(".card-value").inner_text(),
                                              card.locator(".numerator").inner_text(),
                                              card.locator(".denominator").inner_text())
    return out


def test_a_reform_office_sets_an_as_of_date_and_the_cards_match_the_api(reform, page):
    sign_in(page, reform, "reform_city")
    page.goto(reform.url("/console/reform"))
    day = DAYS[1].isoformat()
    page.get_by_label("统计日期").fill(day)
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state()
    assert f"as_of={day}" in page.url
    body = api_as(reform, "reform_city").get(f"/api/v1/stats/summary?as_of={day}").json
    assert body["region"] == "410400"
    expected = {f["key"]: (percent(f["ratio"]), number(f["numerator"]), number(f["denominator"]))
                for f in body["figures"]}
    assert cards_on_screen(page) == expected
    # items published on the third day are not counted at the second
    later = api_as(reform, "reform_city").get(f"/api/v1/stats/summary?as_of={DAYS[2]}").json
    assert later["figures"][0]["denominator"] > body["figures"][0]["denominator"]
    # the numerator and denominator show on keyboard focus and are the card's description for screen readers
    card = page.locator("li.card[data-key=instant_ratio]")
    card.focus()
    assert page.locator("#card-instant_ratio-detail").is_visible()
    assert card.get_attribute("aria-describedby") == "card-instant_ratio-detail"
    assert "分母" in page.locator("#card-instant_ratio-detail").inner_text()
    axe_check(page)


def test_two_dates_are_compared_with_the_change_of_each_figure(reform, page):
    sign_in(page, reform, "admin")
    page.goto(reform.url("/console/reform"))
    page.get_by_label("对比起始日").fill(DAYS[0].isoformat())
    page.get_by_label("对比截止日").fill(DAYS[2].isoformat())
    page.get_by_role("button", name="查看").click()
    page.wait_for_load_state()
    body = api_as(reform, "admin").get(f"/api/v1/stats/summary/compare?from={DAYS[0]}&to={DAYS[2]}").json
    rows = page.locator("#compare tbody tr")
    assert rows.count() == 10
    for f in body["figures"]:
        row = page.locator(f"#compare tr[data-key={f['key']}]")
        assert row.locator(".change").inner_text() == (
            "—" if f["change"] is None else f"{f['change'] * 100:+.1f} 个百分点")
        assert row.locator(".after").inner_text().startswith(percent(f["after"]["ratio"]))
    assert any(f["change"] not in (None, 0) for f in body["figures"])
    axe_check(page)


def test_charts_render_and_a_bar_opens_its_drilldown(reform, page):
    sign_in(page, reform, "reform_city")
    page.goto(reform.url("/console/reform"))
    for group in ("region", "org", "item_type"):
        page.wait_for_selector(f"#chart-{group}[data-ready='1'] canvas")
    # the accessible table beside the chart: each bar's link
    link = page.locator("#table-region a", has_text="卫东区")
    link.click()
    page.wait_for_load_state()
    assert "/console/reform/drilldown" in page.url and "region=410402" in page.url
    assert "卫东区" in page.locator("h1").inner_text()
    drill = api_as(reform, "reform_city").get("/api/v1/stats/items/drilldown?metric=instant_ratio&region=410402").json
    assert page.locator("#drilldown tbody tr").count() == min(drill["total"], 50) > 0
    assert page.locator("#drilldown tbody tr").first.locator("th").inner_text() == drill["items"][0]["name"]
    axe_check(page)
    # a click on the canvas bar itself goes the same way
    page.go_back()
    page.wait_for_selector("#chart-region[data-ready='1'] canvas")
    x, y = page.evaluate("""() => {
        const el = document.getElementById('chart-region');
        const chart = echarts.getInstanceByDom(el);
        const labels = chart.getOption().yAxis[0].data;
        const at = chart.convertToPixel({seriesIndex: 0}, [1, labels.indexOf('石龙区')]);
        const box = el.getBoundingClientRect();
        return [box.left + at[0], box.top + at[1]];
    }""")
    page.mouse.click(x, y)
    page.wait_for_url("**/console/reform/drilldown?*region=410403*")


def test_the_xlsx_export_holds_the_figures_on_screen(reform, page):
    sign_in(page, reform, "reform_city")
    page.goto(reform.url(f"/console/reform?as_of={DAYS[1]}"))
    screen = cards_on_screen(page)
    with page.expect_download() as info:
        page.get_by_role("link", name="Excel（XLSX）").click()
    data = Path(info.value.path()).read_bytes()
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet["B1"].value == "410400" and sheet["D1"].value == DAYS[1].isoformat()
    lines = {row[1]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert {key: (percent(r[4]), number(r[2]), number(r[3])) for key, r in lines.items()} == screen
    with page.expect_download() as info:
        page.locator("#chart-region-title").locator("..").get_by_role("link", name="CSV").click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert "卫东区" in text and "石龙区" in text


def test_a_county_office_cannot_see_its_city_and_other_roles_are_refused(reform, page, second_page):
    sign_in(page, reform, "reform_county")
    page.goto(reform.url("/console/reform"))
    assert "卫东区" in page.locator("h1").inner_text()
    assert page.locator("#region option").all_inner_texts() == ["卫东区"]
    for path in ("/console/reform?region=410400", "/console/reform/drilldown?region=410400",
                 "/console/reform/export?table=summary&format=xlsx&region=410400",
                 "/console/reform/report?region=410400"):
        resp = page.request.get(reform.url(path))
        assert resp.status == 403, path
    sign_in(second_page, reform, "editor_a")
    for path in ("/console/reform", "/console/reform/report", "/console/reform/export?table=summary&format=csv"):
        assert second_page.request.get(reform.url(path)).status == 403
    assert "改革指标" not in second_page.locator("nav").inner_text()
    resp = page.request.get(reform.url("/console/reform?as_of=2026-13-40"))
    assert resp.status == 400


def test_the_monthly_report_prints_as_clean_pages(reform, page, tmp_path):
    sign_in(page, reform, "reform_city")
    month = DAYS[2].strftime("%Y-%m")
    page.goto(reform.url(f"/console/reform/report?month={month}"))
    assert page.locator("nav").count() == 0
    body = api_as(reform, "reform_city").get(
        f"/api/v1/stats/summary/compare?from=2026-06-30&to=2026-07-31").json
    first = page.locator(".report-table tbody tr").first
    assert first.locator("td").first.inner_text() == percent(body["figures"][0]["after"]["ratio"])
    axe_check(page)
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    # Chromium writes one page object per page: the figures and the three tables, each on its own page
    assert len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf)) == 4
    if shutil.which("pdftoppm"):
        path = tmp_path / "report.pdf"
        path.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(path), str(tmp_path / "page")], check=True)
        assert list(tmp_path.glob("page*.png"))


def test_the_dashboard_on_postgresql_gives_the_api_figures_and_pages_the_drilldown(console_pg, page):
    seed_reform(console_pg.ctx, per_org=20)
    sign_in(page, console_pg, "admin")
    page.goto(console_pg.url(f"/console/reform?as_of={DAYS[2]}"))
    body = api_as(console_pg, "admin").get(f"/api/v1/stats/summary?as_of={DAYS[2]}").json
    assert cards_on_screen(page) == {f["key"]: (percent(f["ratio"]), number(f["numerator"]), number(f["denominator"]))
                                     for f in body["figures"]}
    page.locator("#table-region a", has_text="平顶山市").click()
    drill = api_as(console_pg, "admin").get(
        f"/api/v1/stats/items/drilldown?metric=instant_ratio&region=410400&as_of={DAYS[2]}&limit=1000").json
    assert drill["total"] > 50
    page.get_by_role("link", name="下一页").click()
    names = page.locator("#drilldown tbody th").all_inner_texts()
    assert names == [item["name"] for item in drill["items"][50:100]]
