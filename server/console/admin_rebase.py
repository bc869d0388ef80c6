"""Catalogue admins' pages for a catalogue change: the impact preview and the bulk rebase with its progress."""
from __future__ import annotations

import json
import logging
import secrets

import tornado.ioloop

from items.errors import DomainError
from server.console import labels
from server.console.base import PREFIX, ConsolePage

logger = logging.getLogger(__name__)

ADMIN_ROLES = ("province_admin",)
JOB_TTL = 24 * 3600  # a finished job's report stays readable for a day
REFRESH_SECONDS = 1


def _job_key(job_id: str) -> str:
    return f"console:job:{job_id}"


class ImpactPage(ConsolePage):
    roles = ADMIN_ROLES

    async def get(self, basic_code: str) -> None:
        """What the latest catalogue version does to every older local item: clean, conflicting (by path),
        breaking a rule, in review; nothing is written."""
        item = await self.run(self.ctx.catalogue.get, basic_code)
        impact = await self.run(self.ctx.rebase.impact, basic_code, self.actor)
        paths = [{"path": p, "where": labels.path_label(p), "items": n} for p, n in impact["conflict_paths"].items()]
        rules = [{"where": labels.path_label(k.split(" ")[0]), "rule": labels.rule_message(k.split(" ")[-1]), "items": n}
                 for k, n in impact["invalid_rules"].items()]
        self.page("admin/impact.html", title="目录变更影响", item=item, impact=impact, paths=paths, rules=rules)


class RebaseAllPage(ConsolePage):
    roles = ADMIN_ROLES

    async def post(self, basic_code: str) -> None:
        """Start the bulk rebase on the thread pool and show its progress page (it refreshes itself)."""
        item = await self.run(self.ctx.catalogue.get, basic_code)  # NotFound before anything starts
        job_id = secrets.token_hex(12)
        state = {"state": "running", "done": 0, "total": 0, "basic_code": basic_code,
                 "name": item["document"].get("name", ""), "owner": self.actor.username, "result": None}
        self.ctx.kv.set(_job_key(job_id), json.dumps(state), ex=JOB_TTL)
        tornado.ioloop.IOLoop.current().spawn_callback(self._work, job_id, state, basic_code, self.actor,
                                                       self.remote_ip)
        self.redirect(f"{PREFIX}/jobs/{job_id}")

    async def _work(self, job_id: str, state: dict, basic_code: str, actor, remote_ip: str) -> None:
        kv = self.ctx.kv

        def progress(done: int, total: int) -> None:  # runs on the pool thread, between batches
            kv.set(_job_key(job_id), json.dumps(dict(state, done=done, total=total)), ex=JOB_TTL)

        try:
            result = await self.ctx.run(self.ctx.rebase.rebase_all, basic_code, actor, None,
                                        remote_ip=remote_ip, progress=progress)
            final = dict(state, state="done", done=result["items"], total=result["items"], result=result)
        except DomainError as exc:
            final = dict(state, state="failed", error=labels.error_message(exc.code, exc.message))
        except Exception:  # the page must end; the traceback goes to the log only
            logger.exception("bulk rebase job %s failed", job_id)
            final = dict(state, state="failed", error=labels.error_message("internal"))
        kv.set(_job_key(job_id), json.dumps(final), ex=JOB_TTL)


class JobPage(ConsolePage):
    roles = ADMIN_ROLES

    async def get(self, job_id: str) -> None:
        """A bulk rebase's progress (the page refreshes every second while it runs), then its report."""
        raw = await self.run(self.ctx.kv.get, _job_key(job_id))
        job = json.loads(raw) if raw else None
        if job is None or job.get("owner") != self.actor.username:
            self.render_error(404, "没有找到该批量同步任务（任务报告保留一天）。")
            return
        result = job.get("result") or {}
        conflicted = [dict(c, where="、".join(labels.path_label(p) for p in c["paths"]))
                      for c in result.get("conflicted", [])[:200]]
        self.page("admin/job.html", title="批量同步目录", job=job, result=result, conflicted=conflicted,
                  refresh=REFRESH_SECONDS if job["state"] == "running" else 0)


routes = [
    (PREFIX + r"/catalogue/([0-9A-Z]{12})/impact", ImpactPage),
    (PREFIX + r"/catalogue/([0-9A-Z]{12})/rebase-all", RebaseAllPage),
    (PREFIX + r"/jobs/([0-9a-f]{24})", JobPage),
]
