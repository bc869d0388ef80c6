"""The RFC 6902 conformance suite through items.patches.apply_patch, the code PATCH /items uses."""
from __future__ import annotations

import json

import pytest

from conftest import SHARED_EXTERNAL
from items.errors import DomainError
from items.patches import apply_patch

SUITE_FILES = ("tests.json", "spec_tests.json")


def suite_records():
    """(id, record) for every record that is neither disabled nor only a comment."""
    for name in SUITE_FILES:
        path = SHARED_EXTERNAL / "json-patch-tests" / name
        if not path.is_file():
            continue
        for i, record in enumerate(json.loads(path.read_text(encoding="utf-8"))):
            if record.get("disabled") or "patch" not in record:
                continue
            yield pytest.param(record, id=f"{name}:{i}:{record.get('comment', '')[:40]}")


RECORDS = list(suite_records())


def test_suite_is_present(external):
    assert len(RECORDS) >= 100, "json-patch-tests should hold over 100 enabled records"


@pytest.mark.parametrize("record", RECORDS)
def test_record_gives_the_expected_result_or_a_domain_error(record):
    if "error" in record:
        with pytest.raises(DomainError):
            apply_patch(record["doc"], record["patch"])
        return
    result = apply_patch(record["doc"], record["patch"])
    if "expected" in record:
        assert result == record["expected"]
    else:  # a record without an expected document only promises that the patch applies
        assert result is not None or record["doc"] is None


def test_applying_leaves_the_input_document_untouched():
    doc = {"materials": [{"id": "m1", "name": "身份证"}]}
    apply_patch(doc, [{"op": "add", "path": "/materials/-", "value": {"id": "m2", "name": "户口簿"}}])
    assert doc == {"materials": [{"id": "m1", "name": "身份证"}]}
