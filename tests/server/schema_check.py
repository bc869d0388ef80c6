"""Checks a real answer against the schema /api/v1/openapi.json declares for its operation and status."""
from __future__ import annotations

import jsonschema_rs
from schemathesis.specs.openapi.converter import to_json_schema


def declared_schema(spec: dict, path: str, method: str, status: int, content_type: str = "application/json") -> dict:
    """The JSON Schema of the answer (OpenAPI 3.0's `nullable` turned into JSON Schema's null type, as the fuzz
    test's checks read it). Fails when the operation declares no such answer."""
    answer = spec["paths"][path][method]["responses"][str(status)]
    assert content_type in answer["content"], (path, method, status, list(answer["content"]))
    return to_json_schema(answer["content"][content_type]["schema"], "nullable", is_response_schema=True)


def assert_matches(spec: dict, path: str, resp, method: str = "get") -> None:
    """The response's status is documented and its JSON body meets that status's declared schema."""
    assert resp.status < 300, (path, resp.status, resp.body)
    validator = jsonschema_rs.validator_for(declared_schema(spec, path, method, resp.status), validate_formats=True)
    errors = [f"{'/'.join(map(str, e.instance_path))}: {e.message}" for e in validator.iter_errors(resp.json)]
    assert not errors, (path, errors[:10])
