"""Properties of the three-way merge and of the id-aware diff, over generated documents."""
from __future__ import annotations

import copy
import functools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from items.conformance import diff_documents
from items.merge import ABSENT, entry_index, merge, pointer_token, resolve
from items.model import CATALOGUE_FIELDS, CATALOGUE_OWNED
from items.patches import apply_patch

LISTS = ("basis", "conditions", "materials", "process")
MERGED = [f for f in CATALOGUE_FIELDS if f not in CATALOGUE_OWNED]
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

small_text = st.sampled_from(["甲", "乙", "丙", "", "a/b", "~x"])
leaf = st.one_of(small_text, st.integers(0, 3), st.none())
# Strategies are built once here, not inside the draws: Hypothesis validates every strategy object it meets
# for the first time, and building them per draw made that most of each example's time.
BOOL, ZERO_TO_THREE, ZERO_TO_FIVE = st.booleans(), st.integers(0, 3), st.integers(0, 5)
STATES = st.sampled_from(["in_use", "suspended", "cancelled"])
LEGAL_LIMIT = st.one_of(st.none(), st.fixed_dictionaries({"value": st.integers(0, 20)}))
SERVICE_OBJECTS = st.lists(st.sampled_from(["person", "enterprise"]), unique=True)
EDITED_KEY = st.sampled_from(["name", "copies", "note"])
ENTRY_COUNT = st.integers(0, 6)
LEVELS = st.lists(st.sampled_from("1234567"), unique=True, max_size=3)


@functools.lru_cache(maxsize=None)
def entry_strategy(entry_id: str):
    return st.fixed_dictionaries(
        {"id": st.just(entry_id), "name": small_text},
        optional={"copies": st.integers(0, 3), "note": small_text,
                  "limit": st.fixed_dictionaries({"value": st.integers(0, 5)},
                                                 optional={"unit": st.sampled_from(["workday", "calendar_day"])})},
    )


@functools.lru_cache(maxsize=None)
def new_id_lists(new_ids: tuple[str, ...]):
    return st.lists(st.sampled_from(new_ids), unique=True, max_size=2)


@functools.lru_cache(maxsize=None)
def positions(length: int):
    return st.integers(0, length)


@st.composite
def entry_list(draw, prefix: str):
    n = draw(ENTRY_COUNT)
    return [draw(entry_strategy(f"{prefix}{k}")) for k in range(n)]


@st.composite
def catalogue_documents(draw):
    doc = {
        "basic_code": "000104002000", "name": draw(small_text), "item_type": "01",
        "levels": draw(LEVELS),
        "state": draw(STATES),
        "legal_limit": draw(LEGAL_LIMIT),
        "service_objects": draw(SERVICE_OBJECTS),
    }
    for name in LISTS:
        doc[name] = draw(entry_list(name[0]))
    return doc


LOCAL_FIELDS = {"impl_code": "11410402MB1234567X4000104002000", "level": "4", "visits": 1,
                "promised_limit": {"value": 3}, "aliases": ["别名"]}


def mutate(draw, doc: dict, *, new_ids: list[str], four_same: bool) -> dict:
    """A copy of `doc` with random edits: scalars, entry removals, edits, additions and reorders."""
    out = copy.deepcopy(doc)
    if four_same and draw(BOOL):
        out["name"] = draw(small_text)
    if four_same and draw(BOOL):
        out["legal_limit"] = draw(LEGAL_LIMIT)
    if four_same and draw(BOOL):  # the catalogue owns state: a local item never changes it
        out["state"] = draw(STATES)
    if draw(BOOL):
        out["service_objects"] = draw(SERVICE_OBJECTS)
    for name in LISTS:
        if name == "basis" and not four_same:
            continue
        entries = [e for e in out[name] if draw(ZERO_TO_THREE) != 0]  # drop about one in four
        for e in entries:
            if draw(ZERO_TO_THREE) == 0:
                key = draw(EDITED_KEY)
                e[key] = draw(leaf)
            if "limit" in e and draw(ZERO_TO_THREE) == 0:
                e["limit"]["value"] = draw(ZERO_TO_FIVE)
        for new_id in draw(new_id_lists(tuple(new_ids))):
            if new_id not in {e["id"] for e in entries}:
                entries.insert(draw(positions(len(entries))), draw(entry_strategy(new_id)))
        if draw(BOOL):
            entries = draw(st.permutations(entries))
        out[name] = list(entries)
    return out


def as_local(doc: dict, draw) -> dict:
    out = {**copy.deepcopy(doc), **copy.deepcopy(LOCAL_FIELDS)}
    if draw(BOOL):
        del out["levels"]  # as claimed: a local item carries `level`
    return out


@st.composite
def merge_inputs(draw):
    base = draw(catalogue_documents())
    # "n…" ids may be added on both sides, with equal or different content
    local = mutate(draw, as_local(base, draw), new_ids=["n1", "n2", "l1"], four_same=False)
    catalogue = mutate(draw, base, new_ids=["n1", "n2", "k1"], four_same=True)
    return base, local, catalogue


def flatten(value, path: str = "", out: dict | None = None) -> dict:
    """Map every node to a leaf value or a container marker; list entries are named by id."""
    out = {} if out is None else out
    if type(value) is dict:
        out[path] = "{object}"
        for key, item in value.items():
            flatten(item, f"{path}/{pointer_token(key)}", out)
        return out
    index = entry_index(value)
    if index is not None:
        out[path] = "[entries]"
        for entry_id, item in index.items():
            flatten(item, f"{path}/{pointer_token(entry_id)}", out)
        return out
    out[path] = value
    return out


def block(doc: dict, fields) -> dict:
    return {k: doc[k] for k in fields if k in doc}


@SETTINGS
@given(st.data())
def test_merging_an_unchanged_catalogue_returns_the_local_item(data):
    base = data.draw(catalogue_documents())
    local = mutate(data.draw, as_local(base, data.draw), new_ids=["n1", "l1"], four_same=False)
    result = merge(base, local, base)
    assert result.clean
    assert result.document == local
    for name in MERGED:  # order too, not only content
        if name in local and entry_index(local[name]) is not None:
            assert [e["id"] for e in result.document[name]] == [e["id"] for e in local[name]]


@SETTINGS
@given(st.data())
def test_merging_onto_an_untouched_local_item_gives_the_catalogue_block(data):
    base = data.draw(catalogue_documents())
    catalogue = mutate(data.draw, base, new_ids=["k1", "k2"], four_same=True)
    local = {**base, **LOCAL_FIELDS}
    result = merge(base, local, catalogue)
    assert result.clean
    assert block(result.document, CATALOGUE_FIELDS) == block(catalogue, CATALOGUE_FIELDS)
    assert block(result.document, LOCAL_FIELDS) == LOCAL_FIELDS
    assert merge(base, base, catalogue).document == catalogue


@SETTINGS
@given(merge_inputs())
def test_without_conflicts_every_change_of_either_side_is_in_the_result(inputs):
    base, local, catalogue = inputs
    result = merge(base, local, catalogue)
    if not result.clean:
        return
    for name in CATALOGUE_FIELDS:
        if name == "levels" and name not in local:
            continue
        flat_base = flatten(base.get(name, ABSENT), f"/{name}")
        flat_result = flatten(result.document.get(name, ABSENT), f"/{name}")
        sides = [catalogue] if name in CATALOGUE_OWNED else [local, catalogue]
        for side in sides:
            flat_side = flatten(side.get(name, ABSENT), f"/{name}")
            for path in flat_side.keys() | flat_base.keys():
                if flat_side.get(path, ABSENT) != flat_base.get(path, ABSENT):
                    assert flat_result.get(path, ABSENT) == flat_side.get(path, ABSENT), path
    for name in LOCAL_FIELDS:
        assert result.document[name] == local[name]


@SETTINGS
@given(merge_inputs())
def test_a_local_entry_is_kept_unless_the_catalogue_removed_it_and_local_left_it_untouched(inputs):
    base, local, catalogue = inputs
    result = merge(base, local, catalogue)
    conflict_paths = [c.path for c in result.conflicts]
    for name in LISTS:
        kept = {e["id"] for e in result.document[name]}
        base_entries, catalogue_ids = entry_index(base[name]), {e["id"] for e in catalogue[name]}
        for e in local[name]:
            if e["id"] in kept:
                continue
            if name == "basis":  # four-same: the catalogue's list, whole
                assert e["id"] not in catalogue_ids
                continue
            path = f"/{name}/{pointer_token(e['id'])}"
            untouched_and_removed = e["id"] not in catalogue_ids and base_entries.get(e["id"]) == e
            assert untouched_and_removed or any(p == path or p.startswith(path + "/") for p in conflict_paths)


@SETTINGS
@given(merge_inputs(), st.sampled_from(["local", "catalogue"]))
def test_resolving_every_conflict_one_way_leaves_nothing_open(inputs, side):
    result = merge(*inputs)
    final = resolve(result, {c.path: side for c in result.conflicts})
    catalogue = inputs[2]
    assert merge(catalogue, final, catalogue).document == final  # settled onto the target version
    if side == "local":
        assert final == result.document


# --- id-aware diff ---------------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-3, 3), small_text),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(small_text, children, max_size=3)),
    max_leaves=10,
)


@SETTINGS
@given(st.data())
def test_diff_of_related_documents_round_trips(data):
    a = data.draw(catalogue_documents())
    b = mutate(data.draw, a, new_ids=["n1", "n2", "n3"], four_same=True)
    if data.draw(st.booleans()):
        b = {**b, **LOCAL_FIELDS}
    ops = diff_documents(a, b)
    assert apply_patch(a, ops) == b
    assert diff_documents(b, b) == []


@SETTINGS
@given(catalogue_documents(), st.data())
def test_a_pure_reorder_diffs_to_moves_only(doc, data):
    reordered = {**doc, "materials": data.draw(st.permutations(doc["materials"]))}
    ops = diff_documents(doc, reordered)
    assert {op["op"] for op in ops} <= {"move"}
    assert len(ops) <= max(len(doc["materials"]) - 1, 0)
    assert apply_patch(doc, ops) == reordered


@SETTINGS
@given(json_values, json_values)
def test_diff_of_arbitrary_json_round_trips(a, b):
    ops = diff_documents({"x": a}, {"x": b})
    assert apply_patch({"x": a}, ops) == {"x": b}
