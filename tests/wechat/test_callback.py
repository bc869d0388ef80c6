"""The server callback's crypto against WeChat's published sample vectors, and against tampering."""
from __future__ import annotations

import base64
import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from wechatpy.crypto import WeChatCrypto

from items.errors import Forbidden, Malformed
from wechat.callback import decrypt_message, decrypt_open_data, verify_url


@pytest.fixture(scope="module")
def vectors(external) -> dict:
    return json.loads((external / "wechat-crypto-vectors" / "vectors.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def mp(vectors) -> dict:
    return vectors["mp_message_crypto"]


def encrypted_body(mp: dict) -> str:
    """The push as WeChat posts it in safe mode: the XML envelope around Encrypt."""
    return f"<xml><ToUserName><![CDATA[{mp['expected_plaintext_fields']['ToUserName']}]]></ToUserName>" \
           f"<Encrypt><![CDATA[{mp['encrypt']}]]></Encrypt></xml>"


def decrypt(mp: dict, body, *, msg_signature=None, appid=None, timestamp=None) -> dict:
    return decrypt_message(mp["token"], mp["encoding_aes_key"], appid or mp["appid"],
                           msg_signature or mp["msg_signature"], timestamp or mp["timestamp"],
                           mp["nonce"], body)


def sign(mp: dict, encrypt: str) -> str:
    """msg_signature as WeChat computes it: sha1 of the sorted token, timestamp, nonce and Encrypt."""
    parts = sorted([mp["token"], mp["timestamp"], mp["nonce"], encrypt])
    return hashlib.sha1("".join(parts).encode()).hexdigest()


# -- the URL handshake ----------------------------------------------------------------------------

def test_url_handshake_with_the_published_signature_returns_echostr(mp):
    signature = mp["url_verification_signature"]["signature"]

    assert verify_url(mp["token"], signature, mp["timestamp"], mp["nonce"], "echo-123") == "echo-123"


def test_url_handshake_with_a_wrong_signature_is_forbidden(mp):
    with pytest.raises(Forbidden) as caught:
        verify_url(mp["token"], "0" * 40, mp["timestamp"], mp["nonce"], "echo-123")

    assert caught.value.code == "bad_signature"


def test_url_handshake_with_another_token_is_forbidden(mp):
    signature = mp["url_verification_signature"]["signature"]

    with pytest.raises(Forbidden):
        verify_url("another-token", signature, mp["timestamp"], mp["nonce"], "echo-123")


def test_url_handshake_without_a_signature_is_forbidden(mp):
    with pytest.raises(Forbidden):
        verify_url(mp["token"], None, mp["timestamp"], mp["nonce"], "echo-123")


# -- safe-mode messages ---------------------------------------------------------------------------

def test_published_xml_message_decrypts_to_its_text(mp):
    message = decrypt(mp, encrypted_body(mp))

    assert message["Content"] == "abcdteT"
    assert message == mp["expected_plaintext_fields"]


def test_published_message_in_a_json_envelope_decrypts_too(mp):
    body = json.dumps({"ToUserName": "gh_10f6c3c3ac5a", "Encrypt": mp["encrypt"]}).encode()

    assert decrypt(mp, body)["Content"] == "abcdteT"


def test_message_with_a_wrong_signature_is_forbidden(mp):
    with pytest.raises(Forbidden) as caught:
        decrypt(mp, encrypted_body(mp), msg_signature="f" * 40)

    assert caught.value.code == "bad_signature"


def test_message_replayed_with_another_timestamp_is_forbidden(mp):
    with pytest.raises(Forbidden) as caught:
        decrypt(mp, encrypted_body(mp), timestamp="1409735670")

    assert caught.value.code == "bad_signature"


def test_message_for_another_app_is_forbidden(mp):
    with pytest.raises(Forbidden) as caught:
        decrypt(mp, encrypted_body(mp), appid="wx0000000000000000")

    assert caught.value.code == "wrong_appid"


@pytest.mark.parametrize("body", [
    b"", b"not xml at all", b"<xml><ToUserName>x</ToUserName></xml>", b"{\"Encrypt\": 5}",
    b"[1, 2]", b"\xff\xfe<xml/>", b"<xml><Encrypt>",
], ids=["empty", "text", "no_encrypt", "encrypt_not_text", "json_array", "not_utf8", "truncated"])
def test_unreadable_body_is_malformed(mp, body):
    with pytest.raises(Malformed) as caught:
        decrypt(mp, body)

    assert caught.value.code == "bad_message"


def test_body_with_a_dtd_is_refused_before_parsing(mp):
    body = ('<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "aaaaaaaaaa">]>'
            f"<xml><Encrypt>&a;</Encrypt></xml>")

    with pytest.raises(Malformed) as caught:
        decrypt(mp, body)

    assert caught.value.details["reason"] == "dtd_not_allowed"


def test_signed_ciphertext_that_does_not_decrypt_is_malformed(mp):
    garbage = "QUJDREVGR0g="  # valid base64, not a whole AES block

    with pytest.raises(Malformed) as caught:
        decrypt(mp, f"<xml><Encrypt>{garbage}</Encrypt></xml>", msg_signature=sign(mp, garbage))

    assert caught.value.code == "bad_message"
    assert caught.value.__context__ is None


def test_a_wrong_encoding_aes_key_is_a_configuration_error(mp):
    with pytest.raises(ValueError):
        decrypt_message(mp["token"], "too-short", mp["appid"], mp["msg_signature"], mp["timestamp"],
                        mp["nonce"], encrypted_body(mp))


@settings(max_examples=60, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=300))
def test_any_message_we_encrypt_decrypts_back(mp, text):
    crypto = WeChatCrypto(mp["token"], mp["encoding_aes_key"], mp["appid"])
    inner = json.dumps({"MsgType": "text", "Content": text}, ensure_ascii=False)
    envelope = crypto.encrypt_message(inner, nonce="n0nce", timestamp="1700000000")
    signature = envelope.split("<MsgSignature><![CDATA[")[1].split("]]>")[0]

    message = decrypt_message(mp["token"], mp["encoding_aes_key"], mp["appid"], signature,
                              "1700000000", "n0nce", envelope)

    assert message == {"MsgType": "text", "Content": text}


@settings(max_examples=100, deadline=None)
@given(body=st.binary(max_size=400) | st.text(max_size=400))
def test_arbitrary_bodies_fail_only_with_domain_errors(mp, body):
    with pytest.raises((Malformed, Forbidden)):
        decrypt(mp, body)


# -- mini-program open data -----------------------------------------------------------------------

def test_published_open_data_decrypts_to_the_openid(vectors):
    wxa = vectors["wxa_open_data"]

    data = decrypt_open_data(wxa["appid"], wxa["session_key"], wxa["encrypted_data"], wxa["iv"])

    assert data["openId"] == wxa["expected"]["openId"]
    assert data["watermark"] == wxa["expected"]["watermark"]


def test_open_data_issued_to_another_app_is_forbidden(vectors):
    wxa = vectors["wxa_open_data"]

    with pytest.raises(Forbidden) as caught:
        decrypt_open_data("wx0000000000000000", wxa["session_key"], wxa["encrypted_data"], wxa["iv"])

    assert caught.value.code == "wrong_appid"


@pytest.mark.parametrize("change", ["session_key", "iv", "encrypted_data"])
def test_open_data_with_a_wrong_key_iv_or_ciphertext_is_malformed(vectors, change):
    wxa = dict(vectors["wxa_open_data"])
    wxa[change] = {"session_key": "AAAAAAAAAAAAAAAAAAAAAA==", "iv": "AAAAAAAAAAAAAAAAAAAAAA==",
                   "encrypted_data": "bm90IGEgY2lwaGVydGV4dA=="}[change]

    with pytest.raises(Malformed) as caught:
        decrypt_open_data(wxa["appid"], wxa["session_key"], wxa["encrypted_data"], wxa["iv"])

    assert caught.value.code == "bad_open_data"
    assert caught.value.__context__ is None


@settings(max_examples=100, deadline=None)
@given(key=st.binary(max_size=40), iv=st.binary(max_size=20), data=st.binary(max_size=200))
def test_arbitrary_open_data_fails_only_with_domain_errors(vectors, key, iv, data):
    appid = vectors["wxa_open_data"]["appid"]
    encode = lambda raw: base64.b64encode(raw).decode()  # noqa: E731

    with pytest.raises((Malformed, Forbidden)):
        decrypt_open_data(appid, encode(key), encode(data), encode(iv))
