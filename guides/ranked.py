"""One form's matches in key order, made lazily: entries are built and sorted a bucket at a time, as pages
reach them."""
from __future__ import annotations

import operator
from collections.abc import Callable, Iterator

_HEAD = operator.itemgetter(0)


class Ranked:
    """The (key, code, tier, coverage, form, matched) entries of one form or spelling, in key order.

    Matches are grouped into buckets by the leading part of their key (the head); the heads are sorted at
    once, but a bucket's entries are made and sorted only when iteration first reaches it. A page of 20
    from a broad word (申请 in the guide text of 1,100 items) makes only its first buckets' entries; a later
    query going deeper makes the rest, once (callers hold the index's lock).
    """

    __slots__ = ("_buckets", "_made", "_make", "_size")

    def __init__(self, buckets: dict[tuple, list], make: Callable[[tuple, list], list[tuple]], size: int) -> None:
        """`make(head, items)` returns a bucket's entries, sorted; every key of it starts with `head`; `size`
        is the number of entries in all."""
        self._buckets = sorted(buckets.items(), key=_HEAD)
        self._made: list[list[tuple] | None] = [None] * len(self._buckets)
        self._make = make
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[tuple]:
        made = self._made
        for i, (head, items) in enumerate(self._buckets):
            entries = made[i]
            if entries is None:
                entries = made[i] = self._make(head, items)
            yield from entries
