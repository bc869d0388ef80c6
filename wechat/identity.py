"""Applicants' identity data at rest: ID numbers encrypted with AES-GCM, blind indexes, second-factor digests.

Three keys are derived from GOVHALL_SECRET_KEY with HKDF-SHA256, one per purpose (fixed info labels),
so a leaked lookup key reveals nothing about the encryption key and vice versa:

- encryption: AES-256-GCM, a random 96-bit nonce per value, the field name as associated data (an
  ID-number token cannot be replayed as a phone token). Tokens read `v1.<base64url(nonce‖ciphertext)>`;
  the prefix names the format so a later format can be read beside this one.
- blind index: HMAC-SHA256 of the normalised value, so cases are found by ID number without
  decrypting anything (an equality lookup on a stored column).
- last-6 digest: HMAC-SHA256 of the ID number's last six characters bound to the case number, the
  second factor of a progress lookup (DOMAIN.md §5). The space is only ~10⁶, so the handler must
  rate-limit attempts per case and per client; the HMAC keeps the stored digest useless without the key.

When the secret key is rotated, pass the former keys as `old_secret_keys`: tokens still decrypt,
`blind_indexes` yields the index under every key for lookups, and `needs_rewrite` tells which stored
values to re-encrypt. Nothing here logs or puts a plaintext into an error.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from items.codes import is_valid_id_number, mask_id_number
from items.errors import Unavailable, invalid

TOKEN_PREFIX = "v1."
MIN_SECRET_LENGTH = 16
_NONCE_BYTES = 12
_INFO_ENCRYPT = b"govhall identity v1: aes-256-gcm encryption"
_INFO_INDEX = b"govhall identity v1: blind index"
_INFO_LAST6 = b"govhall identity v1: last-6 second factor"


@dataclass(frozen=True)
class _Keys:
    aead: AESGCM
    index: bytes
    last6: bytes


def _derive(secret_key: str) -> _Keys:
    def hkdf(info: bytes) -> bytes:
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret_key.encode("utf-8"))

    return _Keys(aead=AESGCM(hkdf(_INFO_ENCRYPT)), index=hkdf(_INFO_INDEX), last6=hkdf(_INFO_LAST6))


def _check_secret(secret_key: object, name: str) -> None:
    if not isinstance(secret_key, str) or len(secret_key) < MIN_SECRET_LENGTH:
        raise invalid(f"the secret key must be a string of at least {MIN_SECRET_LENGTH} characters",
                      f"/{name}", "min_length", code="secret_key_too_short", min_length=MIN_SECRET_LENGTH)


def _check_text(value: object, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise invalid(f"{field} must be non-empty text", f"/{field}", "required", code="plaintext_required")
    return value


def _normalise(value: str) -> str:
    # ID numbers end in X or x as typed; lookups must not depend on the case the citizen used
    return value.strip().upper()


def _failed(reason: str) -> Unavailable:
    # The server cannot read its own data: a wrong or rotated GOVHALL_SECRET_KEY, or a damaged token.
    # Nothing the client sent can fix it, so it is not a 4xx; it is fixed by configuration.
    return Unavailable("a stored identity value could not be decrypted", code="id_decryption_failed",
                       details={"reason": reason})


@dataclass(frozen=True)
class ProtectedIdNumber:
    """What a case stores about an ID number instead of the number itself."""

    token: str  # encrypt(): the only way back to the number
    index: str  # blind_index(): find the applicant's cases
    last6: str  # last6_digest(): second factor of a progress lookup
    masked: str  # what pages show: items.codes.mask_id_number


class IdCipher:
    """Encrypts, indexes and checks applicants' ID numbers (and other personal fields) with one secret."""

    def __init__(self, secret_key: str, *, old_secret_keys: Sequence[str] = ()):
        """Raises Invalid (secret_key_too_short) for a missing or short key."""
        _check_secret(secret_key, "secret_key")
        for index, old in enumerate(old_secret_keys):
            _check_secret(old, f"old_secret_keys/{index}")
        self._current = _derive(secret_key)
        self._old = tuple(_derive(old) for old in old_secret_keys)

    def __repr__(self) -> str:
        return f"IdCipher(old_keys={len(self._old)})"

    # --- encryption --------------------------------------------------------------------------

    def encrypt(self, plain: str, *, field: str = "id_number") -> str:
        """Return a token for `plain`, different on every call. Raises Invalid (plaintext_required)."""
        _check_text(plain, field)
        nonce = secrets.token_bytes(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, plain.encode("utf-8"), _aad(field))
        return TOKEN_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")

    def decrypt(self, token: str, *, field: str = "id_number") -> str:
        """Return the plaintext sealed in `token` for `field`.

        Raises Unavailable (code id_decryption_failed, details reason ∈ unknown_format | malformed |
        wrong_key_or_tampered) when the token cannot be read with the current or any old key.
        """
        raw = self._unwrap(token)
        for keys in (self._current, *self._old):
            try:
                return keys.aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(field)).decode("utf-8")
            except InvalidTag:
                continue
        raise _failed("wrong_key_or_tampered")

    def needs_rewrite(self, token: str, *, field: str = "id_number") -> bool:
        """Return True when `token` opens only with an old key and should be re-encrypted.

        Raises Unavailable (id_decryption_failed) when no key opens it.
        """
        raw = self._unwrap(token)
        try:
            self._current.aead.decrypt(raw[:_NONCE_BYTES], raw[_NONCE_BYTES:], _aad(field))
            return False
        except InvalidTag:
            self.decrypt(token, field=field)
            return True

    @staticmethod
    def _unwrap(token: object) -> bytes:
        if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
            raise _failed("unknown_format")
        body = token[len(TOKEN_PREFIX):]
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise _failed("malformed") from None
        if len(raw) < _NONCE_BYTES + 16:  # nonce + GCM tag at least
            raise _failed("malformed")
        return raw

    # --- lookups without decrypting ----------------------------------------------------------

    def blind_index(self, plain: str, *, field: str = "id_number") -> str:
        """Return a stable hex HMAC of the normalised value for equality lookups under the current key.

        Raises Invalid (plaintext_required).
        """
        _check_text(plain, field)
        return _index(self._current.index, field, _normalise(plain))

    def blind_indexes(self, plain: str, *, field: str = "id_number") -> list[str]:
        """Return the blind index under the current key, then under each old key (during rotation)."""
        _check_text(plain, field)
        value = _normalise(plain)
        return [_index(keys.index, field, value) for keys in (self._current, *self._old)]

    def last6_digest(self, id_number: str, *, case_no: str) -> str:
        """Return the digest of the ID number's last six characters, bound to `case_no`.

        Binding to the case keeps equal endings on different cases from showing as equal digests.
        Raises Invalid (plaintext_required) for an empty ID number or case number.
        """
        _check_text(id_number, "id_number")
        _check_text(case_no, "case_no")
        return _last6(self._current.last6, case_no, _normalise(id_number)[-6:])

    def last6_matches(self, stored: str, candidate: str, *, case_no: str) -> bool:
        """Return True when `candidate` (the six characters the citizen typed) matches `stored`.

        Compares in constant time; never raises on a wrong or malformed candidate. Digests made under
        an old key still match during a rotation.
        """
        if not isinstance(stored, str) or not isinstance(candidate, str) or not isinstance(case_no, str):
            return False
        typed = _normalise(candidate)
        # compute every digest before deciding, so the time taken does not depend on the answer
        results = [hmac.compare_digest(stored, _last6(keys.last6, case_no, typed))
                   for keys in (self._current, *self._old)]
        return len(typed) == 6 and any(results)

    # --- the bundle a case stores ------------------------------------------------------------

    def protect(self, id_number: str, *, case_no: str) -> ProtectedIdNumber:
        """Return what a case stores for an applicant's ID number: token, index, last-6 digest, mask.

        Raises Invalid (code id_number_invalid, field applicant.id_number, rule gb11643) when the
        number fails the GB 11643 checks of items.codes.
        """
        value = _normalise(_check_text(id_number, "applicant.id_number"))
        if not is_valid_id_number(value):
            raise invalid("the ID number is not a valid resident ID number",
                          "/applicant/id_number", "gb11643", code="id_number_invalid")
        return ProtectedIdNumber(token=self.encrypt(value), index=self.blind_index(value),
                                 last6=self.last6_digest(value, case_no=case_no), masked=mask_id_number(value))


def _aad(field: str) -> bytes:
    return b"govhall:" + field.encode("utf-8")


def _index(key: bytes, field: str, value: str) -> str:
    return hmac.new(key, f"{field}\x00{value}".encode(), hashlib.sha256).hexdigest()


def _last6(key: bytes, case_no: str, last6: str) -> str:
    return hmac.new(key, f"{case_no}\x00{last6}".encode(), hashlib.sha256).hexdigest()
