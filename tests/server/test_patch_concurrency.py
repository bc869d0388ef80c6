"""Lost updates cannot happen: 8 clients PATCH one item 50 times each with the If-Match they last saw."""
from __future__ import annotations

import threading

from items import store
from items.codes import make_credit_code
from items.patches import apply_patch
from items.scope import Actor

ORG = make_credit_code("11410402MB1234567")
CLIENTS, PATCHES = 8, 50
ITEM = {
    "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
    "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "……"}],
    "levels": ["4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "service_objects": ["enterprise"], "conditions": [], "materials": [], "process": [], "fees": [], "faq": [],
}


def test_concurrent_patches_make_one_version_per_success_and_412_otherwise(running_app):
    ctx = running_app.ctx
    with ctx.db.connection_context():
        store.ensure_region("410402", "卫东区", None, "4")
        store.ensure_org(ORG, "卫东区住房和城乡建设局", "410402", "4")
        editor = Actor("editor", "editor", ORG, "410402", store.save_user("editor", "!", "editor", ORG, "410402").id)
        admin = Actor("admin", "province_admin", None, None, store.save_user("admin", "!", "province_admin", None, None).id)
        ctx.catalogue.put("000104002000", ITEM, admin)
        impl_code = ctx.items.claim("000104002000", ORG, "4", "410402", editor)["impl_code"]
    token = ctx.accounts.issue_token(editor)
    answers: list[tuple[int, int | None, str]] = []  # (status, version, value sent)
    lock = threading.Lock()

    def client(n: int) -> None:
        api = running_app.api()
        api.token = token
        seen = 1
        for i in range(PATCHES):
            value = f"client {n} patch {i}"
            resp = api.patch(f"/api/v1/items/{impl_code}", [{"op": "replace", "path": "/hours", "value": value}],
                             headers={"If-Match": f'"{seen}"'}, content_type="application/json-patch+json")
            if resp.status == 200:
                seen = resp.json["version"]
                assert resp.headers["ETag"] == f'"{seen}"'
            elif resp.status == 412:
                assert resp.error_code() == "stale_version"
                seen = resp.json["error"]["details"]["current_version"]
            with lock:
                answers.append((resp.status, seen if resp.status == 200 else None, value))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(answers) == CLIENTS * PATCHES
    assert {status for status, _, _ in answers} <= {200, 412}
    successes = {version: value for status, version, value in answers if status == 200}
    assert len(successes) == sum(1 for status, _, _ in answers if status == 200)  # one version per 2xx
    with ctx.db.connection_context():
        head = store.local_head(impl_code)
        versions = store.local_version_documents(impl_code)
    assert [v.version for v in versions] == list(range(1, head.latest_version + 1))  # no gap
    assert sorted(successes) == list(range(2, head.latest_version + 1))
    for previous, current in zip(versions, versions[1:]):
        assert apply_patch(previous.document, current.patch) == current.document  # the chain replays
        assert current.document["hours"] == successes[current.version]
