"""An editable combo box that lists catalogue items by name (and, unless strict, takes a typed id).

It loads its items asynchronously and says so on a line of its own under the box: "Loading…", or
the error with a Retry button (kept while it tries again), or what the typed text means. That
line's space is always there, so the box never moves. A load that failed for a reason that may
pass (network, 5xx, 429) is retried by itself with backoff until it works or the picker is stopped.

The current index always follows the text: a text that names no item leaves no item chosen (so no
item's icon is shown for it).
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import Enum, auto

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QColor, QIcon, QPainter, QPaintEvent, QPalette, QResizeEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from qamera_desktop.api.errors import ApiError, NetworkError
from qamera_desktop.api.retry import is_retryable
from qamera_desktop.core.background_tasks import BackgroundTasks
from qamera_desktop.ui.theme import error_colour

log = logging.getLogger(__name__)

NONE_LABEL = "(none)"
LOADING_TEXT = "Loading…"
SLOW_TEXT = "Loading… Qamera has not answered yet."
SLOW_AFTER_MS = 8_000
TRYING_AGAIN_TEXT = "Trying again…"
RELOAD_DELAYS: tuple[float, ...] = (2.0, 4.0, 8.0, 15.0, 30.0)
"""Seconds before reloading by itself after each failure in a row (the last one repeats)."""


# -- words -----------------------------------------------------------------------------------
def noun(what: str) -> str:
    """The kind as inside a sentence: "Product" -> "product", "AI model" -> "AI model"."""
    first, _, rest = what.partition(" ")
    if not first.isupper():
        first = first.lower()
    return f"{first} {rest}" if rest else first


def with_article(word: str) -> str:
    """ "an AI model", "a product" (by the first letter: the kinds here need no more)."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def plural(word: str) -> str:
    if len(word) > 1 and word.endswith("y") and word[-2].lower() not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


_DETAIL = re.compile(r"\((?P<kind>[A-Za-z]+)(?::\s*(?P<text>.*))?\)\.?\s*$", re.DOTALL)
_NAME_NOT_FOUND = (
    "name or service not known",
    "nodename nor servname",
    "getaddrinfo",
    "no address associated",
    "name resolution",
)


def network_reason(error: NetworkError) -> str:
    """A few plain words for why the connection failed ("connection refused"), from the kind of
    failure the client put in its message."""
    match = _DETAIL.search(error.message)
    kind = match.group("kind") if match else ""
    text = (match.group("text") or "").lower() if match else ""
    if kind == "ConnectError":
        if any(marker in text for marker in _NAME_NOT_FOUND):
            return "the server's name was not found"
        if "ssl" in text or "certificate" in text:
            return "the secure connection failed"
        if "unreachable" in text or "no route" in text:
            return "no network"
        return "connection refused"
    if kind == "ConnectTimeout":
        return "no answer to the connection"
    if kind in ("ReadTimeout", "WriteTimeout", "PoolTimeout"):
        return "no answer in time"
    if kind in ("ReadError", "WriteError", "RemoteProtocolError", "CloseError"):
        return "the connection was cut"
    if kind == "ProxyError":
        return "the proxy refused"
    return "no connection"


def plain_error(error: ApiError) -> str:
    """The error as one sentence without the client's technical detail (no class names, no
    reference id: the log has them)."""
    if isinstance(error, NetworkError):
        reason = network_reason(error)
        if error.request_sent:
            return f"The connection to Qamera dropped ({reason})."
        return f"Could not reach Qamera ({reason})."
    return sentence(error.server_message or error.message)


def sentence(text: str) -> str:
    """The text ending with one full stop (or its own ! or ?)."""
    text = text.strip()
    if not text:
        return text
    return text if text[-1] in ".!?" else f"{text}."


# -- the message line ------------------------------------------------------------------------
class Tone(Enum):
    NORMAL = auto()
    HINT = auto()
    ERROR = auto()


class MessageLine(QLabel):
    """One line of text in a space that is always reserved: the text never resizes anything
    (a long one is elided, and whole in the tooltip). `text()` is the whole text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._tone = Tone.NORMAL
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
        self.setFixedHeight(self.fontMetrics().height() + 2)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    @property
    def tone(self) -> Tone:
        return self._tone

    def show_message(self, text: str, tone: Tone = Tone.NORMAL) -> None:
        if text == self.text() and tone is self._tone:
            return
        self._tone = tone
        palette = QPalette(self.palette())
        parent = self.parentWidget()
        base = parent.palette() if parent is not None else palette
        colour = {
            Tone.NORMAL: base.color(QPalette.ColorRole.WindowText),
            Tone.HINT: base.color(QPalette.ColorRole.PlaceholderText),
            Tone.ERROR: QColor(error_colour(base)),
        }[tone]
        palette.setColor(QPalette.ColorRole.WindowText, colour)
        self.setPalette(palette)
        self.setText(text)
        self._update_tooltip()

    def _elided(self) -> str:
        width = self.contentsRect().width()
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideRight, width)

    def _update_tooltip(self) -> None:
        self.setToolTip(self.text() if self._elided() != self.text() else "")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._update_tooltip()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.drawText(self.contentsRect(), int(self.alignment()), self._elided())


# -- the picker ------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class PickerItem:
    id: str
    name: str
    tooltip: str = ""
    approved: bool = False
    thumbnail: str | None = None

    @property
    def label(self) -> str:
        return f"{self.name}  ★" if self.approved else self.name


IconLookup = Callable[[str], QIcon | None]  # thumbnail URL -> icon once it is loaded


Loader = Callable[[bool], Awaitable[Sequence[PickerItem]]]  # show_all -> items


class LoadState(Enum):
    IDLE = auto()
    LOADING = auto()
    READY = auto()
    FAILED = auto()


class CataloguePicker(QWidget):
    changed = QtSignal()
    """The text or the chosen item changed (by the person or by the program)."""
    edited = QtSignal()
    """The person typed in the box or chose from its list."""
    loadSucceeded = QtSignal()
    loadFailed = QtSignal()

    def __init__(
        self,
        what: str,
        tasks: BackgroundTasks,
        load: Loader,
        *,
        optional: bool = True,
        strict: bool = False,
        approved_switch: bool = False,
        icon_for: IconLookup | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`what` names the kind as a form label does ("AI model"). `strict`: only an item of the
        list (by name or id) is a choice; otherwise a text that names none is taken as an id."""
        super().__init__(parent)
        self._icon_for = icon_for
        self._items: list[PickerItem] = []
        self._what = what
        self.noun = noun(what)
        self.plural = plural(self.noun)
        self._tasks = tasks
        self._load = load
        self._optional = optional
        self._strict = strict
        self._state = LoadState.IDLE
        self._error_text = ""
        self._slow = False
        self._failures = 0  # failed loads in a row
        self._retry_at: float | None = None  # monotonic time of the next reload by itself
        self._stopped = False
        self._syncing = False
        self._loads = 0  # numbers the loads: only the newest one fills the list
        self._task: asyncio.Task[None] | None = None

        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.combo.setAccessibleName(what)
        self.combo.setMinimumWidth(260)
        if icon_for is not None:
            self.combo.setIconSize(QSize(28, 28))
        line_edit = self.combo.lineEdit()
        if line_edit is not None:
            hint = "type to search" if strict else "or type its id"
            line_edit.setPlaceholderText(f"Choose {with_article(self.noun)} ({hint})")
            line_edit.textEdited.connect(lambda _t: self.edited.emit())
        self.combo.activated.connect(lambda _i: self.edited.emit())
        self.combo.currentIndexChanged.connect(self._index_changed)
        self.combo.editTextChanged.connect(self._text_changed)

        self.show_all = QCheckBox("Show all")
        self.show_all.setToolTip(f"List every {self.noun}, not only the approved ones")
        self.show_all.setVisible(approved_switch)
        self.show_all.toggled.connect(lambda _c: self.reload())

        self.state = MessageLine()
        self.state.setObjectName("pickerState")
        self.retry = QToolButton()
        self.retry.setText("Retry")
        self.retry.setToolTip(f"Load the {self.plural} again now")
        policy = self.retry.sizePolicy()
        policy.setRetainSizeWhenHidden(True)
        self.retry.setSizePolicy(policy)
        self.retry.hide()
        self.retry.clicked.connect(self.reload)

        self._retry_timer = QTimer(self)
        self._retry_timer.setSingleShot(True)
        self._retry_timer.timeout.connect(self.reload)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._show_state)
        self._slow_timer = QTimer(self)
        self._slow_timer.setSingleShot(True)
        self._slow_timer.setInterval(SLOW_AFTER_MS)
        self._slow_timer.timeout.connect(self._became_slow)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.combo, 1)
        top.addWidget(self.show_all)
        status = QWidget()
        status_layout = QHBoxLayout(status)
        status_layout.setContentsMargins(0, 0, 0, 0)
        status_layout.addWidget(self.state, 1)
        status_layout.addWidget(self.retry)
        status.setFixedHeight(max(self.state.height(), self.retry.sizeHint().height()))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addLayout(top)
        layout.addWidget(status)
        self._show_state()

    # -- loading -----------------------------------------------------------------------------
    @property
    def load_state(self) -> LoadState:
        return self._state

    @property
    def loading(self) -> bool:
        return self._state is LoadState.LOADING

    @property
    def failed(self) -> bool:
        return self._state is LoadState.FAILED

    def reload(self) -> None:
        """Load the list now (a load still running is dropped). What is typed or chosen stays."""
        if self._stopped:
            return
        self._retry_timer.stop()
        self._tick.stop()
        self._retry_at = None
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._state = LoadState.LOADING
        self._slow = False
        self._slow_timer.start()
        self._loads += 1
        self._show_state()
        self._task = self._tasks.start(self._fill(self._loads), f"Loading the {self.plural}")

    def retry_now(self) -> None:
        """Reload at once if the last load failed (e.g. another list just loaded: the connection
        is back)."""
        if self._state is LoadState.FAILED:
            self.reload()

    def stop(self) -> None:
        """No more loads, by itself or otherwise (the dialog is closing)."""
        self._stopped = True
        for timer in (self._retry_timer, self._tick, self._slow_timer):
            if isValid(timer):  # gone already when the dialog was deleted first
                timer.stop()
        self._retry_at = None

    async def _fill(self, load: int) -> None:
        try:
            items = await self._load(self.show_all.isChecked())
        except ApiError as exc:
            if load == self._loads:
                self._failed(exc)
            return
        except Exception:
            log.exception("Loading the %s failed", self.plural)
            if load == self._loads:
                self._failed(None)
            return
        if load == self._loads:
            self.set_items(items)
            self.loadSucceeded.emit()

    def _failed(self, error: ApiError | None) -> None:
        self._slow_timer.stop()
        self._state = LoadState.FAILED
        if error is None:
            self._error_text = (
                f"Could not load the {self.plural} (an unexpected error: see the log)."
            )
        elif isinstance(error, NetworkError):
            log.warning("Loading the %s failed: %s", self.plural, error)
            self._error_text = plain_error(error)
        else:
            log.warning("Loading the %s failed: %s", self.plural, error)
            self._error_text = f"Could not load the {self.plural}: {plain_error(error)}"
        if error is not None and is_retryable(error) and not self._stopped:
            delay = RELOAD_DELAYS[min(self._failures, len(RELOAD_DELAYS) - 1)]
            self._retry_at = time.monotonic() + delay
            self._retry_timer.start(int(delay * 1000))
            self._tick.start()
        self._failures += 1
        self._show_state()
        self.loadFailed.emit()

    def _became_slow(self) -> None:
        if self._state is LoadState.LOADING:
            self._slow = True
            self._show_state()

    def set_items(self, items: Sequence[PickerItem]) -> None:
        """Fill the list; what is typed (or chosen) is kept and looked up in the new list."""
        self._slow_timer.stop()
        self._state = LoadState.READY
        self._failures = 0
        text = self.combo.currentText()
        self._syncing = True
        self.combo.blockSignals(True)
        try:
            self.combo.clear()
            if self._optional:
                self.combo.addItem(NONE_LABEL, None)
            ordered = sorted(items, key=lambda i: (not i.approved, i.name.casefold()))
            self._items = ordered
            for item in ordered:
                self.combo.addItem(item.label, item.id)
                tip = f"{item.id}\n{item.tooltip}".strip()
                self.combo.setItemData(self.combo.count() - 1, tip, Qt.ItemDataRole.ToolTipRole)
            index = self._match(text)
            self.combo.setCurrentIndex(index)
            if index < 0:
                self.combo.setEditText(text)
        finally:
            self.combo.blockSignals(False)
            self._syncing = False
        self.refresh_icons()
        self._show_state()
        self.changed.emit()

    # -- icons -------------------------------------------------------------------------------
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

    def current_icon(self) -> QIcon:
        """The icon the box shows: the chosen item's (none when the text names no item)."""
        index = self.combo.currentIndex()
        return self.combo.itemIcon(index) if index >= 0 else QIcon()

    # -- choosing ----------------------------------------------------------------------------
    def select_id(self, item_id: str | None) -> None:
        """Choose the item with this id; an id the list does not hold (yet) is kept as text and
        looked up again when the list arrives."""
        if item_id is None:
            self.combo.setEditText("")
            if self._optional and self.combo.count():
                self.combo.setCurrentIndex(0)
            return
        index = self.combo.findData(item_id)
        if index >= 0:
            self.combo.setCurrentIndex(index)
        else:
            self.combo.setEditText(item_id)

    def current_id(self) -> str | None:
        """The chosen item's id, else (unless strict) the typed text taken as an id; None for
        "(none)", blank, or (strict) a text that names no item."""
        index = self.combo.currentIndex()
        if index >= 0:
            data = self.combo.itemData(index)
            return data if isinstance(data, str) else None
        text = self.combo.currentText().strip()
        if self._strict or not text or text == NONE_LABEL:
            return None
        return text

    def current_item(self) -> PickerItem | None:
        index = self.combo.currentIndex() - (1 if self._optional else 0)
        if self.combo.currentIndex() >= 0 and 0 <= index < len(self._items):
            return self._items[index]
        return None

    def _match(self, text: str) -> int:
        """The row the text names (by label, name or id); -1 when none."""
        wanted = text.strip()
        offset = 1 if self._optional else 0
        if not wanted or (self._optional and wanted == NONE_LABEL):
            return 0 if self._optional and self.combo.count() else -1
        folded = wanted.casefold()
        for row, item in enumerate(self._items, start=offset):
            if folded in (item.label.casefold(), item.name.casefold()) or wanted == item.id:
                return row
        return -1

    def _text_changed(self, text: str) -> None:
        if self._syncing:
            return
        index = self._match(text)
        if index != self.combo.currentIndex():
            self._choose_keeping_text(index, text)
        self._show_state()
        self.changed.emit()

    def _index_changed(self, _index: int) -> None:
        if self._syncing:
            return
        self._show_state()
        self.changed.emit()

    def _choose_keeping_text(self, index: int, text: str) -> None:
        """Make `index` current without touching what is being typed (nor the cursor)."""
        edit = self.combo.lineEdit()
        if edit is None:
            return
        cursor = edit.cursorPosition()
        start = edit.selectionStart()
        selected = len(edit.selectedText())
        self._syncing = True
        self.combo.blockSignals(True)
        try:
            self.combo.setCurrentIndex(index)
            if edit.text() != text:
                edit.setText(text)
            if start >= 0 and selected:
                if cursor == start:
                    edit.setSelection(start + selected, -selected)
                else:
                    edit.setSelection(start, selected)
            else:
                edit.setCursorPosition(cursor)
        finally:
            self.combo.blockSignals(False)
            self._syncing = False

    # -- the message line --------------------------------------------------------------------
    def _note(self) -> tuple[str, Tone]:
        """What the text means, when the list is there."""
        text = self.combo.currentText().strip()
        index = self.combo.currentIndex()
        if self._state is LoadState.READY and not self._items and not text:
            return f"No {self.plural} in this account.", Tone.HINT
        if self._strict:
            if not text:
                return f"Required: choose {with_article(self.noun)} from the list.", Tone.HINT
            if index < 0:
                if self._state is not LoadState.READY:
                    return "", Tone.NORMAL
                return f"No {self.noun} “{text}” in this account.", Tone.ERROR
            return "", Tone.NORMAL
        if index < 0 and text and text != NONE_LABEL and self._state is LoadState.READY:
            return f"Not in the list: sent as the id “{text}”.", Tone.HINT
        return "", Tone.NORMAL

    def _show_state(self) -> None:
        retry = False
        if self._state is LoadState.LOADING and self._failures:
            # trying again after a failure: the failure stays said (with Retry) until a load
            # works, rather than "Loading…" for the client's retries (15 s per try, offline)
            text, tone, retry = f"{self._error_text} {TRYING_AGAIN_TEXT}", Tone.ERROR, True
        elif self._state is LoadState.LOADING:
            text, tone = (SLOW_TEXT if self._slow else LOADING_TEXT), Tone.HINT
        elif self._state is LoadState.FAILED:
            text, tone, retry = self._error_text, Tone.ERROR, True
            if self._retry_at is not None:
                seconds = max(1, math.ceil(self._retry_at - time.monotonic()))
                text = f"{text} Retrying in {seconds} s."
        else:
            text, tone = self._note()
        self.state.show_message(text, tone)
        self.retry.setVisible(retry)

    def message(self) -> str:
        """The text of the message line."""
        return self.state.text()
