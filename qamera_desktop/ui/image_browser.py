"""The images: the thumbnail grid beside the details of its current image, the preview dialog
(the loupe) that shows that image large and steps through the grid, and compare, which shows the
selected images side by side. The grid itself says what the listing is doing while it has nothing
to show (connecting, loading, nothing matches, failed). The loupe and compare are built the first
time they are needed (`reviewWindowMade` then tells the window's action table and the review
room); until then, asking whether one is shown never builds it.

It keeps the designer's place. The image the user made current ("chosen": a click, the keys, or
the one remembered from the last session) stays current through a new sort order, and comes back
as soon as it is in the grid again. While it is not (a search or a filter left it out), the image
Qt put in its place is current and highlighted, and the details follow it; with no image left the
details say that nothing is selected. The details always show the grid's current image."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtWidgets import QLabel, QSplitter, QWidget

from qamera_desktop.api.records import Image
from qamera_desktop.core.compare_panes import PANES
from qamera_desktop.core.image_library import ImageLibrary, LibraryState, LoadState
from qamera_desktop.ui.actions import ActionId, Context
from qamera_desktop.ui.details_panel import DetailsPanel
from qamera_desktop.ui.image_grid_model import ImageGridModel, ImageRole, review_words
from qamera_desktop.ui.image_grid_view import ImageGridView
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

if TYPE_CHECKING:  # the review windows are imported when first opened
    from qamera_desktop.ui.compare_dialog import CompareDialog
    from qamera_desktop.ui.preview_dialog import PreviewDialog, ReviewWindow

SelectionFlag = QItemSelectionModel.SelectionFlag
COMPARE_NEEDS = (
    f"Compare needs 2 to {PANES} selected images (more: they step through the panes). "
    "Select them with Ctrl+click or Shift+arrows."
)


class ImageBrowser(QSplitter):
    chosenChanged = QtSignal(object)  # str | None: the id of the image the user made current
    # (Context, ReviewWindow): the loupe or compare, built the first time it is needed
    reviewWindowMade = QtSignal(object, object)

    def __init__(
        self, library: ImageLibrary, loader: ThumbnailLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._library = library
        self._loader = loader
        self.model = ImageGridModel(library, self)
        self.grid = ImageGridView(self.model, loader)
        self.details = DetailsPanel(loader)
        self.details.review_of = library.review
        self._preview: PreviewDialog | None = None  # the review windows: see preview, compare
        self._compare: CompareDialog | None = None
        self.count_label = QLabel()  # "5 of 40 images": only while the search or review narrows
        self.addWidget(self.grid)
        self.addWidget(self.details)
        self.setStretchFactor(0, 1)
        self.setSizes([920, 340])

        self._chosen_id: str | None = None
        self._kept_selection: list[str] = []
        self._placing = False  # the browser itself is setting the current image
        self._current_before_patch: str | None = None
        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._after_reset)
        self.model.patchStarted.connect(self._before_patch)
        self.model.patchFinished.connect(self._after_patch)
        self.model.dataChanged.connect(self._on_data_changed)
        self.grid.selectionModel().currentChanged.connect(self._on_current)
        self.details.openRequested.connect(self.open_current)

    # -- the review windows, built when first needed (not with the main window) ---------------
    @property
    def preview(self) -> PreviewDialog:
        """The loupe."""
        if self._preview is None:
            from qamera_desktop.ui.preview_dialog import PreviewDialog

            library = self._library
            self._preview = PreviewDialog(self._loader, self)
            self._preview.review_text = lambda image_id: review_words(library.review(image_id))
            self.reviewWindowMade.emit(Context.PREVIEW, self._preview)
        return self._preview

    @property
    def compare(self) -> CompareDialog:
        """Compare: 2 to 4 images side by side."""
        if self._compare is None:
            from qamera_desktop.ui.compare_dialog import CompareDialog

            self._compare = CompareDialog(self._loader, self._library.review, self)
            self._compare.finished.connect(self._compare_closed)
            self.reviewWindowMade.emit(Context.COMPARE, self._compare)
        return self._compare

    def _shown[W: ReviewWindow](self, window: W | None) -> W | None:
        """`window` when it is built and shown."""
        return window if window is not None and window.isVisible() else None

    def action_hosts(self) -> dict[Context, QWidget]:
        """Where the table's actions of each context live now (ui/actions.py); the review
        windows' come with them (`reviewWindowMade`)."""
        return {Context.GRID: self.grid}

    def key_handlers(self, say: Callable[[str], None]) -> dict[ActionId, Callable[[], object]]:
        """The handlers of the table's rows about looking at images: the loupe and compare.
        `say` puts a sentence in the window's status bar."""

        def compare_selected() -> None:
            if not self.open_compare():
                say(COMPARE_NEEDS)

        # the loupe's and compare's own rows live in them: they exist when these are triggered
        return {
            ActionId.OPEN_PREVIEW: self.open_current,
            ActionId.PREVIOUS_IMAGE: lambda: self.step(-1),
            ActionId.NEXT_IMAGE: lambda: self.step(+1),
            ActionId.CLOSE_PREVIEW: lambda: self.preview.reject(),
            ActionId.LOUPE_ZOOM: lambda: self.preview.toggle_zoom(),
            ActionId.COMPARE: compare_selected,
            ActionId.COMPARE_PREVIOUS: lambda: self.compare.step(-1),
            ActionId.COMPARE_NEXT: lambda: self.compare.step(+1),
            ActionId.COMPARE_KEEP: lambda: self.compare.toggle_keep(),
            ActionId.COMPARE_ZOOM: lambda: self.compare.toggle_zoom(),
            ActionId.COMPARE_NEXT_PANE: lambda: self.compare.mark_next(+1),
            ActionId.COMPARE_PREVIOUS_PANE: lambda: self.compare.mark_next(-1),
            ActionId.COMPARE_CLOSE: lambda: self.compare.reject(),
        }

    # -- the designer's place ----------------------------------------------------------------
    @property
    def chosen_id(self) -> str | None:
        """The image the user made current (or that was remembered): current whenever shown."""
        return self._chosen_id

    def choose(self, image_id: str | None) -> None:
        """Make `image_id` the chosen image: current now if it is in the grid, else as soon as it
        is (a relaunch restores the remembered image this way)."""
        self._chosen_id = image_id
        row = self.model.row_of(image_id) if image_id else -1
        if row >= 0:
            self._place(row, select=True)

    def _place(self, row: int, *, select: bool) -> None:
        """Make `row` current (and selected alone when `select`), scrolled into view."""
        index = self.model.index(row)
        self._placing = True
        try:
            flags = SelectionFlag.ClearAndSelect if select else SelectionFlag.NoUpdate
            self.grid.selectionModel().setCurrentIndex(index, flags)
        finally:
            self._placing = False
        self.grid.reveal(row)

    def _remember_selection(self) -> None:
        selection = self.grid.selectionModel().selectedIndexes()
        self._kept_selection = [i.data(ImageRole.ID) for i in selection]

    def _after_reset(self) -> None:
        """A new sort order (or a new filter, with no image yet): the chosen image and the
        selection are found again by id; nothing else is current."""
        kept, self._kept_selection = self._kept_selection, []
        self.details.show_image(None)
        row = self.model.row_of(self._chosen_id) if self._chosen_id else -1
        if row < 0:
            return
        self._place(row, select=False)
        selection = self.grid.selectionModel()
        for image_id in kept:
            kept_row = self.model.row_of(image_id)
            if kept_row >= 0:
                selection.select(self.model.index(kept_row), SelectionFlag.Select)
        if not selection.hasSelection():
            selection.select(self.model.index(row), SelectionFlag.Select)

    def _before_patch(self) -> None:
        image = self.current_image()
        self._current_before_patch = image.id if image is not None else None

    def _after_patch(self) -> None:
        """Rows came or went (a search, a refresh): the chosen image is current again if it is
        back; if the current image left, the one Qt put in its place is shown highlighted."""
        current = self.grid.currentIndex()
        image = self.model.image_at(current.row()) if current.isValid() else None
        if image is not None and image.id == self._chosen_id:
            return  # the usual refresh: nothing moved that matters here
        chosen_row = self.model.row_of(self._chosen_id) if self._chosen_id else -1
        if chosen_row >= 0:
            self._place(chosen_row, select=True)
            return
        left = image is not None and image.id != self._current_before_patch
        if left and not self.grid.selectionModel().isSelected(current):
            self.grid.selectionModel().select(current, SelectionFlag.Select)
        if self.details.image != image:
            self.details.show_image(image)

    # -- what a decision applies to, and where it goes on -------------------------------------
    def targets(self) -> list[str]:
        """The images a decision applies to: the selected ones, in grid order, when several are
        selected; else the current image (none: an empty list). In the loupe: the image shown;
        in compare: the marked pane's (even when a decision took it out of the grid's filter)."""
        if compare := self._shown(self._compare):
            marked = compare.marked_image()
            return [marked.id] if marked is not None else []
        if preview := self._shown(self._preview):
            shown = preview.image
            return [shown.id] if shown is not None and self.model.row_of(shown.id) >= 0 else []
        selected = self.selected_images()
        if len(selected) > 1:
            return [image.id for image in selected]
        image = self.current_image()
        return [image.id] if image is not None else []

    def selected_images(self) -> list[Image]:
        """The selected images, in the grid's order."""
        rows = sorted(index.row() for index in self.grid.selectionModel().selectedIndexes())
        return [image for row in rows if (image := self.model.image_at(row)) is not None]

    def review_window(self) -> ReviewWindow | None:
        """The window of its own the review keys act in now (compare, the loupe), if one is
        shown."""
        return self._shown(self._compare) or self._shown(self._preview)

    def show_review(self) -> None:
        """After a decision: the details, the loupe's caption and compare's captions say it."""
        self.details.show_review()
        if preview := self._shown(self._preview):
            preview.show_caption()
        if compare := self._shown(self._compare):
            compare.show_captions()

    def next_after(self, image_id: str) -> str | None:
        """The image to go on to after deciding `image_id`: the next one, or at the end the one
        before it, or itself when it is alone. None in compare: its panes never move on."""
        if self._shown(self._compare):
            return None
        row = self.model.row_of(image_id)
        if row < 0:
            return None
        for candidate in (row + 1, row - 1, row):
            image = self.model.image_at(candidate)
            if image is not None:
                return image.id
        return None

    def advance_to(self, image_id: str) -> None:
        """Make `image_id` current and chosen, selected alone and in view (auto-advance)."""
        if self.model.row_of(image_id) < 0:
            return
        self.choose(image_id)
        self.chosenChanged.emit(image_id)

    def show_decided(self, image_ids: list[str]) -> None:
        """After an undo or redo: the first of `image_ids` still shown becomes current and
        chosen, and those shown are selected. In compare: the pane of the first is marked."""
        if compare := self._shown(self._compare):  # the panes stay; the image's is marked
            if image_ids:
                compare.mark_image(image_ids[0])
            return
        rows = [row for i in image_ids if (row := self.model.row_of(i)) >= 0]
        if not rows:
            return
        first = self.model.image_at(rows[0])
        assert first is not None
        self.choose(first.id)
        self.chosenChanged.emit(first.id)
        selection = self.grid.selectionModel()
        for row in rows[1:]:
            selection.select(self.model.index(row), SelectionFlag.Select)

    def current_image(self) -> Image | None:
        return self.model.image_at(self.grid.currentIndex().row())

    def current_id(self) -> str | None:
        image = self.current_image()
        return image.id if image is not None else None

    def open_compare(self) -> bool:
        """Compare the selected images (the first PANES of them, the others stepped through);
        False when fewer than two are selected."""
        selected = self.selected_images()
        if len(selected) < 2:
            return False
        self.compare.compare(selected, self.current_id())
        return True

    def _compare_closed(self, _result: int) -> None:
        """Back from compare: the marked pane's image is current (and chosen); the selection
        stays, for another compare."""
        marked = self.compare.marked_image()
        row = self.model.row_of(marked.id) if marked is not None else -1
        if marked is None or row < 0:
            return
        self._chosen_id = marked.id
        self._place(row, select=False)
        if not self.grid.selectionModel().isSelected(self.model.index(row)):
            self.grid.selectionModel().select(self.model.index(row), SelectionFlag.Select)
        self.chosenChanged.emit(marked.id)

    def open_current(self) -> None:
        """Show the grid's current image in the preview dialog (nothing when there is none)."""
        image = self.current_image()
        if image is not None:
            self.preview.show_image(image, self._neighbours(self.grid.currentIndex().row()))
            self.preview.open()

    def _neighbours(self, row: int) -> list[Image]:
        """What the loupe loads after the image at `row`: the next two, then the previous one."""
        rows = (row + 1, row + 2, row - 1)
        return [image for r in rows if r >= 0 and (image := self.model.image_at(r)) is not None]

    def step(self, step: int) -> None:
        """Make the image `step` places on the current one current (in the grid's filtered order),
        and show it in the loupe."""
        row = self.grid.currentIndex().row() + step
        if 0 <= row < self.model.rowCount():
            self.grid.setCurrentIndex(self.model.index(row))
            self.open_current()

    def show_count(self, count: int) -> None:
        """How many images there are in all, when the grid shows fewer (the count line under the
        filter bar says how many are shown)."""
        total = self._library.total
        self.count_label.setText(
            f"{count:,} images" if count == total else f"{count:,} of {total:,} images"
        )
        self.count_label.setVisible(count != total)

    def show_state(
        self,
        state: LibraryState,
        *,
        connected: bool,
        refresh_key: str,
        problem: str | None = None,
    ) -> None:
        """Say on the grid what the listing is doing while there is nothing to show; once there
        is, make the chosen image current, else the first (so that the arrows work at once).
        `problem`: why the last request failed, while the next one is being tried."""
        empty = self.model.rowCount() == 0
        if state.load is LoadState.ERROR:
            text = f"Could not load images.\n{state.error}\n\nPress {refresh_key} to try again."
            self.grid.show_message(text if empty else None)
        elif state.load in (LoadState.LOADING, LoadState.IDLE) and empty:
            if problem is not None:  # not a first load: a retry after a failure
                self.grid.show_message(
                    f"Could not load images.\n{problem}\n\nTrying again… ({refresh_key} to "
                    "try now.)"
                )
            else:
                self.grid.show_message("Loading images…" if connected else "Connecting…")
        elif empty:
            self.grid.show_message(
                "No image matches this search."
                if self._library.search.strip()
                else "No images for this filter yet.\nChoose another product or “All images”, "
                "or start a new shoot."
            )
        else:
            self.grid.show_message(None)
            if state.load is LoadState.READY and not self.grid.currentIndex().isValid():
                chosen = self.model.row_of(self._chosen_id) if self._chosen_id else -1
                self._place(max(0, chosen), select=True)  # current is highlighted, always

    def _on_data_changed(self, first: QModelIndex, last: QModelIndex, _roles: object) -> None:
        """The current image changed (it finished, was renamed...): show it as it is now."""
        current = self.grid.currentIndex()
        if current.isValid() and first.row() <= current.row() <= last.row():
            image = self.model.image_at(current.row())
            if image is not None and image != self.details.image:
                self.details.show_image(image)
            else:
                self.details.show_review()  # a decision on it
            if preview := self._shown(self._preview):
                preview.show_caption()

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        image = self.model.image_at(current.row()) if current.isValid() else None
        self.details.show_image(image)
        preview = self._shown(self._preview)
        if image is not None and preview:  # the loupe follows (auto-advance, undo)
            preview.show_image(image, self._neighbours(current.row()))
        # the user's own move (not the browser's, nor Qt's while rows are being removed)
        user_moved = image is not None and not self._placing and not self.model.patching
        if user_moved and image is not None and image.id != self._chosen_id:
            self._chosen_id = image.id
            self.chosenChanged.emit(image.id)
