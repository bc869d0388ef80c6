"""The reform dashboard's headline figures over HTTP on SQLite and PostgreSQL: the same numbers as the grouped
endpoints, two dates and their change, exports, and a county office that cannot see its city."""
from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "wechat"))  # the hall test world lives there

from hall_world import Hall  # noqa: E402
from items.scope import Actor  # noqa: E402
from items.stats_summary import FIGURE_KEYS  # noqa: E402
from schema_check import assert_matches  # noqa: E402


@pytest.fixture
def world(running_app):
    """The hall's published item in 卫东区; one case finished late on 8 Oct, one on time on 9 Oct (rated 满意),
    and a 非常不满意 rating of the late one."""
    hall = Hall(running_app)
    late_citizen, on_time_citizen = hall.citizen("openid-late"), hall.citizen("openid-on-time")
    hall.at(2026, 9, 17)
    late = hall.new_case(late_citizen)
    hall.at(2026, 9, 18)
    assert hall.act(late, "accept").status == 200                         # due 24 Sep
    hall.at(2026, 10, 8)
    assert hall.act(late, "finish", result="approved").status == 200
    on_time = hall.new_case(on_time_citizen)
    assert hall.act(on_time, "accept").status == 200
    hall.at(2026, 10, 9)
    assert hall.act(on_time, "finish", result="approved").status == 200
    for citizen, case_no, level in ((late_citizen, late, "very_dissatisfied"), (on_time_citizen, on_time, "satisfied")):
        resp = citizen.post(f"/api/v1/hall/applications/{case_no}/rating", {"level": level})
        assert resp.status in (200, 201), resp.body
    hall.county = hall.staff(Actor(username="weidong_office", role="reform_office", region="410402"))
    hall.city = hall.staff(Actor(username="pds_office", role="reform_office", region="410400"))
    hall.admin = hall.staff(Actor(username="admin", role="province_admin"))
    return hall


def ok(resp) -> dict:
    assert resp.status == 200, resp.body
    return resp.json


def figures(body: dict) -> dict:
    return {f["key"]: f for f in body["figures"]}


def test_summary_has_the_ten_figures_equal_to_the_grouped_endpoints(world):
    api = world.city
    summary = ok(api.get("/api/v1/stats/summary"))
    assert summary["region"] == "410400" and summary["current"] is True
    got = figures(summary)
    assert tuple(got) == FIGURE_KEYS and len(got) == 10
    total = ok(api.get("/api/v1/stats/items"))["total"]
    for key, numerator in (("instant_ratio", "instant"), ("visits_at_most_one_ratio", "visits_at_most_one"),
                           ("zero_visit_ratio", "zero_visit"), ("full_online_ratio", "full_online"),
                           ("commitment_ratio", "commitment"), ("certificate_free_ratio", "certificate_free")):
        assert (got[key]["numerator"], got[key]["denominator"], got[key]["ratio"]) == (
            total[numerator], total["items"], total[key])
    assert got["compression_ratio"]["ratio"] == total["compression_ratio"] == pytest.approx(10 / 15)
    assert (got["compression_ratio"]["numerator"], got["compression_ratio"]["denominator"]) == (10, 15)
    claims = ok(api.get("/api/v1/stats/claims"))["total"]
    assert (got["claim_rate"]["numerator"], got["claim_rate"]["denominator"], got["claim_rate"]["ratio"]) == (
        claims["claimed"], claims["applicable"], claims["claim_rate"])
    cases = ok(api.get("/api/v1/stats/cases"))["figures"]
    assert (got["on_time_ratio"]["numerator"], got["on_time_ratio"]["denominator"]) == (1, 2) == (
        cases["finished_on_time"], cases["finished"])
    assert (got["satisfied_ratio"]["numerator"], got["satisfied_ratio"]["denominator"],
            got["satisfied_ratio"]["ratio"]) == (1, 2, cases["satisfied_ratio"])


def test_two_dates_give_each_figure_and_its_change(world):
    body = ok(world.admin.get("/api/v1/stats/summary/compare?region=410400&from=2026-10-08&to=2026-10-09"))
    got = figures(body)
    assert got["on_time_ratio"]["before"] == {"numerator": 0, "denominator": 1, "ratio": 0.0}
    assert got["on_time_ratio"]["after"] == {"numerator": 1, "denominator": 2, "ratio": 0.5}
    assert got["on_time_ratio"]["change"] == 0.5
    # the item was published today (real time), after both dates: no items then, so no ratio and no change
    assert got["instant_ratio"]["before"]["denominator"] == 0 and got["instant_ratio"]["change"] is None
    assert got["claim_rate"]["dated"] is False
    resp = world.admin.get("/api/v1/stats/summary/compare?from=2026-10-09&to=2026-10-08")
    assert resp.status == 422 and resp.error_code() == "dates_out_of_order"
    resp = world.admin.get("/api/v1/stats/summary/compare?from=2026-10-09")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"
    as_of = figures(ok(world.admin.get("/api/v1/stats/summary?region=410400&as_of=2026-10-08")))
    assert as_of["on_time_ratio"]["denominator"] == 1


def test_summary_exports_the_same_figures_as_csv_and_xlsx(world):
    json_figures = figures(ok(world.city.get("/api/v1/stats/summary")))
    resp = world.city.get("/api/v1/stats/summary?format=csv")
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.body.decode("utf-8-sig"))))
    assert rows[0][:2] == ["区划", "410400"] and rows[1][:5] == ["指标", "代码", "分子", "分母", "比率"]
    assert [r[1] for r in rows[2:]] == list(FIGURE_KEYS)
    assert {r[1]: (r[2], r[3]) for r in rows[2:]}["on_time_ratio"] == ("1", "2")
    resp = world.city.get("/api/v1/stats/summary?format=xlsx")
    assert resp.status == 200
    sheet = load_workbook(io.BytesIO(resp.body)).active
    lines = {row[1]: row for row in sheet.iter_rows(min_row=3, values_only=True)}
    assert set(lines) == set(FIGURE_KEYS)
    assert lines["satisfied_ratio"][2:5] == (1, 2, json_figures["satisfied_ratio"]["ratio"])
    assert sheet.cell(3 + FIGURE_KEYS.index("instant_ratio"), 5).number_format == "0.00%"


def test_a_county_office_cannot_see_its_city_and_other_roles_see_no_summary(world):
    resp = world.county.get("/api/v1/stats/summary?region=410400")
    assert resp.status == 403 and resp.error_code() == "out_of_scope"
    resp = world.county.get("/api/v1/stats/summary/compare?region=410400&from=2026-10-08&to=2026-10-09")
    assert resp.status == 403 and resp.error_code() == "out_of_scope"
    assert ok(world.county.get("/api/v1/stats/summary"))["region"] == "410402"
    assert ok(world.city.get("/api/v1/stats/summary?region=410402"))["region"] == "410402"
    assert ok(world.admin.get("/api/v1/stats/summary"))["region"] is None
    resp = world.staff_a.get("/api/v1/stats/summary")
    assert resp.status == 403 and resp.error_code() == "role_required"
    assert world.staff_a.get("/api/v1/stats/summary", token=None).status == 401
    resp = world.city.get("/api/v1/stats/summary?region=4104")
    assert resp.status == 400 and resp.error_code() == "bad_parameter"


def test_case_figures_and_summaries_with_real_cases_match_their_declared_schemas(world):
    spec = world.admin.get("/api/v1/openapi.json").json
    for api in (world.admin, world.city, world.county):
        for path in ("/api/v1/stats/cases", "/api/v1/stats/cases?from=2026-10-09&to=2026-10-09",
                     "/api/v1/stats/summary", "/api/v1/stats/summary?as_of=2026-10-08&format=json",
                     "/api/v1/stats/summary/compare?from=2026-10-08&to=2026-10-09",
                     "/api/v1/stats/summary/compare?region=410402&from=2026-09-01&to=2026-10-09"):
            assert_matches(spec, path.split("?")[0], api.get(path))
    # the cases behind them: counted ratings and a ratio with a denominator, besides the nulls of 0/0
    cases = ok(world.city.get("/api/v1/stats/cases"))["figures"]
    assert cases["ratings"] == 2 and cases["on_time_ratio"] == 0.5
