"""Which of a fixed set of names hold a text: the recall tests over real item names ask this for thousands
of texts of the same names, so the names are indexed by their bigrams once."""
from __future__ import annotations

import collections
import functools


@functools.lru_cache(maxsize=8)
def _bigram_index(names: tuple) -> tuple[dict[str, set[str]], dict[str, str]]:
    """({bigram: impl codes of the names holding it}, {impl code: name}): the names holding a text are found
    among those holding its first two characters (the recall tests ask thousands of texts of the same names)."""
    index = collections.defaultdict(set)
    for impl, name in names:
        for i in range(len(name) - 1):
            index[name[i:i + 2]].add(impl)
    return index, dict(names)


def containing(text: str, names: tuple) -> set[str]:
    """The impl codes of the names in which `text` occurs."""
    if len(text) < 2:
        return {impl for impl, name in names if text in name}
    index, by_code = _bigram_index(names)
    return {impl for impl in index.get(text[:2], ()) if text in by_code[impl]}
