"""The branch hall's front door: WeChat login, search, published guides, subscription consent, the WeChat
callback, and the synonym table for province admins (CONTRACT.md §3 /hall)."""
from __future__ import annotations

import logging
import re

from guides import hall_search, render, search_log, synonym_admin
from items import codes
from items.errors import Invalid, Malformed, NotFound, Unavailable
from server.base import BaseHandler
from server import limits
from server.operations import Body, obj, operation, query, text

SIGNED = (query("signature", max_length=64), query("timestamp", max_length=20), query("nonce", max_length=64))
from wechat import callback, login

logger = logging.getLogger(__name__)

TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_ACCEPTED = 100  # consents one report may add: wx.requestSubscribeMessage grants one per accepted template


class HallLoginHandler(BaseHandler):
    @operation(body=Body(obj({"code": text(128)}, ("code",))))
    async def post(self) -> None:
        """`{code}` from wx.login → {token, expires_in}. 400 invalid_wechat_code when WeChat refuses the
        code, 503 wechat_unavailable when WeChat is down or slow, 429 too_many_logins per client."""
        body = self.json_object()
        result = await self.run(login.login, body.get("code"), self.ctx.gateway, self.ctx.hall, self.ctx.kv,
                                client=self.remote_ip)
        self.send(result)


class HallSearchHandler(BaseHandler):
    """Public: a guide is public information (政务公开), and citizens search before they sign in."""

    @operation(query("q", max_length=100), query("region", max_length=12), query("service_object", max_length=20),
               query("org", max_length=18), query("page", max_length=12), query("size", max_length=12),
               query("home", max_length=12))
    async def get(self) -> None:
        """`?q=&region=&service_object=&org=&page=&size=&home=` → {items: [{impl_code, name, org_name,
        highlight, badges, basic_code, variants, matched_terms, match}], total, page, did_you_mean}: one
        entry per catalogue item, `home`'s local item first. A bad parameter is 400 naming it."""
        arg = self.get_query_argument
        org = arg("org", None) or None
        if org is not None and not codes.is_valid_credit_code(org):
            raise Malformed("org is an 18-character unified social credit code", code="invalid_org",
                            details={"errors": [{"path": "org", "rule": "gb_32100",
                                                 "message": "org is a credit code with a valid check character"}]})
        try:
            result = await self.run(hall_search.search, arg("q", None), region=arg("region", None) or None,
                                    org=org, service_object=arg("service_object", None) or None,
                                    page=arg("page", None) or 1, size=arg("size", None) or 20,
                                    home=arg("home", None) or None)
        except Invalid as exc:
            # The search module checks its parameters; a bad query string is a malformed request here.
            raise Malformed(exc.message, code=exc.code, details=exc.details) from None
        self.send(result)


class HallSuggestHandler(BaseHandler):
    """Public, like search: type-ahead and the region's frequent queries (热门搜索)."""

    @operation(query("q", max_length=100), query("region", max_length=12))
    async def get(self) -> None:
        """`?q=&region=` → {suggestions: [{text, kind, basic_code}], popular: [{query, count}]}; 400 naming
        a bad parameter."""
        arg = self.get_query_argument
        try:
            result = await self.run(hall_search.suggest, arg("q", None), region=arg("region", None) or None)
        except Invalid as exc:
            raise Malformed(exc.message, code=exc.code, details=exc.details) from None
        self.send(result)


class SearchMissListHandler(BaseHandler):
    @operation(query("limit", max_length=12))
    async def get(self) -> None:
        """`?limit=` → {misses: [{query, count, zero_count, last_seen}]}: the most frequent queries with no
        or poor results (province_admin); 400 invalid_limit."""
        await self.authenticate("province_admin")
        try:
            misses = await self.run(search_log.misses, self.get_query_argument("limit", None) or 50)
        except Invalid as exc:
            raise Malformed(exc.message, code=exc.code, details=exc.details) from None
        self.send({"misses": misses})



class SearchMissPromoteHandler(BaseHandler):
    @operation(body=Body(obj({"query": text(100), "expansions": {"type": "array", "maxItems": 50, "items": text(50)},
                              "basic_code": text(12)}, ("query",)), max_bytes=limits.FORM_BODY))
    async def post(self) -> None:
        """`{query, expansions: [...]}` makes a lexicon entry, `{query, basic_code}` an alias of a catalogue
        item → {query, as, …}; the query leaves the report. 422 promote_invalid / synonym_invalid, 404
        item_not_found (province_admin)."""
        actor = await self.authenticate("province_admin")
        body = self.json_object(required=("query",))
        self.send(await self.run(synonym_admin.promote_miss, actor, self.remote_ip, body.get("query"),
                                 body.get("expansions"), body.get("basic_code")))


def published_guide(items, impl_code: str) -> dict:
    """Return the rendered guide of the published version of `impl_code`.

    Raises NotFound guide_not_found for unknown, never published and withdrawn items alike: citizens
    learn nothing about drafts.
    """
    try:
        head = items.get(impl_code)
        version = head["published_version"]
        if version is None or head["status"] == "withdrawn":
            raise NotFound("no such item", code="item_not_found")
        record = items.get(impl_code, version=version)
    except NotFound:
        raise NotFound("no published guide for this item", code="guide_not_found",
                       details={"impl_code": impl_code}) from None
    return render.render_guide(impl_code, record["document"], version)


class HallGuideHandler(BaseHandler):
    @operation()
    async def get(self, impl_code: str) -> None:
        """The published guide with its `guide_version` (public); 404 guide_not_found otherwise."""
        self.send(await self.run(published_guide, self.ctx.items, impl_code))


class HallSubscriptionHandler(BaseHandler):
    @operation(body=Body(obj({"template_id": text(64), "accepted": {"type": "integer", "minimum": 0, "maximum": MAX_ACCEPTED}},
                             ("template_id",))))
    async def post(self) -> None:
        """`{template_id, accepted: n}`: the citizen accepted n subscribe messages of a template in
        wx.requestSubscribeMessage → {template_id, count}, the consents now unused. Each message sent
        spends one; none left means the message is not sent (DOMAIN.md §6)."""
        actor = await self.authenticate("citizen")
        body = self.json_object(required=("template_id",))
        template_id, accepted = body.get("template_id"), body.get("accepted", 1)
        if not isinstance(template_id, str) or not TEMPLATE_ID.fullmatch(template_id):
            raise Invalid("template_id is WeChat's template id", code="invalid_template_id",
                          details={"errors": [{"path": "/template_id", "rule": "pattern:[A-Za-z0-9_-]{1,64}",
                                               "message": "a WeChat subscribe-message template id"}]})
        if isinstance(accepted, bool) or not isinstance(accepted, int) or not 0 <= accepted <= MAX_ACCEPTED:
            raise Invalid(f"accepted is a whole number 0..{MAX_ACCEPTED}", code="invalid_accepted",
                          details={"errors": [{"path": "/accepted", "rule": f"integer:0..{MAX_ACCEPTED}",
                                               "message": "how many messages the citizen accepted"}]})
        count = await self.run(self.ctx.hall.add_consent, actor.user_id, template_id, accepted)
        self.send({"template_id": template_id, "count": count})


class WeChatCallbackHandler(BaseHandler):
    """WeChat's server push (消息推送): GET is the URL handshake, POST a message, plain or safe mode."""

    def _token(self) -> str:
        token = self.ctx.settings.wechat_token.reveal()
        if not token:
            raise Unavailable("the WeChat callback is not configured", code="callback_not_configured",
                              details={"setting": "GOVHALL_WECHAT_TOKEN"})
        return token

    def _reply(self, text: str) -> None:
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(text)

    @operation(*SIGNED, query("echostr", max_length=200),
               responses={"200": ("text/plain",)})
    async def get(self) -> None:
        """`?signature=&timestamp=&nonce=&echostr=` → echostr as plain text; 403 bad_signature."""
        arg = self.get_query_argument
        self._reply(callback.verify_url(self._token(), arg("signature", ""), arg("timestamp", ""),
                                        arg("nonce", ""), arg("echostr", "")))

    @operation(*SIGNED, query("encrypt_type", max_length=10), query("msg_signature", max_length=64), query("openid", max_length=64),
               body=Body({"type": "string", "format": "binary"}, ("text/xml", "application/xml"), limits.FORM_BODY),
               responses={"200": ("text/plain",)})
    async def post(self) -> None:
        """A pushed message → "success". Safe mode (`encrypt_type=aes`) is verified by msg_signature and
        decrypted; plain mode is verified by signature. 403 bad_signature / wrong_appid, 400 bad_message."""
        arg = self.get_query_argument
        token = self._token()
        if arg("encrypt_type", "") == "aes" or arg("msg_signature", ""):
            aes_key = self.ctx.settings.wechat_aes_key.reveal()
            try:
                message = callback.decrypt_message(token, aes_key, self.ctx.settings.wechat_appid,
                                                   arg("msg_signature", ""), arg("timestamp", ""),
                                                   arg("nonce", ""), self.request.body)
            except ValueError:
                raise Unavailable("the WeChat callback's EncodingAESKey is not configured correctly",
                                  code="callback_not_configured",
                                  details={"setting": "GOVHALL_WECHAT_AES_KEY"}) from None
        else:
            callback.verify_url(token, arg("signature", ""), arg("timestamp", ""), arg("nonce", ""), "")
            message = {}
        # Only the kind is logged: messages carry openids and user text.
        logger.info("wechat callback message: MsgType=%s Event=%s", message.get("MsgType", "-"),
                    message.get("Event", "-"))
        self._reply("success")


class SynonymListHandler(BaseHandler):
    @operation()
    async def get(self) -> None:
        """The operator-editable synonym table → {synonyms: [{term, expansions}]} (province_admin)."""
        await self.authenticate("province_admin")
        self.send({"synonyms": await self.run(synonym_admin.list_synonyms)})


class SynonymHandler(BaseHandler):
    @operation()
    async def get(self, term: str) -> None:
        """One synonym → {term, expansions}; 404 synonym_not_found (province_admin)."""
        await self.authenticate("province_admin")
        self.send(await self.run(synonym_admin.get_synonym, term))

    @operation(body=Body(obj({"expansions": {"type": "array", "maxItems": 50, "items": text(50)},
                              "source": text(200)}, ("expansions",)), max_bytes=limits.FORM_BODY))
    async def put(self, term: str) -> None:
        """`{expansions: [...], source?}` creates or replaces a lexicon entry → {term, expansions, source};
        422 synonym_invalid."""
        actor = await self.authenticate("province_admin")
        body = self.json_object(required=("expansions",))
        self.send(await self.run(synonym_admin.change_synonym, actor, self.remote_ip, term, body["expansions"],
                                 body.get("source")))

    @operation()
    async def delete(self, term: str) -> None:
        """Delete a synonym → {term, deleted: true}; 404 synonym_not_found."""
        actor = await self.authenticate("province_admin")
        self.send(await self.run(synonym_admin.change_synonym, actor, self.remote_ip, term, None))


routes = [
    (r"/api/v1/hall/login", HallLoginHandler),
    (r"/api/v1/hall/search", HallSearchHandler),
    (r"/api/v1/hall/suggest", HallSuggestHandler),
    (r"/api/v1/hall/items/([^/]+)", HallGuideHandler),
    (r"/api/v1/hall/subscriptions", HallSubscriptionHandler),
    (r"/wechat/callback", WeChatCallbackHandler),
    (r"/api/v1/admin/synonyms", SynonymListHandler),
    (r"/api/v1/admin/synonyms/([^/]+)", SynonymHandler),
    (r"/api/v1/admin/search/misses", SearchMissListHandler),
    (r"/api/v1/admin/search/misses/promote", SearchMissPromoteHandler),
]
