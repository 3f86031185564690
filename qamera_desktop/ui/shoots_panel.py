"""The Shoots panel: every shoot of this account, newest first, with live progress and actions."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.core.shoots import SAFE_TO_RESUBMIT, Shoot, ShootState

COLUMNS = ("Product", "Started", "Images", "Credits", "Batch / order", "Progress", "State")
PROGRESS_COLUMN = COLUMNS.index("Progress")
STATE_TEXT = {
    ShootState.SUBMITTING: "Submitting…",
    ShootState.UNCERTAIN: "May exist: checking",
    ShootState.REJECTED: "Not submitted",
    ShootState.TRACKING: "Processing",
    ShootState.FINISHED: "Finished",
    ShootState.CANCELLED: "Tracking cancelled",
}


class ShootsPanel(QWidget):
    runAgainRequested = QtSignal(object)  # Shoot
    cancelRequested = QtSignal(str)  # local id
    checkRequested = QtSignal(str)
    submitAgainRequested = QtSignal(object)  # Shoot

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
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(PROGRESS_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.tree.currentItemChanged.connect(lambda *_: self._update_buttons())

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
        self.run_again.clicked.connect(self._emit(self.runAgainRequested, whole=True))
        self.cancel.clicked.connect(self._emit(self.cancelRequested))
        self.check.clicked.connect(self._emit(self.checkRequested))
        self.submit_again.clicked.connect(self._emit(self.submitAgainRequested, whole=True))

        buttons = QHBoxLayout()
        for b in (self.run_again, self.cancel, self.check, self.submit_again):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.detail)
        layout.addLayout(buttons)
        self._update_buttons()

    def _emit(self, signal: object, *, whole: bool = False) -> object:
        def fire() -> None:
            shoot = self.current_shoot()
            if shoot is not None:
                signal.emit(shoot if whole else shoot.local_id)  # type: ignore[attr-defined]

        return fire

    def current_shoot(self) -> Shoot | None:
        item = self.tree.currentItem()
        if item is None:
            return None
        return self._shoots.get(item.data(0, Qt.ItemDataRole.UserRole))

    def shoot_ids(self) -> list[str]:
        ids = []
        for i in range(self.tree.topLevelItemCount()):
            item = self.tree.topLevelItem(i)
            if item is not None:
                ids.append(str(item.data(0, Qt.ItemDataRole.UserRole)))
        return ids

    def set_shoots(self, shoots: list[Shoot]) -> None:
        for shoot in reversed(shoots):  # newest first: insert oldest first at the top
            self.update_shoot(shoot)

    def update_shoot(self, shoot: Shoot) -> None:
        self._shoots[shoot.local_id] = shoot
        item = self._items.get(shoot.local_id)
        if item is None:
            item = QTreeWidgetItem()
            item.setData(0, Qt.ItemDataRole.UserRole, shoot.local_id)
            self.tree.insertTopLevelItem(0, item)
            bar = QProgressBar()
            bar.setTextVisible(True)
            self.tree.setItemWidget(item, PROGRESS_COLUMN, bar)
            self._items[shoot.local_id] = item
        receipt = shoot.receipt
        item.setText(0, shoot.product_name or shoot.request.product_id)
        item.setText(1, shoot.created_at.astimezone().strftime("%Y-%m-%d %H:%M"))
        item.setText(2, str(shoot.total or shoot.request.count))
        credits = receipt.credits_reserved if receipt else None
        item.setText(3, f"{credits:g} reserved" if credits is not None else "-")
        ids = " / ".join(x for x in (receipt.batch_id, receipt.order_id) if x) if receipt else ""
        item.setText(4, ids or "-")
        item.setText(6, STATE_TEXT.get(shoot.state, str(shoot.state)))
        item.setToolTip(6, shoot.error or shoot.summary())
        widget = self.tree.itemWidget(item, PROGRESS_COLUMN)
        if isinstance(widget, QProgressBar):
            widget.setRange(0, max(1, shoot.total))
            widget.setValue(shoot.done + shoot.failed)
            widget.setFormat(_progress_text(shoot))
        if self.tree.currentItem() is None:
            self.tree.setCurrentItem(item)
        self._update_buttons()

    def _update_buttons(self) -> None:
        shoot = self.current_shoot()
        self.run_again.setEnabled(shoot is not None)
        self.cancel.setEnabled(
            shoot is not None and shoot.state in (ShootState.TRACKING, ShootState.UNCERTAIN)
        )
        uncertain = shoot is not None and shoot.state is ShootState.UNCERTAIN
        self.check.setVisible(uncertain)
        safe = uncertain and shoot is not None and shoot.error == SAFE_TO_RESUBMIT
        self.submit_again.setVisible(safe)
        self.detail.setText("" if shoot is None else (shoot.error or shoot.summary()))


def _progress_text(shoot: Shoot) -> str:
    if shoot.total == 0:
        return "waiting for the receipt"
    parts = [f"{shoot.done} done"]
    if shoot.failed:
        parts.append(f"{shoot.failed} failed")
    if shoot.pending:
        parts.append(f"{shoot.pending} processing")
    return ", ".join(parts) + f" of {shoot.total}"
