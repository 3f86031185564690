"""The yardstick of the cold-start benchmark: a bare PySide6 window with the app's heavy imports
(PySide6 widgets, httpx, qasync, Pillow) and a list view, which prints when it is shown."""

import time

import httpx  # noqa: F401  (the app's heavy imports, for a like-for-like yardstick)
import qasync  # noqa: F401
from PIL import Image  # noqa: F401
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QListView, QMainWindow


def main() -> None:
    app = QApplication([])
    window = QMainWindow()
    window.setCentralWidget(QListView())
    window.resize(1280, 800)
    window.show()

    def shown() -> None:
        print(f"trace window-shown {time.time():.4f}", flush=True)
        app.quit()

    QTimer.singleShot(0, shown)
    app.exec()


if __name__ == "__main__":
    main()
