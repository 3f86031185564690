"""A layout that places its items left to right and wraps onto another line when the width runs
out, like words in a paragraph: the filter bar uses it so that nothing hides behind a "»" button
in a narrow window. Each item gets its preferred width (never more than the line's), and the
layout answers heightForWidth, so that the box layout above it gives it as many lines as it needs.
"""

from __future__ import annotations

from PySide6.QtCore import QMargins, QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QLayoutItem, QWidget


class FlowLayout(QLayout):
    def __init__(
        self, parent: QWidget | None = None, *, spacing: int = 6, line_spacing: int = 4
    ) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._line_spacing = line_spacing
        self._lines = 0

    # -- QLayout ------------------------------------------------------------------------------
    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if not 0 <= index < len(self._items):
            return None
        item = self._items.pop(index)
        self.invalidate()
        return item

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        """Everything on one line."""
        items = self._shown()
        width = sum(i.sizeHint().width() for i in items) + self._spacing * max(0, len(items) - 1)
        height = max((i.sizeHint().height() for i in items), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    def minimumSize(self) -> QSize:
        """One item a line: as wide as the widest item's minimum."""
        items = self._shown()
        width = max((i.minimumSize().width() for i in items), default=0)
        height = max((i.sizeHint().height() for i in items), default=0)
        return QSize(width, height).grownBy(self.contentsMargins())

    # -- placing -------------------------------------------------------------------------------
    def lines(self) -> int:
        """How many lines the items took when they were last laid out."""
        return self._lines

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _place(self, rect: QRect, *, move: bool) -> int:
        """Lay the items out in `rect` (only measure unless `move`); return the height used."""
        margins: QMargins = self.contentsMargins()
        area = rect.marginsRemoved(margins)
        x, y, line_height = area.x(), area.y(), 0
        line: list[tuple[QLayoutItem, QSize]] = []

        def finish_line() -> None:
            # items of one line share its height, centred vertically
            if move:
                for item, size in line:
                    top = y + (line_height - size.height()) // 2
                    item.setGeometry(QRect(QPoint(item_x[id(item)], top), size))

        item_x: dict[int, int] = {}
        lines = 1
        for item in self._shown():
            hint = item.sizeHint()
            width = max(item.minimumSize().width(), min(hint.width(), area.width()))
            size = QSize(width, hint.height())
            if line and x + width > area.right() + 1:
                finish_line()
                x = area.x()
                y += line_height + self._line_spacing
                line, line_height = [], 0
                lines += 1
            item_x[id(item)] = x
            line.append((item, size))
            x += width + self._spacing
            line_height = max(line_height, size.height())
        finish_line()
        if move:
            self._lines = lines
        return y + line_height - rect.y() + margins.bottom()
