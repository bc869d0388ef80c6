"""Case-level statistics (按期办结率, 满意率, 差评整改) computed from real cases handled over HTTP."""
from __future__ import annotations

import pytest

from hall_world import Hall
from items.scope import Actor


@pytest.fixture
def hall(running_app):
    h = Hall(running_app)
    h.at(2026, 9, 28)
    return h


def test_case_figures_count_on_time_cases_ratings_and_answered_rectifications(hall):
    alice, bob = hall.citizen("openid-alice"), hall.citizen("openid-bob")
    on_time = hall.finished_case(alice)
    late = hall.new_case(bob)
    assert hall.act(late, "accept").status == 200
    hall.at(2026, 12, 30)  # long after its promised date
    assert hall.act(late, "finish", result="approved").status == 200
    assert alice.post(f"/api/v1/hall/applications/{on_time}/rating", {"level": "very_satisfied"}).status == 201
    bad = bob.post(f"/api/v1/hall/applications/{late}/rating", {"level": "dissatisfied"}).json
    assert hall.staff_a.post(f"/api/v1/rectifications/{bad['rectification']['id']}/answer",
                             {"answer": "已整改并回访"}).status == 200
    office = hall.staff(Actor(username="office", role="reform_office", region="410400"))
    figures = office.get("/api/v1/stats/cases?region=410400").json
    assert figures["note"] is None
    f = figures["figures"]
    assert (f["finished"], f["finished_on_time"], f["on_time_ratio"]) == (2, 1, 0.5)
    assert f["satisfied_ratio"] == 0.5 and f["bad"] == 1 and f["rectification_ratio"] == 1.0
    elsewhere = office.get("/api/v1/stats/cases?region=410403")  # another county of the same city
    assert elsewhere.status == 200 and elsewhere.json["figures"]["finished"] == 0
    county = hall.staff(Actor(username="county", role="reform_office", region="410403"))
    resp = county.get("/api/v1/stats/cases?region=410400")
    assert resp.status == 403 and resp.error_code()
