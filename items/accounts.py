"""Staff accounts: argon2 password hashes, and bearer tokens kept in Redis so they expire and can be revoked,
one at a time (sign-out) or all of a user's at once when the account changes."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import secrets

from items import codes
from items.errors import NotSignedIn, invalid_all, rule_error
from items import store
from items.login_throttle import LoginThrottle
from items.passwords import Passwords
from items.scope import ROLES, ROLES_NEEDING_ORG, ROLES_NEEDING_REGION, Actor

logger = logging.getLogger(__name__)
TOKEN_PREFIX = "govhall:token:"
SESSION_GENERATION = "govhall:session-generation:"


@dataclasses.dataclass(frozen=True)
class LoginAttempt:
    """One sign-in between its steps: who asks, from where, the session generation read before the
    account, and the stored hash to check (None: no usable account, checked against a dummy hash so
    the answer takes as long)."""
    username: str
    remote_ip: str
    user_id: int | None
    password_hash: str | None
    generation: int = 0


def _token_key(token: str) -> str:
    # Redis holds a digest, so a leaked Redis dump does not hand out live tokens.
    return TOKEN_PREFIX + hashlib.sha256(token.encode()).hexdigest()


class AccountService:
    def __init__(self, kv, token_ttl: int, passwords: Passwords | None = None):
        self.kv = kv
        self.token_ttl = token_ttl
        self.passwords = passwords or Passwords()
        self.throttle = LoginThrottle(kv)

    def create_user(self, username: str, password: str, role: str, org: str | None = None,
                    region: str | None = None) -> Actor:
        """Create or update a staff account (the CLI's create-user). Raises Invalid naming the field and rule.

        Updating an existing account ends its sessions: its role, scope or password may have changed.
        """
        errors = account_errors(role, org, region)
        if not username or len(username) > 64:
            errors.insert(0, rule_error("/username", "username_length", "1 to 64 characters"))
        errors += password_errors(password)
        if errors:
            raise invalid_all("the account is not valid", errors)
        if role in ROLES_NEEDING_ORG and org:
            org_record = store.get_org(org)
            region = region or (org_record.region_code if org_record else None)
        existed = store.get_user(username) is not None
        user = store.save_user(username, self.hash_password(password), role, org, region)
        if existed:
            self.end_sessions(username)
        return _actor(user)

    def hash_password(self, password: str) -> str:
        return self.passwords.hash(password)

    def verify_password(self, password_hash: str, password: str) -> bool:
        return self.passwords.verify(password_hash, password)[0]

    def end_sessions(self, username: str) -> None:
        """Make every token issued to the user so far stop working, in every process at once.

        Tokens carry the user's session generation at issue; authenticate() compares it with the
        current one kept in Redis, so one INCR ends them all without finding each token.
        Callers run this after committing the change, so a sign-in racing it either reads the old
        generation (and its token dies here) or already reads the changed account.
        """
        self.kv.incr(_generation_key(username))

    def login(self, username: str, password: str, remote_ip: str = "") -> dict:
        """Check the password and issue a token → {token, expires_in, user}, all three steps in this
        thread (the CLI and tests; the HTTP handler runs the hashing step on the hashing pool).
        Raises what the steps raise."""
        attempt = self.begin_login(username, remote_ip)
        return self.finish_login(attempt, *self.passwords.verify(attempt.password_hash, password))

    def begin_login(self, username: str, remote_ip: str = "") -> LoginAttempt:
        """Step 1: refuse a throttled client, load the account → LoginAttempt. Raises RateLimited
        (too_many_attempts, details.retry_after_seconds) while this client must wait."""
        self.throttle.check(remote_ip, username)
        # read before the account, so a change committed in between still ends this session
        generation = self._generation(username)
        user = store.get_user(username)
        usable = user is not None and user.active
        return LoginAttempt(username, remote_ip, user.id if usable else None,
                            user.password_hash if usable else None, generation)

    def finish_login(self, attempt: LoginAttempt, ok: bool, new_hash: str | None = None) -> dict:
        """Step 3, after `passwords.verify`: count a failure (NotSignedIn bad_credentials) or issue a
        token → {token, expires_in, user}, storing `new_hash` when the cost setting changed."""
        user = store.get_user(attempt.username) if ok else None
        if user is None or not user.active or user.id != attempt.user_id:
            self.throttle.failed(attempt.remote_ip, attempt.username)
            raise NotSignedIn("wrong username or password", code="bad_credentials")
        self.throttle.succeeded(attempt.remote_ip, attempt.username)
        if new_hash:
            store.set_password_hash(user, new_hash)
        actor = _actor(user)
        return {"token": self.issue_token(actor, generation=attempt.generation), "expires_in": self.token_ttl, "user": actor.as_dict()}

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

    def close(self) -> None:
        self.passwords.close()

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

