"""HallService: the branch hall's use cases built once from settings (calendar, cipher, clock, stores)."""
from __future__ import annotations

import datetime as dt
import threading

from items.clock import utcnow
from items.scope import Actor
from wechat import holidays, store
from wechat.applications import ApplicationService
from wechat.casework import CaseworkService
from wechat.holidays import HolidayService
from wechat.identity import IdCipher
from wechat.ratings import RatingService
from wechat.uploads import UploadService
from wechat.workbench import WorkbenchService
from wechat.workdays import WorkCalendar


class HallService:
    """What the hall and cases handlers call: ctx.hall.applications / casework / ratings / uploads / workbench.

    `clock` returns the current time as naive UTC; business days are derived from it in China time.
    Replacing it (a test setting a date in 2026's National Day week) moves every service at once.
    """

    def __init__(self, settings, kv, accounts, items):
        self.settings = settings
        self.accounts = accounts
        self.calendar = WorkCalendar.from_file(settings.holiday_file) if settings.holiday_file else WorkCalendar()
        self.clock = utcnow
        self._cipher: IdCipher | None = None
        self._lock = threading.Lock()
        self.uploads = UploadService(settings.upload_dir, settings.upload_max_bytes)
        self.applications = ApplicationService(self.calendar, self.cipher, kv, self.now, items)
        self.casework = CaseworkService(self.calendar, self.now, items)
        self.case_counts = store.case_counts  # the case figures of the statistics (items.stats)
        self.ratings = RatingService(self.calendar, self.now, settings.rectification_workdays)
        self.workbench = WorkbenchService(self.calendar, self.now, kv, self.cipher, self.uploads.path_of, items,
                                          settings.reveals_per_hour)
        # years loaded through the admin API live in the database, shared by every process
        self.calendar.attach_store(holidays.stored_years)
        self.holidays = HolidayService(self.calendar, self.now)

    def now(self) -> dt.datetime:
        """Return the current time (naive UTC) from the replaceable clock."""
        return self.clock()

    def cipher(self) -> IdCipher:
        """Return the ID-number cipher, built on first use: an app without a secret key still starts,
        and only the hall refuses work (Invalid secret_key_too_short) until one is configured."""
        if self._cipher is None:
            with self._lock:
                if self._cipher is None:
                    self._cipher = IdCipher(self.settings.secret_key.reveal())
        return self._cipher

    # --- citizens ---------------------------------------------------------------------------------

    def ensure_hall_user(self, openid: str, unionid: str | None = None):
        """Return the hall user of `openid` (HallUserRecord), created on first sight."""
        with store.transaction():
            return store.ensure_hall_user(openid, unionid)

    def citizen_actor(self, user) -> Actor:
        """Return the Actor a hall user signs in as."""
        return Actor(username=f"hall:{user.id}", role="citizen", user_id=user.id)

    def issue_citizen_token(self, user) -> str:
        """Return a bearer token for a hall user, valid settings.hall_token_ttl seconds."""
        return self.accounts.issue_token(self.citizen_actor(user), ttl=self.settings.hall_token_ttl)

    def add_consent(self, user_id: int, template_id: str, count: int = 1) -> int:
        """Count `count` more subscribe-message consents of a user for a template; return the new count."""
        with store.transaction():
            return store.add_consent(user_id, template_id, count)
