"""A local stand-in for WeChat's code2session, so a mini-program developer can sign in on a laptop.

Enabled by GOVHALL_WECHAT_DEV=1 or `govhall serve --dev-wechat`, on the embedded default only
(server/config.py refuses it beside GOVHALL_DATABASE_URL). A code `dev:<name>` signs in as the
citizen <name>: the same name gives the same openid on every run, so their cases stay theirs.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets

from items.errors import Malformed, invalid
from wechat.gateway import Session

logger = logging.getLogger(__name__)

DEV_CODE = re.compile(r"dev:([A-Za-z0-9_.-]{1,64})")
OPENID_PREFIX = "dev-"  # never the shape of a real openid (28 characters starting with "o")


def dev_openid(name: str) -> str:
    """The stable fake openid of the development citizen `name`."""
    return OPENID_PREFIX + hashlib.sha256(name.encode()).hexdigest()[:24]


class DevWeChatGateway:
    """Answers code2session without WeChat; sends nothing (subscribe messages are logged by kind only)."""

    def __init__(self) -> None:
        logger.warning("the development WeChat stand-in is on: anyone may sign in as any citizen "
                       "with a code dev:<name> (GOVHALL_WECHAT_DEV); never use it in production")

    def __repr__(self) -> str:
        return "DevWeChatGateway()"

    def code2session(self, code: str) -> Session:
        """Return the session of the citizen a `dev:<name>` code names.

        Raises Malformed invalid_wechat_code for any other code (a real wx.login code cannot be
        checked without WeChat)."""
        match = DEV_CODE.fullmatch(code or "")
        if not match:
            raise invalid("the development WeChat stand-in takes codes like dev:alice",
                          "/code", "pattern:dev:<name>", code="invalid_wechat_code", kind=Malformed)
        return Session(openid=dev_openid(match.group(1)), unionid=None, session_key=secrets.token_urlsafe(16))

    def send_subscribe_message(self, openid: str, template_id: str, data: dict, page: str | None = None) -> None:
        """Pretend WeChat took the message (the template id is logged, never the openid or data)."""
        logger.info("development stand-in: subscribe message %s not sent", template_id)

    def close(self) -> None:
        return None
