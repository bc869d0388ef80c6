"""The case life cycle, step records and rating rules."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from items.errors import Conflict, Invalid
from wechat.lifecycle import (
    ACTIONS,
    FINISH_RESULTS,
    RATING_LEVELS,
    RATING_SCHEMES,
    STAFF_ACTIONS,
    STATES,
    TERMINAL_STATES,
    CaseStep,
    allowed_actions,
    check_rating_allowed,
    code_for_level,
    is_bad,
    is_satisfied,
    level_from_code,
    paused_intervals,
    pauses_clock,
    transition,
)
from wechat.workdays import WorkCalendar

# --- the life cycle ---------------------------------------------------------------------------------


def test_staff_actions_are_exactly_those_of_the_contract():
    assert STAFF_ACTIONS == ("accept", "reject", "request_correction", "resume", "suspend", "step", "finish",
                             "deliver")


def test_a_case_runs_from_submission_to_delivery():
    state = "submitted"
    state = transition(state, "accept")
    assert state == "accepted"
    state = transition(state, "step")
    assert state == "in_progress"
    assert transition(state, "step") == "in_progress"
    state = transition(state, "request_correction")
    assert state == "correction_requested" and pauses_clock(state)
    state = transition(state, "resume")
    assert state == "in_progress" and not pauses_clock(state)
    state = transition(state, "suspend")
    assert state == "suspended" and pauses_clock(state)
    state = transition(state, "resume")
    state = transition(state, "finish", result="approved")
    assert state == "finished"
    assert transition(state, "deliver") == "delivered"


def test_an_instant_case_is_finished_right_after_acceptance():
    assert transition(transition("submitted", "accept"), "finish", result="approved") == "finished"


def test_a_submitted_case_can_be_rejected_or_withdrawn_by_the_applicant():
    assert transition("submitted", "reject") == "rejected"
    assert transition("submitted", "withdraw") == "withdrawn"


def test_an_accepted_case_cannot_be_withdrawn_by_the_applicant_only_finished_as_withdrawn():
    with pytest.raises(Conflict) as caught:
        transition("in_progress", "withdraw")
    assert caught.value.code == "illegal_transition"
    assert transition("in_progress", "finish", result="withdrawn") == "finished"


def test_an_illegal_action_says_which_actions_are_allowed():
    with pytest.raises(Conflict) as caught:
        transition("submitted", "deliver")
    assert caught.value.code == "illegal_transition"
    assert caught.value.details == {"state": "submitted", "action": "deliver",
                                    "allowed": ["accept", "reject", "request_correction", "withdraw"]}


def test_resume_returns_to_the_state_the_pause_came_from():
    assert transition("suspended", "resume", paused_from="accepted") == "accepted"
    assert transition("correction_requested", "resume") == "in_progress"


def test_a_correction_before_acceptance_returns_to_submitted_and_can_be_accepted_or_rejected():
    paused = transition("submitted", "request_correction")
    assert paused == "correction_requested"
    assert transition(paused, "resume", paused_from="submitted") == "submitted"
    assert transition(paused, "accept", paused_from="submitted") == "accepted"
    assert transition(paused, "reject", paused_from="submitted") == "rejected"
    with pytest.raises(Conflict):
        transition(paused, "finish", result="refused", paused_from="submitted")


def test_a_correction_after_acceptance_cannot_be_rejected_only_finished_as_refused():
    with pytest.raises(Conflict):
        transition("correction_requested", "reject", paused_from="in_progress")
    assert transition("correction_requested", "finish", result="refused") == "finished"


def test_a_suspension_cannot_come_from_an_unaccepted_case():
    with pytest.raises(Invalid) as caught:
        allowed_actions("suspended", paused_from="submitted")
    assert caught.value.code == "paused_from_invalid"
    with pytest.raises(Invalid):
        transition("suspended", "resume", paused_from="finished")


def test_finish_needs_a_known_result_and_no_other_action_takes_one():
    for bad in (None, "ok"):
        with pytest.raises(Invalid) as caught:
            transition("in_progress", "finish", result=bad)
        assert caught.value.code == "finish_result_invalid"
        assert caught.value.details["allowed"] == list(FINISH_RESULTS)
    with pytest.raises(Invalid) as caught:
        transition("submitted", "accept", result="approved")
    assert caught.value.code == "result_only_on_finish"


def test_unknown_states_and_actions_are_invalid_not_conflicts():
    with pytest.raises(Invalid) as caught:
        transition("archived", "accept")
    assert caught.value.code == "unknown_state"
    with pytest.raises(Invalid) as caught:
        transition("submitted", "approve")
    assert caught.value.code == "unknown_action"


def test_terminal_states_allow_nothing():
    for state in TERMINAL_STATES:
        assert allowed_actions(state) == ()


def test_the_clock_pauses_only_for_correction_and_suspension():
    assert {s for s in STATES if pauses_clock(s)} == {"correction_requested", "suspended"}


@given(state=st.sampled_from(STATES), action=st.sampled_from(ACTIONS),
       paused_from=st.sampled_from([None, "accepted", "in_progress"]))
def test_transition_succeeds_exactly_for_the_allowed_actions(state, action, paused_from):
    allowed = allowed_actions(state, paused_from=paused_from)
    result = "approved" if action == "finish" else None
    if action in allowed:
        assert transition(state, action, result=result, paused_from=paused_from) in STATES
    else:
        with pytest.raises(Conflict) as caught:
            transition(state, action, result=result, paused_from=paused_from)
        assert caught.value.details["allowed"] == list(allowed)


def test_every_non_terminal_state_can_reach_a_terminal_state():
    def reachable(start):
        seen, todo = {start}, [start]
        while todo:
            state = todo.pop()
            for action in allowed_actions(state):
                nxt = transition(state, action, result="approved" if action == "finish" else None)
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    for state in STATES:
        assert reachable(state) & TERMINAL_STATES, state


def test_paused_intervals_feed_the_due_date():
    history = [(dt.date(2026, 3, 2), "accepted"), (dt.date(2026, 3, 3), "in_progress"),
               (dt.date(2026, 3, 4), "correction_requested"), (dt.date(2026, 3, 6), "in_progress"),
               (dt.date(2026, 3, 10), "suspended")]
    intervals = paused_intervals(history, until=dt.date(2026, 3, 12))
    assert intervals == [(dt.date(2026, 3, 4), dt.date(2026, 3, 6)), (dt.date(2026, 3, 10), dt.date(2026, 3, 12))]
    # 10 working days from 03-02 is 03-16; two paused working days in each stretch push it to 03-20
    due = WorkCalendar().due_date(dt.date(2026, 3, 2), {"value": 10, "unit": "workday"}, intervals)
    assert due == dt.date(2026, 3, 20)


# --- steps ------------------------------------------------------------------------------------------

START = dt.datetime(2026, 3, 3, 9, 30)


def test_a_step_round_trips_through_its_dict():
    step = CaseStep(name="审核", action="return", handler="张三", opinion="材料不清晰", start=START,
                    end=START + dt.timedelta(hours=2))
    assert step.action_label == "退回"
    data = step.to_dict()
    assert data["start"] == "2026-03-03T09:30:00"
    assert CaseStep.from_dict(data) == step


def test_an_open_step_has_no_end():
    step = CaseStep(name="受理", action="pass", handler="李四", start=START)
    assert step.to_dict()["end"] is None
    assert CaseStep.from_dict(step.to_dict()).end is None


def test_a_step_with_bad_fields_lists_every_broken_rule():
    with pytest.raises(Invalid) as caught:
        CaseStep(name=" ", action="通过", handler="", start=START, end=START - dt.timedelta(minutes=1))
    assert caught.value.code == "step_invalid"
    assert {(e["path"], e["rule"]) for e in caught.value.details["errors"]} == {
        ("/name", "required"), ("/handler", "required"), ("/action", "one_of"), ("/end", "end_after_start")}


def test_a_step_dict_without_a_start_time_is_invalid():
    with pytest.raises(Invalid) as caught:
        CaseStep.from_dict({"name": "审核", "action": "pass", "handler": "张三", "start": "yesterday"})
    assert caught.value.code == "step_invalid"


# --- ratings ----------------------------------------------------------------------------------------

def test_the_two_code_schemes_run_in_opposite_directions():
    assert level_from_code("1", "gbt39046") == "very_satisfied"
    assert level_from_code("5", "provincial") == "very_satisfied"
    assert level_from_code(5, "gbt39046") == "very_dissatisfied"
    assert code_for_level("very_satisfied", "provincial") == "5"
    assert code_for_level("dissatisfied", "gbt39046") == "4"


@pytest.mark.parametrize("scheme", sorted(RATING_SCHEMES))
@pytest.mark.parametrize("level", RATING_LEVELS)
def test_codes_round_trip_in_every_scheme(scheme, level):
    assert level_from_code(code_for_level(level, scheme), scheme) == level


@pytest.mark.parametrize("code", ["0", "6", "", True, None, "非常满意"])
def test_unknown_rating_codes_are_invalid(code):
    with pytest.raises(Invalid) as caught:
        level_from_code(code, "gbt39046")
    assert caught.value.code == "rating_code_invalid"


def test_an_unknown_scheme_or_level_is_invalid():
    with pytest.raises(Invalid) as caught:
        level_from_code("1", "guangdong")
    assert caught.value.code == "rating_scheme_unknown"
    with pytest.raises(Invalid) as caught:
        code_for_level("great", "gbt39046")
    assert caught.value.code == "rating_level_invalid"


def test_bad_ratings_are_the_two_dissatisfied_levels():
    assert [level for level in RATING_LEVELS if is_bad(level)] == ["dissatisfied", "very_dissatisfied"]
    assert [level for level in RATING_LEVELS if is_satisfied(level)] == ["very_satisfied", "satisfied"]


def test_a_finished_case_takes_a_first_rating_then_one_follow_up():
    assert check_rating_allowed("finished", []) == "first"
    assert check_rating_allowed("delivered", [{"level": "basic"}]) == "follow_up"
    with pytest.raises(Conflict) as caught:
        check_rating_allowed("delivered", [{"level": "basic"}, {"level": "satisfied"}])
    assert caught.value.code == "rating_closed"


@pytest.mark.parametrize("state", ["submitted", "accepted", "in_progress", "correction_requested", "rejected"])
def test_a_case_not_yet_finished_cannot_be_rated(state):
    with pytest.raises(Conflict) as caught:
        check_rating_allowed(state, [])
    assert caught.value.code == "case_not_finished"
    assert caught.value.details["state"] == state
