"""Input limits decided once at the edge: body sizes, JSON depth, number sizes, valid Unicode, control characters."""
from __future__ import annotations

import json
import math
import re

from items.errors import Malformed, invalid, invalid_all
from items.text import text_problem

KIB = 1024
# Per-route body limits (bytes); uploads and imports take theirs from settings (upload_max_bytes, import_max_bytes).
SMALL_BODY = 4 * KIB          # sign-in, workflow comments, case actions
FORM_BODY = 64 * KIB          # an application, a rating, a synonym
DOCUMENT_BODY = 1024 * KIB    # an item document or a JSON Patch against one
MAX_DEPTH = 32                # an item document nests 4 deep; a patch value adds a few
# Integers fit the database's 32-bit integer columns (versions, ids, counts); floats are finite and as small.
MAX_NUMBER = 2 ** 31 - 1
MAX_PATH_SEGMENT = 128        # the longest path segment a route takes (codes, case numbers, synonym terms)
MAX_QUERY_VALUE = 500         # the longest query parameter value (a search text)
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def _finding(path: str, rule: str, message: str) -> dict:
    return {"path": path or "/", "rule": rule, "message": message}


def _pointer_part(key) -> str:
    return str(key).replace("~", "~0").replace("/", "~1")


def json_problems(value, limit: int = 20) -> list[dict]:
    """The findings {path, rule, message} of a parsed JSON value against the edge limits (depth, numbers,
    text); at most `limit`. Walks without recursion, so a deep value cannot exhaust the stack."""
    found: list[dict] = []
    stack = [(value, "", 1)]
    while stack and len(found) < limit:
        node, path, depth = stack.pop()
        if depth > MAX_DEPTH:
            found.append(_finding(path, "max_depth", f"JSON nests at most {MAX_DEPTH} levels"))
            continue
        if isinstance(node, dict):
            for key, child in node.items():
                problem = text_problem(key)
                child_path = f"{path}/{_pointer_part(key)}" if problem is None else f"{path}/?"
                if problem:
                    found.append(_finding(child_path, *problem))
                stack.append((child, child_path, depth + 1))
        elif isinstance(node, list):
            stack.extend((child, f"{path}/{i}", depth + 1) for i, child in enumerate(node))
        elif isinstance(node, str):
            problem = text_problem(node)
            if problem:
                found.append(_finding(path, *problem))
        elif isinstance(node, bool) or node is None:
            continue
        elif isinstance(node, (int, float)):
            if (isinstance(node, float) and not math.isfinite(node)) or abs(node) > MAX_NUMBER:
                found.append(_finding(path, "number_range",
                                      f"numbers lie between -{MAX_NUMBER} and {MAX_NUMBER}"))
    return found


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def _bounded_int(text: str) -> int:
    # Python refuses ints of more than 4,300 digits only after the work; a JSON integer here has at most 20.
    if len(text.lstrip("-")) > 20:
        raise ValueError("number too long")
    return int(text)


def parse_json(raw: bytes):
    """The JSON value of `raw`, checked against the edge limits.

    Raises Malformed (malformed_json, 400) for text that is not JSON, not UTF-8 or nests too deep to
    parse; Invalid (input_limits, 422) naming each path and rule for numbers, depth or text beyond the limits.
    """
    try:
        value = json.loads(raw or b"null", parse_constant=_refuse_constant, parse_int=_bounded_int)
    except RecursionError:
        raise invalid(f"the body nests deeper than {MAX_DEPTH} levels", "/", "max_depth", code="malformed_json",
                      error_message=f"JSON nests at most {MAX_DEPTH} levels", kind=Malformed) from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"the body is not valid JSON: {exc}", "/", "json", code="malformed_json",
                      error_message="the body is UTF-8 JSON", kind=Malformed) from None
    problems = json_problems(value)
    if problems:
        raise invalid_all(f"the body breaks an input limit at {problems[0]['path']}: {problems[0]['message']}",
                          problems, code="input_limits")
    return value


def size_problems(value, schema: dict, path: str = "", limit: int = 20) -> list[dict]:
    """The findings of `value` against the size keywords of its declared JSON Schema (maxLength, maxItems,
    maxProperties), following properties, additionalProperties and items. Types, enumerations and
    required fields are the handler's and the domain's to check: they answer with more specific codes."""
    found: list[dict] = []
    stack = [(value, schema, path)]
    while stack and len(found) < limit:
        node, sub, at = stack.pop()
        if not isinstance(sub, dict):
            continue
        for alternative in sub.get("anyOf", ()) + sub.get("oneOf", ()):
            stack.append((node, alternative, at))
        if isinstance(node, str) and len(node) > sub.get("maxLength", len(node)):
            found.append(_finding(at, "max_length", f"at most {sub['maxLength']} characters"))
        elif isinstance(node, list):
            if len(node) > sub.get("maxItems", len(node)):
                found.append(_finding(at, "max_items", f"at most {sub['maxItems']} entries"))
            elif isinstance(sub.get("items"), dict):
                stack.extend((child, sub["items"], f"{at}/{i}") for i, child in enumerate(node))
        elif isinstance(node, dict):
            if len(node) > sub.get("maxProperties", len(node)):
                found.append(_finding(at, "max_properties", f"at most {sub['maxProperties']} fields"))
                continue
            props, extra = sub.get("properties", {}), sub.get("additionalProperties")
            for key, child in node.items():
                child_schema = props.get(key, extra)
                if isinstance(child_schema, dict):
                    stack.append((child, child_schema, f"{at}/{_pointer_part(key)}"))
    return found


def check_sizes(value, schema: dict | None) -> None:
    """Raise Invalid (too_long, 422) naming each path and rule where `value` exceeds its schema's sizes."""
    problems = size_problems(value, schema) if schema else []
    if problems:
        raise invalid_all(f"{problems[0]['path']}: {problems[0]['message']}", problems, code="too_long")


def request_id(header: str | None, fallback: str) -> str:
    """The client's X-Request-Id when it is a short safe token (it is logged verbatim), else `fallback`."""
    return header if header and REQUEST_ID.fullmatch(header) else fallback
