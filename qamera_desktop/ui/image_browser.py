"""The images: the thumbnail grid beside the details of its current image, and the preview dialog
that shows that image large and steps through the grid. The grid itself says what the listing is
doing while it has nothing to show (connecting, loading, nothing matches, failed)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import QSplitter, QWidget

from qamera_desktop.api.records import Image
from qamera_desktop.core.image_library import ImageLibrary, LibraryState, LoadState
from qamera_desktop.ui.details_panel import DetailsPanel
from qamera_desktop.ui.image_grid_model import ImageGridModel
from qamera_desktop.ui.image_grid_view import ImageGridView
from qamera_desktop.ui.preview_dialog import PreviewDialog
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader


class ImageBrowser(QSplitter):
    def __init__(
        self, library: ImageLibrary, loader: ThumbnailLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._library = library
        self.model = ImageGridModel(library, self)
        self.grid = ImageGridView(self.model, loader)
        self.details = DetailsPanel(loader)
        self.preview = PreviewDialog(loader, self)
        self.addWidget(self.grid)
        self.addWidget(self.details)
        self.setStretchFactor(0, 1)
        self.setSizes([920, 340])

        self.model.modelReset.connect(lambda: self.details.show_image(None))
        self.model.dataChanged.connect(self._on_data_changed)
        self.grid.selectionModel().currentChanged.connect(self._on_current)
        self.details.openRequested.connect(self.open_current)

    def current_image(self) -> Image | None:
        return self.model.image_at(self.grid.currentIndex().row())

    def open_current(self) -> None:
        """Show the grid's current image in the preview dialog (nothing when there is none)."""
        image = self.current_image()
        if image is not None:
            self.preview.show_image(image)
            self.preview.open()

    def step(self, step: int) -> None:
        """Make the image `step` places on the current one current, and show it in the preview."""
        row = self.grid.currentIndex().row() + step
        if 0 <= row < self.model.rowCount():
            self.grid.setCurrentIndex(self.model.index(row))
            self.open_current()

    def show_state(self, state: LibraryState, *, connected: bool, refresh_key: str) -> None:
        """Say on the grid what the listing is doing while there is nothing to show; once there
        is, make the first image current (so that the arrows work at once)."""
        empty = self.model.rowCount() == 0
        if state.load is LoadState.ERROR:
            text = f"Could not load images.\n{state.error}\n\nPress {refresh_key} to try again."
            self.grid.show_message(text if empty else None)
        elif state.load in (LoadState.LOADING, LoadState.IDLE) and empty:
            self.grid.show_message("Loading images…" if connected else "Connecting…")
        elif empty:
            self.grid.show_message(
                "No image matches this search."
                if self._library.search.strip()
                else "No images for this filter yet.\nChoose another product or status, "
                "or start a new shoot."
            )
        else:
            self.grid.show_message(None)
            if state.load is LoadState.READY and not self.grid.currentIndex().isValid():
                self.grid.setCurrentIndex(self.model.index(0))

    def _on_data_changed(self, first: QModelIndex, last: QModelIndex, _roles: object) -> None:
        """The current image changed (it finished, was renamed...): show it as it is now."""
        current = self.grid.currentIndex()
        if current.isValid() and first.row() <= current.row() <= last.row():
            image = self.model.image_at(current.row())
            if image is not None and image != self.details.image:
                self.details.show_image(image)

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.details.show_image(self.model.image_at(current.row()) if current.isValid() else None)
