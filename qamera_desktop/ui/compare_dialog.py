"""Compare: two to four of the selected images side by side (C in the grid), as a designer
compares variants of one shot in Photo Mechanic or Lightroom's Survey view.

- The panes are arranged in the rows and columns that show the images the largest (four portrait
  images side by side in a wide window, two by two in a squarer one), again when the window is
  resized.
- Each pane is the loupe's picture (`LoupeView`), loaded like the loupe's image: at the size the
  screen can show, on the loader's "preview" channel, the grid's thumbnail meanwhile. That size
  (and not the pane's) is what makes 100% mean one image pixel per screen pixel, and an image
  seen here is in memory for the loupe too.
- Z puts every pane at fit or at 100%; a drag in one pans them all to the same place (the same
  fraction of each image at the centre), so the same detail is compared everywhere.
- One pane is marked (a coloured frame, its name in bold): the review keys of the action table
  decide its image (`ImageBrowser.targets()`), and a decision never moves the panes (no
  auto-advance here). A click, Tab or Shift+Tab marks another.
- With more images selected than panes, the first ones are shown; Right / Left show the next /
  previous images of the selection in the panes not kept. "Keep this one" (K) keeps the marked
  pane (the best so far) in place while the others step.
- Esc (or C again) goes back to the grid, where the marked pane's image becomes current and the
  selection stays as it was, ready for another compare.

Which image each pane shows (`PaneOrder`) and how the panes are arranged (`arrange`) are
Qt-free, in core/compare_panes.py. The window is built the first time compare is opened
(`ImageBrowser.compare`), not with the main window.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape
from typing import Final

from PySide6.QtCore import QPointF, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QFocusEvent, QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QLabel,
    QSizePolicy,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.api.records import Image
from qamera_desktop.core.compare_panes import PANES, PaneOrder, arrange
from qamera_desktop.core.review import Flag, Review
from qamera_desktop.ui.actions import REVIEW_COPY_DATA
from qamera_desktop.ui.cell_sprites import PICK_COLOUR, REJECT_COLOUR
from qamera_desktop.ui.details_panel import decision_text
from qamera_desktop.ui.preview_dialog import LoupeView, ReviewWindow, loupe_size, show_from_loader
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

MARKED_COLOUR: Final = "#339af0"
KEPT_COLOUR: Final = "#f59f00"
PANE_BORDER: Final = 3
GRID_SPACING: Final = 6
CHROME: Final = 40  # the window's margins and the spacing between its rows, roughly


def pane_caption(image: Image, review: Review, *, kept: bool, marked: bool) -> str:
    """A pane's caption (rich text): its name (bold when marked), the decision in its colour
    ("Your pick · ★★★☆☆ · Red label"), and whether it is kept."""
    name = escape(image.name or image.id)
    colour = {Flag.PICK: PICK_COLOUR.name(), Flag.REJECT: REJECT_COLOUR.name()}.get(review.flag)
    decision = escape(decision_text(review))
    if colour is not None:
        decision = f"<span style='color:{colour}'><b>{decision}</b></span>"
    keep = f"<span style='color:{KEPT_COLOUR}'><b>KEPT</b></span> · " if kept else ""
    return f"{keep}{f'<b>{name}</b>' if marked else name}<br>{decision}"


class ComparePane(QFrame):
    """One image of the compare: the picture and its caption, in a frame that says whether the
    pane is marked (the review keys decide it) or kept. A click or Tab gives it the focus."""

    focused = QtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("comparePane")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.picture = LoupeView()
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.RichText)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        self.caption.setWordWrap(True)
        # a long name wraps, and never makes four panes wider than the window
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.caption.setAccessibleName("Pane caption")
        self._layout = layout = QVBoxLayout(self)
        layout.setContentsMargins(PANE_BORDER + 2, PANE_BORDER + 2, PANE_BORDER + 2, PANE_BORDER)
        layout.setSpacing(2)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.caption)
        self.image: Image | None = None
        self.showing_full = False
        self.marked = False
        self.kept = False
        self.set_state(marked=False, kept=False)

    def frame(self) -> tuple[int, int]:
        """The room the pane takes beside its picture and caption (width, height)."""
        margins = self._layout.contentsMargins()
        return (
            margins.left() + margins.right(),
            margins.top() + margins.bottom() + self._layout.spacing(),
        )

    def set_state(self, *, marked: bool, kept: bool) -> None:
        self.marked, self.kept = marked, kept
        colour = MARKED_COLOUR if marked else KEPT_COLOUR if kept else "transparent"
        style = f"#comparePane {{ border: {PANE_BORDER}px solid {colour}; border-radius: 6px; }}"
        if style != self.styleSheet():  # a new style sheet costs a polish: only on a change
            self.setStyleSheet(style)

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self.focused.emit()


class CompareDialog(ReviewWindow):
    """The compare window. Its keys are actions of the table (ui/actions.py, Context.COMPARE)
    that the main window puts on it, with a copy of every review key; its tool bar shows its own
    ones."""

    moved = QtSignal()  # the designer moved on: another pane marked, or the panes stepped

    def __init__(
        self,
        loader: ThumbnailLoader,
        review_of: Callable[[str], Review],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare")
        self._loader = loader
        self._review_of = review_of
        self._images: list[Image] = []
        self._order = PaneOrder(0)
        self._marked = 0
        self._columns = 0
        self._centre = QPointF(0.5, 0.5)  # where every pane is panned to at 100%
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.toolbar.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.panes = [ComparePane() for _ in range(PANES)]
        self._grid = QGridLayout()
        self._grid.setSpacing(GRID_SPACING)
        self._grid.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for n, pane in enumerate(self.panes):
            self._grid.addWidget(pane, n // 2, n % 2)  # arranged again on each compare
            pane.focused.connect(lambda p=pane: self.mark(self.panes.index(p)))
            pane.picture.panned.connect(lambda p=pane: self._pan_all_as(p))
        self.hint = QLabel()
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setWordWrap(True)
        self.content.addWidget(self.toolbar)
        self.content.addLayout(self._grid, 1)
        self.content.addWidget(self.hint)
        loader.ready.connect(self._on_ready)
        self.finished.connect(self._on_finished)

    # -- what it shows -----------------------------------------------------------------------
    def compare(self, images: Sequence[Image], marked_id: str | None = None) -> None:
        """Show the first of `images` (2 or more, in the grid's order), fitted, the pane of
        `marked_id` marked (else the first), and open the window."""
        self.place_once()
        self._images = list(images)
        self._order = PaneOrder(len(self._images))
        self._centre = QPointF(0.5, 0.5)
        for n, pane in enumerate(self.panes):
            pane.picture.set_actual_size(False)
            pane.image = None
            pane.setVisible(n < len(self._order.slots))
        self._show_panes()
        ids = [image.id for image in self.shown_images()]
        self._marked = -1
        self.mark(ids.index(marked_id) if marked_id in ids else 0)
        if not self.toolbar.actions():
            self.toolbar.addActions([a for a in self.actions() if a.data() != REVIEW_COPY_DATA])
        self.open()
        self._arrange(again=True)

    @property
    def columns(self) -> int:
        """How many columns the panes are arranged in."""
        return self._columns

    def _arrange(self, *, again: bool = False) -> None:
        """The panes in the rows and columns that show their images the largest (`again`: even
        if that is the arrangement they are in)."""
        shown = len(self._order.slots)
        pixmaps = [p.picture.pixmap() for p in self.panes[:shown]]
        sizes = [(pixmap.width(), pixmap.height()) for pixmap in pixmaps if not pixmap.isNull()]
        aspect = sizes[0][0] / sizes[0][1] if sizes else 1.0  # until one is in memory
        frame_w, frame_h = self.panes[0].frame()
        width = self.width() - CHROME
        height = self.height() - self.toolbar.sizeHint().height() - self.hint.sizeHint().height()
        captions = [pane.caption for pane in self.panes[:shown]]
        caption_h = max(c.heightForWidth(width // shown) for c in captions)
        for _ in range(3):  # again while the captions wrap otherwise at the width images get
            extra = (frame_w + GRID_SPACING, frame_h + caption_h + GRID_SPACING)
            best = arrange(shown, width, height - CHROME, aspect, extra)
            wrapped = max(c.heightForWidth(math.floor(best.image_width)) for c in captions)
            if wrapped == caption_h:
                break
            caption_h = wrapped
        # every caption as high: the images line up; and the panes no larger than their images,
        # so that they stay together in the middle of the window
        for pane in self.panes:
            pane.caption.setFixedHeight(caption_h)
            pane.setMaximumSize(
                math.ceil(best.image_width + extra[0]), math.ceil(best.image_height + extra[1])
            )
        if best.columns == self._columns and not again:
            return
        self._columns = columns = best.columns
        for n, pane in enumerate(self.panes):
            self._grid.removeWidget(pane)
            if n < shown:
                self._grid.addWidget(pane, n // columns, n % columns)

    def shown_images(self) -> list[Image]:
        """The images of the panes, in pane order."""
        return [self._images[i] for i in self._order.slots]

    def marked_pane(self) -> int:
        return self._marked

    def marked_image(self) -> Image | None:
        """The image the review keys decide: the marked pane's."""
        shown = self.shown_images()
        return shown[self._marked] if 0 <= self._marked < len(shown) else None

    def show_captions(self) -> None:
        """Each pane's name and decision as they are now (after a decision, at once)."""
        for n, pane in enumerate(self.panes[: len(self._order.slots)]):
            if pane.image is not None:
                kept = n in self._order.kept
                pane.set_state(marked=n == self._marked, kept=kept)
                pane.caption.setText(
                    pane_caption(
                        pane.image,
                        self._review_of(pane.image.id),
                        kept=kept,
                        marked=n == self._marked,
                    )
                )
        self._show_hint()
        if self.isVisible():
            self._arrange()  # a longer caption may take another line

    def _show_hint(self) -> None:
        count, shown = len(self._images), len(self._order.slots)
        where = (
            f"Comparing {count} images"
            if count == shown
            else f"Images {self._order.span_text()} of the {count} selected: "
            "Right / Left show the others"
        )
        self.setWindowTitle(f"Compare: {count} images")
        self.hint.setText(
            f"{where}. The review keys decide the marked pane; the panes never move on by "
            f"themselves (no auto-advance here).\n{self.key_hint()}"
        )

    def _show_panes(self) -> None:
        """Each pane's image (from memory, the best there is), and the loader asked for the
        panes' images, then the ones the next step would show."""
        for pane, image in zip(self.panes, self.shown_images(), strict=False):
            if pane.image is None or pane.image.id != image.id:
                pane.image = image
                pane.picture.full_key = None
                self._paint(pane)
        upcoming = self._order.after_step(+1) or []
        wanted = [*self.shown_images(), *(self._images[i] for i in upcoming)]
        urls = [image.thumbnail for image in wanted if image.is_done and image.thumbnail]
        self._loader.set_wanted("preview", urls, self.loupe_size())
        self.show_captions()

    def loupe_size(self) -> int:
        return loupe_size(self)

    def _paint(self, pane: ComparePane) -> None:
        if pane.image is not None:
            pane.showing_full = show_from_loader(
                pane.picture, self._loader, pane.image, self.loupe_size()
            )
            pane.picture.centre_on(self._centre)

    # -- the keys' handlers ------------------------------------------------------------------
    def step(self, direction: int) -> None:
        """The panes not kept show the next (+1) or previous (-1) images of the selection."""
        if self._order.step(direction):
            self._show_panes()
            self.moved.emit()

    def toggle_keep(self) -> None:
        """Keep the marked pane in place while the others step (again: let it go)."""
        if 0 <= self._marked < len(self._order.slots):
            self._order.toggle_keep(self._marked)
            self.show_captions()

    def toggle_zoom(self) -> None:
        """Every pane at fit or at 100%, centred."""
        on = not self.panes[0].picture.actual_size
        self._centre = QPointF(0.5, 0.5)
        for pane in self.panes:
            pane.picture.set_actual_size(on)

    def mark_next(self, step: int) -> None:
        """Mark the pane `step` places on (Tab: +1, Shift+Tab: -1), round the end."""
        shown = len(self._order.slots)
        if shown:
            self.mark((self._marked + step) % shown)

    def mark(self, pane: int) -> None:
        """Mark `pane`: the review keys decide its image; it has the keyboard focus."""
        if not 0 <= pane < len(self._order.slots):
            return
        changed = pane != self._marked
        self._marked = pane
        self.panes[pane].setFocus(Qt.FocusReason.OtherFocusReason)
        if changed:
            self.show_captions()
            self.moved.emit()

    def mark_image(self, image_id: str) -> None:
        """Mark the pane showing `image_id`, if one does (after an undo)."""
        ids = [image.id for image in self.shown_images()]
        if image_id in ids:
            self.mark(ids.index(image_id))

    # -- Qt's side ---------------------------------------------------------------------------
    def _pan_all_as(self, source: ComparePane) -> None:
        """A drag in `source` pans every other pane to the same place."""
        self._centre = source.picture.view_centre()
        for pane in self.panes[: len(self._order.slots)]:
            if pane is not source:
                pane.picture.centre_on(self._centre)

    def _on_ready(self, urls: list[str]) -> None:
        if not self.isVisible():
            return
        arrived = [p for p in self.panes if p.image is not None and p.image.thumbnail in urls]
        for pane in arrived:
            self._paint(pane)
        if arrived:
            self._arrange()  # the images' shape may be known only now

    def _on_finished(self, _result: int) -> None:
        self._loader.set_wanted("preview", [], self.loupe_size())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.isVisible() and self._images:
            self._arrange()
            self._show_panes()
