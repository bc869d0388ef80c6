"""The OpenAPI description covers every path of CONTRACT.md §3 and names its parameters."""
from __future__ import annotations

import json

import jsonschema_rs
import pytest

from schemathesis.specs.openapi.converter import to_json_schema
from server import examples

CONTRACT_PATHS = {
    ("post", "/api/v1/auth/login"), ("put", "/api/v1/catalogue/items/{basic_code}"),
    ("post", "/api/v1/catalogue/imports"), ("get", "/api/v1/catalogue/items"),
    ("get", "/api/v1/catalogue/items/{basic_code}"), ("get", "/api/v1/catalogue/items/{basic_code}/versions"),
    ("post", "/api/v1/items"), ("get", "/api/v1/items"), ("get", "/api/v1/items/{impl_code}"),
    ("patch", "/api/v1/items/{impl_code}"), ("get", "/api/v1/items/{impl_code}/versions"),
    ("get", "/api/v1/items/{impl_code}/diff"), ("get", "/api/v1/items/{impl_code}/conformance"),
    ("post", "/api/v1/items/{impl_code}/rebase"), ("post", "/api/v1/items/{impl_code}/submit"),
    ("post", "/api/v1/items/{impl_code}/approve"), ("post", "/api/v1/items/{impl_code}/reject"),
    ("post", "/api/v1/items/{impl_code}/publish"), ("post", "/api/v1/items/{impl_code}/withdraw"),
    ("post", "/api/v1/hall/login"), ("get", "/api/v1/hall/search"), ("get", "/api/v1/hall/items/{impl_code}"),
    ("post", "/api/v1/hall/uploads"), ("post", "/api/v1/hall/applications"), ("get", "/api/v1/hall/applications"),
    ("get", "/api/v1/hall/applications/{case_no}"), ("post", "/api/v1/hall/applications/{case_no}/rating"),
    ("get", "/api/v1/cases"), ("post", "/api/v1/cases/{case_no}/actions"), ("get", "/api/v1/stats/items"),
    ("get", "/api/v1/openapi.json"),
}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_openapi_describes_every_contract_path_with_summaries(running_app):
    spec = running_app.api().get("/api/v1/openapi.json", token=None).json
    described = {(method, path) for path, ops in spec["paths"].items() for method in ops}
    assert CONTRACT_PATHS - described == set()
    operation_ids = [op["operationId"] for ops in spec["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for path, ops in spec["paths"].items():
        for op in ops.values():
            assert op["summary"] and not op["summary"].startswith("/api/"), (path, op["summary"])
            assert {p["name"] for p in op["parameters"] if p["in"] == "path"} == set(path.split("{")[i].split("}")[0]
                                                                  for i in range(1, path.count("{") + 1))
    assert "security" not in spec["paths"]["/api/v1/hall/search"]["get"]
    assert spec["paths"]["/api/v1/items"]["post"]["security"] == [{"bearer": []}]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_wechat_callback_is_described_where_it_is_served_with_plain_text_answers(running_app):
    api = running_app.api()
    spec = api.get("/api/v1/openapi.json", token=None).json
    assert not any("wechat" in path for path in spec["paths"] if path.startswith("/api/"))
    callback = spec["paths"]["/wechat/callback"]
    assert set(callback) == {"get", "post"}
    assert "security" not in callback["get"] and "security" not in callback["post"]
    assert {p["name"] for p in callback["get"]["parameters"]} == {"signature", "timestamp", "nonce", "echostr"}
    assert all(p["in"] == "query" for op in callback.values() for p in op["parameters"])
    assert "text/plain" in callback["get"]["responses"]["200"]["content"]
    assert "text/xml" in callback["post"]["requestBody"]["content"]
    # the documented path is the served one: unconfigured, it answers 503 there and 404 under /api/v1
    assert api.get("/wechat/callback", token=None).error_code() == "callback_not_configured"
    assert api.get("/api/v1/wechat/callback", token=None).status == 404


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_api_index_links_to_the_description_health_and_every_area_and_each_link_is_served(running_app):
    api = running_app.api()
    resp = api.get("/api/v1/", token=None)
    assert resp.status == 200
    index = resp.json
    assert index["name"] == "govhall" and index["version"] == api.get("/api/v1/openapi.json").json["info"]["version"]
    links = index["links"]
    assert links["openapi"] == "/api/v1/openapi.json" and links["health"] == "/api/v1/health"
    for area in ("catalogue", "items", "cases", "stats", "hall"):
        assert area in links
    for name, link in links.items():
        # every link leads to a served path (anonymous callers may meet 400/401, the callback 503), never 404
        assert api.get(link, token=None).status in (200, 400, 401, 503), (name, link)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_every_request_body_example_is_documented_on_its_operation_and_meets_its_schema(running_app):
    spec = running_app.api().get("/api/v1/openapi.json", token=None).json
    documented = set()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for ctype, media in op.get("requestBody", {}).get("content", {}).items():
                if "example" not in media:
                    continue
                assert "json" in ctype, (path, method, ctype)
                validator = jsonschema_rs.validator_for(to_json_schema(media["schema"], "nullable"))
                errors = [e.message for e in validator.iter_errors(media["example"])]
                assert not errors, (path, method, errors)
                documented.add(json.dumps(media["example"], sort_keys=True))
    assert documented == {json.dumps(body, sort_keys=True) for body in examples.BODIES.values()}
    # each on its own operation: the claim on POST /items, the JSON patch on its json-patch media type
    claim = spec["paths"]["/api/v1/items"]["post"]["requestBody"]["content"]["application/json"]
    assert claim["example"] == examples.body("ItemListHandler", "post")
    edit = spec["paths"]["/api/v1/items/{impl_code}"]["patch"]["requestBody"]["content"]
    assert edit["application/json-patch+json"]["example"] == examples.body("ItemHandler", "patch")
