"""The filter bar on top of the main window: product and voting filter (the server's query), search
(names, local), sort order and thumbnail size, then the window's buttons (`add_actions`); below it
`review_row`, the designer's review filter (flag, stars, label: local too), where the window adds
its count line. It only says what the user changed, through its signals; the main window applies
the changes and saves them (the review filter as `review_settings()`). Its controls flow onto a
second line when the window is narrow (ui/flow_layout.py): none hides behind an overflow button."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSignalBlocker, Qt, QTimer
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSlider,
    QToolButton,
    QWidget,
)

from qamera_desktop.api.records import Product
from qamera_desktop.core.image_query import ServerFilter, SortOrder, StatusFilter
from qamera_desktop.core.review import MAX_RATING, FlagFilter, Label, ReviewFilter
from qamera_desktop.core.settings import THUMB_SIZE_MAX, THUMB_SIZE_MIN, Settings
from qamera_desktop.ui.actions import ActionId, default_key_text
from qamera_desktop.ui.flow_layout import FlowLayout
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

ICON_SIZE = 48
LOADING_PRODUCTS = "Loading products…"
"""The product filter's text for the remembered product until the products arrive."""
SEARCH_PAUSE_MS = 150
BAR_STYLE = "#filters { border-bottom: 1px solid palette(mid); }"
REVIEW_ROW_STYLE = "#reviewRow { border-bottom: 1px solid palette(mid); }"


class FilterBar(QFrame):
    filterChanged = QtSignal(object)  # ServerFilter: the user chose another product or status
    searchChanged = QtSignal(str)  # the search text, once typing pauses
    sortChanged = QtSignal(object)  # SortOrder
    reviewFilterChanged = QtSignal(object)  # ReviewFilter
    thumbSizeChanged = QtSignal(int)

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filters")
        self.setAccessibleName("Filters")
        self.setStyleSheet(BAR_STYLE)
        self._flow = FlowLayout(self, spacing=12, line_spacing=4)
        self._flow.setContentsMargins(8, 4, 8, 5)
        self._loader = loader
        self._products: list[Product] = []

        self.product_combo = QComboBox()
        self.product_combo.setAccessibleName("Product filter")
        # as wide as ~18 characters whatever the names: long ones are elided, the popup shows them
        self.product_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.product_combo.setMinimumContentsLength(18)
        self.product_combo.setIconSize(self.product_combo.iconSize() * 1.5)
        self.product_combo.addItem("All products", None)

        # Qamera's voting, as far as the API filters it (statusFilter=approved): not the images'
        # processing status, so it says so
        self.status_combo = QComboBox()
        self.status_combo.setAccessibleName("Voting filter")
        self.status_combo.addItem("All images", StatusFilter.ALL.value)
        self.status_combo.addItem("Approved on Qamera", StatusFilter.APPROVED.value)
        self.status_combo.setItemData(
            0, "Every image, whatever its voting on Qamera", Qt.ItemDataRole.ToolTipRole
        )
        self.status_combo.setItemData(
            1, "Only the images approved in Qamera's voting", Qt.ItemDataRole.ToolTipRole
        )
        self.status_combo.setToolTip("Which images to list, by their voting on Qamera")

        self.search = QLineEdit()
        self.search.setPlaceholderText(f"Search names ({default_key_text(ActionId.FIND)})")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName("Search")
        self.search.setFixedWidth(210)
        self._search_pause = QTimer(self)
        self._search_pause.setSingleShot(True)
        self._search_pause.setInterval(SEARCH_PAUSE_MS)

        # the designer's own decisions (local), beside Qamera's voting
        self.flag_combo = QComboBox()
        self.flag_combo.setAccessibleName("Review filter")
        self.flag_combo.setToolTip("Which images to show, by your own decision")
        for text, flag in (
            ("All", FlagFilter.ALL),
            ("Picks", FlagFilter.PICKS),
            ("Rejects", FlagFilter.REJECTS),
            ("Unflagged", FlagFilter.UNFLAGGED),
        ):
            self.flag_combo.addItem(text, flag.value)
        self.rating_combo = QComboBox()
        self.rating_combo.setAccessibleName("Stars filter")
        self.rating_combo.setToolTip("Only images with at least this many stars")
        self.rating_combo.addItem("Any stars", 0)
        for n in range(1, MAX_RATING + 1):
            self.rating_combo.addItem("★" * n + ("" if n == MAX_RATING else " or more"), n)
        self.label_combo = QComboBox()
        self.label_combo.setAccessibleName("Label filter")
        self.label_combo.setToolTip("Only images with this colour label")
        self.label_combo.addItem("Any label", None)
        for colour in (Label.RED, Label.YELLOW, Label.GREEN, Label.BLUE, Label.PURPLE):
            self.label_combo.addItem(colour.value.capitalize(), colour.value)
        self.label_combo.addItem("No label", Label.NONE.value)

        self.sort_combo = QComboBox()
        self.sort_combo.setAccessibleName("Sort order")
        for order in SortOrder:
            self.sort_combo.addItem(order.label, order.value)

        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setAccessibleName("Thumbnail size")
        self.size_slider.setRange(THUMB_SIZE_MIN, THUMB_SIZE_MAX)
        self.size_slider.setSingleStep(16)
        self.size_slider.setPageStep(32)
        self.size_slider.setFixedWidth(120)

        for label, widget in (
            ("Product", self.product_combo),
            ("Show", self.status_combo),
            (None, self.search),
            ("Sort", self.sort_combo),
            ("Size", self.size_slider),
        ):
            self._add_group([QLabel(label), widget] if label else [widget])

        # the review filter on a line of its own under the bar, with the window's count line
        self.review_row = QFrame()
        self.review_row.setObjectName("reviewRow")
        self.review_row.setStyleSheet(REVIEW_ROW_STYLE)
        self.review_row.setAccessibleName("Review filter and counts")
        review_layout = QHBoxLayout(self.review_row)
        review_layout.setContentsMargins(8, 3, 8, 4)
        review_layout.setSpacing(6)
        review_layout.addWidget(QLabel("Your review"))
        for combo in (self.flag_combo, self.rating_combo, self.label_combo):
            review_layout.addWidget(combo)
        review_layout.addSpacing(12)
        self.review_row_layout = review_layout

        self.product_combo.currentIndexChanged.connect(self._emit_filter)
        self.status_combo.currentIndexChanged.connect(self._emit_filter)
        for combo in (self.flag_combo, self.rating_combo, self.label_combo):
            combo.currentIndexChanged.connect(
                lambda _i: self.reviewFilterChanged.emit(self.review_filter())
            )
        self.search.textChanged.connect(lambda _text: self._search_pause.start())
        self._search_pause.timeout.connect(lambda: self.searchChanged.emit(self.search.text()))
        self.sort_combo.currentIndexChanged.connect(
            lambda _i: self.sortChanged.emit(self.sort_order())
        )
        self.size_slider.valueChanged.connect(self.thumbSizeChanged)
        loader.ready.connect(self._show_icons)

    def add_actions(self, actions: Sequence[QAction]) -> list[QToolButton]:
        """Buttons for `actions`, together at the end of the bar; returns them."""
        buttons = []
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setAutoRaise(False)  # they look like buttons, not like the labels around
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            buttons.append(button)
        self._add_group(buttons)
        return buttons

    def lines(self) -> int:
        """How many lines the controls take at the bar's width (1 when the window is wide)."""
        return self._flow.lines()

    def _add_group(self, widgets: Sequence[QWidget]) -> None:
        """Widgets that stay side by side on one line (a label and its control)."""
        group = QWidget()
        row = QHBoxLayout(group)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        for widget in widgets:
            row.addWidget(widget)
        self._flow.addWidget(group)

    # -- what is chosen ----------------------------------------------------------------------
    def server_filter(self) -> ServerFilter:
        return ServerFilter(
            product_id=self.product_id(),
            status=StatusFilter(self.status_combo.currentData() or StatusFilter.ALL.value),
        )

    def review_filter(self) -> ReviewFilter:
        label = self.label_combo.currentData()
        return ReviewFilter(
            flag=FlagFilter(self.flag_combo.currentData() or FlagFilter.ALL.value),
            min_rating=int(self.rating_combo.currentData() or 0),
            label=Label(label) if label is not None else None,
        )

    def set_review_filter(self, review_filter: ReviewFilter) -> None:
        """As if the user chose it: reviewFilterChanged once, when it changed."""
        if review_filter == self.review_filter():
            return
        with QSignalBlocker(self.flag_combo), QSignalBlocker(self.rating_combo):
            _choose(self.flag_combo, review_filter.flag.value)
            stars = self.rating_combo.findData(review_filter.min_rating)
            self.rating_combo.setCurrentIndex(max(0, stars))
        with QSignalBlocker(self.label_combo):
            label = review_filter.label
            _choose(self.label_combo, label.value if label is not None else None)
        self.reviewFilterChanged.emit(self.review_filter())

    def product_id(self) -> str | None:
        product_id: str | None = self.product_combo.currentData()
        return product_id

    @property
    def products(self) -> list[Product]:
        """The products offered, sorted by name."""
        return list(self._products)

    def sort_order(self) -> SortOrder:
        return SortOrder(self.sort_combo.currentData())

    def thumb_size(self) -> int:
        return self.size_slider.value()

    def review_settings(self) -> dict[str, object]:
        """The review filter chosen, as the settings keep it (`Settings.review_flag`,
        `review_min_rating`, `review_label`)."""
        chosen = self.review_filter()
        return {
            "review_flag": chosen.flag.value,
            "review_min_rating": chosen.min_rating,
            "review_label": chosen.label.value if chosen.label is not None else None,
        }

    # -- set from outside: no signal, the caller knows ---------------------------------------
    def apply(self, settings: Settings) -> None:
        """Show the remembered product and status filters, sort order and size, quietly (the
        window reads them). Until the products arrive (`set_products`), the remembered product
        is an item "Loading products…": its kept images are shown meanwhile, not "All products".
        The remembered review filter is chosen as if by the user: reviewFilterChanged when it
        is not the one shown, so that the library filters by it as it does after any choice."""
        with (
            QSignalBlocker(self.product_combo),
            QSignalBlocker(self.status_combo),
            QSignalBlocker(self.sort_combo),
            QSignalBlocker(self.size_slider),
        ):
            combo = self.product_combo
            if settings.product_id is not None and combo.findData(settings.product_id) < 0:
                combo.addItem(LOADING_PRODUCTS, settings.product_id)
            _choose(combo, settings.product_id)
            _choose(self.status_combo, settings.status_filter)
            _choose(self.sort_combo, settings.sort)
            self.size_slider.setValue(settings.thumb_size)
        self.set_review_filter(remembered_review_filter(settings))

    def set_products(self, products: Sequence[Product], selected: str | None) -> None:
        """Offer `products` (sorted by name) and choose `selected` ("All products" when it is None
        or not among them). Their pictures show as icons once loaded."""
        self._products = sorted(products, key=lambda p: p.name.casefold())
        combo = self.product_combo
        with QSignalBlocker(combo):
            combo.clear()
            combo.addItem("All products", None)
            for product in self._products:
                combo.addItem(product.name, product.id)
                combo.setItemData(combo.count() - 1, product.id, Qt.ItemDataRole.ToolTipRole)
            _choose(combo, selected)
        self._loader.set_wanted("icons", [p.thumbnail for p in self._products], ICON_SIZE)
        self._show_icons([])

    # -- changed by the user (or as if) ------------------------------------------------------
    def set_thumb_size(self, size: int) -> None:
        """As if the user moved the slider (clamped to its range): thumbSizeChanged on a change."""
        self.size_slider.setValue(size)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _emit_filter(self) -> None:
        self.filterChanged.emit(self.server_filter())

    def _show_icons(self, _urls: list[str]) -> None:
        by_id = {p.id: p for p in self._products}
        for i in range(1, self.product_combo.count()):
            product = by_id.get(self.product_combo.itemData(i))
            if product is None or not self.product_combo.itemIcon(i).isNull():
                continue
            pixmap = self._loader.pixmap(product.thumbnail, ICON_SIZE)
            if pixmap is not None:
                self.product_combo.setItemIcon(i, QIcon(pixmap))


def remembered_review_filter(settings: Settings) -> ReviewFilter:
    """The review filter the settings keep; a value a hand-edited or older file may hold (an
    unknown flag or label, stars out of range) falls back to showing everything for that part."""
    flags = {f.value: f for f in FlagFilter}
    labels = {label.value: label for label in Label}
    rating = settings.review_min_rating
    return ReviewFilter(
        flag=flags.get(settings.review_flag, FlagFilter.ALL),
        min_rating=rating if 0 <= rating <= MAX_RATING else 0,
        label=labels.get(settings.review_label) if settings.review_label is not None else None,
    )


def _choose(combo: QComboBox, data: str | None) -> None:
    """Choose the item whose data is `data`, else the first."""
    combo.setCurrentIndex(max(0, combo.findData(data)) if data is not None else 0)
