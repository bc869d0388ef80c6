"""The directory's rules as pure functions over a region lookup: no database needed."""
from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from items import codes
from items.directory import check_department, check_region

REGIONS = {"410000": {"code": "410000", "level": "2"}, "410400": {"code": "410400", "level": "3"},
           "410402": {"code": "410402", "level": "4"}}
prefixes = st.text(alphabet=codes.CREDIT_ALPHABET, min_size=17, max_size=17)


def rules(errors: list[dict]) -> set[tuple[str, str]]:
    return {(e["path"], e["rule"]) for e in errors}


@given(prefixes, st.sampled_from(codes.CREDIT_ALPHABET))
def test_a_department_with_any_wrong_check_character_names_that_rule(prefix, check):
    credit = prefix + check
    department, errors = check_department({"credit_code": credit, "name": "某局", "region_code": "410402"},
                                          REGIONS.get)
    if codes.is_valid_credit_code(credit):
        assert errors == [] and department["level"] == "4"
    else:
        assert rules(errors) == {("/credit_code", "credit_code_check_char")} and department is None


def test_a_twelve_digit_county_code_is_kept_as_six_digits_under_its_structural_parent():
    region, errors = check_region({"code": "410403000000", "name": "卫东区"}, REGIONS.get)
    assert errors == [] and region == {"code": "410403", "name": "卫东区", "parent": "410400", "level": "4"}


def test_level_words_agree_with_the_code_and_a_wrong_one_is_named():
    assert check_region({"code": "410403", "name": "卫东区", "level": "县"}, REGIONS.get)[1] == []
    assert rules(check_region({"code": "410403", "name": "卫东区", "level": "city"}, REGIONS.get)[1]) == {
        ("/level", "level_matches_code")}
