"""Codes of DOMAIN.md §2: check characters, formats, builders and masking."""
from __future__ import annotations

import csv
import datetime
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from items import codes
from items.errors import Invalid

PUBLISHED_CREDIT_CODES = ["91350100M000100Y43", "11450721MB15580811"]
credit_prefixes = st.text(alphabet=codes.CREDIT_ALPHABET, min_size=17, max_size=17)


# --- credit codes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_published_credit_codes_are_valid(code):
    assert codes.is_valid_credit_code(code)
    assert codes.credit_code_check_char(code[:17]) == code[17]


@pytest.mark.parametrize("code", PUBLISHED_CREDIT_CODES)
def test_credit_code_with_wrong_check_character_is_rejected(code):
    wrong = [c for c in codes.CREDIT_ALPHABET if c != code[17]]
    assert len(wrong) == 30
    assert not any(codes.is_valid_credit_code(code[:17] + c) for c in wrong)


def test_credit_codes_published_by_sichuan_departments_are_valid_once_upper_cased(external):
    # one published code ends in a lower-case "u"; GB 32100 letters are upper case
    with open(external / "sczwfw-guangan-items" / "items_flat.csv", encoding="utf-8") as f:
        dept_codes = {row["deptCode"].upper() for row in csv.DictReader(f) if len(row["deptCode"]) == 18}
    assert len(dept_codes) >= 5
    assert all(codes.is_valid_credit_code(c) for c in dept_codes)
    assert {codes.credit_code_region(c) for c in dept_codes} == {"511301"}


@pytest.mark.parametrize("code", [
    "91350100M000100Y4",  # 17 chars
    "91350100M000100Y433",  # 19 chars
    "91350100m000100y43",  # lower case
    "91350100I000100Y43",  # I is not in the alphabet
    "91350100O000100Y43",  # neither is O
    "",
])
def test_malformed_credit_codes_are_rejected(code):
    assert not codes.is_valid_credit_code(code)


def test_non_string_credit_code_is_rejected():
    assert not codes.is_valid_credit_code(913501001000100)
    assert codes.credit_code_check_char(None) == ""


def test_a_transposition_in_a_credit_code_is_caught():
    code = PUBLISHED_CREDIT_CODES[0]
    swapped = code[:2] + code[3] + code[2] + code[4:]
    assert not codes.is_valid_credit_code(swapped)


@given(credit_prefixes)
def test_made_credit_code_is_valid_and_keeps_its_prefix(prefix):
    code = codes.make_credit_code(prefix)
    assert code[:17] == prefix and len(code) == 18
    assert codes.is_valid_credit_code(code)


@given(credit_prefixes, st.sampled_from(codes.CREDIT_ALPHABET))
def test_exactly_one_check_character_fits_a_prefix(prefix, last):
    assert codes.is_valid_credit_code(prefix + last) == (last == codes.credit_code_check_char(prefix))


def test_making_a_credit_code_from_a_bad_prefix_raises_invalid():
    with pytest.raises(Invalid) as caught:
        codes.make_credit_code("1141040ZMB123456")
    assert caught.value.details == {"errors": [{"path": "/credit_code", "rule": "credit_code_format",
                                                "message": caught.value.message}]}


def test_credit_code_region_is_characters_three_to_eight():
    assert codes.credit_code_region("11450721MB15580811") == "450721"
    assert codes.credit_code_region("Y1AB0721MB15580811") is None


# --- region codes ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code, level", [
    ("410000", "province"), ("410400", "city"), ("410402", "county"), ("110101", "county"),
    ("511602000000", "county"), ("511602001000", "township"), ("511602001002", "village"),
])
def test_region_level_follows_the_gb_t_2260_structure(code, level):
    assert codes.region_level(code) == level


@pytest.mark.parametrize("code", ["41040", "4104020", "41040A", "000000", "990000", "410012",
                                  "511602000001", 410402, None])
def test_malformed_region_codes_are_rejected(code):
    assert not codes.is_valid_region_code(code)
    assert codes.region_level(code) is None


@pytest.mark.parametrize("code, parent", [
    ("511602001002", "511602001000"), ("511602001000", "511602"), ("410402", "410400"),
    ("410400", "410000"), ("410000", None), ("bogus", None),
])
def test_parent_region_is_the_enclosing_place(code, parent):
    assert codes.parent_region(code) == parent


@pytest.mark.parametrize("outer, inner", [
    ("410400", "410402"), ("410000", "410402"), ("410000", "410400"), ("410402", "410402"),
    ("511602", "511602001002"), ("511602000000", "511602"), ("511602001000", "511602001002"),
    ("110000", "110101"),
])
def test_region_contains_the_places_inside_it(outer, inner):
    assert codes.region_contains(outer, inner)


@pytest.mark.parametrize("outer, inner", [
    ("410402", "410400"), ("410400", "410000"), ("410400", "410502"), ("410000", "420100"),
    ("511602001000", "511602002001"), ("511602001002", "511602"), ("410400", "bogus"),
])
def test_region_does_not_contain_places_outside_or_above_it(outer, inner):
    assert not codes.region_contains(outer, inner)


# --- item types and levels -------------------------------------------------------------------------

@pytest.mark.parametrize("value, source, expected", [
    ("01", "national", "01"), (" 20 ", "national", "20"), ("行政许可", "national", "01"),
    ("1", "sichuan", "01"), (1, "sichuan", "01"), ("20", "sichuan", "20"), ("01", "sichuan", "01"),
    ("21", "guangdong", "20"), ("99", "liaoning", "99"),
    ("1", "national", None), ("99", "national", None), ("21", "national", None),
    ("30", "sichuan", None), ("01", "atlantis", None), (None, "national", None), (True, "sichuan", None),
])
def test_item_types_are_mapped_per_source(value, source, expected):
    assert codes.normalize_item_type(value, source) == expected


def test_every_sichuan_task_type_maps_to_a_national_type(external):
    with open(external / "sczwfw-guangan-items" / "items_flat.csv", encoding="utf-8") as f:
        task_types = {row["taskType"] for row in csv.DictReader(f)}
    mapped = {codes.normalize_item_type(t, "sichuan") for t in task_types}
    assert None not in mapped
    assert {"01", "20"} <= mapped


def test_liaoning_catalogue_codes_are_well_formed_and_carry_their_type(liaoning_sample):
    records = json.loads(liaoning_sample.read_text("utf-8"))
    assert len(records) == 30
    for record in records:
        basic = record["职权编码"]
        assert codes.is_valid_basic_code(basic)
        assert codes.normalize_item_type(record["事项类型"], "liaoning") == codes.basic_code_item_type(basic)
        assert all(codes.is_valid_level(level) for level in record["实施层级"].split(","))


def test_levels_are_the_seven_gb_t_39046_digits():
    assert list(codes.LEVELS) == ["1", "2", "3", "4", "5", "6", "7"]
    assert codes.LEVELS["4"] == "县"
    assert not codes.is_valid_level("8") and not codes.is_valid_level(4)


# --- basic and implementation codes ----------------------------------------------------------------

@pytest.mark.parametrize("code", ["000104002000", "210973001000"])
def test_basic_codes_of_twelve_digits_are_valid(code):
    assert codes.is_valid_basic_code(code)


@pytest.mark.parametrize("code", ["00010400200", "0001040020000", "00A104002000", 104002000, ""])
def test_malformed_basic_codes_are_rejected(code):
    assert not codes.is_valid_basic_code(code)


def test_impl_code_is_credit_code_level_and_basic_code():
    impl = codes.make_impl_code("11450721MB15580811", "4", "000104002000")
    assert impl == "11450721MB155808114000104002000" and len(impl) == 31
    assert codes.split_impl_code(impl) == ("11450721MB15580811", "4", "000104002000")
    assert codes.is_valid_impl_code(impl)


@pytest.mark.parametrize("credit, level, basic, field", [
    ("11450721MB15580812", "4", "000104002000", "credit_code"),
    ("11450721MB15580811", "9", "000104002000", "level"),
    ("11450721MB15580811", "4", "00010400200", "basic_code"),
])
def test_impl_code_from_a_bad_part_raises_invalid_naming_the_part(credit, level, basic, field):
    with pytest.raises(Invalid) as caught:
        codes.make_impl_code(credit, level, basic)
    assert caught.value.details["errors"][0]["path"] == f"/{field}"


@pytest.mark.parametrize("code", ["11450721MB155808124000104002000", "11450721MB155808118000104002000",
                                  "11450721MB15580811400010400200", None])
def test_impl_codes_with_a_bad_part_are_rejected(code):
    assert not codes.is_valid_impl_code(code)


def test_splitting_a_short_impl_code_raises_invalid():
    with pytest.raises(Invalid):
        codes.split_impl_code("11450721MB15580811")


# --- case numbers ----------------------------------------------------------------------------------

IMPL = "11450721MB155808114000104002000"


def test_case_number_is_impl_code_date_and_serial():
    case_no = codes.make_case_no(IMPL, datetime.date(2024, 3, 5), 7)
    assert case_no == IMPL + "20240305" + "0007"
    assert len(case_no) == 43 and codes.is_valid_case_no(case_no)


@pytest.mark.parametrize("serial", [0, 10000, -1, True, "7"])
def test_case_serial_out_of_range_raises_invalid(serial):
    with pytest.raises(Invalid):
        codes.make_case_no(IMPL, datetime.date(2024, 3, 5), serial)


def test_case_number_needs_a_valid_impl_code():
    with pytest.raises(Invalid):
        codes.make_case_no(IMPL[:-1], datetime.date(2024, 3, 5), 1)


@pytest.mark.parametrize("case_no", [IMPL + "202402300001", IMPL + "202403050000", IMPL + "20240305001",
                                     IMPL.replace("11", "12", 1) + "202403050001"])
def test_malformed_case_numbers_are_rejected(case_no):
    assert not codes.is_valid_case_no(case_no)


# --- ID numbers ------------------------------------------------------------------------------------

def test_published_id_number_sample_is_valid():
    assert codes.is_valid_id_number("11010519491231002X")
    assert codes.id_check_char("11010519491231002") == "X"


def test_id_number_with_wrong_check_character_is_rejected():
    wrong = [c for c in "0123456789X" if c != "X"]
    assert not any(codes.is_valid_id_number("11010519491231002" + c) for c in wrong)


@pytest.mark.parametrize("first17", ["44030419900101123", "51160220000229001", "41040219851231004"])
def test_id_numbers_with_computed_check_character_are_valid(first17):
    assert codes.is_valid_id_number(codes.make_id_number(first17))


@pytest.mark.parametrize("first17", ["44030419900230123", "44030418991231123", "44030419901301123"])
def test_id_number_with_impossible_birth_date_is_rejected(first17):
    assert not codes.is_valid_id_number(first17 + codes.id_check_char(first17))


def test_id_number_born_in_the_future_is_rejected_when_today_is_given():
    number = codes.make_id_number("44030420300101123")
    assert codes.is_valid_id_number(number)
    assert not codes.is_valid_id_number(number, today=datetime.date(2025, 1, 1))


def test_id_number_with_lower_case_x_or_wrong_length_is_rejected():
    assert not codes.is_valid_id_number("11010519491231002x")
    assert not codes.is_valid_id_number("1101051949123100")
    assert not codes.is_valid_id_number(None)


def test_making_an_id_number_from_a_bad_prefix_raises_invalid():
    with pytest.raises(Invalid):
        codes.make_id_number("1101051949123100X")


@given(st.sampled_from(sorted(codes.PROVINCE_PREFIXES)), st.integers(0, 9999),
       st.dates(datetime.date(1900, 1, 1), datetime.date(2099, 12, 31)), st.integers(0, 999))
def test_id_number_check_character_round_trips(province, district, born, seq):
    first17 = f"{province}{district:04d}{born:%Y%m%d}{seq:03d}"
    number = codes.make_id_number(first17)
    assert codes.is_valid_id_number(number)
    assert sum(not codes.is_valid_id_number(first17 + c) for c in "0123456789X") == 10


# --- masking ---------------------------------------------------------------------------------------

def test_id_number_is_masked_to_its_first_three_and_last_four_characters():
    assert codes.mask_id_number("11010519491231002X") == "110***********002X"


def test_phone_is_masked_to_its_first_three_and_last_four_digits():
    assert codes.mask_phone("13812345678") == "138****5678"


@pytest.mark.parametrize("short", ["", "1234567", "12345"])
def test_short_values_are_masked_entirely(short):
    assert codes.mask_phone(short) == "*" * len(short)
