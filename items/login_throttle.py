"""Sign-in throttling: growing delays per (client address, username) and a failure budget per address."""
from __future__ import annotations

import hashlib

from items.errors import RateLimited

PREFIX = "govhall:login:"
# Failures a client may make on one username before each further one makes it wait, doubling the
# wait every time up to MAX_DELAY. Keyed by address *and* username so nobody can lock a username for
# everyone (a correct password from another client still works), and so the owner of an account
# is not locked out by a stranger.
PAIR_FREE_FAILURES = 3
# Failures one address may spread over any usernames within ADDRESS_WINDOW before it waits too:
# guessing one password across many usernames is throttled as well.
ADDRESS_FREE_FAILURES = 20
ADDRESS_WINDOW = 15 * 60
MAX_DELAY = 15 * 60
FORGET_AFTER = 24 * 3600  # a pair's failure count is forgotten a day after its last failure


def _digest(*parts: str) -> str:
    # keys hold digests: usernames and addresses do not sit in Redis in clear
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()[:32]


def delay_after(failures: int, free: int) -> int:
    """Seconds to wait after `failures` failures when the first `free` cost nothing: 1, 2, 4 … MAX_DELAY."""
    if failures <= free:
        return 0
    return min(MAX_DELAY, 2 ** min(failures - free - 1, 20))


class LoginThrottle:
    """Throttle state in the key-value store (shared by every process behind one Redis)."""

    def __init__(self, kv):
        self.kv = kv

    def _keys(self, remote_ip: str, username: str) -> dict[str, str]:
        pair, address = _digest(remote_ip, username), _digest(remote_ip)
        return {"pair": PREFIX + "pair:" + pair, "pair_wait": PREFIX + "pair-wait:" + pair,
                "address": PREFIX + "addr:" + address, "address_wait": PREFIX + "addr-wait:" + address}

    def check(self, remote_ip: str, username: str) -> None:
        """Raise RateLimited (too_many_attempts, details.retry_after_seconds) while this client must wait
        before trying this username again, or before trying any username."""
        keys = self._keys(remote_ip, username)
        waits = [self.kv.ttl(keys["pair_wait"]), self.kv.ttl(keys["address_wait"])]
        wait = max((w for w in waits if w and w > 0), default=0)
        if wait:
            raise RateLimited(f"too many failed sign-ins; try again in {wait} seconds", code="too_many_attempts",
                              details={"retry_after_seconds": wait})

    def failed(self, remote_ip: str, username: str) -> None:
        """Count a failure and start the wait it earns."""
        keys = self._keys(remote_ip, username)
        pipe = self.kv.pipeline()
        pipe.incr(keys["pair"])
        pipe.expire(keys["pair"], FORGET_AFTER)
        pipe.set(keys["address"], 0, ex=ADDRESS_WINDOW, nx=True)  # the window opens at the first failure
        pipe.incr(keys["address"])
        pair_failures, _, _, address_failures = pipe.execute()
        for wait_key, wait in ((keys["pair_wait"], delay_after(pair_failures, PAIR_FREE_FAILURES)),
                               (keys["address_wait"], delay_after(address_failures, ADDRESS_FREE_FAILURES))):
            if wait:
                self.kv.set(wait_key, "1", ex=wait)

    def succeeded(self, remote_ip: str, username: str) -> None:
        """Forget this client's failures on this username (the address budget keeps counting)."""
        keys = self._keys(remote_ip, username)
        self.kv.delete(keys["pair"], keys["pair_wait"])
