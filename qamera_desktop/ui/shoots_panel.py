"""The Shoots panel: this account's shoots, newest first (the ones in flight and the history of
ended ones), with live progress, what their credits came to, and the actions each state allows.

- No shoots: a short empty state with the New shoot button instead of an empty table.
- Progress: a bar painted by `ProgressDelegate`, done images in the grid's "done" green and failed
  ones in its "failed" red, side by side (a failure is not progress), with the counts beside it.
- Credits: what the receipt reserved, then how it settles as images end ("6 used, 3 refunded
  (estimated)"; see `core.shoots.CreditSettlement`).
- A refused shoot is never listed: the New shoot dialog that sent it says why.
- "Clear finished" clears ended shoots from the history (never one in flight: the shoot service
  decides); the panel only asks, with the age chosen.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QColor, QPainter, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.records import Progress
from qamera_desktop.core.shoots import CLEARABLE_STATES, SAFE_TO_RESUBMIT, Shoot, ShootState
from qamera_desktop.ui.status_style import status_colour

COLUMNS = ("Product", "Started", "Images", "Credits", "Batch / order", "Progress", "State")
CREDITS_COLUMN = COLUMNS.index("Credits")
IDS_COLUMN = COLUMNS.index("Batch / order")
IDS_WIDTH = 160
NARROW_PANEL = 960  # narrower than this, the batch ids column gives its room to the progress
PROGRESS_COLUMN = COLUMNS.index("Progress")
STATE_COLUMN = COLUMNS.index("State")
STATE_TEXT = {
    ShootState.SUBMITTING: "Submitting…",
    ShootState.UNCERTAIN: "May exist: checking",
    ShootState.REJECTED: "Refused",
    ShootState.TRACKING: "Processing",
    ShootState.FINISHED: "Finished",
    ShootState.CANCELLED: "Tracking cancelled",
}
ID_ROLE: Final = Qt.ItemDataRole.UserRole
PROGRESS_ROLE: Final = Qt.ItemDataRole.UserRole + 1
"""On the Progress column: (done, failed, total) for `ProgressDelegate`."""

EMPTY_TEXT = "No shoots yet"
CLEAR_CHOICES: Final[tuple[tuple[str, timedelta | None], ...]] = (
    ("Finished more than 30 days ago", timedelta(days=30)),
    ("Finished more than 7 days ago", timedelta(days=7)),
    ("All finished shoots", None),
)
"""The "Clear finished" menu: each entry's text and the age of the ended shoots it clears."""

GROOVE_COLOUR = QColor("#dee2e6")
"""The bar's part for images not ended yet (a light grey that reads on light and dark rows)."""
BAR_WIDTH = 120
BAR_HEIGHT = 10
BAR_GAP = 8


class ProgressDelegate(QStyledItemDelegate):
    """Paints the Progress column: a bar with the done images in green and the failed ones in
    red (each its own segment, from the left), the rest the groove, and the item's text beside
    it. The counts come from `PROGRESS_ROLE`; the text stays the item's own (for screen readers
    and copying)."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text = opt.text
        opt.text = ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)

        rect: QRect = opt.rect.adjusted(4, 0, -4, 0)
        bar = bar_rect(rect)
        counts = index.data(PROGRESS_ROLE)
        painter.save()
        try:
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(GROOVE_COLOUR)
            painter.drawRect(bar)
            if isinstance(counts, tuple) and len(counts) == 3:
                done, failed, total = (int(n) for n in counts)
                done_rect, failed_rect = segments(bar, done, failed, total)
                painter.setBrush(status_colour(Progress.DONE))
                painter.drawRect(done_rect)
                painter.setBrush(status_colour(Progress.FAILED))
                painter.drawRect(failed_rect)
            selected = bool(opt.state & QStyle.StateFlag.State_Selected)
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
            painter.setPen(opt.palette.color(role))
            text_rect = rect.adjusted(bar.width() + BAR_GAP, 0, 0, 0)
            metrics = opt.fontMetrics
            elided = metrics.elidedText(text, Qt.TextElideMode.ElideRight, text_rect.width())
            painter.drawText(
                text_rect, Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft, elided
            )
        finally:
            painter.restore()

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width() + BAR_WIDTH + BAR_GAP + 8, max(size.height(), BAR_HEIGHT + 6))


def bar_rect(cell: QRect) -> QRect:
    """Where the bar goes in a cell (already inset): on the left, vertically centred."""
    width = min(BAR_WIDTH, max(0, cell.width() // 2))
    height = min(BAR_HEIGHT, max(0, cell.height() - 6))
    return QRect(cell.left(), cell.top() + (cell.height() - height) // 2, width, height)


def segments(bar: QRect, done: int, failed: int, total: int) -> tuple[QRect, QRect]:
    """The done part of `bar` from its left, then the failed part right after it."""
    if total <= 0:
        return QRect(), QRect()
    done_width = round(bar.width() * min(done, total) / total)
    failed_width = round(bar.width() * min(done + failed, total) / total) - done_width
    done_rect = QRect(bar.left(), bar.top(), done_width, bar.height())
    failed_rect = QRect(bar.left() + done_width, bar.top(), failed_width, bar.height())
    return done_rect, failed_rect


class ShootsPanel(QWidget):
    runAgainRequested = QtSignal(object)  # Shoot
    cancelRequested = QtSignal(str)  # local id
    checkRequested = QtSignal(str)
    submitAgainRequested = QtSignal(object)  # Shoot
    newShootRequested = QtSignal()
    clearRequested = QtSignal(object)  # timedelta | None: clear ended shoots older than that
    filterRequested = QtSignal(object)  # Shoot: show only its images in the grid
    regenerateRequested = QtSignal(object)  # Shoot: a new shoot for its rejects

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # at 800 px the ids left the progress "3 don…": they are the least read column
        self.tree.setColumnHidden(IDS_COLUMN, event.size().width() < NARROW_PANEL)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._shoots: dict[str, Shoot] = {}
        self._items: dict[str, QTreeWidgetItem] = {}
        self.tree = QTreeWidget()
        self.tree.setAccessibleName("Shoots")
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setRootIsDecorated(False)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.progress_delegate = ProgressDelegate(self.tree)
        self.tree.setItemDelegateForColumn(PROGRESS_COLUMN, self.progress_delegate)
        header = self.tree.header()
        # every column as wide as its text (the last one takes what is left): a narrow panel
        # scrolls sideways rather than cutting the progress short ("3 don…" at 800 px)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(False)
        # the ids are long and seldom read: elided (whole in the tooltip), so progress has room
        header.setSectionResizeMode(IDS_COLUMN, QHeaderView.ResizeMode.Interactive)
        header.resizeSection(IDS_COLUMN, IDS_WIDTH)
        self.tree.setColumnHidden(IDS_COLUMN, True)  # until the panel is known to be wide
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())
        # a click, or Enter, on a shoot shows only its images in the grid
        self.tree.itemClicked.connect(lambda item, _column: self._filter_to(item))
        self.tree.itemActivated.connect(lambda item, _column: self._filter_to(item))

        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.run_again = QPushButton("Run again")
        self.cancel = QPushButton("Cancel tracking")
        self.cancel.setToolTip("Stop following this shoot here; Qamera keeps processing it")
        self.check = QPushButton("Check again")
        self.check.setToolTip("Look in the listing for images this shoot may have created")
        self.submit_again = QPushButton("Submit again")
        self.submit_again.setToolTip("Only offered once the listing shows nothing was created")
        self.regenerate = QPushButton("Regenerate rejects")
        self.regenerate.setToolTip(
            "A new shoot like this one, for as many images as you rejected, told to avoid "
            "the reasons you gave"
        )
        self.clear = QToolButton()
        self.clear.setText("Clear finished")
        self.clear.setToolTip(
            "Remove ended shoots from this list (their images stay in Qamera and in the grid). "
            "Shoots still in progress are kept."
        )
        self.clear.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.clear_menu = QMenu(self.clear)
        for text, age in CLEAR_CHOICES:
            action = self.clear_menu.addAction(text)
            action.triggered.connect(lambda _checked=False, a=age: self.clearRequested.emit(a))
        self.clear.setMenu(self.clear_menu)
        self.run_again.clicked.connect(self._emit(self.runAgainRequested, whole=True))
        self.cancel.clicked.connect(self._emit(self.cancelRequested))
        self.check.clicked.connect(self._emit(self.checkRequested))
        self.submit_again.clicked.connect(self._emit(self.submitAgainRequested, whole=True))
        self.regenerate.clicked.connect(self._emit(self.regenerateRequested, whole=True))

        buttons = QHBoxLayout()
        for b in (self.run_again, self.regenerate, self.cancel, self.check, self.submit_again):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.clear)
        self.list_page = QWidget()
        listing = QVBoxLayout(self.list_page)
        listing.setContentsMargins(0, 0, 0, 0)
        listing.addWidget(self.tree, 1)
        listing.addWidget(self.detail)
        listing.addLayout(buttons)

        self.empty_page = QWidget()
        self.empty_label = QLabel(EMPTY_TEXT)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.new_shoot = QPushButton("New shoot")
        self.new_shoot.setToolTip("Start a new photo shoot")
        self.new_shoot.setEnabled(False)  # until there is an account to shoot with
        self.new_shoot.clicked.connect(self.newShootRequested)
        empty = QHBoxLayout(self.empty_page)
        empty.addStretch(1)
        empty.addWidget(self.empty_label)
        empty.addWidget(QLabel("—"))
        empty.addWidget(self.new_shoot)
        empty.addStretch(1)

        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty_page)
        self.pages.addWidget(self.list_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.pages)
        self._update_buttons()

    def _emit(self, signal: object, *, whole: bool = False) -> object:
        def fire() -> None:
            shoot = self.current_shoot()
            if shoot is not None:
                signal.emit(shoot if whole else shoot.local_id)  # type: ignore[attr-defined]

        return fire

    def _filter_to(self, item: QTreeWidgetItem | None) -> None:
        shoot = self._shoots.get(item.data(0, ID_ROLE)) if item is not None else None
        if shoot is not None and shoot.record_ids:
            self.filterRequested.emit(shoot)

    # -- the empty state -----------------------------------------------------------------------
    def set_new_shoot_keys(self, keys: str) -> None:
        """Name the New shoot action's keys on the empty state's button ("Ctrl+N")."""
        self.new_shoot.setText(f"New shoot ({keys})" if keys else "New shoot")

    def set_new_shoot_available(self, available: bool) -> None:
        self.new_shoot.setEnabled(available)

    def showing_empty_state(self) -> bool:
        return self.pages.currentWidget() is self.empty_page

    # -- reading -------------------------------------------------------------------------------
    def current_shoot(self) -> Shoot | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return self._shoots.get(item.data(0, ID_ROLE))

    def shoot_ids(self) -> list[str]:
        ids = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                ids.append(str(item.data(0, ID_ROLE)))
        return ids

    def item_of(self, local_id: str) -> QTreeWidgetItem | None:
        return self._items.get(local_id)

    # -- changes -------------------------------------------------------------------------------
    def set_shoots(self, shoots: list[Shoot]) -> None:
        for shoot in shoots:
            self.update_shoot(shoot)

    def update_shoot(self, shoot: Shoot) -> None:
        """Show this snapshot of a shoot (a new one takes its place by start time, newest at
        the top). A refused shoot is taken off the list instead."""
        if shoot.state is ShootState.REJECTED:
            self.remove_shoots([shoot.local_id])
            return
        self._shoots[shoot.local_id] = shoot
        item = self._items.get(shoot.local_id)
        if item is None:
            item = QTreeWidgetItem()
            item.setData(0, ID_ROLE, shoot.local_id)
            self.tree.insertTopLevelItem(self._row_for(shoot), item)
            self._items[shoot.local_id] = item
        receipt = shoot.receipt
        item.setText(0, shoot.product_name or shoot.request.product_id)
        item.setText(1, shoot.created_at.astimezone().strftime("%Y-%m-%d %H:%M"))
        item.setText(2, str(shoot.total or shoot.request.count))
        credits = shoot.credits
        item.setText(CREDITS_COLUMN, credits.text() if credits is not None else "-")
        item.setToolTip(CREDITS_COLUMN, credits.explanation() if credits is not None else "")
        ids = " / ".join(x for x in (receipt.batch_id, receipt.order_id) if x) if receipt else ""
        item.setText(IDS_COLUMN, ids or "-")
        item.setToolTip(IDS_COLUMN, ids)
        item.setText(PROGRESS_COLUMN, progress_text(shoot))
        item.setData(PROGRESS_COLUMN, PROGRESS_ROLE, (shoot.done, shoot.failed, shoot.total))
        item.setText(STATE_COLUMN, STATE_TEXT.get(shoot.state, str(shoot.state)))
        item.setToolTip(STATE_COLUMN, shoot.error or shoot.summary())
        if self.tree.currentItem() is None:
            self.tree.setCurrentItem(item)
        self._update_buttons()

    def remove_shoots(self, local_ids: list[str]) -> None:
        for local_id in local_ids:
            self._shoots.pop(local_id, None)
            item = self._items.pop(local_id, None)
            if item is not None:
                index = self.tree.indexOfTopLevelItem(item)
                if index >= 0:
                    self.tree.takeTopLevelItem(index)
        self._update_buttons()

    def _row_for(self, shoot: Shoot) -> int:
        """The row that keeps the list newest first (of two started at the same time, the one
        shown last goes above). Looked for from the bottom: a history listed newest first only
        ever appends."""
        for row in range(self.tree.topLevelItemCount() - 1, -1, -1):
            item = self.tree.topLevelItem(row)
            other = self._shoots.get(item.data(0, ID_ROLE)) if item is not None else None
            if other is not None and other.created_at > shoot.created_at:
                return row + 1
        return 0

    def _update_buttons(self) -> None:
        self.pages.setCurrentWidget(self.list_page if self._shoots else self.empty_page)
        shoot = self.current_shoot()
        self.run_again.setEnabled(shoot is not None)
        self.regenerate.setEnabled(shoot is not None and bool(shoot.record_ids))
        self.cancel.setEnabled(
            shoot is not None and shoot.state in (ShootState.TRACKING, ShootState.UNCERTAIN)
        )
        uncertain = shoot is not None and shoot.state is ShootState.UNCERTAIN
        self.check.setVisible(uncertain)
        safe = uncertain and shoot is not None and shoot.error == SAFE_TO_RESUBMIT
        self.submit_again.setVisible(safe)
        self.clear.setEnabled(any(s.state in CLEARABLE_STATES for s in self._shoots.values()))
        self.detail.setText("" if shoot is None else (shoot.error or shoot.summary()))


def progress_text(shoot: Shoot) -> str:
    if shoot.total == 0:
        if shoot.state is ShootState.SUBMITTING:
            return "waiting for the receipt"
        return "not known yet"
    parts = [f"{shoot.done} done"]
    if shoot.failed:
        parts.append(f"{shoot.failed} failed")
    if shoot.pending:
        parts.append(f"{shoot.pending} processing")
    return ", ".join(parts) + f" of {shoot.total}"
