import json
import os

import pytest

from qamera_desktop.api.shoot_request import DEFAULT_COUNT, MAX_COUNT, MIN_COUNT
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.byte_lru import ByteLRU
from qamera_desktop.core.settings import (
    CACHE_MB_DEFAULT,
    CACHE_MB_MAX,
    CACHE_MB_MIN,
    THUMB_SIZE_MAX,
    Settings,
    SettingsStore,
    Theme,
)


def test_round_trip_and_atomic_file(tmp_path):
    store = SettingsStore(tmp_path / "s" / "settings.json")
    assert store.load() == Settings()
    s = Settings(product_id="prod_1", status_filter="approved", sort="name", thumb_size=256)
    store.save(s)
    assert store.load() == s
    assert [p.name for p in (tmp_path / "s").iterdir()] == ["settings.json"]


def test_bad_files_fall_back_to_defaults(tmp_path):
    path = tmp_path / "settings.json"
    store = SettingsStore(path)
    path.write_text("{not json")
    assert store.load() == Settings()
    path.write_text(json.dumps([1, 2]))
    assert store.load() == Settings()
    path.write_text(json.dumps({"thumb_size": "big", "sort": 3, "show_details": "yes", "x": 1}))
    assert store.load() == Settings()
    path.write_text(json.dumps({"thumb_size": 99999, "product_id": "p"}))
    loaded = store.load()
    assert loaded.thumb_size == THUMB_SIZE_MAX
    assert loaded.product_id == "p"


def test_the_selected_image_is_remembered_and_a_wrong_value_forgotten(tmp_path):
    store = SettingsStore(tmp_path / "settings.json")
    assert store.load().selected_image_id is None
    store.save(Settings(selected_image_id="img_123"))
    assert store.load().selected_image_id == "img_123"
    (tmp_path / "settings.json").write_text('{"selected_image_id": 42, "sort": "name"}')
    loaded = store.load()
    assert loaded.selected_image_id is None
    assert loaded.sort == "name"


def test_settings_never_hold_a_key(tmp_path):
    assert not any("key" in name for name in Settings.__dataclass_fields__)


def test_app_paths_under_one_data_dir(tmp_path):
    paths = AppPaths.resolve(tmp_path / "d")
    paths.ensure()
    assert paths.settings_file.parent == tmp_path / "d"
    assert paths.thumbnail_cache_dir.is_dir()
    assert paths.sandbox_dir == tmp_path / "d" / "sandbox"


def test_byte_lru_evicts_least_recently_used():
    lru: ByteLRU[str, bytes] = ByteLRU(10, len)
    lru.put("a", b"1234")
    lru.put("b", b"1234")
    assert lru.get("a") == b"1234"  # a is now most recent
    lru.put("c", b"1234")  # 12 bytes > 10: evict b
    assert "b" not in lru
    assert "a" in lru
    assert "c" in lru
    assert lru.total_bytes == 8
    lru.put("huge", b"x" * 11)
    assert "huge" not in lru
    assert lru.total_bytes == 8


# -- Preferences' fields (ui/preferences_dialog.py) -------------------------------------------
def test_the_preferences_fields_survive_a_round_trip(tmp_path):
    store = SettingsStore(tmp_path / "settings.json")
    chosen = Settings(
        theme=Theme.DARK.value,
        notifications=False,
        thumbnail_cache_mb=1024,
        new_shoot_industry="footwear",
        new_shoot_count=4,
        shortcuts={"find": ("Ctrl+K",), "export": (), "refresh": ("F6", "Ctrl+Shift+R")},
        window_geometry="AdnQywADAAA=",
        window_state="AAAA/wAAAAD9",
        splitter_state="AAAA/wAAAAEA",
    )
    store.save(chosen)
    loaded = store.load()
    assert loaded == chosen
    assert loaded.theme_choice is Theme.DARK
    # the file is plain JSON a person can read: keys as lists, an action with no key as []
    written = json.loads(store.path.read_text())
    assert written["shortcuts"] == {
        "export": [],
        "find": ["Ctrl+K"],
        "refresh": ["F6", "Ctrl+Shift+R"],
    }
    assert written["theme"] == "dark"


def test_the_preferences_defaults_are_the_apps_own(tmp_path):
    defaults = SettingsStore(tmp_path / "none.json").load()
    assert defaults.theme_choice is Theme.SYSTEM
    assert defaults.notifications is True
    assert defaults.thumbnail_cache_mb == CACHE_MB_DEFAULT == 512
    assert (defaults.new_shoot_industry, defaults.new_shoot_count) == (None, DEFAULT_COUNT)
    assert defaults.shortcuts == {}
    assert (defaults.window_geometry, defaults.window_state, defaults.splitter_state) == (
        None,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("written", "field", "expected"),
    [
        # wrong types: the default
        ({"theme": 2}, "theme", "system"),
        ({"notifications": "no"}, "notifications", True),
        ({"notifications": 0}, "notifications", True),
        ({"thumbnail_cache_mb": "1 GB"}, "thumbnail_cache_mb", CACHE_MB_DEFAULT),
        ({"thumbnail_cache_mb": 1024.5}, "thumbnail_cache_mb", CACHE_MB_DEFAULT),
        ({"thumbnail_cache_mb": True}, "thumbnail_cache_mb", CACHE_MB_DEFAULT),
        ({"new_shoot_count": "4"}, "new_shoot_count", DEFAULT_COUNT),
        ({"new_shoot_count": False}, "new_shoot_count", DEFAULT_COUNT),
        ({"new_shoot_industry": 7}, "new_shoot_industry", None),
        ({"window_state": ["AAAA"]}, "window_state", None),
        ({"splitter_state": 1}, "splitter_state", None),
        # out of range: the nearest value allowed
        ({"thumbnail_cache_mb": 1}, "thumbnail_cache_mb", CACHE_MB_MIN),
        ({"thumbnail_cache_mb": -5}, "thumbnail_cache_mb", CACHE_MB_MIN),
        ({"thumbnail_cache_mb": 10**9}, "thumbnail_cache_mb", CACHE_MB_MAX),
        ({"new_shoot_count": 0}, "new_shoot_count", MIN_COUNT),
        ({"new_shoot_count": 500}, "new_shoot_count", MAX_COUNT),
        # a theme this version does not know
        ({"theme": "solarized"}, "theme", "system"),
        ({"theme": "DARK"}, "theme", "system"),
        ({"theme": ""}, "theme", "system"),
        # malformed shortcuts: the whole mapping, or the entries that are not action -> keys
        ({"shortcuts": ["find", "Ctrl+K"]}, "shortcuts", {}),
        ({"shortcuts": "Ctrl+K"}, "shortcuts", {}),
        ({"shortcuts": None}, "shortcuts", {}),
        ({"shortcuts": {"find": "Ctrl+K"}}, "shortcuts", {}),
        ({"shortcuts": {"find": [3]}}, "shortcuts", {}),
        ({"shortcuts": {"find": ["Ctrl+K", None]}}, "shortcuts", {}),
        ({"shortcuts": {"find": [""]}}, "shortcuts", {}),
        (
            {"shortcuts": {"find": {"Ctrl+K": 1}, "export": ["Ctrl+Shift+E"], "undo": []}},
            "shortcuts",
            {"export": ("Ctrl+Shift+E",), "undo": ()},
        ),
    ],
)
def test_a_wrong_preference_falls_back_and_keeps_the_others(tmp_path, written, field, expected):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"sort": "name", "new_shoot_industry": "beauty", **written}))
    loaded = SettingsStore(path).load()
    assert getattr(loaded, field) == expected
    # one bad value spoils nothing else of the file
    assert loaded.sort == "name"
    if field != "new_shoot_industry":
        assert loaded.new_shoot_industry == "beauty"


def test_a_failing_write_leaves_the_old_file_whole(tmp_path, monkeypatch):
    store = SettingsStore(tmp_path / "settings.json")
    before = Settings(theme="dark", new_shoot_count=3, shortcuts={"find": ("Ctrl+K",)})
    store.save(before)
    old_text = store.path.read_text()

    def refused(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refused)
    with pytest.raises(OSError, match="No space left"):
        store.save(Settings(theme="light", new_shoot_count=20))
    monkeypatch.undo()

    assert store.path.read_text() == old_text
    assert store.load() == before
    # and nothing half-written is left beside it
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]


def test_a_write_killed_before_the_rename_leaves_the_old_file_whole(tmp_path, monkeypatch):
    """A kill between the write of the new text and its rename: the old file is what a restart
    reads, and the next save replaces the stray part file."""
    store = SettingsStore(tmp_path / "settings.json")
    store.save(Settings(new_shoot_count=3))

    class Killed(BaseException):
        pass

    def killed(src: object, dst: object) -> None:
        raise Killed

    monkeypatch.setattr(os, "replace", killed)
    with pytest.raises(Killed):
        store.save(Settings(new_shoot_count=7))
    monkeypatch.undo()
    assert store.load().new_shoot_count == 3

    store.save(Settings(new_shoot_count=9))
    assert store.load().new_shoot_count == 9
    assert [p.name for p in tmp_path.iterdir()] == ["settings.json"]
