"""Staff accounts: argon2 password hashes, and bearer tokens kept in Redis so they expire and can be revoked."""
from __future__ import annotations

import hashlib
import json
import logging
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from items import codes
from items.errors import Invalid, NotSignedIn, RateLimited
from items import store
from items.scope import ROLES, ROLES_NEEDING_ORG, ROLES_NEEDING_REGION, Actor

logger = logging.getLogger(__name__)
TOKEN_PREFIX = "govhall:token:"
LOGIN_FAILURES = "govhall:login-failures:"
MAX_LOGIN_FAILURES = 10


def _token_key(token: str) -> str:
    # Redis holds a digest, so a leaked Redis dump does not hand out live tokens.
    return TOKEN_PREFIX + hashlib.sha256(token.encode()).hexdigest()


def password_hasher(time_cost: int = 3, memory_kib: int = 65536) -> PasswordHasher:
    """An argon2id hasher of the given cost (the defaults are argon2-cffi's own)."""
    parallelism = min(4, max(1, memory_kib // 8))  # argon2 needs at least 8 KiB per lane
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism)


class AccountService:
    def __init__(self, kv, token_ttl: int, hasher: PasswordHasher | None = None):
        self.kv = kv
        self.token_ttl = token_ttl
        self._hasher = hasher or password_hasher()
        # A hash to verify against when the user does not exist, so timing does not reveal usernames.
        self._dummy_hash = self._hasher.hash("not-a-password")

    def create_user(self, username: str, password: str, role: str, org: str | None = None,
                    region: str | None = None) -> Actor:
        """Create or update a staff account. Raises Invalid naming the field and rule."""
        errors = []
        if not username or len(username) > 64:
            errors.append({"path": "/username", "rule": "username_length", "message": "1 to 64 characters"})
        if role not in ROLES:
            errors.append({"path": "/role", "rule": "enum", "message": f"one of {', '.join(ROLES)}"})
        if len(password or "") < 8:
            errors.append({"path": "/password", "rule": "password_length", "message": "at least 8 characters"})
        if role in ROLES_NEEDING_ORG:
            if not org or not codes.is_valid_credit_code(org):
                errors.append({"path": "/org", "rule": "credit_code", "message": f"{role} needs --org with a valid credit code"})
        if role in ROLES_NEEDING_REGION:
            if not region or not codes.is_valid_region_code(region):
                errors.append({"path": "/region", "rule": "region_code", "message": f"{role} needs --region with a GB/T 2260 code"})
        if errors:
            raise Invalid("the account is not valid", details={"errors": errors})
        if role in ROLES_NEEDING_ORG and org:
            org_record = store.get_org(org)
            region = region or (org_record.region_code if org_record else None)
        user = store.save_user(username, self._hasher.hash(password), role, org, region)
        return _actor(user)

    def login(self, username: str, password: str) -> dict:
        """Check the password and issue a token → {token, expires_in, user}. Raises NotSignedIn."""
        failures_key = LOGIN_FAILURES + hashlib.sha256(username.encode()).hexdigest()
        failures = int(self.kv.get(failures_key) or 0)
        if failures >= MAX_LOGIN_FAILURES:
            raise RateLimited("too many failed sign-ins; try again in 15 minutes", code="too_many_attempts")
        user = store.get_user(username)
        try:
            self._hasher.verify(user.password_hash if user else self._dummy_hash, password)
            ok = user is not None and user.active
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            ok = False
        if not ok:
            pipe = self.kv.pipeline()
            pipe.incr(failures_key)
            pipe.expire(failures_key, 900)
            pipe.execute()
            raise NotSignedIn("wrong username or password", code="bad_credentials")
        self.kv.delete(failures_key)
        if self._hasher.check_needs_rehash(user.password_hash):
            store.set_password_hash(user, self._hasher.hash(password))
        actor = _actor(user)
        return {"token": self.issue_token(actor), "expires_in": self.token_ttl, "user": actor.as_dict()}

    def issue_token(self, actor: Actor, ttl: int | None = None) -> str:
        token = secrets.token_urlsafe(32)
        payload = dict(actor.as_dict(), user_id=actor.user_id)
        self.kv.set(_token_key(token), json.dumps(payload), ex=ttl or self.token_ttl)
        return token

    def authenticate(self, token: str) -> Actor:
        """The actor a bearer token belongs to. Raises NotSignedIn when unknown, expired or revoked."""
        raw = self.kv.get(_token_key(token)) if token else None
        if not raw:
            raise NotSignedIn("the token is missing, expired or revoked", code="invalid_token")
        data = json.loads(raw)
        return Actor(username=data["username"], role=data["role"], org=data.get("org"),
                     region=data.get("region"), user_id=data.get("user_id"))

    def revoke(self, token: str) -> None:
        self.kv.delete(_token_key(token))


def _actor(user) -> Actor:
    return Actor(username=user.username, role=user.role, org=user.org, region=user.region, user_id=user.id)

