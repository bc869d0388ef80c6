"""The branch hall's front door: WeChat login, search, published guides, subscription consent, the WeChat
callback, and the synonym table for province admins (CONTRACT.md §3 /hall)."""
from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import re

import tornado.web

from guides import hall_search, render, search_index, search_log, synonym_admin
from guides import search as analysis
from items import codes
from items.errors import Invalid, Malformed, NotFound, Unavailable, invalid
from server.base import BaseHandler
from server import limits, schemas
from server.operations import Body, header, obj, operation, query, text
from server.read_cache import CachedAnswer

SIGNED = (query("signature", max_length=64), query("timestamp", max_length=20), query("nonce", max_length=64))
from wechat import callback, login

logger = logging.getLogger(__name__)
GZIP_MIN_LENGTH = tornado.web.GZipContentEncoding.MIN_LENGTH  # shorter answers go out as they are
# Read leniently, as Tornado's own compression reads it: an odd value means no gzip, never a 400.
ACCEPT_ENCODING = header("Accept-Encoding", max_length=1000, description="gzip: the answer comes compressed")

TEMPLATE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_ACCEPTED = 100  # consents one report may add: wx.requestSubscribeMessage grants one per accepted template


class HallLoginHandler(BaseHandler):
    @operation(body=Body(obj({"code": text(128)}, ("code",))), responses={"200": schemas.CITIZEN_TOKEN})
    async def post(self) -> None:
        """`{code}` from wx.login → {token, expires_in}. 400 invalid_wechat_code when WeChat refuses the
        code, 503 wechat_unavailable when WeChat is down or slow, 429 too_many_logins per client."""
        body = self.json_object()
        result = await self.run(login.login, body.get("code"), self.ctx.gateway, self.ctx.hall, self.ctx.kv,
                                client=self.remote_ip)
        self.send(result)


class CachedReadHandler(BaseHandler):
    """A public read answered from the process's read cache when it can be (server/read_cache.py): a hit
    costs no thread-pool hop and at most one Redis GET per process every `check` seconds (the generation); a miss
    runs the use case and keeps its bytes."""

    async def cached(self, key: tuple, compute) -> CachedAnswer:
        return (await self.cached_with_hit(key, compute))[0]

    async def cached_with_hit(self, key: tuple, compute) -> tuple[CachedAnswer, bool]:
        """The entry for `key` and whether it came from the cache."""
        cache = self.ctx.read_cache
        generation = cache.generation()  # read before computing: a racing publish makes this entry unused
        entry = cache.get(generation, key)
        if entry is not None:
            return entry, True
        flight = (generation, key)
        if flight in cache.in_flight:  # a burst of one cold key (a policy announcement) computes it once
            return await asyncio.shield(cache.in_flight[flight]), True
        answer = cache.in_flight[flight] = asyncio.get_running_loop().create_future()
        try:
            entry = await self.run(compute)
        except Exception as exc:  # noqa: BLE001 - the waiters get the same answer (a 404, a 503) as this caller
            answer.set_exception(exc)
            answer.exception()  # retrieved here: a burst of one has no waiter to retrieve it
            raise
        finally:
            cache.in_flight.pop(flight, None)
        cache.put(generation, key, entry)
        answer.set_result(entry)
        return entry, False

    def send_entry(self, entry: CachedAnswer) -> None:
        self.set_header("Etag", entry.etag)
        if self.check_etag_header():  # If-None-Match names this very answer
            self.set_status(304)
            self.finish()
            return
        if len(entry.body) >= GZIP_MIN_LENGTH and "gzip" in (self.request.headers.get("Accept-Encoding") or ""):
            # Compressed once per entry, not on every hit as the app's compress_response would (it leaves an
            # answer alone that already names its Content-Encoding).
            self.set_header("Content-Encoding", "gzip")
            self.finish(entry.gzipped)
            return
        self.finish(entry.body)


def _encoded(payload: dict) -> bytes:
    return json.dumps(payload, ensure_ascii=False, default=str).encode()


class HallSearchHandler(CachedReadHandler):
    """Public: a guide is public information (政务公开), and citizens search before they sign in."""

    @operation(query("q", max_length=100), query("region", max_length=12), query("service_object", max_length=20),
               query("org", max_length=18), query("page", max_length=12), query("size", max_length=12),
               query("home", max_length=12), ACCEPT_ENCODING, responses={"200": schemas.SEARCH_RESULT})
    async def get(self) -> None:
        """`?q=&region=&service_object=&org=&page=&size=&home=` → {items: [{impl_code, name, org_name,
        highlight, badges, basic_code, variants, matched_terms, match}], total, page, did_you_mean}: one
        entry per catalogue item, `home`'s local item first. A bad parameter is 400 naming it."""
        arg = self.get_query_argument
        org = arg("org", None) or None
        if org is not None and not codes.is_valid_credit_code(org):
            raise invalid("org is an 18-character unified social credit code", "org", "gb_32100", code="invalid_org",
                          error_message="org is a credit code with a valid check character", kind=Malformed)
        # The answer depends on these alone (search does not personalise per citizen: `home` is a parameter),
        # so they are the whole key.
        params = {"q": arg("q", None), "region": arg("region", None) or None, "org": org,
                  "service_object": arg("service_object", None) or None,
                  "page": arg("page", None) or 1, "size": arg("size", None) or 20, "home": arg("home", None) or None}

        def compute() -> CachedAnswer:
            try:
                result = hall_search.search(**params)
                return CachedAnswer.of(_encoded(result), meta={"found": bool(result["total"])})
            except Invalid as exc:
                # The search module checks its parameters; a bad query string is a malformed request here.
                raise Malformed(exc.message, code=exc.code, details=exc.details) from None

        entry, hit = await self.cached_with_hit(("search", *params.values()), compute)
        if hit and params["page"] == 1:
            self.note_query_again(params, entry)
        self.send_entry(entry)


    def note_query_again(self, params: dict, entry: CachedAnswer) -> None:
        """A hit skips the search and with it the count of the query (热门搜索, the misses report): tally it on
        the loop; the tally reaches the pool once a second, so the request path makes no hop."""
        self.ctx.hit_tally.add(_note_hits, (params["q"], params["region"], entry.meta.get("found", False)))


def _note_hits(hits) -> None:
    """Count cached first-page searches as hall_search.search counts a first page. A query with results that
    only partly matched counts as found here, not as a poor one (that judgement needs the ranking the hit
    skipped)."""
    for (q, region, found), count in hits.items():
        parsed = analysis.analyze(q, {})
        if parsed.code or not parsed.text:
            continue
        prefix = analysis.region_prefix(region) if region is not None else None
        search_log.note(search_index.database.obj, parsed.text, prefix, found=found, poor=not found, count=count)


class HallSuggestHandler(BaseHandler):
    """Public, like search: type-ahead and the region's frequent queries (热门搜索)."""

    @operation(query("q", max_length=100), query("region", max_length=12))
    async def get(self) -> None:
        """`?q=&region=` → {suggestions: [{text, kind, basic_code}], popular: [{query, count}]}; 400 naming
        a bad parameter."""
        arg = self.get_query_argument
        if not arg("q", None):  # the frequent queries are the answer: count this process's cached hits first
            await self.ctx.hit_tally.settle()
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
        await self.ctx.hit_tally.settle()
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
        result = await self.run(synonym_admin.promote_miss, actor, self.remote_ip, body.get("query"),
                                body.get("expansions"), body.get("basic_code"))
        self.ctx.read_cache.invalidate()  # the promoted query now finds what it did not
        self.send(result)


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


def guide_entry(items, impl_code: str) -> CachedAnswer:
    """The published guide's bytes, ETag and Last-Modified (when its version was made). Raises NotFound."""
    guide = published_guide(items, impl_code)
    made = dt.datetime.fromisoformat(items.get(impl_code, version=guide["guide_version"])["created_at"].rstrip("Z"))
    # HTTP dates have whole seconds: compare in those, or a copy made this second would look older.
    return CachedAnswer.of(_encoded(guide), float(int(made.replace(tzinfo=dt.timezone.utc).timestamp())))


class HallGuideHandler(CachedReadHandler):
    @operation(header("If-None-Match", max_length=200, description="an ETag this client holds (304 when current)"),
               header("If-Modified-Since", max_length=40, description="an HTTP date (304 when not modified since)"),
               ACCEPT_ENCODING, responses={"200": schemas.GUIDE, "304": None})
    async def get(self, impl_code: str) -> None:
        """The published guide with its `guide_version` (public), with ETag and Last-Modified; 304 when the
        client's copy is current; 404 guide_not_found otherwise."""
        entry = await self.cached(("guide", impl_code), lambda: guide_entry(self.ctx.items, impl_code))
        # Citizens may keep a copy but must ask again each time: a withdrawal takes effect at once.
        self.set_header("Cache-Control", "no-cache")
        self.set_header("Last-Modified", email.utils.formatdate(entry.last_modified, usegmt=True))
        if self.header("If-None-Match") is None and self._not_modified_since(entry.last_modified):
            self.set_status(304)
            self.finish()
            return
        self.send_entry(entry)

    def _not_modified_since(self, modified: float) -> bool:
        since = self.header("If-Modified-Since")
        if not since:
            return False
        try:
            parsed = email.utils.parsedate_to_datetime(since)
        except (TypeError, ValueError, IndexError):
            return False  # an unreadable date is ignored (RFC 9110 §13.1.3)
        return parsed.tzinfo is not None and modified <= parsed.timestamp()


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
            raise invalid("template_id is WeChat's template id", "/template_id", "pattern:[A-Za-z0-9_-]{1,64}",
                          code="invalid_template_id", error_message="a WeChat subscribe-message template id")
        if isinstance(accepted, bool) or not isinstance(accepted, int) or not 0 <= accepted <= MAX_ACCEPTED:
            raise invalid(f"accepted is a whole number 0..{MAX_ACCEPTED}", "/accepted", f"integer:0..{MAX_ACCEPTED}",
                          code="invalid_accepted", error_message="how many messages the citizen accepted")
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
        result = await self.run(synonym_admin.change_synonym, actor, self.remote_ip, term, body["expansions"],
                                body.get("source"))
        self.ctx.read_cache.invalidate()  # searches now expand differently
        self.send(result)

    @operation()
    async def delete(self, term: str) -> None:
        """Delete a synonym → {term, deleted: true}; 404 synonym_not_found."""
        actor = await self.authenticate("province_admin")
        result = await self.run(synonym_admin.change_synonym, actor, self.remote_ip, term, None)
        self.ctx.read_cache.invalidate()
        self.send(result)


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
