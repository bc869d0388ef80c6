"""What text the service accepts: valid Unicode without control, bidirectional or zero-width characters."""
from __future__ import annotations

import re
from typing import Any

from items import model

# Refused: C0 controls other than tab, LF and CR; DEL and C1 controls; bidirectional marks, embeddings,
# overrides and isolates (they can reverse what a citizen reads: "Trojan Source"); zero-width characters,
# invisible operators and the BOM (they hide differences between equal-looking names); interlinear
# annotation marks. Lone surrogates cannot be stored as UTF-8 at all.
FORBIDDEN_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e"
                             "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]")
SURROGATE = re.compile("[\ud800-\udfff]")
_ANY_REFUSED = re.compile(f"{FORBIDDEN_CHARS.pattern}|{SURROGATE.pattern}")  # one search for the usual clean text


def text_problem(value: str) -> tuple[str, str] | None:
    """(rule, message) when `value` is text the service refuses, None when it is fine."""
    if not _ANY_REFUSED.search(value):
        return None
    if SURROGATE.search(value):
        return "unicode", "text must be valid Unicode (no lone surrogates)"
    found = FORBIDDEN_CHARS.search(value)
    if found:
        return "control_characters", (f"text must not contain control, bidirectional or zero-width characters "
                                      f"(found U+{ord(found.group()):04X})")
    return None


def _pointer(path: tuple) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


def size_findings(doc: dict) -> list[tuple[str, str, str]]:
    """(path, rule, message) for each text beyond its maximum (model.TEXT_MAX) or holding refused
    characters, and each list beyond its length (model.LIST_MAX). Iterative: deep values cannot exhaust
    the stack. Each value carries its model.field_key, built as the walk descends (list indices add nothing)."""
    found = []
    stack: list[tuple[tuple, str, Any]] = [((key,), f"/{key}", value) for key, value in doc.items()]
    while stack:
        path, key, value = stack.pop()
        if isinstance(value, str):
            problem = text_problem(value)
            longest = model.TEXT_MAX.get(key, model.DEFAULT_TEXT_MAX)
            if problem:
                found.append((_pointer(path), *problem))
            elif len(value) > longest:
                found.append((_pointer(path), "max_length", f"{key[1:]} holds at most {longest} characters"))
        elif isinstance(value, list):
            most = model.LIST_MAX.get(key, model.DEFAULT_LIST_MAX)
            if len(value) > most:
                found.append((_pointer(path), "max_items", f"{key[1:]} holds at most {most} entries"))
            else:
                stack.extend((path + (i,), key, v) for i, v in enumerate(value))
        elif isinstance(value, dict):
            stack.extend((path + (str(k),), f"{key}/{k}", v) for k, v in value.items())
    return sorted(found)
