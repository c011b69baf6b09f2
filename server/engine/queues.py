"""A sorted multiset of queue keys, cut into buckets so that every operation stays cheap at 100 000.

`first()` is O(1), `add` / `remove` are O(log n + B) and `count_less` is O(n/B + log B) with B ≈ 500:
call-next reads the head of a few of these and never looks at the rest of the line. (The same idea
as sortedcontainers' SortedList, cut down to what the engine needs, so the engine has no dependency.)
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator

Key = tuple[int, int, str]

_LOAD = 500


class OrderedQueue:
    def __init__(self) -> None:
        self._buckets: list[list[Key]] = []
        self._maxes: list[Key] = []
        self._len = 0

    def __len__(self) -> int:
        return self._len

    def __bool__(self) -> bool:
        return self._len > 0

    def __iter__(self) -> Iterator[Key]:
        for bucket in self._buckets:
            yield from bucket

    def __contains__(self, key: object) -> bool:
        if not self._buckets or not isinstance(key, tuple):
            return False
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            return False
        bucket = self._buckets[i]
        j = bisect_left(bucket, key)
        return j < len(bucket) and bucket[j] == key

    def first(self) -> Key | None:
        return self._buckets[0][0] if self._buckets else None

    def add(self, key: Key) -> None:
        self._len += 1
        if not self._buckets:
            self._buckets.append([key])
            self._maxes.append(key)
            return
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):  # the usual case: a new ticket joins the end of the line
            i -= 1
            self._buckets[i].append(key)
            self._maxes[i] = key
        else:
            insort(self._buckets[i], key)
        bucket = self._buckets[i]
        if len(bucket) > 2 * _LOAD:
            tail = bucket[_LOAD:]
            del bucket[_LOAD:]
            self._buckets.insert(i + 1, tail)
            self._maxes[i] = bucket[-1]
            self._maxes.insert(i + 1, tail[-1])

    def remove(self, key: Key) -> None:
        i = bisect_left(self._maxes, key)
        if i == len(self._maxes):
            raise KeyError(key)
        bucket = self._buckets[i]
        j = bisect_left(bucket, key)
        if j == len(bucket) or bucket[j] != key:
            raise KeyError(key)
        del bucket[j]
        self._len -= 1
        if bucket:
            self._maxes[i] = bucket[-1]
        else:
            del self._buckets[i]
            del self._maxes[i]

    def count_less(self, key: Key) -> int:
        """How many keys sort before `key` (the people ahead of it in this line)."""
        if not self._buckets:
            return 0
        if key > self._maxes[-1]:
            return self._len
        i = bisect_left(self._maxes, key)
        before = sum(len(b) for b in self._buckets[:i])
        return before + bisect_left(self._buckets[i], key)

    def nth(self, index: int) -> Key:
        """The key at position `index` (0 = head); IndexError past the end."""
        if index < 0 or index >= self._len:
            raise IndexError(index)
        for bucket in self._buckets:
            if index < len(bucket):
                return bucket[index]
            index -= len(bucket)
        raise IndexError(index)  # unreachable: lengths add up
