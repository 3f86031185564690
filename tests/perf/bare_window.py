"""The yardstick of the cold-start benchmark: a bare PySide6 window with the app's heavy imports
(PySide6 widgets, httpx, qasync, Pillow) and a list view, which prints when the list has painted.

The app prints its mark once its window has painted (after the first turn of its event loop); a
mark at `show()`, or at a zero timer after it, would come ~4 ms before this window's first paint,
and compare a window on screen with one not yet painted."""

import time

import httpx  # noqa: F401  (the app's heavy imports, for a like-for-like yardstick)
import qasync  # noqa: F401
from PIL import Image  # noqa: F401
from PySide6.QtCore import QTimer
from PySide6.QtGui import QPaintEvent
from PySide6.QtWidgets import QApplication, QListView, QMainWindow


class ListView(QListView):
    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self.property("painted"):
            self.setProperty("painted", True)
            print(f"trace window-shown {time.time():.4f}", flush=True)
            QTimer.singleShot(0, QApplication.quit)


def main() -> None:
    app = QApplication([])
    window = QMainWindow()
    window.setCentralWidget(ListView())
    window.resize(1280, 800)
    window.show()
    app.exec()


if __name__ == "__main__":
    main()
