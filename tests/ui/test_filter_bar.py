"""The filter bar alone: what the user changes comes out as one signal each (the search once typing
pauses), what the window sets from outside (remembered settings, the product list) stays quiet,
and the products get their pictures as icons from the real sandbox."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from qamera_desktop.api.records import Product
from qamera_desktop.core.image_query import ServerFilter, SortOrder, StatusFilter
from qamera_desktop.core.settings import THUMB_SIZE_MAX, THUMB_SIZE_MIN, Settings
from qamera_desktop.ui.filter_bar import FilterBar
from tests.ui.helpers import choose

T0 = datetime(2026, 3, 20, tzinfo=UTC)
PRODUCTS = [
    Product("prod_tote", "Tote bag", None, "UPLOADED", T0),
    Product("prod_mug", "mug, stoneware", None, "UPLOADED", T0),
    Product("prod_vase", "Ceramic vase", None, "UPLOADED", T0),
]


@pytest.fixture
def bar(qtbot, loader) -> FilterBar:
    filters = FilterBar(loader)
    qtbot.addWidget(filters)
    filters.show()
    qtbot.waitExposed(filters)
    return filters


def combo_texts(bar: FilterBar) -> list[str]:
    return [bar.product_combo.itemText(i) for i in range(bar.product_combo.count())]


def test_products_are_offered_by_name_and_the_remembered_one_is_chosen_quietly(qtbot, bar):
    assert combo_texts(bar) == ["All products"]
    with qtbot.assertNotEmitted(bar.filterChanged):
        bar.set_products(PRODUCTS, "prod_mug")
    assert combo_texts(bar) == ["All products", "Ceramic vase", "mug, stoneware", "Tote bag"]
    assert [p.id for p in bar.products] == ["prod_vase", "prod_mug", "prod_tote"]
    assert bar.product_combo.currentText() == "mug, stoneware"
    assert bar.product_id() == "prod_mug"
    assert bar.server_filter() == ServerFilter("prod_mug", StatusFilter.ALL)
    assert bar.product_combo.itemData(2, Qt.ItemDataRole.ToolTipRole) == "prod_mug"

    # a product that is gone: "All products"
    with qtbot.assertNotEmitted(bar.filterChanged):
        bar.set_products(PRODUCTS[:2], "prod_vase")
    assert combo_texts(bar) == ["All products", "mug, stoneware", "Tote bag"]
    assert bar.product_id() is None


def test_choosing_a_product_or_a_status_says_the_whole_new_filter(qtbot, bar):
    bar.set_products(PRODUCTS, None)
    said: list[ServerFilter] = []
    bar.filterChanged.connect(said.append)
    choose(qtbot, bar.product_combo, "Tote bag")
    assert said[-1] == ServerFilter("prod_tote", StatusFilter.ALL)

    said.clear()
    choose(qtbot, bar.status_combo, "Approved on Qamera")
    assert said == [ServerFilter("prod_tote", StatusFilter.APPROVED)]
    assert bar.server_filter() == said[-1]

    # each product passed on the way (arrow keys) is said too, each time with the status kept
    said.clear()
    choose(qtbot, bar.product_combo, "All products")
    assert said[-1] == ServerFilter(None, StatusFilter.APPROVED)
    assert {f.status for f in said} == {StatusFilter.APPROVED}


def test_the_voting_filter_says_plainly_what_it_selects(bar):
    combo = bar.status_combo
    texts = [combo.itemText(i) for i in range(combo.count())]
    # what the API filters (statusFilter=all / approved), named as what it is: Qamera's voting
    assert texts == ["All images", "Approved on Qamera"]
    assert [StatusFilter(combo.itemData(i)) for i in range(combo.count())] == list(StatusFilter)
    assert combo.accessibleName() == "Voting filter"
    assert "voting" in combo.toolTip()
    assert "approved" in combo.itemData(1, Qt.ItemDataRole.ToolTipRole)


def test_search_is_said_once_typing_pauses(qtbot, bar):
    said: list[str] = []
    bar.searchChanged.connect(said.append)
    with qtbot.waitSignal(bar.searchChanged) as searched:
        qtbot.keyClicks(bar.search, "vase")
    assert searched.args == ["vase"]
    assert said == ["vase"]  # not once per letter

    bar.search.selectAll()
    with qtbot.waitSignal(bar.searchChanged) as searched:
        qtbot.keyClick(bar.search, Qt.Key.Key_Backspace)
    assert searched.args == [""]
    assert said == ["vase", ""]


def test_sort_and_size_changes_are_said(qtbot, bar):
    with qtbot.waitSignal(bar.sortChanged) as sorted_by:
        choose(qtbot, bar.sort_combo, "Name")
    assert sorted_by.args == [SortOrder.NAME]
    assert bar.sort_order() is SortOrder.NAME

    bar.apply(Settings(thumb_size=192))
    bar.size_slider.setFocus()
    with qtbot.waitSignal(bar.thumbSizeChanged) as sized:
        qtbot.keyClick(bar.size_slider, Qt.Key.Key_PageUp)
    assert sized.args == [224]
    assert bar.thumb_size() == 224

    # as the Ctrl+wheel and Ctrl+plus of the window do: clamped to the slider's range
    with qtbot.waitSignal(bar.thumbSizeChanged) as sized:
        bar.set_thumb_size(10_000)
    assert sized.args == [THUMB_SIZE_MAX]
    with qtbot.assertNotEmitted(bar.thumbSizeChanged):
        bar.set_thumb_size(THUMB_SIZE_MAX + 32)  # no change, nothing to say
    with qtbot.waitSignal(bar.thumbSizeChanged) as sized:
        bar.set_thumb_size(0)
    assert sized.args == [THUMB_SIZE_MIN]


def test_remembered_settings_are_shown_without_a_word(qtbot, bar):
    remembered = Settings(
        product_id="prod_mug", status_filter="approved", sort="name", thumb_size=288
    )
    with (
        qtbot.assertNotEmitted(bar.filterChanged),
        qtbot.assertNotEmitted(bar.searchChanged),
        qtbot.assertNotEmitted(bar.sortChanged),
        qtbot.assertNotEmitted(bar.thumbSizeChanged),
    ):
        bar.apply(remembered)
    assert bar.status_combo.currentText() == "Approved on Qamera"
    assert bar.sort_combo.currentText() == "Name"
    assert bar.thumb_size() == 288
    assert bar.product_id() is None  # the product waits for the product list
    assert bar.server_filter() == ServerFilter(None, StatusFilter.APPROVED)

    # values a hand-edited file may hold fall back to the first choice
    bar.apply(Settings(status_filter="nonsense", sort="nonsense"))
    assert bar.status_combo.currentText() == "All images"
    assert bar.sort_order() is next(iter(SortOrder))


def test_focus_search_selects_what_was_typed(qtbot, bar):
    qtbot.keyClicks(bar.search, "mug")
    bar.product_combo.setFocus()
    bar.focus_search()
    assert bar.search.hasFocus()
    assert bar.search.selectedText() == "mug"
    assert "(Ctrl+F)" in bar.search.placeholderText()


def test_products_show_their_pictures_from_the_sandbox(qtbot, bar, client, arun):
    products = arun(client.list_products())
    assert len(products) >= 2
    assert all(p.thumbnail for p in products)
    bar.set_products(products, None)

    def icons() -> list[bool]:
        return [
            not bar.product_combo.itemIcon(i).isNull() for i in range(bar.product_combo.count())
        ]

    qtbot.waitUntil(lambda: all(icons()[1:]), timeout=15_000)
    assert icons()[0] is False  # "All products" has no picture
