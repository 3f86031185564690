from hypothesis import given
from hypothesis import strategies as st

from qamera_desktop.core.list_diff import apply_patch, diff_lists


def key(item: tuple[str, int]) -> str:
    return item[0]


def test_identical_lists_give_an_empty_patch():
    items = [("a", 1), ("b", 2)]
    assert diff_lists(items, list(items), key).is_empty


def test_insert_remove_and_change_touch_only_those_rows():
    old = [("a", 1), ("b", 1), ("c", 1), ("d", 1)]
    new = [("x", 1), ("a", 1), ("c", 2), ("d", 1), ("y", 1)]
    patch = diff_lists(old, new, key)
    assert patch.removals == [(1, 1)]  # b
    assert patch.insertions == [(0, [("x", 1)]), (4, [("y", 1)])]
    assert patch.changed == [2]  # c moved to row 2 of the new list, its value changed
    assert patch.size == 4


def test_moved_item_is_removed_and_reinserted_others_stay():
    old = [("a", 0), ("b", 0), ("c", 0), ("d", 0)]
    new = [("b", 0), ("c", 0), ("d", 0), ("a", 0)]
    patch = diff_lists(old, new, key)
    assert patch.removals == [(0, 0)]
    assert patch.insertions == [(3, [("a", 0)])]


def test_removals_are_highest_first_and_grouped():
    old = [(str(i), 0) for i in range(10)]
    new = [old[0], old[4], old[9]]
    patch = diff_lists(old, new, key)
    assert patch.removals == [(5, 8), (1, 3)]


unique_lists = st.lists(
    st.tuples(st.sampled_from("abcdefghijklmnop"), st.integers(0, 2)),
    max_size=16,
    unique_by=lambda t: t[0],
)


@given(unique_lists, unique_lists)
def test_applying_the_patch_always_gives_the_new_list(old, new):
    patch = diff_lists(old, new, key)
    items = list(old)
    apply_patch(items, patch, new)
    assert items == new
