"""The main window's menu bar, built from the table of keyboard actions (ui/actions.py): every
action a key triggers is also in a menu, with its key beside it, so that mouse users find it and
keyboard users learn the key. Nothing here binds a key or handles an action. File, Edit, Review,
View, Shoot and Help; Preferences sits at the end of the Edit menu on Linux and Windows, and its
menu role puts it in the application menu on macOS (About too)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMenuBar

from qamera_desktop.ui.actions import (
    EDIT_ACTIONS,
    FILE_ACTIONS,
    REVIEW_ACTIONS,
    SHOOT_ACTIONS,
    ActionId,
    ActionSet,
)

REVIEW_MENU: tuple[ActionId, ...] = (*REVIEW_ACTIONS, ActionId.COMPARE)
"""The Review menu: the decisions and compare."""
SHOOT_MENU: tuple[ActionId, ...] = (ActionId.NEW_SHOOT, *SHOOT_ACTIONS)
"""The Shoot menu: a new shoot, then an image's shoot (made for AI shoots)."""
GROUPS_START: frozenset[ActionId] = frozenset(
    {
        ActionId.RATE_0,
        ActionId.LABEL_RED,
        ActionId.REASON_1,
        ActionId.UNDO,
        ActionId.COMPARE,
        SHOOT_ACTIONS[0],
    }
)
"""Rows of the Review and Shoot menus with a separator before them."""


@dataclass(frozen=True, slots=True)
class Menus:
    """The menus of the menu bar, for the rooms that add their own items."""

    file: QMenu
    edit: QMenu
    review: QMenu
    view: QMenu
    shoot: QMenu
    help: QMenu


def build_menus(bar: QMenuBar, keys: ActionSet, auto_advance: QAction) -> Menus:
    """File, Edit, Review, View, Shoot and Help, from the window's actions."""
    file_menu = bar.addMenu("&File")
    _add(file_menu, keys, FILE_ACTIONS)
    edit = bar.addMenu("&Edit")
    for action_id in EDIT_ACTIONS:
        if action_id is ActionId.PREFERENCES:
            edit.addSeparator()
            # macOS moves it to the application menu (Qamera Desktop > Settings..., Cmd+,)
            keys[action_id].setMenuRole(QAction.MenuRole.PreferencesRole)
        edit.addAction(keys[action_id])
    review = bar.addMenu("&Review")
    _add_grouped(review, keys, REVIEW_MENU)
    view = bar.addMenu("&View")
    view.addAction(auto_advance)
    view.addSeparator()
    _add(
        view,
        keys,
        (ActionId.ZOOM_IN, ActionId.ZOOM_OUT, ActionId.REFRESH, ActionId.TOGGLE_SHOOTS),
    )
    shoot = bar.addMenu("&Shoot")
    _add_grouped(shoot, keys, SHOOT_MENU)
    help_menu = bar.addMenu("&Help")
    _add(help_menu, keys, (ActionId.HELP, ActionId.SHORTCUTS))
    return Menus(file_menu, edit, review, view, shoot, help_menu)


def _add_grouped(menu: QMenu, keys: ActionSet, action_ids: tuple[ActionId, ...]) -> None:
    for action_id in action_ids:
        if action_id in GROUPS_START:
            menu.addSeparator()
        menu.addAction(keys[action_id])


def _add(menu: QMenu, keys: ActionSet, action_ids: tuple[ActionId, ...]) -> None:
    for action_id in action_ids:
        menu.addAction(keys[action_id])
