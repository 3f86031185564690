"""Turn an old and a new list of records into the smallest row operations that a list model can
apply: removals, insertions and changed rows. Records are matched by id; records whose relative
order changed are moved as a remove plus an insert (a longest increasing subsequence stays put).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from itertools import compress, count
from operator import eq, ne


@dataclass(frozen=True, slots=True)
class ListPatch[T]:
    """Apply in order: `removals` (inclusive row ranges in the old list, highest first), then
    `insertions` (row in the list as it grows, items; lowest first), then `changed` (rows of the
    new list whose record differs but kept its place)."""

    removals: list[tuple[int, int]] = field(default_factory=list)
    insertions: list[tuple[int, list[T]]] = field(default_factory=list)
    changed: list[int] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.removals or self.insertions or self.changed)

    @property
    def size(self) -> int:
        """Number of rows touched."""
        return (
            sum(last - first + 1 for first, last in self.removals)
            + sum(len(items) for _, items in self.insertions)
            + len(self.changed)
        )


def _longest_increasing(seq: Sequence[int]) -> set[int]:
    """Indices into `seq` of one longest strictly increasing subsequence (O(n log n))."""
    tails: list[int] = []  # seq values
    tail_idx: list[int] = []  # index in seq of each tail
    prev = [-1] * len(seq)
    for i, value in enumerate(seq):
        pos = bisect_left(tails, value)
        if pos == len(tails):
            tails.append(value)
            tail_idx.append(i)
        else:
            tails[pos] = value
            tail_idx[pos] = i
        prev[i] = tail_idx[pos - 1] if pos else -1
    keep: set[int] = set()
    i = tail_idx[-1] if tail_idx else -1
    while i >= 0:
        keep.add(i)
        i = prev[i]
    return keep


def _ranges(sorted_rows: Sequence[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for row in sorted_rows:
        if out and out[-1][1] == row - 1:
            out[-1] = (out[-1][0], row)
        else:
            out.append((row, row))
    return out


def diff_lists[T](old: Sequence[T], new: Sequence[T], key: Callable[[T], Hashable]) -> ListPatch[T]:
    """The patch that turns `old` into `new`. Keys must be unique within each list.

    The common cases of a large listing take C-level passes only: the first fill (old empty), a
    clear (new empty), and a refresh that kept every row in place (same keys, same order).
    """
    if not old or not new:
        return ListPatch(
            removals=[(0, len(old) - 1)] if old else [],
            insertions=[(0, list(new))] if new else [],
        )
    if len(old) == len(new) and all(map(eq, map(key, old), map(key, new))):
        return ListPatch(changed=list(compress(count(), map(ne, old, new))))
    new_index = {key(item): i for i, item in enumerate(new)}
    common_old_rows = [i for i, item in enumerate(old) if key(item) in new_index]
    positions = [new_index[key(old[i])] for i in common_old_rows]
    kept_positions_idx = _longest_increasing(positions)
    kept_old_rows = {common_old_rows[j] for j in kept_positions_idx}
    kept_new_rows = {positions[j] for j in kept_positions_idx}

    removed = [i for i in range(len(old)) if i not in kept_old_rows]
    removals = list(reversed(_ranges(removed)))

    insertions: list[tuple[int, list[T]]] = []
    for first, last in _ranges([i for i in range(len(new)) if i not in kept_new_rows]):
        insertions.append((first, list(new[first : last + 1])))

    changed = sorted(
        positions[j] for j in kept_positions_idx if old[common_old_rows[j]] != new[positions[j]]
    )
    return ListPatch(removals=removals, insertions=insertions, changed=changed)


def apply_patch[T](items: list[T], patch: ListPatch[T], new: Sequence[T]) -> None:
    """Apply a patch in place, as a list model does between its begin/end calls."""
    for first, last in patch.removals:
        del items[first : last + 1]
    for row, inserted in patch.insertions:
        items[row:row] = inserted
    for row in patch.changed:
        items[row] = new[row]
