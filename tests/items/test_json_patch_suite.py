"""The RFC 6902 conformance suite through items.patches.apply_patch, the code PATCH /items uses."""
from __future__ import annotations

import json

from items.errors import DomainError
from items.patches import apply_patch

SUITE_FILES = ("tests.json", "spec_tests.json")


def enabled_records(external):
    """(label, record) for every record that is neither disabled nor only a comment."""
    for name in SUITE_FILES:
        records = json.loads((external / "json-patch-tests" / name).read_text(encoding="utf-8"))
        for i, record in enumerate(records):
            if record.get("disabled") or "patch" not in record:
                continue
            yield f"{name}#{i} {record.get('comment', '')}", record


def outcome(record) -> str | None:
    """None when the record behaves as the suite expects, else what went wrong."""
    try:
        result = apply_patch(record["doc"], record["patch"])
    except DomainError as exc:
        return None if "error" in record else f"unexpected {exc.code}: {exc.message}"
    except Exception as exc:  # noqa: BLE001 - any other exception type is the failure being tested for
        return f"crashed with {type(exc).__name__}: {exc}"
    if "error" in record:
        return f"applied although the suite expects an error ({record['error']})"
    if "expected" in record and result != record["expected"]:
        return f"gave {result!r}, expected {record['expected']!r}"
    return None


def test_every_enabled_record_gives_the_expected_result_or_a_domain_error(external):
    records = list(enabled_records(external))
    assert len(records) >= 100, "json-patch-tests should hold over 100 enabled records"
    failures = [(label, problem) for label, record in records if (problem := outcome(record))]
    assert failures == []


def test_records_expecting_an_error_raise_a_domain_error(external):
    erroring = [record for _, record in enabled_records(external) if "error" in record]
    assert len(erroring) >= 30
    for record in erroring:
        assert outcome(record) is None


def test_applying_leaves_the_input_document_untouched():
    doc = {"materials": [{"id": "m1", "name": "身份证"}]}
    apply_patch(doc, [{"op": "add", "path": "/materials/-", "value": {"id": "m2", "name": "户口簿"}}])
    assert doc == {"materials": [{"id": "m1", "name": "身份证"}]}
