"""The editorial workflow over HTTP: submit, recall, approve, reject, publish, withdraw, the log and guide checks."""
from __future__ import annotations

from items.errors import invalid
from server.base import BaseHandler
from server import schemas
from server.operations import Body, obj, operation, query

ACTIONS = ("submit", "recall", "approve", "reject", "publish", "withdraw")


class TransitionHandler(BaseHandler):
    """POST /items/{impl_code}/{action} with an optional {comment} (reject and withdraw need one;
    withdraw also takes it as {reason})."""

    @operation(body=Body(obj({"comment": schemas.COMMENT, "reason": schemas.COMMENT}), required=False))
    async def post(self, impl_code: str, action: str) -> None:
        """A workflow step: submit, recall, approve, reject `{comment}`, publish, withdraw `{comment}`."""
        actor = await self.authenticate()
        body = self.json_object() if self.request.body.strip() else {}
        comment = body.get("comment") or body.get("reason") or ""
        if not isinstance(comment, str):
            raise invalid("comment must be a string", "/comment", "string")
        transition = getattr(self.ctx.workflow, action)
        self.send(await self.run(transition, impl_code, actor, comment, self.remote_ip))


class EventsHandler(BaseHandler):
    @operation()
    async def get(self, impl_code: str) -> None:
        """The transition log: who moved the item between states, when, with what comment."""
        actor = await self.authenticate()
        self.send(await self.run(self.ctx.workflow.events, impl_code, actor))


class LintHandler(BaseHandler):
    @operation(query("version", "integer", minimum=1))
    async def get(self, impl_code: str) -> None:
        """Guide checks (层层加码, limits, missing phone, place, hours, material sources) for the latest version."""
        actor = await self.authenticate()
        self.send(await self.run(self.ctx.workflow.lint, impl_code, actor, self.int_arg("version")))


routes = [
    (r"/api/v1/items/([^/]+)/(%s)" % "|".join(ACTIONS), TransitionHandler),
    (r"/api/v1/items/([^/]+)/events", EventsHandler),
    (r"/api/v1/items/([^/]+)/lint", LintHandler),
]
