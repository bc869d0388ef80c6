"""Conformance of a local item to its catalogue item, and the id-aware RFC 6902 diff it reports.

Finding paths name list entries by id (`/materials/m3`), as merge conflict paths do (items/merge.py);
the `patch` uses RFC 6902 index paths, which is what a patch must do.
"""
from __future__ import annotations

from typing import Any

from items.merge import ABSENT, entry_index, pointer_token
from items.model import CATALOGUE_FIELDS, FOUR_SAME
from items.patches import verify_patch

INFO, WARNING, ERROR = "info", "warning", "error"
# The catalogue owns legal_limit besides the four-same fields: CONTRACT.md §2.
_OWNED_NOT_FOUR_SAME = ("legal_limit", "state")
_CATALOGUE_BLOCK = frozenset(CATALOGUE_FIELDS)
# A local item carries its own `level` instead of `levels` (model.local_defaults): no difference.
_NOT_CARRIED = frozenset({"levels"})
_ELEMENT_LISTS = ("conditions", "materials", "process", "fees", "faq")
_ENTRY_NOUN = {"conditions": "condition", "materials": "material", "process": "process step",
               "fees": "fee", "faq": "question"}


# --- id-aware diff ---------------------------------------------------------------------------------

def diff_documents(src: Any, dst: Any, *, verify: bool = True) -> list[dict]:
    """Return RFC 6902 operations that turn `src` into `dst`, matching list entries by their `id`.

    A reordered list costs the fewest `move` operations (entries off a longest run kept in order
    move), an edited entry is patched inside, an added or removed entry is one add or remove.
    Lists without unique string ids are replaced whole. The operations' values share objects with
    `dst`. With `verify` (the default) the patch is applied to `src` and must give `dst`; raises
    Invalid code patch_unverified otherwise (items.patches.verify_patch).
    """
    ops: list[dict] = []
    _diff("", src, dst, ops)
    if verify:
        verify_patch(src, ops, dst)
    return ops


def _diff(path: str, src: Any, dst: Any, ops: list) -> None:
    if src == dst:
        return
    if type(src) is dict and type(dst) is dict:
        for key in src:
            if key not in dst:
                ops.append({"op": "remove", "path": f"{path}/{pointer_token(key)}"})
        for key, value in dst.items():
            if key in src:
                _diff(f"{path}/{pointer_token(key)}", src[key], value, ops)
            else:
                ops.append({"op": "add", "path": f"{path}/{pointer_token(key)}", "value": value})
        return
    if type(src) is list and type(dst) is list:
        src_index, dst_index = entry_index(src), entry_index(dst)
        if src_index is not None and dst_index is not None:
            _diff_entries(path, src, dst, src_index, dst_index, ops)
            return
    ops.append({"op": "replace", "path": path, "value": dst})


def _diff_entries(path: str, src: list, dst: list, src_index: dict, dst_index: dict, ops: list) -> None:
    # Removals from the end, so the indexes still to be removed do not shift.
    for k in range(len(src) - 1, -1, -1):
        if src[k]["id"] not in dst_index:
            ops.append({"op": "remove", "path": f"{path}/{k}"})
    work = [e["id"] for e in src if e["id"] in dst_index]
    target = [e["id"] for e in dst if e["id"] in src_index]
    if work != target:
        _moves(path, work, target, ops)
    # `work` now holds the kept entries in dst's relative order: each add lands at its final index.
    for k, entry in enumerate(dst):
        if entry["id"] not in src_index:
            ops.append({"op": "add", "path": f"{path}/{k}", "value": entry})
    for k, entry in enumerate(dst):
        before = src_index.get(entry["id"])
        if before is not None:
            _diff(f"{path}/{k}", before, entry, ops)


def _moves(path: str, work: list, target: list, ops: list) -> None:
    """Append the moves that put `work` in `target` order, moving only entries off a longest kept run.

    Each moved entry goes right after its predecessor in `target`; entries on the run never move,
    so the result is `target` (each moved entry ends up chained to its already placed predecessor).
    """
    position = {entry_id: k for k, entry_id in enumerate(work)}
    stay = _longest_increasing_run(target, position)
    for k, entry_id in enumerate(target):
        if entry_id in stay:
            continue
        source = work.index(entry_id)
        del work[source]
        to = work.index(target[k - 1]) + 1 if k else 0
        work.insert(to, entry_id)
        if source != to:
            ops.append({"op": "move", "from": f"{path}/{source}", "path": f"{path}/{to}"})


def _longest_increasing_run(target: list, position: dict) -> set:
    """Return the ids of a longest subsequence of `target` whose positions in `work` increase."""
    tails: list[int] = []       # tails[n] = index into target ending the best run of length n+1
    previous = [-1] * len(target)
    for k, entry_id in enumerate(target):
        value = position[entry_id]
        low, high = 0, len(tails)
        while low < high:
            middle = (low + high) // 2
            if position[target[tails[middle]]] < value:
                low = middle + 1
            else:
                high = middle
        previous[k] = tails[low - 1] if low else -1
        if low == len(tails):
            tails.append(k)
        else:
            tails[low] = k
    stay = set()
    k = tails[-1] if tails else -1
    while k != -1:
        stay.add(target[k])
        k = previous[k]
    return stay


# --- conformance -----------------------------------------------------------------------------------

def _finding(path: str, kind: str, severity: str, message: str) -> dict:
    return {"path": path, "kind": kind, "severity": severity, "message": message}


def _has_reason(material: dict) -> bool:
    return any(isinstance(material.get(k), str) and material[k].strip() for k in ("note", "reason"))


def _list_findings(name: str, local: dict, catalogue: dict, findings: list) -> None:
    """Classify the entry-level differences of one id-keyed list (local vs catalogue)."""
    noun = _ENTRY_NOUN.get(name, "entry")
    for entry_id, entry in local.items():
        path = f"/{name}/{pointer_token(entry_id)}"
        theirs = catalogue.get(entry_id)
        if theirs is None:
            if name != "materials":
                findings.append(_finding(path, "local_element", INFO, f"a {noun} the catalogue does not list"))
            elif _has_reason(entry):
                # a material beyond the catalogue is allowed with a reason (层层加码: DOMAIN.md §3)
                findings.append(_finding(path, "material_added", INFO,
                                         "a material the catalogue does not require; its note or reason "
                                         "says why"))
            else:
                findings.append(_finding(path, "material_added", WARNING,
                                         "a material the catalogue does not require needs a reason "
                                         "(a non-empty note or reason)"))
        elif entry != theirs:
            changed = sorted(k for k in entry.keys() | theirs.keys()
                             if entry.get(k, ABSENT) != theirs.get(k, ABSENT))
            findings.append(_finding(path, "local_element", INFO,
                                     f"the local {noun} differs from the catalogue in: {', '.join(changed)}"))
    for entry_id in catalogue:
        if entry_id not in local:
            path = f"/{name}/{pointer_token(entry_id)}"
            if name == "materials":
                findings.append(_finding(path, "material_dropped", WARNING,
                                         "a material the catalogue requires is left out; this needs a reason"))
            else:
                findings.append(_finding(path, "local_element", INFO, f"a catalogue {noun} is left out"))
    shared_local = [i for i in local if i in catalogue]
    shared_catalogue = [i for i in catalogue if i in local]
    if shared_local != shared_catalogue:
        findings.append(_finding(f"/{name}", "reordered", INFO, f"the {name} are in a local order"))


def _findings(local: dict, catalogue: dict, latest: dict, outdated: bool, latest_version: int) -> list[dict]:
    findings = []
    for name in FOUR_SAME:
        if local.get(name, ABSENT) != catalogue.get(name, ABSENT):
            findings.append(_finding(f"/{name}", "four_same_deviation", ERROR,
                                     f"{name} must equal the catalogue's (四级四同)"))
        elif outdated and local.get(name, ABSENT) != latest.get(name, ABSENT):
            findings.append(_finding(f"/{name}", "four_same_outdated", WARNING,
                                     f"catalogue version {latest_version} changed {name}; rebase the item"))
    for name in _OWNED_NOT_FOUR_SAME:
        if local.get(name, ABSENT) != catalogue.get(name, ABSENT):
            findings.append(_finding(f"/{name}", "catalogue_owned_changed", ERROR,
                                     f"{name} is set by the catalogue and must not change locally"))
    owned = set(FOUR_SAME) | set(_OWNED_NOT_FOUR_SAME)
    for name in CATALOGUE_FIELDS:
        if name in owned:
            continue
        mine, theirs = local.get(name, ABSENT), catalogue.get(name, ABSENT)
        if mine == theirs or (mine is ABSENT and name in _NOT_CARRIED):
            continue
        mine_index = entry_index(mine)
        theirs_index = {} if theirs is ABSENT else entry_index(theirs)  # a list the catalogue lacks: all added
        if name in _ELEMENT_LISTS and mine_index is not None and theirs_index is not None:
            _list_findings(name, mine_index, theirs_index, findings)
        else:
            findings.append(_finding(f"/{name}", "local_element", INFO,
                                     f"the local {name} differs from the catalogue"))
    for name in (*local, *(k for k in catalogue if k not in local)):
        if name not in _CATALOGUE_BLOCK and local.get(name, ABSENT) != catalogue.get(name, ABSENT):
            message = (f"{name} is set by the implementing department" if name in local
                       else f"the local item leaves out {name}")
            findings.append(_finding(f"/{pointer_token(name)}", "local_element", INFO, message))
    return findings


def check(local: dict, base_catalogue: dict, latest_catalogue: dict, base_version: int, latest_version: int,
          with_patch: bool = True) -> dict:
    """Return the conformance report of CONTRACT.md §3 for `local` against its catalogue item.

    Four-same fields and findings compare the local item with `base_catalogue`, the catalogue
    version it is based on; `outdated` says whether a later version exists, and a four-same field the
    later version changed is a `four_same_outdated` warning. `patch` holds the RFC 6902 operations
    from the catalogue document to the local item (verified by applying them), or null when
    `with_patch` is False (bulk checks). Finding kinds: four_same_deviation and
    catalogue_owned_changed (error), material_added (warning; info when the material's note or
    reason gives one), material_dropped (warning), four_same_outdated (warning), local_element and
    reordered (info). Raises Invalid code patch_unverified if the patch would not reproduce the item.
    """
    outdated = latest_version > base_version
    four_same = {}
    for name in FOUR_SAME:
        mine, theirs = local.get(name), base_catalogue.get(name)
        four_same[name] = {"same": mine == theirs, "local": mine, "catalogue": theirs}
    return {
        "catalogue_version": base_version,
        "latest_catalogue_version": latest_version,
        "outdated": outdated,
        "four_same": four_same,
        "patch": diff_documents(base_catalogue, local) if with_patch else None,
        "findings": _findings(local, base_catalogue, latest_catalogue, outdated, latest_version),
    }
