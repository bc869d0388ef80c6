"""Password hashing: argon2 at a configurable cost, run on its own small bounded pool of threads."""
from __future__ import annotations

import concurrent.futures
import functools
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from items.errors import Unavailable

# argon2-cffi's defaults (RFC 9106's low-memory choice): 3 passes over 64 MiB with 4 lanes.
DEFAULT_COST = 3
DEFAULT_MEMORY_KIB = 64 * 1024
BUSY_RETRY_SECONDS = 1


class Passwords:
    """Hashes and verifies passwords. Hashing is deliberately slow, so sign-ins hash on `workers`
    threads of their own: a burst of failed sign-ins waits there instead of filling the pool every
    other request runs on. At most `workers + queue` hash jobs are accepted at once; beyond that
    `submit` refuses at once (Unavailable sign_in_busy → 503 with Retry-After)."""

    def __init__(self, cost: int = DEFAULT_COST, memory_kib: int = DEFAULT_MEMORY_KIB, workers: int = 2,
                 queue: int = 16):
        self.hasher = PasswordHasher(time_cost=max(1, cost), memory_cost=max(8 * 4, memory_kib), parallelism=4)
        self.capacity = max(1, workers) + max(0, queue)
        self._pending = 0
        self._lock = threading.Lock()
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, workers),
                                                           thread_name_prefix="password")

    @functools.cached_property
    def dummy_hash(self) -> str:
        """A hash to verify against when the user does not exist, so timing does not reveal usernames
        (made at first use: most processes, and tests, never need it)."""
        return self.hasher.hash("not-a-password")

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> tuple[bool, str | None]:
        """Check `password` against `password_hash` (the dummy hash when None) → (matches, new hash
        when the stored one was made at another cost and should be replaced, else None)."""
        try:
            self.hasher.verify(password_hash or self.dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, None
        if password_hash is None:
            return False, None
        rehash = self.hasher.hash(password) if self.hasher.check_needs_rehash(password_hash) else None
        return True, rehash

    def submit(self, fn, *args) -> concurrent.futures.Future:
        """Run `fn(*args)` on the hashing threads → its future. Raises Unavailable (sign_in_busy) when
        `capacity` jobs are already running or waiting."""
        with self._lock:
            if self._pending >= self.capacity:
                raise Unavailable("sign-in is busy; try again in a moment", code="sign_in_busy",
                                  details={"retry_after_seconds": BUSY_RETRY_SECONDS})
            self._pending += 1
        try:
            future = self._pool.submit(fn, *args)
        except BaseException:
            self._release(None)
            raise
        future.add_done_callback(self._release)
        return future

    def _release(self, _future) -> None:
        with self._lock:
            self._pending -= 1

    def close(self) -> None:
        self._pool.shutdown(wait=True)
