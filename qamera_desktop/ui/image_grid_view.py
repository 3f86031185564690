"""The thumbnail grid: one QListView in IconMode (uniform sizes, batched layout), which tells the
thumbnail loader which rows are visible plus about one screen ahead, and speaks the keyboard.

Images are dragged out as files: pressing on an image and moving drags the selected images (the
pressed one among them) to a file manager or another app, as the complete files of the images
(`drag_files`, given by the export room, downloads them first when needed). Pressing beside the
images and moving still selects with a rubber band."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, Qt, QTimer, QUrl
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QDrag, QGuiApplication, QKeyEvent, QMouseEvent, QResizeEvent, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QListView,
    QStyle,
    QStyleOption,
    QWidget,
)

from qamera_desktop.api.records import Image
from qamera_desktop.core.settings import THUMB_SIZE_MAX, THUMB_SIZE_MIN
from qamera_desktop.ui.grid_geometry import (
    WRAP_SLACK,
    cell_size,
    columns_in,
    fit_cell,
    request_size,
)
from qamera_desktop.ui.image_delegate import ImageDelegate
from qamera_desktop.ui.image_grid_model import ImageGridModel
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader

ZOOM_STEP = 32
DRAG_PIXMAP_SIDE = 96

DragFiles = Callable[[Sequence[Image]], list[Path]]
"""The complete files of these images, ready to drop (an empty list: nothing to drag)."""


class ImageGridView(QListView):
    zoomRequested = QtSignal(int)  # new thumbnail size

    def __init__(
        self, model: ImageGridModel, loader: ThumbnailLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._grid_model = model
        self._loader = loader
        self._delegate = ImageDelegate(loader, self)
        self.setModel(model)
        self.setItemDelegate(self._delegate)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)  # layout steps of a few ms: 1000 made steps of up to 36 ms
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setWrapping(True)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(False)
        self.setAccessibleName("Images")

        self._wanted_timer = QTimer(self)
        self._wanted_timer.setSingleShot(True)
        self._wanted_timer.setInterval(15)
        self._wanted_timer.timeout.connect(self.update_wanted)
        self.setThumbSize(192)
        self.verticalScrollBar().valueChanged.connect(self._schedule_wanted)
        model.modelReset.connect(self._schedule_wanted)
        model.rowsInserted.connect(self._schedule_wanted)
        model.rowsRemoved.connect(self._schedule_wanted)
        model.layoutChanged.connect(self._schedule_wanted)
        model.dataChanged.connect(self._schedule_wanted)  # e.g. an image just finished
        # keep the first visible image in place across inserts and removals (see _anchor)
        self._anchor: tuple[str, int] | None = None
        self._zoom_delta = 0
        model.patchStarted.connect(self._remember_anchor)
        model.patchFinished.connect(self._restore_anchor)
        model.modelReset.connect(self._forget_anchor)
        self.verticalScrollBar().rangeChanged.connect(self._restore_anchor)
        self.verticalScrollBar().actionTriggered.connect(self._forget_anchor)  # the user scrolls
        self._anchor_timer = QTimer(self)  # the batched layout has settled when this fires
        self._anchor_timer.setSingleShot(True)
        self._anchor_timer.setInterval(400)
        self._anchor_timer.timeout.connect(self._forget_anchor)
        loader.ready.connect(self._on_thumbnails_ready)

        self._message = QLabel(self.viewport())
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setObjectName("gridMessage")
        self._message.hide()

        self.drag_files: DragFiles | None = None  # set by the export room
        self._press: QPoint | None = None  # where a press on an image may start a drag

    # -- size --------------------------------------------------------------------------------
    @property
    def thumb_size(self) -> int:
        return self._delegate.thumb_size

    def setThumbSize(self, size: int) -> None:
        size = max(THUMB_SIZE_MIN, min(THUMB_SIZE_MAX, size))
        self._delegate.thumb_size = size
        self._fit_grid()
        self._schedule_wanted()

    def _fit_grid(self) -> None:
        """Share the spare width among the columns so that the rows fill the grid.

        Fitted to `layout_width()`, the width QListView itself lays the rows out in, which does
        not change when the scroll bar comes or goes. Fitted to the viewport's width instead,
        the cells were too wide for QListView's rows while the scroll bar was hidden: a column
        fewer, a row more, the bar shows, the viewport narrows, the cells are fitted narrower,
        the row more is gone, the bar hides... Qt cuts that loop short, and the grid was left
        with a row beyond a hidden scroll bar: unreachable."""
        thumb = self._delegate.thumb_size
        # never narrower than one cell: a cell wider than the viewport would be cut off
        bar_and_frame = self.width() - self.layout_width()
        self.setMinimumWidth(cell_size(thumb).width() + WRAP_SLACK + bar_and_frame)
        cell = fit_cell(thumb, self.layout_width())
        self._delegate.cell_width = cell.width()  # items fill their cells (see ImageDelegate)
        if cell != self.gridSize():
            self.setGridSize(cell)

    def layout_width(self) -> int:
        """The width of QListView's rows: the viewport's as if the vertical scroll bar were
        shown, whether it is or not (for a left-to-right flow QListView keeps the bar's room
        free so that the bar cannot blink: QListViewPrivate::prepareItemsLayout)."""
        width = self.maximumViewportSize().width()
        if self.verticalScrollBarPolicy() != Qt.ScrollBarPolicy.ScrollBarAsNeeded:
            return width  # AlwaysOn: maximumViewportSize() has left it out already
        style, bar = self.style(), self.verticalScrollBar()
        if style.pixelMetric(QStyle.PixelMetric.PM_ScrollView_ScrollBarOverlap, None, bar):
            return width
        width -= style.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, bar)
        if style.styleHint(QStyle.StyleHint.SH_ScrollView_FrameOnlyAroundContents, None, self):
            option = QStyleOption()
            option.initFrom(self)
            width -= 2 * style.pixelMetric(QStyle.PixelMetric.PM_DefaultFrameWidth, option, self)
        return width

    def columns(self) -> int:
        """How many images each row of the grid holds."""
        return columns_in(self.layout_width(), self.gridSize().width())

    def request_size(self) -> int:
        return request_size(self.thumb_size, self.devicePixelRatioF())

    # -- which rows are on screen ------------------------------------------------------------
    def visible_rows(self, ahead_screens: float = 0.0) -> range:
        """Rows inside the viewport (plus `ahead_screens` screens below and half that above)."""
        count = self._grid_model.rowCount()
        grid = self.gridSize()
        if count == 0 or grid.width() <= 0 or grid.height() <= 0:
            return range(0)
        columns = self.columns()
        top = self.verticalScrollBar().value()
        height = self.viewport().height()
        first_line = max(0, int((top - height * ahead_screens / 2) // grid.height()))
        last_line = int((top + height * (1 + ahead_screens)) // grid.height())
        return range(first_line * columns, min(count, (last_line + 1) * columns))

    def update_wanted(self) -> None:
        visible = self.visible_rows()
        around = self.visible_rows(ahead_screens=1.0)
        order = list(visible) + [r for r in around if r not in visible]
        urls = []
        for row in order:
            image = self._grid_model.image_at(row)
            if image is not None and image.is_done:  # unfinished images have no picture yet
                urls.append(image.thumbnail)
        self._loader.set_wanted("grid", urls, self.request_size())

    def first_screen_ready(self) -> bool:
        """Every visible cell shows its thumbnail or its broken mark (nothing still loading)."""
        size = self.request_size()
        for row in self.visible_rows():
            image = self._grid_model.image_at(row)
            if image is None or not image.is_done:
                continue
            if self._loader.state(image.thumbnail, size) not in (
                "ready",
                "failed",
            ):
                return False
        return True

    # -- scroll position across updates -----------------------------------------------------
    # After rows are inserted or removed QListView lays everything out again in batches, and the
    # scroll bar, whose range grows batch by batch, clamps the position: the view would jump. So
    # the first visible image and its offset are remembered before the change, and the scroll
    # value is set back once the layout has grown far enough to hold that image again.
    def _remember_anchor(self) -> None:
        if self._anchor is not None:
            return  # still restoring the previous change: keep the original anchor
        value = self.verticalScrollBar().value()
        rows = self.visible_rows()
        image = self._grid_model.image_at(rows.start) if rows else None
        if value == 0 or image is None:
            return  # at the top, stay at the top (new images show up there)
        line_y = (rows.start // self.columns()) * self.gridSize().height()
        self._anchor = (image.id, value - line_y)

    def _restore_anchor(self) -> None:
        if self._anchor is None or self._grid_model.patching:
            return
        image_id, offset = self._anchor
        row = self._grid_model.row_of(image_id)
        if row < 0:
            self._anchor = None  # that image is gone: leave the position as it is
            return
        line_y = (row // self.columns()) * self.gridSize().height()
        target = line_y + offset
        bar = self.verticalScrollBar()
        if target <= bar.maximum():
            bar.setValue(target)
        elif line_y + self.gridSize().height() <= bar.maximum() + self.viewport().height():
            # laid out already, near the end: as far as the grid scrolls (centring the last
            # line would go past it, and waiting for a range that never grows left the view at
            # the top after a row near the end was removed)
            bar.setValue(bar.maximum())
        self._anchor_timer.start()  # keep holding it while the layout still moves

    def reveal(self, row: int) -> None:
        """Scroll `row` into view (where it is, if it is in view already) and keep it there
        while the batched layout catches up, as the anchor keeps the first visible image."""
        image = self._grid_model.image_at(row)
        if image is None:
            return
        cell_height = self.gridSize().height()
        line_y = (row // self.columns()) * cell_height
        top, height = self.verticalScrollBar().value(), self.viewport().height()
        if top <= line_y and line_y + cell_height <= top + height:
            offset = top - line_y  # in view: it stays where it is on screen
        else:
            offset = -max(0, (height - cell_height) // 2)  # centred
        self._anchor = (image.id, offset)
        self._restore_anchor()

    def _forget_anchor(self) -> None:
        self._anchor = None

    def _schedule_wanted(self) -> None:
        if not self._wanted_timer.isActive():
            self._wanted_timer.start()

    def _on_thumbnails_ready(self, urls: list[str]) -> None:
        wanted = set(urls)
        rows = [
            row
            for row in self.visible_rows(ahead_screens=1.0)
            if (image := self._grid_model.image_at(row)) is not None and image.thumbnail in wanted
        ]
        self._grid_model.announce_rows(rows)

    # -- empty / loading / error message -----------------------------------------------------
    def show_message(self, text: str | None) -> None:
        if text:
            self._message.setText(text)
            self._message.show()
            self._place_message()
        else:
            self._message.hide()

    def message_text(self) -> str | None:
        return self._message.text() if self._message.isVisible() else None

    def _place_message(self) -> None:
        self._message.setGeometry(self.viewport().rect().adjusted(40, 40, -40, -40))

    # -- events ------------------------------------------------------------------------------
    def resizeEvent(self, e: QResizeEvent) -> None:
        super().resizeEvent(e)
        self._fit_grid()
        self._place_message()
        self._schedule_wanted()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        # the keys of actions (Space / Enter open the preview...) never come here: they are
        # shortcuts of the table in ui/actions.py; what does is Qt's own navigation
        self._forget_anchor()
        super().keyPressEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        on_image = self.indexAt(e.position().toPoint()).isValid()
        left = e.button() == Qt.MouseButton.LeftButton
        self._press = e.position().toPoint() if left and on_image else None
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        press = self._press
        if press is not None and e.buttons() & Qt.MouseButton.LeftButton:
            moved = (e.position().toPoint() - press).manhattanLength()
            if moved >= QApplication.startDragDistance():
                self._press = None
                self.drag_out()
                return
        super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(e)

    def wheelEvent(self, e: QWheelEvent) -> None:
        self._forget_anchor()
        if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
            # trackpads and fine wheels send small deltas: add them up to whole notches
            self._zoom_delta += e.angleDelta().y()
            steps = int(self._zoom_delta / 120)
            if steps:
                self._zoom_delta -= steps * 120
                self.zoomRequested.emit(self.thumb_size + steps * ZOOM_STEP)
            e.accept()
            return
        super().wheelEvent(e)

    # -- dragging images out as files --------------------------------------------------------
    def dragged_images(self) -> list[Image]:
        """The selected images in grid order (the current one when none is selected)."""
        rows = sorted(index.row() for index in self.selectionModel().selectedIndexes())
        if not rows and self.currentIndex().isValid():
            rows = [self.currentIndex().row()]
        return [image for row in rows if (image := self._grid_model.image_at(row)) is not None]

    def drag_mime_data(self) -> QMimeData | None:
        """What a drag of the selected images carries: the local URLs of their complete files
        (downloaded first if needed), or None when there is nothing to drop."""
        if self.drag_files is None:
            return None
        paths = self.drag_files(self.dragged_images())
        if not paths:
            return None
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(path)) for path in paths])
        return mime

    def drag_out(self) -> None:
        """Drag the selected images out as files (a copy: the cache keeps its own)."""
        mime = self.drag_mime_data()
        if mime is None:
            return
        if not QGuiApplication.mouseButtons() & Qt.MouseButton.LeftButton:
            return  # let go while the files downloaded: they are ready for the next drag
        drag = QDrag(self)
        drag.setMimeData(mime)
        images = self.dragged_images()
        pixmap = (
            self._loader.best_pixmap(images[0].thumbnail, self.request_size()) if images else None
        )
        if pixmap is not None:
            shown = pixmap.scaled(
                DRAG_PIXMAP_SIDE,
                DRAG_PIXMAP_SIDE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            drag.setPixmap(shown)
            drag.setHotSpot(QPoint(shown.width() // 2, shown.height() // 2))  # held by the middle
        drag.exec(Qt.DropAction.CopyAction, Qt.DropAction.CopyAction)
