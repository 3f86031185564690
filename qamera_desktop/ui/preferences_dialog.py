"""Preferences (Ctrl+,): the theme, notifications, the thumbnail cache, the defaults of a new shoot
and the keyboard shortcuts. Every choice applies at once and is saved at once (there is no OK
button to forget); the window hands in its settings, a way to save changes, its `ActionSet` and
the folder of its thumbnail cache.

The cache is this account's thumbnails on disk (core/thumbnails/disk_cache.py, one folder per
account). Its use is measured by walking the folder in a worker thread; a lower limit trims it
there and then, least recently used first, by the cache's own rule (`DiskCache.trim`), which is
also how Clear empties it. The loader reads the limit when it starts: a new limit is the worker's
own from the next start (ui/services.py).

A shortcut is changed by choosing an action in the table and pressing the new key. A key that
another action holds where both are live (ui/actions.py: `clash_of`) is refused with the name of
that action, as are the grid's own navigation keys and plain letters for actions of the whole
window (they would be typed into the search field).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.shoot_request import MAX_COUNT, MIN_COUNT
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.core.settings import CACHE_MB_MAX, CACHE_MB_MIN, Settings, Theme
from qamera_desktop.core.shoot_defaults import INDUSTRIES
from qamera_desktop.core.thumbnails.disk_cache import DiskCache
from qamera_desktop.ui.actions import (
    ACTIONS,
    WHERE,
    ActionId,
    ActionSet,
    clash_of,
    keys_text,
    spec_of,
)
from qamera_desktop.ui.theme import apply_theme, error_colour

THEMES: Final[tuple[tuple[Theme, str], ...]] = (
    (Theme.SYSTEM, "Follow the system"),
    (Theme.LIGHT, "Light"),
    (Theme.DARK, "Dark"),
)
CACHE_STEP_MB: Final = 64
LIMIT_SETTLES_MS: Final = 700  # a new limit is applied once the arrows stop
MEASURING: Final = "Measuring the thumbnail cache"
TRIMMING: Final = "Trimming the thumbnail cache"
CLEARING: Final = "Clearing the thumbnail cache"
MB: Final = 2**20

Save = Callable[..., None]


# -- the cache folder: plain file work for a worker thread -------------------------------------
def folder_bytes(folder: Path) -> int:
    """The bytes of every file under `folder` (0 when it does not exist)."""
    total = 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue  # deleted meanwhile (the worker trims too)
    return total


def trim_cache(folder: Path, limit_bytes: int) -> int:
    """Evict the least recently used thumbnails past `limit_bytes` (down to 90% of it, as the
    cache does itself); the bytes of the folder after."""
    DiskCache(folder, limit_bytes).trim()
    return folder_bytes(folder)


def clear_cache(folder: Path) -> int:
    """Delete every cached thumbnail (a trim to nothing: the cache's own rule about which files
    are its own); the bytes left in the folder (files being written just now)."""
    return trim_cache(folder, 0)


def action_button(text: str) -> QPushButton:
    """A button that acts only when clicked. A dialog's push buttons are "auto default": the
    first one became the default, and Return pressed in a field (the cache limit, the count)
    cleared the cache. Return there only finishes the field's editing."""
    button = QPushButton(text)
    button.setAutoDefault(False)
    return button


def size_text(count: int) -> str:
    if count >= 10 * 2**30:
        return f"{count / 2**30:.0f} GB"
    if count >= 2**30:
        return f"{count / 2**30:.1f} GB"
    return f"{count / MB:.0f} MB" if count >= MB or count == 0 else "less than 1 MB"


class PreferencesDialog(QDialog):
    def __init__(
        self,
        settings: Settings,
        save: Save,
        keys: ActionSet,
        cache_folder: Path | None,
        tasks: BackgroundTasks,
        parent: QWidget | None = None,
    ) -> None:
        """`save(**changes)` saves settings; `cache_folder`: the account's thumbnail cache (None:
        unknown, the cache's part says so)."""
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setObjectName("preferences")
        self._save = save
        self._keys = keys
        self._cache_folder = cache_folder
        self._tasks = tasks
        self._cache_job: asyncio.Task[int] | None = None  # the last one asked for
        self._applied_mb = settings.thumbnail_cache_mb
        self._error_said = False

        self.tabs = QTabWidget()
        self.tabs.addTab(self._general_page(settings), "&General")
        self.tabs.addTab(self._keyboard_page(), "&Keyboard")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)
        self.resize(640, 560)
        keys.on_keys_changed(self._fill_keys)

    # -- General -----------------------------------------------------------------------------
    def _general_page(self, settings: Settings) -> QWidget:
        self.theme = QComboBox()
        self.theme.setAccessibleName("Theme")
        for theme, text in THEMES:
            self.theme.addItem(text, theme.value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        self.theme.currentIndexChanged.connect(lambda _i: self._theme_chosen())

        self.notifications = QCheckBox(
            "Tell me when a shoot finishes while I work in another window"
        )
        self.notifications.setChecked(settings.notifications)
        self.notifications.toggled.connect(lambda on: self._save(notifications=on))

        self.cache_limit = QSpinBox()
        self.cache_limit.setAccessibleName("Thumbnail cache limit")
        self.cache_limit.setRange(CACHE_MB_MIN, CACHE_MB_MAX)
        self.cache_limit.setSingleStep(CACHE_STEP_MB)
        self.cache_limit.setSuffix(" MB")
        self.cache_limit.setValue(settings.thumbnail_cache_mb)
        self._limit_timer = QTimer(self)
        self._limit_timer.setSingleShot(True)
        self._limit_timer.setInterval(LIMIT_SETTLES_MS)
        self._limit_timer.timeout.connect(self.apply_cache_limit)
        self.cache_limit.valueChanged.connect(lambda _v: self._limit_timer.start())
        self.cache_limit.editingFinished.connect(self.apply_cache_limit)
        self.cache_usage = QLabel()
        self.cache_usage.setObjectName("cacheUsage")
        self.clear_button = action_button("&Clear")
        self.clear_button.setToolTip(
            "Delete this account's thumbnails from this computer (they load again as needed)"
        )
        self.clear_button.clicked.connect(self.clear)
        usage_row = QHBoxLayout()
        usage_row.addWidget(self.cache_usage, 1)
        usage_row.addWidget(self.clear_button)
        if self._cache_folder is None:
            self.cache_usage.setText("Not known for this window.")
            self.clear_button.setEnabled(False)

        self.industry = QComboBox()
        self.industry.setEditable(True)
        self.industry.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.industry.setAccessibleName("Default industry")
        self.industry.addItems(["", *INDUSTRIES])
        self.industry.setEditText(settings.new_shoot_industry or "")
        edit = self.industry.lineEdit()
        if edit is not None:
            edit.setPlaceholderText("None")
        self.industry.editTextChanged.connect(
            lambda text: self._save(new_shoot_industry=text.strip() or None)
        )
        self.count = QSpinBox()
        self.count.setAccessibleName("Default number of images")
        self.count.setRange(MIN_COUNT, MAX_COUNT)
        self.count.setSuffix(" images")
        self.count.setValue(settings.new_shoot_count)
        self.count.valueChanged.connect(lambda n: self._save(new_shoot_count=n))

        appearance = QFormLayout()
        appearance.addRow("&Theme", self.theme)
        notifications = QVBoxLayout()
        notifications.addWidget(self.notifications)
        cache = QFormLayout()
        cache.addRow("&Limit", self.cache_limit)
        cache.addRow("In use", usage_row)
        note = QLabel(
            "This account's thumbnails, kept on this computer so that the grid fills fast. "
            "The least recently seen go first once the limit is reached."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: palette(placeholder-text);")
        cache.addRow(note)
        shoots = QFormLayout()
        shoots.addRow("&Industry", self.industry)
        shoots.addRow("&Number of images", self.count)

        page = QWidget()
        layout = QVBoxLayout(page)
        for title, content in (
            ("Appearance", appearance),
            ("Notifications", notifications),
            ("Thumbnail cache", cache),
            ("New shoots start with", shoots),
        ):
            box = QGroupBox(title)
            box.setLayout(content)
            layout.addWidget(box)
        layout.addStretch(1)
        return page

    def _theme_chosen(self) -> None:
        theme = Theme(self.theme.currentData())
        apply_theme(theme)
        self._save(theme=theme.value)

    # -- the thumbnail cache -----------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.measure()

    def measure(self) -> asyncio.Task[int] | None:
        """Measure the cache's use in a worker thread and show it."""
        job = self._cache_job
        if job is not None and not job.done() and job.get_name() == MEASURING:
            return job  # the last job asked for is a measure already
        return self._on_cache(folder_bytes, MEASURING, "Measuring…")

    def apply_cache_limit(self) -> asyncio.Task[int] | None:
        """Save the limit shown, and trim the cache to it now (in a worker thread). The limit
        as it was last applied is not applied again (the field's editing ends again each time
        it loses the focus)."""
        self._limit_timer.stop()
        megabytes = self.cache_limit.value()
        if megabytes == self._applied_mb:
            return None
        self._applied_mb = megabytes
        self._save(thumbnail_cache_mb=megabytes)
        return self._on_cache(
            lambda folder: trim_cache(folder, megabytes * MB), TRIMMING, "Trimming…"
        )

    def clear(self) -> asyncio.Task[int] | None:
        """Delete the account's cached thumbnails (in a worker thread)."""
        self.clear_button.setEnabled(False)
        return self._on_cache(clear_cache, CLEARING, "Clearing…")

    def _on_cache(
        self, work: Callable[[Path], int], what: str, doing: str
    ) -> asyncio.Task[int] | None:
        """Run `work` on the cache folder in a worker thread, after the jobs asked for before
        it: one at a time, in the order asked, so that the use shown is the last job's (a
        measure that ended after a Clear showed the bytes from before it)."""
        folder = self._cache_folder
        if folder is None:
            return None
        self.cache_usage.setText(doing)
        job = self._tasks.start(self._cache_step(self._cache_job, work, folder), what)
        self._cache_job = job
        return job

    async def _cache_step(
        self, previous: asyncio.Task[int] | None, work: Callable[[Path], int], folder: Path
    ) -> int:
        if previous is not None and not previous.done():
            await asyncio.wait([previous])  # its failure is reported by its own task
        try:
            used = await asyncio.to_thread(work, folder)
        except OSError as exc:
            self.cache_usage.setText(f"Could not read the cache: {exc.strerror or exc}")
            raise
        finally:
            if self._cache_job is asyncio.current_task():
                self.clear_button.setEnabled(True)
        if self._cache_job is asyncio.current_task():  # else a later job shows its own
            limit = self.cache_limit.value() * MB
            self.cache_usage.setText(f"{size_text(used)} of {size_text(limit)}")
        return used

    # -- Keyboard ----------------------------------------------------------------------------
    def _keyboard_page(self) -> QWidget:
        self.key_filter = QLineEdit()
        self.key_filter.setPlaceholderText("Find an action")
        self.key_filter.setClearButtonEnabled(True)
        self.key_filter.setAccessibleName("Find an action")
        self.key_filter.textChanged.connect(self._filter_rows)
        self.key_table = QTableWidget(len(ACTIONS), 3)
        self.key_table.setHorizontalHeaderLabels(["Action", "Where", "Keys"])
        self.key_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.key_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.key_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.key_table.verticalHeader().hide()
        header = self.key_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        for row, spec in enumerate(ACTIONS):
            name = QTableWidgetItem(spec.text)
            name.setData(Qt.ItemDataRole.UserRole, spec.id.value)
            name.setToolTip(spec.tip)
            self.key_table.setItem(row, 0, name)
            where = WHERE[spec.context].removeprefix(" in ").capitalize() or "The window"
            self.key_table.setItem(row, 1, QTableWidgetItem(where))
            self.key_table.setItem(row, 2, QTableWidgetItem())
        self.key_table.itemSelectionChanged.connect(self._row_chosen)

        self.key_edit = QKeySequenceEdit()
        self.key_edit.setAccessibleName("New key")
        self.key_edit.setMaximumSequenceLength(1)
        self.key_edit.setToolTip("Press the new key for the chosen action")
        self.key_edit.editingFinished.connect(self._key_pressed)
        self.no_key = action_button("No key")
        self.no_key.clicked.connect(lambda: self._bind_chosen([]))
        self.default_key = action_button("Default")
        self.default_key.clicked.connect(self._chosen_to_default)
        self.restore = action_button("&Restore defaults")
        self.restore.setToolTip("Every action gets its default keys back")
        self.restore.clicked.connect(self.restore_defaults)
        edit_row = QHBoxLayout()
        edit_row.addWidget(QLabel("New key:"))
        edit_row.addWidget(self.key_edit, 1)
        edit_row.addWidget(self.no_key)
        edit_row.addWidget(self.default_key)
        self.key_message = QLabel()
        self.key_message.setObjectName("keyMessage")
        self.key_message.setWordWrap(True)
        self.key_message.setMinimumHeight(self.key_message.fontMetrics().lineSpacing() * 2 + 4)

        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.key_filter)
        layout.addWidget(self.key_table, 1)
        layout.addLayout(edit_row)
        layout.addWidget(self.key_message)
        restore_row = QHBoxLayout()
        restore_row.addStretch(1)
        restore_row.addWidget(self.restore)
        layout.addLayout(restore_row)
        self._fill_keys()
        self._row_chosen()
        return page

    def _fill_keys(self) -> None:
        """The Keys column as bound now; an action not on its default keys is in bold."""
        customized = self._keys.customized()
        for row, spec in enumerate(ACTIONS):
            item = self._item(row, 2)
            item.setText(keys_text(self._keys[spec.id].shortcuts()) or "(none)")
            font = item.font()
            font.setBold(spec.id in customized)
            item.setFont(font)

    def _filter_rows(self, text: str) -> None:
        wanted = text.strip().lower()
        for row, spec in enumerate(ACTIONS):
            shown = not wanted or wanted in f"{spec.text} {spec.tip}".lower()
            self.key_table.setRowHidden(row, not shown)

    def chosen_action(self) -> ActionId | None:
        rows = self.key_table.selectionModel().selectedRows()
        if not rows:
            return None
        return ActionId(self._item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))

    def choose_action(self, action_id: ActionId) -> None:
        row = next(i for i, spec in enumerate(ACTIONS) if spec.id is action_id)
        self.key_table.selectRow(row)
        self.key_table.scrollToItem(self._item(row, 0))

    def _item(self, row: int, column: int) -> QTableWidgetItem:
        item = self.key_table.item(row, column)
        assert item is not None  # every cell has one (_keyboard_page)
        return item

    def _row_chosen(self) -> None:
        action_id = self.chosen_action()
        for widget in (self.key_edit, self.no_key, self.default_key):
            widget.setEnabled(action_id is not None)
        self.key_edit.clear()
        if action_id is None:
            self._say("Choose an action, then press its new key.")
        else:
            self._say(f"Press the new key for “{spec_of(action_id).text.rstrip('…')}”.")

    def _key_pressed(self) -> None:
        sequence = self.key_edit.keySequence()
        if sequence.isEmpty():
            return
        self._bind_chosen([sequence.toString(QKeySequence.SequenceFormat.PortableText)])

    def _chosen_to_default(self) -> None:
        action_id = self.chosen_action()
        if action_id is not None:
            self.bind(action_id, spec_of(action_id).keys)

    def _bind_chosen(self, keys: Sequence[str]) -> None:
        action_id = self.chosen_action()
        if action_id is not None:
            self.bind(action_id, keys)

    def bind(self, action_id: ActionId, keys: Sequence[str]) -> str | None:
        """Give `action_id` these keys, applied and saved at once; refused (the sentence why,
        also shown) when one clashes."""
        clash = clash_of(action_id, keys, self._keys.table())
        self.key_edit.clear()
        if clash is not None:
            self._say(f"Not changed: {clash.sentence()}", error=True)
            return clash.sentence()
        self._keys.set_keys(action_id, [QKeySequence(k) for k in keys])
        self._save_keys()
        bound = keys_text(self._keys[action_id].shortcuts()) or "no key"
        self._say(f"“{spec_of(action_id).text.rstrip('…')}”: {bound}.")
        return None

    def restore_defaults(self) -> None:
        for spec in ACTIONS:
            self._keys.set_keys(spec.id, [QKeySequence(k) for k in spec.keys])
        self._save_keys()
        self._say("Every action has its default keys again.")

    def _save_keys(self) -> None:
        self._save(shortcuts={i.value: keys for i, keys in self._keys.customized().items()})

    def _say(self, text: str, *, error: bool = False) -> None:
        self._error_said = error
        self.key_message.setText(text)
        self._colour_message()

    def _colour_message(self) -> None:
        colour = error_colour(self.palette()) if self._error_said else "palette(window-text)"
        self.key_message.setStyleSheet(f"color: {colour};")

    def done(self, result: int) -> None:
        """Closing applies a limit still settling (the window writes the settings as this
        closes: a limit saved after that would be lost)."""
        if self._limit_timer.isActive():
            self.apply_cache_limit()
        super().done(result)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:  # light or dark: the red for it
            self._colour_message()
