"""RFC 6902 patches: the one module that imports jsonpatch; every patch we store is verified here."""
from __future__ import annotations

import copy

import jsonpatch
import jsonpointer

from items.errors import Malformed, invalid


def make_patch(src: dict, dst: dict) -> list[dict]:
    """Return the RFC 6902 operations that turn `src` into `dst`, verified by applying them."""
    ops = jsonpatch.make_patch(src, dst).patch
    verify_patch(src, ops, dst)
    return ops


def verify_patch(src: dict, ops: list[dict], dst: dict) -> None:
    """Raise Invalid (code patch_unverified) when applying `ops` to `src` does not give `dst`."""
    result = jsonpatch.apply_patch(src, ops, in_place=False)
    if result != dst:
        raise invalid("patch does not reproduce the target document", "", "patch_reproduces_document",
                      code="patch_unverified")


def apply_patch(doc, ops) -> dict:
    """Apply client-supplied RFC 6902 `ops` to a copy of `doc` and return the result.

    Raises Malformed when the patch is not a list of operations, Invalid (code patch_failed)
    when an operation cannot be applied (missing path, failed test, bad index).
    """
    if not isinstance(ops, list) or not all(isinstance(op, dict) for op in ops):
        raise invalid("a JSON Patch must be a list of operation objects", "", "rfc6902", code="malformed_patch",
                      kind=Malformed)
    try:
        result = jsonpatch.apply_patch(copy.deepcopy(doc), ops, in_place=True)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise invalid(f"patch test failed: {exc}", "", "rfc6902_test", code="patch_test_failed") from exc
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        raise invalid(f"patch cannot be applied: {exc}", "", "rfc6902", code="patch_failed") from exc
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        raise invalid(f"patch cannot be applied: {exc}", "", "rfc6902", code="patch_failed") from exc
    return result


def apply_document_patch(doc: dict, ops) -> dict:
    """apply_patch for an item document, which must stay a JSON object.

    An op on path "" may replace the whole document with any value (RFC 6902 allows it for any JSON
    document); an item document is always an object, so anything else is Invalid (patch_failed).
    """
    result = apply_patch(doc, ops)
    if not isinstance(result, dict):
        raise invalid("the patched document must stay a JSON object", "", "document_is_object",
                      code="patch_failed", error_message="a document is a JSON object")
    return result
