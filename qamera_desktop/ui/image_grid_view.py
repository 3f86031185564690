"""The thumbnail grid: every image in a cell of one size, in rows that fill the width; it tells
the thumbnail loader which rows are visible plus about one screen ahead, and speaks the keyboard.

Where a row's cell is, is arithmetic (its line and column), and the view computes it rather than
letting QListView lay the images out. QListView lays every image out again after any row comes or
goes, in batches from the first one (a Python model makes that ~2 µs an image: 185 ms for 100,000
at once), and until the batches reach the rows on screen their scroll bar is clamped to what is
laid out (the top of the grid is painted) or, held, shows nothing there. In a filtered view every
decision removes a row, so the grid showed the wrong images after each one. Here QListView's own
layout is never built (`doItemsLayout` only sets the scroll bar), and what rests on it (where a
cell is, what is under a point, scrolling to a row, moving with the keys, selecting, painting)
is answered from the row number: a removal or an insertion is laid out at once, whatever the
count. It stays a QListView for what Qt attaches to the class: the list's accessibility and
IconMode's item options.

Images are dragged out as files: pressing on an image and moving drags the selected images (the
pressed one among them) to a file manager or another app, as the complete files of the images
(`drag_files`, given by the export room, downloads them first when needed). Pressing beside the
images and moving still selects with a rubber band."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import (
    QItemSelection,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import (
    QDrag,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QRegion,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QLabel,
    QListView,
    QRubberBand,
    QStyle,
    QStyleOption,
    QStyleOptionRubberBand,
    QStyleOptionViewItem,
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
from qamera_desktop.ui.thumbnail_loader import ThumbnailLoader, ThumbState

ZOOM_STEP = 32
DRAG_PIXMAP_SIDE = 96

DragFiles = Callable[[Sequence[Image]], list[Path]]
"""The complete files of these images, ready to drop (an empty list: nothing to drag)."""

type AnyIndex = QModelIndex | QPersistentModelIndex
Action = QAbstractItemView.CursorAction
Hint = QAbstractItemView.ScrollHint
SelectionFlags = QItemSelectionModel.SelectionFlag
_SELECTED = QStyle.StateFlag.State_Selected
_HAS_FOCUS = QStyle.StateFlag.State_HasFocus


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
        self.setViewMode(QListView.ViewMode.IconMode)  # its item options (no layout: see above)
        self.setMovement(QListView.Movement.Static)  # no internal drag and drop
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setMouseTracking(False)
        self.setAccessibleName("Images")

        self._laid_columns = 1  # the columns of the layout the scroll bar was last set for
        self._wanted_timer = QTimer(self)
        self._wanted_timer.setSingleShot(True)
        self._wanted_timer.setInterval(15)
        self._wanted_timer.timeout.connect(self.update_wanted)
        self.setThumbSize(192)
        self.verticalScrollBar().valueChanged.connect(self._schedule_wanted)
        for rows_moved in (model.modelReset, model.rowsInserted, model.rowsRemoved):
            rows_moved.connect(self._rows_moved)
        model.layoutChanged.connect(self._schedule_wanted)
        model.dataChanged.connect(self._schedule_wanted)  # e.g. an image just finished
        # keep the first visible image in place across inserts and removals (see _anchor)
        self._anchor: tuple[str, int] | None = None
        self._zoom_delta = 0
        model.patchStarted.connect(self._remember_anchor)
        model.patchFinished.connect(self._restore_anchor)
        loader.ready.connect(self._on_thumbnails_ready)

        self._message = QLabel(self.viewport())
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._message.setObjectName("gridMessage")
        self._message.hide()

        self.drag_files: DragFiles | None = None  # set by the export room
        self._press: QPoint | None = None  # where a press on an image may start a drag
        self._band_from: QPoint | None = None  # contents point a rubber band is drawn from
        self._band = QRect()  # the rubber band, in contents coordinates

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
        """Share the spare width among the columns so that the rows fill the grid; the first
        visible image stays at the top through a change of the cells (a zoom, a narrower window).

        Fitted to `layout_width()`, the width the rows are laid out in, which does not change
        when the scroll bar comes or goes. Fitted to the viewport's width instead, the cells were
        too wide for the rows while the scroll bar was hidden: a column fewer, a row more, the bar
        shows, the viewport narrows, the cells are fitted narrower, the row more is gone, the bar
        hides... and the grid was left with a row beyond a hidden scroll bar: unreachable."""
        thumb = self._delegate.thumb_size
        # never narrower than one cell: a cell wider than the viewport would be cut off
        bar_and_frame = self.width() - self.layout_width()
        self.setMinimumWidth(cell_size(thumb).width() + WRAP_SLACK + bar_and_frame)
        cell = fit_cell(thumb, self.layout_width())
        self._delegate.cell_width = cell.width()  # items fill their cells (see ImageDelegate)
        old, top = self.gridSize(), self.verticalScrollBar().value()
        if cell == old:
            return
        first = (top // old.height()) * self._laid_columns if top > 0 and old.height() > 0 else 0
        self.setGridSize(cell)
        self.updateGeometries()
        self.verticalScrollBar().setValue(self._line_y(first))
        self.viewport().update()

    def layout_width(self) -> int:
        """The width of the grid's rows: the viewport's as if the vertical scroll bar were shown,
        whether it is or not (as QListView keeps the bar's room free for a left-to-right flow,
        so that the bar cannot blink: QListViewPrivate::prepareItemsLayout)."""
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

    # -- the layout: a row's cell is its line and column -------------------------------------
    def _line_y(self, row: int) -> int:
        """The top of the line of `row`, in contents coordinates."""
        return (row // self.columns()) * self.gridSize().height()

    def _cell(self, row: int, columns: int) -> QRect:
        """The cell of `row` in lines of `columns` (`columns()`), in contents coordinates."""
        cell = self.gridSize()
        x = (row % columns) * cell.width()
        return QRect(x, (row // columns) * cell.height(), cell.width(), cell.height())

    def _row_at(self, point: QPoint) -> int:
        """The row whose cell holds `point` (contents coordinates); -1: none."""
        cell, columns = self.gridSize(), self.columns()
        if point.x() < 0 or point.y() < 0 or cell.isEmpty():
            return -1
        column = point.x() // cell.width()
        row = (point.y() // cell.height()) * columns + column
        return row if column < columns and row < self._grid_model.rowCount() else -1

    def _rows_in(self, area: QRect) -> QItemSelection:
        """The rows whose cells meet `area` (contents coordinates), one range per line (one in
        all when `area` spans whole lines)."""
        cell, columns = self.gridSize(), self.columns()
        count = self._grid_model.rowCount()
        selection = QItemSelection()
        if count == 0 or cell.isEmpty():
            return selection
        first_column = max(0, area.left() // cell.width())
        last_column = min(columns - 1, area.right() // cell.width())
        first_line = max(0, area.top() // cell.height())
        last_line = min((count - 1) // columns, area.bottom() // cell.height())
        if first_column > last_column or first_line > last_line:
            return selection
        index = self._grid_model.index
        if first_column == 0 and last_column == columns - 1:
            last = min(count - 1, last_line * columns + last_column)
            selection.select(index(first_line * columns), index(last))
            return selection
        for line in range(first_line, last_line + 1):
            first = line * columns + first_column
            last = min(count - 1, line * columns + last_column)
            if first <= last:
                selection.select(index(first), index(last))
        return selection

    def _rows_moved(self) -> None:
        """Rows came or went: the scroll range follows at once (before the anchor is restored)."""
        self.updateGeometries()
        self.viewport().update()
        self._schedule_wanted()

    # -- QListView's virtuals, answered from the row number ----------------------------------
    def doItemsLayout(self) -> None:
        """QListView's own layout is never built (see the module docstring)."""
        QAbstractItemView.doItemsLayout(self)  # only updateGeometries()

    def updateGeometries(self) -> None:
        count = self._grid_model.rowCount()
        self._laid_columns = self.columns()
        lines = -(-count // self._laid_columns)
        height = self.viewport().height()
        bar = self.verticalScrollBar()
        bar.setSingleStep(self.gridSize().height())
        bar.setPageStep(height)
        bar.setRange(0, max(0, lines * self.gridSize().height() - height))
        self.horizontalScrollBar().setRange(0, 0)
        QAbstractItemView.updateGeometries(self)

    def horizontalOffset(self) -> int:
        return 0

    def verticalOffset(self) -> int:
        return self.verticalScrollBar().value()

    def scrollContentsBy(self, dx: int, dy: int) -> None:
        self.viewport().scroll(dx, dy)

    def visualRect(self, index: AnyIndex) -> QRect:
        if not index.isValid() or not 0 <= index.row() < self._grid_model.rowCount():
            return QRect()
        return self._cell(index.row(), self.columns()).translated(0, -self.verticalOffset())

    def indexAt(self, point: QPoint) -> QModelIndex:
        row = self._row_at(point + QPoint(0, self.verticalOffset()))
        return self._grid_model.index(row) if row >= 0 else QModelIndex()

    def scrollTo(self, index: AnyIndex, hint: Hint = Hint.EnsureVisible) -> None:
        """As QListView scrolls: only when the cell is not whole in view, for EnsureVisible.
        Never while the model patches its rows: the anchor puts the view back afterwards."""
        if not index.isValid() or self._grid_model.patching:
            return
        rect, area = self.visualRect(index), self.viewport().rect()
        if hint == Hint.PositionAtTop or (hint == Hint.EnsureVisible and rect.top() < 0):
            delta = rect.top()
        elif hint == Hint.PositionAtBottom or (
            hint == Hint.EnsureVisible and rect.bottom() > area.bottom()
        ):
            delta = min(rect.top(), rect.bottom() - area.height() + 1)
        elif hint == Hint.PositionAtCenter:
            delta = rect.top() - (area.height() - rect.height()) // 2
        else:
            return
        bar = self.verticalScrollBar()
        bar.setValue(bar.value() + delta)

    def moveCursor(self, cursorAction: Action, modifiers: Qt.KeyboardModifier) -> QModelIndex:
        """As QListView moves: Left and Right to the image before and after (across lines), Up
        and Down a line (staying put where there is none), the page keys a screen of lines less
        one, Home and End to the first and last image."""
        count = self._grid_model.rowCount()
        if count == 0:
            return QModelIndex()
        current = self.currentIndex()
        if not current.isValid():
            return self._grid_model.index(0)
        row, columns = current.row(), self.columns()
        page = columns * max(1, self.viewport().height() // self.gridSize().height() - 1)
        last_line = (count - 1) // columns * columns  # the first row of the last line
        match cursorAction:
            case Action.MoveLeft:
                target = row - 1
            case Action.MoveRight:
                target = row + 1
            case Action.MoveUp | Action.MovePrevious:
                target = row - columns
            case Action.MoveDown | Action.MoveNext:
                target = row + columns
            case Action.MovePageUp:
                target = max(row % columns, row - page)
            case Action.MovePageDown:
                target = min(row + page, last_line + row % columns)
                if target >= count:  # the last line is short: the one above it
                    target -= columns
            case Action.MoveHome:
                target = 0
            case Action.MoveEnd:
                target = count - 1
        return self._grid_model.index(target if 0 <= target < count else row)

    def setSelection(self, rect: QRect, command: SelectionFlags) -> None:
        """A rubber band selects the cells it meets; a click, Shift+click or Shift+arrows the
        images from the one at `rect`'s first corner to the one at its second, in grid order."""
        offset = QPoint(0, self.verticalOffset())
        single = rect.width() == 1 and rect.height() == 1
        if self.state() == QAbstractItemView.State.DragSelectingState and not single:
            selection = self._rows_in(rect.normalized().translated(offset))
        else:
            selection = QItemSelection()
            first = self._row_at(rect.topLeft() + offset)
            last = self._row_at(rect.bottomRight() + offset)
            if first >= 0 and last >= 0:
                index = self._grid_model.index
                selection.select(index(min(first, last)), index(max(first, last)))
        self.selectionModel().select(selection, command)

    def visualRegionForSelection(self, selection: QItemSelection) -> QRegion:
        """The selected cells on screen (a selection of every image repaints one screen)."""
        visible = self.visible_rows()
        region = QRegion()
        for first, last in _spans(selection):
            for row in range(max(first, visible.start), min(last + 1, visible.stop)):
                region += self.visualRect(self._grid_model.index(row))
        return region

    def paintEvent(self, e: QPaintEvent) -> None:
        option = QStyleOptionViewItem()
        self.initViewItemOption(option)
        plain = option.state
        current = self.currentIndex()
        focus = self.hasFocus() or self.viewport().hasFocus()
        selection = self.selectionModel()
        offset = self.verticalOffset()
        columns = self.columns()
        painter = QPainter(self.viewport())
        for first, last in _spans(self._rows_in(e.rect().translated(0, offset))):
            for row in range(first, last + 1):
                index = self._grid_model.index(row)
                option.rect = self._cell(row, columns).translated(0, -offset)
                state = plain | _SELECTED if selection.isSelected(index) else plain
                option.state = state | _HAS_FOCUS if focus and index == current else state
                self._delegate.paint(painter, option, index)
        if self._band.isValid():
            band = QStyleOptionRubberBand()
            band.initFrom(self)
            band.shape = QRubberBand.Shape.Rectangle
            band.opaque = False
            band.rect = self._band.translated(0, -offset).intersected(
                self.viewport().rect().adjusted(-16, -16, 16, 16)
            )
            self.style().drawControl(QStyle.ControlElement.CE_RubberBand, band, painter, self)
        painter.end()

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
        return self.first_screen_states() <= {"ready", "failed"}

    def first_screen_states(self) -> set[ThumbState]:
        """The thumbnails' states of the visible cells that have one (done images)."""
        size = self.request_size()
        images = (self._grid_model.image_at(row) for row in self.visible_rows())
        return {
            self._loader.state(image.thumbnail, size)
            for image in images
            if image is not None and image.is_done
        }

    # -- scroll position across updates -----------------------------------------------------
    # Rows inserted or removed above the screen would move what is on it: the first visible
    # image and its offset are remembered before a patch of the model and put back after it
    # (the layout is arithmetic: the grid holds every row again at once).
    def _remember_anchor(self) -> None:
        value = self.verticalScrollBar().value()
        rows = self.visible_rows()
        image = self._grid_model.image_at(rows.start) if rows else None
        if value == 0 or image is None:
            self._anchor = None  # at the top, stay at the top (new images show up there)
            return
        self._anchor = (image.id, value - self._line_y(rows.start))

    def _restore_anchor(self) -> None:
        anchor, self._anchor = self._anchor, None
        if anchor is None:
            return
        image_id, offset = anchor
        row = self._grid_model.row_of(image_id)
        if row >= 0:  # else that image is gone: the position stays as it is
            self.verticalScrollBar().setValue(self._line_y(row) + offset)

    def reveal(self, row: int) -> None:
        """Scroll `row` into view: centred, unless it is whole in view already (it stays)."""
        index = self._grid_model.index(row)
        if index.isValid() and not self.viewport().rect().contains(self.visualRect(index)):
            self.scrollTo(index, Hint.PositionAtCenter)

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
        self._fit_grid()
        # not QListView's: it would lay its own layout out again 100 ms later
        QAbstractItemView.resizeEvent(self, e)  # updateGeometries()
        self._place_message()
        self._schedule_wanted()

    def keyPressEvent(self, e: QKeyEvent) -> None:
        # the keys of actions (Space / Enter open the preview...) never come here: they are
        # shortcuts of the table in ui/actions.py; what does is Qt's own navigation
        super().keyPressEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        on_image = self.indexAt(e.position().toPoint()).isValid()
        left = e.button() == Qt.MouseButton.LeftButton
        self._press = e.position().toPoint() if left and on_image else None
        beside = left and not on_image
        self._band_from = self._contents_point(e) if beside else None
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
        band_from = self._band_from
        if band_from is not None and self.state() == QAbstractItemView.State.DragSelectingState:
            self._band = QRect(band_from, self._contents_point(e)).normalized()
            self.viewport().update()

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        self._press = self._band_from = None
        if self._band.isValid():
            self._band = QRect()
            self.viewport().update()
        super().mouseReleaseEvent(e)

    def _contents_point(self, e: QMouseEvent) -> QPoint:
        return e.position().toPoint() + QPoint(0, self.verticalOffset())

    def wheelEvent(self, e: QWheelEvent) -> None:
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


def _spans(selection: QItemSelection) -> list[tuple[int, int]]:
    """The first and last row of each range of `selection`."""
    ranges = (selection.at(i) for i in range(selection.count()))
    return [(selected.top(), selected.bottom()) for selected in ranges]
