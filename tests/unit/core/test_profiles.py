"""Profiles: the file (round trip, atomic, forgiving), the changes and their refusals, the last
used, each profile's folders kept apart (real SQLite files), and removal (key, then data only
when asked)."""

from __future__ import annotations

import json
import re

import pytest

from qamera_desktop.api import ApiKey
from qamera_desktop.core.app_paths import AppPaths
from qamera_desktop.core.database import Database
from qamera_desktop.core.key_store import SERVICE, KeyStore
from qamera_desktop.core.profiles import (
    DEMO_PROFILE,
    DEMO_PROFILE_ID,
    PROFILES_FILE_NAME,
    ProfileKind,
    ProfileStore,
    choose_profile,
    profile_paths,
)
from qamera_desktop.core.review import Flag, with_flag
from qamera_desktop.core.review_store import ReviewStore

KEY = ApiKey("mk_live_studio.profile-secret-42")


@pytest.fixture
def app_paths(tmp_path) -> AppPaths:
    return AppPaths.resolve(tmp_path / "data")


@pytest.fixture
def store(app_paths) -> ProfileStore:
    return ProfileStore(app_paths)


def test_a_new_app_knows_only_the_demo(store):
    assert store.profiles == (DEMO_PROFILE,)
    assert store.last_used == DEMO_PROFILE
    assert DEMO_PROFILE.is_demo
    assert DEMO_PROFILE.base_url is None
    assert not store.path.exists()  # nothing written until something changes


def test_profiles_round_trip_through_the_file(store, app_paths):
    studio = store.add("  Studio  ", "https://app.qamera.ai/")
    self_hosted = store.add("Self-hosted", "https://qamera.example.com:8443/base")
    store.set_last_used(self_hosted.id)
    assert studio.name == "Studio"
    assert studio.base_url == "https://app.qamera.ai"
    assert studio.kind is ProfileKind.ACCOUNT
    again = ProfileStore(app_paths)
    assert again.profiles == (DEMO_PROFILE, studio, self_hosted)
    assert again.last_used == self_hosted
    assert [p.name for p in app_paths.data_dir.iterdir()] == [PROFILES_FILE_NAME]  # no .part


def test_ids_are_random_and_never_from_the_key_or_the_server(store):
    first = store.add("One", "https://app.qamera.ai")
    second = store.add("Two", "https://app.qamera.ai")
    for profile in (first, second):
        assert re.fullmatch(r"p_[0-9a-f]{16}", profile.id)
    assert first.id != second.id
    text = store.path.read_text()
    assert "key" not in text.lower()
    assert KEY.reveal() not in text


def test_the_account_of_an_address(store):
    assert store.find_by_url("https://app.qamera.ai") is None
    first = store.add("First", "https://app.qamera.ai")
    second = store.add("Second", "https://app.qamera.ai")
    store.add("Elsewhere", "https://qamera.example.com")
    assert store.find_by_url("https://APP.qamera.ai/") == first
    store.set_last_used(second.id)
    assert store.find_by_url("https://app.qamera.ai") == second
    with pytest.raises(ValueError, match="must use https://"):
        store.find_by_url("http://app.qamera.ai")


def test_rename_and_move_keep_the_id(store, app_paths):
    studio = store.add("Studio", "https://app.qamera.ai")
    renamed = store.update(studio.id, name="Studio Berlin")
    moved = store.update(studio.id, base_url="http://127.0.0.1:8765")
    assert renamed.id == moved.id == studio.id
    assert ProfileStore(app_paths).get(studio.id) == moved
    assert moved.name == "Studio Berlin"
    assert moved.base_url == "http://127.0.0.1:8765"


@pytest.mark.parametrize(
    ("name", "url", "message"),
    [
        ("", "https://app.qamera.ai", "Give the profile a name."),
        ("   ", "https://app.qamera.ai", "Give the profile a name."),
        ("x" * 81, "https://app.qamera.ai", "The name is too long"),
        ("studio", "https://app.qamera.ai", "There is already a profile named “studio”."),
        ("demo sandbox", "https://app.qamera.ai", "already a profile named"),
        ("Other", "http://qamera.example.com", "must use https://"),
        ("Other", "app.qamera.ai", "must start with https://"),
    ],
)
def test_refused_additions_say_why_and_change_nothing(store, name, url, message):
    store.add("Studio", "https://app.qamera.ai")
    before = store.path.read_text()
    with pytest.raises(ValueError, match=re.escape(message)):
        store.add(name, url)
    assert store.path.read_text() == before


def test_the_demo_is_built_in(store, app_paths, memory_keyring):
    with pytest.raises(ValueError, match="built in"):
        store.update(DEMO_PROFILE_ID, name="Mine")
    with pytest.raises(ValueError, match="built in"):
        store.remove(DEMO_PROFILE_ID, keys=KeyStore(app_paths.data_dir), delete_data=True)
    with pytest.raises(ValueError, match="no such profile"):
        store.set_last_used("p_0000000000000000")


def test_a_damaged_or_hand_edited_file_keeps_what_is_valid(store, app_paths):
    good = {"id": "p_1111111111111111", "name": "Good", "base_url": "https://app.qamera.ai"}
    app_paths.data_dir.mkdir(parents=True)
    store.path.write_text(
        json.dumps(
            {
                "last_used": "p_9999999999999999",  # names nothing: the demo
                "future_field": [1, 2],
                "profiles": [
                    good | {"colour": "blue"},  # unknown fields are ignored
                    good | {"name": "Duplicate id"},  # the first one wins
                    {"id": "../../etc", "name": "Escape", "base_url": "https://a.example"},
                    {"id": "p_2", "name": "   ", "base_url": "https://a.example"},
                    {"id": "p_3", "name": "Plain http", "base_url": "http://a.example"},
                    {"id": "p_4", "name": "No URL"},
                    {"id": "demo", "name": "Fake demo", "base_url": "https://a.example"},
                    {"id": "p_5", "name": "Sandbox", "kind": "sandbox", "base_url": "x"},
                    "not an entry",
                    42,
                ],
            }
        )
    )
    loaded = ProfileStore(app_paths)
    assert [p.name for p in loaded.profiles] == ["Demo sandbox", "Good"]
    assert loaded.last_used == DEMO_PROFILE
    for garbage in ("{not json", "[1, 2]", '{"profiles": "none", "last_used": 3}'):
        store.path.write_text(garbage)
        assert ProfileStore(app_paths).profiles == (DEMO_PROFILE,)


def test_each_profile_has_its_own_folders(store, app_paths):
    studio = store.add("Studio", "https://app.qamera.ai")
    demo = profile_paths(app_paths, DEMO_PROFILE_ID)
    paths = profile_paths(app_paths, studio.id)
    assert store.paths(studio.id) == paths
    assert paths.data_dir == app_paths.data_dir / "profiles" / studio.id
    assert paths.database_file == paths.data_dir / "library.sqlite3"
    assert paths.thumbnail_cache_dir == app_paths.cache_dir / "profiles" / studio.id / "thumbnails"
    # the demo keeps the folders of the app before profiles: nothing moves on an update
    assert demo.database_file == app_paths.database_file
    assert demo.sandbox_dir == app_paths.sandbox_dir
    assert demo.thumbnail_cache_dir == app_paths.thumbnail_cache_dir
    for mine, theirs in ((paths, demo), (demo, paths)):
        assert mine.database_file != theirs.database_file
        assert not mine.thumbnail_cache_dir.is_relative_to(theirs.thumbnail_cache_dir)
    assert not demo.sandbox_dir.is_relative_to(paths.data_dir)
    with pytest.raises(ValueError, match="Not a profile id"):
        profile_paths(app_paths, "../other")


def test_review_state_of_one_profile_never_shows_in_another(store, app_paths):
    """The same account id in two profiles' databases (the same key on two servers would give
    different ids anyway): the folders alone keep them apart."""
    studio = store.add("Studio", "https://app.qamera.ai")
    databases = []
    for profile_id in (DEMO_PROFILE_ID, studio.id):
        paths = profile_paths(app_paths, profile_id)
        paths.ensure()
        databases.append(Database(paths.database_file))
    demo_db, studio_db = databases
    try:
        ReviewStore(studio_db, "acct").decide(["img_1"], lambda r: with_flag(r, Flag.PICK))
        assert ReviewStore(studio_db, "acct").reviewed().keys() == {"img_1"}
        assert ReviewStore(demo_db, "acct").reviewed() == {}
    finally:
        demo_db.close()
        studio_db.close()


def test_removing_a_profile_deletes_its_key_and_keeps_its_data_unless_asked(
    store, app_paths, memory_keyring
):
    keys = KeyStore(app_paths.data_dir, environ={})
    studio = store.add("Studio", "https://app.qamera.ai")
    other = store.add("Other", "https://qamera.example.com")
    for profile in (studio, other):
        keys.save(profile.id, KEY)
        paths = profile_paths(app_paths, profile.id)
        paths.ensure()
        (paths.data_dir / "library.sqlite3").write_bytes(b"db")
        (paths.thumbnail_cache_dir / "t.webp").write_bytes(b"t")
    store.set_last_used(studio.id)

    store.remove(studio.id, keys=keys, delete_data=False)
    assert (SERVICE, studio.id) not in memory_keyring.entries
    assert (SERVICE, other.id) in memory_keyring.entries
    assert ProfileStore(app_paths).profiles == (DEMO_PROFILE, other)
    assert store.last_used == DEMO_PROFILE
    kept = profile_paths(app_paths, studio.id)
    assert (kept.data_dir / "library.sqlite3").exists()
    assert (kept.thumbnail_cache_dir / "t.webp").exists()

    store.remove(other.id, keys=keys, delete_data=True)
    gone = profile_paths(app_paths, other.id)
    assert not gone.data_dir.exists()
    assert not gone.cache_dir.exists()
    assert (kept.data_dir / "library.sqlite3").exists()  # the other profile's data is untouched
    assert memory_keyring.entries == {}
    with pytest.raises(ValueError, match="no such profile"):
        store.remove(other.id, keys=keys, delete_data=True)


def test_a_launch_opens_the_demo_the_scripted_account_or_the_last_used(store):
    assert choose_profile(store, demo=False, api_url=None, environment_key=False) == DEMO_PROFILE
    studio = store.add("Studio", "https://studio.example.com")
    store.set_last_used(studio.id)
    assert choose_profile(store, demo=False, api_url=None, environment_key=False) == studio
    assert choose_profile(store, demo=True, api_url=None, environment_key=True) == DEMO_PROFILE
    # --api-url of a known account opens it; of an unknown one: none (the app offers to connect)
    assert (
        choose_profile(
            store, demo=False, api_url="https://studio.example.com/", environment_key=False
        )
        == studio
    )
    assert (
        choose_profile(store, demo=False, api_url="https://x.example.com", environment_key=False)
        is None
    )
    # $QAMERA_API_KEY: the account at that address, made on the spot (named after the host)
    made = choose_profile(store, demo=False, api_url=None, environment_key=True)
    assert made is not None
    assert (made.name, made.base_url) == ("app.qamera.ai", "https://app.qamera.ai")
    again = choose_profile(store, demo=False, api_url=None, environment_key=True)
    assert again == made
    with pytest.raises(ValueError, match="must use https"):
        choose_profile(store, demo=False, api_url="http://example.com", environment_key=True)
