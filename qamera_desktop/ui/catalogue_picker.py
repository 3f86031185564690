"""An editable combo box that lists catalogue items by name and also takes a typed id.

It loads its items asynchronously and says so: "Loading…", or the error with a Retry button.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QSize, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QPushButton, QWidget

from qamera_desktop.api.errors import ApiError
from qamera_desktop.core.background_tasks import BackgroundTasks

NONE_LABEL = "(none)"


@dataclass(frozen=True, slots=True)
class PickerItem:
    id: str
    name: str
    tooltip: str = ""
    approved: bool = False
    thumbnail: str | None = None


IconLookup = Callable[[str], QIcon | None]  # thumbnail URL -> icon once it is loaded


Loader = Callable[[bool], Awaitable[Sequence[PickerItem]]]  # show_all -> items


class CataloguePicker(QWidget):
    changed = QtSignal()

    def __init__(
        self,
        what: str,
        tasks: BackgroundTasks,
        load: Loader,
        *,
        optional: bool = True,
        approved_switch: bool = False,
        icon_for: IconLookup | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._icon_for = icon_for
        self._items: list[PickerItem] = []
        self._what = what
        self._tasks = tasks
        self._load = load
        self._optional = optional
        self._pending_id: str | None = None
        self._loads = 0  # numbers the loads: only the newest one fills the list
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setAccessibleName(what)
        self.combo.setMinimumWidth(260)
        if icon_for is not None:
            self.combo.setIconSize(QSize(28, 28))
        line_edit = self.combo.lineEdit()
        if line_edit is not None:
            line_edit.setPlaceholderText(f"Choose a {what.lower()} or type its id")
        self.combo.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.combo.editTextChanged.connect(lambda _t: self.changed.emit())
        self.state = QLabel()
        self.state.setObjectName("pickerState")
        self.retry = QPushButton("Retry")
        self.retry.hide()
        self.retry.clicked.connect(self.reload)
        self.show_all = QCheckBox("Show all")
        self.show_all.setToolTip(f"List every {what.lower()}, not only the approved ones")
        self.show_all.setVisible(approved_switch)
        self.show_all.toggled.connect(lambda _c: self.reload())
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.combo, 1)
        layout.addWidget(self.show_all)
        layout.addWidget(self.state)
        layout.addWidget(self.retry)

    def reload(self) -> None:
        keep = self.current_id()
        if keep is not None:
            self._pending_id = keep
        self.state.setText("Loading…")
        self.state.setStyleSheet("")
        self.retry.hide()
        self._loads += 1
        self._tasks.start(self._fill(self._loads), f"Loading {self._what.lower()}s")

    async def _fill(self, load: int) -> None:
        try:
            items = await self._load(self.show_all.isChecked())
        except ApiError as exc:
            if load != self._loads:
                return  # a newer load (e.g. "Show all" toggled again) decides

            self.state.setText(f"Could not load: {exc}")
            self.state.setStyleSheet("color: #e03131")
            self.retry.show()
            return
        if load == self._loads:
            self.set_items(items)

    def set_items(self, items: Sequence[PickerItem]) -> None:
        wanted = self._pending_id if self._pending_id is not None else self.current_id()
        self.combo.blockSignals(True)
        self.combo.clear()
        if self._optional:
            self.combo.addItem(NONE_LABEL, None)
        ordered = sorted(items, key=lambda i: (not i.approved, i.name.casefold()))
        self._items = ordered
        for item in ordered:
            label = f"{item.name}  ★" if item.approved else item.name
            self.combo.addItem(label, item.id)
            tip = f"{item.id}\n{item.tooltip}".strip()
            self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
        self.combo.blockSignals(False)
        self._pending_id = None
        self.state.setText("" if items else f"No {self._what.lower()}s")
        self.select_id(wanted)
        self.refresh_icons()
        self.changed.emit()

    def thumbnails(self) -> list[str]:
        return [i.thumbnail for i in self._items if i.thumbnail]

    def refresh_icons(self) -> None:
        """Give each item its thumbnail as soon as the loader has it."""
        if self._icon_for is None:
            return
        offset = 1 if self._optional else 0
        for row, item in enumerate(self._items, start=offset):
            if item.thumbnail and self.combo.itemIcon(row).isNull():
                icon = self._icon_for(item.thumbnail)
                if icon is not None:
                    self.combo.setItemIcon(row, icon)

    def select_id(self, item_id: str | None) -> None:
        """Select the item with this id; an id the list does not hold is kept as typed text."""
        if item_id is None:
            self.combo.setCurrentIndex(0 if self.combo.count() else -1)
            if not self._optional:
                self.combo.setEditText("")
            return
        index = self.combo.findData(item_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            if self.combo.count() == 0:
                self._pending_id = item_id
            self.combo.setEditText(item_id)

    def current_id(self) -> str | None:
        """The chosen item's id, or the typed text taken as an id; None for "(none)" or blank."""
        text = self.combo.currentText().strip()
        index = self.combo.currentIndex()
        if index >= 0 and text == self.combo.itemText(index).strip():
            data = self.combo.itemData(index)
            return data if isinstance(data, str) else None
        match = self.combo.findText(text)
        if match >= 0:
            data = self.combo.itemData(match)
            return data if isinstance(data, str) else None
        if text == NONE_LABEL:
            return None
        return text or None
