import json

from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.byte_lru import ByteLRU
from qamera_desktop.core.settings import THUMB_SIZE_MAX, Settings, SettingsStore


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
