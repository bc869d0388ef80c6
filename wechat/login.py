"""Hall login: a wx.login code exchanged through the gateway for our own expiring citizen token."""
from __future__ import annotations

import hashlib
import logging

from items.errors import Malformed, RateLimited, invalid

logger = logging.getLogger(__name__)

SESSION_KEY_PREFIX = "govhall:hall-session-key:"
LOGIN_ATTEMPTS_PREFIX = "govhall:hall-login-attempts:"
MAX_CODE_CHARS = 128  # wx.login codes are 32 characters; anything far longer is not one
# Every login costs one WeChat call against the app's daily quota: bound what one client can spend.
LOGIN_WINDOW_SECONDS = 60
MAX_LOGINS_PER_WINDOW = 30


def check_code(code: object) -> str:
    """Return the wx.login code. Raises Malformed invalid_wechat_code when it is not a plausible one."""
    if not isinstance(code, str) or not code.strip() or len(code) > MAX_CODE_CHARS:
        raise invalid("send the code from wx.login",
                      "/code", f"text:1..{MAX_CODE_CHARS}", code="invalid_wechat_code", kind=Malformed)
    return code.strip()


def _count_attempt(kv, client: str) -> None:
    # The client address is hashed: the key-value store holds no addresses.
    key = LOGIN_ATTEMPTS_PREFIX + hashlib.sha256(client.encode()).hexdigest()[:32]
    pipe = kv.pipeline()
    pipe.incr(key)
    pipe.expire(key, LOGIN_WINDOW_SECONDS)
    attempts = pipe.execute()[0]
    if int(attempts) > MAX_LOGINS_PER_WINDOW:
        raise RateLimited("too many sign-ins from this client; try again in a minute",
                          code="too_many_logins", details={"window_seconds": LOGIN_WINDOW_SECONDS})


def login(code: object, gateway, hall, kv, client: str = "") -> dict:
    """Sign a citizen in with a wx.login code → {token, expires_in} (seconds).

    code2session runs here, so call this off the event loop. The hall user is found or created by
    openid; the session_key stays in the key-value store under the hall user with the token's
    lifetime and is never returned or logged (DOMAIN.md §6).
    Raises Malformed invalid_wechat_code (unknown, used or implausible code), Unavailable
    wechat_unavailable (WeChat down or slow), RateLimited too_many_logins.
    """
    code = check_code(code)
    if client:
        _count_attempt(kv, client)
    session = gateway.code2session(code)
    user = hall.ensure_hall_user(session.openid, session.unionid)
    ttl = int(hall.settings.hall_token_ttl)
    kv.set(SESSION_KEY_PREFIX + str(user.id), session.session_key, ex=ttl)
    token = hall.issue_citizen_token(user)
    logger.info("hall user %s signed in", user.id)
    return {"token": token, "expires_in": ttl}


def session_key(kv, user_id: int) -> str | None:
    """Return the session_key of a hall user's latest login (to decrypt open data), or None once expired."""
    value = kv.get(SESSION_KEY_PREFIX + str(user_id))
    if value is None:
        return None
    return value.decode() if isinstance(value, bytes) else str(value)
