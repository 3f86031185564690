"""The fast paths of `diff_lists`: first fill (old empty), clear (new empty) and a refresh that kept
every row in place (same keys, same order). The general property (any old/new) is in
test_list_diff.py; here the patches of the fast paths are pinned exactly and checked to apply.
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from qamera_desktop.core.list_diff import ListPatch, apply_patch, diff_lists


@dataclass(frozen=True)
class Rec:
    id: str
    value: int = 0


def key(rec: Rec) -> str:
    return rec.id


def applied(old: list[Rec], patch: ListPatch[Rec], new: list[Rec]) -> list[Rec]:
    items = list(old)
    apply_patch(items, patch, new)
    return items


# -- examples ----------------------------------------------------------------------------------
def test_both_empty_is_an_empty_patch():
    patch = diff_lists([], [], key)
    assert patch == ListPatch()
    assert patch.is_empty
    assert patch.size == 0


def test_first_fill_is_one_insertion_at_row_zero():
    new = [Rec("a"), Rec("b"), Rec("c")]
    patch = diff_lists([], new, key)
    assert patch.removals == []
    assert patch.insertions == [(0, new)]
    assert patch.changed == []
    assert patch.size == 3
    assert applied([], patch, new) == new


def test_first_fill_copies_the_new_list():
    new = [Rec("a"), Rec("b")]
    patch = diff_lists([], new, key)
    inserted = patch.insertions[0][1]
    assert inserted is not new  # a later change to `new` does not reach the patch
    new.append(Rec("c"))
    assert inserted == [Rec("a"), Rec("b")]


def test_first_fill_accepts_a_tuple():
    new = (Rec("a"), Rec("b"))
    patch = diff_lists((), new, key)
    assert patch.insertions == [(0, [Rec("a"), Rec("b")])]


def test_clear_is_one_removal_of_every_row():
    old = [Rec("a"), Rec("b"), Rec("c"), Rec("d")]
    patch = diff_lists(old, [], key)
    assert patch.removals == [(0, 3)]
    assert patch.insertions == []
    assert patch.changed == []
    assert patch.size == 4
    assert applied(old, patch, []) == []


def test_clear_of_one_row():
    patch = diff_lists([Rec("a")], [], key)
    assert patch == ListPatch(removals=[(0, 0)])


def test_same_keys_same_order_gives_only_the_changed_rows():
    old = [Rec("a", 0), Rec("b", 0), Rec("c", 0), Rec("d", 0), Rec("e", 0)]
    new = [Rec("a", 0), Rec("b", 1), Rec("c", 0), Rec("d", 2), Rec("e", 3)]
    patch = diff_lists(old, new, key)
    assert patch.removals == []
    assert patch.insertions == []
    assert patch.changed == [1, 3, 4]
    assert patch.size == 3
    assert applied(old, patch, new) == new


def test_same_keys_same_order_and_equal_records_is_empty():
    old = [Rec("a", 1), Rec("b", 2)]
    new = [Rec("a", 1), Rec("b", 2)]  # equal, not identical
    assert diff_lists(old, new, key).is_empty


def test_rows_are_compared_with_not_equal_not_identity():
    class Loud:
        """Equal to every Loud with the same id, whatever else it holds."""

        def __init__(self, id: str, payload: object) -> None:
            self.id, self.payload = id, payload

        def __eq__(self, other: object) -> bool:
            return isinstance(other, Loud) and other.id == self.id

        __hash__ = None  # type: ignore[assignment]

    old = [Loud("a", 1), Loud("b", 1)]
    new = [Loud("a", 2), Loud("b", 2)]
    assert diff_lists(old, new, lambda r: r.id).changed == []


def test_same_keys_in_another_order_is_not_the_fast_path():
    old = [Rec("a"), Rec("b"), Rec("c")]
    new = [Rec("c"), Rec("a"), Rec("b")]
    patch = diff_lists(old, new, key)
    assert patch.removals == [(2, 2)]
    assert patch.insertions == [(0, [Rec("c")])]
    assert patch.changed == []
    assert applied(old, patch, new) == new


def test_same_length_but_one_key_replaced_is_not_the_fast_path():
    old = [Rec("a"), Rec("b"), Rec("c")]
    new = [Rec("a"), Rec("x"), Rec("c", 5)]
    patch = diff_lists(old, new, key)
    assert patch.removals == [(1, 1)]
    assert patch.insertions == [(1, [Rec("x")])]
    assert patch.changed == [2]
    assert applied(old, patch, new) == new


# -- properties --------------------------------------------------------------------------------
unique_recs = st.lists(
    st.builds(Rec, st.sampled_from("abcdefghijklmnop"), st.integers(0, 2)),
    max_size=16,
    unique_by=key,
)


@given(unique_recs)
def test_fill_from_empty_applies(new):
    patch = diff_lists([], new, key)
    assert patch == ListPatch(insertions=[(0, new)] if new else [])
    assert applied([], patch, new) == new


@given(unique_recs)
def test_clear_to_empty_applies(old):
    patch = diff_lists(old, [], key)
    assert patch == ListPatch(removals=[(0, len(old) - 1)] if old else [])
    assert applied(old, patch, []) == []


@st.composite
def same_keys_new_values(draw: st.DrawFn) -> tuple[list[Rec], list[Rec]]:
    old = draw(unique_recs)
    new = [Rec(r.id, draw(st.integers(0, 2))) for r in old]
    return old, new


@given(same_keys_new_values())
def test_refresh_in_place_changes_exactly_the_differing_rows(pair):
    old, new = pair
    patch = diff_lists(old, new, key)
    assert patch.removals == []
    assert patch.insertions == []
    assert patch.changed == [row for row, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    assert applied(old, patch, new) == new


@given(unique_recs, unique_recs)
def test_any_patch_applies_and_touches_no_more_rows_than_a_clear_and_refill(old, new):
    patch = diff_lists(old, new, key)
    assert applied(old, patch, new) == new
    assert patch.size <= len(old) + len(new)
    kept_in_place = [r.id for r in old] == [r.id for r in new]
    if kept_in_place:
        assert not patch.removals
        assert not patch.insertions
