"""File → Export…: what to export (the picks, the selection or the current view, each with its
count), where (a folder, remembered), then a progress bar with Cancel and, at the end, what was
written, what failed and why, and a button that opens the folder.

`JobDialog` is the frame it shares with the contact sheet's dialog (ui/contact_sheet_dialog.py):
the choice of images with their counts, a destination with a chooser, the progress, the result
line, and the keys: Tab reaches every control, Enter starts, Esc cancels a running job (what is
complete stays) or closes the dialog. The dialogs are not modal: the window stays usable while a
job runs. They only ask and show; the export room (ui/export_controller.py) runs the job.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QUrl
from PySide6.QtCore import Signal as QtSignal
from PySide6.QtGui import QCloseEvent, QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from qamera_desktop.core.export.image_choice import ImageChoice

if TYPE_CHECKING:  # the export engine is imported when an export runs
    from qamera_desktop.core.export.exporter import ExportProgress, ExportResult


CHOICE_TEXT: dict[ImageChoice, str] = {
    ImageChoice.PICKS: "&Picks",
    ImageChoice.SELECTION: "&Selected images",
    ImageChoice.FILTER: "Images in the current &view",
}
CHOICE_TIP: dict[ImageChoice, str] = {
    ImageChoice.PICKS: "Every image you picked (P) among the images listed, whatever the search",
    ImageChoice.SELECTION: "The images selected in the grid (or the current one)",
    ImageChoice.FILTER: "The images the grid shows now: the search and the review filter apply",
}


def _size(n: int) -> str:
    return f"{n / 2**20:,.1f} MB" if n >= 2**20 else f"{n / 2**10:,.0f} KB"


class JobDialog(QDialog):
    """The shared frame (see the module docstring). Subclasses add their options between the
    destination and the progress, name the start button and say what a result means."""

    startRequested = QtSignal()  # read the chosen values from the dialog
    cancelRequested = QtSignal()
    thread_name = "qamera-job"  # the name of the thread its job runs on

    def __init__(
        self,
        title: str,
        choices: tuple[ImageChoice, ...],
        destination_label: str,
        start_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(False)
        self._running = False
        self._counts: dict[ImageChoice, int] = {}

        self.choice_group = QButtonGroup(self)
        self.choice_buttons: dict[ImageChoice, QRadioButton] = {}
        what = QGroupBox("Images")
        what_layout = QVBoxLayout(what)
        for choice in choices:
            button = QRadioButton(CHOICE_TEXT[choice])
            button.setToolTip(CHOICE_TIP[choice])
            self.choice_group.addButton(button)
            self.choice_buttons[choice] = button
            what_layout.addWidget(button)
            button.toggled.connect(self._update_start)

        where = QGroupBox(destination_label)
        where_layout = QHBoxLayout(where)
        self.destination_edit = QLineEdit()
        self.destination_edit.setAccessibleName(destination_label)
        self.destination_edit.textChanged.connect(self._update_start)
        self.choose_button = QPushButton("C&hoose…")
        self.choose_button.setAutoDefault(False)
        self.choose_button.clicked.connect(self.choose_destination)
        where_layout.addWidget(self.destination_edit, 1)
        where_layout.addWidget(self.choose_button)
        self.where_note = QLabel(wordWrap=True)

        self.options = QVBoxLayout()  # a subclass's own controls

        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.hide()
        self.status_label = QLabel(wordWrap=True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_label.setAccessibleName("Progress")

        self.open_button = QPushButton("&Open folder")
        self.open_button.setAutoDefault(False)
        self.open_button.clicked.connect(self.open_result)
        self.open_button.hide()
        self.start_button = QPushButton(start_text)
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(self._start_clicked)
        self.close_button = QPushButton("Close")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addWidget(where)
        layout.addWidget(self.where_note)
        layout.addLayout(self.options)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status_label)
        self.body = QVBoxLayout()  # below the status: a result's details
        layout.addLayout(self.body)
        layout.addLayout(buttons)
        self._file_dialog: QFileDialog | None = None
        self.opened_url: QUrl | None = None  # what "Open" asked the desktop to show last
        self.result_url: QUrl | None = None

    # -- what is chosen ----------------------------------------------------------------------
    def set_choices(self, counts: dict[ImageChoice, int], chosen: ImageChoice | None) -> None:
        """Show each choice with its count; `chosen` is checked (or, when it has none, the first
        that has some)."""
        self._counts = dict(counts)
        for choice, button in self.choice_buttons.items():
            n = counts.get(choice, 0)
            button.setText(f"{CHOICE_TEXT[choice]} ({n:,})")
        usable = [c for c in self.choice_buttons if counts.get(c, 0) > 0]
        pick = chosen if chosen in self.choice_buttons and counts.get(chosen, 0) else None
        pick = pick or (usable[0] if usable else next(iter(self.choice_buttons)))
        self.choice_buttons[pick].setChecked(True)
        self._update_start()

    def choice(self) -> ImageChoice:
        for choice, button in self.choice_buttons.items():
            if button.isChecked():
                return choice
        return next(iter(self.choice_buttons))

    def destination(self) -> Path | None:
        text = self.destination_edit.text().strip()
        return Path(text).expanduser() if text else None

    def set_destination(self, path: Path | str) -> None:
        self.destination_edit.setText(str(path))

    def choose_destination(self) -> None:
        """The platform's chooser, opened (never exec'd): its answer fills the field."""
        dialog = self._file_dialog = self.make_file_dialog()
        dialog.fileSelected.connect(self.set_destination)
        dialog.open()

    def make_file_dialog(self) -> QFileDialog:
        """A folder chooser; the contact sheet asks for a file instead."""
        dialog = QFileDialog(self, "Export into", self.destination_edit.text())
        dialog.setFileMode(QFileDialog.FileMode.Directory)
        dialog.setOption(QFileDialog.Option.ShowDirsOnly, True)
        return dialog

    # -- the job's life ----------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._running

    def set_running(self, running: bool, text: str = "") -> None:
        """While a job runs the choices are locked and Esc (or the Cancel button) cancels."""
        self._running = running
        for widget in (
            *self.choice_buttons.values(),
            self.destination_edit,
            self.choose_button,
            *self.option_widgets(),
        ):
            widget.setEnabled(not running)
        self.close_button.setText("Cancel" if running else "Close")
        self.close_button.setEnabled(True)
        if running:
            self.open_button.hide()
            self.progress_bar.show()
            self.progress_bar.setRange(0, 0)  # busy until the first report
            self.status_label.setText(text)
            self.close_button.setFocus()
        self._update_start()

    def option_widgets(self) -> list[QWidget]:
        """A subclass's controls locked while it runs."""
        return []

    def show_counts(self, done: int, total: int, text: str) -> None:
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        self.status_label.setText(text)

    def show_failure(self, text: str) -> None:
        """The job could not run at all (the folder cannot be written, not connected...)."""
        self.set_running(False)
        self.progress_bar.hide()
        self.status_label.setText(text)

    def show_finished(self, text: str, url: QUrl | None) -> None:
        self.set_running(False)
        self.status_label.setText(text)
        self.result_url = url
        self.open_button.setVisible(url is not None)
        self.start_button.setFocus()

    def open_result(self) -> None:
        if self.result_url is not None:
            self.opened_url = self.result_url
            QDesktopServices.openUrl(self.result_url)

    # -- keys and buttons --------------------------------------------------------------------
    def _start_clicked(self) -> None:
        if not self._running and self.start_button.isEnabled():
            self.startRequested.emit()

    def _update_start(self) -> None:
        has_images = self._counts.get(self.choice(), 0) > 0
        self.start_button.setEnabled(
            not self._running and has_images and self.destination() is not None
        )

    def reject(self) -> None:
        """Esc or the Close/Cancel button: cancel a running job (the dialog stays to show what
        was done), else close."""
        if self._running:
            self.close_button.setEnabled(False)
            self.status_label.setText("Stopping… (what is complete is kept)")
            self.cancelRequested.emit()
            return
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:
        """The title bar's close button: a running job is cancelled and the dialog goes."""
        if self._running:
            self.cancelRequested.emit()
        super().closeEvent(event)


class ExportDialog(JobDialog):
    """File → Export…: see the module docstring."""

    thread_name = "qamera-export"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Export",
            (ImageChoice.PICKS, ImageChoice.SELECTION, ImageChoice.FILTER),
            "Folder",
            "&Export",
            parent,
        )
        self.where_note.setText(
            "Each image is saved under its name and id with your decision inside (XMP), and a "
            "manifest (CSV and JSON) lists them all. Files already in the folder are kept: "
            "exporting again finishes an export that was cancelled."
        )
        self.failures_list = QListWidget()
        self.failures_list.setAccessibleName("Images that could not be exported")
        self.failures_list.hide()
        self.body.addWidget(self.failures_list)
        self.resize(520, self.sizeHint().height())

    def start_preparing(self) -> None:
        self.failures_list.clear()
        self.failures_list.hide()
        self.set_running(True, "Finding each image's product…")

    def show_progress(self, progress: ExportProgress) -> None:
        if not self.running:
            return
        parts = [f"{progress.done:,} of {progress.total:,} images"]
        if progress.skipped:
            parts.append(f"{progress.skipped:,} already there")
        if progress.failed:
            parts.append(f"{progress.failed:,} failed")
        parts.append(_size(progress.bytes_written))
        text = " · ".join(parts) + (f"\n{progress.last}" if progress.last else "")
        self.show_counts(progress.done, progress.total, text)

    def show_result(self, result: ExportResult) -> None:
        self.show_finished(summary(result), QUrl.fromLocalFile(str(result.folder)))
        self.progress_bar.setValue(len(result.written) + len(result.skipped) + len(result.failures))
        self.failures_list.clear()
        for failure in result.failures:
            self.failures_list.addItem(f"{failure.item.image.name}: {failure.reason}")
        self.failures_list.setVisible(bool(result.failures))


def summary(result: ExportResult) -> str:
    """ "312 written, 2 failed, 40 already there" (and "Cancelled: " before it)."""
    parts = [f"{len(result.written):,} written"]
    if result.failures:
        parts.append(f"{len(result.failures):,} failed")
    if result.skipped:
        parts.append(f"{len(result.skipped):,} already there")
    text = ", ".join(parts)
    if result.cancelled:
        return f"Cancelled: {text}. Export again into this folder to finish."
    return f"{text}."
