"""Which images an export or a contact sheet takes: the designer's picks, the images selected in
the grid, or those the grid shows now (kept as `Settings.export_scope`). Qt-free, so that the
window's export room names the choice without importing its dialogs before they are opened."""

from enum import StrEnum


class ImageChoice(StrEnum):
    """Which images a job takes (kept as `Settings.export_scope`)."""

    PICKS = "picks"
    SELECTION = "selection"
    FILTER = "filter"
