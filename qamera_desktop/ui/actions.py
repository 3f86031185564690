"""Every keyboard action of the main window in one table: its id, its text, its default keys and
where it applies. The window's QActions are built from it (`ActionSet`), so this table is the one
place to look a shortcut up; README.md's Keyboard table lists the same keys for people.

Where an action applies (`Context`) decides which widget hosts its QAction:

- WINDOW: anywhere in the main window (a window shortcut of the main window);
- GRID: only while the thumbnail grid has the keyboard focus (a widget shortcut of the grid), so
  that plain keys (Space, letters, digits) stay free for typing everywhere else;
- PREVIEW: while the preview dialog (the loupe) is the active window (a window shortcut of the
  dialog);
- COMPARE: while the compare window (2 to 4 images side by side) is the active window.

The loupe and compare are the `REVIEW_WINDOWS`: windows of their own where the rows of
`IN_REVIEW_WINDOWS` (the review keys) apply as well as in their own context, to the image shown
(the loupe) or the focused pane (compare). `ActionSet` gives each such row one more QAction on
each of those windows, with the same keys, the same handler and the same `triggered` signal; what
a decision applies to is `ImageBrowser.targets()`'s business, not the key's.

The grid's own navigation (arrows, Home, End, PageUp, PageDown, Shift to extend the selection,
Ctrl+A) stays Qt's: `GRID_NAVIGATION` lists those keys, and `clashes()` reports an action that would
take one of them, or two actions that share a key where both are live at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from itertools import combinations
from typing import Final

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QWidget

from qamera_desktop.core.review import REASON_TEXT


class ActionId(StrEnum):
    FIND = "find"
    FOCUS_GRID = "focus_grid"
    ZOOM_IN = "zoom_in"
    ZOOM_OUT = "zoom_out"
    REFRESH = "refresh"
    NEW_SHOOT = "new_shoot"
    TOGGLE_SHOOTS = "toggle_shoots"
    OPEN_PREVIEW = "open_preview"
    PREVIOUS_IMAGE = "previous_image"
    NEXT_IMAGE = "next_image"
    CLOSE_PREVIEW = "close_preview"
    PICK = "pick"
    REJECT = "reject"
    CLEAR_FLAG = "clear_flag"
    RATE_0 = "rate_0"
    RATE_1 = "rate_1"
    RATE_2 = "rate_2"
    RATE_3 = "rate_3"
    RATE_4 = "rate_4"
    RATE_5 = "rate_5"
    LABEL_RED = "label_red"
    LABEL_YELLOW = "label_yellow"
    LABEL_GREEN = "label_green"
    LABEL_BLUE = "label_blue"
    REASON_1 = "reason_1"
    REASON_2 = "reason_2"
    REASON_3 = "reason_3"
    REASON_4 = "reason_4"
    REASON_5 = "reason_5"
    REASON_6 = "reason_6"
    UNDO = "undo"
    REDO = "redo"
    SHORTCUTS = "shortcuts"
    HELP = "help"
    # -- the loupe --
    LOUPE_ZOOM = "loupe_zoom"
    # -- made for AI shoots --
    MORE_LIKE_THIS = "more_like_this"
    REGENERATE_REJECTS = "regenerate_rejects"
    CLEAR_SHOOT_FILTER = "clear_shoot_filter"
    # -- getting images out --
    EXPORT = "export"
    CONTACT_SHEET = "contact_sheet"
    COPY_IDS = "copy_ids"
    COPY_URLS = "copy_urls"
    # -- compare --
    COMPARE = "compare"
    COMPARE_PREVIOUS = "compare_previous"
    COMPARE_NEXT = "compare_next"
    COMPARE_KEEP = "compare_keep"
    COMPARE_ZOOM = "compare_zoom"
    COMPARE_NEXT_PANE = "compare_next_pane"
    COMPARE_PREVIOUS_PANE = "compare_previous_pane"
    COMPARE_CLOSE = "compare_close"
    # -- the app --
    CLOSE_WINDOW = "close_window"
    QUIT = "quit"
    PREFERENCES = "preferences"


class Context(StrEnum):
    WINDOW = "window"
    GRID = "grid"
    PREVIEW = "preview"
    COMPARE = "compare"


@dataclass(frozen=True, slots=True)
class ActionSpec:
    """One row of the action table: what the action does, its default keys and where it works."""

    id: ActionId
    text: str
    keys: tuple[str, ...]
    """Default key sequences in Qt's portable text ("Ctrl+F"); the first is the one to mention."""
    context: Context
    tip: str
    """What it does; the tooltip adds the keys."""


ACTIONS: Final[tuple[ActionSpec, ...]] = (
    ActionSpec(ActionId.FIND, "Find", ("Ctrl+F",), Context.WINDOW, "Search image names"),
    ActionSpec(
        ActionId.FOCUS_GRID, "Go to the grid", ("Ctrl+G",), Context.WINDOW, "Back to the grid"
    ),
    ActionSpec(
        ActionId.ZOOM_IN,
        "Larger thumbnails",
        ("Ctrl++", "Ctrl+="),
        Context.WINDOW,
        "Larger thumbnails",
    ),
    ActionSpec(
        ActionId.ZOOM_OUT, "Smaller thumbnails", ("Ctrl+-",), Context.WINDOW, "Smaller thumbnails"
    ),
    ActionSpec(
        ActionId.REFRESH,
        "Refresh",
        ("F5", "Ctrl+R"),
        Context.WINDOW,
        "Reload the images and retry broken thumbnails",
    ),
    ActionSpec(
        ActionId.NEW_SHOOT, "New shoot…", ("Ctrl+N",), Context.WINDOW, "Start a new photo shoot"
    ),
    ActionSpec(
        ActionId.TOGGLE_SHOOTS,
        "Shoots",
        ("Ctrl+Shift+S",),
        Context.WINDOW,
        "Show or hide the Shoots panel",
    ),
    ActionSpec(
        ActionId.OPEN_PREVIEW,
        "Open",
        ("Space", "Return", "Enter"),
        Context.GRID,
        "Open the current image large",
    ),
    ActionSpec(ActionId.PREVIOUS_IMAGE, "Previous", ("Left",), Context.PREVIEW, "Previous image"),
    ActionSpec(ActionId.NEXT_IMAGE, "Next", ("Right",), Context.PREVIEW, "Next image"),
    ActionSpec(
        ActionId.CLOSE_PREVIEW, "Close", ("Esc", "Space"), Context.PREVIEW, "Back to the grid"
    ),
    # -- review: the designer's own decisions, on the selected images (core/review.py) --------
    ActionSpec(ActionId.PICK, "Pick", ("P",), Context.GRID, "Flag the selected images as picks"),
    ActionSpec(
        ActionId.REJECT, "Reject", ("X",), Context.GRID, "Flag the selected images as rejects"
    ),
    ActionSpec(
        ActionId.CLEAR_FLAG,
        "Clear flag",
        ("U",),
        Context.GRID,
        "Neither pick nor reject: back to review",
    ),
    *(
        ActionSpec(
            ActionId(f"rate_{n}"),
            "No stars" if n == 0 else f"{n} star" + ("" if n == 1 else "s"),
            (str(n),),
            Context.GRID,
            "Remove the stars" if n == 0 else f"Rate the selected images {n} of 5",
        )
        for n in range(6)
    ),
    *(
        ActionSpec(
            ActionId(f"label_{colour}"),
            f"{colour.capitalize()} label",
            (key,),
            Context.GRID,
            f"Label the selected images {colour} (again: no label)",
        )
        for colour, key in (("red", "6"), ("yellow", "7"), ("green", "8"), ("blue", "9"))
    ),
    *(
        ActionSpec(
            ActionId(f"reason_{n}"),
            f"Reason: {text}",
            (f"Alt+{n}",),
            Context.GRID,
            f"Why the image just rejected is rejected: {text} (again: not this reason)",
        )
        for n, text in enumerate(REASON_TEXT.values(), start=1)
    ),
    ActionSpec(ActionId.UNDO, "Undo", ("Ctrl+Z",), Context.WINDOW, "Undo the last decision"),
    ActionSpec(
        ActionId.REDO, "Redo", ("Ctrl+Shift+Z", "Ctrl+Y"), Context.WINDOW, "Redo a decision undone"
    ),
    ActionSpec(
        ActionId.SHORTCUTS, "Keyboard shortcuts", ("?",), Context.GRID, "Every keyboard shortcut"
    ),
    ActionSpec(
        ActionId.HELP,
        "Qamera Desktop help",
        ("F1",),
        Context.WINDOW,
        "How to pick and approve, and every keyboard shortcut",
    ),
    # -- the loupe (ui/preview_dialog.py) ---------------------------------------------------
    ActionSpec(
        ActionId.LOUPE_ZOOM,
        "Fit or 100%",
        ("Z",),
        Context.PREVIEW,
        "Show the image fitted to the window or at 100% (drag to pan)",
    ),
    # -- made for AI shoots (core/shoot_lineage.py, ui/shoots_controller.py) ----------------
    ActionSpec(
        ActionId.MORE_LIKE_THIS,
        "More like this…",
        ("M",),
        Context.GRID,
        "A new shoot with the configuration that made the current image",
    ),
    ActionSpec(
        ActionId.REGENERATE_REJECTS,
        "Regenerate the rejects…",
        ("Shift+M",),
        Context.GRID,
        "A new shoot of the current image's shoot: as many images as it has rejects, "
        "told to avoid their reasons",
    ),
    ActionSpec(
        ActionId.CLEAR_SHOOT_FILTER,
        "Show every shoot",
        ("Esc",),
        Context.GRID,
        "Clear the filter to one shoot's images",
    ),
    # -- getting images out (ui/export_controller.py) ---------------------------------------
    ActionSpec(
        ActionId.EXPORT,
        "Export…",
        ("Ctrl+E",),
        Context.WINDOW,
        "Write the picks (or the selection, or the filter) to a folder, with a manifest and XMP",
    ),
    ActionSpec(
        ActionId.CONTACT_SHEET,
        "Contact sheet…",
        ("Ctrl+P",),
        Context.WINDOW,
        "A PDF of the picks (or the selection) for sign-off",
    ),
    ActionSpec(
        ActionId.COPY_IDS, "Copy ID", ("Ctrl+C",), Context.GRID, "Copy the selected images' ids"
    ),
    ActionSpec(
        ActionId.COPY_URLS,
        "Copy URL",
        ("Ctrl+Shift+C",),
        Context.GRID,
        "Copy the selected images' URLs",
    ),
    # -- the app: both end it cleanly, as closing the window does --------------------------
    ActionSpec(
        ActionId.CLOSE_WINDOW, "Close window", ("Ctrl+W",), Context.WINDOW, "Close the window"
    ),
    ActionSpec(ActionId.QUIT, "Quit", ("Ctrl+Q",), Context.WINDOW, "Quit Qamera Desktop"),
    ActionSpec(
        ActionId.PREFERENCES,
        "Preferences…",
        ("Ctrl+,",),
        Context.WINDOW,
        "Theme, notifications, the thumbnail cache, new shoot defaults and keyboard shortcuts",
    ),
    # -- compare (ui/compare_dialog.py) ------------------------------------------------------
    ActionSpec(
        ActionId.COMPARE,
        "Compare",
        ("C",),
        Context.GRID,
        "Compare the selected images side by side (2 to 4; more: the rest steps through)",
    ),
    ActionSpec(
        ActionId.COMPARE_PREVIOUS,
        "Previous",
        ("Left",),
        Context.COMPARE,
        "The panes not kept show the previous images of the selection",
    ),
    ActionSpec(
        ActionId.COMPARE_NEXT,
        "Next",
        ("Right",),
        Context.COMPARE,
        "The panes not kept show the next images of the selection",
    ),
    ActionSpec(
        ActionId.COMPARE_KEEP,
        "Keep this one",
        ("K",),
        Context.COMPARE,
        "Keep the marked pane (the best so far) while the others step (again: let it go)",
    ),
    ActionSpec(
        ActionId.COMPARE_ZOOM,
        "Fit or 100%",
        ("Z",),
        Context.COMPARE,
        "Every pane fitted or at 100%; a drag pans them all to the same place",
    ),
    ActionSpec(
        ActionId.COMPARE_NEXT_PANE,
        "Next pane",
        ("Tab",),
        Context.COMPARE,
        "Mark the next pane: the review keys decide its image (a click marks one too)",
    ),
    ActionSpec(
        ActionId.COMPARE_PREVIOUS_PANE,
        "Previous pane",
        ("Shift+Tab",),
        Context.COMPARE,
        "Mark the previous pane",
    ),
    ActionSpec(
        ActionId.COMPARE_CLOSE,
        "Close",
        ("Esc", "C"),
        Context.COMPARE,
        "Back to the grid, the marked pane's image current",
    ),
)

REVIEW_ACTIONS: Final[tuple[ActionId, ...]] = (
    ActionId.PICK,
    ActionId.REJECT,
    ActionId.CLEAR_FLAG,
    *(ActionId(f"rate_{n}") for n in range(6)),
    ActionId.LABEL_RED,
    ActionId.LABEL_YELLOW,
    ActionId.LABEL_GREEN,
    ActionId.LABEL_BLUE,
    *(ActionId(f"reason_{n}") for n in range(1, 7)),
    ActionId.UNDO,
    ActionId.REDO,
)
"""The review keys: the first rows of the Review menu (ui/menus.py), in its order."""

# -- the loupe and compare -------------------------------------------------------------------
REVIEW_WINDOWS: Final[tuple[Context, ...]] = (Context.PREVIEW, Context.COMPARE)
"""Windows of their own where the review keys act too: the loupe (on the image shown) and compare
(on the focused pane's image)."""
IN_REVIEW_WINDOWS: Final[tuple[ActionId, ...]] = REVIEW_ACTIONS
"""Rows that also apply in each of the `REVIEW_WINDOWS`, besides their own context."""
REVIEW_COPY_DATA: Final = "review-key-copy"
"""`QAction.data()` of those rows' copies on a review window (its own keys are the others)."""

COMPARE_ACTIONS: Final[tuple[ActionId, ...]] = (
    ActionId.COMPARE_PREVIOUS,
    ActionId.COMPARE_NEXT,
    ActionId.COMPARE_KEEP,
    ActionId.COMPARE_ZOOM,
    ActionId.COMPARE_NEXT_PANE,
    ActionId.COMPARE_PREVIOUS_PANE,
    ActionId.COMPARE_CLOSE,
)
"""The compare window's own keys, in the order of its tool bar."""

# -- made for AI shoots ----------------------------------------------------------------------
SHOOT_ACTIONS: Final[tuple[ActionId, ...]] = (
    ActionId.MORE_LIKE_THIS,
    ActionId.REGENERATE_REJECTS,
    ActionId.CLEAR_SHOOT_FILTER,
)
"""The Shoot menu's rows after New shoot and a separator: an image's shoot."""

FILE_ACTIONS: Final[tuple[ActionId, ...]] = (ActionId.EXPORT, ActionId.CONTACT_SHEET)
"""The rows of the File menu after New shoot."""
EDIT_ACTIONS: Final[tuple[ActionId, ...]] = (
    ActionId.COPY_IDS,
    ActionId.COPY_URLS,
    ActionId.PREFERENCES,
)
"""The rows of the Edit menu (Preferences last, after a separator: where Linux and Windows
apps have it; macOS moves it to the application menu by its menu role)."""

GRID_NAVIGATION: Final[frozenset[str]] = frozenset(
    f"{modifier}{key}"
    for key in ("Left", "Right", "Up", "Down", "Home", "End", "PgUp", "PgDown")
    for modifier in ("", "Shift+", "Ctrl+", "Ctrl+Shift+")
) | {"Tab", "Shift+Tab", "Backtab", "Shift+Backtab", "Ctrl+A"}
"""Keys the grid (and the window's focus chain) handle themselves: no WINDOW or GRID action."""

_SHORTCUT_CONTEXT: Final[Mapping[Context, Qt.ShortcutContext]] = {
    Context.WINDOW: Qt.ShortcutContext.WindowShortcut,
    Context.GRID: Qt.ShortcutContext.WidgetShortcut,
    Context.PREVIEW: Qt.ShortcutContext.WindowShortcut,
    Context.COMPARE: Qt.ShortcutContext.WindowShortcut,
}


def spec_of(action_id: ActionId, table: Iterable[ActionSpec] = ACTIONS) -> ActionSpec:
    for spec in table:
        if spec.id == action_id:
            return spec
    raise KeyError(action_id)


def live_together(a: Context, b: Context) -> bool:
    """Whether keys of the two contexts can be live at the same moment (the grid is inside the
    main window; the loupe and compare are windows of their own)."""
    return a == b or {a, b} == {Context.WINDOW, Context.GRID}


@functools.cache  # the clash checks ask it for every pair of the table's keys
def normalized(key: str) -> str:
    """One spelling per key sequence ("ctrl+f", "Ctrl+F" -> "Ctrl+F")."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.PortableText)


class ClashKind(StrEnum):
    NOT_A_KEY = "not a key"  # not a key sequence in Qt's portable text
    NAVIGATION = "navigation"  # one of the grid's own keys (`GRID_NAVIGATION`)
    TYPED = "typed"  # a plain key for a WINDOW action: it types or edits text in text fields
    TAKEN = "taken"  # another action has it where both are live


WHERE: Final[Mapping[Context, str]] = {
    Context.WINDOW: "",
    Context.GRID: " in the grid",
    Context.PREVIEW: " in the loupe",
    Context.COMPARE: " in compare",
}


@dataclass(frozen=True, slots=True)
class Clash:
    """One thing wrong with a key of the table: `action`'s `key` (and the `other` action that
    has it too, for TAKEN)."""

    kind: ClashKind
    action: ActionSpec
    key: str
    other: ActionSpec | None = None

    def __str__(self) -> str:
        """For the table's own check (a developer reads it)."""
        match self.kind:
            case ClashKind.NOT_A_KEY:
                return f"{self.action.id}: {self.key!r} is not a key sequence in Qt's portable text"
            case ClashKind.NAVIGATION:
                return f"{self.action.id}: {self.key} moves in the grid"
            case ClashKind.TYPED:
                return f"{self.action.id}: {self.key} alone types or edits text in text fields"
        assert self.other is not None
        return f"{self.action.id} and {self.other.id} both use {self.key}"

    def sentence(self) -> str:
        """For the designer who chose the key (Preferences)."""
        key = QKeySequence(self.key).toString(QKeySequence.SequenceFormat.NativeText) or self.key
        match self.kind:
            case ClashKind.NOT_A_KEY:
                return f"“{self.key}” is not a key this app can use."
            case ClashKind.NAVIGATION:
                return f"{key} moves in the grid: it cannot be given to an action."
            case ClashKind.TYPED:
                return (
                    f"{key} alone is for typing in the search field: "
                    "use it with Ctrl or Alt, or choose a function key."
                )
        assert self.other is not None
        other = self.other.text.rstrip("…")
        return f"{key} is already the key of “{other}”{WHERE[self.other.context]}."


def live_contexts(spec: ActionSpec) -> tuple[ActionSpec, ...]:
    """`spec` in each context where its keys are live: its own, and each review window for the
    rows of `IN_REVIEW_WINDOWS`."""
    if spec.id not in IN_REVIEW_WINDOWS:
        return (spec,)
    others = (replace(spec, context=w) for w in REVIEW_WINDOWS if w is not spec.context)
    return (spec, *others)


def find_clashes(table: Sequence[ActionSpec] = ACTIONS) -> list[Clash]:
    """Everything wrong with the keys of `table` (nothing: an empty list)."""
    found = []
    table = [live for spec in table for live in live_contexts(spec)]
    for spec in table:
        for key in spec.keys:
            if normalized(key) != key:  # Qt spells an unknown key as ""
                found.append(Clash(ClashKind.NOT_A_KEY, spec, key))
            if spec.context not in REVIEW_WINDOWS and normalized(key) in GRID_NAVIGATION:
                found.append(Clash(ClashKind.NAVIGATION, spec, key))
            elif spec.context is Context.WINDOW and _typed(key):
                found.append(Clash(ClashKind.TYPED, spec, key))
    for a, b in combinations(table, 2):
        if live_together(a.context, b.context):
            for key in sorted({normalized(k) for k in a.keys} & {normalized(k) for k in b.keys}):
                found.append(Clash(ClashKind.TAKEN, a, key, b))
    return found


def clashes(table: Sequence[ActionSpec] = ACTIONS) -> list[str]:
    """What is wrong with the keys of `table`, one sentence each (nothing: an empty list)."""
    return [str(clash) for clash in find_clashes(table)]


def _typed(key: str) -> bool:
    """A key that types or edits text (a letter, a digit, a sign, Space, Return, Backspace,
    Delete) with no Ctrl, Alt or Meta held: "P", "Shift+P", "5", "Space"; not "Ctrl+P", "F5" or
    "Esc"."""
    rest = normalized(key)
    held = set()
    while (modifier := rest.partition("+")[0]) in _MODIFIERS and len(rest) > len(modifier) + 1:
        held.add(modifier)
        rest = rest[len(modifier) + 1 :]
    return not held - {"Shift"} and (len(rest) == 1 or rest in _EDITING)


_MODIFIERS: Final = frozenset({"Ctrl", "Alt", "Meta", "Shift"})
_EDITING: Final = frozenset({"Space", "Return", "Enter", "Backspace", "Del"})


def with_keys(
    keys: Mapping[ActionId, Sequence[str]], table: Sequence[ActionSpec] = ACTIONS
) -> tuple[ActionSpec, ...]:
    """`table` with the keys of the actions in `keys` replaced."""
    return tuple(
        replace(spec, keys=tuple(keys[spec.id])) if spec.id in keys else spec for spec in table
    )


def clash_of(
    action_id: ActionId, keys: Sequence[str], table: Sequence[ActionSpec] = ACTIONS
) -> Clash | None:
    """Why `action_id` may not have `keys` in `table` (None: it may)."""
    proposed = with_keys({action_id: [normalized(k) or k for k in keys]}, table)
    for clash in find_clashes(proposed):
        if action_id in (clash.action.id, clash.other.id if clash.other else None):
            if clash.action.id != action_id and clash.other is not None:
                clash = Clash(clash.kind, clash.other, clash.key, clash.action)
            return clash
    return None


def custom_keys(
    saved: Mapping[str, Sequence[str]], table: Sequence[ActionSpec] = ACTIONS
) -> tuple[dict[ActionId, tuple[str, ...]], list[str]]:
    """The keys a designer chose (settings: action id -> keys) that can be used with `table`,
    and a sentence for each that cannot: an action this version does not have, or a key that
    clashes (with a key a newer version gave to another action, say). Those keep the default."""
    usable: dict[ActionId, tuple[str, ...]] = {}
    skipped = []
    ids = {spec.id.value: spec.id for spec in table}
    for name, keys in saved.items():
        action_id = ids.get(name)
        if action_id is None:
            skipped.append(f"{name}: no such action")
            continue
        clash = clash_of(action_id, keys, with_keys(usable, table))
        if clash is not None:
            skipped.append(f"{name}: {clash}")
            continue
        usable[action_id] = tuple(normalized(k) for k in keys)
    return usable, skipped


def default_key_text(action_id: ActionId) -> str:
    """The first default key of `action_id` as the platform spells it ("Ctrl+F")."""
    return QKeySequence(spec_of(action_id).keys[0]).toString(QKeySequence.SequenceFormat.NativeText)


def keys_text(keys: Sequence[QKeySequence]) -> str:
    """The keys as the platform spells them: "F5 or Ctrl+R"."""
    return " or ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in keys)


def key_text(action: QAction) -> str:
    """The action's first key as the platform spells it ("" when it has none)."""
    return action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)


class ActionSet:
    """The QActions of one main window, one per row of the table, each hosted by the widget of its
    context and connected to its handler. Every row needs a handler, unless its QAction already
    exists and is `adopted` (the Shoots dock's own show/hide action, for one).

    The review windows are built when first opened, not with the main window. The rows of a
    context missing from `hosts` (WINDOW is required) are made at once, bound and connected, and
    owned by the main window, but they are live nowhere until `host()` is given that context's
    window. Each review window then gets its own rows and a copy of the rows of
    `IN_REVIEW_WINDOWS` (see the module's doc)."""

    def __init__(
        self,
        hosts: Mapping[Context, QWidget],
        handlers: Mapping[ActionId, Callable[[], object]],
        *,
        adopt: Mapping[ActionId, QAction] | None = None,
        table: Sequence[ActionSpec] = ACTIONS,
    ) -> None:
        adopted = dict(adopt or {})
        missing = [s.id for s in table if s.id not in handlers and s.id not in adopted]
        if missing:
            raise ValueError(f"no handler for {', '.join(missing)}")
        self._specs = {spec.id: spec for spec in table}
        self._keys: dict[ActionId, tuple[str, ...]] = {}
        self._listeners: list[Callable[[], None]] = []
        self._actions: dict[ActionId, QAction] = {}
        self._copies: dict[tuple[Context, ActionId], QAction] = {}
        owner = hosts[Context.WINDOW]
        for spec in table:
            action = adopted.get(spec.id) or QAction(spec.text, owner)
            action.setText(spec.text)
            action.setShortcutContext(_SHORTCUT_CONTEXT[spec.context])
            if spec.id in handlers:
                _connect(action, handlers[spec.id])
            self._actions[spec.id] = action
            self.set_keys(spec.id, [QKeySequence(k) for k in spec.keys])
        for context, widget in hosts.items():
            self.host(context, widget)

    def host(self, context: Context, widget: QWidget) -> None:
        """Make the rows of `context` live in `widget` (a review window also gets its copies of
        the review rows, with the keys bound now)."""
        for spec in self._specs.values():
            if spec.context is context:
                widget.addAction(self._actions[spec.id])
            elif context in REVIEW_WINDOWS and spec.id in IN_REVIEW_WINDOWS:
                self._copies[context, spec.id] = _copy_on(widget, self._actions[spec.id])

    def __getitem__(self, action_id: ActionId) -> QAction:
        return self._actions[action_id]

    def set_keys(self, action_id: ActionId, keys: Sequence[QKeySequence]) -> None:
        """Bind `action_id` to `keys` (none: no shortcut); its tooltip says the new keys. Nothing
        checks them here: Preferences asks `clash_of(..., self.table())` first."""
        tip = self._specs[action_id].tip
        copies = [a for (_c, i), a in self._copies.items() if i == action_id]
        for action in (self._actions[action_id], *copies):
            action.setShortcuts(list(keys))
            action.setToolTip(f"{tip} ({keys_text(keys)})" if keys else tip)
        bound = tuple(k.toString(QKeySequence.SequenceFormat.PortableText) for k in keys)
        if self._keys.get(action_id) != bound:
            self._keys[action_id] = bound
            for listener in list(self._listeners):
                listener()

    def table(self) -> tuple[ActionSpec, ...]:
        """The rows with the keys bound now (the defaults, or the designer's)."""
        return tuple(replace(spec, keys=self._keys[i]) for i, spec in self._specs.items())

    def customized(self) -> dict[ActionId, tuple[str, ...]]:
        """The actions whose keys are not their defaults, with their keys (what settings keep)."""
        return {i: k for i, k in self._keys.items() if k != self._specs[i].keys}

    def on_keys_changed(self, listener: Callable[[], None]) -> None:
        """Call `listener` after any action's keys changed (texts that name a key follow)."""
        self._listeners.append(listener)

    def copy_in(self, context: Context, action_id: ActionId) -> QAction | None:
        """The copy of `action_id` on the review window of `context` (None: not there too)."""
        return self._copies.get((context, action_id))

    def key_text(self, action_id: ActionId) -> str:
        return key_text(self._actions[action_id])


def _copy_on(window: QWidget, action: QAction) -> QAction:
    """A copy of `action` live while `window` is active: the same keys, the same handler, the
    same signal."""
    copy = QAction(action.text(), window)
    copy.setData(REVIEW_COPY_DATA)
    copy.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    copy.setShortcuts(action.shortcuts())
    copy.setToolTip(action.toolTip())
    window.addAction(copy)
    copy.triggered.connect(action.trigger)
    return copy


def _connect(action: QAction, handler: Callable[[], object]) -> None:
    # triggered(bool) would pass `checked` to a handler with an optional first argument
    action.triggered.connect(lambda _checked=False: handler())
