"""Merge and conformance cases met while serving rebases: `state` is set by the catalogue (DOMAIN.md §3)
and locked for editors (items/local.py _check_locked), so it should behave like legal_limit."""
from __future__ import annotations

import copy

import pytest

from items.conformance import check
from items.merge import merge

CATALOGUE = {
    "basic_code": "000104002000", "name": "建筑工程施工许可证核发", "item_type": "01",
    "basis": [{"id": "b1", "kind": "法律", "title": "中华人民共和国建筑法", "article": "第七条", "text": "…"}],
    "levels": ["3", "4"], "state": "in_use", "legal_limit": {"value": 15, "unit": "workday", "note": ""},
    "service_objects": ["enterprise"], "conditions": [], "materials": [], "process": [], "fees": [], "faq": [],
}


def local_with_state(state: str) -> dict:
    doc = {k: copy.deepcopy(v) for k, v in CATALOGUE.items() if k != "levels"}
    doc.update(state=state, impl_code="11410402MB1234567X4000104002000", level="4")
    return doc


def test_a_local_state_that_differs_from_the_catalogue_is_a_catalogue_owned_error():
    report = check(local_with_state("suspended"), CATALOGUE, CATALOGUE, 1, 1, with_patch=False)
    kinds = {f["kind"] for f in report["findings"] if f["path"] == "/state"}
    assert kinds == {"catalogue_owned_changed"}


def test_a_catalogue_cancellation_carries_over_whatever_the_local_state():
    result = merge(CATALOGUE, local_with_state("suspended"), dict(CATALOGUE, state="cancelled"))
    assert result.clean and result.document["state"] == "cancelled"
