"""Three-way merge that carries a new catalogue version onto a local item, list entries matched by id.

Conflict paths name list entries by their id, not their index: `/materials/m3` is the material whose
id is "m3", `/materials/m3/name` a field inside it, `/legal_limit/value` a key of an object field.
Keys and ids are escaped as in RFC 6901 (`~` → `~0`, `/` → `~1`). Index-based paths would point at
different entries in the three versions; a replayed index patch silently corrupts reordered lists.

Documents are plain JSON values; the merged document shares unchanged sub-objects with its inputs
(no deep copies, for the bulk rebase), so copy it before mutating it in place.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from items.errors import DomainError, Malformed, invalid, invalid_all, rule_error
from items.model import CATALOGUE_FIELDS, CATALOGUE_OWNED

# Catalogue-owned fields always take the catalogue's value: CONTRACT.md §2 (four-same + legal_limit).
_TAKEN_FROM_CATALOGUE = tuple(CATALOGUE_OWNED)
# The rest of the catalogue block merges three ways; local-only fields are never touched.
_MERGED = tuple(f for f in CATALOGUE_FIELDS if f not in CATALOGUE_OWNED)
# A local item carries its own `level` instead of the catalogue's `levels` (model.local_defaults), so
# `levels` merges only into a local item that holds it.
_ONLY_WHEN_CARRIED = frozenset({"levels"})

LOCAL = "local"
CATALOGUE = "catalogue"


class _Absent:
    """The value of a key a document does not hold (distinct from JSON null)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "ABSENT"

    def __reduce__(self):
        return "ABSENT"


ABSENT: Any = _Absent()


def pointer_token(key: Any) -> str:
    """Return `key` as one RFC 6901 reference token (`~` → `~0`, `/` → `~1`)."""
    text = key if type(key) is str else str(key)
    if "~" in text or "/" in text:
        return text.replace("~", "~0").replace("/", "~1")
    return text


def entry_index(value: Any) -> dict | None:
    """Return {id: entry} when `value` is a list of objects each with a string `id` unique in the list.

    Returns None for anything else (a list of scalars, missing or repeated ids): such a list is one
    value, merged and diffed as a whole.
    """
    if type(value) is not list:
        return None
    index = {}
    for entry in value:
        if type(entry) is not dict:
            return None
        entry_id = entry.get("id")
        if type(entry_id) is not str or entry_id in index:
            return None
        index[entry_id] = entry
    return index


@dataclass(frozen=True)
class MergeConflict:
    """Both sides changed the value at `path` differently; the three values, ABSENT where not held."""

    path: str
    base: Any
    local: Any
    catalogue: Any

    def as_dict(self) -> dict:
        """Return {path, base, local, catalogue} with an absent value written as null (CONTRACT.md §3)."""
        return {"path": self.path, "base": _json(self.base), "local": _json(self.local),
                "catalogue": _json(self.catalogue)}


def _json(value: Any) -> Any:
    return None if value is ABSENT else value


@dataclass
class MergeResult:
    """The merged document and its conflicts.

    While conflicts remain, `document` holds local's side at each conflict (an entry local removed
    stays removed); `resolve` settles them.
    """

    document: dict
    conflicts: list[MergeConflict]
    inputs: tuple[dict, dict, dict] = field(repr=False, compare=False)

    @property
    def clean(self) -> bool:
        """True when nothing needs a decision."""
        return not self.conflicts


class _Merger:
    """One merge run: collects conflicts, or settles them from `resolutions` when given."""

    __slots__ = ("conflicts", "resolutions")

    def __init__(self, resolutions: dict | None):
        self.conflicts: list[MergeConflict] = []
        self.resolutions = resolutions

    def conflict(self, path: str, base: Any, local: Any, catalogue: Any, entry_id: str | None) -> Any:
        if self.resolutions is None or path not in self.resolutions:
            self.conflicts.append(MergeConflict(path, base, local, catalogue))
            return local
        choice = self.resolutions[path]
        if type(choice) is str and choice == LOCAL:
            return local
        if type(choice) is str and choice == CATALOGUE:
            return catalogue
        if entry_id is not None:
            return _entry_choice(path, choice, entry_id)
        return choice

    def value(self, path: str, base: Any, local: Any, catalogue: Any, entry_id: str | None = None) -> Any:
        # One side unchanged: the other side's value, whole (no descent needed).
        if local == catalogue:
            return local
        if local == base:
            return catalogue
        if catalogue == base:
            return local
        if type(base) is dict and type(local) is dict and type(catalogue) is dict:
            return self.object(path, base, local, catalogue)
        if type(local) is list and type(catalogue) is list and (type(base) is list or base is ABSENT):
            local_index, catalogue_index = entry_index(local), entry_index(catalogue)
            base_index = entry_index(base) if base is not ABSENT else {}
            if local_index is not None and catalogue_index is not None and base_index is not None:
                return self.entries(path, base_index, local_index, catalogue_index)
        return self.conflict(path, base, local, catalogue, entry_id)

    def object(self, path: str, base: dict, local: dict, catalogue: dict) -> dict:
        out = {}
        for key in (*local, *(k for k in catalogue if k not in local)):
            merged = self.value(f"{path}/{pointer_token(key)}", base.get(key, ABSENT),
                                local.get(key, ABSENT), catalogue.get(key, ABSENT))
            if merged is not ABSENT:
                out[key] = merged
        return out

    def entries(self, path: str, base: dict, local: dict, catalogue: dict) -> list:
        merged: dict[str, Any] = {}
        for entry_id, entry in local.items():
            value = self.value(f"{path}/{pointer_token(entry_id)}", base.get(entry_id, ABSENT), entry,
                               catalogue.get(entry_id, ABSENT), entry_id)
            if value is not ABSENT:
                merged[entry_id] = value
        for entry_id, entry in catalogue.items():
            if entry_id not in local:
                value = self.value(f"{path}/{pointer_token(entry_id)}", base.get(entry_id, ABSENT), ABSENT,
                                   entry, entry_id)
                if value is not ABSENT:
                    merged[entry_id] = value
        return [merged[i] for i in _order(base, list(local), list(catalogue), merged)]


def _entry_choice(path: str, choice: Any, entry_id: str) -> Any:
    """A resolution value for a whole list entry: null removes it, an object is the entry."""
    if choice is None:
        return ABSENT
    if type(choice) is not dict:
        raise invalid("a list entry is resolved by an object, null, \"local\" or \"catalogue\"", path,
                      "entry_resolution_shape", code="invalid_resolution", error_message="expected an object or null")
    if "id" not in choice:
        return {"id": entry_id, **choice}
    if choice["id"] != entry_id:
        raise invalid("a resolved list entry keeps its id", path, "entry_resolution_id", code="invalid_resolution",
                      error_message=f"the entry's id must stay {entry_id!r}")
    return choice


def _reordered(base_position: dict, ids: list) -> bool:
    """True when the entries `ids` shares with base are not in base's relative order."""
    last = -1
    for entry_id in ids:
        position = base_position.get(entry_id)
        if position is not None:
            if position < last:
                return True
            last = position
    return False


def _order(base: dict, local_ids: list, catalogue_ids: list, merged: dict) -> list:
    """Return the merged entries' ids in their merged order.

    Local order is the frame unless only the catalogue reordered (a one-sided change takes that
    side); entries the frame side lacks go right after their nearest predecessor in the other side's
    order that is present in the frame, or first when none precedes them.
    """
    base_position = {entry_id: k for k, entry_id in enumerate(base)}
    if _reordered(base_position, catalogue_ids) and not _reordered(base_position, local_ids):
        frame, other = catalogue_ids, local_ids
    else:
        frame, other = local_ids, catalogue_ids
    sequence = [i for i in frame if i in merged]
    if len(sequence) == len(merged):
        return sequence
    placed = set(sequence)
    after: dict[str | None, list] = {}
    anchor = None
    for entry_id in other:
        if entry_id in placed:
            anchor = entry_id
        elif entry_id in merged:
            after.setdefault(anchor, []).append(entry_id)
    out = after.get(None, [])
    for entry_id in sequence:
        out.append(entry_id)
        out.extend(after.get(entry_id, ()))
    return out


def _run(base: dict, local: dict, catalogue: dict, resolutions: dict | None) -> MergeResult:
    for name, doc in (("base", base), ("local", local), ("catalogue", catalogue)):
        if type(doc) is not dict:
            raise invalid("an item document is a JSON object", "", "document_object", code="malformed_document",
                          error_message=f"{name} is not an object", kind=Malformed)
    merger = _Merger(resolutions)
    document = dict(local)
    for name in _TAKEN_FROM_CATALOGUE:  # four-same and legal_limit: CONTRACT.md §2
        if name in catalogue:
            document[name] = catalogue[name]
        else:
            document.pop(name, None)
    for name in _MERGED:
        local_value = local.get(name, ABSENT)
        if local_value is ABSENT and name in _ONLY_WHEN_CARRIED:
            continue
        merged = merger.value(f"/{name}", base.get(name, ABSENT), local_value, catalogue.get(name, ABSENT))
        if merged is ABSENT:
            document.pop(name, None)
        else:
            document[name] = merged
    return MergeResult(document, merger.conflicts, (base, local, catalogue))


def merge(base: dict, local: dict, catalogue: dict) -> MergeResult:
    """Return the three-way merge of `local` (based on catalogue version `base`) with `catalogue`.

    Four-same fields and legal_limit take the catalogue's value; the other catalogue-block fields
    merge three ways (objects key by key, id-keyed lists entry by entry and in order); local-only
    fields stay as local has them. Raises Malformed when a document is not an object.
    """
    return _run(base, local, catalogue, None)


def _unresolved(conflicts: list) -> DomainError:
    errors = [rule_error(c.path, "conflict_resolved", "choose local, catalogue or a value") for c in conflicts]
    return invalid_all("every conflict needs a resolution", errors, code="unresolved_conflicts",
                       conflicts=[c.as_dict() for c in conflicts])


def resolve(result_or_inputs: MergeResult | tuple[dict, dict, dict], resolutions: dict) -> dict:
    """Return the merged document with every conflict settled by `resolutions`.

    `resolutions` maps each conflict path to "local", "catalogue" or a value (for a whole list
    entry: an object, or null to leave it out). `result_or_inputs` is a MergeResult or the
    (base, local, catalogue) triple. Raises Invalid code unknown_conflict_path for a path that names
    no conflict, unresolved_conflicts when a conflict has no resolution, invalid_resolution for an
    entry value that is not an object with the entry's id.
    """
    if isinstance(result_or_inputs, MergeResult):
        first = result_or_inputs
    else:
        first = merge(*result_or_inputs)
    if not isinstance(resolutions, dict):
        raise invalid("resolutions map conflict paths to choices", "/resolutions", "object",
                      code="malformed_resolutions", kind=Malformed)
    known = {c.path: c for c in first.conflicts}
    unknown = sorted(p for p in resolutions if p not in known)
    if unknown:
        raise invalid_all("a resolution names no conflict",
                          [rule_error(p, "resolution_names_conflict", "no conflict at this path") for p in unknown],
                          code="unknown_conflict_path")
    missing = [c for path, c in known.items() if path not in resolutions]
    if missing:
        raise _unresolved(missing)
    final = _run(*first.inputs, resolutions)
    if final.conflicts:  # resolutions are final values, so no conflict can appear anew
        raise _unresolved(final.conflicts)
    return final.document
