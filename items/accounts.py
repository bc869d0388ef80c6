"""Staff accounts: argon2 password hashes, and bearer tokens kept in Redis so they expire and can be revoked,
one at a time (sign-out) or all of a user's at once when the account changes."""
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
_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = _hasher.hash("not-a-password")
TOKEN_PREFIX = "govhall:token:"
LOGIN_FAILURES = "govhall:login-failures:"
SESSION_GENERATION = "govhall:session-generation:"
MAX_LOGIN_FAILURES = 10


def _token_key(token: str) -> str:
    # Redis holds a digest, so a leaked Redis dump does not hand out live tokens.
    return TOKEN_PREFIX + hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    def __init__(self, kv, token_ttl: int):
        self.kv = kv
        self.token_ttl = token_ttl

    def create_user(self, username: str, password: str, role: str, org: str | None = None,
                    region: str | None = None) -> Actor:
        """Create or update a staff account (the CLI's create-user). Raises Invalid naming the field and rule.

        Updating an existing account ends its sessions: its role, scope or password may have changed.
        """
        errors = account_errors(role, org, region)
        if not username or len(username) > 64:
            errors.insert(0, {"path": "/username", "rule": "username_length", "message": "1 to 64 characters"})
        errors += password_errors(password)
        if errors:
            raise Invalid("the account is not valid", details={"errors": errors})
        if role in ROLES_NEEDING_ORG and org:
            org_record = store.get_org(org)
            region = region or (org_record.region_code if org_record else None)
        existed = store.get_user(username) is not None
        user = store.save_user(username, self.hash_password(password), role, org, region)
        if existed:
            self.end_sessions(username)
        return _actor(user)

    @staticmethod
    def hash_password(password: str) -> str:
        return _hasher.hash(password)

    @staticmethod
    def verify_password(password_hash: str, password: str) -> bool:
        try:
            return _hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def end_sessions(self, username: str) -> None:
        """Make every token issued to the user so far stop working, in every process at once.

        Tokens carry the user's session generation at issue; authenticate() compares it with the
        current one kept in Redis, so one INCR ends them all without finding each token.
        Callers run this after committing the change, so a sign-in racing it either reads the old
        generation (and its token dies here) or already reads the changed account.
        """
        self.kv.incr(_generation_key(username))

    def login(self, username: str, password: str) -> dict:
        """Check the password and issue a token → {token, expires_in, user}. Raises NotSignedIn."""
        failures_key = LOGIN_FAILURES + hashlib.sha256(username.encode()).hexdigest()
        failures = int(self.kv.get(failures_key) or 0)
        if failures >= MAX_LOGIN_FAILURES:
            raise RateLimited("too many failed sign-ins; try again in 15 minutes", code="too_many_attempts")
        # read before the account, so a change committed in between still ends this session
        generation = self._generation(username)
        user = store.get_user(username)
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
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
        if _hasher.check_needs_rehash(user.password_hash):
            store.set_password_hash(user, _hasher.hash(password))
        actor = _actor(user)
        return {"token": self.issue_token(actor, generation=generation), "expires_in": self.token_ttl, "user": actor.as_dict()}

    def issue_token(self, actor: Actor, ttl: int | None = None, generation: int | None = None) -> str:
        """A new bearer token for `actor`, valid `ttl` seconds (the staff token lifetime by default)."""
        token = secrets.token_urlsafe(32)
        payload = dict(actor.as_dict(), user_id=actor.user_id)
        if _has_sessions(actor.role, actor.user_id):
            payload["generation"] = self._generation(actor.username) if generation is None else generation
        self.kv.set(_token_key(token), json.dumps(payload), ex=ttl or self.token_ttl)
        return token

    def authenticate(self, token: str) -> Actor:
        """The actor a bearer token belongs to. Raises NotSignedIn when unknown, expired or revoked."""
        raw = self.kv.get(_token_key(token)) if token else None
        if not raw:
            raise NotSignedIn("the token is missing, expired or revoked", code="invalid_token")
        data = json.loads(raw)
        if _has_sessions(data["role"], data.get("user_id")) and \
                data.get("generation", 0) != self._generation(data["username"]):
            self.kv.delete(_token_key(token))
            raise NotSignedIn("the session ended because the account changed; sign in again", code="session_ended")
        return Actor(username=data["username"], role=data["role"], org=data.get("org"),
                     region=data.get("region"), user_id=data.get("user_id"))

    def revoke(self, token: str) -> None:
        self.kv.delete(_token_key(token))

    def _generation(self, username: str) -> int:
        return int(self.kv.get(_generation_key(username)) or 0)


def account_errors(role: str, org: str | None, region: str | None) -> list[dict]:
    """The rule violations of a role and its scope (org or region) as {path, rule, message}."""
    errors = []
    if role not in ROLES:
        errors.append({"path": "/role", "rule": "enum", "message": f"one of {', '.join(ROLES)}"})
    if role in ROLES_NEEDING_ORG:
        if not org or not codes.is_valid_credit_code(org):
            errors.append({"path": "/org", "rule": "credit_code", "message": f"{role} needs an org with a valid credit code"})
    if role in ROLES_NEEDING_REGION:
        if not region or not codes.is_valid_region_code(region):
            errors.append({"path": "/region", "rule": "region_code", "message": f"{role} needs a region with a GB/T 2260 code"})
    return errors


def password_errors(password: str, path: str = "/password") -> list[dict]:
    if not isinstance(password, str) or len(password) < 8:
        return [{"path": path, "rule": "password_length", "message": "at least 8 characters"}]
    if len(password) > 256:
        return [{"path": path, "rule": "password_length", "message": "at most 256 characters"}]
    return []


def _has_sessions(role: str, user_id: int | None) -> bool:
    # staff accounts only: citizens' hall tokens carry ids of another table (wechat/)
    return role != "citizen" and user_id is not None


def _generation_key(username: str) -> str:
    # by username, not id: sign-in reads it before it reads the account (see end_sessions)
    return SESSION_GENERATION + hashlib.sha256(username.encode()).hexdigest()


def _actor(user) -> Actor:
    return Actor(username=user.username, role=user.role, org=user.org, region=user.region, user_id=user.id)

