"""Which list entry of a new catalogue version is which entry of the previous one: ids, names, renames."""
from __future__ import annotations

from items.model import ENTRY_KEY_FIELDS

# An entry brought without an id whose name matches nothing, at the position of an old entry that
# nothing matched, is that entry renamed when at least this share of its other fields is unchanged.
# Anywhere else in the list it takes every other field unchanged.
RENAME_SIMILARITY_IN_PLACE = 0.5


def _key(field: str, entry: dict) -> tuple:
    return tuple(entry.get(k) for k in ENTRY_KEY_FIELDS[field])


def _similarity(field: str, a: dict, b: dict) -> float | None:
    """Share of the fields other than id and name that two entries hold equal (None when there are none)."""
    names = (set(a) | set(b)) - {"id", *ENTRY_KEY_FIELDS[field]}
    if not names:
        return None
    return sum(1 for n in names if a.get(n) == b.get(n)) / len(names)


def _label(field: str, entry: dict) -> str:
    return " ".join(str(entry.get(k)) for k in ENTRY_KEY_FIELDS[field] if entry.get(k) not in (None, ""))


def match_entries(previous: dict | None, document: dict) -> tuple[dict, list[dict]]:
    """Give entries of `document` the ids of the previous version's entries they continue →
    (document, renames).

    An entry's explicit id is its identity: it is kept whatever its name now is, so renaming an entry
    in a revision that carries ids is a rename, never a removal plus an addition (local items match
    entries by id when they rebase). Entries without an id take the id of the unclaimed previous entry
    with the same name. In a list that brings no ids at all (imports of files without them), one that
    matches no name takes the id of a likely renamed entry (same position and mostly the same other fields, or identical other fields
    elsewhere), and each such rename is listed as {field, id, position, from, to, similarity} so the
    import report shows it instead of silently splitting the entry.
    """
    if not previous:
        return document, []
    out, renames = dict(document), []
    for field in ENTRY_KEY_FIELDS:
        old = [e for e in previous.get(field) or [] if isinstance(e, dict) and e.get("id")]
        new = document.get(field)
        if not isinstance(new, list) or not old:
            continue
        used = {e["id"] for e in new if isinstance(e, dict) and e.get("id")}
        brings_ids = bool(used)
        by_key: dict[tuple, str] = {}
        for entry in old:
            if entry["id"] not in used:
                by_key.setdefault(_key(field, entry), entry["id"])
        carried, unnamed = list(new), []
        for i, entry in enumerate(new):
            if not isinstance(entry, dict) or entry.get("id"):
                continue
            old_id = by_key.get(_key(field, entry))
            if old_id and old_id not in used:
                carried[i] = dict(entry, id=old_id)
                used.add(old_id)
            else:
                unnamed.append(i)
        if brings_ids:  # the list speaks in ids: an entry without one is new, not a guessed rename
            out[field] = carried
            continue
        position = {e["id"]: j for j, e in enumerate(old)}
        for i in unnamed:
            entry = new[i]
            free = [e for e in old if e["id"] not in used]
            in_place = [e for e in free if position[e["id"]] == i
                        and (_similarity(field, e, entry) or 1.0) >= RENAME_SIMILARITY_IN_PLACE]
            same = [e for e in free if _similarity(field, e, entry) == 1.0]
            found = in_place[0] if in_place else same[0] if len(same) == 1 else None
            if found is None:
                continue
            carried[i] = dict(entry, id=found["id"])
            used.add(found["id"])
            similarity = _similarity(field, found, entry)
            renames.append({"field": field, "id": found["id"], "position": i, "from": _label(field, found),
                            "to": _label(field, entry),
                            "similarity": None if similarity is None else round(similarity, 2)})
        out[field] = carried
    return out, renames
