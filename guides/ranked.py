"""One form's matches in key order, made lazily: entries are built and sorted a bucket at a time, as pages
reach them."""
from __future__ import annotations

import heapq
import operator
from collections.abc import Callable, Iterable, Iterator

_HEAD = operator.itemgetter(0)


class Ranked:
    """The (key, code, tier, coverage, form, matched) entries of one form or spelling, in key order.

    Matches are grouped into buckets by the leading part of their key (the head); the heads are sorted at
    once, but a bucket's entries are made and sorted only when iteration first reaches it. A page of 20
    from a broad word (申请 in the guide text of 1,100 items) makes only its first buckets' entries; a later
    query going deeper makes the rest, once (callers hold the index's lock).
    """

    __slots__ = ("_buckets", "_made", "_make", "_size")

    def __init__(self, buckets: dict[tuple, list], make: Callable[[tuple, list], Iterable[tuple]],
                 size: int) -> None:
        """`make(head, items)` returns a bucket's entries in key order (an iterator is drawn from only as far
        as iteration goes); every key of it starts with `head`; `size` is the number of entries in all."""
        self._buckets = sorted(buckets.items(), key=_HEAD)
        self._made: list[tuple[list[tuple], Iterator[tuple]] | None] = [None] * len(self._buckets)
        self._make = make
        self._size = size

    def __len__(self) -> int:
        return self._size

    def __iter__(self) -> Iterator[tuple]:
        made = self._made
        for i, (head, items) in enumerate(self._buckets):
            if made[i] is None:
                made[i] = ([], iter(self._make(head, items)))
            done, pending = made[i]
            yield from done
            for entry in pending:
                done.append(entry)
                yield entry


def in_order(items: Iterable, bound: Callable, exact: Callable) -> Iterator[tuple]:
    """Yield (exact(item), item) in order of exact(item), all distinct, given bound(item) <= exact(item):
    items are sorted by their bound and exact() is worked out only for those the output has reached."""
    if exact is bound:  # nothing to look up: the bound is the order
        yield from ((bound(item), item) for item in sorted(items, key=bound))
        return
    waiting: list[tuple] = []
    for n, item in enumerate(sorted(items, key=bound)):
        low = bound(item)
        while waiting and waiting[0][0] <= low:
            key, _, found = heapq.heappop(waiting)
            yield key, found
        heapq.heappush(waiting, (exact(item), n, item))
    while waiting:
        key, _, found = heapq.heappop(waiting)
        yield key, found
