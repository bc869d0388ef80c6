"""Applicants' ID numbers at rest: encryption, blind indexes, the last-6 second factor."""
from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from items.codes import make_id_number, mask_id_number
from items.errors import DomainError, Invalid, Unavailable
from wechat.identity import TOKEN_PREFIX, IdCipher

KEY = "test-secret-key-0123456789abcdef"
OTHER_KEY = "another-test-secret-key-fedcba9876"
CASE_NO = "11410402MB1234567X400010400200020260302" + "0001"
# Invented numbers with valid GB 11643 check characters (made by items.codes, not real people).
ID_NUMBER = make_id_number("41040219900101123")
ID_NUMBER_X = next(n for n in (make_id_number(f"4104021990010112{i}") for i in range(10)) if n.endswith("X"))


@pytest.fixture
def cipher() -> IdCipher:
    return IdCipher(KEY)


def test_an_id_number_round_trips(cipher):
    assert cipher.decrypt(cipher.encrypt(ID_NUMBER)) == ID_NUMBER


def test_the_same_number_encrypts_differently_every_time(cipher):
    first, second = cipher.encrypt(ID_NUMBER), cipher.encrypt(ID_NUMBER)
    assert first != second
    assert first.startswith(TOKEN_PREFIX) and second.startswith(TOKEN_PREFIX)
    assert ID_NUMBER not in first and ID_NUMBER[-6:] not in first


def test_a_wrong_key_fails_with_a_clear_domain_error(cipher):
    token = cipher.encrypt(ID_NUMBER)
    with pytest.raises(Unavailable) as caught:
        IdCipher(OTHER_KEY).decrypt(token)
    assert isinstance(caught.value, DomainError)
    assert caught.value.code == "id_decryption_failed"
    assert caught.value.details == {"reason": "wrong_key_or_tampered"}
    assert ID_NUMBER not in str(caught.value)


def test_a_tampered_token_does_not_decrypt(cipher):
    token = cipher.encrypt(ID_NUMBER)
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(Unavailable) as caught:
        cipher.decrypt(flipped)
    assert caught.value.details["reason"] == "wrong_key_or_tampered"


@pytest.mark.parametrize(("token", "reason"), [
    (ID_NUMBER, "unknown_format"), ("v2.abcdef", "unknown_format"), (None, "unknown_format"),
    ("v1.", "malformed"), ("v1.!!!*", "malformed"), ("v1.AAAA", "malformed"),
])
def test_a_token_that_is_not_ours_says_why(cipher, token, reason):
    with pytest.raises(Unavailable) as caught:
        cipher.decrypt(token)
    assert caught.value.details["reason"] == reason


def test_a_token_is_bound_to_its_field(cipher):
    token = cipher.encrypt(ID_NUMBER)
    with pytest.raises(Unavailable):
        cipher.decrypt(token, field="phone")
    phone_token = cipher.encrypt("13800138000", field="phone")
    assert cipher.decrypt(phone_token, field="phone") == "13800138000"


@pytest.mark.parametrize("plain", ["", "   ", None, 410402])
def test_nothing_to_encrypt_is_invalid(cipher, plain):
    with pytest.raises(Invalid) as caught:
        cipher.encrypt(plain)
    assert caught.value.code == "plaintext_required"


@pytest.mark.parametrize("secret", ["", "short", None])
def test_a_short_or_missing_secret_key_is_refused(secret):
    with pytest.raises(Invalid) as caught:
        IdCipher(secret)
    assert caught.value.code == "secret_key_too_short"


def test_the_cipher_never_shows_its_keys(cipher):
    assert KEY not in repr(cipher)
    assert repr(cipher) == "IdCipher(old_keys=0)"


# --- blind index ------------------------------------------------------------------------------------

def test_the_blind_index_is_stable_across_instances_with_the_same_key(cipher):
    index = cipher.blind_index(ID_NUMBER)
    assert IdCipher(KEY).blind_index(ID_NUMBER) == index
    assert len(index) == 64 and ID_NUMBER not in index


def test_the_blind_index_depends_on_the_key_and_the_field(cipher):
    assert IdCipher(OTHER_KEY).blind_index(ID_NUMBER) != cipher.blind_index(ID_NUMBER)
    assert cipher.blind_index(ID_NUMBER, field="phone") != cipher.blind_index(ID_NUMBER)
    assert cipher.blind_index(ID_NUMBER) != cipher.blind_index(make_id_number("41040219900101124"))


def test_the_blind_index_ignores_the_case_of_x_and_surrounding_spaces(cipher):
    assert cipher.blind_index(f" {ID_NUMBER_X.lower()} ") == cipher.blind_index(ID_NUMBER_X)


# --- last six characters as second factor ------------------------------------------------------------

def test_the_last_six_characters_match_their_digest(cipher):
    stored = cipher.last6_digest(ID_NUMBER, case_no=CASE_NO)
    assert cipher.last6_matches(stored, ID_NUMBER[-6:], case_no=CASE_NO)
    assert ID_NUMBER[-6:] not in stored


def test_a_lower_case_x_matches_the_stored_last_six(cipher):
    stored = cipher.last6_digest(ID_NUMBER_X, case_no=CASE_NO)
    assert cipher.last6_matches(stored, ID_NUMBER_X[-6:].lower(), case_no=CASE_NO)


@pytest.mark.parametrize("typed", ["000000", "12345", "1234567", "", None])
def test_wrong_last_six_characters_do_not_match(cipher, typed):
    stored = cipher.last6_digest(ID_NUMBER, case_no=CASE_NO)
    assert typed != ID_NUMBER[-6:]
    assert not cipher.last6_matches(stored, typed, case_no=CASE_NO)


def test_the_last_six_digest_is_bound_to_its_case(cipher):
    stored = cipher.last6_digest(ID_NUMBER, case_no=CASE_NO)
    other_case = CASE_NO[:-1] + "2"
    assert cipher.last6_digest(ID_NUMBER, case_no=other_case) != stored
    assert not cipher.last6_matches(stored, ID_NUMBER[-6:], case_no=other_case)


# --- key rotation -----------------------------------------------------------------------------------

def test_after_a_key_rotation_old_tokens_and_digests_still_work():
    old = IdCipher(OTHER_KEY)
    token = old.encrypt(ID_NUMBER)
    digest = old.last6_digest(ID_NUMBER, case_no=CASE_NO)
    rotated = IdCipher(KEY, old_secret_keys=[OTHER_KEY])
    assert rotated.decrypt(token) == ID_NUMBER
    assert rotated.needs_rewrite(token)
    assert not rotated.needs_rewrite(rotated.encrypt(ID_NUMBER))
    assert rotated.last6_matches(digest, ID_NUMBER[-6:], case_no=CASE_NO)
    assert rotated.blind_indexes(ID_NUMBER) == [IdCipher(KEY).blind_index(ID_NUMBER), old.blind_index(ID_NUMBER)]


# --- what a case stores -----------------------------------------------------------------------------

def test_protect_gives_a_case_everything_but_the_number(cipher):
    protected = cipher.protect(ID_NUMBER_X.lower(), case_no=CASE_NO)
    assert cipher.decrypt(protected.token) == ID_NUMBER_X
    assert protected.index == cipher.blind_index(ID_NUMBER_X)
    assert cipher.last6_matches(protected.last6, ID_NUMBER_X[-6:], case_no=CASE_NO)
    assert protected.masked == mask_id_number(ID_NUMBER_X)
    assert ID_NUMBER_X not in repr(protected)


def test_protect_refuses_a_number_with_a_wrong_check_character(cipher):
    wrong = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    with pytest.raises(Invalid) as caught:
        cipher.protect(wrong, case_no=CASE_NO)
    assert caught.value.code == "id_number_invalid"
    assert [(e["path"], e["rule"]) for e in caught.value.details["errors"]] == [("/applicant/id_number", "gb11643")]


# --- properties ---------------------------------------------------------------------------------------

SHARED = IdCipher(KEY)


@settings(max_examples=100)
@given(plain=st.text(min_size=1, max_size=60).filter(str.strip))
def test_any_text_round_trips(plain):
    assert SHARED.decrypt(SHARED.encrypt(plain, field="note"), field="note") == plain


@settings(max_examples=100)
@given(birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)), seq=st.integers(min_value=0, max_value=999))
def test_generated_id_numbers_round_trip_and_index_stably(birth, seq):
    number = make_id_number(f"410402{birth:%Y%m%d}{seq:03d}")
    assert SHARED.decrypt(SHARED.encrypt(number)) == number
    assert SHARED.blind_index(number) == SHARED.blind_index(number.lower())
