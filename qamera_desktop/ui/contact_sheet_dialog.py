"""File → Contact sheet…: the options of a contact sheet (the picks or the selection, A4 or
Letter, 2 to 6 images a row, the PDF's file), then its progress and a button that opens it.

The frame (choice with counts, destination, progress, keys) is `JobDialog`'s
(ui/export_dialog.py); the PDF itself is ui/contact_sheet.py's, run by the export room.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QComboBox, QFileDialog, QFormLayout, QSpinBox, QWidget

from qamera_desktop.core.contact_sheet_layout import (
    DEFAULT_PAGE,
    MAX_COLUMNS,
    MIN_COLUMNS,
    PAGE_SIZES,
)
from qamera_desktop.core.export.image_choice import ImageChoice
from qamera_desktop.ui.contact_sheet import SheetProgress, SheetResult, plural
from qamera_desktop.ui.export_dialog import JobDialog


class ContactSheetDialog(JobDialog):
    thread_name = "qamera-contact-sheet"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Contact sheet",
            (ImageChoice.PICKS, ImageChoice.SELECTION),
            "PDF file",
            "&Create PDF",
            parent,
        )
        self.where_note.setText(
            "A PDF for sign-off: each image with its name, id, your decision, stars, label and "
            "product; the account, the date and the counts at the top of every page."
        )
        self.page_combo = QComboBox()
        self.page_combo.addItems(list(PAGE_SIZES))
        self.page_combo.setAccessibleName("Paper size")
        self.columns_spin = QSpinBox()
        self.columns_spin.setRange(MIN_COLUMNS, MAX_COLUMNS)
        self.columns_spin.setSuffix(" per row")
        self.columns_spin.setAccessibleName("Images per row")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
        form.addRow("&Paper:", self.page_combo)
        form.addRow("Images per &row:", self.columns_spin)
        self.options.addLayout(form)
        self.open_button.setText("&Open PDF")
        self.resize(480, self.sizeHint().height())

    def set_options(self, page: str, columns: int) -> None:
        self.page_combo.setCurrentText(page if page in PAGE_SIZES else DEFAULT_PAGE)
        self.columns_spin.setValue(columns)

    def page(self) -> str:
        return self.page_combo.currentText()

    def columns(self) -> int:
        return self.columns_spin.value()

    def option_widgets(self) -> list[QWidget]:
        return [self.page_combo, self.columns_spin]

    def make_file_dialog(self) -> QFileDialog:
        dialog = QFileDialog(self, "Save the contact sheet as", self.destination_edit.text())
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setNameFilter("PDF documents (*.pdf)")
        dialog.setDefaultSuffix("pdf")
        return dialog

    def start_preparing(self) -> None:
        self.set_running(True, "Finding each image's product…")

    def show_progress(self, progress: SheetProgress) -> None:
        if self.running:
            self.show_counts(
                progress.done,
                progress.total,
                f"{progress.done:,} of {progress.total:,} images · "
                f"page {progress.page:,} of {progress.pages:,}",
            )

    def show_result(self, result: SheetResult) -> None:
        if result.cancelled:
            self.show_finished("Cancelled: no PDF was written.", None)
            self.progress_bar.hide()
            return
        text = f"{plural(result.pages, 'page')}, {plural(result.images, 'image')}: "
        text += result.path.name
        if result.missing:
            shown = "; ".join(f"{name} ({why})" for name, why in result.missing[:3])
            more = f" and {len(result.missing) - 3:,} more" if len(result.missing) > 3 else ""
            text += f"\n{len(result.missing):,} shown blank, not available: {shown}{more}"
        self.show_finished(text, QUrl.fromLocalFile(str(result.path)))
