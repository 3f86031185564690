"""The designer's decisions in the main window: pick, reject, clear, stars, labels, reject reasons,
undo and redo, each on the selected images (or the current one) as one step of the ReviewStore
(core/review_store.py), which commits it to the database before it returns.

After a decision the library re-filters only the decided rows (`ImageLibrary.update_reviews`) and
the grid repaints only those. With auto-advance on, a decision on one image makes the next image
current: the one after it, found before deciding, so that it is the right one whether the decided
image stays in the view or leaves it (rejecting inside "Unflagged"); the last image hands over to
the one before it. The view never jumps to the top.

After a reject, a row of reason chips (`ReasonBar`) offers the reasons for the images just
rejected: a click or Alt+1 to Alt+6 toggles one; going on (the next decision, moving to another
image by hand, marking another pane in compare, closing the loupe or compare) skips them. There is
one bar, shown at the bottom of the window the decision was made in: under the grid, or in the
loupe or compare (`ImageBrowser.review_window()`). A decision that cannot be written changes
nothing and says so in the window.

The controller also owns what the main window shows of the review: the handlers of the table's
review rows (`key_handlers`), the View menu's auto-advance, and the count line under the filter bar
("58 images · 12 picks · 30 rejects · 16 to review").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QLabel,
    QPushButton,
    QStatusBar,
    QWidget,
)

from qamera_desktop.core.image_library import ImageLibrary
from qamera_desktop.core.review import (
    REASON_TEXT,
    Flag,
    Label,
    RejectReason,
    Review,
    with_flag,
    with_label_toggled,
    with_rating,
    with_reason_toggled,
)
from qamera_desktop.core.review_store import ReviewChange, ReviewStore, Step
from qamera_desktop.ui.actions import ActionId, Context
from qamera_desktop.ui.flow_layout import FlowLayout
from qamera_desktop.ui.image_browser import ImageBrowser

if TYPE_CHECKING:
    from qamera_desktop.ui.preview_dialog import ReviewWindow

log = logging.getLogger(__name__)

REASON_BAR_STYLE = (
    "#reasonBar { border-top: 1px solid palette(mid); }"
    " #reasonBar QPushButton { border: 1px solid palette(mid); border-radius: 10px;"
    " padding: 2px 10px; }"
    " #reasonBar QPushButton:checked { background: #e03131; color: white; border-color: #e03131; }"
)


class ReasonBar(QFrame):
    """Optional reasons for the images just rejected, as chips (checkable, never focused). The
    chips flow onto a second line when the window is narrower than all of them (they never make
    the window wider)."""

    def __init__(
        self, toggle: Callable[[RejectReason], None], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("reasonBar")
        self.setStyleSheet(REASON_BAR_STYLE)
        self.setAccessibleName("Reject reasons")
        layout = FlowLayout(self, spacing=6, line_spacing=4)
        layout.setContentsMargins(8, 4, 8, 4)
        self.title = QLabel()
        layout.addWidget(self.title)
        self.chips: dict[RejectReason, QPushButton] = {}
        for n, (reason, text) in enumerate(REASON_TEXT.items(), start=1):
            chip = QPushButton(f"{text}  Alt+{n}")
            chip.setCheckable(True)
            chip.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the keys stay on the grid
            chip.setToolTip(f"Rejected for {text} (Alt+{n})")
            chip.clicked.connect(lambda _checked=False, r=reason: toggle(r))
            layout.addWidget(chip)
            self.chips[reason] = chip
        self.hide()

    def show_for(self, what: str, review: Review, slot: QBoxLayout) -> None:
        """Show the reasons of `review` at the bottom of `slot` (the window decided in)."""
        if slot.indexOf(self) < 0:
            slot.addWidget(self)  # moves it out of the window it was in
        self.title.setText(f"Why is {what} rejected? (optional)")
        for reason, chip in self.chips.items():
            chip.setChecked(reason in review.reasons)
        self.show()


class ReviewController(QObject):
    historyChanged = QtSignal(bool, bool)  # whether there is a decision to undo, and to redo

    def __init__(
        self,
        library: ImageLibrary,
        browser: ImageBrowser,
        status_bar: QStatusBar,
        *,
        reason_home: QBoxLayout,
        auto_advance: bool,
        save_auto_advance: Callable[[bool], None],
        parent: QObject | None = None,
    ) -> None:
        """`reason_home`: where the reason chips go in the main window (under the grid)."""
        super().__init__(parent)
        self._library = library
        self._browser = browser
        self._status_bar = status_bar
        self.store: ReviewStore | None = None
        self.review_line = QLabel()  # "58 images · 12 picks · 30 rejects · 16 to review"
        self.review_line.setAccessibleName("Review counts")
        self.auto_advance_action = QAction("Auto-advance", self)
        self.auto_advance_action.setCheckable(True)
        self.auto_advance_action.setChecked(auto_advance)
        self.auto_advance_action.setToolTip("After a decision on one image, go on to the next")
        self.auto_advance_action.toggled.connect(save_auto_advance)
        self._reason_home = reason_home
        self.reason_bar = ReasonBar(self.toggle_reason)
        reason_home.addWidget(self.reason_bar)
        self._reason_targets: list[str] = []  # the images of the last reject
        self._advancing = False
        # moving on to another image or pane by hand skips the reasons (auto-advance does not)
        browser.chosenChanged.connect(self._chosen_by_hand)
        browser.reviewWindowMade.connect(self._review_window_made)
        browser.model.patchFinished.connect(self.show_counts)
        browser.model.modelReset.connect(self.show_counts)

    def attach(self, store: ReviewStore) -> None:
        self.store = store
        self._library.set_reviews(store.reviewed())
        self._after_change()

    def key_handlers(self) -> dict[ActionId, Callable[[], object]]:
        """The handlers of the table's review rows (REVIEW_ACTIONS)."""
        return {
            ActionId.PICK: self.pick,
            ActionId.REJECT: self.reject,
            ActionId.CLEAR_FLAG: self.clear_flag,
            **{ActionId(f"rate_{n}"): partial(self.rate, n) for n in range(6)},
            ActionId.LABEL_RED: partial(self.toggle_label, Label.RED),
            ActionId.LABEL_YELLOW: partial(self.toggle_label, Label.YELLOW),
            ActionId.LABEL_GREEN: partial(self.toggle_label, Label.GREEN),
            ActionId.LABEL_BLUE: partial(self.toggle_label, Label.BLUE),
            **{
                ActionId(f"reason_{n}"): partial(self.toggle_reason, reason)
                for n, reason in enumerate(RejectReason, start=1)
            },
            ActionId.UNDO: self.undo,
            ActionId.REDO: self.redo,
        }

    def show_counts(self) -> None:
        """The count line of the current filter."""
        self.review_line.setText(self._library.counts.text())

    # -- the keys' handlers ------------------------------------------------------------------
    def pick(self) -> None:
        self.decide(lambda r: with_flag(r, Flag.PICK))

    def reject(self) -> None:
        self.decide(lambda r: with_flag(r, Flag.REJECT), rejecting=True)

    def clear_flag(self) -> None:
        self.decide(lambda r: with_flag(r, Flag.NONE))

    def rate(self, stars: int) -> None:
        self.decide(lambda r: with_rating(r, stars))

    def toggle_label(self, label: Label) -> None:
        self.decide(lambda r: with_label_toggled(r, label))

    def toggle_reason(self, reason: RejectReason) -> None:
        """Toggle `reason` on the images just rejected (else on the selected ones that are
        rejected); never advances."""
        targets = self._reason_targets or self._browser.targets()
        if not targets:
            return
        step = self._write(
            lambda: self._store().decide(targets, lambda r: with_reason_toggled(r, reason))
        )
        if isinstance(step, Step):
            self._library.update_reviews(step.after)
            self._after_change()
        if self._reason_targets:
            self._show_reasons()

    # -- deciding ----------------------------------------------------------------------------
    def decide(self, change: ReviewChange, *, rejecting: bool = False) -> None:
        """Apply `change` to the selected images (the current one when one or none is selected)
        as one undo step; then, for one image and with auto-advance, make the next current."""
        if self.store is None:
            return
        targets = self._browser.targets()
        if not targets:
            return
        after = self._browser.next_after(targets[0]) if len(targets) == 1 else None
        step = self._write(lambda: self._store().decide(targets, change))
        if isinstance(step, bool):
            return  # not written: nothing changed
        if step is not None:
            self._library.update_reviews(step.after)
        if rejecting:
            rejected = [i for i in targets if self._library.review(i).flag is Flag.REJECT]
            self._reason_targets = rejected
            self._show_reasons()
        else:
            self._hide_reasons()
        if after is not None and self.auto_advance_action.isChecked():
            self._advancing = True
            try:
                self._browser.advance_to(after)
            finally:
                self._advancing = False
        self._after_change()

    def undo(self) -> None:
        self._step_back_or_forth(undo=True)

    def redo(self) -> None:
        self._step_back_or_forth(undo=False)

    def _step_back_or_forth(self, *, undo: bool) -> None:
        if self.store is None:
            return
        store = self.store
        step = self._write(store.undo if undo else store.redo)
        if not isinstance(step, Step):
            return
        self._hide_reasons()
        self._library.update_reviews(step.before if undo else step.after)
        # the images come back into view (if the filter keeps them) and the first is current
        self._browser.show_decided(step.image_ids)
        self._after_change()

    def _write(self, write: Callable[[], Step | None]) -> Step | bool | None:
        """The step written; None: nothing to change; False: the database refused it."""
        try:
            return write()
        except Exception as exc:  # a full disk, a locked or read-only database...
            log.exception("Could not save a decision")
            message = f"Could not save your decision, nothing changed: {exc}"
            self._status_bar.showMessage(message, 15_000)
            return False

    def _store(self) -> ReviewStore:
        assert self.store is not None
        return self.store

    def _after_change(self) -> None:
        self._browser.show_review()
        self.show_counts()
        if self.store is not None:
            self.historyChanged.emit(self.store.can_undo, self.store.can_redo)

    # -- the reason chips --------------------------------------------------------------------
    def _show_reasons(self) -> None:
        targets = self._reason_targets
        if not targets:
            self._hide_reasons()
            return
        image = self._library.get(targets[0])
        name = (image.name or image.id) if image is not None else targets[0]
        what = f"“{name}”" if len(targets) == 1 else f"{len(targets)} images"
        window = self._browser.review_window()
        slot = window.reason_slot if window is not None else self._reason_home
        self.reason_bar.show_for(what, self._library.review(targets[0]), slot)

    def _review_window_made(self, context: Context, window: ReviewWindow) -> None:
        """The loupe or compare, built now: closing it hides the reasons; in compare, moving to
        another pane by hand skips them."""
        from qamera_desktop.ui.compare_dialog import CompareDialog  # loaded: it is built

        window.finished.connect(self._hide_reasons)
        if context is Context.COMPARE:
            assert isinstance(window, CompareDialog)
            window.moved.connect(self._chosen_by_hand)

    def _chosen_by_hand(self, _image_id: object = None) -> None:
        if not self._advancing and self._reason_targets:
            self._hide_reasons()

    def _hide_reasons(self, _result: int = 0) -> None:
        self._reason_targets = []
        self.reason_bar.hide()

    def reason_targets(self) -> Sequence[str]:
        return tuple(self._reason_targets)
