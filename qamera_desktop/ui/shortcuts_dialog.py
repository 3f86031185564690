"""The cheat sheet (`?`, and F1's help): how the app is used in a few lines, then every row of the
table of keyboard actions (ui/actions.py) with its keys as they are bound now, grouped by where
they apply, with a word on where the review keys act too. Opened with open(), never exec()."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QScrollArea, QVBoxLayout, QWidget

from qamera_desktop.ui.actions import ACTIONS, ActionId, ActionSet, Context, keys_text
from qamera_desktop.ui.screen_fit import fit_size_to_screen

SIZE = QSize(560, 640)

SECTIONS: tuple[tuple[Context, str], ...] = (
    (Context.GRID, "In the grid"),
    (Context.WINDOW, "Anywhere in the window"),
    (Context.PREVIEW, "In the large preview"),
    (Context.COMPARE, "In compare (C with 2 to 4 images selected, or more to step through)"),
)
NAVIGATION = "Arrows, Home, End, PageUp, PageDown: move (Shift extends the selection); Ctrl+A: all"
NOTES: dict[Context, str] = {
    Context.GRID: NAVIGATION,
    Context.PREVIEW: "The review keys (pick, reject, stars, labels, reasons, undo) decide the "
    "image shown; with auto-advance the next one is shown.",
    Context.COMPARE: "The review keys decide the marked pane's image (a coloured frame; a click "
    "marks another). Auto-advance never moves the panes here.",
}


def how_it_works(keys: ActionSet) -> str:
    """A few lines on the job, naming the keys bound now."""

    def key(action_id: ActionId) -> str:
        return keys.key_text(action_id) or "(no key)"

    return (
        f"Pick and approve a shoot's images: move through the grid with the arrows, press "
        f"{key(ActionId.PICK)} to pick, {key(ActionId.REJECT)} to reject, "
        f"{key(ActionId.RATE_1)}-{key(ActionId.RATE_5)} for stars and "
        f"{key(ActionId.LABEL_RED)}-{key(ActionId.LABEL_BLUE)} for a colour label (with "
        "auto-advance, in the View menu, each decision takes you to the next image). "
        f"{key(ActionId.OPEN_PREVIEW)} shows one large, {key(ActionId.COMPARE)} compares the "
        "selected ones side by side. Filter by your review to see what is left, then export the "
        f"picks ({key(ActionId.EXPORT)}: files, a manifest, XMP) or make a contact sheet. Every "
        "key below can be changed in Preferences."
    )


def shortcuts_html(keys: ActionSet) -> str:
    parts = [f"<p>{escape(how_it_works(keys))}</p>"]
    for context, title in SECTIONS:
        rows = []
        for spec in ACTIONS:
            if spec.context is not context:
                continue
            bound = keys_text(keys[spec.id].shortcuts()) or "(none)"
            rows.append(
                f"<tr><td style='padding-right:16px'><b>{escape(bound)}</b></td>"
                f"<td>{escape(spec.tip)}</td></tr>"
            )
        parts.append(f"<h3>{escape(title)}</h3><table>{''.join(rows)}</table>")
        if context in NOTES:
            parts.append(f"<p>{escape(NOTES[context])}</p>")
    return "".join(parts)


class ShortcutsDialog(QDialog):
    def __init__(self, keys: ActionSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keyboard shortcuts")
        self.resize(SIZE)
        fit_size_to_screen(self)  # on a small screen, its Close button stays in reach
        self.text = QLabel(shortcuts_html(keys))
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setWordWrap(True)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.text.setContentsMargins(8, 8, 8, 8)
        scroller = QScrollArea()
        scroller.setWidgetResizable(True)
        scroller.setWidget(self.text)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(scroller)
        layout.addWidget(buttons)
