"""The server callback's crypto: the URL handshake, safe-mode message decryption and mini-program open data."""
from __future__ import annotations

import base64
import binascii
import json
import struct
import xml.etree.ElementTree as ElementTree
from typing import Any

from wechatpy.crypto import WeChatCrypto, WeChatWxaCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.utils import check_signature

from items.errors import Forbidden, Malformed, invalid

# What a corrupt ciphertext, key, padding or payload raises inside wechatpy, cryptography and the parsers.
_UNREADABLE = (ValueError, TypeError, KeyError, IndexError, struct.error, UnicodeError,
               binascii.Error, ElementTree.ParseError)


def verify_url(token: str, signature: str, timestamp: str, nonce: str, echostr: str) -> str:
    """The plain-mode URL handshake (GET /wechat/callback): returns echostr, to be written back as is.

    Raises Forbidden(bad_signature) unless signature = sha1(sorted[token, timestamp, nonce]).
    """
    try:
        check_signature(token, signature or "", timestamp or "", nonce or "")
    except InvalidSignatureException:
        raise invalid("the callback signature does not match", "signature", "sha1_of_token_timestamp_nonce",
                      code="bad_signature", kind=Forbidden) from None
    return echostr


def decrypt_message(token: str, encoding_aes_key: str, appid: str, msg_signature: str,
                    timestamp: str, nonce: str, body: str | bytes) -> dict:
    """Verify and decrypt one safe-mode push (XML or JSON body with an `Encrypt` field).

    Returns the decrypted message as a flat dict (XML elements or JSON keys → values).
    Raises Forbidden(bad_signature) when msg_signature does not match, Forbidden(wrong_appid) when
    the message was encrypted for another app, Malformed(bad_message) when the body or the
    ciphertext cannot be read. A wrong encoding_aes_key (a configuration error) raises ValueError.
    """
    crypto = _message_crypto(token, encoding_aes_key, appid)
    envelope = _parse_payload(body, what="body")
    encrypt = envelope.get("Encrypt")
    if not isinstance(encrypt, str) or not encrypt:
        raise invalid("the callback body has no Encrypt field",
                      "/Encrypt", "required", code="bad_message", kind=Malformed)
    failure = None
    try:
        plaintext = crypto.decrypt_message({"Encrypt": encrypt}, msg_signature or "",
                                           timestamp or "", nonce or "")
    except InvalidSignatureException:
        failure = invalid("the callback signature does not match", "msg_signature",
                          "sha1_of_token_timestamp_nonce_encrypt", code="bad_signature", kind=Forbidden)
    except InvalidAppIdException:
        failure = invalid("the message was encrypted for another app", "/Encrypt", "appid_matches",
                          code="wrong_appid", kind=Forbidden)
    except _UNREADABLE as exc:
        failure = _bad_message("Encrypt", type(exc).__name__)
    if failure is not None:
        raise failure
    return _parse_payload(plaintext, what="Encrypt")


def decrypt_open_data(appid: str, session_key: str, encrypted_data: str, iv: str) -> dict:
    """Decrypt mini-program open data (e.g. wx.getUserInfo, phone number) with the user's session_key.

    Returns the decrypted JSON object. Raises Forbidden(wrong_appid) when its watermark names another
    app, Malformed(bad_open_data) when it cannot be decrypted or read.
    """
    failure = None
    try:
        data = WeChatWxaCrypto(session_key, iv, appid).decrypt_message(encrypted_data)
    except InvalidAppIdException:
        failure = invalid("the open data was issued to another app", "/watermark/appid", "appid_matches",
                          code="wrong_appid", kind=Forbidden)
    except _UNREADABLE as exc:
        failure = invalid("the open data cannot be decrypted",
                          "/encrypted_data", "decryptable", code="bad_open_data", kind=Malformed, reason=type(exc).__name__)
    if failure is not None:
        # Raised outside the except block: no chained exception carries key material.
        raise failure
    if not isinstance(data, dict):
        raise invalid("the open data is not a JSON object",
                      "/encrypted_data", "json_object", code="bad_open_data", kind=Malformed)
    return data


def _message_crypto(token: str, encoding_aes_key: str, appid: str) -> WeChatCrypto:
    # The EncodingAESKey is 43 base64 characters without the trailing '=' (32 bytes of AES-256 key).
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except (binascii.Error, TypeError):
        key = b""
    if len(key) != 32:
        raise ValueError("encoding_aes_key must be 43 base64 characters (an AES-256 key)")
    return WeChatCrypto(token, encoding_aes_key, appid)


def _parse_payload(payload: str | bytes, *, what: str) -> dict:
    """A callback payload as a dict: WeChat sends XML, or JSON when the mini-program chose JSON."""
    if isinstance(payload, bytes):
        try:
            payload = payload.decode("utf-8")
        except UnicodeDecodeError:
            raise _bad_message(what, "not_utf8") from None
    text = payload.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            raise _bad_message(what, "not_json") from None
        if not isinstance(value, dict):
            raise _bad_message(what, "not_an_object")
        return value
    # WeChat never sends a DTD; refusing one rules out entity expansion attacks outright.
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise _bad_message(what, "dtd_not_allowed")
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError:
        raise _bad_message(what, "not_xml") from None
    return _element_to_dict(root)


def _element_to_dict(element: ElementTree.Element) -> dict[str, Any]:
    # Leaves become text (CDATA included); nested elements (e.g. ScanCodeInfo events) become dicts.
    out: dict[str, Any] = {}
    for child in element:
        out[child.tag] = _element_to_dict(child) if len(child) else (child.text or "")
    return out


def _bad_message(field: str, reason: str) -> Malformed:
    return invalid("the callback message cannot be read",
                   f"/{field}", "decryptable", code="bad_message", kind=Malformed, reason=reason)
