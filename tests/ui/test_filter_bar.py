"""The filter bar alone: what the user changes comes out as one signal each (the search once typing
pauses), what the window sets from outside (remembered settings, the product list) stays quiet
except the remembered review filter, which is said as a choice (the library filters by it), and
round-trips through the settings file; the products get their pictures as icons from the real
sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from qamera_desktop.api.records import Product
from qamera_desktop.core.image_query import ServerFilter, SortOrder, StatusFilter
from qamera_desktop.core.review import Flag, FlagFilter, Label, Review, ReviewFilter
from qamera_desktop.core.settings import THUMB_SIZE_MAX, THUMB_SIZE_MIN, Settings, SettingsStore
from qamera_desktop.ui.filter_bar import LOADING_PRODUCTS, FilterBar
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
    # the remembered product is the filter at once, said to be loading until the list arrives
    assert bar.product_id() == "prod_mug"
    assert bar.product_combo.currentText() == LOADING_PRODUCTS
    assert bar.server_filter() == ServerFilter("prod_mug", StatusFilter.APPROVED)
    mug = Product("prod_mug", "Stoneware Mug", None, "active", None)
    with qtbot.assertNotEmitted(bar.filterChanged):
        bar.set_products([mug], "prod_mug")
    assert bar.product_combo.currentText() == "Stoneware Mug"
    assert [bar.product_combo.itemText(i) for i in range(bar.product_combo.count())] == [
        "All products",
        "Stoneware Mug",
    ]

    # values a hand-edited file may hold fall back to the first choice
    bar.apply(Settings(status_filter="nonsense", sort="nonsense"))
    assert bar.status_combo.currentText() == "All images"
    assert bar.sort_order() is next(iter(SortOrder))


def test_the_remembered_review_filter_is_chosen_and_said(qtbot, bar):
    remembered = Settings(review_flag="unflagged", review_min_rating=3, review_label="blue")
    with qtbot.waitSignal(bar.reviewFilterChanged) as said:
        bar.apply(remembered)
    wanted = ReviewFilter(FlagFilter.UNFLAGGED, 3, Label.BLUE)
    assert said.args == [wanted]  # the library filters by it as after the user's choice
    assert bar.review_filter() == wanted
    assert bar.flag_combo.currentText() == "Unflagged"
    assert bar.rating_combo.currentText() == "★★★ or more"
    assert bar.label_combo.currentText() == "Blue"
    # the same again: nothing to say
    with qtbot.assertNotEmitted(bar.reviewFilterChanged):
        bar.apply(remembered)
    # "No label" is a choice of its own, not "Any label"
    bar.apply(Settings(review_label="none"))
    assert bar.review_filter() == ReviewFilter(label=Label.NONE)
    assert bar.label_combo.currentText() == "No label"


def test_the_review_filter_round_trips_through_the_settings_file(qtbot, bar, loader, tmp_path):
    choose(qtbot, bar.flag_combo, "Rejects")
    bar.rating_combo.setCurrentIndex(bar.rating_combo.findText("★★ or more"))  # no key types ★
    choose(qtbot, bar.label_combo, "Purple")
    chosen = bar.review_filter()
    assert chosen == ReviewFilter(FlagFilter.REJECTS, 2, Label.PURPLE)
    store = SettingsStore(tmp_path / "settings.json")
    store.save(Settings(sort="name").with_changes(**bar.review_settings()))

    again = FilterBar(loader)  # the next launch
    qtbot.addWidget(again)
    loaded = store.load()
    assert (loaded.review_flag, loaded.review_min_rating, loaded.review_label) == (
        "rejects",
        2,
        "purple",
    )
    again.apply(loaded)
    assert again.review_filter() == chosen
    assert again.review_settings() == bar.review_settings()

    # back to everything: saved as the defaults
    choose(qtbot, bar.flag_combo, "All")
    choose(qtbot, bar.rating_combo, "Any stars")
    choose(qtbot, bar.label_combo, "Any label")
    assert bar.review_settings() == {
        "review_flag": "all",
        "review_min_rating": 0,
        "review_label": None,
    }
    defaults = Settings()
    assert Settings().with_changes(**bar.review_settings()) == defaults


@pytest.mark.parametrize(
    ("saved", "wanted"),
    [
        (
            {"review_flag": "maybe", "review_min_rating": 9, "review_label": "magenta"},
            ReviewFilter(),
        ),
        ({"review_flag": "picks", "review_min_rating": -1}, ReviewFilter(FlagFilter.PICKS)),
        ({"review_min_rating": 4, "review_label": "Red"}, ReviewFilter(min_rating=4)),
        ({"review_flag": 3, "review_min_rating": "5", "review_label": 7}, ReviewFilter()),
        (
            {"review_flag": None, "review_min_rating": True, "review_label": "green"},
            ReviewFilter(label=Label.GREEN),
        ),
    ],
)
def test_a_review_filter_the_app_does_not_know_falls_back_to_everything(
    qtbot, bar, tmp_path, saved, wanted
):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"sort": "name", **saved}), encoding="utf-8")
    loaded = SettingsStore(path).load()
    assert loaded.sort == "name"  # the rest of the file is kept
    choose(qtbot, bar.flag_combo, "Rejects")  # whatever was shown before
    bar.apply(loaded)
    assert bar.review_filter() == wanted


def test_a_launch_shows_only_what_the_remembered_review_filter_keeps(qtbot, make_app, tmp_path):
    database = tmp_path / "shared.sqlite3"
    first = make_app(database_path=database)
    store = first.services.reviews
    assert store is not None
    picked = [first.window.model.image_at(row).id for row in (2, 5, 7)]
    store.decide(picked, lambda _review: Review(Flag.PICK, 4))
    settings = tmp_path / "remembered.json"
    settings.write_text(json.dumps({"review_flag": "picks", "review_min_rating": 3}))

    second = make_app(settings_path=settings, database_path=database)
    window = second.window
    qtbot.waitUntil(lambda: sorted(second.model_ids()) == sorted(picked))
    assert second.library.review_filter == ReviewFilter(FlagFilter.PICKS, 3)
    assert window.filters.flag_combo.currentText() == "Picks"
    assert window.review_line.text().startswith("3 images · 3 picks")


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
