"""The OpenAPI description covers every path of CONTRACT.md §3 and names its parameters."""
from __future__ import annotations

import pytest

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
